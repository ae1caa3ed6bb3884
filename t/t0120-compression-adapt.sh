#!/bin/sh

test_description='model.compression=auto compresses an upload only while compressing outruns uploading

auto compares two rates measured in the push: the bytes compression
takes in per second and the bytes raw uploads send per second. When
uploads are faster, objects go raw; when compression is faster, they go
compressed (<object>.gmz), over file://, HTTP (nginx WebDAV) and S3
(s3rver). GIT_MODEL_TEST_ZC_RATES=<compress>:<upload> stands for both
measures, so that the choice is tested, never a timing. zstd compresses
every object whatever the rates. Either form reads back byte-exact.

Measured, the compression rate comes from a trial that compresses the
first MiB of the objects to push on a thread of its own, not a whole
object; GIT_MODEL_TEST_ZC_TRIAL records the bytes it took.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
. "$TEST_DIRECTORY/lib-fault-proxy.sh"

start_httpd
start_s3 models

# uploads ten times faster than compression, and the other way round
UPLOAD_WINS=100000000:1000000000
COMPRESS_WINS=1000000000:100000000

# push_new NAME RATES [git -c options...]: commit NAME-1..3.pth (random,
# 300k each) in work/ and push them with auto, the rates standing for
# the measured ones
push_new () {
	name=$1 rates=$2 &&
	shift 2 &&
	for i in 1 2 3
	do
		test-tool genrandom "$name-$i" 300k >work/$name-$i.pth &&
		git -C work add $name-$i.pth || return 1
	done &&
	test_tick &&
	git -C work commit -q -m $name &&
	GIT_MODEL_TEST_ZC_RATES=$rates \
		git -C work -c model.compression=auto "$@" push -q origin main
}

# forms_are DIR NAME raw|gmz: every NAME-*.pth is in objects directory DIR
# in that form only
forms_are () {
	for i in 1 2 3
	do
		o=$(obj "$1" $(oid_of work/$2-$i.pth)) &&
		if test "$3" = raw
		then
			test_path_is_file "$o" &&
			test_path_is_missing "$o.gmz"
		else
			test_path_is_file "$o.gmz" &&
			test_path_is_missing "$o"
		fi || return 1
	done
}

# s3_form_is KEY raw|gmz: the bucket holds the object of KEY in that
# form only
s3_form_is () {
	if test "$2" = raw
	then
		test_path_is_file "$(s3_object_path models $1)" &&
		test_path_is_missing "$(s3_object_path models $1.gmz)"
	else
		test_path_is_file "$(s3_object_path models $1.gmz)" &&
		test_path_is_missing "$(s3_object_path models $1)"
	fi
}

# s3_forms_are NAME raw|gmz: the same in s3://models/team
s3_forms_are () {
	for i in 1 2 3
	do
		s3_form_is $(s3_key team $(oid_of work/$1-$i.pth)) $2 ||
		return 1
	done
}

# reads_back NAME [git -c options...]: a clone gets NAME-*.pth byte-exact
reads_back () {
	name=$1 &&
	shift &&
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	git -C lazy "$@" model pull -I "$name-*.pth" &&
	for i in 1 2 3
	do
		test_cmp_bin work/$name-$i.pth lazy/$name-$i.pth || return 1
	done
}

# reads_back_one NAME [git -c options...]: a clone gets NAME.pth
# byte-exact
reads_back_one () {
	name=$1 &&
	shift &&
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	git -C lazy "$@" model pull -I "$name.pth" &&
	test_cmp_bin work/$name.pth lazy/$name.pth
}

test_expect_success 'setup' '
	mkdir storage &&
	test_setup_work "file://$PWD/storage" &&
	git -C work add .gitattributes .gitmodel &&
	git -C work commit -q -m storage &&
	s3_use_keys
'

test_expect_success 'file://: uploads faster than compression: raw' '
	push_new fraw $UPLOAD_WINS &&
	forms_are storage fraw raw &&
	reads_back fraw
'

test_expect_success 'file://: compression faster than uploads: compressed' '
	push_new fgmz $COMPRESS_WINS &&
	forms_are storage fgmz gmz &&
	reads_back fgmz
'

test_expect_success 'HTTP: uploads faster than compression: raw' '
	push_new hraw $UPLOAD_WINS -c model.storage="$HTTPD_URL/open/models" &&
	forms_are "$HTTPD_ROOT/open/models" hraw raw &&
	reads_back hraw -c model.storage="$HTTPD_URL/open/models"
'

test_expect_success 'HTTP: compression faster than uploads: compressed' '
	push_new hgmz $COMPRESS_WINS -c model.storage="$HTTPD_URL/open/models" &&
	forms_are "$HTTPD_ROOT/open/models" hgmz gmz &&
	reads_back hgmz -c model.storage="$HTTPD_URL/open/models"
'

test_expect_success 'S3: uploads faster than compression: raw' '
	push_new sraw $UPLOAD_WINS -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT" &&
	s3_forms_are sraw raw &&
	reads_back sraw -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT"
'

