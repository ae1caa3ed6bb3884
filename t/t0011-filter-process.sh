#!/bin/sh

test_description='filter-process driven by real git, and by hand'

. "$(dirname "$0")/test-lib.sh"

object_path () {
	echo ".git/model/objects/sha256/$(echo $1 | cut -c1-2)/$(echo $1 | cut -c3-4)/$1"
}

test_expect_success 'setup' '
	git model install --local &&
	git model track "*.pth" &&
	git add .gitattributes &&
	git commit -q -m attributes
'

test_expect_success 'git add stores the weights and commits a pointer' '
	test-tool genrandom w 5m >w.pth &&
	oid=$(sha256sum <w.pth | cut -d" " -f1) &&
	git add w.pth &&
	git commit -q -m weights &&
	git cat-file -p HEAD:w.pth >pointer &&
	cat >expect <<-EOF &&
	version git-model/1
	oid sha256:$oid
	size 5242880
	EOF
	test_cmp expect pointer &&
	git model pointer --check pointer &&
	test_cmp_bin w.pth "$(object_path $oid)"
'

test_expect_success 'checkout brings the weights back from the store' '
	cp w.pth w.orig &&
	rm w.pth &&
	git checkout w.pth &&
	test_cmp_bin w.orig w.pth
'

test_expect_success 'git status is clean after checkout' '
	git status --porcelain --untracked-files=no >status &&
	test_must_be_empty status
'

test_expect_success 'checkout of an older commit and back' '
	test-tool genrandom w2 1m >w.pth &&
	git commit -q -a -m v2 &&
	git tag v2 &&
	git checkout -q HEAD~1 &&
	test_cmp_bin w.orig w.pth &&
	git checkout -q v2 &&
	test_cmp_bin w.pth w.pth &&
	test "$(wc -c <w.pth)" = 1048576 &&
	git checkout -q main
'

test_expect_success 'a pointer committed as content passes through' '
	git model pointer --file w.orig >as-content.pth &&
	git add as-content.pth &&
	git commit -q -m "pointer as content" &&
	git cat-file -p HEAD:as-content.pth >blob &&
	test_cmp as-content.pth blob &&
	rm as-content.pth &&
	git checkout as-content.pth &&
	test_cmp_bin w.orig as-content.pth
'

test_expect_success 'names with spaces and non-ASCII characters' '
	mkdir -p "dir with space" &&
	test-tool genrandom s 300k >"dir with space/mödel ü.pth" &&
	git add "dir with space" &&
	git commit -q -m names &&
	git cat-file -p "HEAD:dir with space/mödel ü.pth" >p &&
	git model pointer --check p &&
	cp "dir with space/mödel ü.pth" saved &&
	rm -r "dir with space" &&
	git checkout -- "dir with space" &&
	test_cmp_bin saved "dir with space/mödel ü.pth"
'

test_expect_success 'an empty tracked file stays empty' '
	>empty.pth &&
	git add empty.pth &&
	git commit -q -m empty &&
	test "$(git cat-file -s HEAD:empty.pth)" = 0
'

test_expect_success 'a missing object leaves the pointer, names the file, checkout exits 1' '
	git clone -q . clone &&
	(
		cd clone &&
		git remote set-url origin "$TRASH_DIRECTORY/nowhere" &&
		git model install --local &&
		test_expect_code 1 git checkout -q HEAD~4 2>err &&
		grep "w.pth" err &&
		grep "git model pull" err &&
		git model pointer --check w.pth
	)
'

test_expect_success 'one failing file answers an error and the process goes on' '
	rm -rf .git/model/tmp &&
	echo "not a directory" >.git/model/tmp &&
	test-tool genrandom f 10k >f.pth &&
	echo hello >hello.pth &&
	cat >req <<-EOF &&
	git-filter-client
	version=2
	0000
	capability=clean
	capability=smudge
	0000
	command=clean
	pathname=f.pth
	0000
	file:f.pth
	0000
	command=smudge
	pathname=w.pth
	0000
	file:pointer
	0000
	EOF
	test-tool pkt-line pack <req >req.pkt &&
	git model filter-process <req.pkt >resp.pkt 2>err &&
	rm .git/model/tmp &&
	grep "cannot clean .f.pth." err &&
	test-tool pkt-line unpack <resp.pkt >resp &&
	sed -n "7,8p" resp >status1 &&
	printf "status=error\n0000\n" >expect &&
	test_cmp expect status1 &&
	sed -n "9p" resp >status2 &&
	echo status=success >expect &&
	test_cmp expect status2
'

test_expect_success 'the handshake answers only the capabilities git offers' '
	printf "git-filter-client\nversion=2\n0000\ncapability=smudge\ncapability=future\n0000\n" |
	test-tool pkt-line pack |
	git model filter-process | test-tool pkt-line unpack >resp &&
	cat >expect <<-\EOF &&
	git-filter-server
	version=2
	0000
	capability=smudge
	0000
	EOF
	test_cmp expect resp
'

hostile () {
	printf "git-filter-client\nversion=2\n0000\ncapability=clean\n0000\ncommand=clean\npathname=x\n0000\n" |
	test-tool pkt-line pack >hostile.pkt &&
	printf "%s" "$1" >>hostile.pkt &&
	test_must_fail git model filter-process <hostile.pkt >/dev/null 2>err &&
	cat err &&
	grep "protocol error" err
}

test_expect_success 'reserved packet lengths 0001-0003 are protocol errors' '
	hostile 0001 && hostile 0002 && hostile 0003
'

test_expect_success 'a packet over 65520 bytes is a protocol error' '
	hostile fff5abc
'

test_expect_success 'a non-hex length is a protocol error' '
	hostile "00g0"
'

test_expect_success 'a stream cut inside a packet is a protocol error' '
	hostile "0010abc"
'

test_expect_success 'a stream cut inside a file is a protocol error' '
	hostile "0008abcd"
'

test_expect_success 'an unknown command is a protocol error' '
	printf "git-filter-client\nversion=2\n0000\ncapability=clean\n0000\ncommand=frob\npathname=x\n0000\n" |
	test-tool pkt-line pack >frob.pkt &&
	test_must_fail git model filter-process <frob.pkt >/dev/null 2>err &&
	grep "unknown command .frob." err
'

test_expect_success 'a peer without version 2 is refused' '
	printf "git-filter-client\nversion=1\n0000\n" | test-tool pkt-line pack >v1.pkt &&
	test_must_fail git model filter-process <v1.pkt >/dev/null 2>err &&
	grep "version 2" err
'

test_done
