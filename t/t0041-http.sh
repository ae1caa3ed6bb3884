#!/bin/sh

test_description='HTTP storage against a real nginx: push, clone, credentials'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-record.sh"

start_httpd

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

# Every output a test writes goes to out.* or err.* files, so the last test
# can check that the password never appeared in any of them.

test_expect_success 'setup: credentials in a helper, storage in .gitmodel' '
	git config --global model.compression none &&
	git model install &&
	git config --global credential.helper store &&
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		git config -f .gitmodel model.storage "$HTTPD_URL/auth/models" &&
		git config model.concurrency 8 &&
		for i in $(test_seq 1 50)
		do
			test-tool genrandom "w$i" 1m >"w$i.pth" || return 1
		done &&
		git add . &&
		git commit -q -m weights &&
		git remote add origin ../remote.git
	)
'

test_expect_success 'push -n and status ask storage with the credential helper' '
	git -C work model push -n origin main >out.dry 2>err.dry &&
	test_line_count = 50 out.dry &&
	grep "^would upload .* w17.pth (1.00 MiB)$" out.dry &&
	git -C work model status >out.status-before 2>err.status-before &&
	test_must_be_empty err.status-before &&
	grep -c "^	.* w[0-9]*.pth" out.status-before >count &&
	echo 50 >expect &&
	test_cmp expect count &&
	test "$(httpd_log_count PUT 201)" = 0
'

test_expect_success 'push uploads over HTTP after a 401 and the credential helper' '
	test_terminal "git -C work push origin main" >err.push &&
	grep "uploaded 50 object(s)" err.push &&
	httpd_log_wait 50 PUT 201 &&
	test "$(httpd_log_count PUT 401)" = 0 &&
	for i in 1 17 50
	do
		test_cmp_bin work/w$i.pth "$(obj_path "$HTTPD_ROOT/auth/models" $(oid_of work/w$i.pth))" || return 1
	done
'

test_expect_success 'after the push, push -n and status find it all in storage' '
	git -C work model push -n --progress origin main >out.dry-after 2>err.dry-after &&
	test_must_be_empty out.dry-after &&
	grep "^git-model: no weights to push: the commits add none that .origin. lacks$" err.dry-after &&
	git -C work model status >out.status-after 2>err.status-after &&
	test_must_be_empty err.status-after &&
	sed -n 2p out.status-after >line &&
	printf "\t(none)\n" >expect &&
	test_cmp expect line
'

test_expect_success 'model.concurrency=8: requests overlapped on the server' '
	overlap=$(httpd_max_overlap PUT) &&
	say "at most $overlap PUT requests in flight" &&
	test "$overlap" -gt 1 &&
	# nginx times a request from its first byte to its log line, so
	# the next one on a connection can seem to overlap it by a hair
	test "$overlap" -le 10
'

test_expect_success 'pointers carry the object URL' '
	git -C work cat-file -p HEAD:w1.pth >pointer &&
	oid=$(oid_of work/w1.pth) &&
	grep "^url $(obj_path "$HTTPD_URL/auth/models" $oid)$" pointer
'

test_expect_success 'a push to a second remote asks with HEAD and uploads nothing' '
	git init -q --bare second.git &&
	git -C work remote add second ../second.git &&
	test_terminal "git -C work push second main" >err.again &&
	grep "uploaded 0 object(s)" err.again &&
	grep "50 already there" err.again &&
	httpd_log_wait 50 HEAD 200
'

test_expect_success 'a clone gets all 50 files, verified' '
	git clone -q remote.git clone 2>err.clone &&
	for i in $(test_seq 1 50)
	do
		test_cmp_bin work/w$i.pth clone/w$i.pth || return 1
	done &&
	git -C clone status --porcelain >out.status &&
	test_must_be_empty out.status
'

test_expect_success 'a clone downloads model.concurrency objects at once (delayed smudge)' '
	git -c model.storage="$HTTPD_URL/slow/models" -c model.concurrency=8 \
		clone -q remote.git parallel 2>err.parallel &&
	test_cmp_bin work/w50.pth parallel/w50.pth &&
	httpd_log_wait 50 GET 200 "^/slow/" &&
	overlap=$(httpd_max_overlap GET) &&
	say "at most $overlap GET requests in flight during the clone" &&
	test "$overlap" -gt 4 &&
	test "$overlap" -le 10
'