test_expect_success 'S3: compression faster than uploads: compressed' '
	push_new sgmz $COMPRESS_WINS -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT" &&
	s3_forms_are sgmz gmz &&
	reads_back sgmz -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT"
'

test_expect_success 'zstd compresses every object, whatever the rates' '
	for i in 1 2 3
	do
		test-tool genrandom "z-$i" 300k >work/z-$i.pth &&
		git -C work add z-$i.pth || return 1
	done &&
	git -C work commit -q -m z &&
	GIT_MODEL_TEST_ZC_RATES=$UPLOAD_WINS \
		git -C work -c model.compression=zstd push -q origin main &&
	forms_are storage z gmz &&
	reads_back z
'

test_expect_success 'auto, measured: each object in one form, read back' '
	for i in 1 2 3
	do
		test-tool genrandom "m-$i" 2m >work/m-$i.pth &&
		git -C work add m-$i.pth || return 1
	done &&
	git -C work commit -q -m m &&
	git -C work -c model.compression=auto push -q origin main &&
	for i in 1 2 3
	do
		o=$(obj storage $(oid_of work/m-$i.pth)) &&
		if test -f "$o"
		then
			test_path_is_missing "$o.gmz"
		else
			test_path_is_file "$o.gmz"
		fi || return 1
	done &&
	reads_back m
'

# Behind the proxy, uploads go at 1 MiB/s: far slower than compression,
# even under a sanitizer. The first upload measures the link, raw; the
# others go compressed. The meter counts the bytes the link took: at
# most the proxy's receive buffer (64 KiB, which the kernel doubles) and
# what it read at its rate, with room to spare; not the megabytes
# libcurl wrote into the socket's send buffer at the start.
test_expect_success 'HTTP behind a slow uplink: the meter counts what left' '
	FAULT_PROXY_RATE=1048576 start_proxy slowup 1000 &&
	test_when_finished stop_proxy &&
	for i in 1 2 3
	do
		test-tool genrandom "slow-$i" 1m >work/slow-$i.pth &&
		git -C work add slow-$i.pth || return 1
	done &&
	test_tick &&
	git -C work commit -q -m slow &&
	rm -f meter &&
	GIT_MODEL_TEST_ZC_METER="$PWD/meter" git -C work \
		-c model.compression=auto \
		-c model.storage="$PROXY_URL/open/models" push -q origin main &&
	test_file_not_empty meter &&
	cat meter &&
	awk "{ if (\$1 > 262144 + 2 * 1048576 * \$2 / 1000000) bad = 1 }
	     END { exit bad }" meter &&
	for i in 1 2 3
	do
		o=$(obj "$HTTPD_ROOT/open/models" $(oid_of work/slow-$i.pth)) &&
		if test -f "$o"
		then
			test_path_is_missing "$o.gmz" &&
			echo raw
		else
			test_path_is_file "$o.gmz" &&
			echo gmz
		fi || return 1
	done >forms &&
	grep -c raw forms >raw &&
	echo 1 >expect &&
	test_cmp expect raw &&
	grep "^PUT .* fault=slowup" proxy.log &&
	reads_back slow -c model.storage="$HTTPD_URL/open/models"
'

