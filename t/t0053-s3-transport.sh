#!/bin/sh

test_description='S3 storage through the HTTP transport: a private CA, low-speed limits, tracing'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-fault-proxy.sh"

start_s3 models
# nginx with a self-signed certificate (its own CA) in front of the S3 proxy
HTTPD_S3_UPSTREAM=$S3_PORT
start_httpd

# pointers_clone DIR: a clone with pointers only, its storage the S3
# endpoint behind TLS
pointers_clone () {
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git "$1" &&
	git -C "$1" config model.storage "s3://models/tls" &&
	git -C "$1" config model.s3.endpoint "$HTTPD_S3_URL"
}

key_of () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

test_expect_success 'setup: S3 behind https with a private CA' '
	git config --global model.compression none &&
	AWS_ACCESS_KEY_ID=$S3_TOKEN_ACCESS_KEY_ID &&
	AWS_SECRET_ACCESS_KEY=$S3_TOKEN_SECRET_ACCESS_KEY &&
	AWS_SESSION_TOKEN=$S3_SESSION_TOKEN &&
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		git config model.storage "s3://models/tls" &&
		git config model.s3.endpoint "$HTTPD_S3_URL" &&
		test-tool genrandom a 2m >a.pth &&
		git add . &&
		git commit -q -m weights &&
		git remote add origin ../remote.git
	)
'

test_expect_success 'a certificate nobody vouches for is refused' '
	test_must_fail git -C work push origin main 2>err &&
	grep "cannot upload .a.pth." err &&
	grep "SSL certificate problem" err &&
	test "$(s3_log_count PUT 200)" = 0 &&
	test_must_fail git -C remote.git rev-parse --verify -q main
'

test_expect_success 'http.sslCAInfo names the CA: the push goes through' '
	test_terminal "git -C work -c http.sslCAInfo=\"$HTTPD_CERT\" push origin main" >err &&
	grep "uploaded 1 object(s)" err &&
	test_cmp_bin work/a.pth \
		"$(s3_object_path models $(key_of tls $(oid_of work/a.pth)))"
'

test_expect_success 'AWS_CA_BUNDLE names the CA: a fetch goes through' '
	pointers_clone c1 &&
	test_must_fail git -C c1 model pull 2>err &&
	grep "SSL certificate problem" err &&
	AWS_CA_BUNDLE="$HTTPD_CERT" git -C c1 model pull 2>err &&
	test_cmp_bin work/a.pth c1/a.pth
'

test_expect_success 'a profile ca_bundle names the CA, as for the AWS CLI' '
	pointers_clone c2 &&
	printf "[default]\nca_bundle = %s\n" "$HTTPD_CERT" >aws-config &&
	AWS_CONFIG_FILE="$PWD/aws-config" git -C c2 model pull 2>err &&
	test_cmp_bin work/a.pth c2/a.pth
'

test_expect_success 'GIT_TRACE_CURL shows requests, never the keys or the token' '
	pointers_clone c3 &&
	GIT_TRACE_CURL="$PWD/trace" git -C c3 -c http.sslCAInfo="$HTTPD_CERT" \
		model pull 2>err &&
	test_cmp_bin work/a.pth c3/a.pth &&
	grep "^=> Send header: GET /models/tls/sha256/" trace &&
	grep "^<= Recv header: HTTP/1.1 200 OK" trace &&
	grep "^=> Send header: Authorization: <redacted>$" trace &&
	grep "^=> Send header: x-amz-security-token: <redacted>$" trace &&
	! grep "$S3_SESSION_TOKEN" trace &&
	! grep "$S3_TOKEN_ACCESS_KEY_ID" trace &&
	! grep "Signature=" trace
'

test_expect_success 'S3 honours model.http.lowSpeedTime against a server that never answers' '
	FAULT_PROXY_UPSTREAM=$S3_PORT &&
	start_proxy silent 1000 &&
	test_when_finished stop_proxy &&
	(
		cd work &&
		test-tool genrandom b 1m >b.pth &&
		git add b.pth &&
		git commit -q -m b
	) &&
	test_must_fail timeout 50 git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.http.lowSpeedTime=1 -c model.retries=1 \
		model push origin main 2>err &&
	grep "fault=silent" proxy.log &&
	grep "cannot upload .b.pth.*Operation too slow.*(after 2 attempts)" err
'

test_done
