#!/bin/sh

test_description='install and uninstall write the filter configuration'

. "$(dirname "$0")/test-lib.sh"

cat >expect.local <<\EOF
filter.model.clean git-model clean -- %f
filter.model.smudge git-model smudge -- %f
filter.model.process git-model filter-process
filter.model.required true
EOF

test_expect_success 'install --local writes the filter driver' '
	git model install --local >out &&
	grep "installed in the local git config" out &&
	git config --local --get-regexp "^filter\.model\." >actual &&
	test_cmp expect.local actual
'

test_expect_success 'install --local is idempotent' '
	git model install --local &&
	git model install --local &&
	git config --local --get-regexp "^filter\.model\." >actual &&
	test_cmp expect.local actual
'

test_expect_success 'install defaults to the global config' '
	git model install &&
	git config --file "$HOME/.gitconfig" --get-regexp "^filter\.model\." >actual &&
	test_cmp expect.local actual
'

test_expect_success 'install honours GIT_CONFIG_GLOBAL as git does' '
	GIT_CONFIG_GLOBAL="$PWD/other-global" git model install &&
	git config --file other-global --get-regexp "^filter\.model\." >actual &&
	test_cmp expect.local actual
'

test_expect_success 'install --skip-smudge keeps pointers on checkout' '
	git model install --local --skip-smudge >out &&
	grep "smudge skipped" out &&
	test "$(git config --local filter.model.smudge)" = "git-model smudge --skip -- %f" &&
	test "$(git config --local filter.model.process)" = "git-model filter-process --skip" &&
	git model install --local &&
	git config --local --get-regexp "^filter\.model\." >actual &&
	test_cmp expect.local actual
'

test_expect_success 'install --local outside a repository fails clearly' '
	mkdir outside &&
	(
		cd outside &&
		GIT_CEILING_DIRECTORIES="$PWD/.." &&
		export GIT_CEILING_DIRECTORIES &&
		test_must_fail git model install --local 2>err &&
		grep "needs a repository" err
	)
'

test_expect_success 'uninstall --local removes the section, keeps the rest' '
	git config --local core.foo bar &&
	test_path_is_file .git/hooks/pre-push &&
	git model uninstall --local >out &&
	grep "removed from the local git config" out &&
	grep "^hooks removed: pre-push, post-checkout, post-merge, post-rewrite$" out &&
	test_path_is_missing .git/hooks/pre-push &&
	test_expect_code 1 git config --local --get-regexp "^filter\.model\." &&
	test "$(git config --local core.foo)" = bar
'

test_expect_success 'uninstall twice is harmless' '
	git model uninstall --local >out &&
	grep "not in the local git config" out &&
	! grep "hooks removed" out
'

test_expect_success 'uninstall (global) removes the global filter' '
	git model uninstall &&
	test_expect_code 1 git config --global --get-regexp "^filter\.model\." &&
	git config --global user.name
'

test_done
