#!/bin/sh

test_description='clean answers an unchanged work tree file from its stat record

git keeps a file'"'"'s size mod 2^32 in its index, and a size of 0 is its
mark for an entry to check by content: a file of exactly 4 GiB goes
through the clean filter at every git status, and so does a racily clean
one once. Clean records the stat of a file it cleaned (inode, size, mtime
and ctime in ns); when git sends a file whose stat is the recorded one,
and whose bytes are the file'"'"'s, it answers the recorded object without
storing anything. Anything else is cleaned as before.'

. "$(dirname "$0")/test-lib.sh"

if ! test -x /usr/bin/time
then
	test_env_require_ci_service "GNU time" "/usr/bin/time (Debian package time) is needed to count the filter's writes"
fi

# The 4 GiB file is sparse; its object in the store is not. Its cases
# test git's size mod 2^32, the same code as the small file's: they run
# in the build without sanitizers (hashing and storing 4 GiB takes a
# minute under AddressSanitizer, many under ThreadSanitizer).
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if test "$free_kib" -gt 6291456 &&
	test -z "$GIT_MODEL_TEST_SANITIZER"
then
	test_set_prereq FOUR_GIB
fi

# The blocks of 512 bytes written (getrusage's ru_oublock: file data) by
# the processes /usr/bin/time ran since `io` was removed, beyond what a
# clean of empty content writes (ThreadSanitizer's runtime writes 512 KiB
# in each process, give or take a few KiB).
written () {
	awk -v base="$(cat "$TRASH_DIRECTORY/base")" \
		'{ n += $1 - base } END { print n + 0 }' io
}

# Nothing stored: less than 256 KiB, where storing the 8 MiB file again
# writes 16384 blocks. A sanitizer's runtime gives or takes 16 KiB, and a
# record written while other processes write much is charged up to 48 KiB
# (its page, and the file system's own blocks it dirties).
wrote_nothing () {
	test "$(written)" -lt 512
}

# Stored again: more than half a MiB.
wrote_data () {
	test "$(written)" -gt 1024
}

# clean FILE [PATH]: clean FILE as PATH (default FILE) by the one-shot
# filter, its pointer into `ptr`, its writes into `io` (through a pipe:
# writing `ptr` is not the filter's).
clean () {
	/usr/bin/time -a -o io -f %O git model clean -- "${2:-$1}" <"$1" |
	cat >ptr
}

# change_in_place FILE OFFSET: write one byte at OFFSET of FILE, then put
# its mtime back to the nanosecond (its ctime moves all the same).
change_in_place () {
	set -- "$1" "$2" "$(stat -c %.9Y "$1")" &&
	printf x | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null &&
	touch -m -d "@$3" "$1"
}

test_expect_success 'setup: the filter process under /usr/bin/time' '
	git model install --local &&
	/usr/bin/time -o base -f %O git model clean </dev/null &&
	git config filter.model.process \
		"/usr/bin/time -a -o \"$TRASH_DIRECTORY/io\" -f %O git-model filter-process" &&
	git model track "*.bin" &&
	git add .gitattributes &&
	git commit -q -m attributes &&
	test-tool genrandom mid 8m >mid.bin &&
	git add mid.bin &&
	git commit -q -m mid &&
	git tag mid
'

test_expect_success 'clean of an unchanged file writes nothing' '
	rm -f io &&
	clean mid.bin &&
	git cat-file -p HEAD:mid.bin >expect &&
	test_cmp expect ptr &&
	wrote_nothing &&
	ls .git/model/clean >records &&
	test_line_count = 1 records &&
	test_dir_is_empty .git/model/tmp
'

test_expect_success 'a change in place with the mtime put back is cleaned for real' '
	clean mid.bin &&
	old=$(grep "^oid" ptr) &&
	mtime=$(stat -c %.9Y mid.bin) &&
	change_in_place mid.bin 4096 &&
	test "$(stat -c %.9Y mid.bin)" = "$mtime" &&
	rm -f io &&
	clean mid.bin &&
	grep "^oid sha256:$(oid_of mid.bin)$" ptr &&
	! grep "^$old$" ptr &&
	wrote_data &&
	git status --porcelain -uno >status &&
	echo " M mid.bin" >expect &&
	test_cmp expect status &&
	git checkout mid.bin
