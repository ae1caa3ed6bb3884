#!/bin/sh

test_description='pre-push hook and git model push: what is uploaded, and when a push is refused'

. "$(dirname "$0")/test-lib.sh"

SQ="'"

test_expect_success 'setup' '
	git model install --local &&
	git model track "*.pth" &&
	git add .gitattributes &&
	git commit -q -m attributes &&
	git init -q --bare remote.git &&
	git remote add origin ./remote.git &&
	test-tool genrandom w 1m >w.pth &&
	git add w.pth &&
	git commit -q -m weights
'

test_expect_success 'git push uploads the weights through the pre-push hook' '
	test_path_is_executable .git/hooks/pre-push &&
	test_terminal "git push -q origin main" >err &&
	grep "uploaded 1 object(s) to .file://.*/remote.git/model/objects., 0 already there" err &&
	test_cmp_bin w.pth "$(obj remote.git/model/objects $(oid_of w.pth))" &&
	test "$(git -C remote.git rev-parse main)" = "$(git rev-parse HEAD)"
'

test_expect_success 'a user pre-push hook is chained, runs, and is restored' '
	git init -q --bare chain.git &&
	git init -q chain &&
	(
		cd chain &&
		write_script .git/hooks/pre-push <<-\EOF &&
		echo "$@" >>"$TRASH_DIRECTORY/hook.log"
		cat >>"$TRASH_DIRECTORY/hook.log"
		EOF
		cp .git/hooks/pre-push ../user-hook &&
		git model install --local &&
		test_cmp ../user-hook .git/hooks/pre-push.git-model-chained &&
		grep "git-model hook" .git/hooks/pre-push &&
		git model track "*.pth" &&
		test-tool genrandom c 64k >c.pth &&
		git add .gitattributes c.pth &&
		git commit -q -m chain &&
		git remote add origin "$TRASH_DIRECTORY/chain.git" &&
		git push -q origin main &&
		cat >expect <<-EOF &&
		origin $TRASH_DIRECTORY/chain.git
		refs/heads/main $(git rev-parse HEAD) refs/heads/main 0000000000000000000000000000000000000000
		EOF
		test_cmp expect "$TRASH_DIRECTORY/hook.log" &&
		test_cmp_bin c.pth "$(obj ../chain.git/model/objects $(oid_of c.pth))" &&
		git model uninstall --local &&
		test_cmp ../user-hook .git/hooks/pre-push &&
		test_path_is_missing .git/hooks/pre-push.git-model-chained
	)
'

test_expect_success 'a push whose storage is unwritable is refused, the ref stays' '
	test_when_finished "git config --unset model.storage" &&
	echo "not a directory" >ro-storage &&
	git config model.storage "file://$TRASH_DIRECTORY/ro-storage" &&
	old=$(git -C remote.git rev-parse main) &&
	test-tool genrandom ro 10k >ro.pth &&
	git add ro.pth &&
	git commit -q -m ro &&
	test_must_fail git push origin main 2>err &&
	grep "cannot create the directory of .$TRASH_DIRECTORY/ro-storage/sha256/" err &&
	grep "1 of 1 file(s) could not be uploaded to .file://$TRASH_DIRECTORY/ro-storage.; the push is refused" err &&
	test "$(git -C remote.git rev-parse main)" = "$old" &&
	echo "not a directory" >expect &&
	test_cmp expect ro-storage
'

test_expect_success 'git model push --dry-run lists, uploads nothing; push uploads' '
	oid=$(oid_of ro.pth) &&
	git model push --dry-run origin >out 2>err &&
	printf "would upload %.10s ro.pth (10.00 KiB)\n" $oid >expect &&
	test_cmp expect out &&
	test_path_is_missing "$(obj remote.git/model/objects $oid)" &&
	git model push --progress origin >out 2>err &&
	test_must_be_empty out &&
	grep "uploaded 1 object(s)" err &&
	test_cmp_bin ro.pth "$(obj remote.git/model/objects $oid)" &&
	git model push --dry-run origin >out &&
	test_must_be_empty out
'

