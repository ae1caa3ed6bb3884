# test-lib.sh: sourced by every t/tNNNN-*.sh script; modelled on git's
# t/test-lib.sh and t/test-lib-functions.sh. It gives each script a fresh
# repository in a trash directory (HOME inside it) and prints TAP on stdout.
#
#	test_description='what this script tests'
#	. "$(dirname "$0")/test-lib.sh"
#	test_expect_success 'name' '
#		git model track "*.pth" &&
#		test_cmp expect actual
#	'
#	test_done
#
# Options: -v/--verbose (show the bodies' output), -i/--immediate (stop at
# the first failure), -d/--debug (keep the trash directory), -x (trace the
# bodies; implies -v), --root=DIR (put the trash directory under DIR).
#
# File descriptors: at the top level fd 3 is stdout and fd 4 stderr. Bodies
# run with stdin from /dev/null and with stdout, stderr, fd 3 and fd 4 all
# sent to /dev/null, unless -v, when they go to the terminal. Helpers
# write their complaints to fd 4. fd 5 is reserved (the TAP stream).

# Where things are.
unset CDPATH
# libcurl honours these: test traffic goes to 127.0.0.1 only, directly.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
	NO_PROXY no_proxy
this_test=$(basename "$0" .sh)
test_script_dir_=$(cd "$(dirname "$0")/.." && pwd) || exit 1
GIT_MODEL_SRC_DIR=$(cd "${GIT_MODEL_SRC_DIR:-$test_script_dir_}" && pwd) || exit 1
GIT_MODEL_BUILD_DIR=$(cd "${GIT_MODEL_BUILD_DIR:-$test_script_dir_}" && pwd) || exit 1
TEST_DIRECTORY=$GIT_MODEL_SRC_DIR/t
export GIT_MODEL_SRC_DIR GIT_MODEL_BUILD_DIR TEST_DIRECTORY

verbose= immediate= debug= trace= test_root_=$GIT_MODEL_BUILD_DIR/t
for test_arg_
do
	case "$test_arg_" in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	-d|--debug) debug=t ;;
	-x|--trace) trace=t verbose=t ;;
	--root=*) test_root_=${test_arg_#--root=} ;;
	-h|--help) printf '%s\n' "$test_description"; exit 0 ;;
	*) echo "Bail out! unknown test option '$test_arg_'"; exit 1 ;;
	esac
done
if test -n "$trace" && test -n "$BASH_VERSION"
then
	# Keep bash's trace out of the bodies' own 2> redirections.
	BASH_XTRACEFD=4
fi

exec 5>&1 3>&1 4>&2
test_count=0 test_failure=0 test_fixed=0 test_broken=0 test_skipped=0
test_cleanup=: test_in_body_= test_prereqs_=' ' test_lazy_prereqs_=' '
TRASH_DIRECTORY=
unset test_tick

# Clean environment: nothing from the caller's git or AWS setup leaks in.
for test_var_ in $(env | sed -n -e 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p' \
	-e 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p')
do
	case "$test_var_" in
	GIT_MODEL_BUILD_DIR|GIT_MODEL_SRC_DIR|GIT_MODEL_TEST_*|GIT_SKIP_TESTS) ;;
	*) unset "$test_var_" ;;
	esac
done
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_COUNT GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
	GIT_CEILING_DIRECTORIES XDG_CONFIG_HOME GIT_TRACE
# Only 127.0.0.1 is contacted: no probe of an EC2 metadata service at
# 169.254.169.254 when a test has no AWS credentials.
AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_DISABLED
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
PATH=$GIT_MODEL_BUILD_DIR/src:$GIT_MODEL_BUILD_DIR/t/helper:$PATH
export PATH

say () {
	echo "# $*" >&3
}

BUG () {
	echo "Bail out! bug in the test script: $*" >&5
	trap - EXIT
	exit 1
}

# Run "$@" with the bodies' redirections (see the top of this file).
test_quiet_ () {
	if test -n "$verbose"
	then
		"$@" </dev/null >&3 2>&4
	else
		"$@" </dev/null >/dev/null 2>&1 3>&1 4>&1
	fi
}

