#!/bin/sh
# (a) git add of one big file (PERF_BIG, default 2g), against the time
# "openssl dgst -sha256" takes to read and hash the same file: the floor
# for a clean filter, which must at least hash every byte. For reference,
# also the time of copying the file with dd conv=fdatasync (git-model's
# clean writes the object into its store and syncs it; git-lfs's writes
# without syncing).
#
# Targets: git-model >= 3x faster than git-lfs, and within 2x of the
# floor; git-model's filter <= 64 MiB. Warm cache for all (see
# perf-lib.sh): git-model runs first, then git-lfs, openssl and dd.

. "$(dirname "$0")/perf-lib.sh"

perf_setup_repos
big=$(perf_human "$PERF_BIG")
perf_header "git add of one $big file"

test-tool genrandom big "$PERF_BIG" >model/big.bin &&
cp model/big.bin lfs/big.bin || perf_die "cannot write big.bin"

# Back to before the add: out of the index, nothing in the store.
unadd () {
	git -C $1 rm -q --cached big.bin &&
	rm -rf $1/.git/model/objects $1/.git/lfs/objects
}

perf_bench model model model/big.bin unadd add big.bin
perf_bench lfs lfs lfs/big.bin unadd add big.bin
perf_time model/big.bin openssl dgst -sha256 model/big.bin
floor=$perf_cmd_secs
perf_time model/big.bin dd if=model/big.bin of=copy.bin bs=1M conv=fdatasync
copy=$perf_cmd_secs
rm -f copy.bin

# Both indexes hold a pointer, not the bytes.
for side in model lfs
do
	size=$(git -C $side cat-file -s :big.bin) &&
	test "$size" -lt 1024 || perf_die "$side: big.bin was not cleaned"
done

model_secs=$perf_model_secs
perf_report "(a) add 1 x $big" --speedup 3 --floor "$floor" --floor-max 2
perf_note "$(awk -v c="$copy" -v m="$model_secs" 'BEGIN {
	printf "dd conv=fdatasync copies the file in %.2f s; git-model/copy %.2fx",
		c, m / (c > 0 ? c : 0.01)
}')"
perf_done
