#!/bin/sh

test_description='tensor hashes are made when weights enter the store, so the first diff reads only headers'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

# cache_of FILE: the tensor-hash cache file of FILE's object
cache_of () {
	oid=$(oid_of "$1") &&
	echo ".git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid"
}

# spoil FILE: zero 16 bytes in the middle of FILE's object in the store, so a
# command that reads its tensors' bytes prints other hashes.
spoil () {
	object=$(obj .git/model/objects $(oid_of "$1")) &&
	chmod u+w "$object" &&
	size=$(wc -c <"$object") &&
	dd if=/dev/zero of="$object" bs=1 seek=$((size / 2)) count=16 \
		conv=notrunc 2>/dev/null
}

test_expect_success 'setup' '
	git model install --local &&
	git model track "*.safetensors" "*.bin" &&
	git add .gitattributes &&
	git commit -q -m attributes
'

test_expect_success 'git add hashes the tensors of a small .safetensors' '
	commit_model v1 v1 &&
	test_path_is_file "$(cache_of models/v1.safetensors)" &&
	models hashes models/v1.safetensors >expect &&
	spoil models/v1.safetensors &&
	git model show v1:m.safetensors >out &&
	sed -n "s/^\([^ ]* [A-Z0-9_]* \[.*\]\) \([0-9a-f]\{16\}\)$/\1 \2/p" out |
		sort >actual &&
	test_line_count = 6 actual &&
	test_cmp expect actual
'

test_expect_success 'and of one that spans several of the writer blocks' '
	commit_model big1 big1 &&
	commit_model big2 big2 &&
	test_path_is_file "$(cache_of models/big1.safetensors)" &&
	test_path_is_file "$(cache_of models/big2.safetensors)" &&
	models hashes models/big1.safetensors >expect &&
	spoil models/big1.safetensors &&
	spoil models/big2.safetensors &&
	git model show big1:m.safetensors >out &&
	sed -n "s/^\([^ ]* [A-Z0-9_]* \[.*\]\) \([0-9a-f]\{16\}\)$/\1 \2/p" out |
		sort >actual &&
	test_cmp expect actual &&
	# the first diff compares cached hashes: the spoiled bytes are not read
	git diff big1 big2 -- m.safetensors >diff &&
	grep "^ emb.weight F32 \[1024, 1024\] [0-9a-f]*$" diff
'

test_expect_success 'content that is no model gets no tensor hashes' '
	test-tool genrandom junk 6m >junk.bin &&
	git add junk.bin &&
	test_path_is_missing "$(cache_of junk.bin)"
'

test_expect_success 'a header that does not match the size is not trusted' '
	# the header says 8 more bytes than the file has
	$PYTHON - models/v1.safetensors short.safetensors <<-\EOF &&
	import struct, sys
	data = open(sys.argv[1], "rb").read()
	open(sys.argv[2], "wb").write(data[:-8])
	EOF
	git add short.safetensors &&
	test_path_is_missing "$(cache_of short.safetensors)"
'

test_expect_success 'a download hashes the tensors of what it brings' '
	git config -f .gitmodel model.storage "file://$TRASH_DIRECTORY/storage" &&
	git add .gitmodel &&
	git commit -q -m storage &&
	# the objects the tests above spoiled, whole again
	rm -rf .git/model/objects &&
	git hash-object --path=m.safetensors models/v1.safetensors \
		models/big1.safetensors >/dev/null &&
	git init -q --bare remote.git &&
	git remote add origin remote.git &&
	git model push -q origin big1 &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	git model fetch -q origin big1 &&
	test_path_is_file "$(cache_of models/big1.safetensors)" &&
	models hashes models/big1.safetensors >expect &&
	spoil models/big1.safetensors &&
	git model show big1:m.safetensors >out &&
	sed -n "s/^\([^ ]* [A-Z0-9_]* \[.*\]\) \([0-9a-f]\{16\}\)$/\1 \2/p" out |
		sort >actual &&
	test_cmp expect actual
'

test_done