test_remove_trash_ () {
	test -n "$TRASH_DIRECTORY" && test -d "$TRASH_DIRECTORY" || return 0
	cd "$(dirname "$TRASH_DIRECTORY")" || return 1
	rm -rf "$TRASH_DIRECTORY" 2>/dev/null && return 0
	chmod -R u+rwx "$TRASH_DIRECTORY" && rm -rf "$TRASH_DIRECTORY" ||
	say "could not remove '$TRASH_DIRECTORY'"
}

# test_atexit FUNCTION: have FUNCTION (idempotent, and quiet when there
# is nothing to do) run when the script ends, once per registration name:
# from test_done, and from test_atexit_exit_trap_, the EXIT trap that a
# library sets once it has started a server (lib-httpd.sh, lib-s3.sh): it
# runs the functions, then reports as test_exit_trap_ does, with the same
# exit code. A server stopped already is not stopped again.
test_atexit_hooks_=
test_atexit () {
	case " $test_atexit_hooks_ " in
	*" $1 "*) ;;
	*) test_atexit_hooks_="$test_atexit_hooks_ $1" ;;
	esac
}

test_atexit_run_ () {
	for test_atexit_f_ in $test_atexit_hooks_
	do
		"$test_atexit_f_"
	done
}

test_atexit_exit_trap_ () {
	test_atexit_code_=$?
	{ set +x; } 2>/dev/null
	test_atexit_run_
	(exit $test_atexit_code_)
	test_exit_trap_
}

# Is process $1 running? A child of ours that has exited is a zombie,
# which kill -0 still finds, until we wait for it.
test_process_alive () {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*) return 1 ;;
	esac
	return 0
}

# test_process_kill PID [PID...]: TERM the first, wait up to 5 s for it to
# go, then KILL it and the others (a server's workers).
test_process_kill () {
	kill -TERM "$1" 2>/dev/null || return 0
	test_kill_i_=0
	while test_process_alive "$1"
	do
		if test $test_kill_i_ -ge 50
		then
			kill -KILL "$@" 2>/dev/null
			break
		fi
		sleep 0.1
		test_kill_i_=$((test_kill_i_ + 1))
	done
}

# test_setup_work STORAGE-URL: git model installed; remote.git; and work/,
# tracking *.pth, with model.storage STORAGE-URL in its .gitmodel (not
# committed yet), and remote.git as its origin.
test_setup_work () {
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	git -C work model track "*.pth" &&
	git -C work config -f .gitmodel model.storage "$1" &&
	git -C work remote add origin ../remote.git
}

# Print the plan and the summary, clean up (test_atexit), and exit.
test_done () {
	test_atexit_run_
	trap - EXIT
	test_in_body_=
	if test -n "$skip_all" && test "$test_count" = 0
	then
		echo "1..0 # SKIP $skip_all"
		test_remove_trash_
		exit 0
	fi
	test -z "$skip_all" || say "skipped the rest: $skip_all"
	test $test_fixed = 0 ||
	say "$test_fixed known breakage(s) vanished; please update test(s)"
	test $test_broken = 0 || say "still have $test_broken known breakage(s)"
	if test $test_fixed != 0 || test $test_broken != 0
	then
		test_msg_="remaining $((test_count - test_broken - test_fixed)) test(s)"
	else
		test_msg_="$test_count test(s)"
	fi
	if test $test_failure = 0
	then
		say "passed all $test_msg_"
		echo "1..$test_count"
		if test -n "$debug"
		then
			say "trash directory kept (--debug): $TRASH_DIRECTORY"
		else
			test_remove_trash_
		fi
		exit 0
	fi
	say "failed $test_failure among $test_msg_"
	say "trash directory kept: $TRASH_DIRECTORY"
	echo "1..$test_count"
	exit 1
}