# one_slow_push NAME http|s3: push work/NAME.pth alone through the
# slowup proxy (1 MiB/s) in front of nginx or the S3 server, nothing else
# to upload; $oid is its oid
one_slow_push () {
	if test "$2" = s3
	then
		upstream=${S3_ENDPOINT##*:}
	else
		upstream=$HTTPD_PORT
	fi &&
	FAULT_PROXY_UPSTREAM=$upstream FAULT_PROXY_RATE=1048576 \
		start_proxy slowup 1000 &&
	git -C work add $1.pth &&
	test_tick &&
	git -C work commit -q -m $1 &&
	if test "$2" = s3
	then
		git -C work -c model.compression=auto \
			-c model.storage=s3://models/team \
			-c model.s3.endpoint="$PROXY_URL" push -q origin main
	else
		git -C work -c model.compression=auto \
			-c model.storage="$PROXY_URL/open/models" \
			push -q origin main
	fi &&
	stop_proxy &&
	oid=$(oid_of work/$1.pth)
}

# repeated SEED COUNT: COUNT copies of test-tool genrandom's 64 KiB of
# SEED, on stdout: an object that compresses well as a whole
repeated () {
	test-tool genrandom "$1" 64k >chunk-$1 &&
	for i in $(test_seq $2)
	do
		cat chunk-$1 || return 1
	done
}

# form_is RAW-PATH raw|gmz: the object is there in that form only
form_is () {
	if test "$2" = raw
	then
		test_path_is_file "$1" &&
		test_path_is_missing "$1.gmz"
	else
		test_path_is_file "$1.gmz" &&
		test_path_is_missing "$1"
	fi
}

# Alone, an object's raw upload measures the link, and no later object
# could use what it measured: when compressing the whole object and
# sending it beats sending the rest raw, by the trial's ratio and the
# rates, the raw upload is given up for the compressed one, and storage
# keeps nothing of it.
test_expect_success 'HTTP behind a slow uplink: one object alone goes compressed' '
	test_when_finished stop_proxy &&
	repeated one 64 >work/one.pth &&
	one_slow_push one http &&
	form_is "$(obj "$HTTPD_ROOT/open/models" $oid)" gmz &&
	grep "^PUT .*\.gmz 201 .*fault=slowup" proxy.log &&
	reads_back_one one -c model.storage="$HTTPD_URL/open/models"
'

test_expect_success 'S3 behind a slow uplink: one object alone goes compressed' '
	test_when_finished stop_proxy &&
	repeated one 64 >work/one-s3.pth &&
	echo s3 >>work/one-s3.pth &&
	one_slow_push one-s3 s3 &&
	key=$(s3_key team $oid) &&
	s3_form_is $key gmz &&
	reads_back_one one-s3 -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT"
'

# An object sent in parts (S3 from model.s3.multipartThreshold) is given
# up the same way: its parts stop and its upload is aborted, so that
# storage keeps none of them.
test_expect_success 'S3 behind a slow uplink: one object in parts goes compressed' '
	test_when_finished stop_proxy &&
	test_when_finished "git -C work config --unset model.s3.multipartThreshold" &&
	git -C work config model.s3.multipartThreshold 1m &&
	repeated part-1 64 >work/part-1.pth &&
	one_slow_push part-1 s3 &&
	key=$(s3_key team $oid) &&
	grep "^POST /models/$key?uploads= 200 " proxy.log &&
	id=$(sed -n "s/^DELETE .*uploadId=\([0-9a-f]*\) 204 .*/\1/p" proxy.log) &&
	test -n "$id" &&
	test_path_is_missing "$S3_DATA/models/._S3rver_uploads/$id" &&
	s3_form_is $key gmz &&
	reads_back_one part-1 -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT"
'

# A push remembers the upload rate it measured (link-rates in the model
# directory, keyed by a hash of the storage URL): the next push chooses
# its first object's form by it, and sends no raw byte of it.
test_expect_success 'S3 behind a slow uplink: the next push remembers the rate' '
	test_when_finished stop_proxy &&
	test_when_finished "git -C work config --unset model.s3.multipartThreshold" &&
	git -C work config model.s3.multipartThreshold 1m &&
	test-tool genrandom part-2 2m >work/part-2.pth &&
	repeated part-3 32 >work/part-3.pth &&
	rm -f work/.git/model/link-rates &&
	one_slow_push part-2 s3 &&
	key=$(s3_key team $oid) &&
	s3_form_is $key raw &&
	test_line_count = 1 work/.git/model/link-rates &&
	! grep -e models -e 127.0.0.1 work/.git/model/link-rates &&
	one_slow_push part-3 s3 &&
	key=$(s3_key team $oid) &&
	! grep -e "^PUT /models/$key?" -e "^POST /models/$key?" proxy.log &&
	s3_form_is $key gmz &&
	reads_back_one part-3 -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT"
'

test_expect_success 'HTTP behind a slow uplink: one incompressible object stays raw' '
	test_when_finished stop_proxy &&
	test-tool genrandom lone 1m >work/lone.pth &&
	one_slow_push lone http &&
	form_is "$(obj "$HTTPD_ROOT/open/models" $oid)" raw &&
	! grep "^PUT .*\.gmz " proxy.log
'

# trial_push NAME SIZE WHERE...: push three new files of SIZE with auto,
# measured, the trial's bytes in ./trial
trial_push () {
	name=$1 size=$2 &&
	shift 2 &&
	for i in 1 2 3
	do
		test-tool genrandom "$name-$i" $size >work/$name-$i.pth &&
		git -C work add $name-$i.pth || return 1
	done &&
	test_tick &&
	git -C work commit -q -m $name &&
	rm -f trial &&
	GIT_MODEL_TEST_ZC_TRIAL="$PWD/trial" \
		git -C work -c model.compression=auto "$@" push -q origin main
}

test_expect_success 'HTTP: the trial compresses the first MiB, no object whole' '
	trial_push ht 2m -c model.storage="$HTTPD_URL/open/models" &&
	echo 1048576 >expect &&
	test_cmp expect trial &&
	reads_back ht -c model.storage="$HTTPD_URL/open/models"
'

test_expect_success 'file://: the trial takes several small objects up to a MiB' '
	trial_push ft 300k &&
	echo 921600 >expect &&
	test_cmp expect trial &&
	reads_back ft
'

test_expect_success 'S3: the trial compresses the first MiB' '
	trial_push st 2m -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT" &&
	echo 1048576 >expect &&
	test_cmp expect trial
'

test_expect_success 'no trial with zstd, none, rates stood for, or nothing to send' '
	for c in zstd none
	do
		trial_push nt-$c 300k -c model.compression=$c &&
		test_path_is_missing trial || return 1
	done &&
	GIT_MODEL_TEST_ZC_RATES=$UPLOAD_WINS trial_push nt-forced 300k &&
	test_path_is_missing trial &&
	git -C work -c model.compression=none model push --all origin &&
	GIT_MODEL_TEST_ZC_TRIAL="$PWD/trial" git -C work \
		-c model.compression=auto model push --all origin &&
	test_path_is_missing trial
'

test_done
