#!/bin/sh

test_description='git model prune: only what nothing uses and storage has goes'

. "$(dirname "$0")/test-lib.sh"

SQ="'"

# test-lib.sh dates every commit in 2005: "old" for prune. A recent one:
now () {
	echo "$(date +%s) +0000"
}

# local OID, stored OID: is the object in the local store, in storage?
local_has () {
	test -f "$(obj .git/model/objects $1)"
}

storage_has () {
	test -f "$(obj "$TRASH_DIRECTORY/remote.git/model/objects" $1)"
}

# to_storage OID: put a local object into storage (remote.git's store),
# as a push of some other commit would have
to_storage () {
	dest=$(obj "$TRASH_DIRECTORY/remote.git/model/objects" $1) &&
	mkdir -p "$(dirname "$dest")" &&
	cp "$(obj .git/model/objects $1)" "$dest"
}

# "git worktree add" runs the filter with GIT_WORK_TREE set, which the
# repository lookup (libgit2 1.5) refuses: check out in a second step.
add_worktree () {
	git worktree add -q --no-checkout "$@" &&
	git -C "$1" reset -q --hard
}

test_expect_success 'setup: v1 and v2 committed long ago and pushed' '
	git model install --local &&
	git model track "*.pth" &&
	git init -q --bare remote.git &&
	git remote add origin ./remote.git &&
	# not for "git stash -u" to take away
	printf "%s\n" /remote.git/ /http-remote.git/ /out /err /expect /list \
		/stale >>.git/info/exclude &&
	test-tool genrandom v1 10k >w.pth &&
	git add .gitattributes w.pth &&
	git commit -q -m v1 &&
	git tag v1 &&
	V1=$(oid_of w.pth) &&
	test-tool genrandom v2 20k >w.pth &&
	git add w.pth &&
	git commit -q -m v2 &&
	V2=$(oid_of w.pth) &&
	git push -q origin main v1 &&
	storage_has $V1 && storage_has $V2 &&
	local_has $V1 && local_has $V2
'

test_expect_success 'usage errors' '
	test_expect_code 129 git model prune --frobnicate 2>err &&
	grep "^usage: git model prune" err &&
	test_expect_code 129 git model prune HEAD &&
	test_expect_code 128 git -c model.pruneRecentDays=soon model prune 2>err &&
	grep "not an integer" err &&
	test_expect_code 128 git -c model.pruneRecentDays=-1 model prune 2>err &&
	grep "model.pruneRecentDays must be 0 or more" err &&
	local_has $V1
'

test_lazy_prereq MAN '
	test -f "$GIT_MODEL_BUILD_DIR/man/git-model-prune.1" &&
	command -v man
'