# Runs when the script exits any other way than through test_done.
test_exit_trap_ () {
	test_code_=$?
	{ set +x; } 2>/dev/null
	if test -n "$test_in_body_"
	then
		echo "not ok $test_count - $test_desc_" >&5
		echo "# trash directory kept: $TRASH_DIRECTORY" >&5
		echo "Bail out! test $test_count called exit $test_code_ (or has a syntax error)" >&5
	else
		echo "# trash directory kept: $TRASH_DIRECTORY" >&5
		echo "Bail out! $this_test exited ($test_code_) before test_done" >&5
	fi
	exit 1
}

# Prerequisites: names like SYMLINKS; "A,!B" means A and not B.
test_set_prereq () {
	case "$test_prereqs_" in
	*" $1 "*) ;;
	*) test_prereqs_="$test_prereqs_$1 " ;;
	esac
}

test_lazy_prereq () {
	case "$1" in
	''|*[!A-Za-z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
	test_lazy_prereqs_="$test_lazy_prereqs_$1 "
	eval "test_lazy_script_$1=\$2"
}

test_run_lazy_ () {
	mkdir -p "$1" && (cd "$1" && eval "$2")
}

test_have_prereq () {
	test_missing_prereq_=
	test_save_IFS_=$IFS
	IFS=,
	set -f
	set -- $1
	set +f
	IFS=$test_save_IFS_
	for test_p_
	do
		test_neg_=
		case "$test_p_" in
		!*) test_neg_=t test_p_=${test_p_#!} ;;
		esac
		case "$test_lazy_prereqs_" in
		*" $test_p_ "*)
			test_lazy_prereqs_="${test_lazy_prereqs_%% $test_p_ *} ${test_lazy_prereqs_#* $test_p_ }"
			eval "test_script_=\$test_lazy_script_$test_p_"
			test -z "$verbose" || say "checking prerequisite: $test_p_"
			test_dir_="$TRASH_DIRECTORY/prereq-test-dir-$test_p_"
			if test_quiet_ test_run_lazy_ "$test_dir_" "$test_script_"
			then
				test_set_prereq "$test_p_"
			fi
			rm -rf "$test_dir_"
			;;
		esac
		case "$test_prereqs_" in
		*" $test_p_ "*) test_have_=t ;;
		*) test_have_= ;;
		esac
		case "$test_have_$test_neg_" in
		t) ;;
		*) test_missing_prereq_="${test_missing_prereq_:+$test_missing_prereq_,}${test_neg_:+!}$test_p_" ;;
		esac
	done
	test -z "$test_missing_prereq_"
}

# /dev/shm is tmpfs: another file system than the trash directory.
test_lazy_prereq OTHER_FS '
	test -d /dev/shm && test -w /dev/shm &&
	test "$(stat -c %d /dev/shm)" != "$(stat -c %d .)"
'
test_lazy_prereq SYMLINKS 'ln -s x y && test -h y'
# LeakSanitizer cannot work under ptrace: in a sanitizer build, what runs
# under strace does not look for leaks (it is run untraced elsewhere).
test_no_leak_check_env_="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
strace () {
	env "$test_no_leak_check_env_" strace "$@"
}

# strace that shows the paths of fds (-y) and can fail system calls.
test_lazy_prereq STRACE '
	strace -f -qq -y -o /dev/null -e trace=fsync -e inject=fsync:error=EIO true
'
test_lazy_prereq SANITY 'mkdir d && chmod a-w d && ! (: >d/f) 2>/dev/null; s=$?; chmod u+w d; exit $s'

# GIT_SKIP_TESTS='t0001 t0002.3 t0010.[1-4]' skips scripts or single tests.
test_skip_match_ () {
	set -f
	for test_pat_ in $GIT_SKIP_TESTS
	do
		case "$1" in
		$test_pat_) set +f; return 0 ;;
		esac
	done
	set +f
	return 1
}

# Register commands to run after the current body, whatever its outcome;
# their failure fails the test. Only in a body, not in a subshell.
test_when_finished () {
	test -n "$test_in_body_" && test "${BASH_SUBSHELL-0}" = 0 ||
	BUG "test_when_finished outside a test body or in a subshell"
	test_cleanup="{ $*
		} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

