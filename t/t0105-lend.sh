#!/bin/sh

test_description='model.checkout: objects in storage are lent to the work tree, one copy on disk

A checkout moves a pushed object into the work tree instead of copying
it, and takes it back into the store when git replaces the file. Every
version keeps its exact bytes through checkouts, reset, stash, worktrees,
pull and rebase; a file changed in place is the user'"'"'s and its version
comes from storage; an unpushed version is never lent; a kill between the
renames loses nothing.'

. "$(dirname "$0")/test-lib.sh"

# Small numbers stand in for big ones: anything over 100 KiB is deferred.
INLINE_MAX=100k

# lent FILE: FILE is a lent object (its anchor in the store is a second name)
lent () {
	test "$(stat -c %h "$1")" = 2 &&
	test -f "$2/.git/model/lent/$(oid_of "$1").loan"
}

# kib DIR: disk use of DIR in KiB, each inode counted once
kib () {
	du -sk "$1" | cut -f1
}

test_expect_success 'setup: two tagged versions, pushed to file:// storage that copies' '
	git model install &&
	git config --global model.smudgeInlineMax $INLINE_MAX &&
	git config --global model.file.hardLinks false &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom big1 3m >big.pth &&
		git add .gitattributes big.pth &&
		git commit -q -m v1 &&
		git tag v1 &&
		test-tool genrandom big2 4m >big.pth &&
		git commit -q -a -m v2 &&
		git tag v2 &&
		git remote add origin ../remote.git &&
		git push -q origin main --tags 2>/dev/null
	) &&
	test-tool genrandom big1 3m >big1 &&
	test-tool genrandom big2 4m >big2 &&
	test-tool genrandom big3 2m >big3 &&
	B1=$(oid_of big1) && B2=$(oid_of big2) && B3=$(oid_of big3)
'

test_expect_success 'clone: the fetched object is lent, not copied' '
	git clone -q remote.git clone &&
	test_cmp_bin big2 clone/big.pth &&
	lent clone/big.pth clone &&
	test_path_is_missing "$(obj clone/.git/model/objects $B2)" &&
	test $(kib clone) -lt $((4096 * 5 / 4)) &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'ls-files and fsck know a lent object is there' '
	git -C clone model ls-files >out &&
	grep "^${B2%${B2#??????????}} \*" out &&
	test_terminal "git -C clone model fsck" >err &&
	grep "1 object(s) lent to work trees" err
'

test_expect_success 'checkout of tags back and forth: bytes exact, one copy each' '
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	lent clone/big.pth clone &&
	test_cmp_bin big2 "$(obj clone/.git/model/objects $B2)" &&
	git -C clone checkout -q v2 &&
	test_cmp_bin big2 clone/big.pth &&
	lent clone/big.pth clone &&
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth &&
	test_cmp_bin big1 "$(obj clone/.git/model/objects $B1)" &&
	test $(kib clone) -lt $(((4096 + 3072) * 5 / 4)) &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'reset --hard takes the lent file back and lends the other' '
	git -C clone reset -q --hard v1 &&
	test_cmp_bin big1 clone/big.pth &&
	lent clone/big.pth clone &&
	git -C clone reset -q --hard ORIG_HEAD &&
	test_cmp_bin big2 clone/big.pth &&
	test_cmp_bin big1 "$(obj clone/.git/model/objects $B1)"
'

test_expect_success 'a lent file changed in place is the user'"'"'s: its version comes from storage' '
	printf XXXX | dd of=clone/big.pth bs=1 seek=100 conv=notrunc 2>/dev/null &&
	cp clone/big.pth changed &&
	git -C clone checkout -q -f v1 2>err &&
	grep "was changed after it was checked out" err &&
	test_cmp_bin big1 clone/big.pth &&
	test_path_is_missing "$(obj clone/.git/model/objects $B2)" &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth &&
	! test_cmp_bin changed clone/big.pth
'

