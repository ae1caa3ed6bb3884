#!/bin/sh

test_description='model.checkout with HTTP storage: a clone lends what it downloaded

The objects of a clone come from nginx; each is in storage, so the
checkout moves it into the work tree, and switching versions moves them
back and forth. A version whose lent file was changed comes back from
the server.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

# lent FILE: FILE is a lent object (its anchor in the store is a second name)
lent () {
	test "$(stat -c %h "$1")" = 2 &&
	test -f "$2/.git/model/lent/$(oid_of "$1").loan"
}

test_expect_success 'setup: two versions pushed to HTTP storage' '
	test_setup_work "$HTTPD_URL/open/models" &&
	git config --global model.smudgeInlineMax 100k &&
	(
		cd work &&
		test-tool genrandom h1 1m >w.pth &&
		git add .gitattributes .gitmodel w.pth &&
		git commit -q -m v1 &&
		git tag v1 &&
		test-tool genrandom h2 2m >w.pth &&
		git commit -q -a -m v2 &&
		git tag v2 &&
		git push -q origin main --tags 2>/dev/null
	) &&
	test-tool genrandom h1 1m >h1 &&
	test-tool genrandom h2 2m >h2 &&
	H2=$(oid_of h2)
'

test_expect_success 'the pushing repository keeps its objects: pushed now, lent at its next checkout' '
	lent_before=$(ls work/.git/model/lent 2>/dev/null | wc -l) &&
	test "$lent_before" = 0 &&
	git -C work checkout -q v1 &&
	test_cmp_bin h1 work/w.pth &&
	lent work/w.pth work &&
	git -C work checkout -q main &&
	test_cmp_bin h2 work/w.pth &&
	lent work/w.pth work
'

test_expect_success 'clone: the downloaded object is lent' '
	git clone -q remote.git clone &&
	test_cmp_bin h2 clone/w.pth &&
	lent clone/w.pth clone &&
	test_path_is_missing "$(obj clone/.git/model/objects $H2)"
'

test_expect_success 'tags back and forth' '
	git -C clone checkout -q v1 &&
	test_cmp_bin h1 clone/w.pth &&
	lent clone/w.pth clone &&
	git -C clone checkout -q main &&
	test_cmp_bin h2 clone/w.pth &&
	git -C clone status --porcelain >out &&
	test_must_be_empty out
'

test_expect_success 'a lent file written over: its version is downloaded again' '
	test-tool genrandom other 2m >clone/w.pth &&
	git -C clone checkout -q -f v1 2>err &&
	grep "was changed after it was checked out" err &&
	test_cmp_bin h1 clone/w.pth &&
	git -C clone checkout -q main &&
	test_cmp_bin h2 clone/w.pth &&
	lent clone/w.pth clone
'

test_done
