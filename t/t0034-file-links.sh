#!/bin/sh

test_description='file:// storage on one file system: objects are hard-linked both ways, hashed first, and model.file.hardLinks=false copies them'

. "$(dirname "$0")/test-lib.sh"

SQ="'"

# same_file A B: A and B are one inode
same_file () {
	test "$(stat -c %d:%i "$1")" = "$(stat -c %d:%i "$2")"
}

test_expect_success 'setup: a repository with weights and a bare remote' '
	git model install &&
	# Objects stay in the store: checkouts copy (t0105 tests lending).
	git config --global model.checkout copy &&
	git model track "*.pth" &&
	test-tool genrandom w 1m >w.pth &&
	git add .gitattributes w.pth &&
	git commit -q -m w &&
	git init -q --bare remote.git &&
	git remote add origin ./remote.git &&
	W=$(oid_of w.pth)
'

test_expect_success 'push links the object into the remote store' '
	git push -q origin main &&
	same_file "$(obj .git/model/objects $W)" "$(obj remote.git/model/objects $W)" &&
	test "$(stat -c %a "$(obj remote.git/model/objects $W)")" = 444 &&
	ls remote.git/model/objects/sha256/*/* >names &&
	! grep tmp names
'

# Workers that start together each find that the file system cannot
# clone; one that found it out after another had said so must still link.
test_expect_success 'a push of objects at once links every one' '
	git init -q many &&
	(
		cd many &&
		git model track "*.pth" &&
		for i in 1 2 3 4
		do
			test-tool genrandom many$i 64k >m$i.pth || return 1
		done &&
		git add . &&
		git commit -q -m many
	) &&
	for r in 1 2 3 4 5 6
	do
		git init -q --bare many$r.git &&
		git -C many -c model.concurrency=4 push -q ../many$r.git main &&
		for i in 1 2 3 4
		do
			o=$(oid_of many/m$i.pth) &&
			same_file "$(obj many/.git/model/objects $o)" \
				"$(obj many$r.git/model/objects $o)" || return 1
		done || return 1
	done
'

test_expect_success 'clone links it into its store and writes the file' '
	git clone -q remote.git copy &&
	test_cmp_bin w.pth copy/w.pth &&
	same_file "$(obj remote.git/model/objects $W)" "$(obj copy/.git/model/objects $W)" &&
	test_dir_is_empty copy/.git/model/tmp &&
	git -C copy status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'a remote object with the wrong bytes is not linked in' '
	git init -q --bare bad.git &&
	git push -q bad.git main &&
	o=$(obj bad.git/model/objects $W) &&
	cp "$o" damaged && rm -f "$o" &&
	printf X | dd of=damaged bs=1 seek=10 conv=notrunc 2>/dev/null &&
	chmod a-w damaged && mv damaged "$o" &&
	test_expect_code 1 git clone -q bad.git bad-copy 2>err &&
	grep "content does not match its object id: expected $W" err &&
	git -C bad-copy model pointer --check w.pth &&
	test_path_is_missing "$(obj bad-copy/.git/model/objects $W)" &&
	test_dir_is_empty bad-copy/.git/model/tmp &&
	test "$(stat -c %h "$o")" = 1
'

test_expect_success 'a writable remote object is copied, not linked' '
	git init -q --bare writable.git &&
	git -c model.file.hardLinks=false push -q writable.git main &&
	o=$(obj writable.git/model/objects $W) &&
	chmod u+w "$o" &&
	git clone -q writable.git writable-copy &&
	test_cmp_bin w.pth writable-copy/w.pth &&
	test "$(stat -c %h "$o")" = 1 &&
	test "$(stat -c %a "$(obj writable-copy/.git/model/objects $W)")" = 444
'

test_expect_success 'model.file.hardLinks=false copies both ways' '
	git init -q --bare copies.git &&
	git -c model.file.hardLinks=false push -q copies.git main &&
	test "$(stat -c %h "$(obj copies.git/model/objects $W)")" = 1 &&
	git -c model.file.hardLinks=false clone -q copies.git copies &&
	test_cmp_bin w.pth copies/w.pth &&
	test "$(stat -c %h "$(obj copies/.git/model/objects $W)")" = 1 &&
	test "$(stat -c %h "$(obj copies.git/model/objects $W)")" = 1
'

test_expect_success 'fsck says when a bad object is hard-linked' '
	git init -q --bare fsck.git &&
	git -c model.file.hardLinks=false push -q fsck.git main &&
	git clone -q fsck.git fsck-copy &&
	o=$(obj fsck-copy/.git/model/objects $W) &&
	chmod u+w "$o" &&
	printf X | dd of="$o" bs=1 seek=10 conv=notrunc 2>/dev/null &&
	test_expect_code 1 git -C fsck-copy model fsck --objects >out &&
	grep "^bad object $W: .* (it is hard-linked: its other names, e.g. in a file:// storage, hold the same bad bytes)$" out
'

test_expect_success OTHER_FS 'on another file system objects are copied' '
	other=$(mktemp -d /dev/shm/t0034.XXXXXX) &&
	test_when_finished "rm -rf \"$other\"" &&
	git init -q --bare "$other/remote.git" &&
	git push -q "$other/remote.git" main &&
	test "$(stat -c %h "$(obj "$other/remote.git/model/objects" $W)")" = 1 &&
	git clone -q "$other/remote.git" other-copy &&
	test_cmp_bin w.pth other-copy/w.pth &&
	test "$(stat -c %h "$(obj other-copy/.git/model/objects $W)")" = 1
'

test_expect_success 'prune leaves a fresh link in tmp/ alone, however old its object' '
	mkdir -p .git/model/tmp &&
	cp w.pth old && touch -d "3 days ago" old &&
	ln old .git/model/tmp/link-fresh &&
	cp w.pth older && touch -d "3 days ago" older &&
	mv older .git/model/tmp/object-stale &&
	git model prune 2>err &&
	test_path_is_file .git/model/tmp/link-fresh &&
	test_path_is_missing .git/model/tmp/object-stale
'

test_done