test_expect_success 'a switch takes the unchanged version back as it is: no hash, no copy' '
	git -C clone checkout -q v1 &&
	test "$(stat -c %a "$(obj clone/.git/model/objects $B2)")" = 444 &&
	test "$(stat -c %h "$(obj clone/.git/model/objects $B2)")" = 1 &&
	test_cmp_bin big2 "$(obj clone/.git/model/objects $B2)" &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth &&
	lent clone/big.pth clone
'

test_expect_success 'a lent file rewritten with its mtime put back to the second is not taken back' '
	m=$(stat -c %Y clone/big.pth) &&
	printf YYYY | dd of=clone/big.pth bs=1 seek=200 conv=notrunc 2>/dev/null &&
	touch -d "@$m" clone/big.pth &&
	git -C clone checkout -q -f v1 2>err &&
	grep "was changed after it was checked out" err &&
	test_path_is_missing "$(obj clone/.git/model/objects $B2)" &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth
'

test_expect_success 'a lent file a process holds open for writing is not taken back' '
	{ sh -c "exec 7>>clone/big.pth; exec sleep 60" & } &&
	writer=$! &&
	test_when_finished "kill $writer 2>/dev/null || :" &&
	sleep 0.2 &&
	git -C clone checkout -q v1 2>err &&
	grep "still had it open for writing" err &&
	test_path_is_missing "$(obj clone/.git/model/objects $B2)" &&
	kill $writer &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth &&
	lent clone/big.pth clone
'

# The hole loan.h states: a write whose writer puts the mtime back to the
# nanosecond is taken back as the version. fsck finds it; storage has it.
test_expect_success 'rewritten with its mtime put back to the ns: fsck finds it, storage has it' '
	m=$(stat -c %y clone/big.pth) &&
	printf ZZZZ | dd of=clone/big.pth bs=1 seek=300 conv=notrunc 2>/dev/null &&
	touch -d "$m" clone/big.pth &&
	git -C clone checkout -q -f v1 2>err &&
	test_must_be_empty err &&
	test_expect_code 1 git -C clone model fsck >out 2>&1 &&
	grep "bad object $B2" out &&
	test_path_is_missing "$(obj clone/.git/model/objects $B2)" &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth
'

test_expect_success 'the same, lent out again: fsck hashes the lent file, ends its loan' '
	m=$(stat -c %y clone/big.pth) &&
	printf ZZZZ | dd of=clone/big.pth bs=1 seek=300 conv=notrunc 2>/dev/null &&
	touch -d "$m" clone/big.pth &&
	git -C clone checkout -q -f v1 &&
	git -C clone checkout -q main &&
	! test_cmp_bin big2 clone/big.pth &&
	test_expect_code 1 git -C clone model fsck >out 2>&1 &&
	grep "bad object $B2 lent to .*/clone/big.pth" out &&
	! grep "lent to work trees" out &&
	test_path_is_missing clone/.git/model/lent/$B2.loan &&
	test "$(stat -c %h clone/big.pth)" = 1 &&
	rm clone/big.pth &&
	git -C clone checkout -- big.pth &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone model fsck
'

test_expect_success 'stash of a lent file written over' '
	cat big3 >clone/big.pth &&
	git -C clone stash -q &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone stash pop -q &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone checkout -q -f main &&
	test_cmp_bin big2 clone/big.pth
'

test_expect_success 'an unpushed commit'"'"'s weights are never lent' '
	cp big3 clone/big.pth &&
	git -C clone commit -q -a -m v3 &&
	git -C clone checkout -q v1 &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	test "$(stat -c %h clone/big.pth)" = 1 &&
	test_cmp_bin big3 "$(obj clone/.git/model/objects $B3)" &&
	test_path_is_missing clone/.git/model/lent/$B3.loan &&
	marker=clone/.git/model/stored/$(echo $B3 | cut -c1-2)/$B3 &&
	test_path_is_missing $marker &&
	git -C clone push -q origin main 2>/dev/null &&
	test_path_is_file $marker &&
	git -C clone checkout -q v1 &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	lent clone/big.pth clone
'

