#!/bin/sh

test_description='git model prune --storage-uploads: multipart uploads left open in S3

s3rver answers ListMultipartUploads with 501 NotImplemented: the test
harness lists the uploads itself, in s3rver-preload.js on 127.0.0.1, as
S3 does (sorted by key then start, pages of at most $S3RVER_MAX_UPLOADS,
here 2, so that every listing takes several pages). An upload is made
old behind the client'"'"'s back, by setting the time of the "key" file
s3rver keeps for it. Where the real AWS CLI is installed, it lists the
same uploads against the same server.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

S3RVER_MAX_UPLOADS=2
export S3RVER_MAX_UPLOADS
start_s3 models

command -v aws >/dev/null 2>&1 && test_set_prereq AWSCLI

# open_upload KEY [AGE]: CreateMultipartUpload for KEY, behind
# git-model's back; its start set AGE ago ("2 days", say) if given.
# Prints the upload id.
open_upload () {
	s3_curl -X POST -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/$1?uploads=" >create.out &&
	id=$(sed -n "s/.*<UploadId>\([0-9a-f]*\)<\/UploadId>.*/\1/p" create.out) &&
	test -n "$id" &&
	if test -n "$2"
	then
		touch -d "$2 ago" "$S3_DATA/models/._S3rver_uploads/$id/key"
	fi &&
	echo "$id"
}

