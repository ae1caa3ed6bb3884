#!/bin/sh

test_description='what git-model writes into the work tree, and where

Only files whose attributes say filter=model get weights: a committed
example pointer stays text. Nothing is written through a symbolic link
among the leading directories of a path, so nothing outside the work
tree, whoever made the link.'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: weights, and a pointer committed as an example' '
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.bin" &&
		test-tool genrandom big 1m >big.bin &&
		git add .gitattributes big.bin &&
		git commit -q -m weights &&
		git cat-file -p HEAD:big.bin >example-pointer.txt &&
		git add example-pointer.txt &&
		git commit -q -m "an example pointer, as text" &&
		git remote add origin ../remote.git &&
		git push -q origin main
	) &&
	git -C work check-attr filter example-pointer.txt >attr &&
	grep "filter: unspecified" attr &&
	cp work/example-pointer.txt example.expect &&
	test-tool genrandom big 1m >big.expect
'

test_expect_success 'git model pull leaves a file without filter=model alone' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git pulled &&
	git -C pulled model pull 2>err &&
	cat err &&
	test_cmp_bin big.expect pulled/big.bin &&
	test_cmp example.expect pulled/example-pointer.txt &&
	grep "example-pointer.txt. holds a pointer, but its attributes do not say filter=model" err >said &&
	test_line_count = 1 said &&
	git -C pulled status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'so does git model checkout' '
	git -C pulled model checkout 2>err &&
	test_cmp example.expect pulled/example-pointer.txt &&
	grep "example-pointer.txt. holds a pointer" err
'

# Its index entry is not git-model's either: weights copied into it are
# a change git must show, not stat data to refresh.
test_expect_success 'weights in a file without filter=model stay a change' '
	cp big.expect pulled/example-pointer.txt &&
	git -C pulled model checkout 2>err &&
	git -C pulled status --porcelain >status &&
	echo " M example-pointer.txt" >expect &&
	test_cmp expect status &&
	git -C pulled checkout example-pointer.txt &&
	test_cmp example.expect pulled/example-pointer.txt
'

test_expect_success 'so does the deferred checkout, whatever its list says' '
	git clone -q -c model.smudgeInlineMax=100k remote.git deferred 2>err &&
	test_cmp_bin big.expect deferred/big.bin &&
	test_cmp example.expect deferred/example-pointer.txt &&
	printf "%s\0" example-pointer.txt >deferred/.git/model-deferred &&
	git -C deferred model post-checkout 2>err &&
	test_cmp example.expect deferred/example-pointer.txt &&
	grep "example-pointer.txt. holds a pointer" err &&
	git -C deferred status --porcelain >status &&
	test_must_be_empty status
'

# Commit X has models/model.bin; Y, on top, replaces models with a link
# to a directory outside that holds the pointer text as model.bin. A
# rebase checks X'"'"'s file out (deferred: over model.smudgeInlineMax),
# then Y'"'"'s link; the deferred write must not follow it.
test_expect_success SYMLINKS 'the deferred checkout never writes through a symbolic link' '
	mkdir outside &&
	git init -q sym &&
	(
		cd sym &&
		git config model.smudgeInlineMax 100k &&
		git model track "*.bin" &&
		mkdir models &&
		test-tool genrandom big 1m >models/model.bin &&
		git add . &&
		git commit -q -m X &&
		git branch other &&
		git cat-file -p HEAD:models/model.bin >../outside/model.bin &&
		git rm -q -r models &&
		ln -s "$TRASH_DIRECTORY/outside" models &&
		git add models &&
		git commit -q -m Y &&
		git checkout -q other &&
		echo more >more.txt &&
		git add more.txt &&
		git commit -q -m X2 &&
		git checkout -q main &&
		git rebase -q other 2>../err.rebase
	) &&
	cat err.rebase &&
	test_cmp example.expect outside/model.bin &&
	test -h sym/models &&
	grep "refusing to write .models/model.bin.: .models. is a symbolic link" err.rebase
'

test_expect_success SYMLINKS 'git model checkout never writes through a symbolic link' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q sym symclone &&
	(
		cd symclone &&
		git checkout -q HEAD~2 &&
		rm -r models &&
		ln -s "$TRASH_DIRECTORY/outside" models &&
		test_must_fail git model checkout 2>../err.co
	) &&
	cat err.co &&
	test_cmp example.expect outside/model.bin &&
	grep "refusing to write .models/model.bin.: .models. is a symbolic link" err.co
'

# The file itself a link to a file outside that holds the pointer text:
# git model checkout, pull and the deferred checkout leave it a link and
# write nothing where it points.
test_expect_success SYMLINKS 'a work tree file that is a symbolic link is never written through' '
	mkdir -p outside2 &&
	git -C pulled cat-file -p HEAD:big.bin >outside2/big.bin &&
	cp outside2/big.bin target.expect &&
	rm pulled/big.bin &&
	ln -s "$TRASH_DIRECTORY/outside2/big.bin" pulled/big.bin &&
	git -C pulled model checkout 2>err.flink &&
	git -C pulled model pull 2>>err.flink &&
	printf "%s\0" big.bin >pulled/.git/model-deferred &&
	git -C pulled model post-checkout 2>>err.flink &&
	cat err.flink &&
	test -h pulled/big.bin &&
	test_cmp target.expect outside2/big.bin &&
	test_path_is_missing pulled/.git/model-deferred
'

# A link deeper among the leading directories than the first.
test_expect_success SYMLINKS 'a symbolic link anywhere among the leading directories' '
	git init -q deep &&
	(
		cd deep &&
		git model track "*.bin" &&
		mkdir -p a/b/c &&
		test-tool genrandom big 1m >a/b/c/model.bin &&
		git add . &&
		git commit -q -m deep
	) &&
	mkdir -p outside3/c &&
	git -C deep cat-file -p HEAD:a/b/c/model.bin >outside3/c/model.bin &&
	cp outside3/c/model.bin deep.expect &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q deep deepclone &&
	cp -R deep/.git/model deepclone/.git/ &&
	rm -r deepclone/a/b &&
	ln -s "$TRASH_DIRECTORY/outside3" deepclone/a/b &&
	test_must_fail git -C deepclone model checkout 2>err.deep &&
	cat err.deep &&
	grep "refusing to write .a/b/c/model.bin.: .a/b. is a symbolic link" err.deep &&
	test_cmp deep.expect outside3/c/model.bin &&
	printf "%s\0" a/b/c/model.bin >deepclone/.git/model-deferred &&
	test_must_fail git -C deepclone model post-checkout 2>err.deep-hook &&
	grep "refusing to write .a/b/c/model.bin.: .a/b. is a symbolic link" err.deep-hook &&
	test_cmp deep.expect outside3/c/model.bin
'

test_done