test_expect_success 'worktree add: each worktree gets the bytes, one of them the loan' '
	git -C clone worktree add -q ../wt2 v1 &&
	test_cmp_bin big1 wt2/big.pth &&
	lent wt2/big.pth clone &&
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	test "$(stat -c %h clone/big.pth)" = 1 &&
	git -C wt2 checkout -q --detach v2 &&
	test_cmp_bin big2 wt2/big.pth &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone worktree remove --force ../wt2 &&
	git -C clone model fsck
'

test_expect_success 'two paths with one oid: one lent, the other copied' '
	(
		cd work &&
		git pull -q ../remote.git main 2>/dev/null &&
		cp big.pth copy.pth &&
		git add copy.pth &&
		git commit -q -m "two paths" &&
		git push -q origin main 2>/dev/null
	) &&
	git -C clone pull -q 2>/dev/null &&
	test_cmp_bin big3 clone/big.pth &&
	test_cmp_bin big3 clone/copy.pth &&
	test $(($(stat -c %h clone/big.pth) + $(stat -c %h clone/copy.pth))) = 3 &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'rebase over big files' '
	(
		cd work &&
		git rm -q copy.pth &&
		git commit -q -m "one path" &&
		git push -q origin main 2>/dev/null
	) &&
	echo note >clone/note &&
	git -C clone add note &&
	git -C clone commit -q -m note &&
	git -C clone pull -q --rebase 2>/dev/null &&
	test_cmp_bin big3 clone/big.pth &&
	test_path_is_missing clone/copy.pth &&
	git -C clone checkout -q v2 &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone model fsck
'

# With no hooks, the filter process writes the deferred files as it ends:
# the one process that is killed.
test_expect_success 'kill -9 after the lending rename: nothing lost, fsck repairs' '
	mkdir -p nohooks &&
	{ env GIT_MODEL_TEST_LEND_KILL=lend \
		git -C clone -c core.hooksPath="$PWD/nohooks" checkout -q v1 2>err || :; } &&
	grep ^pending clone/.git/model/lent/$B1.loan &&
	git -C clone model fsck &&
	grep ^lent clone/.git/model/lent/$B1.loan &&
	test_cmp_bin big1 clone/big.pth &&
	test "$(stat -c %a clone/big.pth)" = 644 &&
	git -C clone model checkout &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	test_cmp_bin big1 "$(obj clone/.git/model/objects $B1)"
'

test_expect_success 'kill -9 between the anchor link and the loan record: nothing lost' '
	git -C clone checkout -q v2 &&
	{ env GIT_MODEL_TEST_LEND_KILL=link \
		git -C clone -c core.hooksPath="$PWD/nohooks" checkout -q main 2>err || :; } &&
	test_path_is_file clone/.git/model/lent/$B3 &&
	test_path_is_missing clone/.git/model/lent/$B3.loan &&
	test_expect_code 1 git -C clone model fsck >out 2>&1 &&
	grep "pointer text in the work tree: big.pth" out &&
	test_path_is_missing clone/.git/model/lent/$B3 &&
	test "$(stat -c %h "$(obj clone/.git/model/objects $B3)")" = 1 &&
	git -C clone model checkout &&
	test_cmp_bin big3 clone/big.pth &&
	lent clone/big.pth clone
'

test_expect_success 'kill -9 after the taking-back rename: nothing lost, fsck repairs' '
	{ env GIT_MODEL_TEST_LEND_KILL=return \
		git -C clone -c core.hooksPath="$PWD/nohooks" checkout -q v2 2>err || :; } &&
	test_path_is_file clone/.git/model/lent/$B3.loan &&
	test_path_is_missing clone/.git/model/lent/$B3 &&
	test_expect_code 1 git -C clone model fsck >out 2>&1 &&
	grep "pointer text in the work tree: big.pth" out &&
	test_path_is_missing clone/.git/model/lent/$B3.loan &&
	git -C clone model checkout &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth
'