test_eval_inner_ () {
	eval "${trace:+set -x
}$1"
}

# Run a body in this shell (so variables persist), then its cleanups, then
# go back to the trash directory.
test_eval_ () {
	test_cleanup=:
	test_in_body_=t
	test_quiet_ test_eval_inner_ "$1"
	{ eval_ret=$?; set +x; } 2>/dev/null
	cd "$TRASH_DIRECTORY" || BUG "cannot cd back to the trash directory"
	if test "$test_cleanup" != :
	then
		test_quiet_ eval "$test_cleanup"
		cd "$TRASH_DIRECTORY" || BUG "cannot cd back to the trash directory"
	fi
	test_in_body_=
	return $eval_ret
}

# test_run_ success|failure [PREREQ] DESC BODY: count the test, then skip
# it (test_ran_ empty) or run it and return the body's status.
test_run_ () {
	test_kind_=$1 test_prereq_= test_ran_= test_why_=
	shift
	test $# = 3 && { test_prereq_=$1; shift; }
	test $# = 2 || BUG "not 2 or 3 parameters to test_expect_$test_kind_"
	test_count=$((test_count + 1))
	test_desc_=$1 test_body_=$2
	if test_skip_match_ "${this_test%%-*}.$test_count"
	then
		test_why_="GIT_SKIP_TESTS"
	elif test -n "$test_prereq_" && ! test_have_prereq "$test_prereq_"
	then
		test_why_="missing $test_missing_prereq_"
	fi
	if test -n "$test_why_"
	then
		test_skipped=$((test_skipped + 1))
		echo "ok $test_count # skip $1 ($test_why_)"
		return 1
	fi
	test -z "$verbose" ||
	echo "# expecting $test_kind_ of $this_test.$test_count '$1': $2" >&3
	test_ran_=t
	test_eval_ "$2"
}

test_expect_success () {
	if test_run_ success "$@"
	then
		echo "ok $test_count - $test_desc_"
	elif test -n "$test_ran_"
	then
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $test_desc_"
		printf '%s\n' "$test_body_" | sed 's/^/#	/'
		if test -n "$immediate"
		then
			say "stopping at the first failure (-i)"
			test_done
		fi
	fi
}

test_expect_failure () {
	if test_run_ failure "$@"
	then
		test_fixed=$((test_fixed + 1))
		echo "ok $test_count - $test_desc_ # TODO known breakage vanished"
	elif test -n "$test_ran_"
	then
		test_broken=$((test_broken + 1))
		echo "not ok $test_count - $test_desc_ # TODO known breakage"
	fi
}

# A service the script needs is missing: a failure under CI, else skip all.
test_env_require_ci_service () {
	if test "$CI" = true
	then
		test_count=$((test_count + 1))
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $1 is required under CI"
		say "$2"
		test_done
	fi
	skip_all=$2
	test_done
}

# Assertions and helpers; complaints go to fd 4.

# test_must_fail [ok=success,sigpipe] CMD...: CMD must fail cleanly, i.e.
# not be missing (126, 127) nor die of a signal (> 128, except 129, usage).
test_must_fail () {
	case "$1" in
	ok=*) test_ok_=,${1#ok=}, && shift ;;
	*) test_ok_= ;;
	esac
	"$@"
	test_code_=$?
	if test $test_code_ = 0
	then
		case "$test_ok_" in *,success,*) return 0 ;; esac
		echo >&4 "test_must_fail: command succeeded: $*"
		return 1
	elif test $test_code_ = 126 || test $test_code_ = 127
	then
		echo >&4 "test_must_fail: command not found or not executable: $*"
		return 1
	elif test $test_code_ = 141
	then
		case "$test_ok_" in *,sigpipe,*) return 0 ;; esac
		echo >&4 "test_must_fail: died of SIGPIPE: $*"
		return 1
	elif test $test_code_ -gt 129
	then
		echo >&4 "test_must_fail: died of signal $((test_code_ - 128)): $*"
		return 1
	fi
	return 0
}

