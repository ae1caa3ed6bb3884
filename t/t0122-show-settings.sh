#!/bin/sh

test_description='show and textconv read the download settings as fetch does

Of a pointer whose weights are not local, show and textconv read the
header from storage, asking for the compressed form first when
model.compression is zstd. They read model.compression with the parser
push and fetch use, so an invalid value fails them with the same one
line, before any request is made.'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a pointer whose weights are not local' '
	git model install --local &&
	git model track "*.bin" &&
	git add .gitattributes &&
	test-tool genrandom w 4096 >w.bin &&
	git add w.bin &&
	git commit -q -m w &&
	git cat-file -p HEAD:w.bin >pointer &&
	# the discard port: nothing listens there
	git config model.storage http://127.0.0.1:9/models &&
	git init -q --bare remote.git &&
	git remote add origin remote.git &&
	rm -rf .git/model/objects
'

for setting in model.compression=bogus model.compression.level=20
do
	test_expect_success "show fails on $setting as push does" '
		test_must_fail git -c $setting model push 2>expect &&
		test_line_count = 1 expect &&
		grep "^error: model\.compression" expect &&
		test_must_fail git -c $setting model show HEAD:w.bin \
			>out 2>err &&
		test_cmp expect err &&
		test_must_be_empty out
	'

	test_expect_success "textconv fails on $setting as push does" '
		test_must_fail git -c $setting model push 2>expect &&
		test_must_fail git -c $setting model textconv pointer \
			>out 2>err &&
		test_cmp expect err &&
		test_must_be_empty out
	'
done

test_expect_success 'a valid model.compression goes on to storage' '
	test_must_fail git -c model.compression=zstd model show HEAD:w.bin \
		2>err &&
	grep "127\.0\.0\.1:9" err &&
	! grep "model\.compression" err &&
	git -c model.compression=zstd model textconv pointer >out &&
	grep "^weights not in the local store: tensors not read" out
'

test_done
