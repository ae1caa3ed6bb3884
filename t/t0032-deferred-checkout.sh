#!/bin/sh

test_description='objects over model.smudgeInlineMax are written by the hooks, not through git'

. "$(dirname "$0")/test-lib.sh"

# Small numbers stand in for big ones: anything over 100 KiB is deferred.
INLINE_MAX=100k

# git re-checks files written in the same second as the index (racy git),
# small ones included; the big file must never be read again.
big_not_reread () {
	rm -f packets &&
	GIT_TRACE_PACKET="$TRASH_DIRECTORY/packets" git -C "$1" status --porcelain >status &&
	test_must_be_empty status &&
	! grep -a "pathname=big.pth" packets
}

test_expect_success 'setup: big and small files in two tagged versions' '
	git model install &&
	git config --global model.smudgeInlineMax $INLINE_MAX &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom big1 1m >big.pth &&
		test-tool genrandom small1 10k >small.pth &&
		git add .gitattributes big.pth small.pth &&
		git commit -q -m v1 &&
		git tag v1 &&
		test-tool genrandom big2 2m >big.pth &&
		test-tool genrandom small2 20k >small.pth &&
		git commit -q -a -m v2 &&
		git tag v2 &&
		git remote add origin ../remote.git &&
		git push -q origin main --tags
	) &&
	test-tool genrandom big1 1m >big1 &&
	test-tool genrandom big2 2m >big2 &&
	test-tool genrandom small1 10k >small1 &&
	test-tool genrandom small2 20k >small2
'

test_expect_success 'clone: the hook writes the big file, git the small one' '
	git clone -q remote.git clone 2>err &&
	test_cmp_bin big2 clone/big.pth &&
	test_cmp_bin small2 clone/small.pth &&
	! grep "checked out" err &&
	test_path_is_missing clone/.git/model-deferred &&
	grep "git-model post-checkout" clone/.git/hooks/post-checkout &&
	grep "git-model post-merge" clone/.git/hooks/post-merge &&
	grep "git-model post-rewrite" clone/.git/hooks/post-rewrite
'

# git runs the hooks of a clone made with --separate-git-dir with GIT_DIR
# set and the work tree as the current directory (not GIT_DIR's parent).
test_expect_success 'clone --separate-git-dir: the hook writes the big file too' '
	git clone -q --separate-git-dir="$TRASH_DIRECTORY/sep.git" \
		remote.git sepclone 2>err &&
	test_cmp_bin big2 sepclone/big.pth &&
	test_cmp_bin small2 sepclone/small.pth &&
	test_path_is_missing sep.git/model-deferred &&
	test_path_is_missing big.pth &&
	git -C sepclone status --porcelain >status &&
	test_must_be_empty status &&
	(cd sepclone && GIT_DIR="$TRASH_DIRECTORY/sep.git" git model status >../out) &&
	grep "^	(none)$" out
'

test_expect_success 'status after the clone is clean and does not re-read the big file' '
	big_not_reread clone
'

test_expect_success 'the checkout summary: on a terminal, else nothing' '
	git -C clone checkout -q v1 2>err &&
	test_must_be_empty err &&
	test_terminal "git -C clone checkout -q main" >out &&
	grep "git-model: checked out 1 file(s)" out &&
	git -C clone cat-file -p HEAD:big.pth >clone/big.pth &&
	git -C clone model checkout 2>err &&
	test_must_be_empty err &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone cat-file -p HEAD:big.pth >clone/big.pth &&
	git -C clone model pull --progress 2>err &&
	grep "git-model: checked out 1 file(s)" err &&
	git -C clone cat-file -p HEAD:big.pth >clone/big.pth &&
	test_terminal "git -C clone model pull -q" >out &&
	! grep "checked out" out
'

test_expect_success 'git checkout of a tag' '
	git -C clone checkout -q v1 &&
	test_cmp_bin big1 clone/big.pth &&
	test_cmp_bin small1 clone/small.pth &&
	big_not_reread clone &&
	git -C clone checkout -q main &&
	test_cmp_bin big2 clone/big.pth
'

test_expect_success 'a file checkout runs the hook too' '
	rm clone/big.pth &&
	git -C clone checkout -- big.pth &&
	test_cmp_bin big2 clone/big.pth &&
	rm clone/big.pth &&
	git -C clone restore big.pth &&
	test_cmp_bin big2 clone/big.pth
