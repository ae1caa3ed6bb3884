#!/bin/sh

test_description='man pages: built, rendered without warnings, found by --help'

. "$(dirname "$0")/test-lib.sh"

MANDIR=$GIT_MODEL_BUILD_DIR/man
if ! ls "$MANDIR"/git-model.1 >/dev/null 2>&1
then
	test_env_require_ci_service asciidoctor "the man pages are not built (apt-get install asciidoctor, then configure and make)"
fi
if ! command -v man >/dev/null 2>&1
then
	test_env_require_ci_service man "man is not installed (apt-get install man-db)"
fi

test_expect_success 'every page source has its built page' '
	for src in "$GIT_MODEL_SRC_DIR"/man/*.adoc
	do
		title=$(sed -n "1s/^= \(.*\)(\([0-9]\))$/\1.\2/p" "$src") &&
		test -n "$title" &&
		test_path_is_file "$MANDIR/$title" || return 1
	done
'

test_expect_success 'each page renders without warnings' '
	for page in "$MANDIR"/*.1 "$MANDIR"/*.5
	do
		MANWIDTH=80 man --warnings -l "$page" >out 2>err &&
		test_must_be_empty err &&
		test_file_not_empty out || return 1
	done
'

test_expect_success 'git model push --help opens git-model-push(1)' '
	mkdir -p mp/man1 mp/man5 &&
	cp "$MANDIR"/*.1 mp/man1/ &&
	cp "$MANDIR"/*.5 mp/man5/ &&
	MANPATH="$PWD/mp" PAGER=cat MANWIDTH=80 git model push --help >out &&
	grep "GIT-MODEL-PUSH(1)" out &&
	grep "pre-push" out
'

test_expect_success 'git model --help opens git-model(1), clean --help the filter page' '
	MANPATH="$PWD/mp" PAGER=cat MANWIDTH=80 git model --help >out &&
	grep "GIT-MODEL(1)" out &&
	MANPATH="$PWD/mp" PAGER=cat MANWIDTH=80 git model clean --help >out &&
	grep "GIT-MODEL-FILTER-PROCESS(1)" out
'

test_expect_success '--help without a man page prints the usage' '
	MANPATH="$PWD/nowhere" git model push --help >out &&
	grep "^usage: git model push" out
'

test_done
