#!/bin/sh

test_description='Git LFS servers as storage: the batch API, credentials, git-lfs interop'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lfs.sh"

lfs_require_git_lfs
start_lfs

PREFIX=/r.git/info/lfs

# lfs_pointer FILE: a git-lfs pointer for FILE's content.
lfs_pointer () {
	printf "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s\n" \
		"$(oid_of "$1")" "$(wc -c <"$1" | tr -d " ")"
}

# model_pointer FILE: a git-model pointer for FILE's content (no url).
model_pointer () {
	printf "version git-model/1\noid sha256:%s\nsize %s\n" \
		"$(oid_of "$1")" "$(wc -c <"$1" | tr -d " ")"
}

test_expect_success 'setup: an http git host with an LFS server, credentials in a helper' '
	git model install &&
	lfs_credentials &&
	git init -q --bare "$LFS_GIT_ROOT/r.git" &&
	git init -q work &&
	(
		cd work &&
		git model track "*.pth" &&
		test-tool genrandom a 300k >a.pth &&
		test-tool genrandom b 70k >b.pth &&
		git add . &&
		git commit -q -m weights &&
		git tag v1 &&
		git remote add origin "$LFS_URL/r.git"
	)
'

test_expect_success 'push to an http remote needs no model.storage: its LFS server' '
	(cd work && git push -q origin main v1 2>../err) &&
	lfs_log_wait 1 POST 401 "$PREFIX/objects/batch\$" &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER upload:2\$" "$LFS_LOG" &&
	test $(lfs_log_count PUT 200 "$PREFIX/objects/[0-9a-f]+\$") = 2 &&
	test $(lfs_log_count POST 200 "$PREFIX/objects/[0-9a-f]+/verify\$") = 2 &&
	test_cmp_bin work/a.pth "$(lfs_object_path $PREFIX $(oid_of work/a.pth))" &&
	test_cmp_bin work/b.pth "$(lfs_object_path $PREFIX $(oid_of work/b.pth))" &&
	! grep "$LFS_PASSWORD" err
'

test_expect_success 'clone and checkout of a tag fetch through the batch API' '
	git clone -q "$LFS_URL/r.git" clone &&
	test_cmp_bin work/a.pth clone/a.pth &&
	test_cmp_bin work/b.pth clone/b.pth &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER download:2\$" "$LFS_LOG" &&
	(cd clone && git checkout -q v1) &&
	test_cmp_bin work/a.pth clone/a.pth
'

test_expect_success 'fetch brings new weights' '
	(
		cd work &&
		test-tool genrandom c 100k >c.pth &&
		git add c.pth &&
		git commit -q -m c &&
		git push -q origin main
	) &&
	(cd clone && git pull -q origin main) &&
	test_cmp_bin work/c.pth clone/c.pth
'

test_expect_success 'git-lfs fetches what git-model pushed (both address by sha256)' '
	git init -q lfsread &&
	(
		cd lfsread &&
		git lfs install --local >/dev/null &&
		git config lfs.url "$LFS_URL$PREFIX" &&
		echo "*.bin filter=lfs diff=lfs merge=lfs -text" >.gitattributes &&
		lfs_pointer ../work/a.pth >a.bin &&
		git add .gitattributes a.bin &&
		git commit -q -m pointer &&
		rm a.bin &&
		git lfs pull
	) &&
	test_cmp_bin work/a.pth lfsread/a.bin
'

test_expect_success 'model.compression: an LFS server gets the raw object, git-lfs reads it' '
	(
		cd work &&
		test_seq 1 30000 >z.pth &&
		git add z.pth &&
		git commit -q -m z &&
		git -c model.storage=lfs -c model.compression=zstd push -q origin main
	) &&
	test_cmp_bin work/z.pth "$(lfs_object_path $PREFIX $(oid_of work/z.pth))" &&
	! grep "\.gmz" "$LFS_LOG" &&
	(
		cd lfsread &&
		lfs_pointer ../work/z.pth >z.bin &&
		git add z.bin &&
		git commit -q -m z &&
		rm z.bin &&
		git lfs pull
	) &&
	test_cmp_bin work/z.pth lfsread/z.bin
'