test_expect_success MAN 'prune --help opens git-model-prune(1)' '
	mkdir -p mp/man1 &&
	cp "$GIT_MODEL_BUILD_DIR"/man/*.1 mp/man1/ &&
	MANPATH="$PWD/mp" PAGER=cat MANWIDTH=80 git model prune --help >out &&
	grep "GIT-MODEL-PRUNE(1)" out &&
	rm -rf mp
'

test_expect_success '--dry-run lists what would go and deletes nothing' '
	git model prune --dry-run >out 2>err &&
	echo "would delete $V1 (10.00 KiB)" >expect &&
	test_cmp expect out &&
	grep "^git-model: would delete 1 object(s) (10.00 KiB), kept 1 in use (20.00 KiB)$" err &&
	local_has $V1 && local_has $V2
'

test_expect_success 'an object only in an old, pushed commit is deleted' '
	# the tensor hashes git model show caches go with their object
	for oid in $V1 $V2
	do
		mkdir -p .git/model/tensor-hashes/$(echo $oid | cut -c1-2) &&
		echo "git-model tensor-hashes 1" \
			>.git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid ||
		return 1
	done &&
	git model prune >out 2>err &&
	test_path_is_missing .git/model/tensor-hashes/$(echo $V1 | cut -c1-2)/$V1 &&
	test_path_is_file .git/model/tensor-hashes/$(echo $V2 | cut -c1-2)/$V2 &&
	test_must_be_empty out &&
	grep "^git-model: deleted 1 object(s) (10.00 KiB), kept 1 in use (20.00 KiB)$" err &&
	git model prune >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_terminal "git model prune" >out &&
	grep "^git-model: deleted 0 object(s) (0 B), kept 1 in use (20.00 KiB)" out &&
	! grep "not confirmed" err &&
	! local_has $V1 && local_has $V2 &&
	storage_has $V1 &&
	git model fsck --remote v1 &&
	git checkout -q v1 &&
	test-tool genrandom v1 10k >expect &&
	test_cmp_bin expect w.pth &&
	local_has $V1 &&
	git checkout -q main
'

test_expect_success 'the same object, not pushed, is kept and counted' '
	rm -f "$(obj remote.git/model/objects $V1)" &&
	git model prune -v >out 2>err &&
	echo "keep $V1 (10.00 KiB): not in storage" >expect &&
	test_cmp expect out &&
	grep "^git-model: deleted 0 object(s) (0 B), kept 1 in use (20.00 KiB)$" err &&
	grep "^git-model: kept 1 object(s) (10.00 KiB) not confirmed in storage .file://.*/remote.git/model/objects.; run .git model push.$" err &&
	local_has $V1 &&
	to_storage $V1
'

test_expect_success 'a staged, uncommitted object is kept' '
	test-tool genrandom staged 3k >w.pth &&
	git add w.pth &&
	S=$(oid_of w.pth) &&
	to_storage $S &&
	git model prune &&
	local_has $S &&
	git reset -q --hard &&
	git model prune &&
	! local_has $S
'

test_expect_success 'stashed objects are kept: work tree, index and untracked' '
	test-tool genrandom index 3k >w.pth &&
	git add w.pth &&
	I=$(oid_of w.pth) &&
	test-tool genrandom tree 3k >w.pth &&
	T=$(oid_of w.pth) &&
	test-tool genrandom untracked 3k >u.pth &&
	U=$(oid_of u.pth) &&
	git stash -q -u &&
	test_path_is_missing u.pth &&
	test-tool genrandom older 3k >w.pth &&
	O=$(oid_of w.pth) &&
	git stash -q &&
	git stash list >list &&
	test_line_count = 2 list &&
	for o in $I $T $U $O
	do
		to_storage $o || return 1
	done &&
	git model prune -v >out 2>err &&
	grep "in use.*, 2 stash entries," err &&
	for o in $I $T $U $O
	do
		local_has $o || return 1
	done &&
	git stash drop -q &&
	git model prune &&
	! local_has $O &&
	local_has $I && local_has $T && local_has $U &&
	git stash pop -q &&
	test-tool genrandom untracked 3k >expect &&
	test_cmp_bin expect u.pth &&
	test-tool genrandom tree 3k >expect &&
	test_cmp_bin expect w.pth &&
	rm u.pth &&
	git reset -q --hard &&
	git model prune &&
	! local_has $I && ! local_has $T && ! local_has $U
'

test_expect_success 'the HEAD and the index of another worktree are kept' '
	add_worktree wt -b side main &&
	(
		cd wt &&
		test-tool genrandom side 4k >x.pth &&
		git add x.pth &&
		git commit -q -m side &&
		git rm -q --cached x.pth &&
		test-tool genrandom y 4k >y.pth &&
		git add y.pth
	) &&
	X=$(oid_of wt/x.pth) &&
	Y=$(oid_of wt/y.pth) &&
	to_storage $X && to_storage $Y &&
	git model prune -v 2>err &&
	grep "HEAD and index of 2 worktree(s)" err &&
	local_has $X && local_has $Y
'

test_expect_success 'prune in the linked worktree keeps the main HEAD too' '
	git -C wt model prune &&
	local_has $V2 && local_has $X && local_has $Y
'

