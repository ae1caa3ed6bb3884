#!/bin/sh

test_description='the command table: usage, help, unknown commands'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'git model runs through git' '
	git model version >out &&
	grep "^git-model/[0-9]" out &&
	grep "libgit2" out
'

test_expect_success 'git model --version is version' '
	git model --version >out &&
	git model version >expect &&
	test_cmp expect out
'

test_expect_success 'no command prints usage and the commands, exits 1' '
	test_expect_code 1 git model 2>err &&
	grep "^usage: git model" err &&
	grep "^   install " err &&
	grep "^   filter-process " err
'

test_expect_success '-h lists every command on stdout' '
	git model -h >out &&
	for c in install uninstall track untrack pointer env version help \
		clean smudge filter-process
	do
		grep "^   $c " out || return 1
	done
'

test_expect_success 'an unknown command is an error naming it' '
	test_expect_code 1 git model frobnicate 2>err &&
	grep "error: .frobnicate. is not a git-model command" err &&
	grep "^   track " err
'

test_expect_success 'an unknown global option is an error naming it' '
	test_expect_code 129 git model --frob 2>err &&
	grep "^error: unknown option .frob.$" err &&
	grep "^usage: git model" err
'

test_expect_success '<cmd> -h prints its usage and exits 129' '
	test_expect_code 129 git model track -h >out &&
	grep "^usage: git model track \[<pattern>...\]" out &&
	test_expect_code 129 git model pointer -h >out &&
	grep "git model pointer --check" out
'

test_expect_success 'a bad option prints the usage on stderr, exits 129' '
	test_expect_code 129 git model install --frob 2>err &&
	grep "^usage: git model install" err
'

test_expect_success '<cmd> -h lists the options of its table' '
	test_expect_code 129 git model fetch -h >out &&
	grep "^    -I, --include <globs> " out &&
	grep "^    -q, --quiet " out &&
	test_expect_code 129 git model push -h >out &&
	grep "^    -n, --dry-run " out
'

# Each command's man page: git-model-<cmd>.adoc; the plumbing filters
# share the filter-process page; pointer's page is pointer-command; help
# and textconv are described in git-model(1) and git-model-show(1).
man_page_of () {
	case "$1" in
	help) echo git-model.adoc ;;
	textconv) echo git-model-show.adoc ;;
	clean|smudge) echo git-model-filter-process.adoc ;;
	pointer) echo git-model-pointer-command.adoc ;;
	post-merge|post-rewrite) echo git-model-post-checkout.adoc ;;
	*) echo git-model-$1.adoc ;;
	esac
}

test_expect_success 'every long option of -h is in its usage line and man page' '
	git model -h >cmds &&
	sed -n "s/^   \([a-z][a-z-]*\) .*/\1/p" cmds >names &&
	test_line_count -gt 10 names &&
	for cmd in $(cat names) clean smudge filter-process
	do
		page="$GIT_MODEL_SRC_DIR/man/$(man_page_of $cmd)" &&
		test_path_is_file "$page" &&
		test_expect_code 129 git model $cmd -h >out &&
		sed -n "/^$/q;p" out >usage &&
		sed -n "/^== SYNOPSIS/,/^== /p" "$page" >synopsis &&
		for opt in $(sed -n "s/^    \(-., \)*\(--[a-z][a-z-]*\).*/\2/p" out)
		do
			grep -e "$opt\>" usage >/dev/null ||
			{ echo "$cmd -h: $opt not in the usage line"; return 1; }
			grep -e "$opt\>" synopsis >/dev/null ||
			{ echo "$page: $opt not in SYNOPSIS"; return 1; }
		done || return 1
	done
'

test_expect_success 'an unknown option of a command is named, then the usage' '
	test_expect_code 129 git model fetch --bogus 2>err &&
	grep "^error: unknown option .bogus.$" err &&
	grep "^usage: git model fetch" err &&
	test_expect_code 129 git model push -nz 2>err &&
	grep "^error: unknown switch .z.$" err &&
	test_expect_code 129 git model url --https=yes x 2>err &&
	grep "^error: option .https. takes no value$" err
'

test_expect_success 'an option without its value says so' '
	test_expect_code 129 git model fetch -I 2>err &&
	grep "^error: switch .I. requires a value$" err &&
	test_expect_code 129 git model fetch --exclude 2>err &&
	grep "^error: option .exclude. requires a value$" err &&
	test_expect_code 129 git model url --rev 2>err &&
	grep "^error: option .rev. requires a value$" err
'

test_expect_success 'help <cmd> is <cmd> --help, from the same table' '
	MANPATH="$PWD/nowhere" git model help fetch >help &&
	MANPATH="$PWD/nowhere" git model fetch --help >dashdash &&
	test_cmp help dashdash &&
	grep "^git model fetch: Download" help &&
	grep "^    -X, --exclude <globs> " help &&
	test_expect_code 1 git model help frobnicate 2>err &&
	grep "error: .frobnicate. is not a git-model command" err
'

test_expect_success 'commands that need a repository say so outside one' '
	mkdir -p outside &&
	(
		cd outside &&
		GIT_CEILING_DIRECTORIES="$PWD/.." &&
		export GIT_CEILING_DIRECTORIES &&
		test_must_fail git model track "*.pth" 2>err &&
		grep "not in a git repository" err &&
		test_must_fail git model clean <../out 2>err &&
		grep "not in a git repository" err
	)
'

test_expect_success 'track in a bare repository says it needs a work tree' '
	git init -q --bare bare.git &&
	(
		cd bare.git &&
		test_must_fail git model track "*.pth" 2>err &&
		grep "needs a work tree" err
	)
'

test_expect_success 'make check runs every test script in t/' '
	for f in "$TEST_DIRECTORY"/t[0-9][0-9][0-9][0-9]-*.sh
	do
		grep -q "^	t/${f##*/}" "$GIT_MODEL_SRC_DIR/Makefile.am" ||
		echo "${f##*/} is not in Makefile.am SHELL_TESTS" || return 1
	done >missing &&
	test_must_be_empty missing
'

test_done
