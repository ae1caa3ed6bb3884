#!/bin/sh
# (e) git checkout of one huge file (PERF_HUGE, default 4g) whose object is
# in the local store: the peak RSS of git's whole process tree and of the
# filter alone. git keeps what a filter hands back in memory, so a file
# that passes through git costs git its size in RSS; git-model's
# model.smudgeInlineMax is to keep big files out of git's hands.
#
# Targets: git-model's git (tree) <= 256 MiB, its filter <= 64 MiB. Warm
# cache for both (see perf-lib.sh); git-model runs first.

. "$(dirname "$0")/perf-lib.sh"

perf_setup_repos
huge=$(perf_human "$PERF_HUGE")
perf_header "checkout of one $huge file"

test-tool genrandom huge-1 "$PERF_HUGE" >model/f1.bin &&
cp model/f1.bin lfs/f1.bin || perf_die "cannot write f1.bin"
for side in model lfs
do
	(cd $side && git add f1.bin && git commit -q -m v1 && git tag v1 &&
	 git checkout -q v0) && test ! -f $side/f1.bin ||
	perf_die "cannot commit f1.bin in $side"
done

# v0 has no f1.bin: checking v1 out writes all of it.
back_to_v0 () {
	git -C $1 checkout -q v0
}

perf_bench model model model/.git back_to_v0 checkout -q v1
perf_bench lfs lfs lfs/.git back_to_v0 checkout -q v1
perf_verify model huge 1 "$PERF_HUGE"
perf_verify lfs huge 1 "$PERF_HUGE"
perf_report "(e) checkout 1 x $huge" --tree-max 256
perf_done