test_expect_success 'push and push --dry-run with nothing to do say so, on a terminal' '
	git model push --dry-run --progress origin >out 2>err &&
	test_must_be_empty out &&
	url=$(sed -n "s/^git-model: 1 object(s) already in .\(file:.*remote.git\/model\/objects\).$/\1/p" err) &&
	test -n "$url" &&
	git model push --progress origin >out 2>err &&
	test_must_be_empty out &&
	echo "git-model: uploaded 0 object(s) to ${SQ}$url${SQ}, 1 already there" >expect &&
	tail -n 1 err >actual &&
	test_cmp expect actual &&
	git model push origin >out 2>err &&
	test_must_be_empty err &&
	git push -q origin main &&
	echo "git-model: no weights to push: the commits add none that ${SQ}origin${SQ} lacks" >expect &&
	git model push --dry-run --progress origin >out 2>err &&
	test_must_be_empty out &&
	test_cmp expect err &&
	test_terminal "git model push origin" >out &&
	tr -d "\r" <out >actual &&
	test_cmp expect actual &&
	git model push -q --progress origin 2>err &&
	test_must_be_empty err
'

test_expect_success 'off a terminal, a push that did its work says nothing' '
	git model push --dry-run origin >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	git model push origin 2>err &&
	test_must_be_empty err &&
	git push -q origin main 2>err &&
	test_must_be_empty err
'

test_expect_success 'push --all puts back weights lost from storage' '
	oid=$(oid_of ro.pth) &&
	rm -f "$(obj remote.git/model/objects $oid)" &&
	git model push --progress origin 2>err &&
	grep "no weights to push" err &&
	git model push --all --dry-run --progress origin >out 2>err &&
	printf "would upload %.10s ro.pth (10.00 KiB)\n" $oid >expect &&
	test_cmp expect out &&
	grep "^git-model: 1 object(s) already in .file://.*/remote.git/model/objects.$" err &&
	git model push --all --progress origin 2>err &&
	grep "uploaded 1 object(s) to .file://.*/remote.git/model/objects., 1 already there" err &&
	test_cmp_bin ro.pth "$(obj remote.git/model/objects $oid)" &&
	git model push --all --progress origin 2>err &&
	grep "^git-model: uploaded 0 object(s) to .file://.*/remote.git/model/objects., 2 already there$" err
'

test_expect_success 'git model status lists weights to push until they are pushed' '
	git push -q origin main &&
	test-tool genrandom s 3000 >s.pth &&
	git add s.pth &&
	git commit -q -m s &&
	git model status >status &&
	sed "/^Disk use:$/,\$d" status >out &&
	cat >expect <<-EOF &&
	Weights to push (no upstream; compared with origin):
	Z$(oid_of s.pth | cut -c1-10) s.pth (2.93 KiB)
	Files holding pointer text (run ${SQ}git model pull${SQ}):
	Z(none)
	EOF
	sed "s/^Z/	/" expect >expect.tab &&
	test_cmp expect.tab out &&
	git push -q origin main &&
	git model status >status &&
	sed "/^Disk use:$/,\$d" status >out &&
	sed -e "2s/.*/	(none)/" expect.tab >expect &&
	test_cmp expect out
'

test_expect_success 'git model status lists files holding pointer text' '
	git clone -q remote.git clone &&
	(
		cd clone &&
		git model install --local &&
		git model pull &&
		test_cmp_bin ../w.pth w.pth &&
		git model status >status &&
		sed "/^Disk use:$/,\$d" status >out &&
		test_line_count = 4 out &&
		grep -c "^	(none)$" out >count &&
		echo 2 >expect &&
		test_cmp expect count &&
		git cat-file -p HEAD:w.pth >w.pth &&
		git model status >status &&
		sed "/^Disk use:$/,\$d" status >out &&
		sed -n "/^Files holding pointer text/,\$p" out >actual &&
		printf "Files holding pointer text (run %sgit model pull%s):\n\tw.pth\n" "${SQ}" "${SQ}" >expect &&
		test_cmp expect actual
	)
'

test_expect_success 'deleting a remote branch succeeds and uploads nothing' '
	git push -q origin main:side &&
	git -C remote.git rev-parse --verify -q refs/heads/side &&
	git -c model.storage="file://$TRASH_DIRECTORY/ro-storage" push origin :side 2>err &&
	! grep "git-model\|error" err &&
	test_must_fail git -C remote.git rev-parse --verify -q refs/heads/side
'

