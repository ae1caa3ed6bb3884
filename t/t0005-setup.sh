#!/bin/sh

test_description='README: the set-up and test commands, and make check naming what it skipped'

. "$(dirname "$0")/test-lib.sh"

SRC=$GIT_MODEL_SRC_DIR
test_lazy_prereq ROOT 'test "$(id -u)" = 0'
test_lazy_prereq SETPRIV 'command -v setpriv'
test_lazy_prereq NO_SUDO '! command -v sudo'

# A fake apt-get, npm and sudo that log their arguments to $LOG.
test_expect_success 'set up fake apt-get, npm and sudo' '
	mkdir -p fake log &&
	chmod 777 log &&
	LOG=$PWD/log/calls &&
	for cmd in apt-get npm
	do
		printf "#!/bin/sh\necho \"%s \$*\" >>\"%s\"\n" "$cmd" "$LOG" >fake/$cmd ||
		return 1
	done &&
	printf "#!/bin/sh\necho \"sudo \$*\" >>\"%s\"\nexec \"\$@\"\n" "$LOG" >fake/sudo &&
	chmod 755 fake/* &&
	mkdir nosudo &&
	cp fake/apt-get fake/npm nosudo/ &&
	printf "#!/bin/sh\necho \"sudo \$*\" >>\"%s\"\nexit 127\n" "$LOG" >nosudo/sudo &&
	chmod 755 nosudo/*
'

# The first command of README's line that starts with contrib/install-deps.sh
# and has (or lacks) --tests.
readme_cmd () {
	sed -n "s/^    \(contrib\/install-deps\.sh[^&]*\) && .*$1.*/\1/p" \
		"$SRC/README" | head -n 1
}

test_expect_success ROOT 'README set-up command: as root, apt-get without sudo' '
	cmd=$(readme_cmd "make install") &&
	test "$cmd" = "contrib/install-deps.sh" &&
	>"$LOG" &&
	(cd "$SRC" && PATH="$TRASH_DIRECTORY/nosudo:$PATH" $cmd) >out &&
	! grep "^sudo" "$LOG" &&
	grep "^apt-get update" "$LOG" &&
	grep "^apt-get install .* libgit2-dev .*libzstd-dev" "$LOG" &&
	! grep "nginx-light" "$LOG" &&
	! grep "^npm" "$LOG"
'

test_expect_success ROOT,SETPRIV 'README set-up command: as a user, through sudo' '
	cmd=$(readme_cmd "make install") &&
	>"$LOG" && chmod 666 "$LOG" &&
	(cd "$SRC" && PATH="$TRASH_DIRECTORY/fake:$PATH" \
		setpriv --reuid=65534 --regid=65534 --clear-groups $cmd) >out &&
	grep "^sudo apt-get update" "$LOG" &&
	grep "^sudo env DEBIAN_FRONTEND=noninteractive apt-get install .* libgit2-dev" "$LOG" &&
	grep "^apt-get install .* libgit2-dev" "$LOG"
'

test_expect_success ROOT,SETPRIV,NO_SUDO 'as a user without sudo: says to run it as root' '
	>"$LOG" &&
	(cd "$SRC" && PATH="$TRASH_DIRECTORY/nosudo:$PATH" &&
	 rm -f "$TRASH_DIRECTORY/nosudo/sudo" &&
	 test_must_fail setpriv --reuid=65534 --regid=65534 --clear-groups \
		contrib/install-deps.sh) 2>err &&
	grep "error: apt-get needs root: run .* as root, or install sudo" err &&
	test_must_be_empty "$LOG"
'

test_expect_success ROOT 'README test command installs what every suite needs' '
	cmd=$(readme_cmd "make -j2 check") &&
	test "$cmd" = "contrib/install-deps.sh --tests" &&
	>"$LOG" &&
	(cd "$SRC" && PATH="$TRASH_DIRECTORY/fake:$PATH" $cmd) >out &&
	for pkg in libgit2-dev nginx-light python3-torch curl openssl time strace
	do
		grep "^apt-get install .* $pkg\( \|$\)" "$LOG" || return 1
	done &&
	grep "^npm ci --prefix t/s3" "$LOG"
'

test_done