test_expect_success 'git-model fetches what git-lfs pushed' '
	git init -q lfswrite &&
	(
		cd lfswrite &&
		git lfs install --local >/dev/null &&
		git config lfs.url "$LFS_URL$PREFIX" &&
		git lfs track "*.bin" >/dev/null &&
		test-tool genrandom fromlfs 200k >x.bin &&
		git add .gitattributes x.bin &&
		git commit -q -m lfs &&
		git remote add origin "$LFS_GIT_ROOT/r.git" &&
		git lfs push --all origin 2>/dev/null
	) &&
	test_cmp_bin lfswrite/x.bin "$(lfs_object_path $PREFIX $(oid_of lfswrite/x.bin))" &&
	(
		cd work &&
		model_pointer ../lfswrite/x.bin >x.pth &&
		git add x.pth &&
		git commit -q -m "weights from git-lfs" &&
		git push -q origin main
	) &&
	(cd clone && git pull -q origin main) &&
	test_cmp_bin lfswrite/x.bin clone/x.pth
'

test_expect_success 'more than 100 objects: batches of 100' '
	(
		cd work &&
		mkdir many &&
		for i in $(test_seq 1 150)
		do
			echo "weights $i" >many/$i.pth || return 1
		done &&
		git add many &&
		git commit -q -m many &&
		git push -q origin main
	) &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER upload:100\$" "$LFS_LOG" &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER upload:50\$" "$LFS_LOG" &&
	! grep "upload:1[0-9][1-9]\$" "$LFS_LOG" &&
	(cd clone && git pull -q origin main) &&
	test_cmp work/many/150.pth clone/many/150.pth &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER download:100\$" "$LFS_LOG" &&
	grep " POST $PREFIX/objects/batch 200 $LFS_USER download:50\$" "$LFS_LOG"
'

# refetch: remove the weights from the clone's store and work tree, then
# fetch and check them out again.
refetch () {
	rm -rf clone/.git/model/objects clone/a.pth clone/b.pth &&
	(cd clone && git model fetch "$@" && git checkout -q -- a.pth b.pth)
}

test_expect_success 'actions that expired are asked for again, not sent' '
	lfs_config "{\"expired_actions\": 1, \"expiry\": \"both\"}" &&
	test_when_finished "lfs_config {}" &&
	before=$(grep -c " download:1\$" "$LFS_LOG") &&
	refetch &&
	test_cmp_bin work/a.pth clone/a.pth &&
	test_cmp_bin work/b.pth clone/b.pth &&
	test $(lfs_log_count GET 403) = 0 &&
	test $(grep -c " download:1\$" "$LFS_LOG") = $((before + 1))
'

test_expect_success 'an href refused before its time (403) is asked for again' '
	lfs_config "{\"stale_hrefs\": 1}" &&
	test_when_finished "lfs_config {}" &&
	refetch &&
	test_cmp_bin work/a.pth clone/a.pth &&
	test_cmp_bin work/b.pth clone/b.pth &&
	test $(lfs_log_count GET 403) = 1
'

# pointers_clone DIR: a clone with pointers only (nothing fetched).
pointers_clone () {
	rm -rf "$1" &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q "$LFS_URL/r.git" "$1"
}

test_expect_success 'per-object errors: each object says its own, the others arrive' '
	a=$(oid_of work/a.pth) b=$(oid_of work/b.pth) &&
	lfs_config "{\"object_errors\": {\"$a\": 410, \"$b\": 404}}" &&
	test_when_finished "lfs_config {}" &&
	pointers_clone errs &&
	(cd errs && test_must_fail git model fetch 2>../err) &&
	grep "a.pth.*says 410 (configured error): the object was removed there" err &&
	grep "b.pth.*says 404 Not Found (configured error)" err &&
	test_path_is_file "$(obj errs/.git/model/objects $(oid_of work/c.pth))" &&
	test_path_is_missing "$(obj errs/.git/model/objects $a)" &&
	lfs_config "{\"object_errors\": {\"$a\": 422}}" &&
	(cd errs && test_must_fail git model fetch 2>../err) &&
	grep "a.pth.*422.*refuses the object" err &&
	test_path_is_file "$(obj errs/.git/model/objects $b)"
'