test_expect_success 'a clone reads anonymously from the read-only location' '
	HOME="$TRASH_DIRECTORY/nohome" &&
	mkdir -p "$HOME" &&
	cp "$TRASH_DIRECTORY/.gitconfig" "$HOME/" &&
	git config --global --unset credential.helper &&
	HOME="$HOME" git -c model.storage="$HTTPD_URL/anon/models" \
		clone -q remote.git anon 2>err.anon &&
	HOME="$TRASH_DIRECTORY" &&
	test_cmp_bin work/w5.pth anon/w5.pth &&
	test_cmp_bin work/w50.pth anon/w50.pth
'

test_expect_success 'the anonymous location refuses uploads: push fails, ref unchanged' '
	before=$(git -C remote.git rev-parse main) &&
	test-tool genrandom new 100k >work/new.pth &&
	git -C work add new.pth &&
	git -C work commit -q -m new &&
	test_must_fail git -C work -c model.storage="$HTTPD_URL/anon/models" \
		push origin main >out.ro 2>err.ro &&
	grep "cannot upload .new.pth." err.ro &&
	grep "403 Forbidden" err.ro &&
	grep "push is refused" err.ro &&
	test "$(git -C remote.git rev-parse main)" = "$before"
'

test_expect_success 'after the first 401, credentials go up front: one 401 a run' '
	git init -q --bare upfront.git &&
	git init -q upfront &&
	(
		cd upfront &&
		git model track "*.pth" >/dev/null &&
		git config model.storage "$HTTPD_URL/auth/upfront" &&
		git config model.concurrency 1 &&
		for i in 1 2 3 4 5
		do
			test-tool genrandom "u$i" 10k >"u$i.pth" || return 1
		done &&
		git add . &&
		git commit -q -m upfront &&
		git remote add origin ../upfront.git
	) &&
	test_terminal "git -C upfront push origin main" >err.upfront &&
	grep "uploaded 5 object(s)" err.upfront &&
	httpd_log_wait 5 PUT 201 "^/auth/upfront/" &&
	test "$(httpd_log_count HEAD 401 "^/auth/upfront/")" = 1 &&
	test "$(httpd_log_count PUT 401 "^/auth/upfront/")" = 0
'

test_expect_success 'downloads too: after the first 401, GET sends credentials up front' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q upfront.git upfront-get &&
	git -C upfront-get config model.storage "$HTTPD_URL/auth/upfront" &&
	git -C upfront-get config model.concurrency 1 &&
	before=$(httpd_log_count GET 401 "^/auth/upfront/") &&
	git -C upfront-get model pull 2>err.upget &&
	test_must_be_empty err.upget &&
	httpd_log_wait 5 GET 200 "^/auth/upfront/" &&
	test "$(httpd_log_count GET 401 "^/auth/upfront/")" = $((before + 1)) &&
	for i in 1 2 3 4 5
	do
		test_cmp_bin upfront/u$i.pth upfront-get/u$i.pth || return 1
	done
'

# The askpass program records what stderr held when it was run: the
# prompt must start on a line of its own, not after the progress bar.
test_expect_success 'the password prompt starts on a clean line after progress' '
	write_script askpass <<-EOF &&
	tail -c 1 "$TRASH_DIRECTORY/err.prompt" | od -An -c | tr -d " " >>"$TRASH_DIRECTORY/askpass.log"
	case "\$1" in
	Username*) echo "$HTTPD_USER" ;;
	*) echo "$HTTPD_PASSWORD" ;;
	esac
	EOF
	rm -rf prompt &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q upfront.git prompt &&
	git -C prompt config model.storage "$HTTPD_URL/auth/upfront" &&
	git -C prompt config model.concurrency 1 &&
	rm -f askpass.log &&
	HOME="$TRASH_DIRECTORY/nohome" GIT_ASKPASS="$PWD/askpass" \
		git -C prompt model fetch --progress 2>err.prompt &&
	printf "%s\n" "\\n" "\\n" >expect &&
	test_cmp expect askpass.log &&
	grep "Downloading weights: " err.prompt &&
	test_cmp_bin upfront/u1.pth "$(obj_path prompt/.git/model/objects $(oid_of upfront/u1.pth))"
'

test_expect_success 'a wrong password: clear error, push refused, ref not moved, helper told' '
	before=$(git -C remote.git rev-parse main) &&
	echo "http://$HTTPD_USER:wrong-password@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	test_must_fail git -C work push origin main >out.wrong 2>err.wrong &&
	grep "401 Unauthorized" err.wrong &&
	grep "refused the credentials" err.wrong &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	! grep wrong-password "$HOME/.git-credentials"
'

