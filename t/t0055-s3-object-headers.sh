#!/bin/sh

test_description='S3 integrity checked by S3, and the headers buckets require

The proxy in front of s3rver checks x-amz-checksum-sha256 against the body
(s3rver ignores it) and refuses any x-amz-* header left out of the
signature.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 models

# b64 OID: the SHA-256 in hex as base64.
b64 () {
	printf "%s" "$1" | xxd -r -p | base64
}

# content_type KEY: the Content-Type s3rver stored for the object.
content_type () {
	curl -s -I "$S3_DIRECT_ENDPOINT/models/$1" |
	sed -n "s/^[Cc]ontent-[Tt]ype: \(.*\)$/\1/p" | tr -d "\r"
}

test_expect_success 'setup' '
	git config --global model.compression none &&
	s3_use_keys &&
	s3_setup_work s3://models/team "$S3_ENDPOINT" &&
	test-tool genrandom a 300k >work/a.pth &&
	git -C work add . &&
	git -C work commit -q -m a
'

test_expect_success 'a single PUT carries x-amz-checksum-sha256 and the object type' '
	GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" git -C work push -q origin main &&
	oid=$(oid_of work/a.pth) &&
	grep "=> Send header: x-amz-checksum-sha256: $(b64 $oid)" trace &&
	grep " PUT /models/team/sha256/.* 200 sig=ok body=ok$" "$S3_PROXY_LOG" &&
	test "$(content_type $(s3_key team $oid))" = application/octet-stream
'

test_expect_success 'the server refuses a body whose checksum is not the header'"'"'s' '
	echo good >good &&
	sha=$(sha256sum <good | cut -d" " -f1) &&
	status=$(s3_curl -o out -w "%{http_code}" -T good \
		-H "x-amz-content-sha256: $sha" \
		-H "x-amz-checksum-sha256: $(b64 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855)" \
		"$S3_ENDPOINT/models/checked") &&
	test "$status" = 400 &&
	grep "<Code>BadDigest</Code>" out &&
	test_path_is_missing "$(s3_object_path models checked)" &&
	status=$(s3_curl -o out -w "%{http_code}" -T good \
		-H "x-amz-content-sha256: $sha" \
		-H "x-amz-checksum-sha256: $(b64 $sha)" \
		"$S3_ENDPOINT/models/checked") &&
	test "$status" = 200
'

test_expect_success 'multipart: ChecksumAlgorithm, each part'"'"'s checksum, the same type' '
	test-tool genrandom big 12m >work/big.pth &&
	git -C work add big.pth &&
	git -C work commit -q -m big &&
	rm -f trace &&
	GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" git -C work \
		-c model.s3.multipartThreshold=5m -c model.s3.partSize=5m \
		push -q origin main &&
	test "$(s3_log_count PUT 200 "partNumber=")" = 3 &&
	grep "=> Send header: x-amz-checksum-algorithm: SHA256" trace &&
	test "$(grep -c "=> Send header: x-amz-checksum-sha256: " trace)" = 3 &&
	head -c 5242880 work/big.pth >part1 &&
	grep "=> Send header: x-amz-checksum-sha256: $(b64 $(sha256sum <part1 | cut -d" " -f1))" trace &&
	oid=$(oid_of work/big.pth) &&
	test_cmp_bin work/big.pth "$(s3_object_path models $(s3_key team $oid))" &&
	test "$(content_type $(s3_key team $oid))" = application/octet-stream
'

test_expect_success 'SSE, storage class and requester-pays headers go out signed' '
	test-tool genrandom c 100k >work/c.pth &&
	test-tool genrandom d 6m >work/d.pth &&
	git -C work add c.pth d.pth &&
	git -C work commit -q -m cd &&
	rm -f trace &&
	GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" git -C work \
		-c model.s3.sse=aws:kms \
		-c model.s3.storageClass=STANDARD_IA \
		-c model.s3.requestPayer=requester \
		-c model.s3.multipartThreshold=5m -c model.s3.partSize=5m \
		push -q origin main &&
	! grep "sig=bad\|sig=missing" "$S3_PROXY_LOG" &&
	for h in "x-amz-server-side-encryption: aws:kms" \
		"x-amz-storage-class: STANDARD_IA"
	do
		# the single PUT and CreateMultipartUpload, not the parts
		test "$(grep -c "=> Send header: $h$" trace)" = 2 || return 1
	done &&
	test "$(grep -c "=> Send header: x-amz-request-payer: requester" trace)" = \
		"$(grep -c "=> Send header: x-amz-content-sha256: " trace)"
'

