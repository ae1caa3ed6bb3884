#!/bin/sh

test_description='round trip: push to a remote, clone, checkout tags, pull'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: two tagged versions in a repository' '
	git config --global model.compression none &&
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom v1 3m >model.pth &&
		git add .gitattributes model.pth &&
		git commit -q -m v1 &&
		git tag v1 &&
		test-tool genrandom v2 2m >model.pth &&
		git commit -q -a -m v2 &&
		git tag v2 &&
		git remote add origin ../remote.git
	) &&
	test-tool genrandom v1 3m >v1 &&
	test-tool genrandom v2 2m >v2
'

test_expect_success 'push uploads the weights to the bare remote, no config needed' '
	test_terminal "git -C work push -q origin main --tags" >err &&
	grep "uploaded 2 object(s)" err &&
	test_cmp_bin v1 "$(obj remote.git/model/objects $(oid_of v1))" &&
	test_cmp_bin v2 "$(obj remote.git/model/objects $(oid_of v2))"
'

test_expect_success 'a second push uploads nothing' '
	test-tool genrandom readme 10 >work/README &&
	git -C work add README &&
	git -C work commit -q -m readme &&
	git -C work push -q origin main 2>err &&
	! grep uploaded err
'

test_expect_success 'clone smudges the weights back' '
	git clone -q remote.git clone &&
	test_cmp_bin v2 clone/model.pth
'

test_expect_success 'the clone got the pre-push hook from the filter' '
	grep "git-model pre-push" clone/.git/hooks/pre-push
'

test_expect_success 'git status is clean after clone' '
	git -C clone status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'checkout v1 and v2 switch the weights byte for byte' '
	git -C clone checkout -q v1 &&
	test_cmp_bin v1 clone/model.pth &&
	git -C clone status --porcelain >status &&
	test_must_be_empty status &&
	git -C clone checkout -q v2 &&
	test_cmp_bin v2 clone/model.pth &&
	git -C clone checkout -q main
'

test_expect_success 'ls-files lists the pointers, * for local weights' '
	git -C clone model ls-files >out &&
	printf "%.10s *   2.00 MiB  model.pth\n" $(oid_of v2) >expect &&
	test_cmp expect out &&
	git -C clone model ls-files v1 >out &&
	printf "%.10s *   3.00 MiB  model.pth\n" $(oid_of v1) >expect &&
	test_cmp expect out
'

test_expect_success 'GIT_MODEL_SKIP_SMUDGE=1 clone keeps pointers' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	git -C lazy model pointer --check model.pth &&
	git -C lazy model ls-files >out &&
	grep "^$(oid_of v2 | cut -c1-10) -" out &&
	git -C lazy model status >out &&
	grep "^	model.pth$" out
'

test_expect_success 'git model pull brings the weights, status stays clean' '
	git -C lazy model pull --progress 2>err &&
	grep "downloaded 1 object" err &&
	test_cmp_bin v2 lazy/model.pth &&
	git -C lazy status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'git status after pull does not run the filter (weights not re-read)' '
	rm -f filter.log &&
	git -C lazy -c filter.model.process="echo called >>\"$TRASH_DIRECTORY/filter.log\"; exec git-model filter-process" \
		status --porcelain >status &&
	test_must_be_empty status &&
	test_path_is_missing filter.log
'

test_expect_success 'fetch of a tag downloads its weights only' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy2 &&
	git -C lazy2 model fetch --progress origin v1 2>err &&
	grep "downloaded 1 object" err &&
	test_cmp_bin v1 "$(obj lazy2/.git/model/objects $(oid_of v1))" &&
	test_path_is_missing "$(obj lazy2/.git/model/objects $(oid_of v2))"
'

test_expect_success 'off a terminal, a fetch or pull that did its work says nothing' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git quiet &&
	git -C quiet model fetch origin v1 2>err &&
	test_must_be_empty err &&
	test_cmp_bin v1 "$(obj quiet/.git/model/objects $(oid_of v1))" &&
	git -C quiet model pull 2>err &&
	test_must_be_empty err &&
	test_cmp_bin v2 quiet/model.pth &&
	git -C quiet model pull -q --progress 2>err &&
	test_must_be_empty err
'

test_expect_success 'setup: file:// storage in the committed .gitmodel' '
	mkdir storage &&
	git init -q --bare remote2.git &&
	git init -q work2 &&
	(
		cd work2 &&
		git model track "*.pth" &&
		git config -f .gitmodel model.storage "file://$TRASH_DIRECTORY/storage" &&
		mkdir -p small big &&
		test-tool genrandom a 100k >small/a.pth &&
		test-tool genrandom b 200k >big/b.pth &&
		git add .gitattributes .gitmodel small big &&
		git commit -q -m weights &&
		git remote add origin "$TRASH_DIRECTORY/remote2.git" &&
		git push -q origin main
	)
