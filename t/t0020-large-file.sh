#!/bin/sh

test_description='a 2 GiB file goes in and out with the filter in flat memory'

. "$(dirname "$0")/test-lib.sh"

# Peak RSS bounds, in KiB: the filter process; git and everything it ran.
RSS_MAX=65536
GIT_RSS_MAX=262144
# ThreadSanitizer keeps its own shadow and history memory (tens of MiB,
# not growing with the file): the bound stays flat, at a higher level.
if test "$GIT_MODEL_TEST_SANITIZER" = thread
then
	RSS_MAX=$((RSS_MAX * 4))
fi

if ! test -x /usr/bin/time
then
	test_env_require_ci_service "GNU time" "/usr/bin/time (Debian package time) is needed to measure peak RSS"
fi
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if test "$free_kib" -lt 7340032
then
	skip_all="needs 7 GiB free disk for a 2 GiB file, its object and a checkout"
	test_done
fi

max_rss () {
	sort -n rss | tail -n 1
}

test_expect_success 'setup: filter under /usr/bin/time' '
	git model install --local &&
	git config filter.model.process \
		"/usr/bin/time -a -o \"$TRASH_DIRECTORY/rss\" -f %M git-model filter-process" &&
	git model track "*.pth" &&
	git add .gitattributes &&
	git commit -q -m attributes &&
	test-tool genrandom big 2g >big.pth
'

test_expect_success 'git add of 2 GiB: pointer right, filter RSS bounded' '
	rm -f rss &&
	git add big.pth &&
	git commit -q -m big &&
	git cat-file -p HEAD:big.pth >pointer &&
	git model pointer --check pointer &&
	grep "^size 2147483648$" pointer &&
	oid=$(sha256sum <big.pth | cut -d" " -f1) &&
	grep "^oid sha256:$oid$" pointer &&
	test_file_not_empty rss &&
	say "peak RSS of the filter during git add: $(max_rss) KiB" &&
	test "$(max_rss)" -lt $RSS_MAX
'

test_expect_success 'checkout of 2 GiB: bytes equal, RSS of every process bounded' '
	git checkout -q HEAD~1 &&
	test_path_is_missing big.pth &&
	rm -f rss &&
	/usr/bin/time -o git-rss -f %M git checkout -q main &&
	test-tool genrandom big 2g | cmp - big.pth &&
	test_file_not_empty rss &&
	say "peak RSS during checkout: filter $(max_rss) KiB, git and its children $(cat git-rss) KiB" &&
	test "$(max_rss)" -lt $RSS_MAX &&
	test "$(cat git-rss)" -lt $GIT_RSS_MAX
'

test_expect_success 'a file checkout of 2 GiB, the same' '
	rm -f big.pth rss &&
	/usr/bin/time -o git-rss -f %M git checkout big.pth &&
	test-tool genrandom big 2g | cmp - big.pth &&
	say "peak RSS during checkout: filter $(max_rss) KiB, git and its children $(cat git-rss) KiB" &&
	test "$(max_rss)" -lt $RSS_MAX &&
	test "$(cat git-rss)" -lt $GIT_RSS_MAX
'

test_expect_success 'status is clean after the checkout' '
	git status --porcelain --untracked-files=no >status &&
	test_must_be_empty status
'

test_expect_success 'free the disk' '
	rm -rf big.pth .git/model
'

test_done
