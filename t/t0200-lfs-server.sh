#!/bin/sh

test_description='the LFS test server (t/lfs/lfs-server.py) against the real git-lfs client'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lfs.sh"

lfs_require_git_lfs
start_lfs

PREFIX=/r.git/info/lfs
ENDPOINT=$LFS_URL$PREFIX

# batch OPERATION OID SIZE [CURL-ARGS...]: POST one object's batch
# request with the account; the answer goes to batch.out.
batch () {
	batch_op_=$1 batch_oid_=$2 batch_size_=$3
	shift 3
	printf '{"operation":"%s","objects":[{"oid":"%s","size":%s}]}' \
		"$batch_op_" "$batch_oid_" "$batch_size_" >batch.in &&
	curl -s -o batch.out -w "%{http_code}\n" \
		-u "$LFS_USER:$LFS_PASSWORD" \
		-H "Accept: application/vnd.git-lfs+json" \
		-H "Content-Type: application/vnd.git-lfs+json" \
		--data-binary @batch.in "$@" "$ENDPOINT/objects/batch"
}

# action NAME FIELD: a field of the first object's action in batch.out
# (href, or header for its Authorization value).
action () {
	python3 -c '
import json, sys
a = json.load(open("batch.out"))["objects"][0]["actions"][sys.argv[1]]
print(a["header"]["Authorization"] if sys.argv[2] == "header" else a[sys.argv[2]])
' "$1" "$2"
}

test_expect_success 'setup: a git-lfs repository, a bare remote, the credentials' '
	git lfs install >/dev/null &&
	lfs_credentials &&
	git init -q --bare r.git &&
	git init -q work &&
	(
		cd work &&
		git lfs track "*.bin" >/dev/null &&
		test-tool genrandom a 300000 >a.bin &&
		echo small >b.bin &&
		git add .gitattributes a.bin b.bin &&
		git commit -q -m lfs &&
		git remote add origin ../r.git &&
		git config lfs.url "$ENDPOINT"
	)
'

test_expect_success 'git lfs push uploads through the batch API, with credentials from the helper' '
	(cd work && git push -q origin HEAD:refs/heads/main) &&
	lfs_log_wait 1 POST 401 "$PREFIX/objects/batch\$" &&
	lfs_log_wait 1 POST 200 "$PREFIX/objects/batch\$" &&
	lfs_log_wait 2 PUT 200 "$PREFIX/objects/[0-9a-f]+\$" &&
	lfs_log_wait 2 POST 200 "$PREFIX/objects/[0-9a-f]+/verify\$" &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER upload:2\$" "$LFS_LOG" &&
	test_cmp work/a.bin "$(lfs_object_path $PREFIX $(oid_of work/a.bin))" &&
	test_cmp work/b.bin "$(lfs_object_path $PREFIX $(oid_of work/b.bin))"
'

test_expect_success 'a second push sends nothing: the server has the objects' '
	(cd work && git lfs push --all origin) &&
	lfs_log_wait 2 POST 200 "$PREFIX/objects/batch\$" &&
	test $(lfs_log_count PUT 200) = 2
'

test_expect_success 'git lfs pull downloads them back' '
	GIT_LFS_SKIP_SMUDGE=1 git clone -q r.git clone &&
	(
		cd clone &&
		git config lfs.url "$ENDPOINT" &&
		git lfs pull
	) &&
	test_cmp work/a.bin clone/a.bin &&
	test_cmp work/b.bin clone/b.bin &&
	lfs_log_wait 2 GET 200 "$PREFIX/objects/[0-9a-f]+\$"
'

test_expect_success 'a clone smudges through the server' '
	git -c lfs.url="$ENDPOINT" clone -q r.git clone2 &&
	test_cmp work/a.bin clone2/a.bin
'

test_expect_success 'hrefs expire: git-lfs asks for a new one and gets the object' '
	rm -rf clone/.git/lfs/objects clone/a.bin clone/b.bin &&
	lfs_config "{\"stale_hrefs\": 1, \"expiry\": \"at\"}" &&
	test_when_finished "lfs_config {}" &&
	before=$(lfs_log_count POST 200 "$PREFIX/objects/batch\$") &&
	(cd clone && git lfs pull) &&
	test_cmp work/a.bin clone/a.bin &&
	test_cmp work/b.bin clone/b.bin &&
	test $(lfs_log_count GET 403) = 1 &&
	test $(lfs_log_count POST 200 "$PREFIX/objects/batch\$") = $((before + 2))
'

test_expect_success 'a per-object error reaches git-lfs' '
	rm -rf clone/.git/lfs/objects &&
	lfs_config "{\"object_errors\": {\"$(oid_of work/b.bin)\": 410}}" &&
	test_when_finished "lfs_config {}" &&
	(cd clone && test_must_fail git lfs fetch 2>../err) &&
	grep "$(oid_of work/b.bin)" err &&
	grep "410" err
'

