#!/bin/sh

test_description='S3 storage through a signature-checking proxy and s3rver'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 models

test_expect_success 'setup: storage in .gitmodel, keys in the environment' '
	git config --global model.compression none &&
	s3_use_keys &&
	s3_setup_work s3://models/team "$S3_ENDPOINT" &&
	(
		cd work &&
		test-tool genrandom a 3m >a.pth &&
		test-tool genrandom b 1m >b.pth &&
		git add . &&
		git commit -q -m weights
	)
'

test_expect_success 'push signs every request, uploads, the proxy agrees' '
	test_terminal "git -C work push -q origin main" >err &&
	grep "uploaded 2 object(s)" err &&
	test "$(s3_log_count PUT 200)" = 2 &&
	! grep "sig=bad\|sig=missing" "$S3_PROXY_LOG" &&
	grep "^[0-9]* [0-9]* PUT .* 200 sig=ok body=ok$" "$S3_PROXY_LOG" &&
	test_cmp_bin work/a.pth "$(s3_object_path models $(s3_key team $(oid_of work/a.pth)))"
'

test_expect_success 'pointers name the s3:// object, url --https its request URL' '
	oid=$(oid_of work/a.pth) &&
	git -C work cat-file -p HEAD:a.pth >pointer &&
	grep "^url s3://models/$(s3_key team $oid)$" pointer &&
	git -C work model url --https a.pth >url &&
	echo "$S3_ENDPOINT/models/$(s3_key team $oid)" >expect &&
	test_cmp expect url
'

test_expect_success 'a clone gets the weights back, verified' '
	git clone -q remote.git clone 2>err &&
	test_cmp_bin work/a.pth clone/a.pth &&
	test_cmp_bin work/b.pth clone/b.pth &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'existing objects are skipped: HEAD, no PUT' '
	puts=$(s3_log_count PUT 200) &&
	git init -q --bare second.git &&
	git -C work remote add second ../second.git &&
	test_terminal "git -C work push -q second main" >err &&
	grep "uploaded 0 object(s)" err &&
	grep "2 already there" err &&
	test "$(s3_log_count PUT 200)" = "$puts"
'

test_expect_success 'a wrong secret: SignatureDoesNotMatch, push refused, no new commits' '
	before=$(git -C remote.git rev-parse main) &&
	test-tool genrandom c 200k >work/c.pth &&
	git -C work add c.pth &&
	git -C work commit -q -m c &&
	test_must_fail env AWS_SECRET_ACCESS_KEY=not-the-secret \
		git -C work push origin main 2>err &&
	grep "SignatureDoesNotMatch" err &&
	grep "check AWS_SECRET_ACCESS_KEY" err &&
	grep "push is refused" err &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	! grep not-the-secret err
'

test_expect_success 'an unknown key: InvalidAccessKeyId with its hint' '
	test_must_fail env AWS_ACCESS_KEY_ID=AKIDNOSUCHKEY \
		git -C work push origin main 2>err &&
	grep "InvalidAccessKeyId" err &&
	grep "check AWS_ACCESS_KEY_ID" err
'

test_expect_success 'no credentials at all: an error, push refused, nothing sent' '
	n=$(wc -l <"$S3_PROXY_LOG") &&
	test_must_fail env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		git -C work push origin main 2>err &&
	grep "error: no AWS credentials for .s3://models/team." err &&
	test "$(wc -l <"$S3_PROXY_LOG")" = "$n" &&
	test_must_fail env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		git -C work -c model.s3.anonymous=true push origin main 2>err &&
	grep "AccessDenied" err
'

test_expect_success 'credentials from a profile in the shared credentials file' '
	mkdir -p "$HOME/.aws" &&
	cat >"$HOME/.aws/credentials" <<-EOF &&
	[default]
	aws_access_key_id = AKIDWRONG
	aws_secret_access_key = wrong

	[ci]
	aws_access_key_id = $S3_OTHER_ACCESS_KEY_ID
	aws_secret_access_key = $S3_OTHER_SECRET_ACCESS_KEY
	EOF
	test_terminal "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_PROFILE=ci git -C work push -q origin main" >err &&
	grep "uploaded 1 object(s)" err &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)"
'