'

test_expect_success 'other bytes under the path of a recorded file get their own object' '
	clean mid.bin &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	cp mid.bin same-size &&
	printf y | dd of=same-size bs=1 seek=8388000 conv=notrunc 2>/dev/null &&
	clean same-size mid.bin &&
	grep "^oid sha256:$(oid_of same-size)$" ptr &&
	head -c 4m mid.bin >shorter &&
	clean shorter mid.bin &&
	grep "^oid sha256:$(oid_of shorter)$" ptr &&
	cat mid.bin mid.bin >longer &&
	clean longer mid.bin &&
	grep "^oid sha256:$(oid_of longer)$" ptr &&
	git hash-object --path=mid.bin same-size >by-process &&
	git hash-object --path=other.bin same-size >expect &&
	test_cmp expect by-process
'

test_expect_success 'a file touched, its bytes the same: clean writes nothing' '
	clean mid.bin &&
	touch mid.bin &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	git cat-file -p HEAD:mid.bin >expect &&
	test_cmp expect ptr &&
	change_in_place mid.bin 8000000 &&
	rm -f io &&
	clean mid.bin &&
	grep "^oid sha256:$(oid_of mid.bin)$" ptr &&
	wrote_data &&
	git checkout mid.bin
'

# The bytes a command and its children read (rchar of /proc/<pid>/io,
# read before it is reaped: pipes and files, not sockets).
rchar () {
	python3 - "$@" <<-\EOF
	import os, subprocess, sys
	p = subprocess.Popen(sys.argv[1:], stdin=open(sys.argv[-1], "rb"),
	                     stdout=subprocess.DEVNULL)
	os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
	io = dict(l.split(": ") for l in open("/proc/%d/io" % p.pid))
	if p.wait():
	    sys.exit("command failed")
	print(int(io["rchar"]))
	EOF
}

test_expect_success 'a clean reads the bytes git sends, not the file again' '
	test-tool genrandom fresh 8m >fresh.bin &&
	read=$(rchar git model clean -- fresh.bin) &&
	say "clean of 8 MiB read $read bytes" &&
	test $read -lt 9437184 &&
	grep "^$(oid_of fresh.bin) 8388608 " \
		".git/model/clean/$(stat -c %d-%i fresh.bin)" &&
	read=$(rchar git model clean -- fresh.bin) &&
	test $read -lt 18874368 &&
	rm fresh.bin
'

test_expect_success 'a record never answers an object that is not in the store' '
	oid=$(oid_of mid.bin) &&
	rm "$(obj .git/model/objects $oid)" &&
	rm -f io &&
	clean mid.bin &&
	grep "^oid sha256:$oid$" ptr &&
	wrote_data &&
	test_path_is_file "$(obj .git/model/objects $oid)"
'

