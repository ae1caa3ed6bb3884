#!/bin/sh

test_description='model.compression: its default, storage of both forms, .gitmodel

With nothing set, a push stores each object compressed (<object>.gmz) in
file://, HTTP and S3 storage. Storage that holds objects raw (pushed
before compression, or with model.compression none) gets only new
objects compressed, and is read both ways: a clone with the default
reads raw and compressed objects, and one that sets none reads the
compressed ones and pushes raw beside them. A committed .gitmodel may set
model.compression, never model.compression.level, and the user'"'"'s own
git config wins over it. A compressed upload, or a part of one, that
HTTP or S3 storage refuses once is sent again, compressed.'

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

# form_in DIR FILE: the forms of FILE's object that the storage directory
# DIR holds: raw, gmz, both or none.
form_in () {
	o=$(obj "$1" $(oid_of "$2")) &&
	if test -f "$o" && test -f "$o.gmz"
	then
		echo both
	elif test -f "$o"
	then
		echo raw
	elif test -f "$o.gmz"
	then
		echo gmz
	else
		echo none
	fi
}

test_expect_success 'nothing set: file://, HTTP and S3 storage get <object>.gmz' '
	git -C work model env >env &&
	grep "^default	model\.compression=auto$" env &&
	commit_weights work default.pth &&
	git -C work push -q origin main &&
	test "$(form_in storage work/default.pth)" = gmz &&
	git -C work -c model.storage="$HTTPD_URL/open/default" \
		model push --all origin &&
	test "$(form_in "$HTTPD_ROOT/open/default" work/default.pth)" = gmz &&
	s3_use_keys &&
	git -C work -c model.storage=s3://models/default \
		-c model.s3.endpoint="$S3_ENDPOINT" model push --all origin &&
	key=$(s3_key default $(oid_of work/default.pth)) &&
	test_path_is_file "$(s3_object_path models $key.gmz)" &&
	test_path_is_missing "$(s3_object_path models $key)"
'

test_expect_success 'storage of raw objects from before gets only new ones compressed' '
	commit_weights work old.pth &&
	for s in "file://$PWD/mixed" "$HTTPD_URL/open/mixed"
	do
		git -C work -c model.compression=none -c model.storage="$s" \
			model push --all origin || return 1
	done &&
	test "$(form_in mixed work/old.pth)" = raw &&
	test "$(form_in "$HTTPD_ROOT/open/mixed" work/old.pth)" = raw &&
	commit_weights work new.pth &&
	for s in "file://$PWD/mixed" "$HTTPD_URL/open/mixed"
	do
		git -C work config model.storage "$s" &&
		test_terminal "git -C work model push --all origin" >err &&
		grep "uploaded 1 object(s) to .*, 2 already there" err || return 1
	done &&
	git -C work config --unset model.storage &&
	git -C work push -q origin main &&
	for d in mixed "$HTTPD_ROOT/open/mixed"
	do
		test "$(form_in "$d" work/default.pth)" = raw &&
		test "$(form_in "$d" work/old.pth)" = raw &&
		test "$(form_in "$d" work/new.pth)" = gmz || return 1
	done
'

test_expect_success 'a clone with the default reads both forms, over file:// and HTTP' '
	git clone -q -c model.storage="file://$PWD/mixed" remote.git fclone &&
	: >"$HTTPD_ACCESS_LOG" &&
	git clone -q -c model.storage="$HTTPD_URL/open/mixed" remote.git hclone &&
	for f in default.pth old.pth new.pth
	do
		test_cmp_bin work/$f fclone/$f &&
		test_cmp_bin work/$f hclone/$f || return 1
	done &&
	httpd_log_wait 1 GET 200 "/open/mixed/sha256/.*[0-9a-f]\.gmz$" &&
	httpd_log_wait 2 GET 200 "/open/mixed/sha256/.*[0-9a-f]$" &&
	git -C hclone model ls-files --size >ls &&
	grep " raw  old\.pth$" ls &&
	grep " gmz  new\.pth$" ls
'

test_expect_success 'with none set, a clone reads compressed objects and pushes raw beside them' '
	git clone -q -c model.compression=none \
		-c model.storage="$HTTPD_URL/open/mixed" remote.git pinned &&
	test_cmp_bin work/new.pth pinned/new.pth &&
	commit_weights pinned pinned.pth &&
	git -C pinned push -q origin HEAD:pinned &&
	test "$(form_in "$HTTPD_ROOT/open/mixed" pinned/pinned.pth)" = raw &&
	git clone -q -b pinned -c model.storage="$HTTPD_URL/open/mixed" \
		remote.git again &&
	for f in default.pth old.pth new.pth pinned.pth
	do
		test_cmp_bin pinned/$f again/$f || return 1
	done
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