test_expect_success 'a server that lies: wrong bytes are not stored' '
	lfs_config "{\"corrupt_downloads\": 1000}" &&
	test_when_finished "lfs_config {}" &&
	pointers_clone liar &&
	(cd liar && test_must_fail git model fetch -I a.pth 2>../err) &&
	grep "a.pth.*do not match the object id" err &&
	test_path_is_missing "$(obj liar/.git/model/objects $(oid_of work/a.pth))"
'

test_expect_success 'the verify action confirms each upload; without one, none is sent' '
	before=$(lfs_log_count POST 200 "/objects/[0-9a-f]+/verify\$") &&
	(
		cd work &&
		test-tool genrandom d 10k >d.pth &&
		git add d.pth &&
		git commit -q -m d &&
		git push -q origin main
	) &&
	test $(lfs_log_count POST 200 "/objects/[0-9a-f]+/verify\$") = $((before + 1)) &&
	lfs_config "{\"verify\": false}" &&
	test_when_finished "lfs_config {}" &&
	(
		cd work &&
		test-tool genrandom e 10k >e.pth &&
		git add e.pth &&
		git commit -q -m e &&
		git push -q origin main
	) &&
	test $(lfs_log_count POST 200 "/objects/[0-9a-f]+/verify\$") = $((before + 1)) &&
	test_cmp_bin work/e.pth "$(lfs_object_path $PREFIX $(oid_of work/e.pth))"
'

test_expect_success 'fsck --remote asks the batch API whether the server has each object' '
	git clone -q --bare "$LFS_URL/r.git" rcheck.git &&
	git -C rcheck.git model fsck --remote >out 2>err &&
	b=$(oid_of work/b.pth) &&
	lfs_config "{\"object_errors\": {\"$b\": 404}}" &&
	test_when_finished "lfs_config {}" &&
	test_must_fail git -C rcheck.git model fsck --remote >out 2>err &&
	grep "^missing object $b for HEAD:b.pth: neither in the local store nor in storage .lfs+$LFS_URL$PREFIX." out &&
	test_line_count = 1 out
'

test_expect_success 'a download cut short resumes with Range at the href' '
	lfs_config "{\"fail_downloads\": 1}" &&
	test_when_finished "lfs_config {}" &&
	pointers_clone resume &&
	(cd resume && git model fetch -I a.pth) &&
	test_cmp_bin work/a.pth "$(obj resume/.git/model/objects $(oid_of work/a.pth))" &&
	grep " GET $PREFIX/objects/$(oid_of work/a.pth) cut " "$LFS_LOG" &&
	grep " GET $PREFIX/objects/$(oid_of work/a.pth) 206 - range=[1-9][0-9]*-\$" "$LFS_LOG"
'

test_expect_success 'a batch answered 503 with Retry-After is sent again' '
	lfs_config "{\"fail_batches\": 2}" &&
	test_when_finished "lfs_config {}" &&
	pointers_clone busy &&
	(cd busy && git model fetch -I b.pth) &&
	test_cmp_bin work/b.pth "$(obj busy/.git/model/objects $(oid_of work/b.pth))" &&
	test $(lfs_log_count POST 503 "$PREFIX/objects/batch\$") = 2
'

test_expect_success 'model.storage = lfs takes remote.<name>.lfsurl, as git-lfs does' '
	git clone -q --bare "$LFS_GIT_ROOT/r.git" local.git &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q local.git vialocal &&
	(
		cd vialocal &&
		git config model.storage lfs &&
		git config remote.origin.lfsurl "$LFS_URL$PREFIX" &&
		git model fetch -I a.pth
	) &&
	test_cmp_bin work/a.pth "$(obj vialocal/.git/model/objects $(oid_of work/a.pth))"
'

test_expect_success 'an https remote whose LFS server cannot be reached: one clear error' '
	port=$(test_free_port) &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q "$LFS_URL/r.git" unreachable &&
	(
		cd unreachable &&
		git remote set-url origin "http://127.0.0.1:$port/r.git" &&
		test_must_fail git -c model.retries=0 model fetch 2>../err
	) &&
	grep "^error: cannot download .* batch request to .lfs+http://127.0.0.1:$port/r.git/info/lfs.: Couldn.t connect to server" err &&
	test $(grep -c "^error: cannot download" err) = 1 &&
	grep "file(s) could not be downloaded" err
'

