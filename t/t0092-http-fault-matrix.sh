#!/bin/sh

test_description='HTTP fault matrix: 500, persistent 503, reset, trickle; push and fetch

t0042 has a cut body, 503 twice, wrong bytes, a stall and a resume. This
script adds the faults it lacks, through the same fault proxy: each ends
in the right bytes or in a clear error, with no bad object stored, and a
push whose uploads fail never moves the remote ref.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

. "$TEST_DIRECTORY/lib-fault-proxy.sh"

# The files of work/ are pointers in lazy/ (never partial weights).
lazy_has_pointers () {
	for f in "$@"
	do
		git -C lazy model pointer --check "$f" || return 1
	done
}

test_expect_success 'setup: three weights in HTTP storage' '
	git config --global model.compression none &&
	setup_three_weights
'

test_expect_success 'a 500 once on a download is retried: right bytes' '
	start_proxy status500 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	test "$(grep -c "^GET .* 500 .*fault=status500" proxy.log)" = 1 &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/b.pth lazy/b.pth &&
	test_cmp_bin work/c.pth lazy/c.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'a 500 every time on download: clear error, nothing stored, pointers stay' '
	start_proxy status500 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 model pull 2>err &&
	grep "error: cannot download .a.pth. from .$PROXY_URL/open/models/sha256/" err &&
	grep "500 Internal Server Error" err &&
	test_path_is_missing lazy/.git/model/objects &&
	lazy_has_pointers a.pth b.pth c.pth &&
	test_model_tmp_clean lazy/.git
'

test_expect_success 'the same fetch succeeds once the server is well again' '
	git -C lazy model pull 2>err &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/c.pth lazy/c.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'a 500 on every upload: git push fails, the remote ref does not move' '
	start_proxy status500 1000 PUT &&
	test_when_finished stop_proxy &&
	before=$(git -C remote.git rev-parse main) &&
	test-tool genrandom e 700k >work/e.pth &&
	git -C work add e.pth &&
	git -C work commit -q -m e &&
	git -C work tag v-e &&
	test_must_fail git -C work -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 push origin main v-e 2>err &&
	grep "cannot upload .e.pth." err &&
	grep "500 Internal Server Error" err &&
	grep "push is refused" err &&
	grep "^HEAD .* 404 " proxy.log &&
	test "$(grep -c "^PUT .* 500 .*fault=status500" proxy.log)" = 2 &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	test_must_fail git -C remote.git rev-parse --verify -q refs/tags/v-e &&
	oid=$(oid_of work/e.pth) &&
	test_path_is_missing "$(obj_path "$HTTPD_ROOT/open/models" $oid)"
'

test_expect_success 'nothing was lost: the push succeeds when the server is well' '
	git -C work push -q origin main v-e 2>err &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	git -C remote.git rev-parse --verify -q refs/tags/v-e &&
	test_cmp_bin work/e.pth "$(obj_path "$HTTPD_ROOT/open/models" $(oid_of work/e.pth))"
'

test_expect_success 'a 500 once on an upload is retried: the push succeeds' '
	start_proxy status500 1 PUT &&
	test_when_finished stop_proxy &&
	test-tool genrandom f 300k >work/f.pth &&
	git -C work add f.pth &&
	git -C work commit -q -m f &&
	git -C work -c model.storage="$PROXY_URL/open/models" push -q origin main 2>err &&
	test "$(grep -c "^PUT .* 500 .*fault=status500" proxy.log)" = 1 &&
	grep "^PUT .* 201 .*fault=none" proxy.log &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	test_cmp_bin work/f.pth "$(obj_path "$HTTPD_ROOT/open/models" $(oid_of work/f.pth))"
'

test_expect_success '503 on every upload: push fails after its retries, ref unchanged' '
	start_proxy status503 1000 PUT &&
	test_when_finished stop_proxy &&
	before=$(git -C remote.git rev-parse main) &&
	test-tool genrandom g 200k >work/g.pth &&
	git -C work add g.pth &&
	git -C work commit -q -m g &&
	test_must_fail git -C work -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 push origin main 2>err &&
	grep "cannot upload .g.pth." err &&
	grep "503 Service Unavailable" err &&
	grep "after 2 attempts" err &&
	test "$(grep -c "^PUT .* 503 " proxy.log)" = 2 &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	git -C work push -q origin main &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)"
'

test_expect_success 'a connection reset mid-body is retried: right bytes' '
	start_proxy reset 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	grep "fault=reset" proxy.log &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/b.pth lazy/b.pth &&
	test_cmp_bin work/e.pth lazy/e.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'resets every time: clear error, nothing stored, pointers stay' '
	start_proxy reset 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 model pull 2>err &&
	grep "error: cannot download .a.pth." err &&
	grep -i "reset\|recv failure\|partial" err &&
	test_path_is_missing lazy/.git/model/objects &&
	lazy_has_pointers a.pth b.pth c.pth
'

test_expect_success 'what the resets left is resumed and verified by the next fetch' '
	git -C lazy model pull 2>err &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/b.pth lazy/b.pth &&
	test_model_store_ok lazy/.git &&
	test -z "$(ls -A lazy/.git/model/incomplete)"
'

test_expect_success 'a body trickling below model.http.lowSpeedLimit: a clear timeout' '
	start_proxy trickle 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.http.lowSpeedLimit=4096 -c model.http.lowSpeedTime=1 \
		-c model.retries=0 -c model.concurrency=1 model fetch 2>err &&
	grep "fault=trickle" proxy.log &&
	grep "error: cannot download" err &&
	grep -i "timeout\|too slow" err &&
	test_path_is_missing lazy/.git/model/objects &&
	for f in lazy/.git/model/incomplete/*
	do
		test ! -f "$f" || test $(wc -c <"$f") -lt 1048576 || return 1
	done
'

test_expect_success 'a trickle once, then a normal body: the retry completes it' '
	start_proxy trickle 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.http.lowSpeedLimit=4096 -c model.http.lowSpeedTime=1 \
		-c model.concurrency=1 model pull 2>err &&
	test "$(grep -c "fault=trickle" proxy.log)" = 1 &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/c.pth lazy/c.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'a clone through a persistent 500 leaves pointers and names the fix' '
	start_proxy status500 1000 &&
	test_when_finished stop_proxy &&
	rm -rf sick &&
	test_expect_code 1 git -c model.storage="$PROXY_URL/open/models" -c model.retries=0 \
		clone -q remote.git sick 2>err &&
	grep "500 Internal Server Error" err &&
	grep "git model pull" err &&
	git -C sick model pointer --check a.pth &&
	git -C sick model pointer --check f.pth &&
	test_path_is_missing sick/.git/model/objects &&
	git -C sick model pull 2>err &&
	test_cmp_bin work/a.pth sick/a.pth &&
	test_cmp_bin work/f.pth sick/f.pth &&
	git -C sick status --porcelain >status &&
	test_must_be_empty status &&
	test_model_store_ok sick/.git
'

test_done
