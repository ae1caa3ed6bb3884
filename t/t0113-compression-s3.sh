#!/bin/sh

test_description='compressed objects in S3 storage, through s3rver

With model.compression, push uploads each object as <key>.gmz
(git-model-compression(5)) with the x-amz-checksum-sha256 of the
compressed bytes, in parts when it is big; clone reads raw and compressed
objects, byte-exact; either form counts as already there, and an object
the bucket holds raw is not uploaded again. A hostile compressed object
fails the download with one line and stores nothing.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-s3.sh"

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

start_s3 models

size () {
	wc -c <"$1" | tr -d " "
}

# stored KEY: the s3rver file holding the object under KEY of the bucket
stored () {
	s3_object_path models "$1"
}

test_expect_success 'setup: models in every dtype, model.compression=auto' '
	s3_use_keys &&
	s3_setup_work s3://models/z "$S3_ENDPOINT" &&
	mkdir data &&
	$PYTHON "$TEST_DIRECTORY/lib-compression.py" make data &&
	(
		cd work &&
		git model track "*.safetensors" "*.bin" &&
		git config model.compression auto &&
		cp ../data/* . &&
		git add . &&
		git commit -q -m models
	)
'

test_expect_success 'push uploads <key>.gmz with its own checksum, none raw' '
	test_terminal "git -C work push -q origin main" >err &&
	grep "uploaded 8 object(s)" err &&
	test "$(s3_log_count PUT 200 "\.gmz$")" = 8 &&
	test "$(s3_log_count PUT 200 "/[0-9a-f]{64}$")" = 0 &&
	! grep "sig=bad\|sig=missing\|body=bad" "$S3_PROXY_LOG" &&
	raw=0 gmz=0 &&
	for f in data/*
	do
		k=$(s3_key z $(oid_of $f)) &&
		test_path_is_missing "$(stored $k)" &&
		test-tool zcontainer decode "$(stored $k.gmz)" raw &&
		test_cmp_bin $f raw &&
		raw=$((raw + $(size $f))) &&
		gmz=$((gmz + $(size "$(stored $k.gmz)"))) || return 1
	done &&
	say "pushed to S3: $gmz bytes compressed for $raw raw" &&
	test $((gmz * 11)) -le $((raw * 10))
'

test_expect_success 'the checksum S3 holds is the compressed bytes'"'"' own' '
	k=$(s3_key z $(oid_of data/bf16.safetensors)) &&
	sum=$(openssl dgst -sha256 -binary "$(stored $k.gmz)" | base64) &&
	s3_curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-H "x-amz-checksum-mode: ENABLED" "$S3_ENDPOINT/models/$k.gmz" >head &&
	grep -i "^x-amz-checksum-sha256: $sum" head
'

test_expect_success 'a clone decodes them byte-exact' '
	git clone -q remote.git clone &&
	for f in data/*
	do
		test_cmp_bin $f clone/${f#data/} || return 1
	done &&
	test "$(s3_log_count GET 200 "\.gmz$")" -ge 8
'

test_expect_success 'a second push finds them there: no PUT' '
	puts=$(s3_log_count PUT 200) &&
	test_terminal "git -C work model push --all origin" >err &&
	grep "uploaded 0 object(s) to .*, 8 already there" err &&
	test "$(s3_log_count PUT 200)" = "$puts"
'

test_expect_success 'an object the bucket holds raw is not uploaded again; mixed clone' '
	(
		cd work &&
		test-tool genrandom raw1 100k >raw1.bin &&
		git add raw1.bin &&
		git commit -q -m raw1 &&
		git -c model.compression=none push -q origin main
	) &&
	k=$(s3_key z $(oid_of work/raw1.bin)) &&
	test_cmp_bin work/raw1.bin "$(stored $k)" &&
	puts=$(s3_log_count PUT 200) &&
	test_terminal "git -C work model push --all origin" >err &&
	grep "uploaded 0 object(s) to .*, 9 already there" err &&
	test "$(s3_log_count PUT 200)" = "$puts" &&
	test_path_is_missing "$(stored $k.gmz)" &&
	git clone -q remote.git clone2 &&
	test_cmp_bin work/raw1.bin clone2/raw1.bin &&
	test_cmp_bin data/f32.safetensors clone2/f32.safetensors
'

test_expect_success 'a big compressed object goes up in parts and comes back' '
	test-tool genrandom big 12m >work/big.bin &&
	git -C work add big.bin &&
	git -C work commit -q -m big &&
	test_terminal "git -C work -c model.s3.multipartThreshold=6m \
		-c model.s3.partSize=5m push -q origin main" >err &&
	grep "uploaded 1 object(s)" err &&
	k=$(s3_key z $(oid_of work/big.bin)) &&
	test "$(s3_log_count POST 200 "$k\.gmz\?uploads=$")" = 1 &&
	test "$(s3_log_count PUT 200 "$k\.gmz\?partNumber=")" = 3 &&
	test_path_is_missing "$(stored $k)" &&
	git clone -q remote.git clone3 &&
	test_cmp_bin work/big.bin clone3/big.bin
'

# Under the threshold, a compressed object whose raw form reaches it goes
# in parts too when it is more than one: its bytes leave over about as
# many connections as the raw ones would.
test_expect_success 'a compressed object under the threshold goes in parts when its raw form would' '
	test-tool genrandom half 7m >half &&
	$PYTHON -c "
import sys
r = open(sys.argv[1], \"rb\").read()
out = bytearray(2 * len(r))
out[0::2] = r
open(sys.argv[2], \"wb\").write(out)" half work/half.bin &&
	git -C work add half.bin &&
	git -C work commit -q -m half &&
	git -C work -c model.s3.multipartThreshold=12m -c model.s3.partSize=5m \
		push -q origin main &&
	k=$(s3_key z $(oid_of work/half.bin)) &&
	test "$(size "$(stored $k.gmz)")" -lt 12582912 &&
	test "$(s3_log_count POST 200 "$k\.gmz\?uploads=$")" = 1 &&
	test "$(s3_log_count PUT 200 "$k\.gmz\?partNumber=")" = 2 &&
	test_path_is_missing "$(stored $k)" &&
	git clone -q remote.git clone-half &&
	test_cmp_bin work/half.bin clone-half/half.bin
'

test_expect_success 'a truncated compressed object stores nothing, one line' '
	oid=$(oid_of data/f16.safetensors) &&
	k=$(s3_key z $oid) &&
	head -c 1000 "$(stored $k.gmz)" >trunc &&
	curl -s -f -X PUT --data-binary @trunc "$S3_DIRECT_ENDPOINT/models/$k.gmz" &&
	git clone -q -n remote.git clone4 &&
	test_must_fail git -C clone4 model fetch 2>err &&
	grep "f16.safetensors.*$oid.gmz.: compressed object: truncated in block 1 of 2 (1000 of .*nothing was stored" err &&
	grep -c "compressed object" err >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	test_path_is_missing "$(obj clone4/.git/model/objects $oid)" &&
	test_path_is_missing clone4/.git/model/incomplete/$oid
'

test_expect_success 'ls-files --size: the bytes and form the bucket holds' '
	git -C work model ls-files --size >out &&
	k=$(s3_key z $(oid_of data/f32.safetensors)) &&
	kib=$(awk -v n=$(size "$(stored $k.gmz)") "BEGIN { printf \"%.2f KiB\", n / 1024 }") &&
	grep " $kib gmz  f32.safetensors$" out &&
	grep " 100.00 KiB 100.00 KiB raw  raw1.bin$" out
'

test_done
