#!/bin/sh

test_description='git model fsck: bad objects move to bad/, pointers are checked'

. "$(dirname "$0")/test-lib.sh"

SQ="'"
test_lazy_prereq GNU_TIME 'test -x /usr/bin/time'

# corrupt FILE: change one byte of a read-only object in place
corrupt () {
	chmod u+w "$1" &&
	printf X | dd of="$1" bs=1 seek=10 conv=notrunc 2>/dev/null &&
	chmod a-w "$1"
}

test_expect_success 'setup: two versions of a file, pushed to a local remote' '
	git model install --local &&
	# The tests damage objects: copies, not links (storage-file.c), so
	# that the remote keeps good ones.
	git config model.file.hardLinks false &&
	# and checkouts copy, so that the objects stay in the store (t0105
	# tests lending)
	git config --global model.checkout copy &&
	git model track "*.pth" &&
	git init -q --bare remote.git &&
	git remote add origin ./remote.git &&
	test-tool genrandom v1 100k >w.pth &&
	echo code >code.py &&
	git add .gitattributes w.pth code.py &&
	git commit -q -m v1 &&
	git tag v1 &&
	test-tool genrandom v2 50k >w.pth &&
	git add w.pth &&
	git commit -q -m v2 &&
	git push -q origin main v1 &&
	V1=$(git show v1:w.pth | sed -n "s/^oid sha256://p") &&
	V2=$(oid_of w.pth) &&
	test_path_is_file "$(obj .git/model/objects $V1)" &&
	test_path_is_file "$(obj .git/model/objects $V2)"
'

test_expect_success 'a sound store and HEAD: exit 0, nothing on stdout' '
	git model fsck >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_terminal "git model fsck" >err &&
	tr -d "\r" <err >err.lf &&
	grep "^git-model: checked 2 object(s) (150.00 KiB) and 1 pointer(s) in 1 revision(s): no problems$" err.lf
'

test_lazy_prereq MAN '
	test -f "$GIT_MODEL_BUILD_DIR/man/git-model-fsck.1" &&
	command -v man
'

test_expect_success MAN 'fsck --help opens git-model-fsck(1)' '
	mkdir -p mp/man1 &&
	cp "$GIT_MODEL_BUILD_DIR"/man/*.1 mp/man1/ &&
	MANPATH="$PWD/mp" PAGER=cat MANWIDTH=80 git model fsck --help >out &&
	grep "GIT-MODEL-FSCK(1)" out &&
	rm -rf mp
'

test_expect_success 'fsck outside a repository dies' '
	mkdir -p outside &&
	(
		cd outside &&
		GIT_CEILING_DIRECTORIES="$PWD/.." &&
		export GIT_CEILING_DIRECTORIES &&
		test_expect_code 128 git model fsck 2>err &&
		grep "not in a git repository" err
	)
'

test_expect_success 'an unknown option is a usage error, a bad revision fatal' '
	test_expect_code 129 git model fsck --frobnicate 2>err &&
	grep "^usage: git model fsck" err &&
	test_expect_code 129 git model fsck --objects v1 2>err &&
	grep "cannot go with --objects alone" err &&
	test_expect_code 128 git model fsck no-such-rev 2>err &&
	grep "fatal: .no-such-rev. is not a revision" err
'

test_expect_success 'a corrupt object is moved to bad/ under its own name' '
	p=$(obj .git/model/objects $V1) &&
	cp "$p" v1.orig &&
	corrupt "$p" &&
	bad_hash=$(oid_of "$p") &&
	test_expect_code 1 git model fsck --objects >out 2>err &&
	echo "bad object $V1: its content hashes to $bad_hash; moved to ${SQ}$TRASH_DIRECTORY/.git/model/bad/$V1${SQ}" >expect &&
	test_cmp expect out &&
	grep "1 problem(s)" err &&
	test_path_is_missing "$p" &&
	test_path_is_file .git/model/bad/$V1 &&
	! test_cmp_bin v1.orig .git/model/bad/$V1 &&
	git model fsck --objects >out &&
	test_must_be_empty out
'

test_expect_success 'its pointer then reports the object missing; --remote finds it in storage' '
	test_expect_code 1 git model fsck v1 >out &&
	grep "^missing object $V1 for v1:w.pth: not in the local store (run .git model fetch., or .git model fsck --remote. to look in storage)$" out &&
	test_line_count = 1 out &&
	git model fsck --remote v1 >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_terminal "git model fsck --remote v1" >err &&
	grep "no problems" err
'

test_expect_success 'git model fetch brings it back and fsck is happy' '
	git model fetch origin v1 &&
	test_cmp_bin v1.orig "$(obj .git/model/objects $V1)" &&
	git model fsck main v1 >out &&
	test_must_be_empty out
'

test_expect_success 'a second bad copy does not replace the first in bad/' '
	p=$(obj .git/model/objects $V1) &&
	cp .git/model/bad/$V1 first-bad &&
	corrupt "$p" &&
	chmod u+w "$p" && echo more >>"$p" && chmod a-w "$p" &&
	test_expect_code 1 git model fsck --objects >out &&
	grep "moved to .*/bad/$V1.1.$" out &&
	test_cmp_bin first-bad .git/model/bad/$V1 &&
	test_path_is_file .git/model/bad/$V1.1 &&
	git model fetch origin v1 &&
	git model fsck --objects
