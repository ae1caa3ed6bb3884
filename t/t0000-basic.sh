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

test_expect_success 'an unknown option is an error naming it' '
	test_expect_code 1 git model --frob 2>err &&
	grep "unknown option .--frob." err
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

test_done
