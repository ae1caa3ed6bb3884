#!/bin/sh

test_description='fetch --all and --recent, ls-files --all and --long, as git-lfs users know them; a clone that could not fetch weights'

. "$(dirname "$0")/test-lib.sh"

SQ="'"

# The test commits are dated 2005 (test-lib.sh); one branch gets a commit
# of today, so that it is the only recent one.
test_expect_success 'setup: old versions on main, a recent commit on a branch' '
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom v1 30k >model.pth &&
		git add .gitattributes model.pth &&
		git commit -q -m v1 &&
		test-tool genrandom v2 20k >model.pth &&
		git commit -q -a -m v2 &&
		git checkout -q -b side &&
		test-tool genrandom side 10k >side.pth &&
		git add side.pth &&
		GIT_COMMITTER_DATE="$(date +%s) +0000" git commit -q -m side &&
		git checkout -q main &&
		git remote add origin ../remote.git &&
		git push -q origin main side 2>/dev/null
	) &&
	test-tool genrandom v1 30k >v1 &&
	test-tool genrandom v2 20k >v2 &&
	test-tool genrandom side 10k >side &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy
'

test_expect_success 'fetch without options brings only the weights of HEAD' '
	git -C lazy model fetch -q &&
	test_cmp_bin v2 "$(obj lazy/.git/model/objects $(oid_of v2))" &&
	test_path_is_missing "$(obj lazy/.git/model/objects $(oid_of v1))" &&
	test_path_is_missing "$(obj lazy/.git/model/objects $(oid_of side))"
'

test_expect_success 'ls-files --all lists every object of history, --long the full oid' '
	git -C lazy model ls-files --all >out &&
	cat >expect <<-EOF &&
	$(oid_of v1 | cut -c1-10) -  30.00 KiB  model.pth
	$(oid_of v2 | cut -c1-10) *  20.00 KiB  model.pth
	$(oid_of side | cut -c1-10) -  10.00 KiB  side.pth
	EOF
	sort expect >expect.sorted &&
	sort out >actual &&
	test_cmp expect.sorted actual &&
	git -C lazy model ls-files --long >out &&
	echo "$(oid_of v2) *  20.00 KiB  model.pth" >expect &&
	test_cmp expect out &&
	test_must_fail git -C lazy model ls-files --all HEAD 2>err &&
	grep "all takes no revision" err
'

test_expect_success 'fetch --recent brings the weights of refs changed lately, not old ones' '
	git -C lazy model fetch -q --recent &&
	test_cmp_bin side "$(obj lazy/.git/model/objects $(oid_of side))" &&
	test_path_is_missing "$(obj lazy/.git/model/objects $(oid_of v1))" &&
	test_must_fail git -C lazy -c model.fetchRecentDays=lots model fetch --recent 2>err &&
	grep "bad value .lots. for .model.fetchrecentdays.: not an integer" err &&
	test_must_fail git -C lazy -c model.fetchRecentDays=-1 model fetch --recent 2>err &&
	grep "bad value .-1. for .model.fetchrecentdays.: not a number of days" err
'

test_expect_success 'fetch --all brings every object of every ref' '
	git -C lazy model fetch -q --all &&
	test_cmp_bin v1 "$(obj lazy/.git/model/objects $(oid_of v1))" &&
	git -C lazy model ls-files --all >out &&
	! grep " - " out
'

test_expect_success 'a ref whose commit is missing: --recent and --all say which, like push --all' '
	git clone -q remote.git refs-broken &&
	echo 0123456789012345678901234567890123456789 \
		>refs-broken/.git/refs/heads/broken &&
	test_must_fail git -C refs-broken model fetch --recent 2>err &&
	grep "cannot read .refs/heads/broken." err &&
	test_must_fail git -C refs-broken model push --all -n origin 2>err &&
	grep "cannot read .refs/heads/broken." err
'

# As git-lfs's clone ends with its error summary and a non-zero exit
# ("Clone succeeded, but checkout failed"), a clone whose weights could
# not be fetched ends with one line naming the count and the fix, and
# exits 1; the files hold their pointers, the repository is usable.
test_expect_success 'a clone that could not fetch weights says so last, and exits 1' '
	mv remote.git/model remote.git/model.away &&
	test_when_finished "mv remote.git/model.away remote.git/model" &&
	test_expect_code 1 git clone -q remote.git broken 2>err &&
	tail -n 1 err >last &&
	echo "git-model: 1 file(s) hold their pointer, not their weights (run ${SQ}git model pull${SQ} once the storage has them)" >expect &&
	test_cmp expect last &&
	git -C broken model pointer --check model.pth &&
	mv remote.git/model.away remote.git/model &&
	git -C broken model pull -q &&
	test_cmp_bin v2 broken/model.pth &&
	mv remote.git/model remote.git/model.away
'

test_expect_success 'a bare repository says it does not read .gitmodel' '
	git init -q --bare bare.git &&
	git -C work push -q --no-verify ../bare.git main &&
	test_must_fail git -C bare.git model fetch 2>err &&
	grep "no model.storage is set and there is no remote .origin. (a bare repository does not read .gitmodel: set it with .git config model.storage <url>.)" err
'

test_done
