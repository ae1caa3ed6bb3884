# test-lib.sh: the library every t/tNNNN-*.sh script sources, after git's
# t/test-lib.sh. It gives each script a trash directory with HOME inside,
# runs test bodies, and prints TAP on stdout.
#
#	test_description='what this script tests'
#	. "$(dirname "$0")/test-lib.sh"
#	test_expect_success 'name' '
#		git model track "*.pth" &&
#		test_cmp expect actual
#	'
#	test_done
#
# Options: -v (show test output), -i (stop at the first failure),
# -d (keep the trash directory), -x (trace the bodies).
#
# fd 3 is the script's stdout and fd 4 its stderr; test bodies write to them
# only with -v, so TAP on stdout stays clean.

# Where we are.
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
: "${GIT_MODEL_SRC_DIR:=$(cd "$TEST_DIRECTORY/.." && pwd)}"
: "${GIT_MODEL_BUILD_DIR:=$GIT_MODEL_SRC_DIR}"
export TEST_DIRECTORY GIT_MODEL_SRC_DIR GIT_MODEL_BUILD_DIR
this_test=$(basename "$0" .sh)

verbose= immediate= debug= trace=
for arg
do
	case "$arg" in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	-d|--debug) debug=t ;;
	-x) trace=t verbose=t ;;
	*) echo "Bail out! unknown option '$arg'"; exit 1 ;;
	esac
done

if ! test -x "$GIT_MODEL_BUILD_DIR/src/git-model"
then
	echo "Bail out! git-model is not built; run make"
	exit 1
fi
PATH="$GIT_MODEL_BUILD_DIR/src:$GIT_MODEL_BUILD_DIR/t/helper:$PATH"
export PATH

# A clean environment: nothing from the caller's git or AWS setup leaks in.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_COUNT GIT_CONFIG_GLOBAL GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CEILING_DIRECTORIES \
	GIT_NAMESPACE GIT_TRACE GIT_TRACE_PACKET XDG_CONFIG_HOME \
	GIT_ASKPASS SSH_ASKPASS
for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p')
do
	unset "$v"
done
LANG=C LC_ALL=C TZ=UTC
GIT_CONFIG_NOSYSTEM=1 GIT_ATTR_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL='committer@example.com'
GIT_AUTHOR_DATE='1112911993 -0700' GIT_COMMITTER_DATE='1112911993 -0700'
EDITOR=: PAGER=cat GIT_PAGER=cat
export LANG LC_ALL TZ GIT_CONFIG_NOSYSTEM GIT_ATTR_NOSYSTEM \
	GIT_TERMINAL_PROMPT GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_AUTHOR_DATE \
	GIT_COMMITTER_DATE EDITOR PAGER GIT_PAGER

exec 3>&1 4>&2
test_count=0 test_failure=0 test_fixed=0 test_broken=0 test_skipped=0
test_cleanup=:

say () {
	echo "# $*" >&3
}

# skip_all: set it and call test_done before any test to skip the script.
test_done () {
	trap - EXIT
	if test -n "$skip_all" && test $test_count = 0
	then
		echo "1..0 # SKIP $skip_all"
		cd / && rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	echo "1..$test_count"
	if test $test_broken != 0
	then
		say "still have $test_broken known breakage(s)"
	fi
	if test $test_failure = 0
	then
		say "passed all $test_count test(s)"
		if test -z "$debug"
		then
			cd / && rm -rf "$TRASH_DIRECTORY"
		fi
		exit 0
	fi
	say "failed $test_failure among $test_count test(s)"
	say "trash directory kept: $TRASH_DIRECTORY"
	exit 1
}

die_early () {
	echo "Bail out! $this_test exited in the middle of a test (a test body called exit?)"
	exit 1
}

# Prerequisites.
satisfied_prereq=' '
lazy_prereq=' '

test_set_prereq () {
	satisfied_prereq="$satisfied_prereq$1 "
}

test_lazy_prereq () {
	lazy_prereq="$lazy_prereq$1 "
	eval "test_prereq_script_$1=\$2"
}

test_have_prereq () {
	save_IFS=$IFS
	IFS=,
	set -- $1
	IFS=$save_IFS
	for p
	do
		negate=
		case "$p" in
		!*) negate=t p=${p#!} ;;
		esac
		case "$lazy_prereq" in
		*" $p "*)
			lazy_prereq=$(echo "$lazy_prereq" | sed "s/ $p / /")
			eval "script=\$test_prereq_script_$p"
			if (
				mkdir -p "$TRASH_DIRECTORY/prereq-$p" &&
				cd "$TRASH_DIRECTORY/prereq-$p" &&
				eval "$script"
			) >/dev/null 2>&1
			then
				test_set_prereq "$p"
			fi
			rm -rf "$TRASH_DIRECTORY/prereq-$p"
			;;
		esac
		case "$satisfied_prereq" in
		*" $p "*) have=t ;;
		*) have= ;;
		esac
		if test -z "$negate" && test -z "$have"
		then
			missing_prereq=$p
			return 1
		fi
		if test -n "$negate" && test -n "$have"
		then
			missing_prereq="!$p"
			return 1
		fi
	done
	return 0
}

test_when_finished () {
	test_cleanup="{ $*
		} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

# Run a body in this shell (so variables persist, as in git's tests), with
# its output hidden unless -v.
test_eval_ () {
	test_cleanup=:
	if test -n "$trace"
	then
		set -x
	fi
	if test -n "$verbose"
	then
		eval "$1" >&3 2>&4
	else
		eval "$1" >/dev/null 2>&1
	fi
	eval_ret=$?
	set +x
	if test -n "$verbose"
	then
		eval "$test_cleanup" >&3 2>&4
	else
		eval "$test_cleanup" >/dev/null 2>&1
	fi
	cd "$TRASH_DIRECTORY"
	return $eval_ret
}