# Records are not synced: a crash can leave one empty.
test_expect_success 'an empty loan record (a crash) counts as none: nothing lost' '
	git -C clone checkout -q main &&
	lent clone/big.pth clone &&
	rm -f clone/.git/model/lent/$B3.loan &&
	>clone/.git/model/lent/$B3.loan &&
	test_expect_code 1 git -C clone model fsck >out 2>err &&
	grep "cannot read the loan record" err &&
	grep "missing object $B3 for HEAD:big.pth: not in the local store" out &&
	test_path_is_missing clone/.git/model/lent/$B3.loan &&
	test_path_is_missing clone/.git/model/lent/$B3 &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	lent clone/big.pth clone
'

test_expect_success 'env reports the store, the loans and what a checkout needs' '
	git -C clone model env >out &&
	grep "^disk.lent=2097152 (2.00 MiB, 1 object(s))$" out &&
	grep "^disk.checkout=0 (0 B, 0 file(s) hold their pointer)$" out &&
	git -C clone cat-file -p HEAD:big.pth >clone/big.pth &&
	git -C clone model env >out &&
	grep "^disk.lent=0 (0 B, 0 object(s))$" out &&
	grep "^disk.checkout=2097152 (2.00 MiB, 1 file(s) hold their pointer)$" out &&
	git -C clone model pull 2>err &&
	grep "was changed after it was checked out" err &&
	test_cmp_bin big3 clone/big.pth &&
	lent clone/big.pth clone &&
	git -C clone -c model.checkout=copy model env >out &&
	grep "^disk.store=.* (.*, 2 object(s))$" out
'

test_expect_success 'push of a lent object to other file:// storage copies it, never links it' '
	git init -q --bare other.git &&
	git -C clone -c model.file.hardLinks=true push -q ../other.git HEAD:refs/heads/main 2>/dev/null &&
	test_cmp_bin big3 "$(obj other.git/model/objects $B3)" &&
	test "$(stat -c %h "$(obj other.git/model/objects $B3)")" = 1 &&
	lent clone/big.pth clone
'

test_expect_success 'prune leaves lent objects and their loans alone' '
	git -C clone model prune 2>err &&
	lent clone/big.pth clone &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth
'

test_expect_success 'an object file:// storage links is never lent' '
	git -c model.file.hardLinks=true clone -q remote.git linked &&
	test_cmp_bin big3 linked/big.pth &&
	test "$(stat -c %h linked/big.pth)" = 1 &&
	test "$(stat -c %h "$(obj linked/.git/model/objects $B3)")" = 2 &&
	test_path_is_missing linked/.git/model/lent/$B3.loan
'

test_expect_success 'an object linked elsewhere while it is being lent is put back and copied' '
	git -C clone checkout -q v1 &&
	test_when_finished "rm -f raced" &&
	GIT_MODEL_TEST_LEND_RACE_LINK="$PWD/raced" git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth &&
	test "$(stat -c %h clone/big.pth)" = 1 &&
	test "$(stat -c %a "$(obj clone/.git/model/objects $B3)")" = 444 &&
	test "$(stat -c %i raced)" = "$(stat -c %i "$(obj clone/.git/model/objects $B3)")" &&
	test_path_is_missing clone/.git/model/lent/$B3.loan &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'model.checkout=copy copies' '
	git -C clone -c model.checkout=copy checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	test "$(stat -c %h clone/big.pth)" = 1 &&
	test_cmp_bin big1 "$(obj clone/.git/model/objects $B1)" &&
	git -C clone checkout -q main
'

