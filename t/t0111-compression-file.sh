#!/bin/sh

test_description='compressed objects in a file:// storage

With model.storage set, push stores each object compressed
(<object>.gmz, git-model-compression(5)) and clone decodes it into the raw
local store, byte-exact, for weights in every dtype and for bytes that do
not compress. Storage holding raw objects (pushed before, or with
model.compression=none) is read as before, mixed with compressed ones,
and an object storage holds raw is not uploaded again. A hostile
compressed object fails the download with one line and stores nothing.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

size () {
	wc -c <"$1" | tr -d " "
}

test_expect_success 'setup: models in every dtype, random and compressed bytes' '
	git model install &&
	mkdir data &&
	$PYTHON "$TEST_DIRECTORY/lib-compression.py" make data &&
	git init -q --bare remote.git &&
	git init -q work &&
	mkdir storage &&
	git -C work config model.storage "file://$PWD/storage" &&
	git -C work config model.compression auto &&
	(
		cd work &&
		git model track "*.safetensors" "*.bin" &&
		cp ../data/* . &&
		git add . &&
		git commit -q -m models &&
		git remote add origin ../remote.git
	)
'

test_expect_success 'push stores every object compressed, none raw' '
	git -C work push -q origin main 2>err &&
	for f in data/*
	do
		o=$(obj storage $(oid_of $f)) &&
		test_path_is_file "$o.gmz" &&
		test_path_is_missing "$o" || return 1
	done
'

test_expect_success 'weights are smaller in storage, random bytes barely larger' '
	o=$(obj storage $(oid_of data/bf16.safetensors)) &&
	test $(($(size $o.gmz) * 13)) -le $(($(size data/bf16.safetensors) * 10)) &&
	o=$(obj storage $(oid_of data/f32.safetensors)) &&
	test $(($(size $o.gmz) * 11)) -le $(($(size data/f32.safetensors) * 10)) &&
	o=$(obj storage $(oid_of data/random.bin)) &&
	test $(size $o.gmz) -le $(($(size data/random.bin) + 40))
'

test_expect_success 'clone decodes them byte-exact' '
	git clone -q -c model.storage="file://$PWD/storage" remote.git clone &&
	for f in data/*
	do
		test_cmp_bin $f clone/${f#data/} || return 1
	done
'

test_expect_success 'model.compression=none pushes raw; clone reads raw and compressed' '
	(
		cd work &&
		git config model.compression none &&
		test-tool genrandom raw1 100k >raw1.bin &&
		git add raw1.bin &&
		git commit -q -m raw1 &&
		git push -q origin main
	) &&
	o=$(obj storage $(oid_of work/raw1.bin)) &&
	test_path_is_file "$o" &&
	test_path_is_missing "$o.gmz" &&
	git clone -q -c model.storage="file://$PWD/storage" remote.git clone2 &&
	test_cmp_bin work/raw1.bin clone2/raw1.bin &&
	test_cmp_bin data/bf16.safetensors clone2/bf16.safetensors
'

test_expect_success 'an object storage holds raw is not uploaded again compressed' '
	(
		cd work &&
		git config model.compression auto &&
		test_terminal "git model push --all origin" >../err
	) &&
	o=$(obj storage $(oid_of work/raw1.bin)) &&
	test_path_is_missing "$o.gmz" &&
	grep "uploaded 0 object(s) to .file://.*/storage., 9 already there" err
'

test_expect_success 'model.compression=zstd chooses each block as auto does' '
	(
		cd work &&
		git config model.compression zstd &&
		cp ../data/f32.safetensors f32b.safetensors &&
		printf x >>f32b.safetensors &&
		git add f32b.safetensors &&
		git commit -q -m f32b &&
		git push -q origin main
	) &&
	o=$(obj storage $(oid_of work/f32b.safetensors)) &&
	test-tool zcontainer table "$o.gmz" >table &&
	grep "^zstd planes4" table
'

test_expect_success 'a bad model.compression is refused' '
	test_must_fail git -C work -c model.compression=lz4 model push --all origin 2>err &&
	grep "model.compression must be auto, zstd or none, not .lz4." err
'

test_expect_success 'a truncated compressed object stores nothing, one line' '
	o=$(obj storage $(oid_of data/f16.safetensors)) &&
	chmod u+w "$o.gmz" &&
	cp "$o.gmz" good.gmz &&
	head -c 1000 good.gmz >"$o.gmz" &&
	git clone -q -n -c model.storage="file://$PWD/storage" remote.git clone3 &&
	test_must_fail git -C clone3 model fetch 2>err &&
	grep "f16.safetensors.*compressed object: truncated in block 1 of 2 (1000 of .*nothing was stored" err &&
	grep -c "compressed object" err >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	test_path_is_missing "$(obj clone3/.git/model/objects $(oid_of data/f16.safetensors))" &&
	cp good.gmz "$o.gmz"
'

test_expect_success 'a compressed object of other content stores nothing' '
	o=$(obj storage $(oid_of data/f16.safetensors)) &&
	p=$(obj storage $(oid_of data/bf16.safetensors)) &&
	cp "$p.gmz" "$o.gmz" &&
	test_must_fail git -C clone3 model fetch 2>err &&
	grep "f16.safetensors.*nothing was stored" err &&
	test_path_is_missing "$(obj clone3/.git/model/objects $(oid_of data/f16.safetensors))" &&
	cp good.gmz "$o.gmz" &&
	git -C clone3 model fetch &&
	test_cmp_bin data/f16.safetensors "$(obj clone3/.git/model/objects $(oid_of data/f16.safetensors))"
'

test_expect_success 'ls-files --size: the bytes and form a file:// storage holds' '
	git -C work model ls-files --size >out &&
	o=$(obj storage $(oid_of data/f32.safetensors)) &&
	kib=$(awk -v n=$(wc -c <$o.gmz) "BEGIN { printf \"%.2f KiB\", n / 1024 }") &&
	grep " $kib gmz  f32.safetensors$" out &&
	grep " 100.00 KiB 100.00 KiB raw  raw1.bin$" out
'

test_done
