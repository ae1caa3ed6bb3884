#!/bin/sh

test_description='S3 faults: 500, 503, reset, wrong bytes, on single and multipart transfers

The fault proxy sits in front of the signature-checking S3 proxy (the
client signs the Host it talks to, so the signatures still hold). Every
fault ends in the right bytes or in a clear error; a push whose upload
fails never moves the remote ref, and a failed multipart upload leaves no
object in the bucket. The requests prune --storage-uploads sends one at a
time, outside the transfer engine (listing, aborting), are retried too.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 models

. "$TEST_DIRECTORY/lib-fault-proxy.sh"
FAULT_PROXY_UPSTREAM=${S3_ENDPOINT##*:}

# new_weights NAME SIZE: commit a new weight file in work.
new_weights () {
	test-tool genrandom "$1" "$2" >"work/$1" &&
	git -C work add "$1" &&
	test_tick &&
	git -C work commit -q -m "$1"
}

test_expect_success 'setup: weights in S3, keys in the environment' '
	git config --global model.compression none &&
	s3_use_keys &&
	s3_setup_work s3://models/team "$S3_ENDPOINT" &&
	(
		cd work &&
		test-tool genrandom a 2m >a.pth &&
		test-tool genrandom b 1m >b.pth &&
		git add . &&
		git commit -q -m weights &&
		git push -q origin main
	) &&
	test_cmp_bin work/a.pth "$(s3_object_path models $(s3_key team $(oid_of work/a.pth)))"
'

test_expect_success 'a signed request through the proxy works' '
	start_proxy pass 0 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.s3.endpoint="$PROXY_URL" model pull 2>err &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	grep "^GET /models/team/sha256/.* 200 " proxy.log
'

test_expect_success '500 once on a PUT: retried, the push succeeds' '
	start_proxy status500 1 PUT &&
	test_when_finished stop_proxy &&
	new_weights c.pth 300k &&
	git -C work -c model.s3.endpoint="$PROXY_URL" push -q origin main 2>err &&
	test "$(grep -c "^PUT .* 500 .*fault=status500" proxy.log)" = 1 &&
	grep "^PUT .* 200 .*fault=none" proxy.log &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	test_cmp_bin work/c.pth "$(s3_object_path models $(s3_key team $(oid_of work/c.pth)))"
'

test_expect_success '500 on every PUT: push fails, ref unchanged, nothing stored' '
	start_proxy status500 1000 PUT &&
	test_when_finished stop_proxy &&
	before=$(git -C remote.git rev-parse main) &&
	new_weights d.pth 300k &&
	test_must_fail git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.retries=1 push origin main 2>err &&
	grep "cannot upload .d.pth." err &&
	grep "500" err &&
	grep "push is refused" err &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	test_path_is_missing "$(s3_object_path models $(s3_key team $(oid_of work/d.pth)))"
'

test_expect_success 'multipart: 503 on every part, the upload is aborted, nothing stored' '
	start_proxy status503 1000 PUT &&
	test_when_finished stop_proxy &&
	before=$(git -C remote.git rev-parse main) &&
	new_weights big.pth 12m &&
	test_must_fail git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.s3.multipartThreshold=8m -c model.s3.partSize=5m \
		-c model.retries=1 push origin main 2>err &&
	grep "cannot upload .big.pth." err &&
	grep "503" err &&
	grep "^POST /models/team/sha256/.*?uploads= 200 " proxy.log &&
	grep "^PUT .*partNumber=.* 503 .*fault=status503" proxy.log &&
	grep "^DELETE /models/team/sha256/.*?uploadId=" proxy.log &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	test_path_is_missing "$(s3_object_path models $(s3_key team $(oid_of work/big.pth)))"
'

test_expect_success 'multipart: a PUT refused once, retried, the push succeeds' '
	start_proxy status500 1 PUT &&
	test_when_finished stop_proxy &&
	git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.s3.multipartThreshold=8m -c model.s3.partSize=5m \
		push -q origin main 2>err &&
	test "$(grep -c "^PUT .* 500 .*fault=status500" proxy.log)" = 1 &&
	test "$(grep -c "^PUT .*partNumber=.* 200 " proxy.log)" = 3 &&
	grep "^POST /models/team/sha256/.*?uploadId=.* 200 " proxy.log &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	test_cmp_bin work/big.pth "$(s3_object_path models $(s3_key team $(oid_of work/big.pth)))" &&
	test_cmp_bin work/d.pth "$(s3_object_path models $(s3_key team $(oid_of work/d.pth)))"
'

test_expect_success 'a reset mid-body on a GET: retried, right bytes' '
	start_proxy reset 2 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.s3.endpoint="$PROXY_URL" model pull 2>err &&
	test "$(grep -c "fault=reset" proxy.log)" = 2 &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/big.pth lazy/big.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'wrong bytes once on a GET: retried, only right bytes kept' '
	start_proxy corrupt 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.s3.endpoint="$PROXY_URL" model pull 2>err &&
	grep "fault=corrupt" proxy.log &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_cmp_bin work/big.pth lazy/big.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success 'wrong bytes every time: a clear error, nothing stored, pointers stay' '
	start_proxy corrupt 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.s3.endpoint="$PROXY_URL" \
		-c model.retries=1 model pull 2>err &&
	grep "cannot download .a.pth." err &&
	grep "do not match the object id" err &&
	test_path_is_missing lazy/.git/model/objects &&
	git -C lazy model pointer --check a.pth &&
	git -C lazy model pull 2>err &&
	test_cmp_bin work/a.pth lazy/a.pth &&
	test_model_store_ok lazy/.git
'

test_expect_success '503 on every GET in a clone: pointers, a clear error, then pull' '
	start_proxy status503 1000 GET &&
	test_when_finished stop_proxy &&
	rm -rf sick &&
	test_expect_code 1 git -c model.s3.endpoint="$PROXY_URL" -c model.retries=0 \
		clone -q remote.git sick 2>err &&
	grep "503" err &&
	grep "git model pull" err &&
	git -C sick model pointer --check a.pth &&
	test_path_is_missing sick/.git/model/objects &&
	git -C sick model pull 2>err &&
	test_cmp_bin work/big.pth sick/big.pth &&
	test_model_store_ok sick/.git
'

test_expect_success 'an upload garbled once: S3 refuses it, it is sent again, the push succeeds' '
	start_proxy corrupt 1 PUT &&
	test_when_finished stop_proxy &&
	new_weights f.pth 300k &&
	f=$(oid_of work/f.pth) &&
	git -C work -c model.s3.endpoint="$PROXY_URL" push -q origin main 2>err &&
	test "$(grep -c "^PUT .* 400 .*fault=corrupt" proxy.log)" = 1 &&
	grep "^PUT .*$f.* 200 .*fault=none" proxy.log &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	test_cmp_bin work/f.pth "$(s3_object_path models $(s3_key team $f))"
'

test_expect_success 'an upload garbled on its way: S3 refuses it, nothing stored, the push fails' '
	start_proxy corrupt 1000 PUT &&
	test_when_finished stop_proxy &&
	new_weights g.pth 300k &&
	g=$(oid_of work/g.pth) &&
	before=$(git -C remote.git rev-parse main) &&
	test_must_fail git -C work -c model.s3.endpoint="$PROXY_URL" \
		push origin main 2>err &&
	grep "^PUT .* 400 .*fault=corrupt" proxy.log &&
	grep "error: cannot upload .g.pth.* 400 XAmzContentSHA256Mismatch.*(after [0-9]* attempts)" err &&
	test_path_is_missing "$(s3_object_path models $(s3_key team $g))" &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	git -C work push -q origin main &&
	test_cmp_bin work/g.pth "$(s3_object_path models $(s3_key team $g))"
'

test_expect_success 'multipart: its Complete garbled once: S3 refuses it, it is sent again, the push succeeds' '
	start_proxy corrupt 1 POST &&
	test_when_finished stop_proxy &&
	new_weights h.pth 2m &&
	h=$(oid_of work/h.pth) &&
	git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.s3.multipartThreshold=1m \
		push -q origin main 2>err &&
	grep "^POST .*$h?uploads= 200 .*fault=none" proxy.log &&
	test "$(grep -c "^PUT .*$h?partNumber=1&.* 200 " proxy.log)" = 1 &&
	test "$(grep -c "^POST .*$h?uploadId=.* 400 .*fault=corrupt" proxy.log)" = 1 &&
	test "$(grep -c "^POST .*$h?uploadId=.* 200 .*fault=none" proxy.log)" = 1 &&
	grep "POST .*$h?uploadId=.* 400 sig=ok body=bad" "$S3_PROXY_LOG" &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)" &&
	test_cmp_bin work/h.pth "$(s3_object_path models $(s3_key team $h))"
