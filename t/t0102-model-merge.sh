#!/bin/sh

test_description='the merge driver: tensors of two fine-tunes, or a clean conflict'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

test_expect_success 'setup: v1, and branches that tune fc1, head, fc1 again' '
	git model install --local &&
	git model track "*.safetensors" &&
	git add .gitattributes &&
	commit_model v1 &&
	git tag v1 &&
	git checkout -q -b theirs v1 &&
	commit_model theirs &&
	git checkout -q -b clash v1 &&
	commit_model clash &&
	git checkout -q -b ours v1 &&
	commit_model ours
'

test_expect_success 'different layers changed: the tensors are merged' '
	git checkout -q -b merged ours &&
	git merge -m merge theirs 2>err &&
	grep "merged the tensors of .m.safetensors.: 2 changed in ours, 2 in theirs; the result is a new file, sha256:" err &&
	models equal m.safetensors models/merged.safetensors &&
	git cat-file -p HEAD:m.safetensors >pointer &&
	git model pointer --check pointer &&
	test "$(sed -n "s/^oid sha256://p" pointer)" = \
		"$(oid_of models/merged.safetensors)" &&
	git status --porcelain --untracked-files=no >status &&
	test_must_be_empty status
'

test_expect_success 'the merged file is the canonical layout, byte for byte' '
	test_cmp_bin models/merged.safetensors m.safetensors &&
	test_path_is_file "$(obj .git/model/objects $(oid_of m.safetensors))"
'

test_expect_success 'the same tensor changed on both sides: a conflict, ours kept' '
	git checkout -q -b conflict ours &&
	test_must_fail git merge -m merge clash 2>err &&
	grep "CONFLICT (model): .m.safetensors. changed on both sides (tensors changed on both: fc1.bias, fc1.weight)" err &&
	grep "git model diff HEAD MERGE_HEAD -- m.safetensors" err &&
	git ls-files -u m.safetensors >stages &&
	test_line_count = 3 stages &&
	! grep "<<<<<<<" m.safetensors &&
	test_cmp_bin models/ours.safetensors m.safetensors &&
	git show :2:m.safetensors >pointer &&
	git model pointer --check pointer
'

test_expect_success 'checkout --theirs and --ours work as for any file' '
	git checkout --theirs -- m.safetensors &&
	test_cmp_bin models/clash.safetensors m.safetensors &&
	git checkout --ours -- m.safetensors &&
	test_cmp_bin models/ours.safetensors m.safetensors &&
	git add m.safetensors &&
	git commit -q -m "merge: ours" &&
	git model show HEAD:m.safetensors >out &&
	grep "^format: safetensors$" out &&
	git merge --abort 2>/dev/null; git reset -q --hard ours
'

test_expect_success 'model.merge = conflict: no tensor merge' '
	git checkout -q -b no-tensor-merge ours &&
	test_must_fail git -c model.merge=conflict merge -m merge theirs 2>err &&
	grep "CONFLICT (model): .m.safetensors. changed on both sides (model.merge is .conflict.)" err &&
	test_cmp_bin models/ours.safetensors m.safetensors &&
	git reset -q --hard ours
'

test_expect_success 'weights not local: a conflict that says so' '
	git checkout -q -b not-local ours &&
	oid=$(oid_of models/theirs.safetensors) &&
	mv "$(obj .git/model/objects $oid)" theirs.object &&
	test_must_fail git merge -m merge theirs 2>err &&
	grep "CONFLICT (model): .m.safetensors. changed on both sides (the weights of theirs are not in the local store)" err &&
	git show :2:m.safetensors >pointer &&
	git model pointer --check pointer &&
	mv theirs.object "$(obj .git/model/objects $oid)" &&
	git reset -q --hard ours
'

test_expect_success 'the driver alone: one side changed, that side is taken' '
	git cat-file -p v1:m.safetensors >base &&
	git cat-file -p ours:m.safetensors >ours &&
	git cat-file -p theirs:m.safetensors >theirs &&
	cp ours a &&
	git model merge-driver base a base m.safetensors &&
	test_cmp ours a &&
	cp base a &&
	git model merge-driver base a theirs m.safetensors &&
	test_cmp theirs a
'

test_expect_success 'the driver alone: a side that is no pointer conflicts' '
	echo "<<<<<<< text" >a &&
	cp a a.orig &&
	test_expect_code 1 git model merge-driver base a theirs m.safetensors 2>err &&
	grep "one side is not a git-model pointer" err &&
	test_cmp a.orig a &&
	test_expect_code 129 git model merge-driver base a theirs
'

test_expect_success 'a path that starts with a dash is a path, not an option' '
	git checkout -q -b dash-base v1 &&
	cp models/v1.safetensors ./-m.safetensors &&
	git add -- -m.safetensors &&
	git commit -q -m "dash v1" &&
	git checkout -q -b dash-theirs &&
	cp models/theirs.safetensors ./-m.safetensors &&
	git commit -q -a -m "dash theirs" &&
	git checkout -q -b dash-ours dash-base &&
	cp models/ours.safetensors ./-m.safetensors &&
	git commit -q -a -m "dash ours" &&
	git merge -m merge dash-theirs 2>err &&
	grep "merged the tensors of .-m.safetensors." err &&
	models equal ./-m.safetensors models/merged.safetensors
'

test_done
