# perf-lib.sh: git's t/perf in miniature, git-model against git-lfs.
#
# Sourced by t/perf/pNNNN-*.sh. Each scenario runs git-model and Debian's
# git-lfs on the same generated data in the same run and prints, for each
# tool, the wall time and two peak RSS figures:
#
#   git (tree)  GNU time's %M for the git command: the largest single
#               process among git and everything it waited for (hooks,
#               the filter, git's own children);
#   filter      %M of the filter process alone: filter.<driver>.process
#               runs as "/usr/bin/time ... git-model filter-process" (and
#               "... git-lfs filter-process"); "-" when no filter ran.
#
# and then the ratio of the two times with the issue's target next to it
# ("met" or "MISSED"). Each command runs PERF_REPEAT times (3; 1 with
# PERF_QUICK), put back in between: the least time and the largest RSS
# are printed. Timings are printed, never asserted: a script fails only
# when a command fails or leaves wrong bytes in the work tree.
#
# Page cache: both tools run with a warm cache. Before every timed command
# `sync` flushes what earlier commands wrote (so one tool's writeback is not
# charged to the other) and everything the command reads (the work-tree
# files for add, .git for checkout and push, the remote for clone) is read
# once to /dev/null. git-model always runs first.
#
# Sizes come from the environment, in test-tool genrandom's notation (k, m,
# g suffixes; COUNTxSIZE for a set of files); PERF_QUICK=1 shrinks them all
# so that every script together takes well under a minute. PERF_REMOTES=DIR
# puts the bare remotes under DIR (another file system: neither tool can
# hard-link its objects there).
#
#	. "$(dirname "$0")/perf-lib.sh"
#	perf_setup_repos                  # ./model, ./lfs, their remotes
#	perf_remote model|lfs             # path of that remote
#	perf_bench model|lfs DIR WARM RESET ARGS...
#	                                  # time "git ARGS" in DIR
#	perf_time WARM COMMAND...         # time another command
#	perf_report LABEL [--speedup X] [--floor SECS --floor-max X]
#	            [--tree-max MIB]      # two rows and the targets
#	perf_note TEXT                    # a remark under them
#	perf_done                         # remove the trash directory

PERF_DIR=$(cd "$(dirname "$0")" && pwd) || exit 1
GIT_MODEL_BUILD_DIR=${GIT_MODEL_BUILD_DIR:-$(cd "$PERF_DIR/../.." && pwd)}
PATH="$GIT_MODEL_BUILD_DIR/src:$GIT_MODEL_BUILD_DIR/t/helper:$PATH"
export PATH
perf_name=$(basename "$0" .sh)

for perf_tool_ in git-model test-tool
do
	command -v $perf_tool_ >/dev/null 2>&1 || {
		echo "perf: no $perf_tool_ in $GIT_MODEL_BUILD_DIR (run 'make perf')" >&2
		exit 1
	}
done
command -v git-lfs >/dev/null 2>&1 || {
	echo "perf: git-lfs is not installed (apt-get install git-lfs)" >&2
	exit 1
}
test -x /usr/bin/time || {
	echo "perf: GNU time is not installed (apt-get install time)" >&2
	exit 1
}

# The scenarios' sizes; the issue's by default.
if test -n "$PERF_QUICK"
then
	: "${PERF_BIG:=64m}" "${PERF_HUGE:=128m}" "${PERF_ST:=64m}"
	: "${PERF_SMALL:=50x64k}" "${PERF_MEDIUM:=4x8m}" "${PERF_REPEAT:=1}"
else
	: "${PERF_BIG:=2g}" "${PERF_HUGE:=4g}" "${PERF_ST:=512m}"
	: "${PERF_SMALL:=200x1m}" "${PERF_MEDIUM:=20x64m}" "${PERF_REPEAT:=3}"
fi

# Nothing of the caller's git setup leaks in (as in t/test-lib.sh).
for perf_var_ in $(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p')
do
	case "$perf_var_" in
	GIT_MODEL_BUILD_DIR) ;;
	*) unset "$perf_var_" ;;
	esac
done
unset XDG_CONFIG_HOME
LANG=C LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_ATTR_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export LANG LC_ALL GIT_CONFIG_NOSYSTEM GIT_ATTR_NOSYSTEM GIT_TERMINAL_PROMPT

