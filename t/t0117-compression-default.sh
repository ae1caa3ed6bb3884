#!/bin/sh

test_description='model.compression from .gitmodel, and uploads sent again

A committed .gitmodel may set model.compression, never
model.compression.level, and the user'"'"'s own git config wins over it. A
compressed upload, or a part of one, that HTTP or S3 storage refuses once
is sent again, compressed.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_httpd
start_s3 models

. "$TEST_DIRECTORY/lib-fault-proxy.sh"

test_expect_success 'setup: file:// storage named in .gitmodel' '
	mkdir storage &&
	test_setup_work "file://$PWD/storage" &&
	git -C work add .gitattributes .gitmodel &&
	git -C work commit -q -m storage
'

test_expect_success '.gitmodel may set model.compression; your git config wins' '
	git -C work config -f .gitmodel model.compression zstd &&
	git -C work add .gitmodel &&
	commit_weights work zstd.pth &&
	git -C work push -q origin main 2>err &&
	! grep "ignoring" err &&
	o=$(obj storage $(oid_of work/zstd.pth)) &&
	test_path_is_file "$o.gmz" &&
	test_path_is_missing "$o" &&
	git -C work model env >env &&
	grep "^\.gitmodel	model\.compression=zstd$" env &&

	git -C work config -f .gitmodel model.compression none &&
	git -C work add .gitmodel &&
	commit_weights work none.pth &&
	git -C work push -q origin main &&
	o=$(obj storage $(oid_of work/none.pth)) &&
	test_path_is_file "$o" &&
	test_path_is_missing "$o.gmz" &&

	git -C work config model.compression zstd &&
	commit_weights work mine.pth &&
	git -C work push -q origin main &&
	o=$(obj storage $(oid_of work/mine.pth)) &&
	test_path_is_file "$o.gmz" &&
	test_path_is_missing "$o" &&
	git -C work model env >env &&
	grep "^local	model\.compression=zstd$" env &&
	git -C work config --unset model.compression &&
	git -C work config -f .gitmodel --unset model.compression &&
	git -C work commit -q -m "compression unset" .gitmodel
'

test_expect_success 'model.compression.level in .gitmodel is ignored, with a warning' '
	git -C work config -f .gitmodel model.compression.level 19 &&
	git -C work add .gitmodel &&
	commit_weights work level.pth &&
	git -C work push -q origin main 2>err &&
	grep "^warning: ignoring .model.compression.level. in .gitmodel: only your own git config may set it" err &&
	git -C work model env >env 2>err &&
	grep "^default	model\.compression\.level=3$" env &&
	git -C work -c model.compression.level=19 model env >env 2>err &&
	grep "^command	model\.compression\.level=19$" env &&
	git -C work config -f .gitmodel --unset model.compression.level &&
	git -C work commit -q -m "level unset" .gitmodel
'

test_expect_success 'a compressed upload refused once with a 500 is sent again' '
	start_proxy status500 1 PUT &&
	test_when_finished stop_proxy &&
	commit_weights work again.pth 300k &&
	git -C work -c model.storage="$PROXY_URL/open/models" \
		-c model.compression=auto push -q origin main 2>err &&
	test "$(grep -c "^PUT .* 500 .*fault=status500" proxy.log)" = 1 &&
	grep "^PUT .*\.gmz 201 .*fault=none" proxy.log &&
	o=$(obj "$HTTPD_ROOT/open/models" $(oid_of work/again.pth)) &&
	test_path_is_file "$o.gmz" &&
	test_path_is_missing "$o" &&
	fresh_clone &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" \
		model pull -I again.pth &&
	test_cmp_bin work/again.pth lazy/again.pth
'

test_expect_success 'S3: a compressed PUT, then a compressed part, refused once are sent again' '
	s3_use_keys &&
	FAULT_PROXY_UPSTREAM=${S3_ENDPOINT##*:} &&
	start_proxy status500 1 PUT &&
	test_when_finished stop_proxy &&
	commit_weights work s3.pth 300k &&
	git -C work -c model.storage=s3://models/team \
		-c model.s3.endpoint="$PROXY_URL" -c model.compression=auto \
		push -q origin main 2>err &&
	stop_proxy &&
	test "$(grep -c "^PUT .*\.gmz 500 .*fault=status500" proxy.log)" = 1 &&
	grep "^PUT .*\.gmz 200 .*fault=none" proxy.log &&

	start_proxy status500 1 PUT &&
	commit_weights work s3big.pth 12m &&
	git -C work -c model.storage=s3://models/team \
		-c model.s3.endpoint="$PROXY_URL" -c model.compression=auto \
		-c model.s3.multipartThreshold=5m -c model.s3.partSize=5m \
		push -q origin main 2>err &&
	test "$(grep -c "^PUT .*\.gmz?partNumber=.* 500 .*fault=status500" proxy.log)" = 1 &&
	test "$(grep -c "^PUT .*\.gmz?partNumber=.* 200 " proxy.log)" = 3 &&
	for f in s3.pth s3big.pth
	do
		key=$(s3_key team $(oid_of work/$f)) &&
		test_path_is_file "$(s3_object_path models $key.gmz)" &&
		test_path_is_missing "$(s3_object_path models $key)" || return 1
	done &&
	fresh_clone &&
	git -C lazy -c model.storage=s3://models/team \
		-c model.s3.endpoint="$S3_ENDPOINT" model pull -I "s3*.pth" &&
	test_cmp_bin work/s3.pth lazy/s3.pth &&
	test_cmp_bin work/s3big.pth lazy/s3big.pth
'

test_done
