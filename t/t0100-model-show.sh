#!/bin/sh

test_description='show and git diff name the tensors of model files'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

commit_both () {
	cp "models/$1.safetensors" m.safetensors &&
	cp "models/$1.pt" m.pt &&
	git add m.safetensors m.pt &&
	test_tick &&
	git commit -q -m "$1" &&
	git tag "$1"
}

# The tensor lines of a diff: "-name" and "+name", sorted.
changed_tensors () {
	sed -n -e "/^[-+][-+][-+] /d" \
		-e "s/^\([-+]\)\([^ ]*\) [A-Z0-9_]* \[.*/\1\2/p" |
	sort
}

test_expect_success 'setup: v1, v2, renamed and bf16 committed' '
	git model install --local &&
	git model track "*.safetensors" "*.pt" &&
	git add .gitattributes &&
	commit_both v1 &&
	commit_both v2 &&
	commit_both renamed &&
	commit_both bf16 &&
	git cat-file -p v1:m.safetensors >pointer &&
	grep "^oid sha256:" pointer
'

test_expect_success 'install defines the diff and merge drivers' '
	test "$(git config diff.model.textconv)" = "git-model textconv" &&
	test "$(git config merge.model.driver)" = \
		"git-model merge-driver -- %O %A %B %P"
'

test_expect_success 'show: format, counts, bytes per dtype, one line a tensor' '
	git model show v1:m.safetensors >out &&
	cat >expect <<-\EOF &&
	v1:m.safetensors
	format: safetensors
	tensors: 6
	parameters: 484
	bytes F32: 1936 (1.89 KiB)
	EOF
	models hashes models/v1.safetensors >>expect &&
	test_cmp expect out
'

test_expect_success 'show: a work tree file, and a dtype change' '
	git model show m.safetensors >out &&
	models hashes models/bf16.safetensors >expect &&
	sed -n "/^fc1.bias /,\$p" out >actual &&
	test_cmp expect actual &&
	grep "^bytes BF16: 256 (256 B)$" out &&
	grep "^bytes F32: 1424 (1.39 KiB)$" out
'

test_expect_success 'show: mixed dtypes hash the bytes of each tensor' '
	cp models/f16.safetensors f16.safetensors &&
	git model show f16.safetensors >out &&
	models hashes models/f16.safetensors >expect &&
	sed -n "/^fc1.bias /,\$p" out >actual &&
	test_cmp expect actual
'

test_expect_success 'git diff names exactly the changed tensors' '
	git diff v1 v2 -- m.safetensors >diff &&
	changed_tensors <diff >actual &&
	test_write_lines +fc2.bias +fc2.weight -fc2.bias -fc2.weight >expect &&
	test_cmp expect actual
'

test_expect_success 'git diff: a renamed tensor is one removed, one added' '
	git diff v2 renamed -- m.safetensors >diff &&
	changed_tensors <diff >actual &&
	test_write_lines +classifier.weight +fc2.bias +fc2.weight \
		-fc2.bias -fc2.weight -head.weight >expect &&
	test_cmp expect actual
'

test_expect_success 'git diff: a dtype change names the dtypes' '
	git diff renamed bf16 -- m.safetensors >diff &&
	grep "^-fc1.weight F32 \[16, 8\] " diff &&
	grep "^+fc1.weight BF16 \[16, 8\] " diff
'

test_expect_success 'git log -p and git show print the tensors too' '
	git log -p -1 v2 -- m.safetensors >log &&
	changed_tensors <log >actual &&
	test_write_lines +fc2.bias +fc2.weight -fc2.bias -fc2.weight >expect &&
	test_cmp expect actual &&
	git show v2 -- m.safetensors >show &&
	changed_tensors <show >actual &&
	test_cmp expect actual
'

test_expect_success 'a torch.save() zip file: its tensors, and git diff names them' '
	git model show v1:m.pt >out &&
	grep "^format: pytorch (zip)$" out &&
	models hashes models/v1.safetensors >expect &&
	sed -n "/^fc1.bias /,\$p" out >actual &&
	test_cmp expect actual &&
	git diff v1 v2 -- m.pt >diff &&
	changed_tensors <diff >actual &&
	test_write_lines +fc2.bias +fc2.weight -fc2.bias -fc2.weight >expect &&
	test_cmp expect actual &&
	git diff renamed bf16 -- m.pt >diff &&
	grep "^+fc1.weight BF16 \[16, 8\] " diff
'

