#!/bin/sh

test_description='lib-httpd.sh: nginx with /auth/, /anon/, /open/ and its log'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

# curl must talk to nginx directly.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
command -v curl >/dev/null 2>&1 ||
test_env_require_ci_service curl "curl is not installed (apt-get install curl)"
start_httpd

# code METHOD-AND-CURL-ARGS...: curl, printing only the HTTP status.
code () {
	curl -s -o /dev/null -w "%{http_code}\n" "$@"
}

# gone_within SECONDS PID: PID exits (or is a zombie) within SECONDS.
gone_within () {
	gone_i=0
	while kill -0 "$2" 2>/dev/null
	do
		case $(ps -o stat= -p "$2" 2>/dev/null) in
		Z*) return 0 ;;
		esac
		if test $gone_i -ge $(($1 * 10))
		then
			echo >&4 "process $2 still running after $1 s:"
			ps -f -p "$2" >&4
			return 1
		fi
		sleep 0.1
		gone_i=$((gone_i + 1))
	done
}

test_expect_success 'setup' '
	test-tool genrandom small 10k >small &&
	test-tool genrandom other 3k >other &&
	test-tool genrandom big 1m >big &&
	echo "$HTTPD_URL" | grep "^http://127\.0\.0\.1:[0-9][0-9]*$" &&
	test "$HTTPD_ROOT" = "$TRASH_DIRECTORY/httpd/www" &&
	test "$HTTPD_USER" = alice &&
	echo "$HTTPD_PASSWORD" | grep "^pw-[0-9a-f]\{16\}-secret$"
'

test_expect_success 'PUT to /auth/ with the password creates the file' '
	code -u "$HTTPD_USER:$HTTPD_PASSWORD" -T small \
		"$HTTPD_URL/auth/a/b/small" >status &&
	echo 201 >expect &&
	test_cmp expect status &&
	test_cmp_bin small "$HTTPD_ROOT/auth/a/b/small" &&
	code -u "$HTTPD_USER:$HTTPD_PASSWORD" -T other \
		"$HTTPD_URL/auth/a/b/small" >status &&
	echo 204 >expect &&
	test_cmp expect status &&
	test_cmp_bin other "$HTTPD_ROOT/auth/a/b/small"
'

test_expect_success 'PUT to /auth/ with a wrong or no password is 401' '
	code -u "$HTTPD_USER:wrong" -T small "$HTTPD_URL/auth/a/wrong" >status &&
	echo 401 >expect &&
	test_cmp expect status &&
	code -T small "$HTTPD_URL/auth/a/none" >status &&
	test_cmp expect status &&
	code "$HTTPD_URL/auth/a/b/small" >status &&
	test_cmp expect status &&
	test_path_is_missing "$HTTPD_ROOT/auth/a/wrong" &&
	test_path_is_missing "$HTTPD_ROOT/auth/a/none"
'

test_expect_success 'GET and HEAD through /anon/ without a password' '
	curl -s -f -o got "$HTTPD_URL/anon/a/b/small" &&
	test_cmp_bin other got &&
	curl -s -f -I "$HTTPD_URL/anon/a/b/small" >head &&
	grep -i "^content-length: 3072" head &&
	code "$HTTPD_URL/anon/a/b/missing" >status &&
	echo 404 >expect &&
	test_cmp expect status
'

test_expect_success 'PUT to /anon/ is 403, with or without a password' '
	code -T small "$HTTPD_URL/anon/a/b/small" >status &&
	echo 403 >expect &&
	test_cmp expect status &&
	code -u "$HTTPD_USER:$HTTPD_PASSWORD" -T small \
		"$HTTPD_URL/anon/a/new" >status &&
	test_cmp expect status &&
	test_cmp_bin other "$HTTPD_ROOT/auth/a/b/small" &&
	test_path_is_missing "$HTTPD_ROOT/auth/a/new"
'

test_expect_success 'PUT to /open/ needs no password' '
	code -T small "$HTTPD_URL/open/x/y/small" >status &&
	echo 201 >expect &&
	test_cmp expect status &&
	test_cmp_bin small "$HTTPD_ROOT/open/x/y/small" &&
	curl -s -f -o got "$HTTPD_URL/open/x/y/small" &&
	test_cmp_bin small got
'

test_expect_success 'a Range request gets 206 and those bytes' '
	curl -s -r 100-1123 -o got -w "%{http_code}\n" \
		"$HTTPD_URL/anon/a/b/small" >status &&
	echo 206 >expect &&
	test_cmp expect status &&
	tail -c +101 other | head -c 1024 >expect &&
	test_cmp_bin expect got
'

