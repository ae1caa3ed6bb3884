#!/bin/sh

test_description='file:// storage on a file system with reflinks: clones, not copies, never links'

. "$(dirname "$0")/test-lib.sh"

# A small XFS (reflinks on by default) in a file, loop-mounted. Needs root
# and mkfs.xfs (Debian package xfsprogs).
if ! command -v mkfs.xfs >/dev/null 2>&1
then
	test_env_require_ci_service "xfsprogs" "mkfs.xfs (Debian package xfsprogs) is needed for a reflink file system"
fi
mnt="$TRASH_DIRECTORY/mnt"
if ! { truncate -s 512m xfs.img && mkfs.xfs -q xfs.img &&
       mkdir "$mnt" && mount -o loop xfs.img "$mnt"; } 2>mount.err
then
	skip_all="cannot mount a loop XFS here: $(head -n 1 mount.err)"
	test_done
fi
# test_done runs it before it removes the trash directory.
umount_mnt () {
	umount "$mnt"
}
test_atexit umount_mnt

# shared FILE: how many of FILE's extents are shared with another file.
shared () {
	filefrag -v "$1" | grep -c shared
}

test_expect_success 'setup: repository and bare remote on XFS' '
	git model install &&
	git init -q --bare "$mnt/remote.git" &&
	git init -q "$mnt/work" &&
	(
		cd "$mnt/work" &&
		git model track "*.pth" &&
		test-tool genrandom w 8m >w.pth &&
		git add .gitattributes w.pth &&
		git commit -q -m w &&
		git remote add origin ../remote.git
	) &&
	test-tool genrandom w 8m >w
'

test_expect_success 'push clones the object into the remote store' '
	git -C "$mnt/work" push -q origin main &&
	oid=$(oid_of w) &&
	test_cmp_bin w "$(obj "$mnt/remote.git/model/objects" $oid)" &&
	test "$(stat -c %h "$(obj "$mnt/remote.git/model/objects" $oid)")" = 1 &&
	test "$(shared "$(obj "$mnt/remote.git/model/objects" $oid)")" -ge 1
'

test_expect_success 'clone takes a clone of it, hashed first' '
	git clone -q "$mnt/remote.git" "$mnt/copy" &&
	test_cmp_bin w "$mnt/copy/w.pth" &&
	oid=$(oid_of w) &&
	test "$(stat -c %h "$(obj "$mnt/copy/.git/model/objects" $oid)")" = 1 &&
	test "$(shared "$(obj "$mnt/copy/.git/model/objects" $oid)")" -ge 1
'

test_expect_success 'damage to one copy is not damage to the other' '
	oid=$(oid_of w) &&
	f="$(obj "$mnt/copy/.git/model/objects" $oid)" &&
	chmod u+w "$f" &&
	printf x | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_cmp_bin w "$(obj "$mnt/remote.git/model/objects" $oid)" &&
	test_cmp_bin w "$(obj "$mnt/work/.git/model/objects" $oid)"
'

test_expect_success 'a storage object with the wrong bytes is not cloned in' '
	oid=$(oid_of w) &&
	rm -rf "$mnt/copy" &&
	f="$(obj "$mnt/remote.git/model/objects" $oid)" &&
	chmod u+w "$f" &&
	printf x | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_expect_code 1 git clone -q "$mnt/remote.git" "$mnt/copy" 2>err &&
	grep "does not match its object id" err &&
	git -C "$mnt/copy" model pointer --check w.pth &&
	test_path_is_missing "$(obj "$mnt/copy/.git/model/objects" $oid)" &&
	ls "$mnt/copy/.git/model/tmp" >left &&
	test_must_be_empty left
'

test_done
