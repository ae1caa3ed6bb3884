#!/bin/sh

test_description='git model diff: the numbers of changed tensors, as torch computes them'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

# The numbers of `git model diff` as "name max mean relL2 fraction".
numbers () {
	sed -n "s/^  changed \([^ ]*\) [^:]*: max abs \([^,]*\), mean abs \([^,]*\), rel L2 \([^,]*\), \([0-9]*\) of \([0-9]*\) elements.*/\1 \2 \3 \4 \5 \6/p" |
	awk "{ printf \"%s %s %s %s %.6e\\n\", \$1, \$2, \$3, \$4, \$5 / \$6 }"
}

# same_numbers EXPECT ACTUAL: the same names, numbers within 1e-5
# relative (torch sums in another order; BF16 and F16 decode exactly).
same_numbers () {
	awk -v tol=1e-5 '
	function bad(a, b) { d = a - b; if (d < 0) d = -d;
		m = a < 0 ? -a : a; return d > tol * m + 1e-12 }
	NR == FNR { want[$1] = $0; next }
	{
		if (!($1 in want)) { print "unexpected: " $0; err = 1; next }
		split(want[$1], w, " ")
		for (i = 2; i <= 5; i++)
			if (bad(w[i], $i)) { print "torch: " want[$1]; print "ours:  " $0; err = 1 }
		delete want[$1]
	}
	END { for (n in want) { print "missing: " want[n]; err = 1 } exit err }
	' "$1" "$2"
}

test_expect_success 'setup: versions of a model' '
	git model install --local &&
	git model track "*.safetensors" &&
	git add .gitattributes &&
	commit_model v1 v1 &&
	commit_model v2 v2 &&
	commit_model bf16 bf16 &&
	commit_model f16 f16 &&
	commit_model f16b f16b &&
	commit_model renamed renamed
'

test_expect_success 'a fine-tuned layer: numbers match torch' '
	git model diff v1 v2 >out &&
	numbers <out >actual &&
	test_line_count = 2 actual &&
	models stats models/v1.safetensors models/v2.safetensors >expect &&
	same_numbers expect actual &&
	grep "^m.safetensors (safetensors)$" out &&
	grep "^  4 unchanged$" out &&
	grep "^2 of 6 tensors changed; 272 of 484 parameters$" out
'

test_expect_success 'F32 to BF16: decoded in C as torch decodes it' '
	git model diff v2 bf16 >out &&
	grep "^  changed fc1.weight F32 -> BF16: " out &&
	numbers <out >actual &&
	models stats models/v2.safetensors models/bf16.safetensors >expect &&
	same_numbers expect actual
'

test_expect_success 'F16, F64 and I64 tensors' '
	git model diff f16 f16b >out &&
	numbers <out >actual &&
	test_line_count = 3 actual &&
	models stats models/f16.safetensors models/f16b.safetensors >expect &&
	same_numbers expect actual
'

test_expect_success 'added, removed and shape changes are named' '
	git model diff v1 renamed >out &&
	grep "^  added   classifier.weight F32 \[4, 16\]$" out &&
	grep "^  removed head.weight F32 \[4, 16\]$" out &&
	grep "^2 of 7 tensors changed; 128 of 548 parameters$" out
'

test_expect_success 'one revision: against the work tree; none: the index' '
	cp models/v2.safetensors m.safetensors &&
	git model diff v1 >out &&
	grep "^  changed fc2.weight F32: " out &&
	git model diff >out2 &&
	grep "^  removed classifier.weight " out2 &&
	git checkout -- m.safetensors
'

test_expect_success 'paths limit the files' '
	git model diff v1 v2 -- other >out &&
	test_must_be_empty out &&
	mkdir sub &&
	(cd sub && git model diff v1 v2 -- ../m.safetensors) >out &&
	grep "^m.safetensors (safetensors)$" out
'

test_expect_success 'the same version: nothing to say' '
	git model diff v1 v1 >out &&
	test_must_be_empty out &&
	git model diff >out &&
	test_must_be_empty out &&
	git model diff HEAD >out &&
	test_must_be_empty out
'

test_expect_success 'weights not in the store: not compared, and said' '
	oid=$(oid_of models/v2.safetensors) &&
	mv "$(obj .git/model/objects $oid)" v2.object &&
	git model diff v1 v2 >out &&
	grep "^m.safetensors: not compared: the weights of the new version are not in the local store (run .git model fetch.)$" out &&
	grep "; 1 file not compared$" out &&
	mv v2.object "$(obj .git/model/objects $oid)"
'

test_expect_success 'bad arguments' '
	test_expect_code 129 git model diff --bogus &&
	test_expect_code 129 git model diff a b c &&
	test_must_fail git model diff nosuchrev 2>err &&
	grep "nosuchrev" err
'

test_done