test_expect_success 'refused credentials: one error line, not one per object' '
	for i in 6 7 8
	do
		test-tool genrandom "u$i" 10k >"upfront/u$i.pth" || return 1
	done &&
	git -C upfront add . &&
	git -C upfront commit -q -m more &&
	echo "http://$HTTPD_USER:wrong-password@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	test_must_fail git -C upfront push origin main >out.refused 2>err.refused &&
	grep -c "refused the credentials" err.refused >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	grep -c "401 Unauthorized" err.refused >count &&
	test_cmp expect count &&
	grep "3 of 3 file(s) could not be uploaded" err.refused
'

test_expect_success 'no credentials at all: the error says how to set them up' '
	rm -f "$HOME/.git-credentials" &&
	test_must_fail git -C work push origin main >out.none 2>err.none &&
	grep "cannot get credentials for .127.0.0.1:$HTTPD_PORT." err.none &&
	grep "credential helper" err.none
'

test_expect_success 'a token header through model.http.extraHeader is sent' '
	test_must_fail git -C work -c model.storage="$HTTPD_URL/token/models" \
		model push origin main 2>err.notoken &&
	grep "401 Unauthorized" err.notoken &&
	git -C work -c model.http.extraHeader="X-Test-Token: token-123" \
		-c model.storage="$HTTPD_URL/token/models" model push --progress origin main 2>err.token &&
	grep "uploaded 1 object(s)" err.token &&
	test_path_is_file "$(obj_path "$HTTPD_ROOT/token/models" $(oid_of work/new.pth))"
'

test_expect_success 'a 404 names the file, the URL and the status' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git miss &&
	test_must_fail git -C miss -c model.storage="$HTTPD_URL/open/nothing-here" \
		model fetch 2>err.404 &&
	grep "error: cannot download .w1.pth. from .$HTTPD_URL/open/nothing-here/sha256/" err.404 &&
	grep "404 Not Found" err.404
'

test_expect_success '--progress draws the progress line' '
	rm -rf miss/.git/model &&
	git -C miss -c model.storage="$HTTPD_URL/anon/models" \
		model fetch --progress 2>err.progress &&
	grep "Downloading weights: 100% (50/50)" err.progress &&
	grep "done\." err.progress
'

test_expect_success 'https: a certificate nobody vouches for is refused' '
	rm -rf miss/.git/model &&
	test_must_fail git -C miss -c model.storage="$HTTPD_SSL_URL/anon/models" \
		model fetch 2>err.tls &&
	grep "cannot download" err.tls &&
	grep -i "certificate" err.tls &&
	test_path_is_missing miss/.git/model/objects
'

test_expect_success 'https: http.sslCAInfo names the CA to trust' '
	git -C miss -c model.storage="$HTTPD_SSL_URL/anon/models" \
		-c http.sslCAInfo="$HTTPD_CERT" model fetch --progress 2>err.tls2 &&
	grep "downloaded 50 object(s)" err.tls2
'

test_expect_success 'https: http.sslVerify=false turns the check off' '
	rm -rf miss/.git/model &&
	git -C miss -c model.storage="$HTTPD_SSL_URL/anon/models" \
		-c http.sslVerify=false model fetch --progress 2>err.tls3 &&
	grep "downloaded 50 object(s)" err.tls3
'

test_expect_success 'https: GIT_SSL_CAINFO names the CA to trust' '
	rm -rf miss/.git/model &&
	GIT_SSL_CAINFO="$HTTPD_CERT" git -C miss \
		-c model.storage="$HTTPD_SSL_URL/anon/models" model fetch --progress 2>err.tls4 &&
	grep "downloaded 50 object(s)" err.tls4
'

test_expect_success 'https: GIT_SSL_NO_VERIFY turns the check off, =0 does not' '
	rm -rf miss/.git/model &&
	GIT_SSL_NO_VERIFY=0 test_must_fail git -C miss \
		-c model.storage="$HTTPD_SSL_URL/anon/models" model fetch 2>err.tls5 &&
	grep -i "certificate" err.tls5 &&
	GIT_SSL_NO_VERIFY=1 git -C miss \
		-c model.storage="$HTTPD_SSL_URL/anon/models" model fetch --progress 2>err.tls6 &&
	grep "downloaded 50 object(s)" err.tls6
'

test_expect_success 'http.proxy: every request goes through the proxy' '
	rm -rf miss/.git/model &&
	start_record_server &&
	test_when_finished stop_record_server &&
	test_must_fail git -C miss -c http.proxy="$RECORD_URL" \
		-c model.storage="$HTTPD_URL/anon/models" model fetch 2>err.proxy &&
	grep "^GET $HTTPD_URL/anon/models/sha256/" "$RECORD_LOG" &&
	test_path_is_missing miss/.git/model/objects
