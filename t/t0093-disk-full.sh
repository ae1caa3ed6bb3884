#!/bin/sh

test_description='a full disk and a file size limit during clean and download

A repository on a small tmpfs (mounting needs root: the tests skip when
mount is not permitted), and the same under "ulimit -f": git add of a file
the store has no room for fails with a clear message and leaves no
partial object; a download that runs out of room stores nothing; both
succeed once there is room again.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-fault-proxy.sh"

SMALL="$TRASH_DIRECTORY/small"

umount_small () {
	if test -n "$small_mounted"
	then
		umount "$SMALL" 2>/dev/null || umount -l "$SMALL"
		small_mounted=
	fi
	return 0
}

# Unmount however the script ends: the EXIT trap and test_done both run
# the functions registered with test_atexit.
test_atexit umount_small

mkdir "$SMALL" || BUG "cannot create '$SMALL'"
if mount -t tmpfs -o size=8m tmpfs "$SMALL" 2>/dev/null
then
	small_mounted=t
	trap 'test_atexit_exit_trap_' EXIT
	test_set_prereq TMPFS
else
	say "cannot mount a tmpfs (not root?): the disk-full tests are skipped"
fi

start_httpd

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

test_expect_success 'setup: git-model installed, weights in a local remote' '
	git config --global model.compression none &&
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom two 2m >two.pth &&
		test-tool genrandom half 512k >half.pth &&
		git add . &&
		git commit -q -m weights &&
		git remote add origin ../remote.git &&
		git push -q origin main &&
		git init -q --bare ../empty.git &&
		git remote add empty ../empty.git &&
		git -c model.storage="$HTTPD_URL/open/models" \
			model push --all empty
	) &&
	test_path_is_file "$(obj_path "$HTTPD_ROOT/open/models" $(oid_of work/two.pth))"
'

test_expect_success TMPFS 'git add of a file the store has no room for fails clearly' '
	git init -q "$SMALL/repo" &&
	(
		cd "$SMALL/repo" &&
		git model track "*.pth" &&
		test-tool genrandom five 5m >big.pth &&
		test_must_fail git add big.pth 2>../../err.add
	) &&
	cat err.add &&
	grep "^error: cannot write .*/model/tmp/.*: No space left on device" err.add &&
	grep "^error: cannot clean .big.pth." err.add &&
	test_path_is_missing "$SMALL/repo/.git/model/objects" &&
	test_model_tmp_clean "$SMALL/repo/.git" &&
	git -C "$SMALL/repo" ls-files >staged &&
	test_must_be_empty staged
'

test_expect_success TMPFS 'with room again, the same git add succeeds' '
	(
		cd "$SMALL/repo" &&
		test-tool genrandom five 2m >big.pth &&
		git add big.pth &&
		git commit -q -m big
	) &&
	git -C "$SMALL/repo" cat-file -p HEAD:big.pth >pointer &&
	git model pointer --check pointer &&
	test_model_store_ok "$SMALL/repo/.git" &&
	test_model_tmp_clean "$SMALL/repo/.git" &&
	rm -rf "$SMALL/repo"
'

test_expect_success TMPFS 'a download that runs out of room stores nothing' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git "$SMALL/clone" &&
	# leave about 1.5 MiB: half.pth fits, two.pth does not
	avail=$(df -k --output=avail "$SMALL" | tail -n 1) &&
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=$((avail - 1536)) 2>/dev/null &&
	test_must_fail git -C "$SMALL/clone" -c model.retries=0 \
		-c model.concurrency=1 model fetch 2>err.fetch &&
	cat err.fetch &&
	grep "cannot download .two.pth." err.fetch &&
	grep "No space left on device" err.fetch &&
	! grep "cannot download .half.pth." err.fetch &&
	test_path_is_file "$(obj_path "$SMALL/clone/.git/model/objects" $(oid_of work/half.pth))" &&
	grep -i "no space left on device\|cannot write" err.fetch &&
	test_path_is_missing "$(obj_path "$SMALL/clone/.git/model/objects" $(oid_of work/two.pth))" &&
	test_model_store_ok "$SMALL/clone/.git" &&
	test_model_tmp_clean "$SMALL/clone/.git" &&
	git -C "$SMALL/clone" model pointer --check two.pth