test_expect_success 'credentials go only to a server your config names, not .gitmodel' '
	git init -q --bare elsewhere.git &&
	git init -q stranger &&
	git config --global credential.helper \
		"!f() { echo called >>\"$TRASH_DIRECTORY/helper.log\"; echo username=$LFS_USER; echo password=$LFS_PASSWORD; }; f" &&
	test_when_finished "lfs_credentials" &&
	(
		cd stranger &&
		git model track "*.pth" &&
		git config -f .gitmodel model.storage "lfs+$LFS_URL/other.git/info/lfs" &&
		test-tool genrandom s 20k >s.pth &&
		git add . &&
		git commit -q -m s &&
		git remote add origin ../elsewhere.git &&
		test_must_fail git model push origin main 2>../err
	) &&
	grep "wants credentials, and only .gitmodel names it" err &&
	test_path_is_missing helper.log &&
	test_must_fail grep " other.git/info/lfs/objects/batch [0-9]* $LFS_USER " "$LFS_LOG" &&
	(
		cd stranger &&
		git config model.storage "lfs+$LFS_URL/other.git/info/lfs" &&
		git model push origin main 2>../err
	) &&
	test_path_is_file helper.log &&
	test_cmp_bin stranger/s.pth "$(lfs_object_path /other.git/info/lfs $(oid_of stranger/s.pth))"
'

test_expect_success 'over ssh: git-lfs-authenticate gives the endpoint and its header' '
	write_script fake-ssh <<-\EOF &&
	echo "$*" >>"$TRASH_DIRECTORY/ssh.log"
	token=tok-$$-$(date +%s)
	echo "$token" >>"$LFS_TOKENS"
	printf "{\"href\": \"%s/r.git/info/lfs\", \"header\": {\"Authorization\": \"RemoteAuth %s\"}, \"expires_in\": 3600}\n" "$LFS_URL" "$token"
	EOF
	git init -q --bare "$LFS_GIT_ROOT/ssh.git" &&
	git init -q viassh &&
	(
		cd viassh &&
		git model track "*.pth" &&
		test-tool genrandom ssh 40k >ssh.pth &&
		git add . &&
		git commit -q -m ssh &&
		git remote add origin git@lfs.example.invalid:team/r.git &&
		git config model.storage lfs &&
		GIT_SSH="$TRASH_DIRECTORY/fake-ssh" git model push origin main 2>../err
	) &&
	grep "^-- git@lfs.example.invalid git-lfs-authenticate team/r.git upload\$" ssh.log &&
	grep " POST $PREFIX/objects/batch 200 token upload:1\$" "$LFS_LOG" &&
	test_cmp_bin viassh/ssh.pth "$(lfs_object_path $PREFIX $(oid_of viassh/ssh.pth))" &&
	rm -rf viassh/.git/model/objects viassh/ssh.pth &&
	(cd viassh && GIT_SSH="$TRASH_DIRECTORY/fake-ssh" git model fetch) &&
	grep "^-- git@lfs.example.invalid git-lfs-authenticate team/r.git download\$" ssh.log &&
	(cd viassh && git checkout -q -- ssh.pth) &&
	test_cmp_bin viassh/ssh.pth "$(lfs_object_path $PREFIX $(oid_of viassh/ssh.pth))"
'

test_expect_success 'over ssh: GIT_SSH_COMMAND and core.sshCommand are split into words, as git reads them' '
	>ssh.log &&
	rm -rf viassh/.git/model/objects viassh/ssh.pth &&
	(
		cd viassh &&
		GIT_SSH=/nonexistent \
		GIT_SSH_COMMAND="\"$TRASH_DIRECTORY/fake-ssh\" -o \"User Known=1\" -i '"'"'a b'"'"'" \
			git model fetch
	) &&
	grep "^-o User Known=1 -i a b -- git@lfs.example.invalid git-lfs-authenticate team/r.git download\$" ssh.log &&
	rm -rf viassh/.git/model/objects &&
	(
		cd viassh &&
		git config core.sshCommand "\"$TRASH_DIRECTORY/fake-ssh\" -4" &&
		GIT_SSH=/nonexistent git model fetch &&
		git config --unset core.sshCommand
	) &&
	grep "^-4 -- git@lfs.example.invalid git-lfs-authenticate team/r.git download\$" ssh.log &&
	(cd viassh && git checkout -q -- ssh.pth) &&
	test_cmp_bin viassh/ssh.pth "$(lfs_object_path $PREFIX $(oid_of viassh/ssh.pth))" &&
	(
		cd viassh &&
		rm -rf .git/model/objects &&
		GIT_SSH_COMMAND="\"unterminated" test_must_fail git model fetch 2>../err
	) &&
	grep "unterminated quote" err