'

test_expect_success 'pointers carry the object URL in the storage' '
	git -C work2 cat-file -p HEAD:small/a.pth >pointer &&
	oid=$(oid_of work2/small/a.pth) &&
	cat >expect <<-EOF &&
	version git-model/1
	oid sha256:$oid
	size 102400
	url file://$TRASH_DIRECTORY/storage/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid
	EOF
	test_cmp expect pointer &&
	git model pointer --check pointer
'

test_expect_success 'git model url prints the object URL, at a revision too' '
	git -C work2 model url small/a.pth >url &&
	sed -n "s/^url //p" pointer >expect &&
	test_cmp expect url &&
	(cd work2/small && git model url --rev HEAD a.pth) >url2 &&
	test_cmp expect url2 &&
	test_must_fail git -C work model url model.pth 2>err &&
	grep "no url and no model.storage" err &&
	test_must_fail git -C work2 model url .gitattributes 2>err &&
	grep "not a git-model pointer" err
'

test_expect_success 'push put the objects in the storage, not the remote' '
	test_cmp_bin work2/small/a.pth "$(obj storage $(oid_of work2/small/a.pth))" &&
	test_cmp_bin work2/big/b.pth "$(obj storage $(oid_of work2/big/b.pth))" &&
	test_path_is_missing remote2.git/model
'

test_expect_success 'a clone reads the storage from the committed .gitmodel' '
	git clone -q remote2.git clone2 &&
	test_cmp_bin work2/small/a.pth clone2/small/a.pth &&
	test_cmp_bin work2/big/b.pth clone2/big/b.pth
'

test_expect_success '.gitmodel is read from the index when not in the work tree' '
	(
		cd clone2 &&
		rm -rf .git/model .gitmodel big/b.pth &&
		git checkout big/b.pth &&
		test_cmp_bin ../work2/big/b.pth big/b.pth
	)
'

test_expect_success 'model.fetchInclude and fetchExclude limit pull' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote2.git sel &&
	(
		cd sel &&
		git config model.fetchInclude "small/*" &&
		git model pull &&
		test_cmp_bin ../work2/small/a.pth small/a.pth &&
		git model pointer --check big/b.pth &&
		git config --unset model.fetchInclude &&
		git config model.fetchExclude "small" &&
		git model pull &&
		test_cmp_bin ../work2/big/b.pth big/b.pth &&
		git status --porcelain >../status &&
		test_must_be_empty ../status
	)
'

test_expect_success 'fetch takes --include=<globs>, and -q bundled with -X<globs>' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote2.git opts &&
	a=$(oid_of work2/small/a.pth) &&
	b=$(oid_of work2/big/b.pth) &&
	git -C opts model fetch --progress --include="small/*" 2>err &&
	grep "downloaded 1 object" err &&
	test_path_is_file "$(obj opts/.git/model/objects $a)" &&
	test_path_is_missing "$(obj opts/.git/model/objects $b)" &&
	rm -rf opts/.git/model/objects &&
	git -C opts model fetch -qXsmall origin 2>err &&
	test_must_be_empty err &&
	test_path_is_missing "$(obj opts/.git/model/objects $a)" &&
	test_path_is_file "$(obj opts/.git/model/objects $b)"
'

test_expect_success 'git -c model.storage on the command line wins over .gitmodel' '
	mkdir other-storage &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote2.git cmdline &&
	test_must_fail git -C cmdline -c model.storage="file://$TRASH_DIRECTORY/other-storage" \
		model pull 2>err &&
	grep "not in storage .file://$TRASH_DIRECTORY/other-storage." err
'

test_expect_success 'an object whose bytes do not match its oid is not stored' '
	oid=$(oid_of work2/small/a.pth) &&
	chmod u+w "$(obj storage $oid)" &&
	test-tool genrandom evil 100k >"$(obj storage $oid)" &&
	test_expect_code 1 git clone -q remote2.git evil 2>err &&
	grep "does not match" err &&
	grep "small/a.pth" err &&
	git -C evil model pointer --check small/a.pth &&
	test_path_is_missing "$(obj evil/.git/model/objects $oid)" &&
	find evil/.git/model/tmp -type f >left &&
	test_must_be_empty left
'

test_expect_success 'a storage URL with an unknown scheme is a clear error' '
	echo new >work2/new.pth &&
	test_must_fail git -C work2 -c model.storage=ftp://host/x add new.pth 2>err &&
	grep "unsupported storage URL .ftp://host/x." err &&
	test_must_fail git -C lazy2 -c model.storage=ftp://host/x model fetch 2>err &&
	grep "unsupported storage URL .ftp://host/x." err
'

test_done
