#!/bin/sh

test_description='model.s3.signature = v2: S3 through libs3 (SigV2), against s3rver'

. "$(dirname "$0")/test-lib.sh"

if ! git model version | grep -q "; libs3)"
then
	skip_all="git-model was built without libs3 (apt-get install libs3-dev, then configure)"
	test_done
fi

. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 models

# s3rver checks SigV2 signatures itself (unlike SigV4 ones), so these
# requests go to it directly, not through the SigV4 proxy.

test_expect_success 'setup' '
	s3_use_keys &&
	s3_setup_work s3://models/v2 "$S3_DIRECT_ENDPOINT" &&
	(
		cd work &&
		git config -f .gitmodel model.s3.signature v2 &&
		test-tool genrandom a 2m >a.pth &&
		git add . &&
		git commit -q -m a
	)
'

test_expect_success 'push through libs3 stores the object' '
	test_terminal "git -C work push -q origin main" >err &&
	grep "uploaded 1 object(s)" err &&
	oid=$(sha256sum <work/a.pth | cut -d" " -f1) &&
	test_cmp_bin work/a.pth "$(s3_object_path models $(s3_key v2 $oid))"
'

test_expect_success 'a clone through libs3 gets the weights back' '
	git clone -q remote.git clone &&
	test_cmp_bin work/a.pth clone/a.pth
'

test_expect_success 'a second push finds the object there (HEAD through libs3)' '
	git init -q --bare second.git &&
	test_terminal "git -C work push -q ../second.git main" >err &&
	grep "1 already there" err
'

test_expect_success 'a wrong secret: 403 SignatureDoesNotMatch, push refused' '
	before=$(git -C remote.git rev-parse main) &&
	test-tool genrandom b 100k >work/b.pth &&
	git -C work add b.pth &&
	git -C work commit -q -m b &&
	test_must_fail env AWS_SECRET_ACCESS_KEY=wrong-secret \
		git -C work push origin main 2>err &&
	grep "SignatureDoesNotMatch" err &&
	grep "push is refused" err &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	! grep wrong-secret err
'

test_expect_success 'an unknown signature version is a clear error' '
	test_must_fail git -C work -c model.s3.signature=v3 push origin main 2>err &&
	grep "bad value .v3. for model.s3.signature" err
'

test_done
