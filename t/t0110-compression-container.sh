#!/bin/sh

test_description='the compressed object container on model data

test-tool zcontainer encodes files into the container of
git-model-compression(5) and streams them back through the decoder: round
trips are byte-exact for trained weights in every dtype, hand-written
safetensors with mixed dtypes, random and already compressed bytes; the
codec chosen per block beats plain zstd on floats and is never worse than
raw; hostile containers are refused with one line and decode to nothing.
Ratios are loose lower bounds.'

. "$(dirname "$0")/test-lib.sh"

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi
if ! command -v zstd >/dev/null 2>&1
then
	test_env_require_ci_service zstd "the zstd command is not installed (apt-get install zstd)"
fi

size () {
	wc -c <"$1" | tr -d " "
}

# at_most A NUM DEN B: A <= B * NUM / DEN
at_most () {
	test $(($1 * $3)) -le $(($4 * $2)) || {
		echo >&4 "$1 is more than $4 * $2 / $3"
		return 1
	}
}

test_expect_success 'trained weights and other test data' '
	mkdir data &&
	$PYTHON "$TEST_DIRECTORY/lib-compression.py" make data &&
	ls data >list &&
	test_line_count = 8 list
'

for f in f32.safetensors bf16.safetensors f16.safetensors int8.safetensors \
	mixed.safetensors f32.bin random.bin compressed.bin
do
	test_expect_success "$f: byte-exact round trips, auto and zstd" "
		test-tool zcontainer encode --hint data/$f $f.auto &&
		test-tool zcontainer decode --size=\$(size data/$f) $f.auto $f.back &&
		test_cmp data/$f $f.back &&
		test-tool zcontainer encode --block-size=65536 data/$f $f.small &&
		test-tool zcontainer decode $f.small $f.back2 &&
		test_cmp data/$f $f.back2 &&
		test-tool zcontainer encode --mode=zstd data/$f $f.zstd &&
		test-tool zcontainer decode $f.zstd $f.back3 &&
		test_cmp data/$f $f.back3 &&
		zstd -q -3 -o $f.cli data/$f &&
		say \"$f: raw \$(size data/$f), auto \$(size $f.auto), zstd \$(size $f.zstd), zstd -3 \$(size $f.cli)\"
	"
done

test_expect_success 'never larger than raw plus header and table' '
	for f in random.bin compressed.bin
	do
		raw=$(size data/$f) &&
		blocks=$(test-tool zcontainer table $f.small | wc -l) &&
		test $(size $f.small) -le $((raw + 24 + 16 * blocks)) &&
		test-tool zcontainer table $f.auto >table &&
		! grep -v "^raw none" table || return 1
	done
'

test_expect_success 'floats are stored in byte planes, and beat plain zstd' '
	grep "^zstd planes4" <<-EOF &&
	$(test-tool zcontainer table f32.safetensors.auto)
	EOF
	grep "^zstd planes2" <<-EOF &&
	$(test-tool zcontainer table bf16.safetensors.auto)
	EOF
	for f in f32 bf16 f16
	do
		at_most $(size $f.safetensors.auto) 99 100 \
			$(size $f.safetensors.zstd) || return 1
	done &&
	# BF16 at least x1.4, FP32 at least x1.1
	at_most $(size bf16.safetensors.auto) 10 14 $(size data/bf16.safetensors) &&
	at_most $(size f32.safetensors.auto) 10 11 $(size data/f32.safetensors)
'

test_expect_success 'int8 weights: no worse than plain zstd' '
	at_most $(size int8.safetensors.auto) 1001 1000 $(size int8.safetensors.zstd)
'

test_expect_success 'with no hint: text as small as plain zstd, floats in planes' '
	seq 1 1000000 >text &&
	test-tool zcontainer encode text text.auto &&
	test-tool zcontainer encode --mode=zstd text text.zstd &&
	at_most $(size text.auto) 101 100 $(size text.zstd) &&
	test-tool zcontainer encode data/f32.bin f32.bin.nohint &&
	test-tool zcontainer table f32.bin.nohint >table &&
	grep "^zstd planes4" table
'

test_expect_success 'mixed dtypes: each block chooses for its own tensors' '
	test-tool zcontainer table mixed.safetensors.small >table &&
	grep "^zstd planes4" table &&
	grep "^zstd planes2" table &&
	grep "^zstd none" table
'

test_expect_success 'a truncated container decodes to nothing' '
	head -c 1000 f32.safetensors.small >cut &&
	test_must_fail test-tool zcontainer decode cut out 2>err &&
	test_path_is_missing out &&
	test_path_is_missing out.tmp &&
	grep "^error: compressed object: truncated in block" err &&
	test_line_count = 1 err
'

test_expect_success 'a container with a byte too many decodes to nothing' '
	cat f32.safetensors.auto >long &&
	printf x >>long &&
	test_must_fail test-tool zcontainer decode long out 2>err &&
	test_path_is_missing out &&
	grep "bytes after its last block" err
'

test_expect_success 'a raw size other than the pointer says decodes to nothing' '
	test_must_fail test-tool zcontainer decode --size=1 f32.safetensors.auto out 2>err &&
	test_path_is_missing out &&
	grep "were expected" err
'

test_expect_success 'a block table that overlaps decodes to nothing' '
	# block 0 claims one stored byte more, reaching into block 1
	$PYTHON - f32.safetensors.small overlap <<-\EOF &&
	import struct, sys
	b = bytearray(open(sys.argv[1], "rb").read())
	s, = struct.unpack_from("<I", b, 24 + 8)
	struct.pack_into("<I", b, 24 + 8, s + 1)
	open(sys.argv[2], "wb").write(b)
	EOF
	test_must_fail test-tool zcontainer decode overlap out 2>err &&
	test_path_is_missing out &&
	grep "block 0: zstd frame is not exactly its" err &&
	test_line_count = 1 err
'

test_expect_success 'a zstd bomb claiming a small raw size decodes to nothing' '
	# 16 MiB of zeros in one frame, its header and the table saying 1000
	$PYTHON - bomb <<-\EOF &&
	import struct, subprocess, sys
	open("zeros", "wb").write(bytes(16 << 20))
	z = subprocess.run(["zstd", "-q", "-c", "zeros"],
	                   stdout=subprocess.PIPE, check=True).stdout
	z = bytearray(z)
	fhd = z[4]
	assert fhd >> 6 == 2            # a 4-byte frame content size
	off = 5 + (0 if fhd & 0x20 else 1) + [0, 1, 2, 4][fhd & 3]
	struct.pack_into("<I", z, off, 1000)
	hdr = b"GMZC" + bytes([1, 0, 0, 0]) + struct.pack("<QII", 1000, 1, 0)
	ent = bytes([1, 0, 0, 0]) + struct.pack("<III", 1000, len(z), 0)
	open(sys.argv[1], "wb").write(hdr + ent + z)
	EOF
	test $(size bomb) -lt 1000 &&
	test_must_fail test-tool zcontainer decode --size=1000 bomb out 2>err &&
	test_path_is_missing out &&
	grep "block 0: zstd: " err
'

test_done