test_run_ () {
	test_count=$((test_count + 1))
	if test $# = 3
	then
		prereq=$1
		shift
		if ! test_have_prereq "$prereq"
		then
			echo "ok $test_count # skip $1 (missing $missing_prereq)"
			test_skipped=$((test_skipped + 1))
			return 1
		fi
	fi
	if test -n "$verbose"
	then
		echo "# expecting success of $this_test.$test_count '$1':$2" >&3
	fi
	return 0
}

test_expect_success () {
	test $# = 2 || test $# = 3 ||
	{ echo "Bail out! test_expect_success needs 2 or 3 arguments"; exit 1; }
	test_run_ "$@" || return 0
	test $# = 3 && shift
	if test_eval_ "$2"
	then
		echo "ok $test_count - $1"
	else
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed 's/^/#	/'
		if test -n "$immediate"
		then
			say "stopping at the first failure (-i)"
			test_done
		fi
	fi
}

test_expect_failure () {
	test_run_ "$@" || return 0
	test $# = 3 && shift
	if test_eval_ "$2"
	then
		test_fixed=$((test_fixed + 1))
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		echo "not ok $test_count - $1 # TODO known breakage"
	fi
}

# Skip a whole script for a missing service, except in CI, where a missing
# service is a failure.
test_env_require_ci_service () {
	if test "$CI" = true
	then
		test_count=$((test_count + 1))
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $1 is required under CI ($2)"
		test_done
	fi
	skip_all="$2"
	test_done
}

# Assertions and helpers.

test_must_fail () {
	"$@" 2>&7
	exit_code=$?
	if test $exit_code = 0
	then
		echo >&4 "test_must_fail: command succeeded: $*"
		return 1
	elif test $exit_code -gt 129 && test $exit_code -le 192
	then
		echo >&4 "test_must_fail: died by signal $((exit_code - 128)): $*"
		return 1
	elif test $exit_code = 127 || test $exit_code = 126
	then
		echo >&4 "test_must_fail: command not found: $*"
		return 1
	fi
	return 0
} 7>&2 2>&4

test_might_fail () {
	"$@"
	exit_code=$?
	if test $exit_code -gt 129 || test $exit_code = 127
	then
		echo >&4 "test_might_fail: bad exit code $exit_code: $*"
		return 1
	fi
	return 0
}

test_expect_code () {
	want_code=$1
	shift
	"$@"
	exit_code=$?
	if test $exit_code = "$want_code"
	then
		return 0
	fi
	echo >&4 "test_expect_code: exit code $exit_code, not $want_code: $*"
	return 1
}

test_cmp () {
	diff -u "$@"
}

test_cmp_bin () {
	cmp "$@"
}

test_line_count () {
	if test $# != 3
	then
		echo >&4 "usage: test_line_count <op> <n> <file>"
		return 1
	fi
	if ! test "$(wc -l <"$3")" "$1" "$2"
	then
		echo >&4 "test_line_count: line count of '$3' is not $1 $2:"
		cat "$3" >&4
		return 1
	fi
}

test_path_is_file () {
	test -f "$1" || { echo >&4 "file '$1' does not exist"; return 1; }
}

test_path_is_dir () {
	test -d "$1" || { echo >&4 "directory '$1' does not exist"; return 1; }
}

test_path_is_missing () {
	if test -e "$1" || test -L "$1"
	then
		echo >&4 "path '$1' exists and should not"
		return 1
	fi
}

test_path_is_executable () {
	test -x "$1" || { echo >&4 "'$1' is not executable"; return 1; }
}

test_file_not_empty () {
	test -s "$1" || { echo >&4 "'$1' is empty or missing"; return 1; }
}

test_must_be_empty () {
	test_path_is_file "$1" || return 1
	if test -s "$1"
	then
		echo >&4 "'$1' is not empty:"
		cat "$1" >&4
		return 1
	fi
}

test_write_lines () {
	printf '%s\n' "$@"
}

test_seq () {
	seq "$@"
}

test_tick () {
	if test -z "${test_tick+t}"
	then
		test_tick=1112911993
	else
		test_tick=$((test_tick + 60))
	fi
	GIT_COMMITTER_DATE="$test_tick -0700"
	GIT_AUTHOR_DATE="$test_tick -0700"
	export GIT_COMMITTER_DATE GIT_AUTHOR_DATE
}

# test_commit <message> [<file> [<contents> [<tag>]]]
test_commit () {
	file=${2:-"$1.t"}
	printf '%s\n' "${3:-$1}" >"$file" &&
	git add -- "$file" &&
	test_tick &&
	git commit -q -m "$1" &&
	git tag "${4:-$1}"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
test_free_port () {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The trash directory: a fresh repository, HOME inside it.
TRASH_DIRECTORY="$GIT_MODEL_BUILD_DIR/t/trash directory.$this_test"
rm -rf "$TRASH_DIRECTORY" || {
	echo "Bail out! cannot remove '$TRASH_DIRECTORY'"
	exit 1
}
mkdir -p "$TRASH_DIRECTORY" && cd "$TRASH_DIRECTORY" || {
	echo "Bail out! cannot create '$TRASH_DIRECTORY'"
	exit 1
}
HOME=$TRASH_DIRECTORY
export HOME TRASH_DIRECTORY
cat >"$HOME/.gitconfig" <<\EOF
[user]
	name = A U Thor
	email = author@example.com
[init]
	defaultBranch = main
EOF
git init -q . || { echo "Bail out! git init failed"; exit 1; }
trap 'die_early' EXIT
