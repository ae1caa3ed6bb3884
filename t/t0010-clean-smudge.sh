#!/bin/sh

test_description='one-shot clean and smudge, and the local store'

. "$(dirname "$0")/test-lib.sh"

object_path () {
	echo ".git/model/objects/sha256/$(echo $1 | cut -c1-2)/$(echo $1 | cut -c3-4)/$1"
}

test_expect_success 'clean turns content into a pointer and stores it' '
	test-tool genrandom one 100k >w.pth &&
	oid=$(sha256sum <w.pth | cut -d" " -f1) &&
	git model clean -- w.pth <w.pth >pointer &&
	cat >expect <<-EOF &&
	version git-model/1
	oid sha256:$oid
	size 102400
	EOF
	test_cmp expect pointer &&
	obj=$(object_path $oid) &&
	test_cmp_bin w.pth "$obj" &&
	test "$(stat -c %a "$obj")" = 444
'

test_expect_success 'clean leaves no temp file behind' '
	find .git/model/tmp -type f >left &&
	test_must_be_empty left
'

test_expect_success 'clean is deterministic' '
	git model clean <w.pth >pointer2 &&
	test_cmp pointer pointer2
'

test_expect_success 'clean passes a valid pointer through unchanged' '
	git model clean <pointer >again &&
	test_cmp pointer again
'

test_expect_success 'clean keeps an empty file empty' '
	git model clean </dev/null >empty &&
	test_must_be_empty empty
'

test_expect_success 'clean stores an almost-pointer as content' '
	sed "s/^size .*/size 0102400/" pointer >bad-pointer &&
	git model clean <bad-pointer >out &&
	test "$(sed -n 3p out)" = "size $(wc -c <bad-pointer)"
'

test_expect_success 'smudge turns a pointer back into the content' '
	git model smudge -- w.pth <pointer >out &&
	test_cmp_bin w.pth out
'

test_expect_success 'smudge passes small non-pointer content through' '
	echo "just text" >plain &&
	git model smudge <plain >out &&
	test_cmp plain out
'

test_expect_success 'smudge passes large non-pointer content through' '
	test-tool genrandom two 3m >large &&
	git model smudge <large >out &&
	test_cmp_bin large out
'

test_expect_success 'smudge of a missing object leaves the pointer and says why' '
	echo other >other &&
	git model pointer --file other >missing &&
	git model smudge -- "dir/my model.pth" <missing >out 2>err &&
	test_cmp missing out &&
	grep "dir/my model.pth" err &&
	grep "git model pull" err
'

test_expect_success 'smudge --skip passes pointers through' '
	git model smudge --skip <pointer >out &&
	test_cmp pointer out
'

test_expect_success 'smudge refuses an object whose size differs from the pointer' '
	oid=$(sed -n "s/^oid sha256://p" pointer) &&
	sed "s/^size .*/size 5/" pointer >wrong-size &&
	test_must_fail git model smudge -- w.pth <wrong-size >out 2>err &&
	grep "pointer says 5" err
'

test_expect_success 'a failing clean stores nothing and leaves no temp file' '
	rm -rf .git/model/tmp &&
	echo "not a directory" >.git/model/tmp &&
	test-tool genrandom three 10k >x.pth &&
	test_must_fail git model clean -- x.pth <x.pth >out 2>err &&
	grep "cannot clean .x.pth." err &&
	oid=$(sha256sum <x.pth | cut -d" " -f1) &&
	test_path_is_missing "$(object_path $oid)" &&
	rm .git/model/tmp
'

# clean_whole SIZE...: each size cleaned into the store comes out whole.
clean_whole () {
	for size in "$@"
	do
		test-tool genrandom "odd$size" $size >odd.pth &&
		git model clean -- odd.pth <odd.pth >out &&
		oid=$(sha256sum <odd.pth | cut -d" " -f1) &&
		grep "^oid sha256:$oid$" out &&
		test_cmp_bin odd.pth "$(object_path $oid)" || return 1
	done
}

# Objects over one 4 MiB block are written by a thread, straight to the
# disk where the file system takes O_DIRECT; the tail of an odd size and a
# first block written in pieces must still land where they belong.
test_expect_success 'objects of odd sizes over a block are stored whole' '
	clean_whole 4194303 4194304 4194305 8388607 12583689 262145
'

test_expect_success OTHER_FS 'the same in a repository on tmpfs' '
	shm=$(mktemp -d /dev/shm/t0010.XXXXXX) &&
	test_when_finished "rm -rf \"$shm\"" &&
	git init -q "$shm/repo" &&
	(
		cd "$shm/repo" &&
		clean_whole 4194305 12583689
	)
'

