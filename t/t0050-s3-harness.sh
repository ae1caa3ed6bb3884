#!/bin/sh

test_description='lib-s3.sh: s3rver behind a proxy checking AWS SigV4'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

if ! command -v curl >/dev/null 2>&1 ||
   ! curl --help all 2>/dev/null | grep -q -e --aws-sigv4
then
	test_env_require_ci_service curl \
		"curl 7.75 or later (--aws-sigv4) is not installed (apt-get install curl)"
fi
start_s3 preset

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

sha256_of () {
	sha256sum <"$1" | cut -d" " -f1
}

# curl_as KEY SECRET CURL-ARGS...: curl signing with that key and secret.
curl_as () {
	curl_as_key=$1 curl_as_secret=$2
	shift 2
	curl -s --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$curl_as_key:$curl_as_secret" "$@"
}

# code CURL-ARGS...: s3_curl, printing only the HTTP status.
code () {
	s3_curl -o /dev/null -w "%{http_code}\n" "$@"
}

# put FILE KEY [CURL-ARGS...]: a signed PutObject of FILE to models/KEY
# with its SHA-256, printing the HTTP status.
put () {
	put_file=$1 put_key=$2
	shift 2
	code -H "x-amz-content-sha256: $(sha256_of "$put_file")" "$@" \
		-T "$put_file" "$S3_ENDPOINT/models/$put_key"
}

# expect_status WANT: the status in ./status is WANT.
expect_status () {
	echo "$1" >expect.status &&
	test_cmp expect.status status
}

# error_code FILE: the <Code> of the S3 error document in FILE.
error_code () {
	sed -n 's/.*<Error><Code>\([A-Za-z0-9]*\)<\/Code>.*/\1/p' "$1"
}

# no_part_files: no temporary upload file is left in s3rver's directory
# (s3rver notices a cut body a moment after the proxy: wait up to 5 s).
no_part_files () {
	npf_i=0
	while test -n "$(find "$S3_DATA" -name "*.part")"
	do
		if test $npf_i -ge 50
		then
			echo >&4 "left behind:"
			find "$S3_DATA" -name "*.part" >&4
			return 1
		fi
		sleep 0.1
		npf_i=$((npf_i + 1))
	done
}

test_expect_success 'the checker passes its self-test (AWS examples)' '
	node "$TEST_DIRECTORY/s3/sigv4-proxy.js" --self-test >out &&
	grep "^ok: accepts the GET /test.txt example (Range: bytes=0-9)$" out &&
	grep "^ok: computes AWS.s canonical request for it$" out &&
	grep "^ok: rejects a wrong signature (SignatureDoesNotMatch)$" out &&
	grep "^ok: rejects a wrong secret (SignatureDoesNotMatch)$" out &&
	! grep FAILED out &&
	tail -n 1 out >last &&
	echo "all checks passed" >expect &&
	test_cmp expect last
'

test_expect_success 'setup' '
	test-tool genrandom small 10k >small &&
	test-tool genrandom other 10k >other &&
	test-tool genrandom big 5m >big &&
	test-tool genrandom big2 5m >big2 &&
	test-tool genrandom part 1k >part &&
	echo "$S3_ENDPOINT" | grep "^http://127\.0\.0\.1:[0-9][0-9]*$" &&
	echo "$S3_DIRECT_ENDPOINT" | grep "^http://127\.0\.0\.1:[0-9][0-9]*$" &&
	test "$S3_ENDPOINT" != "$S3_DIRECT_ENDPOINT" &&
	test "$S3_PROXY_LOG" = "$TRASH_DIRECTORY/s3/proxy.log" &&
	test "$S3_DATA" = "$TRASH_DIRECTORY/s3/data" &&
	kill -0 "$S3RVER_PID" &&
	kill -0 "$S3_PROXY_PID" &&
	code -I -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/preset" >status &&
	expect_status 200
'