test_expect_success 'once that worktree is gone, its objects go' '
	git worktree remove --force wt &&
	git model prune &&
	! local_has $X && ! local_has $Y &&
	local_has $V2
'

test_expect_success 'a worktree whose directory was deleted still counts' '
	add_worktree wt2 -b side2 main &&
	(
		cd wt2 &&
		test-tool genrandom gone 4k >g.pth &&
		git add g.pth &&
		git commit -q -m gone
	) &&
	G=$(oid_of wt2/g.pth) &&
	to_storage $G &&
	rm -rf wt2 &&
	git model prune &&
	local_has $G &&
	git worktree prune &&
	git model prune &&
	! local_has $G
'

test_expect_success 'objects of recent commits are kept, unless pruneRecentDays is 0' '
	git checkout -q -b recent &&
	test-tool genrandom recent 5k >w.pth &&
	git add w.pth &&
	GIT_COMMITTER_DATE=$(now) git commit -q -m recent &&
	R=$(oid_of w.pth) &&
	test-tool genrandom newer 5k >w.pth &&
	git add w.pth &&
	git commit -q -m "old date on top" &&
	git push -q origin recent &&
	git checkout -q main &&
	storage_has $R &&
	git model prune -v 2>err &&
	grep "1 commit(s) of the last 7 day(s)" err &&
	local_has $R &&
	git -c model.pruneRecentDays=0 model prune &&
	! local_has $R
'

test_expect_success 'a storage that does not answer: nothing deleted, one clear error' '
	git model fetch origin v1 recent~1 &&
	local_has $V1 && local_has $R &&
	git config model.pruneRecentDays 0 &&
	port=$(test_free_port) &&
	test_expect_code 1 git -c model.storage=http://127.0.0.1:$port/models \
		-c model.retries=0 model prune >out 2>err &&
	test_must_be_empty out &&
	grep "^error: cannot check .* in .http://127.0.0.1:$port/models/sha256/" err &&
	grep "^git-model: kept 2 object(s) (15.00 KiB) not confirmed in storage: .http://127.0.0.1:$port/models. could not be asked$" err &&
	test "$(grep -c ^error: err)" = 1 &&
	local_has $V1 && local_has $R
'

test_expect_success 'no storage at all: nothing deleted, the reason given' '
	git remote set-url origin git://example.invalid/repo.git &&
	test_when_finished "git remote set-url origin ./remote.git" &&
	git model prune 2>err &&
	grep "^git-model: kept 2 object(s) (15.00 KiB) not confirmed in storage: no model.storage is set and the remote .git://example.invalid/repo.git. is not a local repository; set model.storage (git model env shows it)$" err &&
	local_has $V1 && local_has $R
'

test_expect_success 'a storage that is the local store itself deletes nothing' '
	git -c model.storage="file://$TRASH_DIRECTORY/.git/model/objects" \
		model prune 2>err &&
	grep "not confirmed in storage: the storage .file://.*/.git/model/objects. is this repository${SQ}s own store$" err &&
	local_has $V1 && local_has $R
'

test_expect_success 'stale temp files go, fresh and locked ones stay' '
	mkdir -p .git/model/tmp .git/model/incomplete &&
	echo old >.git/model/tmp/object-old &&
	echo new >.git/model/tmp/object-new &&
	echo part >.git/model/incomplete/$V1 &&
	echo part >.git/model/incomplete/$R &&
	echo upload >"$(obj .git/model/objects $V2).tmp-Ab12Cd" &&
	touch -d "2 days ago" .git/model/tmp/object-old "$(obj .git/model/objects $V2).tmp-Ab12Cd" &&
	touch -d "10 days ago" .git/model/incomplete/$V1 .git/model/incomplete/$R &&
	flock .git/model/incomplete/$R git model prune --dry-run >out &&
	grep "would remove stale temp file" out >stale &&
	grep "would remove stale temp file .*/tmp/object-old.$" stale &&
	grep "would remove stale temp file .*/incomplete/$V1.$" stale &&
	grep "would remove stale temp file .*/$V2.tmp-Ab12Cd.$" stale &&
	test_line_count = 3 stale &&
	test_path_is_file .git/model/tmp/object-old &&
	flock .git/model/incomplete/$R git model prune 2>err &&
	grep "removed 3 stale temp file(s)" err &&
	test_path_is_missing .git/model/tmp/object-old &&
	test_path_is_missing .git/model/incomplete/$V1 &&
	test_path_is_missing "$(obj .git/model/objects $V2).tmp-Ab12Cd" &&
	test_path_is_file .git/model/tmp/object-new &&
	test_path_is_file .git/model/incomplete/$R &&
	git model prune 2>err &&
	test_path_is_missing .git/model/incomplete/$R &&
	local_has $V2 &&
	git config --unset model.pruneRecentDays