test_expect_success 'a broken record counts as none' '
	for r in .git/model/clean/*
	do
		chmod u+w "$r" && echo garbage >"$r" || return 1
	done &&
	clean mid.bin &&
	grep "^oid sha256:$(oid_of mid.bin)$" ptr &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	grep "^$(oid_of mid.bin) 8388608 " \
		".git/model/clean/$(stat -c %d-%i mid.bin)" &&
	test_dir_is_empty .git/model/tmp
'

test_expect_success 'two worktrees: each file has its own record' '
	git worktree add -q wt2 mid &&
	(
		cd wt2 &&
		clean mid.bin &&
		rm -f io &&
		clean mid.bin &&
		wrote_nothing &&
		printf z | dd of=mid.bin bs=1 seek=100 conv=notrunc 2>/dev/null &&
		clean mid.bin &&
		grep "^oid sha256:$(oid_of mid.bin)$" ptr
	) &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	git cat-file -p HEAD:mid.bin >expect &&
	test_cmp expect ptr
'

test_expect_success 'two worktrees cleaning at once' '
	(cd wt2 && git checkout -q mid.bin) &&
	for i in 1 2 3 4
	do
		git model clean -- mid.bin <mid.bin >ptr1 &
		(cd wt2 && git model clean -- mid.bin <mid.bin >ptr2) &&
		wait $! &&
		test_cmp ptr1 wt2/ptr2 &&
		git cat-file -p HEAD:mid.bin >expect &&
		test_cmp expect ptr1 || return 1
	done &&
	test_dir_is_empty .git/model/tmp
'

# A work tree on another file system than the store's (tmpfs).
shm=/dev/shm
if test -d $shm && test -w $shm &&
	test "$(stat -c %d $shm)" != "$(stat -c %d .)"
then
	test_set_prereq OTHER_FS
fi

test_expect_success OTHER_FS 'a worktree on another file system has records too' '
	wt3=$(mktemp -d $shm/t0118.XXXXXX) &&
	test_when_finished "git worktree remove --force $wt3; rm -rf $wt3" &&
	git worktree add -q "$wt3/wt" mid &&
	(
		cd "$wt3/wt" &&
		test-tool genrandom shm 2m >shm.bin &&
		# a clock tick (a few ms) for its ctime to be older than the clean
		sleep 0.1 &&
		clean shm.bin &&
		test_path_is_file "$TRASH_DIRECTORY/.git/model/clean/$(stat -c %d-%i shm.bin)" &&
		touch shm.bin &&
		rm -f io &&
		clean shm.bin &&
		wrote_nothing
	)
'

test_expect_success 'a file that checkout wrote has its record' '
	test-tool genrandom mid2 8m >mid.bin &&
	git commit -q -a -m mid2 &&
	git checkout -q mid &&
	test_cmp_bin mid.bin "$(obj .git/model/objects $(oid_of mid.bin))" &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	git cat-file -p mid:mid.bin >expect &&
	test_cmp expect ptr &&
	change_in_place mid.bin 4096 &&
	clean mid.bin &&
	grep "^oid sha256:$(oid_of mid.bin)$" ptr &&
	git checkout -q -f main &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing &&
	git cat-file -p main:mid.bin >expect &&
	test_cmp expect ptr
'

test_expect_success 'prune removes the records of files changed or gone' '
	ls .git/model/clean >before &&
	git model prune -n >out &&
	grep "^would remove [0-9]* clean record(s) of files changed or gone$" out &&
	git model prune -v >out &&
	grep "^removed [0-9]* clean record(s) of files changed or gone$" out &&
	ls .git/model/clean >after &&
	test $(wc -l <after) -lt $(wc -l <before) &&
	grep -x "$(stat -c %d-%i mid.bin)" after &&
	rm -f io &&
	clean mid.bin &&
	wrote_nothing
'

test_expect_success 'a touched file that clean answered keeps its record' '
	clean mid.bin &&
	record=.git/model/clean/$(stat -c %d-%i mid.bin) &&
	test_path_is_file $record &&
	touch mid.bin &&
	# a clock tick (a few ms) for its ctime to be older than the clean
	sleep 0.1 &&
	rm -f io &&
	git status --porcelain -uno >status &&
	test_must_be_empty status &&
	wrote_nothing &&
	grep " $(stat -c %Y mid.bin) [0-9]* $(stat -c %Z mid.bin) " $record &&
	git model prune -n >out &&
	! grep "clean record" out &&
	git model prune -v &&
	test_path_is_file $record &&
	test_dir_is_empty .git/model/tmp
'

test_expect_success FOUR_GIB 'a file of exactly 4 GiB: git status cleans it without writing' '
	truncate -s 4G big.bin &&
	git add big.bin &&
	git commit -q -m big &&
	git ls-files --debug big.bin >debug &&
	grep "size: 0" debug &&
	rm -f io &&
	git status --porcelain -uno >status &&
	git status --porcelain -uno >>status &&
	test_must_be_empty status &&
	test_line_count = 2 io &&
	wrote_nothing
'

test_expect_success FOUR_GIB 'the 4 GiB file changed in place is cleaned for real' '
	printf x | dd of=big.bin bs=1 seek=1073741824 conv=notrunc 2>/dev/null &&
	git status --porcelain -uno >status &&
	echo " M big.bin" >expect &&
	test_cmp expect status
'

test_done