test_expect_success 's3_create_bucket makes a bucket through the proxy' '
	s3_create_bucket models &&
	test_path_is_dir "$S3_DATA/models" &&
	test "$(s3_log_count PUT 200 "^/models\$")" = 1 &&
	grep " PUT /models 200 sig=ok body=unsigned\$" "$S3_PROXY_LOG"
'

test_expect_success 'signed PUT (body SHA-256), HEAD and GET through the proxy' '
	put small a/small >status &&
	expect_status 200 &&
	test_cmp_bin small "$(s3_object_path models a/small)" &&
	s3_curl -I -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/small" >head &&
	grep "^HTTP/1.1 200" head &&
	grep -i "^content-length: 10240" head &&
	grep -i "^etag: \"$(md5sum <small | cut -d" " -f1)\"" head &&
	s3_curl -f -o got -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/small" &&
	test_cmp_bin small got &&
	grep " PUT /models/a/small 200 sig=ok body=ok\$" "$S3_PROXY_LOG" &&
	grep " HEAD /models/a/small 200 sig=ok body=ok\$" "$S3_PROXY_LOG" &&
	grep " GET /models/a/small 200 sig=ok body=ok\$" "$S3_PROXY_LOG"
'

test_expect_success 'GET a missing key: 404 NoSuchKey' '
	s3_curl -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/missing" >status &&
	expect_status 404 &&
	test "$(error_code err)" = NoSuchKey
'

test_expect_success 'the second key works end to end' '
	curl_as "$S3_OTHER_ACCESS_KEY_ID" "$S3_OTHER_SECRET_ACCESS_KEY" \
		-o /dev/null -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of other)" \
		-T other "$S3_ENDPOINT/models/a/other" >status &&
	expect_status 200 &&
	test_cmp_bin other "$(s3_object_path models a/other)"
'

test_expect_success 'a wrong secret: 403 SignatureDoesNotMatch, nothing stored' '
	curl_as "$S3_ACCESS_KEY_ID" wrong-secret -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of small)" \
		-T small "$S3_ENDPOINT/models/a/wrong" >status &&
	expect_status 403 &&
	test "$(error_code err)" = SignatureDoesNotMatch &&
	grep "<CanonicalRequest>PUT" err &&
	test_path_is_missing "$(s3_object_path models a/wrong)" &&
	test "$(s3_log_count PUT 403 "^/models/a/wrong\$")" = 1 &&
	grep " PUT /models/a/wrong 403 sig=bad body=-\$" "$S3_PROXY_LOG" &&
	code -I -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/wrong" >status &&
	expect_status 404 &&

	# A big body: refused before "100 Continue", and the same.
	curl_as "$S3_ACCESS_KEY_ID" wrong-secret -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of big)" \
		-T big "$S3_ENDPOINT/models/a/wrong" >status &&
	expect_status 403 &&
	test_path_is_missing "$(s3_object_path models a/wrong)" &&

	# And a GET of an object that is there.
	curl_as "$S3_OTHER_ACCESS_KEY_ID" wrong-secret -o err \
		-w "%{http_code}\n" -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/small" >status &&
	expect_status 403 &&
	test "$(error_code err)" = SignatureDoesNotMatch
'

test_expect_success 'an unknown key: 403 InvalidAccessKeyId' '
	curl_as AKIDUNKNOWN "$S3_SECRET_ACCESS_KEY" -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of small)" \
		-T small "$S3_ENDPOINT/models/a/unknown" >status &&
	expect_status 403 &&
	test "$(error_code err)" = InvalidAccessKeyId &&
	test_path_is_missing "$(s3_object_path models a/unknown)"
'

