#!/bin/sh

test_description='HTTP faults: cut bodies, 503, wrong bytes, stalls, resume'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

. "$TEST_DIRECTORY/lib-fault-proxy.sh"

# No object in the store may be anything but its oid's bytes.
store_is_clean () {
	find lazy/.git/model/objects -type f 2>/dev/null | while read f
	do
		test "$(oid_of "$f")" = "$(basename "$f")" || {
			echo "bad object $f" >&4
			return 1
		}
	done
}

# fetch_must_time_out TIME RETRIES: a fresh clone's fetch through the proxy
# fails, with model.http.lowSpeedTime=TIME (short, so that the test is
# quick) and model.retries=RETRIES; timeout(1) in case nothing cuts it off.
fetch_must_time_out () {
	fresh_clone &&
	test_must_fail timeout 60 git -C lazy \
		-c model.storage="$PROXY_URL/open/models" \
		-c model.http.lowSpeedTime="$1" -c model.retries="$2" \
		model fetch 2>err
}

test_expect_success 'setup: three weights in HTTP storage' '
	git config --global model.compression none &&
	setup_three_weights
'

test_expect_success 'a body cut halfway is resumed with Range and verified' '
	start_proxy cut 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/b.pth lazy/b.pth &&
	test_cmp_bin work/c.pth lazy/c.pth &&
	grep "fault=cut" proxy.log &&
	grep "^GET .* 206 range=bytes=[1-9][0-9]*- fault=none" proxy.log &&
	store_is_clean
'

test_expect_success '503 twice, then the server answers: the download succeeds' '
	start_proxy status503 2 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	test "$(grep -c " 503 " proxy.log)" = 2 &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	store_is_clean
'

test_expect_success '503 twice on upload: the push succeeds' '
	start_proxy status503 2 &&
	test_when_finished stop_proxy &&
	test-tool genrandom d 500k >work/d.pth &&
	git -C work add d.pth &&
	git -C work commit -q -m d &&
	git -C work -c model.storage="$PROXY_URL/open/models" push -q origin main 2>err &&
	test "$(grep -c " 503 " proxy.log)" = 2 &&
	grep "^PUT .* 201 " proxy.log &&
	test_cmp_bin work/d.pth "$HTTPD_ROOT/open/models/sha256/$(oid_of work/d.pth | cut -c1-2)/$(oid_of work/d.pth | cut -c3-4)/$(oid_of work/d.pth)"
'

test_expect_success 'wrong bytes once: retried, and only the right bytes are kept' '
	start_proxy corrupt 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	grep "fault=corrupt" proxy.log &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/b.pth lazy/b.pth &&
	store_is_clean
'

test_expect_success 'wrong bytes every time: a clear error, nothing stored, pointers stay' '
	start_proxy corrupt 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 model pull 2>err &&
	grep "error: cannot download .a.pth. from .$PROXY_URL/open/models/sha256/" err &&
	grep "do not match the object id" err &&
	test_path_is_missing lazy/.git/model/objects &&
	test -z "$(ls -A lazy/.git/model/incomplete)" &&
	git -C lazy model pointer --check a.pth &&
	git -C lazy model pointer --check b.pth
'

test_expect_success 'more bytes than the size: an error, and no partial file stays' '
	start_proxy endless 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=1 model fetch 2>err &&
	grep "fault=endless" proxy.log &&
	grep "error: cannot download .a.pth..*more bytes than the pointer says" err &&
	test_path_is_missing lazy/.git/model/objects &&
	test -z "$(ls -A lazy/.git/model/incomplete)"
'

test_expect_success 'a clone through wrong bytes leaves pointers, never bad weights' '
	start_proxy corrupt 1000 &&
	test_when_finished stop_proxy &&
	rm -rf evil &&
	test_expect_code 1 git -c model.storage="$PROXY_URL/open/models" -c model.retries=0 \
		clone -q remote.git evil 2>err &&
	grep "do not match" err &&
	grep "git model pull" err &&
	git -C evil model pointer --check a.pth &&
	test_path_is_missing evil/.git/model/objects
'

test_expect_success 'a stalled body times out and the retry completes it' '
	start_proxy stall 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.http.lowSpeedTime=2 model pull 2>err &&
	grep "fault=stall" proxy.log &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	store_is_clean
'

test_expect_success 'stalling every time: a clear timeout error' '
	start_proxy stall 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.http.lowSpeedTime=1 -c model.retries=1 model fetch 2>err &&
	grep "cannot download" err &&
	grep -i "timeout\|too slow" err &&
	store_is_clean
'

test_expect_success 'the default low-speed limit cuts off a server that trickles bytes' '
	start_proxy trickle 1000 &&
	test_when_finished stop_proxy &&
	# the default limit (1000 B/s) against 256 B/s
	fetch_must_time_out 2 0 &&
	grep "fault=trickle" proxy.log &&
	grep "cannot download .*Operation too slow" err &&
	store_is_clean
'

test_expect_success 'a server that accepts and never answers: a clear timeout error' '
	start_proxy silent 1000 &&
	test_when_finished stop_proxy &&
	fetch_must_time_out 1 1 &&
	grep "fault=silent" proxy.log &&
	grep "cannot download .* (after 2 attempts)" err &&
	grep "Operation too slow" err &&
	store_is_clean
'

test_expect_success 'the transport defaults are the ones git-model-config(5) gives' '
	test-tool http-settings >settings &&
	sed -n "s/.*Integers; defaults \([0-9]*\) and \([0-9]*\),.*/low_speed_limit=\1 low_speed_time=\2/p" \
		"$TEST_DIRECTORY/../man/git-model-config.adoc" >expect &&
	test_line_count = 1 expect &&
	grep "^low_speed_" settings | tr "\n" " " | sed "s/ $//" >actual &&
	echo >>actual &&
	test_cmp expect actual &&
	grep "^connect_timeout=30$" settings &&
	grep "The connection timeout is 30 s" \
		"$TEST_DIRECTORY/../man/git-model-config.adoc"
'

test_expect_success 'when libcurl cannot start, a push fails and says so' '
	(
		cd work &&
		test-tool genrandom d 1m >d.pth &&
		git add d.pth &&
		git commit -q -m d &&
		# GIT_MODEL_TEST_MULTI_INIT_FAILS is a test-only hook
		# (transfer.h): curl_multi_init() fails only without memory
		test_must_fail env GIT_MODEL_TEST_MULTI_INIT_FAILS=1 \
			git model push origin main 2>../err.multi
	) &&
	grep "cannot start libcurl" err.multi &&
	grep "cannot upload .d.pth." err.multi &&
	oid=$(oid_of work/d.pth) &&
	test_path_is_missing "$HTTPD_ROOT/open/models/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid"
'

test_expect_success 'an interrupted download resumes in a later run' '
	start_proxy cut 1000 &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=0 model fetch 2>err &&
	stop_proxy &&
	oid=$(oid_of work/a.pth) &&
	part=$(wc -c <lazy/.git/model/incomplete/$oid) &&
	test "$part" -gt 0 &&
	test "$part" -lt $(wc -c <work/a.pth) &&
	start_proxy pass 0 &&
	test_when_finished stop_proxy &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model pull 2>err &&
	grep "^GET /open/models/sha256/.*/$oid 206 range=bytes=$part- fault=none" proxy.log &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_path_is_missing lazy/.git/model/incomplete/$oid &&
	store_is_clean
'

test_done
