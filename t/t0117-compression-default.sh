#!/bin/sh

test_description='model.compression from .gitmodel

A committed .gitmodel may set model.compression, never
model.compression.level, and the user'"'"'s own git config wins over it.'

. "$(dirname "$0")/test-lib.sh"

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

test_done