test_expect_success 'a KMS key id goes out signed, though libcurl before 8.10 orders it wrongly' '
	test-tool genrandom k 100k >work/k.pth &&
	test-tool genrandom l 6m >work/l.pth &&
	git -C work add k.pth l.pth &&
	git -C work commit -q -m kl &&
	key=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab &&
	rm -f trace &&
	GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" git -C work \
		-c model.s3.sse=aws:kms -c model.s3.sseKmsKeyId=$key \
		-c model.s3.multipartThreshold=5m -c model.s3.partSize=5m \
		push -q origin main &&
	! grep "sig=bad\|sig=missing" "$S3_PROXY_LOG" &&
	# the single PUT and CreateMultipartUpload, not the parts
	test "$(grep -c "=> Send header: x-amz-server-side-encryption-aws-kms-key-id: $key$" trace)" = 2 &&
	test "$(grep -c "=> Send header: x-amz-server-side-encryption: aws:kms$" trace)" = 2 &&
	test_cmp_bin work/l.pth "$(s3_object_path models $(s3_key team $(oid_of work/l.pth)))" &&
	test_must_fail git -C work -c model.s3.sseKmsKeyId=$key \
		model push --all origin 2>err &&
	grep "error: model.s3.sseKmsKeyId needs model.s3.sse aws:kms or aws:kms:dsse" err
'

test_expect_success 'a bucket in another region: the request is sent again there' '
	echo "models eu-west-1" >"$S3_REGIONS" &&
	test_when_finished "rm -f \"\$S3_REGIONS\"" &&
	test-tool genrandom e 100k >work/e.pth &&
	git -C work add e.pth &&
	git -C work commit -q -m e &&
	bad=$(s3_log_count GET 400) &&
	heads=$(s3_log_count HEAD 400) &&
	git -C work push -q origin main 2>err &&
	grep "warning: bucket .models. is in region .eu-west-1., not .us-east-1. (set model.s3.region or AWS_REGION)" err &&
	# the HEAD answer has no body: x-amz-bucket-region said where, and
	# no GET was needed to read why
	test "$(s3_log_count HEAD 400)" = $((heads + 1)) &&
	test "$(s3_log_count GET 400)" = "$bad" &&
	test_cmp_bin work/e.pth "$(s3_object_path models $(s3_key team $(oid_of work/e.pth)))" &&
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	git -C lazy model pull 2>err &&
	test_cmp_bin work/e.pth lazy/e.pth &&
	test_cmp_bin work/big.pth lazy/big.pth &&
	test "$(grep -c "warning: bucket" err)" = 1
'

test_expect_success 'PermanentRedirect: the request is sent again, signed for that region' '
	echo "models ap-south-1 301" >"$S3_REGIONS" &&
	test_when_finished "rm -f \"\$S3_REGIONS\"" &&
	test-tool genrandom r 100k >work/r.pth &&
	git -C work add r.pth &&
	git -C work commit -q -m r &&
	moved=$(s3_log_count HEAD 301) &&
	git -C work push -q origin main 2>err &&
	grep "warning: bucket .models. is in region .ap-south-1., not .us-east-1." err &&
	test "$(s3_log_count HEAD 301)" = $((moved + 1)) &&
	test_cmp_bin work/r.pth "$(s3_object_path models $(s3_key team $(oid_of work/r.pth)))" &&
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	moved=$(s3_log_count GET 301) &&
	git -C lazy model pull -I r.pth 2>err &&
	grep "warning: bucket .models. is in region .ap-south-1." err &&
	test "$(s3_log_count GET 301)" = $((moved + 1)) &&
	test_cmp_bin work/r.pth lazy/r.pth
'

test_expect_success 'a wrong object of the right size is not "already there"' '
	oid=$(oid_of work/a.pth) &&
	obj=$(s3_object_path models $(s3_key team $oid)) &&
	# another client stores other bytes of that size under the key, as
	# S3 would with their checksum
	test-tool genrandom not-a 300k >not-a &&
	sha=$(sha256sum <not-a | cut -d" " -f1) &&
	status=$(s3_curl -o out -w "%{http_code}" -T not-a \
		-H "x-amz-content-sha256: $sha" \
		-H "x-amz-checksum-sha256: $(b64 $sha)" \
		"$S3_ENDPOINT/models/$(s3_key team $oid)") &&
	test "$status" = 200 &&
	test_cmp_bin not-a "$obj" &&
	git init -q --bare third.git &&
	git -C work remote add third ../third.git &&
	puts=$(s3_log_count PUT 200) &&
	GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" git -C work push third main 2>err &&
	grep "=> Send header: x-amz-checksum-mode: ENABLED" trace &&
	test "$(s3_log_count PUT 200)" = $((puts + 1)) &&
	test_cmp_bin work/a.pth "$obj"
'

# put_other KEY FILE: another client stores FILE under KEY, with its
# checksum, as S3 would keep it.
put_other () {
	sha=$(sha256sum <"$2" | cut -d" " -f1) &&
	status=$(s3_curl -o out -w "%{http_code}" -T "$2" \
		-H "x-amz-content-sha256: $sha" \
		-H "x-amz-checksum-sha256: $(b64 $sha)" \
		"$S3_ENDPOINT/models/$1") &&
	test "$status" = 200
}

