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
	printf "local\tfilter.model.process=git-model filter-process\n" >expect &&
	grep "filter.model.process=" out >actual &&
	test_cmp expect actual
'

test_expect_success 'env shows each setting with its origin: .gitmodel, git config, -c, default' '
	git config -f .gitmodel model.storage file:///from/gitmodel &&
	git config -f .gitmodel model.fetchExclude "*.onnx" &&
	git config model.concurrency 3 &&
	git config --global model.http.lowSpeedTime 9 &&
	git -c model.retries=2 model env >out &&
	cat >expect <<-\EOF &&
	.gitmodel	model.storage=file:///from/gitmodel
	local	model.concurrency=3
	command	model.retries=2
	default	model.http.lowSpeedLimit=1000
	global	model.http.lowSpeedTime=9
	default	model.smudgeInlineMax=256k
	.gitmodel	model.fetchexclude=*.onnx
	EOF
	grep -e storage= -e concurrency= -e retries= -e lowSpeed \
		-e smudgeInline -e fetchexclude= out >actual &&
	test_cmp expect actual
'

test_expect_success 'git config wins over .gitmodel, -c over both' '
	git config model.storage file:///from/config &&
	git model env >out &&
	grep "^local	model.storage=file:///from/config$" out &&
	git -c model.storage=file:///from/cmdline model env >out &&
	grep "^command	model.storage=file:///from/cmdline$" out
'

test_expect_success 'keys are looked up case-insensitively, as git does' '
	git -c MODEL.CONCURRENCY=4 model env >out &&
	grep "^command	model.concurrency=4$" out
'

test_expect_success 'only model.* keys are honoured from .gitmodel' '
	git config -f .gitmodel filter.model.process evil &&
	git model env >out &&
	grep "^local	filter.model.process=git-model filter-process$" out
'

test_expect_success '.gitmodel may not set credentials or trust; it is told so' '
	test_when_finished "rm .gitmodel" &&
	cp .gitmodel gitmodel.saved &&
	git config -f .gitmodel model.http.extraHeader "X-Evil: 1" &&
	git config -f .gitmodel model.allowPointerUrls "*" &&
	git config -f .gitmodel model.concurrency 99 &&
	git model env >out 2>err &&
	! grep -i -e extraheader -e allowpointerurls out &&
	grep "^local	model.concurrency=3$" out &&
	grep "warning: ignoring .model.http.extraheader. in .gitmodel: only your own git config may set it" err &&
	grep "warning: ignoring .model.allowpointerurls. in .gitmodel" err
'

test_expect_success 'include.path in .gitmodel is ignored' '
	test_when_finished "rm .gitmodel included" &&
	git config -f included model.storage file:///from/include &&
	git config -f included model.http.extraHeader "X-Included: 1" &&
	git config -f .gitmodel include.path "$PWD/included" &&
	git model env >out 2>err &&
	! grep -e from/include -e X-Included out err
'

test_expect_success 'credentials in a URL are masked' '
	git -c model.storage=https://user:s3cr3t-value@example.com/m model env >out &&
	grep "^command	model.storage=https://\*\*\*@example.com/m$" out &&
	! grep s3cr3t-value out
'

test_expect_success 'userinfo of any spelling is masked: #, ?, @ and %-escapes' '
	for pw in "pa#ss-s3cr3t" "pa?ss-s3cr3t" "pa@ss-s3cr3t" "pa%23ss-s3cr3t"
	do
		git -c model.storage="https://user:$pw@example.com/m" \
			model env >out &&
		grep "^command	model.storage=https://\*\*\*@example.com/m$" out &&
		! grep s3cr3t out || return 1
	done
'

test_expect_success 'a token in model.http.extraHeader is masked' '
	git -c model.http.extraHeader="Authorization: Bearer tok-s3cr3t" \
		-c http.https://example.com/.extraHeader="Authorization: Bearer tok2-s3cr3t" \
		model env >out &&
	grep -i "^command	model.http.extraheader=Authorization: \*\*\*$" out &&
	grep -i "^command	http.https://example.com/.extraheader=Authorization: \*\*\*$" out &&
	! grep s3cr3t out
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

test_expect_success 'a password in .gitmodel is refused, pointing at credential helpers' '
	test_when_finished "rm .gitmodel" &&
	test_might_fail git config --unset model.storage &&
	git config -f .gitmodel model.storage http://user:pw-s3cr3t@example.com/m &&
	test_must_fail git model clean <w.bin >pointer 2>err &&
	grep "error: .model.storage. in .gitmodel has a user name or password in its URL; remove it and use a credential helper" err &&
	! grep s3cr3t pointer err
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
