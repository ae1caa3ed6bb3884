#!/bin/sh

test_description='torch.save views (transposed, sliced, strided): hashed and diffed by their elements, not their storage'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"

# The tensor lines of show, sorted: "name dtype [dims] sha16".
tensor_lines () {
	sed -n "s/^\([^ ]* [A-Z0-9_]* \[.*\]\) \([0-9a-f]\{16\}\)$/\1 \2/p" |
	sort
}

test_expect_success 'setup: views of one storage, before and after one element changed' '
	$PYTHON - <<-\EOF &&
	import torch
	for name, changed in (("v1", None), ("v2", (3, 0))):
	    w = torch.arange(64, dtype=torch.float32).reshape(8, 8)
	    if changed:
	        w[changed] = 100.0
	    torch.save({"w": w, "wT": w.t(), "col": w[:, 1], "rows": w[2:5],
	                "every2": w[::2, ::2]}, f"{name}.pt")
	EOF
	git model install --local &&
	git model track "*.pt" &&
	git add .gitattributes &&
	for v in v1 v2
	do
		cp $v.pt m.pt &&
		git add m.pt &&
		git commit -q -m $v &&
		git tag $v || return 1
	done
'

test_expect_success 'show: a view hashes as its elements in order, as torch has them' '
	git model show v1:m.pt >out &&
	tensor_lines <out >actual &&
	test_line_count = 5 actual &&
	models hashes v1.pt >expect &&
	test_cmp expect actual &&
	# again, with the hashes cached
	git model show v1:m.pt >out2 &&
	test_cmp out out2
'

test_expect_success 'git diff: a view is changed only when its elements are' '
	git diff v1 v2 -- m.pt >diff &&
	sed -n -e "/^[-+][-+][-+] /d" \
		-e "s/^\([-+]\)\([^ ]*\) [A-Z0-9_]* \[.*/\1\2/p" diff |
		sort >actual &&
	test_write_lines +rows +w +wT -rows -w -wT >expect &&
	test_cmp expect actual &&
	git model diff v1 v2 >out &&
	grep "^  changed wT F32 (bytes)$" out &&
	grep "^  2 unchanged$" out
'

test_done