test_expect_success 'an object the server lacks: error 404 in the batch' '
	oid=$(echo absent | sha256sum | cut -d" " -f1) &&
	test $(batch download $oid 7) = 200 &&
	python3 -c "
import json
o = json.load(open(\"batch.out\"))[\"objects\"][0]
assert o[\"error\"][\"code\"] == 404 and \"actions\" not in o, o
"
'

test_expect_success 'a malformed oid or size: error 422 in the batch' '
	test $(batch download 1234 7) = 200 &&
	grep "\"code\": 422" batch.out &&
	test $(batch upload $(oid_of work/a.bin) -1) = 200 &&
	grep "\"code\": 422" batch.out
'

test_expect_success 'an upload of an object the server has: no actions' '
	test $(batch upload $(oid_of work/a.bin) 300000) = 200 &&
	! grep actions batch.out
'

test_expect_success 'batches: no credentials 401, a wrong password 403' '
	printf "{\"operation\":\"download\",\"objects\":[]}" >empty.json &&
	curl -s -o out -D headers -w "%{http_code}\n" \
		-H "Accept: application/vnd.git-lfs+json" \
		-H "Content-Type: application/vnd.git-lfs+json" \
		--data-binary @empty.json "$ENDPOINT/objects/batch" >code &&
	echo 401 >expect &&
	test_cmp expect code &&
	grep -i "^LFS-Authenticate: Basic" headers &&
	test $(batch download $(oid_of work/a.bin) 300000 -u "$LFS_USER:wrong") = 403
'

test_expect_success 'batches: the wrong media type 406, more than 100 objects 413' '
	curl -s -o out -w "%{http_code}\n" -u "$LFS_USER:$LFS_PASSWORD" \
		-H "Accept: application/json" \
		-H "Content-Type: application/vnd.git-lfs+json" \
		--data-binary @empty.json "$ENDPOINT/objects/batch" >code &&
	echo 406 >expect &&
	test_cmp expect code &&
	python3 -c "
import json
print(json.dumps({\"operation\": \"download\", \"objects\":
	[{\"oid\": \"%064x\" % i, \"size\": 1} for i in range(101)]}))
" >big.json &&
	curl -s -o out -w "%{http_code}\n" -u "$LFS_USER:$LFS_PASSWORD" \
		-H "Accept: application/vnd.git-lfs+json" \
		-H "Content-Type: application/vnd.git-lfs+json" \
		--data-binary @big.json "$ENDPOINT/objects/batch" >code &&
	echo 413 >expect &&
	test_cmp expect code
'

test_expect_success 'an upload whose bytes are not the oid is refused and not stored' '
	echo "the real bytes" >real &&
	oid=$(oid_of real) &&
	test $(batch upload $oid 15) = 200 &&
	href=$(action upload href) &&
	auth=$(action upload header) &&
	echo "other bytes !!" >other &&
	curl -s -o out -w "%{http_code}\n" -H "Authorization: $auth" \
		-T other "$href" >code &&
	echo 422 >expect &&
	test_cmp expect code &&
	test_path_is_missing "$(lfs_object_path $PREFIX $oid)" &&
	curl -s -o out -w "%{http_code}\n" -H "Authorization: $auth" \
		-T real "$href" >code &&
	echo 200 >expect &&
	test_cmp expect code &&
	test_cmp real "$(lfs_object_path $PREFIX $oid)"
'

test_expect_success 'object requests need the action token, for that object' '
	oid=$(oid_of work/a.bin) &&
	test $(batch download $oid 300000) = 200 &&
	href=$(action download href) &&
	curl -s -o out -w "%{http_code}\n" "$href" >code &&
	echo 401 >expect &&
	test_cmp expect code &&
	other=$(oid_of real) &&
	curl -s -o out -w "%{http_code}\n" \
		-H "Authorization: $(action download header)" \
		"${href%$oid}$other" >code &&
	echo 403 >expect &&
	test_cmp expect code
'

test_expect_success 'downloads resume with Range' '
	oid=$(oid_of work/a.bin) &&
	test $(batch download $oid 300000) = 200 &&
	curl -s -o tail -w "%{http_code}\n" -r 100000- \
		-H "Authorization: $(action download header)" \
		"$(action download href)" >code &&
	echo 206 >expect &&
	test_cmp expect code &&
	tail -c 200000 work/a.bin >expect &&
	test_cmp expect tail
'

test_expect_success 'anonymous downloads when the repository is public' '
	lfs_config "{\"anonymous_download\": true}" &&
	test_when_finished "lfs_config {}" &&
	curl -s -o out -w "%{http_code}\n" \
		-H "Accept: application/vnd.git-lfs+json" \
		-H "Content-Type: application/vnd.git-lfs+json" \
		--data-binary @empty.json "$ENDPOINT/objects/batch" >code &&
	echo 200 >expect &&
	test_cmp expect code
'

test_expect_success 'nothing in the repositories holds the password' '
	! grep -r "$LFS_PASSWORD" work/.git/config clone/.git/config r.git
'

test_done