# One trash directory per script, removed by perf_done: the full sizes
# leave gigabytes behind. PERF_KEEP=1 keeps it.
PERF_ROOT=${PERF_ROOT:-$GIT_MODEL_BUILD_DIR/t/perf/trash}/$perf_name
case "$PERF_ROOT" in
*\'*) echo "perf: no quote in the trash path '$PERF_ROOT', please" >&2; exit 1 ;;
esac
rm -rf "$PERF_ROOT" && mkdir -p "$PERF_ROOT" && cd "$PERF_ROOT" || exit 1
# PERF_REMOTES=<dir>: the bare remotes there, e.g. on another file system.
if test -n "$PERF_REMOTES"
then
	PERF_REMOTES=$(cd "$PERF_REMOTES" && pwd) &&
	rm -rf "$PERF_REMOTES/$perf_name" || exit 1
fi
GIT_CEILING_DIRECTORIES=$(dirname "$PERF_ROOT")
HOME=$PERF_ROOT
export GIT_CEILING_DIRECTORIES HOME
git config --global user.name perf &&
git config --global user.email perf@example.com &&
git config --global init.defaultBranch main &&
git config --global advice.detachedHead false &&
# Both filters in the global config, so that clones get them too.
git model install --global >/dev/null &&
git lfs install --skip-repo >/dev/null || exit 1

perf_die () {
	echo "perf: $*" >&2
	exit 1
}

# perf_bytes SIZE: SIZE (64k, 1m, 2g) in bytes.
perf_bytes () {
	case "$1" in
	*k) echo $((${1%k} << 10)) ;;
	*m) echo $((${1%m} << 20)) ;;
	*g) echo $((${1%g} << 30)) ;;
	*) echo "$1" ;;
	esac
}

# perf_human SIZE: SIZE for a label (1m -> "1 MiB").
perf_human () {
	case "$1" in
	*k) echo "${1%k} KiB" ;;
	*m) echo "${1%m} MiB" ;;
	*g) echo "${1%g} GiB" ;;
	*) echo "$1 B" ;;
	esac
}

# perf_remote SIDE: the bare repository that is SIDE's "origin", for
# the repositories perf_setup_repos made in the current directory.
perf_remote () {
	if test -n "$PERF_REMOTES"
	then
		echo "$PERF_REMOTES/$perf_name/$(basename "$PWD")/$1-remote.git"
	else
		echo "$PWD/$1-remote.git"
	fi
}

# perf_setup_repos: ./model and ./lfs, each tracking *.bin with its tool,
# each with "origin" a bare repository (perf_remote) by file:// URL:
# git-model keeps the weights in that repository's own store
# (<bare>/model/objects), git-lfs 3 in <bare>/lfs/objects through its
# standalone transfer agent.
perf_setup_repos () {
	for perf_side_ in model lfs
	do
		perf_r_=$(perf_remote $perf_side_) &&
		git init -q --bare "$perf_r_" &&
		git init -q $perf_side_ &&
		(cd $perf_side_ && git $perf_side_ install --local >/dev/null &&
		 git $perf_side_ track '*.bin' >/dev/null &&
		 git add .gitattributes && git commit -q -m attributes &&
		 git tag v0 && git remote add origin "file://$perf_r_") ||
		perf_die "cannot set up the $perf_side_ repositories"
	done
}

# perf_gen DIR SEED COUNT SIZE: DIR/f1.bin .. fCOUNT.bin of SIZE bytes each,
# from the seeds SEED-1 .. SEED-COUNT.
perf_gen () {
	perf_i_=1
	while test $perf_i_ -le "$3"
	do
		test-tool genrandom "$2-$perf_i_" "$4" >"$1/f$perf_i_.bin" ||
		perf_die "cannot write $1/f$perf_i_.bin"
		perf_i_=$((perf_i_ + 1))
	done
}

# perf_verify DIR SEED COUNT SIZE: the files perf_gen wrote are there, by
# size and by their first 4 KiB (so a pointer or the other version left
# behind is caught without reading gigabytes).
perf_verify () {
	perf_want_=$(perf_bytes "$4")
	perf_head_=$((perf_want_ < 4096 ? perf_want_ : 4096))
	perf_i_=1
	while test $perf_i_ -le "$3"
	do
		perf_f_=$1/f$perf_i_.bin
		perf_got_=$(stat -c %s "$perf_f_" 2>/dev/null)
		test "$perf_got_" = "$perf_want_" ||
		perf_die "$perf_f_ has ${perf_got_:-no} bytes, not $perf_want_"
		test-tool genrandom "$2-$perf_i_" $perf_head_ >"$PERF_ROOT/head.want" &&
		head -c $perf_head_ "$perf_f_" | cmp -s - "$PERF_ROOT/head.want" ||
		perf_die "$perf_f_ does not hold the bytes of seed $2-$perf_i_"
		perf_i_=$((perf_i_ + 1))
	done
}

