#!/bin/sh

test_description='git model env: what git-model sees, never a secret'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'env names the version, repository and store' '
	git model install --local &&
	git model env >out &&
	grep "^git-model/" out &&
	grep "^git version" out &&
	grep "^repository=$TRASH_DIRECTORY$" out &&
	grep "^store=$TRASH_DIRECTORY/.git/model$" out &&
	grep "^filter.model.process=git-model filter-process$" out
'

test_expect_success 'env shows model.* from .gitmodel, git config and -c' '
	git config -f .gitmodel model.storage file:///from/gitmodel &&
	git config -f .gitmodel model.fetchExclude "*.onnx" &&
	git config model.concurrency 3 &&
	git -c model.retries=2 model env >out &&
	grep "^model.storage=file:///from/gitmodel$" out &&
	grep -i "^model.fetchexclude=\*.onnx$" out &&
	grep "^model.concurrency=3$" out &&
	grep "^model.retries=2$" out
'

test_expect_success 'git config wins over .gitmodel, -c over both' '
	git config model.storage file:///from/config &&
	git model env >out &&
	grep "^model.storage=file:///from/config$" out &&
	git -c model.storage=file:///from/cmdline model env >out &&
	grep "^model.storage=file:///from/cmdline$" out
'

test_expect_success 'only model.* keys are honoured from .gitmodel' '
	git config -f .gitmodel filter.model.process evil &&
	git model env >out &&
	grep "^filter.model.process=git-model filter-process$" out
'

test_expect_success 'credentials in a URL are masked' '
	git -c model.storage=https://user:s3cr3t-value@example.com/m model env >out &&
	grep "^model.storage=https://\*\*\*@example.com/m$" out &&
	! grep s3cr3t-value out
'

test_expect_success 'a token in model.http.extraHeader is masked' '
	git -c model.http.extraHeader="Authorization: Bearer tok-s3cr3t" model env >out &&
	grep -i "^model.http.extraheader=Authorization: \*\*\*$" out &&
	! grep tok-s3cr3t out
'

test_expect_success 'a password in model.storage never reaches a pointer' '
	echo weights >w.bin &&
	git -c model.storage=http://user:pw-s3cr3t@example.com/m model clean <w.bin >pointer &&
	grep "^url http://example.com/m/sha256/" pointer &&
	git -c model.storage=http://user:pw-s3cr3t@example.com/m model pointer --file w.bin >pointer2 &&
	test_cmp pointer pointer2 &&
	! grep pw-s3cr3t pointer pointer2
'

test_expect_success 'a password with # or ? never reaches a pointer either' '
	for pw in "pa#ss-s3cr3t" "pa?ss-s3cr3t" "pa%23ss-s3cr3t"
	do
		git -c model.storage="http://user:$pw@example.com/m" \
			model clean <w.bin >pointer &&
		grep "^url http://example.com/m/sha256/" pointer &&
		! grep s3cr3t pointer || return 1
	done
'

test_expect_success 'a bad storage URL is reported without its password' '
	test_must_fail git -c model.storage=ftp://user:pw-s3cr3t@example.com/m model clean <w.bin 2>err &&
	grep "unsupported storage URL .ftp://example.com/m." err &&
	! grep pw-s3cr3t err
'

test_expect_success 'env works outside a repository' '
	mkdir outside &&
	(
		cd outside &&
		GIT_CEILING_DIRECTORIES="$PWD/.." &&
		export GIT_CEILING_DIRECTORIES &&
		git model env >../out
	) &&
	grep "^repository=$" out
'

test_done
