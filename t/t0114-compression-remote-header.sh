#!/bin/sh

test_description='textconv and show of weights storage holds only compressed

git diff and git model show of a model not in the local store read its
header by Range requests (t0104). When storage holds only <object>.gmz
(git-model-compression(5)), they read the container header and table,
then only the first block, which the encoder ends where the model header
ends: under 1 MiB for a model of 4 MiB. A damaged container is refused
with one line, and nothing enters the store.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-models.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
start_httpd

# The status and bytes nginx sent for GETs of objects.
object_gets () {
	awk "\$3 == \"GET\" && \$4 ~ /\/sha256\// { print \$5, \$7, \$4 }" "$HTTPD_ACCESS_LOG"
}

test_expect_success 'setup: two versions pushed compressed, none in the store' '
	git model install --local &&
	git model track "*.safetensors" &&
	git config model.storage "$HTTPD_URL/open/zmodels" &&
	git config model.compression auto &&
	git add .gitattributes &&
	commit_model v1 v1 &&
	commit_model renamed v2 &&
	git init -q --bare remote.git &&
	git remote add origin remote.git &&
	git push -q origin HEAD 2>err &&
	test -z "$(find "$HTTPD_ROOT/open/zmodels" -type f ! -name "*.gmz")" &&
	test "$(find "$HTTPD_ROOT/open/zmodels" -name "*.gmz" | wc -l)" = 2 &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	: >"$HTTPD_ACCESS_LOG"
'

test_expect_success 'git diff reads the headers from the compressed form' '
	GIT_MODEL_SKIP_SMUDGE=1 git -c model.compression=zstd \
		diff v1 v2 -- m.safetensors >diff &&
	grep "^ weights not in the local store: header read from storage, bytes not compared (run .git model fetch.)$" diff &&
	grep "^-head.weight F32 \[4, 16\]$" diff &&
	grep "^+classifier.weight F32 \[4, 16\]$" diff &&
	object_gets >gets &&
	# model.compression is zstd: the .gmz is asked for first
	! grep -v "^206 .*\.gmz$" gets &&
	total=$(awk "{ n += \$2 } END { print n }" gets) &&
	test "$total" -lt 1048576 &&
	test_path_is_missing .git/model/objects/sha256
'

for c in none auto
do
	test_expect_success "with model.compression=$c: the raw object first, then the .gmz" '
		: >"$HTTPD_ACCESS_LOG" &&
		GIT_MODEL_SKIP_SMUDGE=1 git -c model.compression=$c \
			diff v1 v2 -- m.safetensors >diff &&
		grep "^+classifier.weight F32 \[4, 16\]$" diff &&
		object_gets >gets &&
		grep "^404 .*/[0-9a-f]*$" gets >raw &&
		test_line_count = 2 raw &&
		! grep -v "^206 .*\.gmz$" gets | grep -v "^404 .*/[0-9a-f]*$" &&
		test_path_is_missing .git/model/objects/sha256
	'
done

test_expect_success 'show reads the header from the compressed form too' '
	git model show v1:m.safetensors >out &&
	grep "^head.weight F32 \[4, 16\]$" out &&
	grep "^(weights not in the local store: header read from storage, no hashes)$" out
'

test_expect_success 'a model of 4 MiB: the header is its own block, under 1 MiB read' '
	git config model.compression zstd &&
	commit_model big1 v3 &&
	commit_model big2 v4 &&
	git push -q origin HEAD &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	: >"$HTTPD_ACCESS_LOG" &&
	GIT_MODEL_SKIP_SMUDGE=1 git diff v3 v4 -- m.safetensors >diff &&
	grep "^-head.weight F32 \[4, 16\]$" diff &&
	grep "^+classifier.weight F32 \[4, 16\]$" diff &&
	grep "^ emb.weight F32 \[1024, 1024\]$" diff &&
	object_gets >gets &&
	grep "^206 .*\.gmz$" gets &&
	total=$(awk "{ n += \$2 } END { print n }" gets) &&
	test "$total" -lt 1048576 &&
	test "$(wc -c <models/big1.safetensors)" -gt 4194304 &&
	test_path_is_missing .git/model/objects/sha256
'

test_expect_success 'a damaged container: one line, nothing stored' '
	oid=$(git cat-file -p v1:m.safetensors | sed -n "s/^oid sha256://p") &&
	gmz=$(find "$HTTPD_ROOT/open/zmodels" -name "$oid.gmz") &&
	cp "$gmz" saved.gmz &&
	test_when_finished "cp saved.gmz \"$gmz\"" &&
	printf "XXXX" | dd of="$gmz" conv=notrunc 2>/dev/null &&
	test_must_fail git model show v1:m.safetensors >out 2>err &&
	grep "^error: the compressed form of ${oid%${oid#??????????}} in .*is damaged: compressed object: bad magic" err &&
	test_path_is_missing .git/model/objects/sha256
'

test_done
