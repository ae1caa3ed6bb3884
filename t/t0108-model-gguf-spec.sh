#!/bin/sh

test_description='GGUF files written from the specification by an independent writer: show, git diff, git model diff'

. "$(dirname "$0")/test-lib.sh"

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import numpy" 2>/dev/null
then
	test_env_require_ci_service numpy "Debian's python3-numpy is not installed (apt-get install python3-numpy)"
fi

# The tensor lines of show: "name TYPE [dims] sha16".
tensor_lines () {
	grep "^[^ ]* [A-Z0-9_]* \[[0-9, ]*\] [0-9a-f]\{16\}$" | sort
}

test_expect_success 'setup: two versions of a GGUF model' '
	mkdir gguf &&
	$PYTHON "$TEST_DIRECTORY/lib-gguf.py" write gguf &&
	git model install --local &&
	git model track "*.gguf" &&
	git add .gitattributes &&
	cp gguf/v1.gguf m.gguf &&
	git add m.gguf &&
	git commit -q -m v1 &&
	git tag v1 &&
	cp gguf/v2.gguf m.gguf &&
	git add m.gguf &&
	git commit -q -m v2 &&
	git tag v2
'

test_expect_success 'show: every tensor type, shape and hash as the writer has them' '
	git model show v1:m.gguf >out &&
	grep "^format: gguf$" out &&
	grep "^tensors: 7$" out &&
	tensor_lines <out >actual &&
	test_cmp gguf/v1.expect actual &&
	git model show v2:m.gguf >out &&
	tensor_lines <out >actual &&
	test_cmp gguf/v2.expect actual
'

test_expect_success 'show: metadata of each kind' '
	git model show v1:m.gguf >out &&
	cat >expect <<-\EOF &&
	metadata general.architecture=llama
	metadata general.name=tiny
	metadata llama.context_length=2048
	metadata llama.rope.freq_base=10000
	metadata general.file_type=7
	metadata tokenizer.ggml.tokens=[4 string]
	metadata tokenizer.ggml.token_type=[4 i32]
	metadata test.flag=true
	metadata test.i8=-5
	metadata test.u64=1099511627776
	metadata test.f64=0.125
	metadata test.empty=[0 u8]
	EOF
	grep "^metadata " out >actual &&
	test_cmp expect actual &&
	git model show v2:m.gguf >out &&
	grep "^metadata general.alignment=64$" out &&
	grep "^metadata general.name=tiny-tuned$" out
'

test_expect_success 'git add hashed the tensors of both versions' '
	for v in v1 v2
	do
		oid=$(oid_of gguf/$v.gguf) &&
		test_path_is_file .git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid ||
		return 1
	done
'

test_expect_success 'git diff names exactly the changed, added and removed tensors' '
	git diff v1 v2 -- m.gguf >diff &&
	sed -n -e "/^[-+][-+][-+] /d" \
		-e "s/^\([-+]\)\([^ ]*\) [A-Z0-9_]* \[.*/\1\2/p" diff |
		sort >actual &&
	test_write_lines +blk.0.attn_norm.weight +blk.0.attn_q.weight \
		+output.weight -blk.0.attn_norm.weight -blk.0.attn_q.weight \
		-positions >expect &&
	test_cmp expect actual
'

test_expect_success 'git model diff: numbers for F32, bytes for Q8_0' '
	git model diff v1 v2 >out &&
	grep "^  changed blk.0.attn_q.weight Q8_0" out &&
	grep "^  added   output.weight F64 \[8, 2\]$" out &&
	grep "^  removed positions I32 \[16\]$" out &&
	grep "^4 of 8 tensors changed; 1.1 K of 4.5 K parameters$" out &&
	line=$(grep "^  changed blk.0.attn_norm.weight F32: " out) &&
	read max mean rel n <gguf/norm.stats &&
	echo "$line" | grep "max abs $max, mean abs $mean, rel L2 $rel, $n of 32 elements "
'

test_done