# perf_warm PATH...: flush earlier writes, then read every file under
# PATH into the page cache.
perf_warm () {
	sync
	find "$@" -type f -exec cat {} + >/dev/null
}

# perf_git SIDE DIR ARGS...: time "git ARGS" in DIR for SIDE (model or
# lfs), its filter wrapped in GNU time. Keeps the best of the runs since
# the last perf_report: perf_SIDE_secs the least time, perf_SIDE_tree and
# perf_SIDE_filter the largest peak RSS in KiB ("-": no filter ran).
perf_git () {
	perf_side_=$1 perf_dir_=$2
	shift 2
	case $perf_side_ in
	model) perf_filter_=git-model ;;
	lfs) perf_filter_=git-lfs ;;
	*) perf_die "perf_git: unknown side '$perf_side_'" ;;
	esac
	perf_log_=$PERF_ROOT/filter.out
	rm -f "$perf_log_"
	(cd "$perf_dir_" &&
	 /usr/bin/time -f "%e %M" -o "$PERF_ROOT/time.out" \
		git -c "filter.$perf_side_.process=/usr/bin/time -a -o '$perf_log_' -f %M $perf_filter_ filter-process" \
		"$@") >"$PERF_ROOT/out.out" 2>"$PERF_ROOT/err.out" || {
		echo "perf: 'git $*' failed in $perf_dir_:" >&2
		cat "$PERF_ROOT/err.out" >&2
		exit 1
	}
	read perf_secs_ perf_kib_ <"$PERF_ROOT/time.out"
	# One number per filter process; "Command exited..." lines skipped.
	perf_fkib_=$(awk '/^[0-9]+$/ { if ($1 > m) m = $1; n++ }
		END { print n ? m : "-" }' "$perf_log_" 2>/dev/null || echo -)
	eval "perf_old_=\"\$perf_${perf_side_}_secs \$perf_${perf_side_}_tree \$perf_${perf_side_}_filter\""
	set -- $(echo "$perf_secs_ $perf_kib_ $perf_fkib_ $perf_old_" | awk '{
		s = $1; t = $2; f = $3
		if (NF == 6) {
			if ($4 < s) s = $4
			if ($5 > t) t = $5
			if (f == "-" || ($6 != "-" && $6 > f)) f = $6
		}
		print s, t, f
	}')
	eval "perf_${perf_side_}_secs=\$1 perf_${perf_side_}_tree=\$2" \
		"perf_${perf_side_}_filter=\$3"
}

# perf_bench SIDE DIR WARM RESET ARGS...: PERF_REPEAT runs (3; 1 quick)
# of perf_git SIDE DIR ARGS..., each after perf_warm WARM; from the second
# run on, "RESET SIDE" first puts things back as they were before the
# first (RESET is a function, run in the current directory).
perf_bench () {
	perf_b_side_=$1 perf_b_dir_=$2 perf_b_warm_=$3 perf_b_reset_=$4
	shift 4
	perf_run_=1
	while test $perf_run_ -le "$PERF_REPEAT"
	do
		test $perf_run_ = 1 || $perf_b_reset_ $perf_b_side_ ||
		perf_die "cannot reset $perf_b_side_ for another run"
		perf_warm "$perf_b_warm_"
		perf_git $perf_b_side_ "$perf_b_dir_" "$@"
		perf_run_=$((perf_run_ + 1))
	done
}

