#!/bin/sh

test_description='show, textconv and the merge driver refuse hostile model files'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

# st FILE LEN JSON: a .safetensors file whose header says LEN bytes
st () {
	$PYTHON -c '
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<Q", int(sys.argv[2])) + sys.argv[3].encode())
' "$@"
}

test_expect_success 'setup: hostile files' '
	st truncated.safetensors 1000 "{\"a\":{\"dtype\":\"F32\"" &&
	st huge.safetensors 9223372036854775808 "{}" &&
	$PYTHON -c "
import struct
j = b\"[\" * 100000 + b\"]\" * 100000
open(\"nested.safetensors\", \"wb\").write(struct.pack(\"<Q\", len(j)) + j)
" &&
	st outside.safetensors 80 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}     " &&
	$PYTHON -c "
import os, pickle, torch, zipfile
class Evil:
    def __reduce__(self):
        return (os.system, (\"touch pwned\",))
torch.save({\"w\": torch.zeros(2)}, \"evil.pt\")
data = pickle.dumps({\"w\": Evil()}, protocol=2)
with zipfile.ZipFile(\"evil.pt\") as z:
    names = z.namelist()
    files = {n: z.read(n) for n in names}
pkl = [n for n in names if n.endswith(\"data.pkl\")][0]
files[pkl] = data
with zipfile.ZipFile(\"evil.pt\", \"w\") as z:
    for n in names:
        z.writestr(n, files[n])
"
'

for f in truncated huge nested outside
do
	test_expect_success "show refuses $f.safetensors clearly" "
		test_expect_code 128 git model show $f.safetensors 2>err &&
		grep \"^error: cannot read .$f.safetensors. as a model: .\" err
	"

	test_expect_success "textconv of $f.safetensors says it is no model" "
		git model textconv $f.safetensors >out &&
		grep \"^not read as a model: .\" out &&
		grep \"^sha256: \$(oid_of $f.safetensors)\$\" out
	"
done

test_expect_success 'a pickle that calls os.system: refused, nothing run' '
	test_expect_code 128 git model show evil.pt 2>err &&
	grep "^error: cannot read .evil.pt. as a model: " err &&
	git model textconv evil.pt >out &&
	grep "^not read as a model: " out &&
	test_path_is_missing pwned
'

# names NAME...: a .safetensors file with one U8 tensor per NAME
names () {
	$PYTHON -c '
import json, struct, sys
h = {n: {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
     for i, n in enumerate(sys.argv[1:])}
j = json.dumps(h).encode()
j += b" " * (-len(j) % 8)
sys.stdout.buffer.write(struct.pack("<Q", len(j)) + j + b"x" * len(h))
' "$@"
}

test_expect_success 'odd tensor names are quoted, one line each' '
	names "say \"hi\"" "caf$(printf "\303\251")" "back\\slash" >names.safetensors &&
	git model show names.safetensors >out &&
	sed -n "/^\"/s/ [0-9a-f]*\$//p" out >actual &&
	cat >expect <<-\EOF &&
	"back\\slash" U8 [1]
	"caf\303\251" U8 [1]
	"say \"hi\"" U8 [1]
	EOF
	test_cmp expect actual
'

test_expect_success 'a name with a newline is refused' '
	names "$(printf "a\nb")" >newline.safetensors &&
	test_expect_code 128 git model show newline.safetensors 2>err &&
	grep "^error: cannot read .newline.safetensors. as a model: " err
'

test_expect_success 'onnx: subgraphs nested beyond the limit are refused' '
	$PYTHON - <<-\EOF &&
	def varint(v):
	    out = b""
	    while v >= 0x80:
	        out += bytes([v & 0x7f | 0x80])
	        v >>= 7
	    return out + bytes([v])
	def field(n, b):
	    return varint(n << 3 | 2) + varint(len(b)) + b
	# an initializer "w", in If nodes nested `depth` deep
	def model(depth):
	    g = field(5, b"\x08\x01\x10\x01" + field(8, b"w") + field(9, b"\0" * 4))
	    for _ in range(depth):
	        attr = field(1, b"then_branch") + field(6, g)
	        g = field(1, field(4, b"If") + field(5, attr))
	    return b"\x08\x07" + field(7, g)
	open("deep.onnx", "wb").write(model(16))
	open("bomb.onnx", "wb").write(model(2000))
	EOF
	git model show deep.onnx >out &&
	grep "^If#0/then_branch/.*/w F32 \[1\] " out &&
	test_expect_code 128 git model show bomb.onnx 2>err &&
	grep "^error: cannot read .bomb.onnx. as a model: onnx: subgraphs nested more than 16 deep$" err
'

test_done