test_might_fail () {
	test_must_fail ok=success "$@"
}

test_expect_code () {
	test_want_=$1
	shift
	"$@"
	test_code_=$?
	test $test_code_ = "$test_want_" && return 0
	echo >&4 "test_expect_code: exit code $test_code_, not $test_want_: $*"
	return 1
}

test_cmp () {
	test $# = 2 || BUG "test_cmp needs 2 arguments"
	diff -u "$@"
}

test_cmp_bin () {
	test $# = 2 || BUG "test_cmp_bin needs 2 arguments"
	cmp "$@"
}

# test_line_count = 3 FILE (or -lt, -gt, -ge, ...)
test_line_count () {
	test $# = 3 || BUG "usage: test_line_count <op> <n> <file>"
	if ! test $(wc -l <"$3") "$1" "$2"
	then
		echo >&4 "test_line_count: line count of '$3' is not $1 $2:"
		cat >&4 "$3"
		return 1
	fi
}

test_path_is_file () {
	test -f "$1" || { echo >&4 "file '$1' does not exist"; return 1; }
}

test_path_is_dir () {
	test -d "$1" || { echo >&4 "directory '$1' does not exist"; return 1; }
}

# commit_weights REPO NAME [SIZE]: commit a new weight file NAME in REPO,
# SIZE bytes (default 100k) of test-tool genrandom seeded with "REPO-NAME".
commit_weights () {
	test-tool genrandom "$1-$2" "${3:-100k}" >"$1/$2" &&
	git -C "$1" add "$2" &&
	test_tick &&
	git -C "$1" commit -q -m "$2"
}

# test_auto_compresses: from here on, model.compression=auto compresses
# every upload, as it does while compressing outruns uploading (the two
# rates it measures are stood for by GIT_MODEL_TEST_ZC_RATES). For
# scripts that test what auto stores; t0120 tests when it compresses.
test_auto_compresses () {
	GIT_MODEL_TEST_ZC_RATES=2:1 &&
	export GIT_MODEL_TEST_ZC_RATES
}

# oid_of FILE: the sha256 of FILE, as an object id
oid_of () {
	sha256sum <"$1" | cut -d" " -f1
}

# obj DIR OID: where the object OID lives under the objects directory DIR
obj () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

test_dir_is_empty () {
	test_path_is_dir "$1" &&
	if test -n "$(ls -A "$1")"
	then
		echo >&4 "directory '$1' is not empty:"
		ls -la "$1" >&4
		return 1
	fi
}

test_path_is_executable () {
	test -x "$1" || { echo >&4 "'$1' is not executable"; return 1; }
}

test_path_is_missing () {
	if test -e "$1" || test -h "$1"
	then
		echo >&4 "path '$1' exists and should not"
		return 1
	fi
}

test_file_not_empty () {
	test -s "$1" || { echo >&4 "'$1' is empty or missing"; return 1; }
}

# test_terminal CMD: run the shell command CMD with stdin, stdout and
# stderr on a terminal (a pty, by script(1)); what it wrote, both
# streams, is on stdout.
test_terminal () {
	script -qec "$1" /dev/null </dev/null
}

test_must_be_empty () {
	test_path_is_file "$1" || return 1
	if test -s "$1"
	then
		echo >&4 "'$1' is not empty, it contains:"
		cat >&4 "$1"
		return 1
	fi
}

test_write_lines () {
	printf '%s\n' "$@"
}

# test_seq [FIRST] LAST
test_seq () {
	case $# in
	1) set 1 "$1" ;;
	2) ;;
	*) BUG "not 1 or 2 parameters to test_seq" ;;
	esac
	test_i_=$1
	while test "$test_i_" -le "$2"
	do
		echo "$test_i_"
		test_i_=$((test_i_ + 1))
	done
}