'

# failing_mp_push NAME: push a new NAME.pth of 2 MiB in parts through the
# proxy, one retry, which must fail (stderr in err); its oid in $oid, the
# remote's main before it in $before
failing_mp_push () {
	new_weights $1.pth 2m &&
	oid=$(oid_of work/$1.pth) &&
	before=$(git -C remote.git rev-parse main) &&
	test_must_fail git -C work -c model.s3.endpoint="$PROXY_URL" \
		-c model.s3.multipartThreshold=1m -c model.retries=1 \
		push origin main 2>err
}

# A Complete refused with a transient code is sent again; out of
# attempts, the upload is aborted, so that storage keeps none of its
# parts.
test_expect_success 'multipart: its Complete garbled every time: a clear error, the upload aborted' '
	start_proxy corrupt 1000 POST &&
	test_when_finished stop_proxy &&
	failing_mp_push i &&
	i=$oid &&
	test "$(grep -c "^POST .*$i?uploadId=.* 400 .*fault=corrupt" proxy.log)" = 2 &&
	test "$(grep -c "^error: cannot upload" err)" = 1 &&
	grep "^error: cannot upload .i.pth.*: 400 XAmzContentSHA256Mismatch: .*(after 2 attempts)" err &&
	id=$(sed -n "s/^POST .*$i?uploadId=\([0-9a-f]*\) 400 .*/\1/p" proxy.log | sed -n 1p) &&
	grep "^DELETE .*$i?uploadId=$id 204 " proxy.log &&
	test_path_is_missing "$S3_DATA/models/._S3rver_uploads/$id" &&
	test_path_is_missing "$(s3_object_path models $(s3_key team $i))" &&
	test "$(git -C remote.git rev-parse main)" = "$before"