'

test_expect_success 'over ssh, a .gitmodel alone does not make git-model run ssh' '
	(
		cd viassh &&
		git config --unset model.storage &&
		git remote set-url origin ../elsewhere.git &&
		git config -f .gitmodel model.storage lfs+ssh://lfs.example.invalid/team/r.git &&
		>"$TRASH_DIRECTORY/ssh.log" &&
		rm -rf .git/model/objects ssh.pth &&
		GIT_SSH="$TRASH_DIRECTORY/fake-ssh" test_must_fail git model fetch 2>../err
	) &&
	test_must_be_empty ssh.log &&
	grep "only .gitmodel names" err
'

test_expect_success 'no model.storage, an http remote: pointers record its LFS url' '
	(
		cd work &&
		test-tool genrandom implicit 20k >implicit.pth &&
		git add implicit.pth &&
		git show :implicit.pth >../implicit.ptr &&
		git model pointer --file implicit.pth >../implicit.ptr2 &&
		git rm -q --cached implicit.pth &&
		rm implicit.pth
	) &&
	oid=$(sed -n "s/^oid sha256://p" implicit.ptr) &&
	echo "url lfs+$LFS_URL$PREFIX/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" >expect &&
	grep "^url " implicit.ptr >actual &&
	test_cmp expect actual &&
	grep "^url " implicit.ptr2 >actual2 &&
	test_cmp expect actual2 &&
	! grep "$LFS_PASSWORD" implicit.ptr
'

test_expect_success 'model.storage = lfs: pointers record the lfs+ url, torch.hub resolves it' '
	(
		cd work &&
		git config model.storage lfs &&
		test-tool genrandom hub 50k >hub.pth &&
		git add hub.pth &&
		git commit -q -m hub &&
		git push -q origin main &&
		git show HEAD:hub.pth >../hub.ptr
	) &&
	oid=$(oid_of work/hub.pth) &&
	echo "url lfs+$LFS_URL$PREFIX/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" >expect &&
	grep "^url " hub.ptr >actual &&
	test_cmp expect actual &&
	lfs_config "{\"anonymous_download\": true}" &&
	test_when_finished "lfs_config {}" &&
	before=$(lfs_log_count POST 200 "$PREFIX/objects/batch\$") &&
	python3 -c "
import sys
sys.path.insert(0, sys.argv[1])
import gitmodel_hub
print(gitmodel_hub.fetch_weights(sys.argv[2], sys.argv[3], progress=False))
" "$GIT_MODEL_SRC_DIR/contrib/torchhub" hub.ptr hubcache >out &&
	test_cmp_bin work/hub.pth "$(cat out)" &&
	grep " POST $PREFIX/objects/batch 200 - download:1\$" "$LFS_LOG" &&
	test $(lfs_log_count POST 200 "$PREFIX/objects/batch\$") = $((before + 1))
'

test_expect_success 'torch.hub: an object the LFS server lacks is a clear error' '
	old=$(oid_of work/hub.pth) new=$(echo absent | sha256sum | cut -c1-64) &&
	sed -e "s/$old/$new/" -e "s|/$(echo $old | cut -c1-2)/$(echo $old | cut -c3-4)/|/$(echo $new | cut -c1-2)/$(echo $new | cut -c3-4)/|" \
		hub.ptr >absent.ptr &&
	lfs_config "{\"anonymous_download\": true}" &&
	test_when_finished "lfs_config {}" &&
	test_must_fail python3 -c "
import sys
sys.path.insert(0, sys.argv[1])
import gitmodel_hub
gitmodel_hub.fetch_weights(sys.argv[2], sys.argv[3], progress=False)
" "$GIT_MODEL_SRC_DIR/contrib/torchhub" absent.ptr hubcache 2>err &&
	grep "PointerError: .*: object $new: 404 object does not exist" err
'

test_done