'

. "$TEST_DIRECTORY/lib-httpd.sh"
start_httpd

test_expect_success 'HTTP storage: HEAD requests decide what goes' '
	git init -q http &&
	(
		cd http &&
		git model install --local &&
		git model track "*.pth" &&
		git config model.storage "$HTTPD_URL/open/models" &&
		git init -q --bare ../http-remote.git &&
		git remote add origin ../http-remote.git &&
		for i in 1 2 3 4 5 6
		do
			test-tool genrandom "h$i" 8k >h$i.pth || return 1
		done &&
		git add . &&
		git commit -q -m old &&
		git push -q origin main &&
		git rm -q h*.pth &&
		test-tool genrandom unpushed 8k >u.pth &&
		UH=$(oid_of u.pth) &&
		git add u.pth &&
		git commit -q -m "unpushed, then gone" &&
		git rm -q u.pth &&
		git commit -q -m empty &&
		git model prune -v >out 2>err &&
		grep "^deleted " out >deleted &&
		test_line_count = 6 deleted &&
		grep "^keep $UH (8.00 KiB): not in storage$" out &&
		grep "deleted 6 object(s) (48.00 KiB)" err &&
		git model fsck --remote HEAD~2
	) &&
	httpd_log_wait 6 HEAD 200 "^/open/models/sha256/" &&
	httpd_log_wait 1 HEAD 404 "^/open/models/sha256/"
'

. "$TEST_DIRECTORY/lib-s3.sh"
start_s3 models

test_expect_success 'S3 storage: refused credentials delete nothing, good ones do' '
	git init -q s3 &&
	(
		cd s3 &&
		s3_use_keys &&
		git model install --local &&
		git model track "*.pth" &&
		git config model.storage s3://models/team &&
		git config model.s3.endpoint "$S3_ENDPOINT" &&
		git init -q --bare ../s3-remote.git &&
		git remote add origin ../s3-remote.git &&
		test-tool genrandom s3a 8k >a.pth &&
		test-tool genrandom s3b 8k >b.pth &&
		git add . &&
		git commit -q -m old &&
		git push -q origin main &&
		git rm -q a.pth b.pth &&
		git commit -q -m gone &&
		test_expect_code 1 env AWS_SECRET_ACCESS_KEY=wrong \
			git -c model.retries=0 model prune >out 2>err &&
		grep "^error: cannot check .* in .$S3_ENDPOINT/models/team/sha256/.*: 403 SignatureDoesNotMatch" err &&
		test "$(grep -c ^error: err)" = 1 &&
		grep "kept 2 object(s) (16.00 KiB) not confirmed in storage: .s3://models/team. could not be asked$" err &&
		test_terminal "git model fsck --objects" >err &&
		grep "checked 2 object(s)" err &&
		git model prune 2>err &&
		grep "deleted 2 object(s) (16.00 KiB)" err &&
		test_terminal "git model fsck --objects" >err &&
		grep "checked 0 object(s)" err &&
		git model fsck --remote HEAD~1
	) &&
	# the good prune asks with HEAD; fsck --remote lists
	test "$(s3_log_count HEAD 200)" -ge 2 &&
	test "$(s3_log_count GET 200 "list-type=2")" -ge 1
'

test_done