'

test_expect_success 'multipart: its abort refused too: the error says the parts stay, and what removes them' '
	start_proxy status500 1000 PUT,DELETE &&
	test_when_finished stop_proxy &&
	failing_mp_push j &&
	j=$oid &&
	id=$(sed -n "s/^DELETE .*$j?uploadId=\([0-9a-f]*\) 500 .*/\1/p" proxy.log | sed -n 1p) &&
	test -n "$id" &&
	test "$(grep -c "^DELETE .*$j?uploadId=$id 500 .*fault=status500" proxy.log)" = 2 &&
	test "$(grep -c "^error: cannot upload .j.pth" err)" = 1 &&
	grep "^error: cannot upload .j.pth.*: part 1: 500 .*(after 2 attempts) (its multipart upload stays in storage, the abort failed: 500 .*(after 2 attempts); .git model prune --storage-uploads. aborts it)$" err &&
	! grep "was aborted" err &&
	test_path_is_dir "$S3_DATA/models/._S3rver_uploads/$id" &&
	test "$(git -C remote.git rev-parse main)" = "$before" &&
	stop_proxy &&
	git -C work model prune --storage-uploads --older-than 0 >out &&
	test_path_is_missing "$S3_DATA/models/._S3rver_uploads/$id"
'

# open_upload KEY: CreateMultipartUpload for KEY behind git-model's
# back, begun two days ago; prints its id.
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
open_upload () {
	s3_curl -X POST -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/$1?uploads=" >create.out &&
	id=$(sed -n "s/.*<UploadId>\([0-9a-f]*\)<\/UploadId>.*/\1/p" create.out) &&
	test -n "$id" &&
	touch -d "2 days ago" "$S3_DATA/models/._S3rver_uploads/$id/key" &&
	echo "$id"
}

test_expect_success 'prune --storage-uploads: a 503 on its listing is retried' '
	id=$(open_upload team/sha256/aa/aa/aaaa) &&
	start_proxy status503 1 GET &&
	test_when_finished stop_proxy &&
	git -C work -c model.s3.endpoint="$PROXY_URL" \
		model prune --storage-uploads -n >out 2>err &&
	test "$(grep -c "^GET /models/?.*uploads= 503 .*fault=status503" proxy.log)" = 1 &&
	grep "^GET /models/?.*uploads= 200 .*fault=none" proxy.log &&
	grep "^would abort upload $id of .team/sha256/aa/aa/aaaa" out
'

test_expect_success 'prune --storage-uploads: a 500 on an abort is retried' '
	start_proxy status500 1 DELETE &&
	test_when_finished stop_proxy &&
	git -C work -c model.s3.endpoint="$PROXY_URL" \
		model prune --storage-uploads -v >out 2>err &&
	test "$(grep -c "^DELETE .*uploadId=$id 500 .*fault=status500" proxy.log)" = 1 &&
	grep "^DELETE .*uploadId=$id 204 .*fault=none" proxy.log &&
	grep "^aborted upload $id of .team/sha256/aa/aa/aaaa" out &&
	test_path_is_missing "$S3_DATA/models/._S3rver_uploads/$id"
'

test_done
