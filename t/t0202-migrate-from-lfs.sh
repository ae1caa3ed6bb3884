#!/bin/sh

test_description='git model migrate from-lfs: a repository made with the real git-lfs moves in'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lfs.sh"
. "$TEST_DIRECTORY/lib-migrate.sh"

lfs_require_git_lfs

# git-lfs's objects go to a directory through its standalone file://
# transfer; git-model's filter is configured too.
test_expect_success 'setup: a git-lfs repository with history, pushed' '
	git lfs install >/dev/null &&
	git model install &&
	git init -q --bare remote.git &&
	mkdir lfs-store &&
	git init -q work &&
	(
		cd work &&
		git config lfs.url "file://$TRASH_DIRECTORY/lfs-store" &&
		git lfs track "*.bin" >/dev/null &&
		mkdir sub &&
		printf "*.dat filter=lfs diff=lfs merge=lfs -text\n" \
			>sub/.gitattributes &&
		test-tool genrandom a1 200k >a.bin &&
		test-tool genrandom d1 30k >sub/d.dat &&
		echo "print(1)" >code.py &&
		git add . &&
		test_tick &&
		git commit -q -m one &&
		git tag -a -m "first" v1 &&
		test-tool genrandom a2 210k >a.bin &&
		test-tool genrandom c1 5k >"c c.bin" &&
		git add . &&
		test_tick &&
		git commit -q -m two &&
		git remote add origin ../remote.git &&
		git push -q origin main --tags
	) &&
	test-tool genrandom a2 210k >a2 &&
	test-tool genrandom d1 30k >d1 &&
	git -C work cat-file blob main:a.bin >lfs-pointer &&
	grep "^version https://git-lfs.github.com/spec/v1" lfs-pointer
'

test_expect_success 'a clone of it has only the objects of HEAD' '
	git clone -q -c lfs.url="file://$TRASH_DIRECTORY/lfs-store" \
		remote.git clone &&
	git -C clone config lfs.url "file://$TRASH_DIRECTORY/lfs-store" &&
	test_cmp_bin a2 clone/a.bin &&
	git -C clone for-each-ref >refs.before
'

test_expect_success 'objects that are nowhere local: a dry run names them' '
	git -C clone model migrate from-lfs --everything --dry-run >out &&
	grep "Would rewrite 2 of 2 commits, 4 files" out &&
	grep "(missing)" out &&
	grep "1 git-lfs object is missing" out
'

test_expect_success 'and the migration refuses, changing nothing' '
	test_must_fail git -C clone model migrate from-lfs --everything 2>err &&
	grep "git lfs fetch --all" err &&
	git -C clone for-each-ref >refs.after &&
	test_cmp refs.before refs.after
'

test_expect_success 'from-lfs --everything after git lfs fetch --all' '
	git -C clone lfs fetch --all &&
	git -C clone model migrate from-lfs --everything >out &&
	grep "Rewrote 2 of 2 commits, 4 files" out &&
	grep "updated refs/heads/main" out &&
	grep "updated refs/tags/v1" out
'

test_expect_success 'every rewritten commit checks out to the same bytes' '
	(
		cd clone &&
		migrate_same_checkouts refs/model/migrate/1/refs/heads/main main
	)
'

test_expect_success 'the commits hold git-model pointers to the same sha256' '
	git -C clone cat-file blob main:a.bin >p &&
	git model pointer --check p &&
	grep "^oid sha256:$(oid_of a2)\$" p &&
	git -C clone cat-file blob v1:sub/d.dat >p &&
	grep "^oid sha256:$(oid_of d1)\$" p &&
	git -C clone cat-file blob main:code.py >code &&
	echo "print(1)" >expect &&
	test_cmp expect code
'

test_expect_success 'lfs attributes became model attributes, in every .gitattributes' '
	git -C clone cat-file blob main:.gitattributes >attrs &&
	echo "*.bin filter=model diff=model merge=model -text" >expect &&
	test_cmp expect attrs &&
	git -C clone cat-file blob v1:sub/.gitattributes >attrs &&
	echo "*.dat filter=model diff=model merge=model -text" >expect &&
	test_cmp expect attrs
'

test_expect_success 'the objects came from git-lfs into the store, verified' '
	test_cmp_bin a2 "$(obj clone/.git/model/objects $(oid_of a2))" &&
	test_cmp_bin d1 "$(obj clone/.git/model/objects $(oid_of d1))"
'

test_expect_success 'the work tree keeps its bytes and is clean' '
	test_cmp_bin a2 clone/a.bin &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'status names git-lfs pointers and says to migrate' '
	GIT_LFS_SKIP_SMUDGE=1 git clone -q \
		-c lfs.url="file://$TRASH_DIRECTORY/lfs-store" remote.git half &&
	test_cmp lfs-pointer half/a.bin &&
	git -C half model status >out &&
	sed -n "/^git-lfs pointers/,\$p" out >actual &&
	printf "%s\n\t%s\n\t%s\n\t%s\n" \
		"git-lfs pointers, not git-model'"'"'s (run '"'"'git model migrate from-lfs'"'"'):" \
		a.bin "c c.bin" sub/d.dat >expect &&
	test_cmp expect actual &&
	! grep "stored raw" out
'

test_expect_success 'fsck: git-lfs pointers where git-model is tracking, pointer text' '
	(
		cd half &&
		sed -i "s/=lfs/=model/g" .gitattributes &&
		git add .gitattributes &&
		test_must_fail git model fsck >../out 2>../err
	) &&
	grep "git-lfs pointer HEAD:a.bin: tracked by git-model (run .git model migrate from-lfs.)" out &&
	grep "git-lfs pointer text in the work tree: a.bin (run .git model migrate from-lfs.)" out &&
	! grep "renormalize" out &&
	git -C half checkout HEAD -- .gitattributes
'

test_expect_success 'a work tree holding git-lfs pointers gets the weights' '
	git -C half config lfs.url "file://$TRASH_DIRECTORY/lfs-store" &&
	git -C half lfs fetch --all &&
	git -C half model migrate from-lfs --everything >out &&
	test_cmp_bin a2 half/a.bin &&
	test_cmp_bin d1 half/sub/d.dat &&
	git -C half status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'the migrated history pushes and clones with git-model alone' '
	git init -q --bare moved.git &&
	git -C clone push -q ../moved.git main --tags &&
	git clone -q moved.git fresh &&
	test_cmp_bin a2 fresh/a.bin &&
	git -C fresh checkout -q v1 &&
	test_cmp_bin d1 fresh/sub/d.dat
'

test_done