'

test_expect_success 'GIT_TRACE_CURL and GIT_CURL_VERBOSE never show a password or token' '
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	GIT_TRACE_CURL=1 git -C work model push -n origin main >out.trace 2>err.trace &&
	grep "^=> Send header: HEAD /auth/models/sha256/" err.trace &&
	grep "^<= Recv header: HTTP/1.1 401" err.trace &&
	grep "^=> Send header: Authorization: <redacted>$" err.trace &&
	GIT_CURL_VERBOSE=1 git -C work \
		-c model.http.extraHeader="Authorization: Bearer $HTTPD_TOKEN" \
		-c model.storage="$HTTPD_URL/bearer/models" \
		model push origin main >out.verbose 2>err.verbose &&
	grep "^=> Send header: Authorization: <redacted>$" err.verbose &&
	grep "^=> Send header: PUT /bearer/models/sha256/" err.verbose &&
	! grep -F "$HTTPD_TOKEN" err.verbose &&
	! grep -F "$HTTPD_USER" err.trace
'

test_expect_success 'a mismatch is fetched twice, not six times; each failure its own advice' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git faulty &&
	w1=$(oid_of work/w1.pth) &&
	w3=$(oid_of work/w3.pth) &&
	bad=$(obj_path "$HTTPD_ROOT/open/faulty" $w1) &&
	mkdir -p "$(dirname "$bad")" &&
	test-tool genrandom garbage 1m >"$bad" &&
	w2=$(oid_of work/w2.pth) &&
	good=$(obj_path "$HTTPD_ROOT/open/faulty" $w2) &&
	mkdir -p "$(dirname "$good")" &&
	cp work/w2.pth "$good" &&
	test_must_fail git -C faulty -c model.storage="$HTTPD_URL/open/faulty" \
		model fetch -I w1.pth,w2.pth,w3.pth 2>err.faulty &&
	test "$(httpd_log_count GET 200 "/open/faulty/.*/$w1\$")" = 2 &&
	test "$(httpd_log_count GET 404 "/open/faulty/.*/$w3\$")" = 1 &&
	grep "error: 1 file(s) have wrong bytes in storage .$HTTPD_URL/open/faulty.: the copies there are damaged (delete them there, then run .git model push --all. in a clone that has them)" err.faulty &&
	grep "error: 1 file(s) are not in storage .$HTTPD_URL/open/faulty. (run .git model push --all. in a clone that has them)" err.faulty &&
	! grep "once the storage is reachable" err.faulty &&
	test_cmp_bin work/w2.pth "$(obj_path faulty/.git/model/objects $w2)" &&
	test_must_fail git -C faulty -c model.storage="http://127.0.0.1:1/none" \
		-c model.retries=0 model fetch -I w1.pth 2>err.unreachable &&
	grep "error: 1 file(s) could not be downloaded; run .git model fetch. again once the storage is reachable" err.unreachable &&
	! grep "push --all" err.unreachable
'

test_expect_success 'a clone gives each failure its own advice too' '
	test_expect_code 1 git -c model.storage="$HTTPD_URL/open/faulty" \
		clone -q remote.git faulty-clone 2>err.fclone &&
	grep "error: 1 file(s) have wrong bytes in storage .$HTTPD_URL/open/faulty.: the copies there are damaged (delete them there, then run .git model push --all. in a clone that has them)" err.fclone &&
	grep "error: [0-9]* file(s) are not in storage .$HTTPD_URL/open/faulty. (run .git model push --all. in a clone that has them)" err.fclone &&
	! grep "once the storage is reachable" err.fclone &&
	! grep "run .git model fetch." err.fclone &&
	test_cmp_bin work/w2.pth faulty-clone/w2.pth &&
	git -C faulty-clone model pointer --check w1.pth &&
	test_expect_code 1 git -c model.storage="http://127.0.0.1:1/none" \
		-c model.retries=0 clone -q remote.git gone-clone 2>err.gclone &&
	grep "error: [0-9]* file(s) could not be downloaded; run .git model pull. again once the storage is reachable" err.gclone &&
	! grep "push --all" err.gclone &&
	! grep "run .git model fetch." err.gclone
'

test_expect_success 'the password never appears in any output' '
	! grep -r -F "$HTTPD_PASSWORD" out.* err.* &&
	git -C work -c model.storage="http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT/auth/models" \
		model env >out.env &&
	! grep -F "$HTTPD_PASSWORD" out.env
'

test_done