# perf_time WARM COMMAND...: the least time of PERF_REPEAT runs of
# COMMAND, each after perf_warm WARM, in perf_cmd_secs.
perf_time () {
	perf_t_warm_=$1 perf_cmd_secs=
	shift
	perf_run_=1
	while test $perf_run_ -le "$PERF_REPEAT"
	do
		perf_warm "$perf_t_warm_"
		/usr/bin/time -f "%e" -o "$PERF_ROOT/time.out" "$@" \
			>"$PERF_ROOT/out.out" 2>"$PERF_ROOT/err.out" || {
			echo "perf: '$*' failed:" >&2
			cat "$PERF_ROOT/err.out" >&2
			exit 1
		}
		perf_cmd_secs=$(awk -v old="$perf_cmd_secs" \
			'{ print (old != "" && old < $1) ? old : $1 }' \
			"$PERF_ROOT/time.out")
		perf_run_=$((perf_run_ + 1))
	done
}

# perf_note TEXT: a remark under the last report.
perf_note () {
	echo "  note: $*"
}

# perf_header TEXT: the script's title and the column heads.
perf_header () {
	echo "$perf_name: $* (best of $PERF_REPEAT)"
	printf '%-32s %-9s %9s %14s %12s\n' scenario tool time "git (tree)" filter
}

# perf_report LABEL [--speedup X] [--floor SECS --floor-max X]
#	[--tree-max MIB]: one row per tool from the last perf_git of each,
# then the ratio git-lfs time / git-model time and the targets: that
# ratio >= X, git-model's time <= X times the floor, git-model's git (tree)
# <= MIB, and git-model's filter <= 64 MiB whenever a filter ran.
perf_report () {
	perf_label_=$1 perf_speedup_= perf_floor_= perf_floor_max_=
	perf_tree_max_=
	shift
	while test $# -gt 0
	do
		case "$1" in
		--speedup) perf_speedup_=$2 ;;
		--floor) perf_floor_=$2 ;;
		--floor-max) perf_floor_max_=$2 ;;
		--tree-max) perf_tree_max_=$2 ;;
		*) perf_die "perf_report: unknown option '$1'" ;;
		esac
		shift 2
	done
	awk -v l="$perf_label_" \
		-v ms="$perf_model_secs" -v mt="$perf_model_tree" \
		-v mf="$perf_model_filter" \
		-v ls="$perf_lfs_secs" -v lt="$perf_lfs_tree" \
		-v lf="$perf_lfs_filter" \
		-v speedup="$perf_speedup_" -v floor="$perf_floor_" \
		-v floor_max="$perf_floor_max_" -v tree_max="$perf_tree_max_" '
	function mib(kib) {
		return kib == "-" ? "-" : sprintf("%.1f MiB", kib / 1024)
	}
	function verdict(ok) { return ok ? "met" : "MISSED" }
	BEGIN {
		printf "%-32s %-9s %7.2f s %14s %12s\n", l, "git-model",
			ms, mib(mt), mib(mf)
		printf "%-32s %-9s %7.2f s %14s %12s\n", "", "git-lfs",
			ls, mib(lt), mib(lf)
		if (floor != "")
			printf "%-32s %-9s %7.2f s %14s %12s\n", "", "openssl",
				floor, "-", "-"
		# %e has 10 ms steps: a 0.00 s run counts as 0.01 s.
		r = ls / (ms > 0 ? ms : 0.01)
		line = sprintf("git-lfs/git-model time %.2fx", r)
		if (speedup != "")
			line = line sprintf(" (target >= %sx: %s)", speedup,
				verdict(r >= speedup))
		if (floor != "") {
			f = ms / (floor > 0 ? floor : 0.01)
			line = line sprintf("; git-model/floor %.2fx", f)
			if (floor_max != "")
				line = line sprintf(" (target <= %sx: %s)",
					floor_max, verdict(f <= floor_max))
		}
		if (tree_max != "")
			line = line sprintf("; git-model git (tree) %s " \
				"(target <= %s MiB: %s)", mib(mt), tree_max,
				verdict(mt / 1024 <= tree_max))
		if (mf != "-")
			line = line sprintf("; git-model filter %s " \
				"(target <= 64 MiB: %s)", mib(mf),
				verdict(mf / 1024 <= 64))
		print "  -> " line
	}'
	unset perf_model_secs perf_model_tree perf_model_filter \
		perf_lfs_secs perf_lfs_tree perf_lfs_filter
}

# perf_done: remove the trash directory unless PERF_KEEP is set.
perf_done () {
	cd / &&
	if test -z "$PERF_KEEP"
	then
		rm -rf "$PERF_ROOT" &&
		if test -n "$PERF_REMOTES"
		then
			rm -rf "$PERF_REMOTES/$perf_name"
		fi
	fi
}