# A filter process keeps its spare blocks for the next object; what is left
# in a block from a bigger one must not reach a smaller one.
test_expect_success 'a filter process cleaning big and small files stores each whole' '
	git init -q reuse &&
	(
		cd reuse &&
		git model install --local >/dev/null &&
		git model track "*.pth" >/dev/null &&
		test-tool genrandom r1 12583689 >a.pth &&
		test-tool genrandom r2 1000 >b.pth &&
		test-tool genrandom r3 4194305 >c.pth &&
		test-tool genrandom r4 300000 >d.pth &&
		git add a.pth b.pth c.pth d.pth &&
		for f in a b c d
		do
			test_cmp_bin $f.pth \
				"$(obj .git/model/objects $(oid_of $f.pth))" ||
			return 1
		done
	)
'

# The directories are synced on a thread of their own (dir-sync.h); the
# first object in a new store makes every directory from its own up to
# .git, and a crash must not lose any of them.
test_expect_success STRACE 'new store directories are synced, up to .git' '
	git init -q dirs &&
	(
		cd dirs &&
		git model install --local >/dev/null &&
		git model track "*.pth" >/dev/null &&
		test-tool genrandom dirs 100k >m.pth &&
		strace -f -qq -y -o ../trace -e trace=fsync git add m.pth &&
		d=$(dirname "$(obj "$PWD/.git/model/objects" $(oid_of m.pth))") &&
		for dir in "$d" "${d%/*}" "${d%/*/*}" "$PWD/.git/model/objects" \
			"$PWD/.git/model" "$PWD/.git"
		do
			grep -F "<$dir>)" ../trace || return 1
		done
	)
'

# clean_eio CALL FILE: git model clean of FILE, every CALL failing with
# EIO (strace): it must fail. Its stderr in err.
clean_eio () {
	test_must_fail strace -f -qq -o /dev/null -e trace=$1 \
		-e inject=$1:error=EIO git model clean -- $2 <$2 >out 2>err
}

test_expect_success STRACE 'a directory that cannot be synced is an error' '
	test-tool genrandom nosync 10k >s.pth &&
	clean_eio fsync s.pth &&
	grep "cannot sync the directory .*/objects/sha256/" err &&
	test_cmp_bin s.pth "$(object_path $(oid_of s.pth))"
'

# An object is renamed into the store with mode 0400, its data synced on
# the dir-sync thread, then made 0444 (dir-sync.h): all before the command
# exits.
test_expect_success STRACE 'an object is synced, and made 0444, before clean exits' '
	test-tool genrandom synced 300k >y.pth &&
	strace -f -qq -y -o trace -e trace=fdatasync,fchmod \
		git model clean -- y.pth <y.pth >out &&
	o=$(object_path $(oid_of y.pth)) &&
	grep -F "fdatasync" trace | grep -F "/$o>" &&
	grep -F "fchmod" trace | grep -F "/$o>, 0444)" &&
	test "$(stat -c %a "$o")" = 444
'

# A crash before the sync can leave an object in place whose data never
# reached the disk: mode 0400 says so, and it is hashed before it is used.
test_expect_success 'an object left unsynced (mode 0400) is used once it checks out' '
	test-tool genrandom left 200k >u.pth &&
	git model clean -- u.pth <u.pth >u.ptr &&
	o=$(object_path $(oid_of u.pth)) &&
	chmod 0400 "$o" &&
	git model smudge -- u.pth <u.ptr >out &&
	test_cmp_bin u.pth out &&
	test "$(stat -c %a "$o")" = 444
'

test_expect_success 'an object left unsynced with other bytes is removed, not used' '
	o=$(object_path $(oid_of u.pth)) &&
	chmod 0600 "$o" &&
	test-tool genrandom garbage 200k >"$o" &&
	chmod 0400 "$o" &&
	git model smudge -- u.pth <u.ptr >out 2>err &&
	test_cmp u.ptr out &&
	grep "does not match its object id" err &&
	test_path_is_missing "$o" &&
	git model clean -- u.pth <u.pth >out &&
	test_cmp_bin u.pth "$o"
'

test_expect_success STRACE 'an object whose data cannot be synced is removed' '
	test-tool genrandom eio 100k >e.pth &&
	clean_eio fdatasync e.pth &&
	grep "cannot sync .*it was removed" err &&
	test_path_is_missing "$(object_path $(oid_of e.pth))"
'

# Each object waits on the dir-sync thread with its fd open. A disk slower
# than git (here every fdatasync takes 20 ms) must slow the filter down,
# not run it out of fds (ulimit -n 48: 12 pending at most).
test_expect_success STRACE 'many files on a slow disk do not run the filter out of fds' '
	git init -q many &&
	(
		cd many &&
		git model install --local >/dev/null &&
		git model track "*.pth" >/dev/null &&
		for i in $(seq 60)
		do
			test-tool genrandom "many$i" 2k >f$i.pth || return 1
		done &&
		(
			ulimit -n 48 &&
			strace -f -qq -o /dev/null -e trace=fdatasync \
				-e inject=fdatasync:delay_enter=20000 \
				git add . 2>../err
		) &&
		test_must_be_empty ../err &&
		for i in $(seq 60)
		do
			test_cmp_bin f$i.pth \
				"$(obj .git/model/objects $(oid_of f$i.pth))" ||
			return 1
		done
	)
'

test_done