test_expect_success 'profile from AWS_CONFIG_FILE, region from the profile' '
	cat >"$TRASH_DIRECTORY/aws-config" <<-EOF &&
	[profile other]
	region = eu-west-3
	aws_access_key_id = $S3_OTHER_ACCESS_KEY_ID
	aws_secret_access_key = $S3_OTHER_SECRET_ACCESS_KEY
	EOF
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=other \
		AWS_CONFIG_FILE="$TRASH_DIRECTORY/aws-config" \
		AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/none" \
		git -C lazy model pull 2>err &&
	test_cmp_bin work/c.pth lazy/c.pth &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=other \
		AWS_CONFIG_FILE="$TRASH_DIRECTORY/aws-config" \
		git -C lazy -c model.s3.endpoint= model url --https c.pth >url &&
	grep "^https://models.s3.eu-west-3.amazonaws.com/team/sha256/" url
'

test_expect_success 'a session token is sent as x-amz-security-token, signed' '
	rm -rf lazy2 &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy2 &&
	test_must_fail env AWS_ACCESS_KEY_ID=$S3_TOKEN_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_TOKEN_SECRET_ACCESS_KEY \
		git -C lazy2 model pull 2>err &&
	grep "InvalidToken" err &&
	env AWS_ACCESS_KEY_ID=$S3_TOKEN_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_TOKEN_SECRET_ACCESS_KEY \
		AWS_SESSION_TOKEN=$S3_SESSION_TOKEN git -C lazy2 model pull 2>err &&
	test_cmp_bin work/a.pth lazy2/a.pth &&
	! grep "$S3_SESSION_TOKEN" err
'

test_expect_success 'a key prefix with characters that need encoding' '
	git -C work config model.storage "s3://models/dir with space/ü+é=x" &&
	test_when_finished "git -C work config --unset model.storage" &&
	git init -q --bare third.git &&
	git -C work remote add third ../third.git &&
	git -C work model push --all --progress third 2>err &&
	grep "uploaded 3 object(s)" err &&
	test_cmp_bin work/a.pth "$(s3_object_path models "$(s3_key "dir with space/ü+é=x" $(oid_of work/a.pth))")" &&
	rm -rf lazy3 &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy3 &&
	git -C lazy3 -c model.storage="s3://models/dir with space/ü+é=x" model pull &&
	test_cmp_bin work/b.pth lazy3/b.pth
'

test_expect_success 'a bucket that does not exist: NoSuchBucket with a hint' '
	test_must_fail git -C work -c model.storage=s3://no-such-bucket/x \
		model push --all second 2>err &&
	grep "NoSuchBucket" err &&
	grep "check the bucket name" err
'

test_expect_success 'multipart: a 200 MiB file goes up in parallel parts' '
	test-tool genrandom big 200m >work/big.pth &&
	git -C work add big.pth &&
	git -C work commit -q -m big &&
	test_terminal "git -C work -c model.s3.partSize=8m \
		-c model.concurrency=8 push -q origin main" >err &&
	grep "uploaded 1 object(s)" err &&
	test "$(s3_log_count POST 200 "uploads=$")" = 1 &&
	test "$(s3_log_count PUT 200 "partNumber=")" = 25 &&
	test "$(s3_log_count POST 200 "uploadId=")" = 1 &&
	overlap=$(s3_max_overlap PUT "partNumber=") &&
	say "at most $overlap parts in flight" &&
	test "$overlap" -gt 1 &&
	test_cmp_bin work/big.pth "$(s3_object_path models $(s3_key team $(oid_of work/big.pth)))"
'

test_expect_success 'multipart: the 200 MiB file comes back byte for byte' '
	rm -rf clone2 &&
	git clone -q remote.git clone2 &&
	test_cmp_bin work/big.pth clone2/big.pth
'

test_expect_success 'multipart with a wrong secret fails before any part' '
	test-tool genrandom big2 70m >work/big2.pth &&
	git -C work add big2.pth &&
	git -C work commit -q -m big2 &&
	parts=$(s3_log_count PUT 200 "partNumber=") &&
	test_must_fail env AWS_SECRET_ACCESS_KEY=nope \
		git -C work push origin main 2>err &&
	grep "SignatureDoesNotMatch" err &&
	test "$(s3_log_count PUT 200 "partNumber=")" = "$parts"
'

test_done