test_expect_success 'no Authorization: 403 AccessDenied (s3rver alone allows it)' '
	curl -s -o err -w "%{http_code}\n" -T small \
		"$S3_ENDPOINT/models/a/anon" >status &&
	expect_status 403 &&
	test "$(error_code err)" = AccessDenied &&
	test_path_is_missing "$(s3_object_path models a/anon)" &&
	grep " PUT /models/a/anon 403 sig=missing body=-\$" "$S3_PROXY_LOG" &&
	curl -s -o err -w "%{http_code}\n" "$S3_ENDPOINT/models/a/small" >status &&
	expect_status 403 &&
	curl -s -f -o got "$S3_DIRECT_ENDPOINT/models/a/small" &&
	test_cmp_bin small got
'

test_expect_success 'no x-amz-content-sha256: 403 SignatureDoesNotMatch' '
	s3_curl -o err -w "%{http_code}\n" -T small \
		"$S3_ENDPOINT/models/a/nohash" >status &&
	expect_status 403 &&
	test "$(error_code err)" = SignatureDoesNotMatch &&
	grep "no x-amz-content-sha256" err &&
	test_path_is_missing "$(s3_object_path models a/nohash)"
'

test_expect_success 'a body that is not the signed SHA-256 is refused, not stored' '
	# The signature is right: the header has big2s hash, the body is big.
	s3_curl -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of big2)" \
		-T big "$S3_ENDPOINT/models/a/tampered" >status &&
	expect_status 400 &&
	test "$(error_code err)" = XAmzContentSHA256Mismatch &&
	grep "<S3ComputedContentSHA256>$(sha256_of big)<" err &&
	test_path_is_missing "$(s3_object_path models a/tampered)" &&
	code -I -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/tampered" >status &&
	expect_status 404 &&
	grep " PUT /models/a/tampered 400 sig=ok body=bad\$" "$S3_PROXY_LOG" &&

	# Over an object that is there: it stays as it was.
	put big a/big >status &&
	expect_status 200 &&
	s3_curl -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of big)" \
		-T big2 "$S3_ENDPOINT/models/a/big" >status &&
	expect_status 400 &&
	test_cmp_bin big "$(s3_object_path models a/big)" &&
	s3_curl -f -o got -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/big" &&
	test_cmp_bin big got &&
	no_part_files
'

test_expect_success 'UNSIGNED-PAYLOAD bodies pass unchecked, chunked ones too' '
	code -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T small \
		"$S3_ENDPOINT/models/a/unsigned" >status &&
	expect_status 200 &&
	test_cmp_bin small "$(s3_object_path models a/unsigned)" &&
	grep " PUT /models/a/unsigned 200 sig=ok body=unsigned\$" "$S3_PROXY_LOG" &&
	code -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T - \
		"$S3_ENDPOINT/models/a/chunked" <big >status &&
	expect_status 200 &&
	test_cmp_bin big "$(s3_object_path models a/chunked)" &&
	# A checked chunked body.
	code -H "x-amz-content-sha256: $(sha256_of big2)" -T - \
		"$S3_ENDPOINT/models/a/chunked2" <big2 >status &&
	expect_status 200 &&
	test_cmp_bin big2 "$(s3_object_path models a/chunked2)"
'

test_expect_success 'aws-chunked (STREAMING-*) bodies are refused: 501' '
	s3_curl -o err -w "%{http_code}\n" \
		-H "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD" \
		-T small "$S3_ENDPOINT/models/a/streaming" >status &&
	expect_status 501 &&
	test "$(error_code err)" = NotImplemented &&
	test_path_is_missing "$(s3_object_path models a/streaming)"
'

test_expect_success 'an upload cut short leaves no object' '
	test_expect_code 28 s3_curl -m 1 --limit-rate 1M -o /dev/null \
		-H "x-amz-content-sha256: $(sha256_of big)" \
		-T big "$S3_ENDPOINT/models/a/cut" &&
	s3_log_wait 1 PUT - "^/models/a/cut\$" &&
	no_part_files &&
	test_path_is_missing "$(s3_object_path models a/cut)" &&
	# Even with UNSIGNED-PAYLOAD (nothing for the proxy to check).
	test_expect_code 28 s3_curl -m 1 --limit-rate 1M -o /dev/null \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-T big "$S3_ENDPOINT/models/a/cut2" &&
	s3_log_wait 1 PUT - "^/models/a/cut2\$" &&
	no_part_files &&
	test_path_is_missing "$(s3_object_path models a/cut2)" &&
	code -I -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/cut2" >status &&
	expect_status 404