'

# A directory storage's object written into a full disk: the store names
# the cause, and the line that names the file does not blame the storage.
test_expect_success TMPFS 'a download into a full disk does not blame the bytes' '
	! grep "do not match" err.fetch
'

test_expect_success TMPFS 'with room again, git model pull gets the right bytes' '
	rm "$SMALL/filler" &&
	git -C "$SMALL/clone" model pull 2>err.pull &&
	test_cmp_bin work/two.pth "$SMALL/clone/two.pth" &&
	test_cmp_bin work/half.pth "$SMALL/clone/half.pth" &&
	test_model_store_ok "$SMALL/clone/.git" &&
	test -z "$(ls -A "$SMALL/clone/.git/model/incomplete" 2>/dev/null)" &&
	rm -rf "$SMALL/clone"
'

test_expect_success TMPFS 'an HTTP download that runs out of room stores nothing' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git "$SMALL/clone" &&
	git -C "$SMALL/clone" config model.storage "$HTTPD_URL/open/models" &&
	avail=$(df -k --output=avail "$SMALL" | tail -n 1) &&
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=$((avail - 1536)) 2>/dev/null &&
	test_must_fail git -C "$SMALL/clone" -c model.retries=0 \
		-c model.concurrency=1 model fetch 2>err.hfetch &&
	cat err.hfetch &&
	grep "cannot download .two.pth." err.hfetch &&
	! grep "cannot download .half.pth." err.hfetch &&
	test_model_store_ok "$SMALL/clone/.git" &&
	test_path_is_file "$(obj_path "$SMALL/clone/.git/model/objects" $(oid_of work/half.pth))" &&
	test_path_is_missing "$(obj_path "$SMALL/clone/.git/model/objects" $(oid_of work/two.pth))" &&
	test_model_store_ok "$SMALL/clone/.git" &&
	git -C "$SMALL/clone" model pointer --check two.pth
'

# libcurl's "Failure writing output to destination" hides the errno:
# transfer.c keeps the one of the failed write(2).
test_expect_success TMPFS 'an HTTP download that runs out of room says so' '
	grep -i "no space left on device" err.hfetch
'

test_expect_success TMPFS 'with room again, the HTTP pull gets the right bytes' '
	rm "$SMALL/filler" &&
	git -C "$SMALL/clone" model pull 2>err.hpull &&
	test_cmp_bin work/two.pth "$SMALL/clone/two.pth" &&
	test_cmp_bin work/half.pth "$SMALL/clone/half.pth" &&
	test_model_store_ok "$SMALL/clone/.git" &&
	test -z "$(ls -A "$SMALL/clone/.git/model/incomplete" 2>/dev/null)" &&
	rm -rf "$SMALL/clone"
'

test_expect_success TMPFS 'a lending checkout needs no room: it moves the objects' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git "$SMALL/clone" &&
	git -C "$SMALL/clone" model fetch 2>err.cofetch &&
	avail=$(df -k --output=avail "$SMALL" | tail -n 1) &&
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=$((avail - 1024)) 2>/dev/null &&
	git -C "$SMALL/clone" model checkout 2>err.lend &&
	test_cmp_bin work/two.pth "$SMALL/clone/two.pth" &&
	test_cmp_bin work/half.pth "$SMALL/clone/half.pth" &&
	rm -rf "$SMALL/clone" "$SMALL/filler"
'

