#!/bin/sh

test_description='git model pointer: print and check pointers'

. "$(dirname "$0")/test-lib.sh"

hello_oid=5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03

test_expect_success 'pointer --file prints the canonical pointer' '
	echo hello >hello.pth &&
	git model pointer --file hello.pth >actual &&
	cat >expect <<-EOF &&
	version git-model/1
	oid sha256:$hello_oid
	size 6
	EOF
	test_cmp expect actual &&
	test "$(sha256sum <hello.pth | cut -d" " -f1)" = "$hello_oid"
'

test_expect_success 'pointer --check accepts a canonical pointer' '
	git model pointer --check expect
'

test_expect_success 'pointer --check reads stdin with -' '
	git model pointer --check - <expect
'

test_expect_success 'pointer --check rejects an uppercase oid' '
	sed "s/$hello_oid/$(echo $hello_oid | tr a-f A-F)/" expect >upper &&
	test_must_fail git model pointer --check upper 2>err &&
	grep "not a git-model pointer: line 2: oid is not 64 lowercase hex" err
'

test_expect_success 'pointer --check rejects a git-lfs pointer' '
	cat >lfs <<-EOF &&
	version https://git-lfs.github.com/spec/v1
	oid sha256:$hello_oid
	size 6
	EOF
	test_must_fail git model pointer --check lfs 2>err &&
	grep "line 1:" err
'

test_expect_success 'pointer --check rejects CRLF, and -q is silent' '
	sed "s/\$/\r/" expect >crlf &&
	test_must_fail git model pointer --check crlf 2>err &&
	grep "CRLF" err &&
	test_must_fail git model pointer --check -q crlf 2>err &&
	test_must_be_empty err
'

test_expect_success 'pointer --check rejects content over 1024 bytes' '
	test-tool genrandom seed 2k >big &&
	test_must_fail git model pointer --check big 2>err &&
	grep "larger than 1024 bytes" err
'

test_expect_success 'pointer --check rejects the content of a real file' '
	test_must_fail git model pointer --check hello.pth
'

test_expect_success 'pointer needs exactly one mode' '
	test_expect_code 129 git model pointer 2>err &&
	test_expect_code 129 git model pointer --file a --check b 2>err
'

test_done