'

# create_upload KEY: CreateMultipartUpload of models/KEY; the upload ID in
# ./upload-id. curl signs the query as written: "uploads=", not "uploads".
create_upload () {
	s3_curl -f -X POST -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/$1?uploads=" >created &&
	sed -n "s/.*<UploadId>\([^<]*\)<\/UploadId>.*/\1/p" created >upload-id &&
	test -s upload-id
}

# upload_part KEY N FILE: UploadPart; the status in ./status, the ETag
# (without quotes) in ./etag-N. The query in sorted order.
upload_part () {
	s3_curl -D headers -o out -w "%{http_code}\n" \
		-H "x-amz-content-sha256: $(sha256_of "$3")" -T "$3" \
		"$S3_ENDPOINT/models/$1?partNumber=$2&uploadId=$(cat upload-id)" \
		>status &&
	sed -n "s/^[Ee][Tt][Aa][Gg]: *\"\([0-9a-f]*\)\".*/\1/p" headers >"etag-$2"
}

# complete KEY N ETAG...: CompleteMultipartUpload with these parts; the
# status in ./status, the body in ./out.
complete () {
	complete_key=$1
	shift
	{
		printf "<CompleteMultipartUpload>"
		while test $# -ge 2
		do
			printf "<Part><PartNumber>%s</PartNumber><ETag>\"%s\"</ETag></Part>" "$1" "$2"
			shift 2
		done
		printf "</CompleteMultipartUpload>"
	} >complete.xml &&
	s3_curl -o out -w "%{http_code}\n" -X POST \
		-H "x-amz-content-sha256: $(sha256_of complete.xml)" \
		--data-binary @complete.xml \
		"$S3_ENDPOINT/models/$complete_key?uploadId=$(cat upload-id)" >status
}

test_expect_success 'multipart: create, upload parts, complete' '
	create_upload mp/one &&
	upload_part mp/one 1 big &&
	expect_status 200 &&
	upload_part mp/one 2 part &&
	expect_status 200 &&
	test "$(cat etag-2)" = "$(md5sum <part | cut -d" " -f1)" &&
	test_path_is_missing "$(s3_object_path models mp/one)" &&
	complete mp/one 1 "$(cat etag-1)" 2 "$(cat etag-2)" &&
	expect_status 200 &&
	grep "<CompleteMultipartUploadResult>.*<Key>mp/one</Key>" out &&
	cat big part >expect &&
	test_cmp_bin expect "$(s3_object_path models mp/one)" &&
	s3_curl -f -o got -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/mp/one" &&
	test_cmp_bin expect got &&
	grep " POST /models/mp/one?uploads= 200 sig=ok body=ok\$" "$S3_PROXY_LOG" &&
	test "$(s3_log_count PUT 200 "^/models/mp/one[?]partNumber=")" = 2 &&
	# Complete again: the upload is gone.
	complete mp/one 1 "$(cat etag-1)" 2 "$(cat etag-2)" &&
	expect_status 404 &&
	test "$(error_code out)" = NoSuchUpload
'