# write_script FILE [INTERPRETER] <BODY: an executable script.
write_script () {
	{ echo "#!${2-/bin/sh}" && cat; } >"$1" && chmod +x "$1"
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

# test_commit MESSAGE [FILE [CONTENTS [TAG]]]: FILE defaults to MESSAGE.t,
# CONTENTS and TAG to MESSAGE.
test_commit () {
	test_file_=${2:-$1.t}
	printf '%s\n' "${3-$1}" >"$test_file_" &&
	git add -- "$test_file_" &&
	test_tick &&
	git commit -q -m "$1" &&
	git tag "${4:-$1}"
}

# Print a TCP port on 127.0.0.1 that nothing listens on right now.
# Request logs of the suite's servers (lib-httpd.sh, lib-s3.sh): one line
# a request, with the method in field 3, the path in field 4 and the
# status in field 5.

# test_log_count LOG METHOD STATUS [REGEX]: how many lines have this
# method and status (and a path matching the extended regular expression,
# anchored at neither end).
test_log_count () {
	test $# = 3 || test $# = 4 ||
	BUG "usage: test_log_count LOG METHOD STATUS [REGEX]"
	# The regex goes through the environment: -v would eat backslashes.
	TEST_LOG_RE_=${4-} awk -v m="$2" -v s="$3" '
		BEGIN { u = ENVIRON["TEST_LOG_RE_"] }
		$3 == m && $5 == s && (u == "" || $4 ~ u) { n++ }
		END { print n + 0 }
	' "$1"
}

# test_log_wait LOG COUNT METHOD STATUS [REGEX]: wait up to 5 s until
# test_log_count says COUNT or more (servers log after answering).
test_log_wait () {
	test $# = 4 || test $# = 5 ||
	BUG "usage: test_log_wait LOG COUNT METHOD STATUS [REGEX]"
	test_log_=$1 test_want_=$2
	shift 2
	test_i_=0
	while test "$(test_log_count "$test_log_" "$@")" -lt "$test_want_"
	do
		if test $test_i_ -ge 50
		then
			echo >&4 "test_log_wait: not $test_want_ lines for $*:"
			cat >&4 "$test_log_"
			return 1
		fi
		sleep 0.1
		test_i_=$((test_i_ + 1))
	done
}

# test_log_max_overlap LOG TIMES METHOD [REGEX]: the most METHOD requests
# (with a path matching REGEX) in flight at once. TIMES says what fields 1
# and 2 are: "end-duration" (seconds: nginx's $msec $request_time) or
# "start-end" (milliseconds). One ending when another starts does not
# overlap it. 0 if there were none.
test_log_max_overlap () {
	test $# = 3 || test $# = 4 ||
	BUG "usage: test_log_max_overlap LOG TIMES METHOD [REGEX]"
	TEST_LOG_RE_=${4-} awk -v t="$2" -v m="$3" '
		BEGIN { n = 0; u = ENVIRON["TEST_LOG_RE_"] }
		$3 == m && (u == "" || $4 ~ u) {
			if (t == "end-duration") {
				end[n] = int($1 * 1000 + 0.5)
				start[n] = end[n] - int($2 * 1000 + 0.5)
			} else {
				start[n] = $1 + 0
				end[n] = $2 + 0
			}
			n++
		}
		END {
			max = 0
			for (i = 0; i < n; i++) {
				c = 1
				for (j = 0; j < n; j++)
					if (j != i && start[j] <= start[i] &&
					    start[i] < end[j])
						c++
				if (c > max)
					max = c
			}
			print max
		}
	' "$1"
}

# The local store of a repository after a fault. GIT_DIR is the common
# git directory (".git" of a work tree, or a bare repository).

# test_model_store_ok GIT_DIR: every file under model/objects is
# sha256/<aa>/<bb>/<oid> with <oid> 64 lowercase hex digits, read-only,
# and hashes to <oid>: a fault left no bad or partial object. When the
# build has "git model fsck", "fsck --objects" must agree as well. An
# absent store is fine (nothing was stored).
test_model_store_ok () {
	test $# = 1 || BUG "usage: test_model_store_ok GIT_DIR"
	if test -d "$1/model/objects"
	then
		find "$1/model/objects" ! -type d | {
			test_bad_=
			while read -r test_obj_
			do
				test_oid_=${test_obj_##*/}
				test_aa_=$(echo "$test_oid_" | cut -c1-2)
				test_bb_=$(echo "$test_oid_" | cut -c3-4)
				case "$test_oid_" in
				*[!0-9a-f]*) test_hex_= ;;
				*) test_hex_=t ;;
				esac
				if test -z "$test_hex_" || test ${#test_oid_} != 64 ||
				   test "$test_obj_" != "$1/model/objects/sha256/$test_aa_/$test_bb_/$test_oid_" ||
				   ! test -f "$test_obj_" ||
				   test "$(sha256sum <"$test_obj_" | cut -d" " -f1)" != "$test_oid_"
				then
					echo >&4 "test_model_store_ok: bad object '$test_obj_'"
					test_bad_=t
				fi
			done
			test -z "$test_bad_"
		} || return 1
		test_writable_=$(find "$1/model/objects" -type f -perm /222) &&
		if test -n "$test_writable_"
		then
			echo >&4 "test_model_store_ok: writable objects: $test_writable_"
			return 1
		fi
	fi
	if git model help 2>/dev/null | grep -q "^ *fsck "
	then
		git --git-dir="$1" model fsck --objects >&4 2>&4 || {
			echo >&4 "test_model_store_ok: git model fsck failed in '$1'"
			return 1
		}
	fi
	return 0
}

# test_model_tmp_clean GIT_DIR: nothing is left in model/tmp (absent or
# empty): a failed write cleaned up after itself.
test_model_tmp_clean () {
	test $# = 1 || BUG "usage: test_model_tmp_clean GIT_DIR"
	test -d "$1/model/tmp" || return 0
	if test -n "$(ls -A "$1/model/tmp")"
	then
		echo >&4 "test_model_tmp_clean: '$1/model/tmp' holds:"
		ls -la "$1/model/tmp" >&4
		return 1
	fi
}

test_free_port () {
	if command -v python3 >/dev/null 2>&1 && python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null
	then
		return 0
	fi
	# No python3: random ports in 20000-60000 until ss shows none in use.
	for test_i_ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
	do
		test_port_=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' ')
		test_port_=$((20000 + (${test_port_:-$$} + test_i_ * 997) % 40001))
		ss -ltn 2>/dev/null | awk '{ print $4 }' | grep -q ":$test_port_\$" ||
		{ echo "$test_port_"; return 0; }
	done
	echo >&4 "test_free_port: no free port found"
	return 1
}

