#!/bin/sh

test_description='git model migrate import: raw weights in history become pointers'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-migrate.sh"

test_expect_success 'setup: weights committed raw, on two branches, with tags' '
	git model install &&
	git init -q work &&
	(
		cd work &&
		test-tool genrandom a1 300k >a.pth &&
		mkdir -p sub/dir weights/deep &&
		test-tool genrandom b1 20k >sub/dir/b.pth &&
		test-tool genrandom sp 5k >"with space.pth" &&
		test-tool genrandom x 7k >exec.pth &&
		chmod +x exec.pth &&
		: >empty.pth &&
		test-tool genrandom w 9k >weights/x.bin &&
		test-tool genrandom y 9k >weights/deep/y.bin &&
		echo "print(1)" >code.py &&
		echo "*.py diff=python" >.gitattributes &&
		git add . &&
		test_tick &&
		git commit -q -m one &&
		test-tool genrandom a2 310k >a.pth &&
		test_tick &&
		git commit -q -a -m two &&
		git tag -a -m "version one" v1 &&
		git checkout -q -b side HEAD~1 &&
		test-tool genrandom b2 21k >sub/dir/b.pth &&
		test_tick &&
		git commit -q -a -m side &&
		git checkout -q main &&
		test_tick &&
		git merge -q --no-edit side &&
		git tag v2
	) &&
	git -C work for-each-ref >refs.before &&
	cp work/a.pth a.pth.before
'

test_expect_success 'an import needs patterns' '
	test_expect_code 129 git -C work model migrate import 2>err &&
	grep "needs --include" err
'

test_expect_success 'a dry run lists what it would convert and changes nothing' '
	git -C work model migrate import --dry-run --everything \
		--include="*.pth,weights/*.bin" >out &&
	grep "Would rewrite 4 of 4 commits, 7 files" out &&
	grep " a.pth\$" out &&
	grep " with space.pth\$" out &&
	grep " weights/x.bin\$" out &&
	! grep "y.bin" out &&
	! grep "code.py" out &&
	grep "would update refs/tags/v1" out &&
	git -C work for-each-ref >refs.after &&
	test_cmp refs.before refs.after &&
	test_path_is_missing work/.git/model/objects
'

test_expect_success 'a work tree with changes is refused' '
	echo "print(2)" >work/code.py &&
	test_must_fail git -C work model migrate import --include="*.pth" 2>err &&
	grep "the work tree has changes" err &&
	git -C work checkout code.py &&
	git -C work for-each-ref >refs.after &&
	test_cmp refs.before refs.after
'

test_expect_success 'import --everything rewrites every commit, refs at the end' '
	git -C work model migrate import --everything \
		--include="*.pth,weights/*.bin" >out &&
	grep "Rewrote 4 of 4 commits, 7 files" out &&
	grep "updated refs/heads/main" out &&
	grep "updated refs/heads/side" out &&
	grep "updated refs/tags/v1" out &&
	grep "updated refs/tags/v2" out &&
	grep "refs/model/migrate/1/" out
'

test_expect_success 'the old tips are kept under refs/model/migrate/1/' '
	sed -n "s|\trefs/|\trefs/model/migrate/1/refs/|p" refs.before >expect &&
	git -C work for-each-ref refs/model/migrate/ >actual &&
	test_cmp expect actual
'

test_expect_success 'every rewritten commit checks out to the same bytes' '
	(
		cd work &&
		migrate_same_checkouts refs/model/migrate/1/refs/heads/main main &&
		migrate_same_checkouts refs/model/migrate/1/refs/heads/side side
	)
'