test_expect_success 'multipart: S3 errors, as S3 gives them' '
	create_upload mp/two &&
	upload_part mp/two 1 part &&
	upload_part mp/two 2 part &&
	complete mp/two 1 "$(cat etag-1)" 2 "$(cat etag-2)" &&
	expect_status 400 &&
	test "$(error_code out)" = EntityTooSmall &&
	upload_part mp/two 1 big &&
	complete mp/two 1 "$(cat etag-1)" 3 "$(cat etag-2)" &&
	expect_status 400 &&
	test "$(error_code out)" = InvalidPart &&
	complete mp/two 1 0123456789abcdef0123456789abcdef &&
	expect_status 400 &&
	test "$(error_code out)" = InvalidPart &&
	complete mp/two 2 "$(cat etag-2)" 1 "$(cat etag-1)" &&
	expect_status 400 &&
	test "$(error_code out)" = InvalidPartOrder &&
	complete mp/other 1 "$(cat etag-1)" &&
	expect_status 404 &&
	test "$(error_code out)" = NoSuchUpload &&
	upload_part mp/two 0 part &&
	expect_status 400 &&
	test "$(error_code out)" = InvalidArgument &&
	test_path_is_missing "$(s3_object_path models mp/two)" &&
	# None of these broke the upload.
	complete mp/two 1 "$(cat etag-1)" 2 "$(cat etag-2)" &&
	expect_status 200 &&
	cat big part >expect &&
	test_cmp_bin expect "$(s3_object_path models mp/two)" &&
	kill -0 "$S3RVER_PID"
'

test_expect_success 'multipart: abort' '
	create_upload mp/three &&
	upload_part mp/three 1 big &&
	code -X DELETE -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/mp/three?uploadId=$(cat upload-id)" >status &&
	expect_status 204 &&
	upload_part mp/three 2 part &&
	expect_status 404 &&
	test "$(error_code out)" = NoSuchUpload &&
	code -X DELETE -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/mp/three?uploadId=$(cat upload-id)" >status &&
	expect_status 404 &&
	test_path_is_missing "$(s3_object_path models mp/three)"
'

test_expect_success 'curl 7.88 signs "?uploads" wrongly: use "?uploads="' '
	s3_curl -o err -w "%{http_code}\n" -X POST \
		-H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/mp/four?uploads" >status &&
	case "$(cat status)" in
	200) say "this curl signs ?uploads right" ;;
	403) test "$(error_code err)" = SignatureDoesNotMatch ;;
	*) false ;;
	esac
'

test_expect_success 'parallel GETs overlap in the log' '
	test-tool genrandom par 1m >par &&
	put par par >status &&
	expect_status 200 &&
	pids= &&
	for i in 1 2 3 4
	do
		s3_curl -f -o "par.$i" --limit-rate 2M \
			-H "x-amz-content-sha256: $EMPTY_SHA256" \
			"$S3_ENDPOINT/models/par?x=$i" &
		pids="$pids $!"
	done &&
	for pid in $pids
	do
		wait $pid || return 1
	done &&
	for i in 1 2 3 4
	do
		test_cmp_bin par "par.$i" || return 1
	done &&
	test "$(s3_log_count GET 200 "^/models/par[?]")" = 4 &&
	overlap=$(s3_max_overlap GET "^/models/par[?]") &&
	test "$overlap" -gt 1 &&
	test "$(s3_max_overlap GET "^/no-such-path")" = 0
'

test_expect_success 'the log: one documented line per request' '
	test_file_not_empty "$S3_PROXY_LOG" &&
	! grep -v -E "^[0-9]{13} [0-9]{13} [A-Z]+ /[^ ]* ([0-9]{3}|-) sig=(ok|bad|missing) body=(ok|bad|unsigned|-)\$" \
		"$S3_PROXY_LOG" &&
	awk "\$1 > \$2 { bad = 1 } END { exit bad }" "$S3_PROXY_LOG" &&
	test "$(s3_log_count PUT 400 "^/models/a/tampered\$")" = 1 &&
	test "$(s3_log_count PUT 403)" -ge 4 &&
	test "$(s3_log_count GET 200 "^/models/a/small\$")" = 1
'