# A copy needs the room that a loan does not (model.checkout = copy).
test_expect_success TMPFS 'a checkout that runs out of room leaves the pointer, no temp file' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git "$SMALL/clone" &&
	git -C "$SMALL/clone" config model.checkout copy &&
	git -C "$SMALL/clone" model fetch 2>err.cofetch &&
	avail=$(df -k --output=avail "$SMALL" | tail -n 1) &&
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=$((avail - 1024)) 2>/dev/null &&
	test_must_fail git -C "$SMALL/clone" model checkout 2>err.co &&
	cat err.co &&
	grep "No space left on device" err.co &&
	grep "two.pth" err.co &&
	git -C "$SMALL/clone" model pointer --check two.pth &&
	ls -a "$SMALL/clone" >out.co &&
	! grep "git-model-" out.co &&
	test_model_store_ok "$SMALL/clone/.git"
'

test_expect_success TMPFS 'with room again, git model checkout puts the weights' '
	rm "$SMALL/filler" &&
	git -C "$SMALL/clone" model checkout 2>err.co2 &&
	test_cmp_bin work/two.pth "$SMALL/clone/two.pth" &&
	test_cmp_bin work/half.pth "$SMALL/clone/half.pth" &&
	# not "git status": whether the first checkout could still write the
	# index depends on what was freed first, and when it could not, the
	# file it wrote stays "modified" (t0098 has that, made certain)
	git -C "$SMALL/clone" model status >out.co2 &&
	sed -n "/^Files holding pointer text/,/^Disk use:$/p" out.co2 |
	sed "\$d" >pointers &&
	printf "Files holding pointer text (run %s):\n\t(none)\n" \
		"'"'git model pull'"'" >expect &&
	test_cmp expect pointers &&
	rm -rf "$SMALL/clone"
'

test_expect_success 'ulimit -f: git add of a file over the limit fails, no object' '
	git init -q ulimit &&
	(
		cd ulimit &&
		git model track "*.pth" &&
		test-tool genrandom five 5m >big.pth &&
		# 1024 blocks: 512 KiB or 1 MiB, whichever unit the shell uses
		(
			ulimit -f 1024 &&
			test_must_fail git add big.pth 2>../err.ulimit
		)
	) &&
	cat err.ulimit &&
	grep "clean filter .model. failed" err.ulimit &&
	test_path_is_missing ulimit/.git/model/objects &&
	git -C ulimit ls-files >staged &&
	test_must_be_empty staged
'

# git-model ignores SIGXFSZ, so write(2) fails with EFBIG: "File too
# large", and the temp file is removed.
test_expect_success 'ulimit -f: the message says why, and tmp/ is left clean' '
	grep "File too large" err.ulimit &&
	test_model_tmp_clean ulimit/.git
'

test_expect_success 'ulimit -f: without the limit, the same git add succeeds' '
	git -C ulimit add big.pth &&
	git -C ulimit commit -q -m big &&
	git -C ulimit cat-file -p HEAD:big.pth >pointer &&
	git model pointer --check pointer &&
	test_model_store_ok ulimit/.git
'

test_expect_success 'ulimit -f during a download: it fails, nothing stored' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git ulclone &&
	# over HTTP: from a directory storage on a file system with
	# copy-on-write clones, an object is cloned, which writes nothing
	(
		ulimit -f 1024 &&
		git -C ulclone -c model.storage="$HTTPD_URL/open/models" \
			-c model.retries=0 model fetch 2>err.ulfetch
		echo $? >ulfetch.code
	) &&
	cat err.ulfetch &&
	test "$(cat ulfetch.code)" != 0 &&
	test_path_is_missing "$(obj_path ulclone/.git/model/objects $(oid_of work/two.pth))" &&
	test_model_store_ok ulclone/.git
'

# The same for git model fetch.
test_expect_success 'ulimit -f during a download: an error that says why' '
	test "$(cat ulfetch.code)" -lt 128 &&
	grep "File too large" err.ulfetch
'

test_expect_success 'ulimit -f during a download: without the limit the pull succeeds' '
	git -C ulclone model pull 2>err.ulpull &&
	test_cmp_bin work/two.pth ulclone/two.pth &&
	test_cmp_bin work/half.pth ulclone/half.pth &&
	test_model_store_ok ulclone/.git