# A fetches the object and its sync is slow; B, in another worktree, finds
# it unsynced and checks it out meanwhile. Whoever lends it, A's late
# "synced" mark (mode 0444) must not reach the lent file: its loan would
# be taken for the user's change and dropped.
test_expect_success 'a loan made while another process syncs the object stays out' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git syncing &&
	git -C syncing worktree add -q --no-checkout --detach ../syncing2 main &&
	test_when_finished "rm -rf syncing syncing2" &&
	object=$(obj syncing/.git/model/objects $B3) &&
	{
		GIT_MODEL_TEST_SYNC_WAIT="$PWD/synced" \
			git -C syncing model fetch -q 2>err.a &
	} &&
	a=$! &&
	test_when_finished ">synced" &&
	for i in $(test_seq 100)
	do
		test -f "$object" && break
		sleep 0.1
	done &&
	test "$(stat -c %a "$object")" = 400 &&
	{ git -C syncing2 reset -q --hard 2>err.b & } &&
	b=$! &&
	# B need not wait for A (if it does, A syncs after 5 s)
	for i in $(test_seq 50)
	do
		kill -0 $b 2>/dev/null || break
		sleep 0.1
	done &&
	>synced &&
	wait $a && wait $b &&
	test_cmp_bin big3 syncing2/big.pth &&
	test "$(stat -c %a syncing2/big.pth)" = 644 &&
	git -C syncing model checkout 2>err &&
	! grep "changed after it was checked out" err &&
	test_cmp_bin big3 syncing/big.pth &&
	git -C syncing2 checkout -q v1 2>err &&
	git -C syncing2 checkout -q - 2>>err &&
	! grep "changed after it was checked out" err &&
	test_cmp_bin big3 syncing2/big.pth &&
	git -C syncing model fsck
'

# A push to file:// storage looks at the object (read-only: linkable),
# then links it through its fd: a loan made in between must not give
# storage a name of the lent file.
test_expect_success 'a push linking the object while it is lent never links the lent file' '
	git -C clone checkout -q v1 &&
	git -C clone model fetch -q origin v2 &&
	test_path_is_file "$(obj clone/.git/model/objects $B2)" &&
	git init -q --bare other2.git &&
	{
		GIT_MODEL_TEST_LINK_WAIT="$PWD/linkgo" \
		git -C clone -c model.file.hardLinks=true \
			push -q ../other2.git v2:refs/heads/main 2>err.push &
	} &&
	p=$! &&
	test_when_finished ">linkgo" &&
	for i in $(test_seq 100)
	do
		test -f linkgo.reached && break
		sleep 0.1
	done &&
	test -f linkgo.reached &&
	git -C clone checkout -q v2 &&
	>linkgo &&
	wait $p &&
	test_cmp_bin big2 clone/big.pth &&
	stored=$(obj other2.git/model/objects $B2) &&
	test_cmp_bin big2 "$stored" &&
	test "$(stat -c %i "$stored")" != "$(stat -c %i clone/big.pth)" &&
	test "$(stat -c %a "$stored")" = 444 &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 "$stored"
'

test_expect_success 'prune removes the markers of the objects it deleted, and record temp files' '
	git -C clone checkout -q main &&
	git -C clone model fetch -q origin v1 v2 &&
	marker () {
		echo clone/.git/model/stored/$(echo $1 | cut -c1-2)/$1
	} &&
	test_path_is_file $(marker $B1) &&
	test_path_is_file $(marker $B2) &&
	>clone/.git/model/lent/$B3.loan.tmp-AbCdEf &&
	git -C clone -c model.pruneRecentDays=0 model prune -v >out &&
	grep "^removed 3 marker(s) and loan record temp file(s) of objects no longer here$" out &&
	test_path_is_missing "$(obj clone/.git/model/objects $B1)" &&
	test_path_is_missing $(marker $B1) &&
	test_path_is_missing $(marker $B2) &&
	test_path_is_missing clone/.git/model/lent/$B3.loan.tmp-AbCdEf &&
	test_path_is_file $(marker $B3) &&
	lent clone/big.pth clone &&
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	test_path_is_file $(marker $B1) &&
	lent clone/big.pth clone &&
	git -C clone checkout -q main &&
	test_cmp_bin big3 clone/big.pth
'

test_expect_success OTHER_FS 'a work tree on another file system gets a copy' '
	other=$(mktemp -d /dev/shm/git-model-t0105.XXXXXX) &&
	test_when_finished "rm -rf \"$other\"" &&
	git -C clone worktree add -q "$other/wt" v1 &&
	test_cmp_bin big1 "$other/wt/big.pth" &&
	test "$(stat -c %h "$other/wt/big.pth")" = 1 &&
	test_cmp_bin big1 "$(obj clone/.git/model/objects $B1)" &&
	git -C clone worktree remove --force "$other/wt"
'

test_done