'

test_expect_success 'restore --source of another version: its weights, the index untouched' '
	git -C clone restore --source=v1 big.pth &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone diff --cached --quiet &&
	git -C clone status --porcelain >status &&
	echo " M big.pth" >expect &&
	test_cmp expect status &&
	git -C clone restore big.pth &&
	test_cmp_bin big2 clone/big.pth &&
	big_not_reread clone
'

test_expect_success 'archive, cat-file --filters and git model smudge give the weights' '
	git -C clone archive v1 big.pth >v1.tar &&
	mkdir archived &&
	tar -xf v1.tar -C archived &&
	test_cmp_bin big1 archived/big.pth &&
	git -C clone cat-file --filters v1:big.pth >catted &&
	test_cmp_bin big1 catted &&
	git -C clone show v1:big.pth >pointer &&
	git -C clone model smudge big.pth <pointer >smudged &&
	test_cmp_bin big1 smudged &&
	test_path_is_missing clone/.git/model-deferred
'

test_expect_success 'reset --hard and stash run no hook: the filter writes at exit' '
	git -C clone reset -q --hard v1 &&
	test_cmp_bin big1 clone/big.pth &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status &&
	git -C clone reset -q --hard origin/main &&
	test_cmp_bin big2 clone/big.pth &&
	echo change >>clone/big.pth &&
	git -C clone stash -q &&
	test_cmp_bin big2 clone/big.pth &&
	git -C clone stash drop -q
'

test_expect_success 'pull (merge) brings a new big file' '
	(
		cd work &&
		test-tool genrandom big3 3m >big.pth &&
		git commit -q -a -m v3 &&
		git push -q origin main
	) &&
	test-tool genrandom big3 3m >big3 &&
	git -C clone pull -q &&
	test_cmp_bin big3 clone/big.pth &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'pull --rebase over a local commit' '
	(
		cd clone &&
		echo notes >notes.txt &&
		git add notes.txt &&
		git commit -q -m notes
	) &&
	(
		cd work &&
		test-tool genrandom big4 1m >big.pth &&
		git commit -q -a -m v4 &&
		git push -q origin main
	) &&
	test-tool genrandom big4 1m >big4 &&
	git -C clone pull -q --rebase &&
	test_cmp_bin big4 clone/big.pth &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'git worktree add: the new worktree gets the weights' '
	git -C clone worktree add -q ../linked v1 2>err &&
	test_cmp_bin big1 linked/big.pth &&
	test_path_is_missing clone/.git/worktrees/linked/model-deferred &&
	big_not_reread linked &&
	git -C clone worktree remove --force ../linked
'

test_expect_success 'a user hook is chained and still runs' '
	git init -q hooked &&
	write_script hooked/.git/hooks/post-checkout <<-\EOF &&
	echo "user hook: $3" >>"$TRASH_DIRECTORY/user-hook.log"
	EOF
	(
		cd hooked &&
		git remote add origin ../remote.git &&
		git fetch -q origin &&
		git checkout -q -b main origin/main
	) &&
	test_cmp_bin big4 hooked/big.pth &&
	test_path_is_executable hooked/.git/hooks/post-checkout.git-model-chained &&
	grep "user hook: 1" user-hook.log &&
	git -C hooked model uninstall --local &&
	test_path_is_missing hooked/.git/hooks/post-checkout.git-model-chained &&
	grep "user hook" hooked/.git/hooks/post-checkout
'

test_expect_success 'an object that cannot be fetched leaves the pointer' '
	git clone -q remote.git broken &&
	oid=$(git -C broken cat-file -p HEAD:big.pth | sed -n "s/^oid sha256://p") &&
	rm -f broken/.git/model/objects/sha256/*/*/$oid &&
	mv remote.git/model remote.git/model.away &&
	test_when_finished "mv remote.git/model.away remote.git/model" &&
	rm broken/big.pth &&
	test_expect_code 1 git -C broken checkout -- big.pth 2>err &&
	git -C broken model pointer --check big.pth &&
	test_path_is_missing broken/.git/model-deferred
'