test_expect_success 'fsck --remote names what storage holds wrong, and what to run' '
	a=$(oid_of work/a.pth) &&
	c=$(oid_of work/c.pth) &&
	test-tool genrandom not-a 300k >not-a &&
	put_other $(s3_key team $a) not-a &&
	test-tool genrandom short-c 50k >short-c &&
	put_other $(s3_key team $c) short-c &&
	test_expect_code 1 git -C work model fsck --remote >out 2>err &&
	grep "^wrong object $a for HEAD:a.pth in storage .s3://models/team.: it has another checksum (run .git model push --all. to upload it again)$" out &&
	grep "^wrong object $c for HEAD:c.pth in storage .s3://models/team.: it has another size (run .git model push --all. to upload it again)$" out &&
	test_line_count = 2 out &&
	# a clone without the weights: another clone must push them
	rm -rf bare.git &&
	git clone -q --bare remote.git bare.git &&
	git -C bare.git config model.storage s3://models/team &&
	test_expect_code 1 git -C bare.git model fsck --remote >out &&
	grep "^wrong object $a for HEAD:a.pth in storage .s3://models/team.: it has another checksum (run .git model push --all. in a clone that has it)$" out &&
	test_line_count = 2 out &&
	git -C work model push --all origin &&
	git -C work model fsck --remote >out &&
	test_must_be_empty out &&
	git -C bare.git model fsck --remote >out &&
	test_must_be_empty out
'

test_expect_success 'SIGINT during a multipart push aborts the open upload' '
	test-tool genrandom huge 300m >work/huge.pth &&
	git -C work add huge.pth &&
	git -C work commit -q -m huge &&
	huge=$(oid_of work/huge.pth) &&
	git -C work config model.s3.multipartThreshold 5m &&
	git -C work config model.s3.partSize 5m &&
	git -C work config model.concurrency 1 &&
	test_when_finished "git -C work config --unset model.concurrency" &&
	{
		(
			cd work &&
			exec git-model push --all origin 2>../err
		) &
	} &&
	pid=$! &&
	# hashing 300 MiB may come first: wait up to 60 s for two parts
	i=0 &&
	while test "$(s3_log_count PUT 200 "$huge[?]partNumber=")" -lt 2
	do
		test $i -lt 600 || return 1
		sleep 0.1
		i=$((i + 1))
	done &&
	kill -INT $pid &&
	{ wait $pid; code=$?; } &&
	test $code != 0 &&
	grep "error: interrupted by signal 2; the multipart uploads started were aborted" err &&
	test "$(s3_log_count DELETE 204 "uploadId=")" = 1 &&
	test "$(s3_log_count POST 200 "uploads=$")" = "$(($(s3_log_count POST 200 "uploadId=") + 1))" &&
	test -z "$(find "$S3_DATA/models" -path "*uploads/*" -type d)" &&
	test "$(grep -c "^error" err)" = 2
'

test_expect_success 'SIGTERM while CreateMultipartUpload is in flight: that upload is aborted too' '
	# the proxy holds the answer to CreateMultipartUpload for 3 s after
	# s3rver has created the upload (S3_DELAYS, lib-s3.sh)
	echo "POST uploads=\$ 3000" >"$S3_DELAYS" &&
	test_when_finished "rm -f \"\$S3_DELAYS\"" &&
	test-tool genrandom held 12m >work/held.pth &&
	git -C work add held.pth &&
	git -C work commit -q -m held &&
	held=$(oid_of work/held.pth) &&
	{
		(
			cd work &&
			exec git-model push --all origin 2>../err
		) &
	} &&
	pid=$! &&
	i=0 &&
	while test -z "$(find "$S3_DATA/models" -path "*uploads/*" -type d)"
	do
		test $i -lt 300 || return 1
		sleep 0.1
		i=$((i + 1))
	done &&
	kill -TERM $pid &&
	{ wait $pid; code=$?; } &&
	test $code != 0 &&
	grep "error: interrupted by signal 15; the multipart uploads started were aborted" err &&
	test "$(s3_log_count POST 200 "$held[?]uploads=$")" = 1 &&
	test "$(s3_log_count DELETE 204 "$held[?]uploadId=")" = 1 &&
	test "$(s3_log_count PUT 200 "$held[?]partNumber=")" = 0 &&
	test -z "$(find "$S3_DATA/models" -path "*uploads/*" -type d)" &&
	test "$(grep -c "^error" err)" = 2
'

test_expect_success 'bad values are refused before any request' '
	n=$(wc -l <"$S3_PROXY_LOG") &&
	test_must_fail git -C work -c model.s3.sse=DES model push --all origin 2>err &&
	grep "bad value .DES. for model.s3.sse" err &&
	test_must_fail git -C work -c model.s3.storageClass=cold model push --all origin 2>err &&
	grep "bad value .cold. for model.s3.storageClass" err &&
	test_must_fail git -C work -c model.s3.requestPayer=me model push --all origin 2>err &&
	grep "bad value .me. for model.s3.requestPayer (requester)" err &&
	test "$(wc -l <"$S3_PROXY_LOG")" = "$n"
'

test_done