test_expect_success 'stop_s3 stops both, twice is fine, start again' '
	pid1=$S3RVER_PID pid2=$S3_PROXY_PID endpoint=$S3_ENDPOINT &&
	stop_s3 &&
	! kill -0 $pid1 2>/dev/null &&
	! kill -0 $pid2 2>/dev/null &&
	test -z "$S3RVER_PID$S3_PROXY_PID" &&
	test_expect_code 7 curl -s -o /dev/null "$S3_ENDPOINT/" &&
	stop_s3 &&
	start_s3 &&
	test "$S3RVER_PID" != "$pid1" &&
	test "$S3_ENDPOINT" = "$endpoint" &&
	s3_curl -f -o got -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/a/small" &&
	test_cmp_bin small got
'

# gone_within SECONDS PID...: the PIDs exit (or are zombies) within SECONDS.
gone_within () {
	gone_s=$1
	shift
	for gone_pid
	do
		gone_i=0
		while kill -0 "$gone_pid" 2>/dev/null
		do
			case $(ps -o stat= -p "$gone_pid" 2>/dev/null) in
			Z*) break ;;
			esac
			if test $gone_i -ge $((gone_s * 10))
			then
				echo >&4 "process $gone_pid still running after $gone_s s:"
				ps -f -p "$gone_pid" >&4
				return 1
			fi
			sleep 0.1
			gone_i=$((gone_i + 1))
		done
	done
}

# A script using the library, to see the servers stop however it ends;
# with CHILD_HTTPD=t it uses lib-httpd.sh too.
cat >child.sh <<\EOF
test_description='lib-s3.sh child'
. "$TEST_DIRECTORY/test-lib.sh"
test -z "$CHILD_HTTPD" || . "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test -z "$CHILD_HTTPD" || start_httpd
start_s3 b
echo "$S3RVER_PID $S3_PROXY_PID $HTTPD_PID" >"$CHILD_OUT/pids"
test_expect_success 'the proxy answers' '
	curl -s -o /dev/null "$S3_ENDPOINT/b" &&
	{ test -z "$CHILD_HTTPD" || curl -s -o /dev/null "$HTTPD_URL/"; }
'
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

test_expect_success 'the servers are stopped after test_done, trash removed' '
	run_child done &&
	grep -q "^ok 2 - the end" child-done.out &&
	gone_within 3 $(cat child-done/pids) &&
	test_path_is_missing "child-done/trash directory.child"
'

test_expect_success 'the servers are stopped at once when a body calls exit' '
	test_expect_code 1 run_child exit &&
	grep -q "^Bail out! test 2 called exit 3" child-exit.out &&
	gone_within 0 $(cat child-exit/pids)
'

test_expect_success 'the servers are stopped after a failure with -i' '
	test_expect_code 1 run_child fail -i &&
	grep -q "^not ok 2 - fail" child-fail.out &&
	! grep "the end" child-fail.out &&
	gone_within 3 $(cat child-fail/pids)
'

test_expect_success 'the servers are stopped when the script is killed' '
	test_expect_code 137 run_child kill &&
	gone_within 3 $(cat child-kill/pids)
'

test_lazy_prereq NGINX 'test -x /usr/sbin/nginx || command -v nginx'

test_expect_success NGINX 'with lib-httpd.sh too: all stopped, each way' '
	CHILD_HTTPD=t &&
	export CHILD_HTTPD &&
	test_when_finished "unset CHILD_HTTPD" &&
	run_child done &&
	grep -q "^ok 2 - the end" child-done.out &&
	test $(wc -w <child-done/pids) = 3 &&
	gone_within 3 $(cat child-done/pids) &&
	test_expect_code 1 run_child exit &&
	grep -q "^Bail out! test 2 called exit 3" child-exit.out &&
	test $(wc -w <child-exit/pids) = 3 &&
	gone_within 0 $(cat child-exit/pids) &&
	test_expect_code 137 run_child kill &&
	gone_within 3 $(cat child-kill/pids)
'

test_done