test_expect_success 'git model checkout writes what the hook could not' '
	git -C broken model fetch -q &&
	git -C broken model checkout &&
	test_cmp_bin big4 broken/big.pth &&
	git -C broken status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'a modified file is never overwritten' '
	git -C clone checkout -q v1 &&
	(
		cd clone &&
		git cat-file -p v2:big.pth >big.pth &&
		printf "%s\0" big.pth >.git/model-deferred &&
		echo mine >big.pth &&
		git model post-checkout &&
		echo mine >expect &&
		test_cmp expect big.pth &&
		git checkout -q -f main
	)
'

test_expect_success 'model.smudgeInlineMax must be a size' '
	test_must_fail git -c model.smudgeInlineMax=lots \
		clone -q remote.git badcfg 2>err &&
	grep "bad value .lots. for .model.smudgeInlineMax." err
'

test_expect_success 'with a high limit everything goes through git' '
	git clone -q -c model.smudgeInlineMax=1g remote.git inline 2>err &&
	test_cmp_bin big4 inline/big.pth &&
	! grep "checked out" err
'

test_expect_success 'many files in several directories, one executable, by the parallel writers' '
	git init -q many &&
	(
		cd many &&
		git model track "*.pth" &&
		mkdir -p a/b c &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12
		do
			test-tool genrandom "m$i" 200k >a/m$i.pth &&
			test-tool genrandom "n$i" 200k >a/b/n$i.pth &&
			test-tool genrandom "o$i" 200k >c/o$i.pth || return 1
		done &&
		chmod +x c/o1.pth &&
		git add . &&
		git commit -q -m many &&
		git rm -q -r a c &&
		git commit -q -m none &&
		test_terminal "git checkout -q HEAD~1" >../err &&
		grep "checked out 36 file" ../err &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12
		do
			test-tool genrandom "m$i" 200k >../expect &&
			test_cmp_bin ../expect a/m$i.pth &&
			test-tool genrandom "n$i" 200k >../expect &&
			test_cmp_bin ../expect a/b/n$i.pth &&
			test-tool genrandom "o$i" 200k >../expect &&
			test_cmp_bin ../expect c/o$i.pth || return 1
		done &&
		test -x c/o1.pth &&
		! test -x c/o2.pth &&
		test -z "$(git status --porcelain)" &&
		test -z "$(find . -name "*.git-model-*")"
	)
'

# core.hooksPath in the global config is every repository's: a clone
# never writes there. The filter writes the big files as git exits and
# says once how to get the hooks.
test_expect_success 'a shared core.hooksPath is left alone by a clone' '
	mkdir shared-hooks &&
	write_script shared-hooks/pre-push <<-\EOF &&
	echo "my pre-push"
	EOF
	cp shared-hooks/pre-push my-pre-push &&
	git config --global core.hooksPath "$TRASH_DIRECTORY/shared-hooks" &&
	test_when_finished "git config --global --unset core.hooksPath" &&
	git clone -q remote.git shared 2>err &&
	cat err &&
	ls shared-hooks >hooks &&
	echo pre-push >expect &&
	test_cmp expect hooks &&
	test_cmp my-pre-push shared-hooks/pre-push &&
	test_cmp_bin big4 shared/big.pth &&
	git -C shared status --porcelain >status &&
	test_must_be_empty status &&
	grep "hooks not installed in core.hooksPath .*shared-hooks" err >said &&
	test_line_count = 1 said &&
	grep "git model install --local" said &&
	git -C shared checkout -q v1 2>err.v1 &&
	test_cmp_bin big1 shared/big.pth &&
	ls shared-hooks >hooks &&
	test_cmp expect hooks
'

# Run by the user, install does what it says: the hooks go where git
# runs them, chaining the user's own (git-lfs does the same).
test_expect_success 'git model install puts the hooks into core.hooksPath' '
	git config --global core.hooksPath "$TRASH_DIRECTORY/shared-hooks" &&
	test_when_finished "git config --global --unset core.hooksPath" &&
	git -C shared model install --local >out &&
	grep "hooks installed" out &&
	test_cmp my-pre-push shared-hooks/pre-push.git-model-chained &&
	grep "git-model pre-push" shared-hooks/pre-push &&
	git -C shared model uninstall --local &&
	ls shared-hooks >hooks &&
	echo pre-push >expect &&
	test_cmp expect hooks &&
	test_cmp my-pre-push shared-hooks/pre-push
'

test_done
