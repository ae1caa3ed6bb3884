#!/bin/sh
# (b) git add, (c) git checkout between two commits, (d) git clone, of two
# sets of files: PERF_SMALL (default 200x1m) and PERF_MEDIUM (20x64m).
#
# Each set gets its own repositories. v1 and v2 differ in every file; (c)
# checks v1 out from v2 with both versions in the local store; push (timed,
# no target) brings both to the remote, and (d) clones it, every file
# smudged from the remote's storage (file:// for both tools).
#
# Targets: git-model >= 2x faster than git-lfs in (b), (c) and (d); its
# filter <= 64 MiB. Warm cache for both (see perf-lib.sh): the work tree
# before add, .git before checkout and push, the remote before clone;
# git-model runs first.

. "$(dirname "$0")/perf-lib.sh"

perf_header "add, checkout, push, clone of sets of files"

# Put SIDE back as it was before the timed command, for another run.
unadd () {
	git -C $1 reset -q &&
	rm -rf $1/.git/model/objects $1/.git/lfs/objects
}
back_to_v2 () {
	git -C $1 checkout -q v2
}
# git-lfs takes what refs/remotes/origin/* reach as pushed already.
unpush () {
	rm -rf "$(perf_remote $1)" &&
	git init -q --bare "$(perf_remote $1)" &&
	for ref in $(git -C $1 for-each-ref --format='%(refname)' \
		refs/remotes/origin)
	do
		git -C $1 update-ref -d $ref || return 1
	done
}
unclone () {
	rm -rf $1-clone
}

# hardlinks WHAT MODEL-DIR LFS-DIR: a note when the tools hard-linked
# objects into those directories instead of copying them (both do, on one
# file system: git-lfs's standalone transfer agent, git-model's file://
# storage unless model.file.hardLinks=false).
hardlinks () {
	m=$(find "$2/model/objects" -type f -links +1 2>/dev/null | wc -l)
	l=$(find "$3/lfs/objects" -type f -links +1 2>/dev/null | wc -l)
	test "$m$l" = 00 ||
	perf_note "hard-linked instead of copied ($1): git-model $m objects," \
		"git-lfs $l: remote and repository share a file system" \
		"(PERF_REMOTES=<dir> puts the remotes elsewhere)"
}

# files SET COUNTxSIZE: the scenarios for one set, in directory SET.
files () {
	count=${2%x*} size=${2#*x}
	label="$count x $(perf_human $size)"
	mkdir "$1" && cd "$1" || exit 1
	perf_setup_repos

	perf_gen model v1 $count $size &&
	cp model/f*.bin lfs/ || perf_die "cannot copy the files"
	perf_bench model model model unadd add .
	perf_bench lfs lfs lfs unadd add .
	perf_report "(b) add $label" --speedup 2

	for side in model lfs
	do
		(cd $side && git commit -q -m v1 && git tag v1) &&
		perf_gen $side v2 $count $size &&
		(cd $side && git add . && git commit -q -m v2 && git tag v2) ||
		perf_die "cannot commit v1 and v2 in $side"
	done

	perf_bench model model model/.git back_to_v2 checkout -q v1
	perf_bench lfs lfs lfs/.git back_to_v2 checkout -q v1
	perf_verify model v1 $count $size
	perf_verify lfs v1 $count $size
	perf_report "(c) checkout, $label" --speedup 2

	perf_bench model model model/.git unpush push -q origin main --tags
	perf_bench lfs lfs lfs/.git unpush push -q origin main --tags
	perf_report "push, 2 x $label"
	hardlinks push "$(perf_remote model)" "$(perf_remote lfs)"

	perf_bench model . "$(perf_remote model)" unclone \
		clone -q "file://$(perf_remote model)" model-clone
	perf_bench lfs . "$(perf_remote lfs)" unclone \
		clone -q "file://$(perf_remote lfs)" lfs-clone
	perf_verify model-clone v2 $count $size
	perf_verify lfs-clone v2 $count $size
	perf_report "(d) clone, $label" --speedup 2
	hardlinks clone model-clone/.git lfs-clone/.git

	cd ..
}

files small "$PERF_SMALL"
files medium "$PERF_MEDIUM"
perf_done
