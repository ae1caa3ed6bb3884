# lib-models.sh: sourced after test-lib.sh by the scripts that diff, show
# and merge model files. It needs torch (Debian's python3-torch, run with
# /usr/bin/python3) and makes the models of lib-models.py in models/:
#
#	v1          a small network (fc1, fc2, head), torch.save()d (.pt)
#	            and as .safetensors
#	v2          v1 with fc2 fine-tuned (about half its elements)
#	renamed     v1 with head.weight renamed classifier.weight
#	bf16        v1 with fc1.weight in BF16
#	f16, f16b   F16, F64 and I64 tensors, and f16 with them changed
#	ours        v1 with fc1 fine-tuned; theirs: with head fine-tuned
#	merged      what a merge of ours and theirs must give
#	clash       v1 with fc1 fine-tuned differently from ours
#	big1, big2  v1 with a 4 MiB emb.weight; big2 with fc2 tuned and
#	            head.weight renamed classifier.weight (.safetensors only)
#
# models CMD ARGS...: run lib-models.py (make, stats, equal, hashes).
#
# commit_model NAME [TAG]: commit models/NAME.safetensors as m.safetensors,
# and tag the commit TAG when given.

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

models () {
	$PYTHON "$TEST_DIRECTORY/lib-models.py" "$@"
}

mkdir models && models make models ||
BUG "cannot make the test models with torch"

commit_model () {
	cp "models/$1.safetensors" m.safetensors &&
	git add m.safetensors &&
	test_tick &&
	git commit -q -m "$1" &&
	if test -n "$2"
	then
		git tag "$2"
	fi
}