# open_uploads: the uploads s3rver keeps, "KEY ID" lines, sorted.
open_uploads () {
	for d in "$S3_DATA"/models/._S3rver_uploads/*/
	do
		test -f "$d/key" || continue
		printf "%s %s\n" "$(cat "$d/key")" "$(basename "$d")"
	done | sort
}

# aws_uploads [PREFIX]: the AWS CLI's list of the uploads, "KEY ID"
# lines, sorted.
aws_uploads () {
	aws s3api list-multipart-uploads --endpoint-url "$S3_ENDPOINT" \
		--bucket models ${1:+--prefix "$1"} \
		--query "Uploads[].[Key,UploadId]" --output text >aws.out &&
	grep -v "^None$" aws.out | tr "\t" " " | sort
}

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
A=team/sha256/aa/aa/aaaa
B=team/sha256/bb/bb/bbbb

test_expect_success 'setup: uploads begun two days ago, one now, others elsewhere' '
	git config --global model.compression none &&
	s3_use_keys &&
	s3_setup_work s3://models/team "$S3_ENDPOINT" &&
	a1=$(open_upload $A "2 days") &&
	a2=$(open_upload $A "3 days") &&
	a3=$(open_upload $A "25 hours") &&
	b1=$(open_upload $B "2 days") &&
	young=$(open_upload $B) &&
	notes=$(open_upload team/notes.txt "2 days") &&
	other=$(open_upload other/sha256/cc/cc/cccc "2 days") &&
	test "$(open_uploads | wc -l)" = 7
'

test_expect_success 'the harness lists them as S3 does, a page at a time' '
	s3_curl -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$S3_ENDPOINT/models/?prefix=team%2Fsha256%2F&uploads=" >page1 &&
	grep "<IsTruncated>true</IsTruncated>" page1 &&
	test "$(grep -o "<Upload>" page1 | wc -l)" = 2 &&
	# the oldest of A first
	grep "<Key>$A</Key><UploadId>$a2</UploadId>" page1 &&
	grep "<NextKeyMarker>$A</NextKeyMarker>" page1 &&
	grep "<NextUploadIdMarker>$a1</NextUploadIdMarker>" page1
'

test_expect_success AWSCLI 'the AWS CLI sees the same uploads' '
	open_uploads | grep "^team/sha256/" >expect &&
	aws_uploads team/sha256/ >actual &&
	test_cmp expect actual
'

test_expect_success 'prune --storage-uploads -n: lists those begun 24 h ago or more, aborts none' '
	n=$(wc -l <"$S3_PROXY_LOG") &&
	git -C work model prune --storage-uploads -n >out 2>err &&
	for id in $a2 $a1 $a3 $b1
	do
		grep "^would abort upload $id of .team/sha256/" out ||
		return 1
	done &&
	test_line_count = 4 out &&
	grep "^git-model: would abort 4 multipart upload(s) in .s3://models/team., kept 1 younger than 86400 s$" err &&
	test "$(open_uploads | wc -l)" = 7 &&
	test "$(s3_log_count DELETE 204)" = 0 &&
	# three pages of two: the listing follows the markers
	test "$(sed -n "$((n + 1)),\$p" "$S3_PROXY_LOG" | grep -c " GET /models/?.*uploads= 200 ")" = 3
'

test_expect_success 'prune --storage-uploads aborts them; the younger and those elsewhere stay' '
	git -C work model prune --storage-uploads -v >out 2>err &&
	test_line_count = 4 out &&
	grep "^aborted upload $b1 of .$B. (begun ....-..-..T..:..:..Z)$" out &&
	grep "^git-model: aborted 4 multipart upload(s) in .s3://models/team., kept 1 younger than 86400 s$" err &&
	test "$(s3_log_count DELETE 204 "uploadId=")" = 4 &&
	sort >expect <<-EOF &&
	$B $young
	other/sha256/cc/cc/cccc $other
	team/notes.txt $notes
	EOF
	open_uploads >actual &&
	test_cmp expect actual
'

test_expect_success AWSCLI 'the AWS CLI sees nothing of them after the prune' '
	echo "$B $young" >expect &&
	aws_uploads team/sha256/ >actual &&
	test_cmp expect actual &&
	aws_uploads >actual &&
	test_line_count = 3 actual
'

test_expect_success '--older-than: an age in s, m, h, d or w, or seconds' '
	git -C work model prune --storage-uploads --older-than 1h 2>err &&
	test "$(open_uploads | wc -l)" = 3 &&
	touch -d "2 hours ago" "$S3_DATA/models/._S3rver_uploads/$young/key" &&
	git -C work model prune --storage-uploads --older-than 10800 2>err &&
	test "$(open_uploads | wc -l)" = 3 &&
	git -C work model prune --storage-uploads --older-than 90m 2>err &&
	grep "^git-model: aborted 1 multipart upload(s)" err &&
	test "$(open_uploads | wc -l)" = 2 &&
	for bad in soon 1y -1h 1hh ""
	do
		test_expect_code 129 git -C work model prune --storage-uploads \
			--older-than "$bad" 2>err &&
		grep "older-than wants an age such as 24h, 7d or 3600" err ||
		return 1
	done &&
	test_expect_code 129 git -C work model prune --older-than 1h 2>err &&
	grep "older-than goes with --storage-uploads" err
'

test_expect_success 'a push killed during its parts: prune aborts what it left' '
	test-tool genrandom big 12m >work/big.pth &&
	git -C work add big.pth &&
	git -C work commit -q -m big &&
	big=$(oid_of work/big.pth) &&
	git -C work config model.s3.multipartThreshold 5m &&
	git -C work config model.s3.partSize 5m &&
	# parts answered only after 30 s: the push is in them when killed
	echo "PUT partNumber= 30000" >"$S3_DELAYS" &&
	{
		(
			cd work &&
			exec git-model push --all origin 2>../err
		) &
	} &&
	pid=$! &&
	i=0 &&
	until test -n "$(open_uploads | grep "$big")"
	do
		test $i -lt 300 || return 1
		sleep 0.1
		i=$((i + 1))
	done &&
	kill -KILL $pid &&
	{ wait $pid; test $? = 137; } &&
	rm -f "$S3_DELAYS" &&
	left=$(open_uploads | sed -n "s/.*$big \([0-9a-f]*\)$/\1/p") &&
	test -n "$left" &&
	git -C work model prune --storage-uploads --older-than 0 -v >out 2>err &&
	grep "^aborted upload $left of .team/sha256/../../$big. " out &&
	test -z "$(open_uploads | grep "$big")" &&
	git -C work model push -q --all origin &&
	test_cmp_bin work/big.pth "$(s3_object_path models $(s3_key team $big))"
'

test_expect_success 'nothing to abort says nothing off a terminal' '
	git -C work model prune --storage-uploads >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'

test_expect_success 'S3 refusing the listing: its error, exit 1, nothing aborted' '
	deletes=$(s3_log_count DELETE 204) &&
	test_expect_code 1 env AWS_SECRET_ACCESS_KEY=wrong-secret \
		git -C work model prune --storage-uploads --older-than 0 2>err &&
	grep "^error: cannot list the multipart uploads in .s3://models/team.: 403 SignatureDoesNotMatch" err &&
	! grep wrong-secret err &&
	test "$(s3_log_count DELETE 204)" = "$deletes"
'

test_expect_success 'a storage without multipart uploads: an error saying so' '
	mkdir dirstore &&
	test_expect_code 1 git -C work -c model.storage="file://$PWD/dirstore" \
		model prune --storage-uploads 2>err &&
	grep "^error: storage .file://.*/dirstore. keeps no multipart uploads (--storage-uploads is for s3:// storage)$" err
'

test_done