test_expect_success 'the commits hold pointers now, and the patterns in .gitattributes' '
	git -C work rev-list --all --not refs/model/migrate/1/refs/heads/main \
		refs/model/migrate/1/refs/heads/side >revs &&
	test_line_count = 4 revs &&
	(
		cd work &&
		for c in $(cat ../revs)
		do
			git cat-file blob $c:a.pth >../p &&
			git model pointer --check ../p &&
			git cat-file blob $c:weights/x.bin >../p &&
			git model pointer --check ../p &&
			git cat-file blob $c:weights/deep/y.bin >../p &&
			test_must_fail git model pointer --check ../p &&
			git cat-file blob $c:.gitattributes >../attrs &&
			cat >../expect <<-\EOF &&
			*.py diff=python
			*.pth filter=model diff=model merge=model -text
			weights/*.bin filter=model diff=model merge=model -text
			EOF
			test_cmp ../expect ../attrs || return 1
		done
	) &&
	git -C work cat-file blob main:empty.pth >empty &&
	test_must_be_empty empty &&
	git -C work ls-tree main exec.pth >mode &&
	grep "^100755 " mode
'

test_expect_success 'authors, dates and messages stay; an annotated tag stays one' '
	git -C work log --format="%an %ae %ad %cn %ce %cd %s" \
		refs/model/migrate/1/refs/heads/main >expect &&
	git -C work log --format="%an %ae %ad %cn %ce %cd %s" main >actual &&
	test_cmp expect actual &&
	test $(git -C work cat-file -t v1) = tag &&
	git -C work cat-file tag v1 | sed -n "/^$/,\$p" >msg &&
	printf "\nversion one\n" >expect &&
	test_cmp expect msg &&
	test $(git -C work rev-parse v1^{commit}) = \
		$(git -C work rev-parse main~1)
'

test_expect_success 'the work tree is untouched and clean; the index has the pointers' '
	test_cmp_bin a.pth.before work/a.pth &&
	git -C work status --porcelain >status &&
	test_must_be_empty status &&
	git -C work ls-files -s a.pth >entry &&
	grep "$(git -C work rev-parse main:a.pth)" entry &&
	grep "^\*.pth filter=model" work/.gitattributes
'

test_expect_success 'the weights are in the store' '
	test_cmp_bin a.pth.before "$(obj work/.git/model/objects $(oid_of a.pth.before))"
'

test_expect_success 'the new history pushes and clones' '
	git init -q --bare remote.git &&
	git -C work push -q ../remote.git main --tags &&
	git clone -q remote.git clone &&
	test_cmp_bin a.pth.before clone/a.pth &&
	git -C clone checkout -q v1 &&
	test_cmp_bin a.pth.before clone/a.pth
'

test_expect_success 'a second import with the same patterns changes nothing' '
	git -C work model migrate import --everything \
		--include="*.pth,weights/*.bin" >out &&
	grep "Rewrote 0 of 4 commits" out &&
	grep "no ref changes" out &&
	test_must_fail git -C work rev-parse --verify -q \
		refs/model/migrate/2/refs/heads/main
'

test_expect_success 'without refs, only the current branch moves' '
	git init -q two &&
	(
		cd two &&
		test-tool genrandom m 4k >m.pth &&
		git add m.pth &&
		test_tick &&
		git commit -q -m m &&
		git branch other &&
		git rev-parse other >../other.before &&
		git model migrate import --include="*.pth" >out &&
		grep "Rewrote 1 of 1 commits, 1 file" out &&
		git rev-parse other >other.after &&
		test_cmp ../other.before other.after &&
		git cat-file blob main:m.pth >p &&
		git model pointer --check p
	)
'

test_expect_success 'patterns match the files git gives the filter to' '
	git init -q globs &&
	(
		cd globs &&
		mkdir -p w/a/b x "sp ace" &&
		for f in w/t.bin w/a/t.bin w/a/b/t.bin x/t.bin t.bin \
			x/m.pth "sp ace/m.pt" w/a/b/c.onnx x/c.onnx
		do
			echo "$f" >"$f" || return 1
		done &&
		git add . &&
		test_tick &&
		git commit -q -m files &&
		git model migrate import \
			--include="w/**/*.bin,/*.bin,*.pth,sp ace/*.pt,**/b/*.onnx" &&
		git ls-files >files &&
		while read f
		do
			test "$f" = .gitattributes && continue
			git cat-file blob "HEAD:$f" >blob &&
			if git model pointer --check blob
			then
				echo "$f: filter: model"
			else
				echo "$f: filter: unspecified"
			fi || return 1
		done <files >actual &&
		grep -v "^.gitattributes$" files | git check-attr --stdin filter >expect &&
		test_cmp expect actual &&
		grep -c "filter: model" actual >n &&
		echo 7 >seven &&
		test_cmp seven n
	)
'

test_expect_success 'a detached HEAD needs refs' '
	git -C two checkout -q --detach &&
	test_must_fail git -C two model migrate import --include="*.pth" 2>err &&
	grep "HEAD is detached" err
'

test_expect_success 'undo: the kept refs bring the old history back' '
	(
		cd work &&
		git update-ref refs/heads/side refs/model/migrate/1/refs/heads/side &&
		git cat-file blob side:sub/dir/b.pth >b &&
		test_must_fail git model pointer --check b
	)
'

test_done
