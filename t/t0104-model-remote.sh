#!/bin/sh

test_description='textconv and show of weights not in the store: the header by Range requests'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-models.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
start_httpd

# The bytes nginx sent for GETs of objects, and their statuses.
object_gets () {
	awk "\$3 == \"GET\" && \$4 ~ /\/sha256\// { print \$5, \$7 }" "$HTTPD_ACCESS_LOG"
}

test_expect_success 'setup: two versions in HTTP storage, none in the store' '
	git config --global model.compression none &&
	git model install --local &&
	git model track "*.safetensors" &&
	git config -f .gitmodel model.storage "$HTTPD_URL/open/models" &&
	git add .gitattributes .gitmodel &&
	commit_model big1 v1 &&
	commit_model big2 v2 &&
	git init -q --bare remote.git &&
	git remote add origin remote.git &&
	git push -q origin HEAD 2>err &&
	httpd_log_wait 2 PUT 201 &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	: >"$HTTPD_ACCESS_LOG"
'

test_expect_success 'git diff reads only the headers, and says bytes were not compared' '
	GIT_MODEL_SKIP_SMUDGE=1 git diff v1 v2 -- m.safetensors >diff &&
	grep "^ weights not in the local store: header read from storage, bytes not compared (run .git model fetch.)$" diff &&
	grep "^-head.weight F32 \[4, 16\]$" diff &&
	grep "^+classifier.weight F32 \[4, 16\]$" diff &&
	grep "^ emb.weight F32 \[1024, 1024\]$" diff &&
	object_gets >gets &&
	test_line_count = 2 gets &&
	! grep -v "^206 " gets &&
	total=$(awk "{ n += \$2 } END { print n }" gets) &&
	test "$total" -lt 1048576 &&
	test "$(wc -c <models/big1.safetensors)" -gt 4194304 &&
	test_path_is_missing .git/model/objects/sha256
'

test_expect_success 'with smudge on too: git diff and git log -p download no weights' '
	: >"$HTTPD_ACCESS_LOG" &&
	git diff v1 v2 -- m.safetensors >diff &&
	grep "^-head.weight F32 \[4, 16\]$" diff &&
	grep "^+classifier.weight F32 \[4, 16\]$" diff &&
	git log -p -1 v2 -- m.safetensors >log &&
	grep "^+classifier.weight F32 \[4, 16\]$" log &&
	object_gets >gets &&
	! grep -v "^206 " gets &&
	total=$(awk "{ n += \$2 } END { print n }" gets) &&
	test "$total" -lt 4194304 &&
	test_path_is_missing .git/model/objects/sha256
'

test_expect_success 'an external diff is shown the weights, as a checkout has them' '
	cat >ext-diff <<-\EOF &&
	#!/bin/sh
	# path old-file old-hex old-mode new-file new-hex new-mode
	wc -c <"$2" >>"$TRASH_DIRECTORY/ext-sizes"
	EOF
	chmod +x ext-diff &&
	PATH="$PWD:$PATH" GIT_EXTERNAL_DIFF=ext-diff git diff v1 v2 -- m.safetensors &&
	test "$(cat ext-sizes)" = "$(wc -c <models/big1.safetensors)" &&
	rm -rf .git/model/objects
'

test_expect_success 'show reads the header from storage too' '
	git model show v1:m.safetensors >out &&
	grep "^emb.weight F32 \[1024, 1024\]$" out &&
	grep "^(weights not in the local store: header read from storage, no hashes)$" out
'

test_expect_success 'storage that cannot serve: the reason, nothing downloaded' '
	: >"$HTTPD_ACCESS_LOG" &&
	git cat-file -p v1:m.safetensors >pointer &&
	git -c model.storage="$HTTPD_URL/open/nothing" model textconv pointer \
		>out 2>err &&
	grep "^error: cannot read [0-9a-f]* from .$HTTPD_URL/open/nothing.: HTTP 404 Not Found$" err &&
	grep "^weights not in the local store: tensors not read (model: cannot read the first bytes), bytes not compared" out &&
	object_gets >gets &&
	test_line_count = 2 gets &&
	! grep -v "^404 " gets
'

test_done
