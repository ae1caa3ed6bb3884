#!/bin/sh
# (b) git add, (c) git checkout between two commits, (d) git clone, of two
# sets of files: PERF_SMALL (default 200x1m) and PERF_MEDIUM (20x64m).
#
# Each set gets its own repositories. v1 and v2 differ in every file; (c)
# checks v1 out with both versions in the local store; push (timed, no
# target) brings both to the remote, and (d) clones it, every file smudged
# from the remote's storage (file:// for both tools).
#
# Targets: git-model >= 2x faster than git-lfs in (b), (c) and (d); its
# filter <= 64 MiB. Warm cache for both (see perf-lib.sh): the work-tree
# files before add, the local store before checkout, the remote before
# push and clone; git-model runs first.

. "$(dirname "$0")/perf-lib.sh"

perf_header "add, checkout, push, clone of sets of files"

# files SET COUNTxSIZE: the scenarios for one set, in directory SET.
files () {
	count=${2%x*} size=${2#*x}
	label="$count x $(perf_human $size)"
	mkdir "$1" && cd "$1" || exit 1
	perf_setup_repos

	perf_gen model v1 $count $size &&
	cp model/f*.bin lfs/ || perf_die "cannot copy the files"
	perf_warm model/f*.bin
	perf_git model model add .
	perf_warm lfs/f*.bin
	perf_git lfs lfs add .
	perf_report "(b) add $label" --speedup 2

	for side in model lfs
	do
		(cd $side && git commit -q -m v1 && git tag v1) &&
		perf_gen $side v2 $count $size &&
		(cd $side && git add . && git commit -q -m v2 && git tag v2) ||
		perf_die "cannot commit v1 and v2 in $side"
	done

	perf_warm model/.git
	perf_git model model checkout -q v1
	perf_warm lfs/.git
	perf_git lfs lfs checkout -q v1
	perf_verify model v1 $count $size
	perf_verify lfs v1 $count $size
	perf_report "(c) checkout, $label" --speedup 2

	perf_warm model/.git
	perf_git model model push -q origin main --tags
	perf_warm lfs/.git
	perf_git lfs lfs push -q origin main --tags
	perf_report "push, 2 x $label"

	perf_warm model-remote.git
	perf_git model . clone -q "file://$PWD/model-remote.git" model-clone
	perf_warm lfs-remote.git
	perf_git lfs . clone -q "file://$PWD/lfs-remote.git" lfs-clone
	perf_verify model-clone v2 $count $size
	perf_verify lfs-clone v2 $count $size
	perf_report "(d) clone, $label" --speedup 2

	cd ..
}

files small "$PERF_SMALL"
files medium "$PERF_MEDIUM"
perf_done