# Set up: skip, or check the build, then make the trash directory.
if test -n "$skip_all"
then
	test_done
fi
if ! test -x "$GIT_MODEL_BUILD_DIR/src/git-model"
then
	echo "Bail out! git-model is not built; run make"
	exit 1
fi
mkdir -p "$test_root_" && test_root_=$(cd "$test_root_" && pwd) ||
{ echo "Bail out! cannot create '$test_root_'"; exit 1; }
TRASH_DIRECTORY="$test_root_/trash directory.$this_test"
HOME=$TRASH_DIRECTORY
export TRASH_DIRECTORY HOME
test_remove_trash_
if test -d "$TRASH_DIRECTORY" || ! mkdir -p "$TRASH_DIRECTORY" ||
   ! cd "$TRASH_DIRECTORY"
then
	echo "Bail out! cannot create '$TRASH_DIRECTORY'"
	exit 1
fi
cat >"$HOME/.gitconfig" <<\EOF
[user]
	name = A U Thor
	email = author@example.com
[init]
	defaultBranch = main
EOF
git init -q || { echo "Bail out! git init failed in '$TRASH_DIRECTORY'"; exit 1; }
echo /.gitconfig >>.git/info/exclude
trap 'test_exit_trap_' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
if test_skip_match_ "${this_test%%-*}"
then
	skip_all="GIT_SKIP_TESTS matches ${this_test%%-*}"
	test_done
fi