test_expect_success 'git diff of the work tree against the index' '
	cp models/v2.safetensors m.safetensors &&
	git diff -- m.safetensors >diff &&
	changed_tensors <diff >actual &&
	test_write_lines +fc1.weight +fc2.bias +fc2.weight -fc1.weight \
		-fc2.bias -fc2.weight >expect &&
	test_cmp expect actual &&
	git checkout -- m.safetensors
'

test_expect_success 'tensor hashes are cached per object' '
	oid=$(oid_of models/v1.safetensors) &&
	test_path_is_file .git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid &&
	git model show v1:m.safetensors >expect &&
	# bytes that changed under the cache do not show: they are not read
	object=$(obj .git/model/objects $oid) &&
	chmod u+w "$object" &&
	size=$(wc -c <"$object") &&
	dd if=/dev/zero of="$object" bs=1 seek=$((size - 16)) count=16 \
		conv=notrunc 2>/dev/null &&
	git model show v1:m.safetensors >actual &&
	test_cmp expect actual &&
	rm -f .git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid &&
	git model show v1:m.safetensors >actual &&
	! test_cmp expect actual &&
	cp models/v1.safetensors "$object"
'

test_expect_success 'weights not in the store: git diff says so' '
	oid=$(oid_of models/v2.safetensors) &&
	mv "$(obj .git/model/objects $oid)" v2.object &&
	git diff v1 v2 -- m.safetensors >diff &&
	grep "^+weights not in the local store: tensors not read (no model.storage is set and there is no remote .origin.), bytes not compared (run .git model fetch.)$" diff &&
	grep "^+pointer: sha256:$oid (2.30 KiB)" diff &&
	test_must_fail git model show v2:m.safetensors 2>err &&
	grep "^error: the weights of .v2:m.safetensors. (sha256:[0-9a-f]*) are not in the local store, and its header cannot be read from storage: no model.storage is set and there is no remote .origin. (run .git model fetch.)$" err &&
	mv v2.object "$(obj .git/model/objects $oid)"
'

test_expect_success 'a file that is no model: its size and hash' '
	echo "not a model" >notes.safetensors &&
	git add notes.safetensors &&
	git commit -q -m notes &&
	echo "still not a model" >notes.safetensors &&
	git diff -- notes.safetensors >diff &&
	grep "^ not read as a model: " diff &&
	grep "^+sha256: $(oid_of notes.safetensors)" diff &&
	test_must_fail git model show notes.safetensors 2>err &&
	grep "^error: cannot read .notes.safetensors. as a model: " err
'

test_expect_success 'show: bad arguments' '
	test_expect_code 129 git model show &&
	test_expect_code 129 git model show a b &&
	test_must_fail git model show v1:nothing 2>err &&
	grep "is not a file at .v1." err
'

test_expect_success 'torch.onnx.export: show and git diff name its initializers' '
	$PYTHON - <<-\EOF 2>/dev/null &&
	import torch
	torch.manual_seed(1)
	net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
	                          torch.nn.Linear(16, 4))
	torch.onnx.export(net, torch.randn(1, 8), "v1.onnx")
	with torch.no_grad():
	    net[2].bias.add_(1.0)
	torch.onnx.export(net, torch.randn(1, 8), "v2.onnx")
	EOF
	git model track "*.onnx" &&
	git add .gitattributes &&
	cp v1.onnx m.onnx &&
	git add m.onnx &&
	git commit -q -m onnx1 &&
	git tag onnx1 &&
	cp v2.onnx m.onnx &&
	git add m.onnx &&
	git commit -q -m onnx2 &&
	git tag onnx2 &&
	git model show onnx1:m.onnx >out &&
	grep "^format: onnx$" out &&
	grep "^tensors: 4$" out &&
	grep "^0.weight F32 \[16, 8\] [0-9a-f]*$" out &&
	grep "^2.bias F32 \[4\] [0-9a-f]*$" out &&
	git diff onnx1 onnx2 -- m.onnx >diff &&
	changed_tensors <diff >actual &&
	test_write_lines +2.bias -2.bias >expect &&
	test_cmp expect actual &&
	git model diff onnx1 onnx2 >out &&
	grep "^  changed 2.bias F32: max abs 1.000000e+00, mean abs 1.000000e+00, .*4 of 4 elements" out
'

test_expect_success 'uninstall removes the diff and merge drivers' '
	git model uninstall --local &&
	test_must_fail git config diff.model.textconv &&
	test_must_fail git config merge.model.driver
'

test_done
