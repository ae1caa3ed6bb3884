#!/bin/sh

test_description='linked worktrees share the store of the common git dir'

. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup' '
	git model install --local &&
	git model track "*.pth" &&
	git add .gitattributes &&
	git commit -q -m attributes
'

test_expect_success 'an object cleaned in a linked worktree lands in the common store' '
	git worktree add -q wt-linked -b side &&
	(
		cd wt-linked &&
		test-tool genrandom side 200k >side.pth &&
		git add side.pth &&
		git commit -q -m side
	) &&
	oid=$(sha256sum <wt-linked/side.pth | cut -d" " -f1) &&
	test_path_is_file .git/model/objects/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid &&
	test_path_is_missing .git/worktrees/wt-linked/model
'

test_expect_success 'the main worktree checks it out from the shared store' '
	git merge -q side &&
	test_cmp_bin wt-linked/side.pth side.pth
'

test_expect_success 'cleanup' '
	git worktree remove --force wt-linked
'

test_done
