#!/bin/sh

test_description='make check lists the skipped scripts, whether or not a test failed'

. "$(dirname "$0")/test-lib.sh"

if ! test -f "$GIT_MODEL_BUILD_DIR/Makefile"
then
	skip_all="no Makefile in '$GIT_MODEL_BUILD_DIR' (run configure)"
	test_done
fi

# Runs make check in the build directory on the scripts given; only their
# logs (beside them, in $scripts) and test-suite.log are written. make's
# test harness cannot take a path with spaces, as the trash directory's is.
run_make_check () {
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL &&
		make -s -C "$GIT_MODEL_BUILD_DIR" check TESTS="$*"
	) >out 2>&1
}

remove_scripts () {
	rm -rf "$scripts"
}

test_expect_success 'setup: a script that skips all, one that passes, one that fails' '
	scripts=$(mktemp -d "${TMPDIR:-/tmp}/t0072.XXXXXX") &&
	test_atexit remove_scripts &&
	cd "$scripts" &&
	printf "#!/bin/sh\necho \"1..0 # SKIP no frobnicator here\"\n" >skips.sh &&
	printf "#!/bin/sh\necho 1..1; echo ok 1 - fine\n" >passes.sh &&
	printf "#!/bin/sh\necho 1..1; echo not ok 1 - broken\n" >fails.sh &&
	cd "$TRASH_DIRECTORY"
'

test_expect_success 'after a pass, the skipped script is listed' '
	run_make_check "$scripts/skips.sh" "$scripts/passes.sh" &&
	grep "^Skipped whole:" out &&
	grep "^  skips: no frobnicator here$" out
'

test_expect_success 'after a failure too, the skipped script is listed' '
	test_must_fail run_make_check "$scripts/skips.sh" "$scripts/fails.sh" &&
	grep "^FAIL: .*fails.sh 1 - broken" out &&
	grep "^Skipped whole:" out &&
	grep "^  skips: no frobnicator here$" out
'

test_expect_success 'the list: each script, its reason, the one command' '
	printf "#!/bin/sh\necho 1..2\necho ok 1 - a\necho \"ok 2 # skip b (missing STRACE)\"\n" \
		>"$scripts/part.sh" &&
	printf "#!/bin/sh\necho \"1..0 # SKIP nginx is not installed (apt-get install nginx-light)\"\n" \
		>"$scripts/whole.sh" &&
	chmod +x "$scripts"/*.sh &&
	run_make_check "$scripts/whole.sh" "$scripts/part.sh" &&
	sed -n "/^Skipped, so NOT tested/,/^=====/p" out >actual &&
	cat >expect <<-\EOF &&
	Skipped, so NOT tested here: 2 test script(s)
	Skipped whole:
	  whole: nginx is not installed (apt-get install nginx-light)
	Skipped in part:
	  part: 1 test(s) (missing STRACE)
	To install what the tests need (Debian 12) and run them all:
	  contrib/install-deps.sh --tests && make -j2 check
	(GIT_SKIP_TESTS, a small disk, no loop devices or a build without
	--enable-fuzzers skip some anyway: see each reason.)
	============================================================================
	EOF
	test_cmp expect actual
'

test_expect_success 'nothing skipped: no such list' '
	run_make_check "$scripts/passes.sh" &&
	grep "^# PASS:  1" out &&
	! grep "Skipped" out
'

test_done