'

test_expect_success 'a truncated object (wrong size) is bad too' '
	p=$(obj .git/model/objects $V2) &&
	cp "$p" v2.orig &&
	chmod u+w "$p" && : >"$p" && chmod a-w "$p" &&
	test_expect_code 1 git model fsck --objects >out &&
	grep "^bad object $V2: its content hashes to e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855; moved" out &&
	rm -f .git/model/bad/$V2 &&
	mkdir -p "$(dirname "$p")" && cp v2.orig "$p"
'

test_expect_success 'files out of place and links are strays, moved to bad/' '
	mkdir -p .git/model/objects/sha256/ab/cd .git/model/objects/other &&
	cp v2.orig .git/model/objects/sha256/ab/cd/$V2 &&
	echo junk >.git/model/objects/other/junk &&
	echo junk >.git/model/objects/sha256/README &&
	ln -s "$(obj "$TRASH_DIRECTORY/.git/model/objects" $V2)" .git/model/objects/link &&
	test_expect_code 1 git model fsck --objects >out &&
	cat >expect <<-EOF &&
	stray file ${SQ}objects/link${SQ} is not an object in its place; moved to ${SQ}$TRASH_DIRECTORY/.git/model/bad/link${SQ}
	stray file ${SQ}objects/other/junk${SQ} is not an object in its place; moved to ${SQ}$TRASH_DIRECTORY/.git/model/bad/junk${SQ}
	stray file ${SQ}objects/sha256/README${SQ} is not an object in its place; moved to ${SQ}$TRASH_DIRECTORY/.git/model/bad/README${SQ}
	stray file ${SQ}objects/sha256/ab/cd/$V2${SQ} is not an object in its place; moved to ${SQ}$TRASH_DIRECTORY/.git/model/bad/$V2${SQ}
	EOF
	test_cmp expect out &&
	test -h .git/model/bad/link &&
	test_cmp_bin v2.orig .git/model/bad/$V2 &&
	test_cmp_bin v2.orig "$(obj .git/model/objects $V2)" &&
	git model fsck --objects
'

test_expect_success 'stale temp files in tmp/ and incomplete/ are no problem' '
	mkdir -p .git/model/tmp .git/model/incomplete &&
	echo partial >.git/model/tmp/object-abcdef &&
	echo partial >.git/model/incomplete/$V1 &&
	echo upload >"$(obj .git/model/objects $V2).tmp-Ab12Cd" &&
	touch -d "3 days ago" .git/model/tmp/object-abcdef .git/model/incomplete/$V1 &&
	git model fsck >out &&
	test_must_be_empty out &&
	test_path_is_file .git/model/tmp/object-abcdef &&
	test_path_is_file .git/model/incomplete/$V1 &&
	test_path_is_file "$(obj .git/model/objects $V2).tmp-Ab12Cd" &&
	rm -f "$(obj .git/model/objects $V2).tmp-Ab12Cd"
'

# commit_blob PATH <CONTENT: commit CONTENT at PATH as is, without the
# filter, on a branch of its own
commit_blob () {
	blob=$(git hash-object -w --no-filters --stdin) &&
	git checkout -q -b "$2" main &&
	git update-index --add --cacheinfo 100644,$blob,"$1" &&
	git commit -q -m "$2" &&
	git checkout -q -f main
}

test_expect_success 'a work tree file holding its pointer text is reported' '
	git cat-file -p HEAD:w.pth >w.pth &&
	test_expect_code 1 git model fsck --pointers >out &&
	echo "pointer text in the work tree: w.pth (its weights were never put in place; run ${SQ}git model pull${SQ})" >expect &&
	test_cmp expect out &&
	git model fsck --pointers HEAD &&
	git model pull &&
	test_cmp_bin v2.orig w.pth &&
	git model fsck --pointers
'