test_expect_success 'pushing a merge uploads the weights of both branches' '
	git checkout -q -b branch-a main &&
	test-tool genrandom a 20k >a.pth &&
	git add a.pth &&
	git commit -q -m a &&
	git checkout -q -b branch-b main &&
	test-tool genrandom b 30k >b.pth &&
	git add b.pth &&
	git commit -q -m b &&
	git checkout -q main &&
	git merge -q branch-a &&
	git merge -q --no-edit branch-b &&
	test "$(git rev-list --parents -1 HEAD | wc -w)" = 3 &&
	test_terminal "git push -q origin main" >err &&
	grep "uploaded 2 object(s)" err &&
	test_cmp_bin a.pth "$(obj remote.git/model/objects $(oid_of a.pth))" &&
	test_cmp_bin b.pth "$(obj remote.git/model/objects $(oid_of b.pth))"
'

# A push is done only once a crash can no longer take the objects back:
# the storage's object directories, and the new ones up to the storage,
# are synced (dir-sync.h), and a push whose syncs fail fails.
test_expect_success STRACE 'push syncs the storage directories it made' '
	git init -q --bare sync.git &&
	test-tool genrandom s1 100k >s1.pth &&
	git add s1.pth &&
	git commit -q -m s1 &&
	strace -f -qq -y -o trace -e trace=fsync \
		git push -q ./sync.git HEAD:refs/heads/main &&
	d=$(dirname "$(obj "$TRASH_DIRECTORY/sync.git/model/objects" \
		$(oid_of s1.pth))") &&
	for dir in "$d" "${d%/*}" "${d%/*/*}" "${d%/*/*/*}" "${d%/*/*/*/*}"
	do
		grep -F "<$dir>)" trace || return 1
	done
'

test_expect_success STRACE 'a push whose storage cannot be synced fails' '
	git init -q --bare nosync.git &&
	test_must_fail strace -f -qq -o /dev/null -e trace=fsync \
		-e inject=fsync:error=EIO \
		git push -q ./nosync.git HEAD:refs/heads/main 2>err &&
	grep "cannot sync the directory .*/nosync.git/model/objects/sha256/" err &&
	test_must_fail git -C nosync.git rev-parse -q --verify refs/heads/main
'

test_expect_success 'without a remote named: branch.<name>.remote, from git -c too, else origin' '
	git init -q --bare other.git &&
	git remote add other ./other.git &&
	test_when_finished "git config --unset branch.main.remote; git remote remove other" &&
	test-tool genrandom d1 2000 >d.pth &&
	git add d.pth &&
	git commit -q -m d1 &&
	d1=$(oid_of d.pth) &&
	git -c branch.main.remote=other model status >out &&
	grep "^Weights to push (no upstream; compared with other):" out &&
	git -c branch.main.remote=other model push -q &&
	test_path_is_file "$(obj other.git/model/objects $d1)" &&
	test_path_is_missing "$(obj remote.git/model/objects $d1)" &&
	test-tool genrandom d2 2000 >d.pth &&
	git commit -q -a -m d2 &&
	d2=$(oid_of d.pth) &&
	git config branch.main.remote other &&
	git model push -q &&
	test_path_is_file "$(obj other.git/model/objects $d2)" &&
	test_path_is_missing "$(obj remote.git/model/objects $d2)" &&
	git config --unset branch.main.remote &&
	git model push -q &&
	test_path_is_file "$(obj remote.git/model/objects $d2)"
'

test_expect_success 'a file://localhost/ remote is a local remote too' '
	git init -q --bare lh.git &&
	git remote add lh "file://localhost$TRASH_DIRECTORY/lh.git" &&
	test_when_finished "git remote remove lh" &&
	test-tool genrandom lh 1000 >lh.pth &&
	git add lh.pth &&
	git commit -q -m lh &&
	git model push -q lh &&
	test_cmp_bin lh.pth "$(obj lh.git/model/objects $(oid_of lh.pth))"
'

test_expect_success 'push --all: a branch whose commit is missing is an error' '
	test_when_finished "rm -f .git/refs/heads/broken" &&
	echo 0123456789abcdef0123456789abcdef01234567 >.git/refs/heads/broken &&
	test_must_fail git model push --all origin 2>err &&
	grep "^error: cannot read .refs/heads/broken.: " err
'

test_done
