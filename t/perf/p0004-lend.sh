#!/bin/sh
# (f) model.checkout: one copy on disk (issue #22). Two versions of one
# file (PERF_LEND, default 1g; 64m with PERF_QUICK) are pushed to file://
# storage that copies (model.file.hardLinks=false, as a remote storage
# would); then, for model.checkout=copy and =auto (which lends on a file
# system without reflinks):
#
#   clone        elapsed time, and du of the clone against the file size
#   switch       git checkout v1, then v2: elapsed time and the bytes the
#                whole process tree wrote (GNU time's %O, 512-byte blocks
#                of getrusage: counted when written, before write-back)
#
# Targets: du of an auto clone <= 1.05 x the file; a switch between two
# local versions writes <= 5 % of the file's bytes; an auto clone takes
# no longer than a copy clone. git-model only; one run of each.

. "$(dirname "$0")/perf-lib.sh"

if test -n "$PERF_QUICK"
then
	: "${PERF_LEND:=64m}"
else
	: "${PERF_LEND:=1g}"
fi
size=$(perf_bytes "$PERF_LEND")
echo "$perf_name: one $(perf_human "$PERF_LEND") file, two versions, one run each"
echo "  file system: $(stat -f -c %T .)"

remote=$(perf_remote model)
git config --global model.file.hardLinks false &&
git init -q --bare "$remote" &&
git init -q work &&
(
	cd work &&
	git model track '*.bin' >/dev/null &&
	test-tool genrandom lend-1 "$PERF_LEND" >f.bin &&
	git add .gitattributes f.bin && git commit -q -m v1 && git tag v1 &&
	test-tool genrandom lend-2 "$PERF_LEND" >f.bin &&
	git commit -q -a -m v2 && git tag v2 &&
	git remote add origin "file://$remote" &&
	git push -q origin main --tags 2>/dev/null
) || perf_die "cannot set up the repository"
sum1=$(cd work && git checkout -q v1 && sha256sum <f.bin) &&
sum2=$(cd work && git checkout -q v2 && sha256sum <f.bin) ||
perf_die "cannot hash the versions"

# measure LABEL CMD...: run CMD under GNU time; prints the elapsed time and
# the MiB written by the process tree.
measure () {
	label=$1
	shift
	sync
	/usr/bin/time -f "%e %O" -o time.out "$@" ||
	perf_die "$label: '$*' failed"
	set -- $(tail -n 1 time.out)
	mib=$(echo "$2" | awk '{ printf "%.1f", $1 * 512 / 1048576 }')
	pct=$(echo "$2 $size" | awk '{ printf "%.1f", $1 * 512 * 100 / $2 }')
	printf '  %-22s %8ss %10s MiB written (%s %% of the file)\n' \
		"$label" "$1" "$mib" "$pct"
}

# check DIR SUM: DIR/f.bin hashes to SUM
check () {
	test "$(sha256sum <"$1/f.bin")" = "$2" ||
	perf_die "$1/f.bin does not hold the right bytes"
}

for how in copy auto
do
	echo "model.checkout=$how"
	git config --global model.checkout $how &&
	measure "clone" git clone -q "$remote" clone-$how
	check clone-$how "$sum2"
	# the version not checked out is fetched too: both local
	git -C clone-$how model fetch -q origin v1 >/dev/null 2>&1
	du=$(du -sk clone-$how | cut -f1)
	wt=$(du -sk --exclude=.git clone-$how | cut -f1)
	ratio=$(echo "$du $size" | awk '{ printf "%.2f", $1 * 1024 / $2 / 2 }')
	echo "  du of the clone with both versions local: $du KiB ($ratio x the two files)"
	git -C clone-$how checkout -q v1 2>/dev/null
	git -C clone-$how checkout -q main 2>/dev/null
	measure "switch to v1" git -C clone-$how checkout -q v1
	check clone-$how "$sum1"
	measure "switch to v2" git -C clone-$how checkout -q main
	check clone-$how "$sum2"
	measure "switch to v1 again" git -C clone-$how checkout -q v1
	check clone-$how "$sum1"
	git -C clone-$how checkout -q main
	rm -rf clone-$how
done

# A fresh clone (one version local) against the file.
git config --global model.checkout auto &&
git clone -q "$remote" fresh 2>/dev/null &&
check fresh "$sum2" &&
du=$(du -sk fresh | cut -f1) &&
echo "fresh auto clone: du $du KiB = $(echo "$du $size" | awk '{ printf "%.3f", $1 * 1024 / $2 }') x the file (target <= 1.05)"
perf_done