'
# A pointer may say any size, and a storage may send bytes without end:
# the download is refused before its first byte when the disk has no
# room for the size, and nothing fills the disk.
test_expect_success TMPFS 'a pointer bigger than the disk is refused, nothing written' '
	git init -q --bare bomb.git &&
	git init -q bomb &&
	(
		cd bomb &&
		git model track "*.pth" &&
		printf "version git-model/1\noid sha256:%s\nsize %s\n" \
			$(printf bomb | sha256sum | cut -d" " -f1) \
			9223372036854775807 >pointer &&
		blob=$(git hash-object -w pointer) &&
		git update-index --add --cacheinfo 100644,$blob,huge.pth &&
		git add .gitattributes &&
		git commit -q -m bomb &&
		git push -q --no-verify ../bomb.git main
	) &&
	start_proxy endless 1000 &&
	test_when_finished stop_proxy &&
	test_expect_code 1 git -c model.storage="$PROXY_URL/endless" -c model.retries=0 \
		clone -q bomb.git "$SMALL/bomb" 2>err.bomb &&
	cat err.bomb &&
	grep "huge.pth.*No space left on device: it needs 8192.00 PiB, and .* has .* free (nothing was downloaded)" err.bomb &&
	! grep "^GET" proxy.log &&
	test -z "$(ls -A "$SMALL/bomb/.git/model/incomplete" 2>/dev/null)" &&
	used=$(df -k --output=used "$SMALL" | tail -n 1) &&
	test "$used" -lt 4096 &&
	git -C "$SMALL/bomb" model pointer --check huge.pth
'

# A pointer whose size fits, from a storage that sends more: never more
# than the size is written, and no partial file stays.
test_expect_success TMPFS 'bytes beyond the pointer size are never written' '
	(
		cd bomb &&
		printf "version git-model/1\noid sha256:%s\nsize %s\n" \
			$(printf bomb | sha256sum | cut -d" " -f1) \
			1048576 >pointer &&
		blob=$(git hash-object -w pointer) &&
		git update-index --add --cacheinfo 100644,$blob,huge.pth &&
		git commit -q -m "a bomb that fits" &&
		git push -q --no-verify ../bomb.git main
	) &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C "$SMALL/bomb" pull -q &&
	start_proxy endless 1000 &&
	test_when_finished stop_proxy &&
	test_must_fail git -C "$SMALL/bomb" -c model.storage="$PROXY_URL/endless" \
		-c model.retries=0 model pull 2>err.bomb2 &&
	cat err.bomb2 &&
	grep "huge.pth.*more bytes than the pointer says" err.bomb2 &&
	grep "^GET" proxy.log &&
	test -z "$(find "$SMALL/bomb/.git/model" -type f -size +0)" &&
	test -z "$(ls -A "$SMALL/bomb/.git/model/incomplete")" &&
	used=$(df -k --output=used "$SMALL" | tail -n 1) &&
	test "$used" -lt 4096
'

# With a partial download for an object that nothing wants any more,
# prune removes it once nobody has written to it for an hour.
test_expect_success TMPFS 'prune removes partial downloads nothing wants' '
	mkdir -p "$SMALL/bomb/.git/model/incomplete" &&
	unwanted=$(printf unwanted | sha256sum | cut -d" " -f1) &&
	wanted=$(printf bomb | sha256sum | cut -d" " -f1) &&
	test-tool genrandom part 100k >"$SMALL/bomb/.git/model/incomplete/$unwanted" &&
	test-tool genrandom part 100k >"$SMALL/bomb/.git/model/incomplete/$wanted" &&
	touch -d "2 hours ago" "$SMALL/bomb/.git/model/incomplete/$unwanted" \
		"$SMALL/bomb/.git/model/incomplete/$wanted" &&
	git -C "$SMALL/bomb" model prune 2>err.prune &&
	cat err.prune &&
	grep "removed 1 stale temp file" err.prune &&
	test_path_is_missing "$SMALL/bomb/.git/model/incomplete/$unwanted" &&
	test_path_is_file "$SMALL/bomb/.git/model/incomplete/$wanted" &&
	rm -rf "$SMALL/bomb"
'

test_done
