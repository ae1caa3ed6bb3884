#!/bin/sh

test_description='checkouts racing on one store, clones racing on one storage

Two linked worktrees share their common git dir, so their checkouts
download into one store at the same time; two clones share one storage
directory; two worktrees clean the same weights at once. Each process
must end with the right bytes, and the store with only right objects.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

# race_two A B: run the functions run_A and run_B at once; A.code and
# B.code get their exit codes. Succeeds when both succeeded.
race_two () {
	( "run_$1" 2>"$1.err"; echo $? >"$1.code" ) &
	race_pid1_=$!
	( "run_$2" 2>"$2.err"; echo $? >"$2.code" ) &
	race_pid2_=$!
	wait $race_pid1_
	wait $race_pid2_
	cat "$1.err" "$2.err"
	test "$(cat "$1.code")" = 0 && test "$(cat "$2.code")" = 0
}

# same_weights DIR: DIR's weights are work's, byte for byte.
same_weights () {
	for f in work/*.pth
	do
		test_cmp_bin "$f" "$1/${f#work/}" || return 1
	done
}

test_expect_success 'setup: 20 weights in HTTP storage, a clone without them' '
	test_setup_work "$HTTPD_URL/open/models" &&
	(
		cd work &&
		for i in $(test_seq 20)
		do
			test-tool genrandom "w$i" 300k >"w$i.pth" || return 1
		done &&
		git add . &&
		git commit -q -m weights &&
		git push -q origin main
	) &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git clone &&
	test_path_is_missing clone/.git/model/objects
'

run_wt1 () {
	git -C wt1 reset -q --hard
}

run_wt2 () {
	git -C wt2 reset -q --hard
}

test_expect_success 'two worktrees check out the same weights at once' '
	for round in 1 2 3
	do
		rm -rf clone/.git/model wt1 wt2 &&
		git -C clone worktree prune &&
		git -C clone worktree add -q --no-checkout --detach ../wt1 main &&
		git -C clone worktree add -q --no-checkout --detach ../wt2 main &&
		race_two wt1 wt2 &&
		same_weights wt1 &&
		same_weights wt2 &&
		test_model_store_ok clone/.git &&
		test_model_tmp_clean clone/.git || return 1
	done
'

run_c1 () {
	git -c model.storage="file://$TRASH_DIRECTORY/shared" \
		clone -q remote.git c1
}

run_c2 () {
	git -c model.storage="file://$TRASH_DIRECTORY/shared" \
		clone -q remote.git c2
}

test_expect_success 'two clones from one storage directory at once' '
	mkdir shared &&
	git init -q --bare empty.git &&
	git -C work remote add empty ../empty.git &&
	git -C work -c model.storage="file://$TRASH_DIRECTORY/shared" \
		model push --all empty &&
	race_two c1 c2 &&
	same_weights c1 &&
	same_weights c2 &&
	test_model_store_ok c1/.git &&
	test_model_store_ok c2/.git
'

run_add1 () {
	git -C wt1 add new.pth
}

run_add2 () {
	git -C wt2 add new.pth
}

test_expect_success 'two worktrees clean the same new weights at once' '
	test-tool genrandom new 20m >wt1/new.pth &&
	cp wt1/new.pth wt2/new.pth &&
	race_two add1 add2 &&
	git -C wt1 diff --cached --name-only >staged1 &&
	git -C wt2 diff --cached --name-only >staged2 &&
	echo new.pth >expect &&
	test_cmp expect staged1 &&
	test_cmp expect staged2 &&
	test_cmp_bin wt1/new.pth "$(obj_path clone/.git/model/objects $(oid_of wt1/new.pth))" &&
	test_model_store_ok clone/.git &&
	test_model_tmp_clean clone/.git
'

test_expect_success 'setup: a 32 MiB weight behind the slow location (2 MB/s)' '
	test-tool genrandom slow 32m >work/slow.pth &&
	git -C work add slow.pth &&
	git -C work commit -q -m slow &&
	git -C work push -q origin main &&
	# /slow/ serves $HTTPD_ROOT/auth/
	cp -R "$HTTPD_ROOT/open/models" "$HTTPD_ROOT/auth/" &&
	git -C clone fetch -q origin &&
	git -C clone config model.storage "$HTTPD_URL/slow/models"
'

# A checkout that finds another process downloading the same object waits
# for it, however long (a long download is normal for model weights), and
# takes the object the other process stored.
# With model.checkout=auto one of them lends the object: the other's late
# "synced" mark must not reach the lent file (t0105 has the focused test).
test_expect_success 'two worktrees check out a long download at once' '
	rm -rf clone/.git/model wt1 wt2 &&
	git -C clone worktree prune &&
	git -C clone worktree add -q --no-checkout --detach ../wt1 origin/main &&
	git -C clone worktree add -q --no-checkout --detach ../wt2 origin/main &&
	race_two wt1 wt2 &&
	test_cmp_bin work/slow.pth wt1/slow.pth &&
	test_cmp_bin work/slow.pth wt2/slow.pth
'

test_expect_success 'whatever the race did, the store holds only right objects' '
	test_model_store_ok clone/.git &&
	test_model_tmp_clean clone/.git &&
	# in objects/, or lent to a work tree (then lent/<oid> names it)
	oid=$(oid_of work/slow.pth) &&
	object=$(obj_path clone/.git/model/objects $oid) &&
	if ! test -f "$object"
	then
		object=clone/.git/model/lent/$oid
	fi &&
	test_cmp_bin work/slow.pth "$object"
'

test_expect_success 'git model checkout while another git holds the index lock' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git locked &&
	git -C locked model fetch 2>err.lfetch &&
	>locked/.git/index.lock &&
	test_must_fail git -C locked model checkout 2>err.locked &&
	grep "the index is locked" err.locked &&
	rm locked/.git/index.lock &&
	git -C locked model checkout 2>err.locked2 &&
	same_weights locked
'

# checkout.c wrote the weights but could not refresh their index entries;
# run again, it hashes the files whose stat data differ and refreshes the
# entries of those that hold their weights, so git does not call them
# modified.
test_expect_success 'once the lock is gone, the files it wrote are not left modified' '
	git -C locked status --porcelain >out.locked &&
	test_must_be_empty out.locked
'

test_done