test_expect_success 'an invalid pointer is reported with the reason' '
	printf "version git-model/1\noid sha256:%s\nsize 12\nsize 13\n" $V1 |
	commit_blob dup.pth dup-key &&
	test_expect_code 1 git model fsck dup-key >out &&
	grep "^invalid pointer dup-key:dup.pth: .*line 4" out &&
	test_line_count = 1 out &&
	printf "version git-model/2\noid sha256:%s\nsize 12\n" $V1 |
	commit_blob v2.pth future &&
	test_expect_code 1 git model fsck --pointers future >out &&
	grep "^invalid pointer future:v2.pth: .*unsupported version" out
'

test_expect_success 'a tracked file committed raw is reported' '
	test-tool genrandom raw 4k | commit_blob raw.pth raw &&
	test_expect_code 1 git model fsck raw >out &&
	echo "raw file raw:raw.pth: tracked by git-model, but committed as content, not as a pointer (run ${SQ}git add --renormalize -- raw.pth${SQ} and commit)" >expect &&
	test_cmp expect out
'

test_expect_success 'untracked content and empty tracked files are fine' '
	git checkout -q -b fine main &&
	: >empty.pth &&
	test-tool genrandom other 4k >other.bin &&
	git add empty.pth other.bin &&
	git commit -q -m fine &&
	git checkout -q main &&
	git model fsck --pointers fine >out &&
	test_must_be_empty out
'

test_expect_success 'a pointer whose object is nowhere: --remote says so' '
	test-tool genrandom lost 8k >lost.bin &&
	lost=$(oid_of lost.bin) &&
	printf "version git-model/1\noid sha256:%s\nsize 8192\n" $lost |
	commit_blob lost.pth lost &&
	test_expect_code 1 git model fsck --remote lost >out &&
	url=file://$(echo "$TRASH_DIRECTORY" | sed "s/ /%20/g")/remote.git/model/objects &&
	echo "missing object $lost for lost:lost.pth: neither in the local store nor in storage ${SQ}$url${SQ} (run ${SQ}git model push --all${SQ} in a clone that has it)" >expect &&
	test_cmp expect out
'

test_expect_success '--remote without any storage says so' '
	git init -q -b main nostorage &&
	(
		cd nostorage &&
		git remote add origin git://example.invalid/repo.git &&
		git model track "*.pth" &&
		printf "version git-model/1\noid sha256:%s\nsize 8192\n" $lost >lost.pth &&
		git add .gitattributes lost.pth &&
		git commit -q -m lost &&
		test_expect_code 1 git model fsck --remote >out &&
		grep "^missing object $lost for HEAD:lost.pth: not in the local store, and no storage to look in (no model.storage is set" out
	)
'

test_expect_success 'a new repository without commits checks its store only' '
	git init -q empty &&
	git -C empty model fsck >out 2>err &&
	test_must_be_empty out &&
	test_terminal "git -C empty model fsck" >err &&
	grep "checked 0 object(s) (0 B) and 0 pointer(s) in 0 revision(s): no problems" err
'

# "git worktree add" runs the filter with GIT_WORK_TREE set, which the
# repository lookup (libgit2 1.5) refuses: check out in a second step.
add_worktree () {
	git worktree add -q --no-checkout "$@" &&
	git -C "$1" reset -q --hard
}

test_expect_success 'in a linked worktree fsck checks the shared store' '
	add_worktree wt main~0 &&
	p=$(obj .git/model/objects $V2) &&
	corrupt "$p" &&
	test_expect_code 1 git -C wt model fsck >out &&
	grep "^bad object $V2: .* moved to .$TRASH_DIRECTORY/.git/model/bad/$V2" out &&
	grep "^missing object $V2 for HEAD:w.pth" out &&
	git model fetch &&
	git -C wt model fsck
'

test_expect_success 'fsck in a bare remote checks its store and HEAD' '
	git -C remote.git model fsck >out 2>err &&
	test_must_be_empty out &&
	p=$(obj remote.git/model/objects $V2) &&
	corrupt "$p" &&
	test_expect_code 1 git -C remote.git model fsck >out &&
	grep "^bad object $V2" out &&
	test_path_is_file remote.git/model/bad/$V2
'

test_expect_success GNU_TIME 'a large object is hashed in flat memory' '
	test-tool genrandom big 128m >big.pth &&
	git add big.pth &&
	git commit -q -m big &&
	big=$(oid_of big.pth) &&
	rm big.pth &&
	/usr/bin/time -f "%M" -o rss git model fsck --objects >out &&
	test_must_be_empty out &&
	say "fsck of a 128 MiB object: peak RSS $(cat rss) KiB" &&
	test "$(cat rss)" -lt 65536
'

test_done
