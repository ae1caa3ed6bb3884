#!/bin/sh
# (a) git add of one big file (PERF_BIG, default 2g), against the time
# "openssl dgst -sha256" takes to read and hash the same file: the floor
# for a clean filter, which must at least hash every byte.
#
# Targets: git-model >= 3x faster than git-lfs, and within 2x of the
# floor; git-model's filter <= 64 MiB. Warm cache for all three (see
# perf-lib.sh); git-model runs first, then git-lfs, then openssl.

. "$(dirname "$0")/perf-lib.sh"

perf_setup_repos
big=$(perf_human "$PERF_BIG")
perf_header "git add of one $big file"

test-tool genrandom big "$PERF_BIG" >model/big.bin &&
cp model/big.bin lfs/big.bin || perf_die "cannot write big.bin"

perf_warm model/big.bin
perf_git model model add big.bin
perf_warm lfs/big.bin
perf_git lfs lfs add big.bin
perf_warm model/big.bin
perf_time openssl dgst -sha256 model/big.bin

# Both indexes hold a pointer, not the bytes.
for side in model lfs
do
	size=$(git -C $side cat-file -s :big.bin) &&
	test "$size" -lt 1024 || perf_die "$side: big.bin was not cleaned"
done

perf_report "(a) add 1 x $big" --speedup 3 \
	--floor "$perf_cmd_secs" --floor-max 2
perf_done