test_expect_success 'the access log has one line per request, as documented' '
	httpd_log_wait 1 GET 206 &&
	num="[0-9][0-9]*\.[0-9][0-9][0-9]" &&
	grep -E "^$num $num PUT /auth/a/b/small 201 - [0-9]+ alice$" \
		"$HTTPD_ACCESS_LOG" &&
	grep -E "^$num $num PUT /auth/a/wrong 401 - [0-9]+ alice$" \
		"$HTTPD_ACCESS_LOG" &&
	grep -E "^$num $num PUT /auth/a/none 401 - [0-9]+ -$" \
		"$HTTPD_ACCESS_LOG" &&
	grep -E "^$num $num GET /anon/a/b/small 206 bytes=100-1123 [0-9]+ -$" \
		"$HTTPD_ACCESS_LOG" &&
	grep -E "^$num $num HEAD /anon/a/b/small 200 - [0-9]+ -$" \
		"$HTTPD_ACCESS_LOG" &&
	awk "NF != 8" "$HTTPD_ACCESS_LOG" >bad &&
	test_must_be_empty bad &&
	test "$(httpd_log_count PUT 401)" = 2 &&
	test "$(httpd_log_count PUT 401 "^/auth/a/(w|x)")" = 1 &&
	test "$(httpd_log_count GET 401 "^/auth/a/b/small\$")" = 1 &&
	test "$(httpd_log_count PUT 403 "^/anon/")" = 2 &&
	test "$(httpd_log_count PUT 201)" = 2 &&
	test "$(httpd_log_count DELETE 201)" = 0
'

test_expect_success 'the password is in no log, the htpasswd file holds a hash' '
	! grep -r -- "$HTTPD_PASSWORD" httpd/*.log httpd/nginx.conf &&
	if command -v openssl >/dev/null 2>&1
	then
		grep "^alice:\$apr1\\$" httpd/htpasswd &&
		! grep -- "$HTTPD_PASSWORD" httpd/htpasswd
	fi
'

test_expect_success 'httpd_max_overlap on a made-up log' '
	cat >log <<-\EOF &&
	1000.000 1.000 PUT /a 201 - 1 -
	1000.500 1.000 PUT /b 201 - 1 -
	1001.000 0.500 PUT /c 201 - 1 -
	1000.200 0.100 PUT /d 201 - 1 -
	999.800 0.100 PUT /e 201 - 1 -
	1000.000 0.000 PUT /f 201 - 1 -
	1000.500 2.000 GET /g 200 - 1 -
	EOF
	(
		HTTPD_ACCESS_LOG=log &&
		test "$(httpd_max_overlap PUT)" = 3 &&
		test "$(httpd_max_overlap GET)" = 1 &&
		test "$(httpd_max_overlap DELETE)" = 0
	)
'

test_expect_success 'sequential requests do not overlap, parallel ones do' '
	test "$(httpd_max_overlap GET)" = 1 &&
	pids= &&
	for i in 1 2 3 4
	do
		curl -s -f -o /dev/null --limit-rate 500k -T big \
			"$HTTPD_URL/open/par/$i" &
		pids="$pids $!"
	done &&
	for pid in $pids
	do
		wait $pid || return 1
	done &&
	httpd_log_wait 4 PUT 201 "^/open/par/" &&
	overlap=$(httpd_max_overlap PUT) &&
	test "$overlap" -gt 1 &&
	for i in 1 2 3 4
	do
		test_cmp_bin big "$HTTPD_ROOT/open/par/$i" || return 1
	done
'

test_expect_success 'stop_httpd stops nginx, twice is fine, start again' '
	pid=$HTTPD_PID &&
	stop_httpd &&
	! kill -0 $pid 2>/dev/null &&
	test -z "$HTTPD_PID" &&
	test_expect_code 7 curl -s -o /dev/null "$HTTPD_URL/" &&
	stop_httpd &&
	start_httpd &&
	test "$HTTPD_PID" != "$pid" &&
	curl -s -f -o got "$HTTPD_URL/anon/a/b/small" &&
	test_cmp_bin other got
'

# A script using the library, to see nginx stop however it ends.
cat >child.sh <<\EOF
test_description='lib-httpd.sh child'
. "$TEST_DIRECTORY/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
start_httpd
echo "$HTTPD_PID" >"$CHILD_OUT/pid"
test_expect_success 'nginx answers' 'curl -s -o /dev/null "$HTTPD_URL/"'
case "$CHILD_MODE" in
exit) test_expect_success 'exit' 'exit 3' ;;
fail) test_expect_success 'fail' 'false' ;;
kill) test_expect_success 'kill' 'kill -KILL $$' ;;
esac
test_expect_success 'the end' ':'
test_done
EOF

# run_child MODE [OPTION...]: run child.sh, its output in child-MODE.out.
run_child () {
	mkdir -p "child-$1" &&
	CHILD_OUT=$PWD/child-$1 CHILD_MODE=$1 &&
	export CHILD_OUT CHILD_MODE &&
	shift &&
	sh child.sh --root="$CHILD_OUT" "$@" >"$CHILD_OUT.out" 2>&1
}

test_expect_success 'nginx is stopped after test_done, trash removed' '
	run_child done &&
	grep "^ok 2 - the end" child-done.out &&
	gone_within 3 $(cat child-done/pid) &&
	test_path_is_missing "child-done/trash directory.child"
'

test_expect_success 'nginx is stopped at once when a body calls exit' '
	test_expect_code 1 run_child exit &&
	grep "^Bail out! test 2 called exit 3" child-exit.out &&
	gone_within 0 $(cat child-exit/pid)
'

test_expect_success 'nginx is stopped after a failure with -i' '
	test_expect_code 1 run_child fail -i &&
	grep "^not ok 2 - fail" child-fail.out &&
	! grep "the end" child-fail.out &&
	gone_within 3 $(cat child-fail/pid)
'

test_expect_success 'nginx is stopped when the script is killed' '
	test_expect_code 137 run_child kill &&
	gone_within 3 $(cat child-kill/pid)
'

test_done
