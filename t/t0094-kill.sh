#!/bin/sh

test_description='kill -9 in the middle of a clean and of a download

The filter process (started through a wrapper that records its PID) is
killed while its temp file is half written, and during a clone that
downloads from the slow nginx location; git model fetch is killed in the
middle of a download. Each time no bad object is left in the store, and
the same command run again succeeds with the right bytes.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

# wait_for_file GLOB [BYTES]: wait up to 20 s until a file matching GLOB
# has some bytes in it (BYTES bytes, when given); its name on stdout.
wait_for_file () {
	i=0
	while :
	do
		for f in $1
		do
			if test -n "$2"
			then
				test -f "$f" && test $(wc -c <"$f") = $2
			else
				test -s "$f"
			fi && echo "$f" && return 0
		done
		i=$((i + 1))
		if test $i -ge 200
		then
			echo >&4 "wait_for_file: nothing matches '$1' after 20 s"
			return 1
		fi
		sleep 0.1
	done
}

# kill_pid_file FILE: kill -9 the process whose PID FILE holds.
kill_pid_file () {
	test -s "$1" &&
	pid=$(cat "$1") &&
	kill -9 "$pid"
}

# The filter process, through a wrapper that writes its PID to filter.pid.
write_script filter-wrap <<\EOF
echo $$ >"$TRASH_DIRECTORY/filter.pid"
exec git-model filter-process
EOF

# The same, holding back what git sends after its first 100 writes (the
# handshake, then some MiB of content) until the file "go" appears (or 20 s
# pass): the clean in progress has its temp file half written, and the
# filter process waits for the rest. dd passes each read on as it comes
# (no iflag=fullblock: git waits for the answer to its handshake). An
# asynchronous list reads /dev/null unless told otherwise: hence fd 3.
write_script filter-stuck <<\EOF
exec 3<&0
{
	dd bs=64k count=100 <&3 2>/dev/null
	i=0
	while ! test -f "$TRASH_DIRECTORY/go" && test $i -lt 200
	do
		sleep 0.1
		i=$((i + 1))
	done
	cat <&3
} | git-model filter-process &
echo $! >"$TRASH_DIRECTORY/filter.pid"
wait $!
EOF

# git runs the filter through the shell: quote the trash directory's space.
wrap_cmd="'$TRASH_DIRECTORY/filter-wrap'"
stuck_cmd="'$TRASH_DIRECTORY/filter-stuck'"

test_expect_success 'setup' '
	# Checkouts copy, through the temp files the kills wait for (t0105
	# kills a checkout that lends).
	git config --global model.checkout copy &&
	git config --global model.compression none &&
	test_setup_work "$HTTPD_URL/open/models" &&
	git -C work add . &&
	git -C work commit -q -m attributes
'

test_expect_success 'kill -9 of the filter process during a clean: git add fails, no object' '
	test-tool genrandom big 16m >work/big.pth &&
	rm -f go filter.pid || return 1
	# "A && B &" would put A in the background too: one command alone
	git -C work -c filter.model.process="$stuck_cmd" \
		add big.pth 2>err.add &
	add_pid=$! &&
	wait_for_file "work/.git/model/tmp/object-*" &&
	kill_pid_file filter.pid &&
	>go &&
	test_must_fail wait $add_pid &&
	cat err.add &&
	grep "filter" err.add &&
	git -C work ls-files >staged &&
	! grep big.pth staged &&
	test_path_is_missing work/.git/model/objects &&
	test_model_store_ok work/.git
'

test_expect_success 'the same git add again succeeds; what the kill left is harmless' '
	ls work/.git/model/tmp >left &&
	say "left in tmp/ by the kill: $(cat left)" &&
	git -C work add big.pth &&
	git -C work commit -q -m big &&
	oid=$(oid_of work/big.pth) &&
	test_cmp_bin work/big.pth "$(obj_path work/.git/model/objects $oid)" &&
	test_model_store_ok work/.git &&
	cp work/big.pth big.orig &&
	rm work/big.pth &&
	git -C work checkout big.pth &&
	test_cmp_bin big.orig work/big.pth &&
	git -C work push -q origin main &&
	test_cmp_bin big.orig "$(obj_path "$HTTPD_ROOT/open/models" $oid)" &&
	# /slow/ serves $HTTPD_ROOT/auth/ at 2 MB/s
	cp -R "$HTTPD_ROOT/open/models" "$HTTPD_ROOT/auth/"
'

test_expect_success 'kill -9 of the filter process during a clone that downloads' '
	rm -f filter.pid || return 1
	git -c model.storage="$HTTPD_URL/slow/models" \
		-c filter.model.process="$wrap_cmd" \
		clone -q remote.git killed 2>err.clone &
	clone_pid=$! &&
	wait_for_file "killed/.git/model/incomplete/*" &&
	kill_pid_file filter.pid &&
	test_must_fail wait $clone_pid &&
	cat err.clone &&
	test_path_is_missing killed/.git/model/objects &&
	part=$(wc -c <"killed/.git/model/incomplete/$oid") &&
	say "the kill left $part bytes of 16 MiB" &&
	test "$part" -lt 16777216 &&
	test_model_store_ok killed/.git
'

# The resumed downloads go through /anon/, the same files as /slow/ at
# full speed: only the cut ones need to be slow.
test_expect_success 'the restore git suggests resumes where the kill stopped, right bytes' '
	grep "git restore --source=HEAD :/" err.clone &&
	git -C killed -c model.storage="$HTTPD_URL/anon/models" \
		restore --source=HEAD :/ 2>err.restore &&
	# the checkout died before git wrote the index
	git -C killed reset -q &&
	test_cmp_bin big.orig killed/big.pth &&
	httpd_log_wait 1 GET 206 "^/anon/models/sha256/" &&
	test_model_store_ok killed/.git &&
	test -z "$(ls -A killed/.git/model/incomplete)" &&
	git -C killed status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'kill -9 of git model fetch mid-download, then the same fetch' '
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy &&
	git -C lazy config model.storage "$HTTPD_URL/slow/models" || return 1
	# git-model itself, not the git that would run it: killing git
	# leaves its child running
	(cd lazy && exec git-model fetch 2>../err.fetch1) &
	fetch_pid=$! &&
	wait_for_file "lazy/.git/model/incomplete/*" &&
	kill -9 $fetch_pid &&
	test_expect_code 137 wait $fetch_pid &&
	test_path_is_missing lazy/.git/model/objects &&
	part=$(wc -c <"lazy/.git/model/incomplete/$oid") &&
	test "$part" -lt 16777216 &&
	git -C lazy -c model.storage="$HTTPD_URL/anon/models" \
		model fetch --progress 2>err.fetch2 &&
	grep "downloaded 1 object" err.fetch2 &&
	httpd_log_wait 2 GET 206 "^/anon/models/sha256/" &&
	test_cmp_bin big.orig "$(obj_path lazy/.git/model/objects $oid)" &&
	test_model_store_ok lazy/.git &&
	test -z "$(ls -A lazy/.git/model/incomplete)"
'

# A killed git add left its half-written object in tmp/: no process
# holds the lock on it, and once it is old enough (an hour), prune
# removes it.
test_expect_success 'prune removes the temp file the killed git add left' '
	ls work/.git/model/tmp/object-* >left &&
	test_line_count = 1 left &&
	git -C work model prune 2>err.prune1 &&
	test_path_is_file "$(cat left)" &&
	touch -d "2 hours ago" "$(cat left)" &&
	git -C work model prune 2>err.prune2 &&
	cat err.prune2 &&
	grep "removed 1 stale temp file" err.prune2 &&
	test_path_is_missing "$(cat left)" &&
	test_model_store_ok work/.git
'

# The deferred checkout (objects over model.smudgeInlineMax): the
# post-checkout hook copies the weights from the store into a temp file
# in the store's tmp/, then exchanges it with the work tree file. A
# wrapper runs the hook's git-model (and a push's) under strace, which
# holds each rename for 3 s, so the kill comes with the temp file whole
# and not yet in place.
if strace -f -qq -o /dev/null -e trace=rename \
	-e inject=rename:delay_enter=1 true 2>/dev/null
then
	test_set_prereq STRACE_INJECT
fi

mkdir slowbin &&
write_script slowbin/git-model <<EOF || BUG "cannot write slowbin/git-model"
if test "\$1" = post-checkout || test "\$1" = push
then
	echo \$\$ >"\$TRASH_DIRECTORY/strace.pid"
	exec env "$test_no_leak_check_env_" \\
		strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \\
		-e inject=rename,renameat,renameat2:delay_enter=3000000 \\
		"$GIT_MODEL_BUILD_DIR/src/git-model" "\$@"
fi
exec "$GIT_MODEL_BUILD_DIR/src/git-model" "\$@"
EOF

# wait_gone PID: wait up to 20 s until the process PID (not a child of
# ours: a killed one, whose files stay open until it is reaped) is gone.
wait_gone () {
	i=0
	while kill -0 "$1" 2>/dev/null
	do
		i=$((i + 1))
		test $i -lt 200 || return 1
		sleep 0.1
	done
}

test_expect_success STRACE_INJECT 'kill -9 of the hook during a deferred checkout: the filter finishes it' '
	rm -f strace.pid &&
	git config --global model.smudgeInlineMax 1m &&
	test_when_finished "git config --global --unset model.smudgeInlineMax" ||
	return 1
	(
		PATH="$TRASH_DIRECTORY/slowbin:$PATH" &&
		export PATH &&
		exec git clone -q remote.git deferred 2>err.deferred
	) &
	clone_pid=$! &&
	wait_for_file "deferred/.git/model/tmp/checkout-*" 16777216 &&
	# the hook git-model, traced by the strace whose PID the wrapper wrote
	hook_pid=$(pgrep -P "$(cat strace.pid)") &&
	test -n "$hook_pid" &&
	kill -9 $hook_pid &&
	# git clone exits with the hook'"'"'s status: 137; the filter, at
	# exit, takes over the list the killed hook had claimed
	! wait $clone_pid &&
	test_cmp_bin big.orig deferred/big.pth &&
	test_model_store_ok deferred/.git
'

test_expect_success STRACE_INJECT 'git model checkout then has nothing to do' '
	git -C deferred model checkout 2>err.co &&
	test_must_be_empty err.co &&
	test_cmp_bin big.orig deferred/big.pth
'

test_expect_success STRACE_INJECT 'after the kill no temp file or claimed list is left' '
	git -C deferred status --porcelain --ignored >out.porcelain &&
	test_must_be_empty out.porcelain &&
	ls deferred/.git >gitdir &&
	! grep model-deferred gitdir
'

# The same with git, the filter and the hook all killed: nobody is left to
# finish, and still git status shows nothing new; prune takes the temp
# file once it is old enough.
test_expect_success STRACE_INJECT 'kill -9 of a whole clone mid-checkout leaves nothing git status shows' '
	rm -f strace.pid filter.pid &&
	git config --global model.smudgeInlineMax 1m &&
	test_when_finished "git config --global --unset model.smudgeInlineMax" ||
	return 1
	(
		PATH="$TRASH_DIRECTORY/slowbin:$PATH" &&
		export PATH &&
		exec git -c filter.model.process="$wrap_cmd" \
			clone -q remote.git allkilled 2>err.allkilled
	) &
	clone_pid=$! &&
	tmp=$(wait_for_file "allkilled/.git/model/tmp/checkout-*" 16777216) &&
	hook_pid=$(pgrep -P "$(cat strace.pid)") &&
	test -n "$hook_pid" &&
	kill -9 $hook_pid $(cat filter.pid) $clone_pid &&
	! wait $clone_pid &&
	wait_gone $hook_pid &&
	git -C allkilled status --porcelain --untracked-files=all >out.all &&
	test_must_be_empty out.all &&
	git -C allkilled model pointer --check big.pth &&
	test_path_is_file "$tmp" &&
	touch -d "2 hours ago" "$tmp" &&
	git -C allkilled model prune 2>err.allprune &&
	grep "removed 1 stale temp file" err.allprune &&
	test_model_tmp_clean allkilled/.git &&
	git -C allkilled model checkout &&
	test_cmp_bin big.orig allkilled/big.pth
'

# A push into file:// storage on another file system copies each object
# to a temp file beside its name, then renames it; killed before the
# rename, the temp file stays, and prune removes it once it is old enough.
test_expect_success STRACE_INJECT,OTHER_FS 'prune removes what a killed file:// push left in storage' '
	store=$(mktemp -d /dev/shm/git-model-t0094.XXXXXX) &&
	test_when_finished "rm -rf \"$store\"" &&
	rm -f strace.pid &&
	test-tool genrandom unpushed 16m >work/unpushed.pth &&
	git -C work add unpushed.pth &&
	git -C work commit -q -m unpushed || return 1
	(
		PATH="$TRASH_DIRECTORY/slowbin:$PATH" &&
		export PATH &&
		cd work &&
		exec git -c model.storage="file://$store" model push \
			origin 2>../err.fpush
	) &
	push_pid=$! &&
	part=$(wait_for_file "$store/sha256/*/*/*.tmp-*" 16777216) &&
	push_git=$(pgrep -P "$(cat strace.pid)") &&
	kill -9 $push_git &&
	! wait $push_pid &&
	wait_gone $push_git &&
	test_path_is_file "$part" &&
	git -C work -c model.storage="file://$store" model prune 2>err.fprune1 &&
	test_path_is_file "$part" &&
	touch -d "2 days ago" "$part" &&
	git -C work -c model.storage="file://$store" model prune 2>err.fprune2 &&
	cat err.fprune2 &&
	test_path_is_missing "$part"
'

# The store on another file system than the work tree (.git/model a link
# to a directory on tmpfs): the deferred checkout cannot write in the
# store's tmp/ and rename across. Its temp file beside the
# work tree file has no name while it is written (O_TMPFILE), so a kill
# then leaves nothing. A wrapper holds the hook's linkat(), which names it
# just before the exchange, for 3 s: the kill comes with the file whole.
mkdir linkbin &&
write_script linkbin/git-model <<EOF || BUG "cannot write linkbin/git-model"
if test "\$1" = post-checkout
then
	echo \$\$ >"\$TRASH_DIRECTORY/strace.pid"
	exec env "$test_no_leak_check_env_" \\
		strace -f -qq -o /dev/null -e trace=linkat \\
		-e inject=linkat:delay_enter=3000000 \\
		"$GIT_MODEL_BUILD_DIR/src/git-model" "\$@"
fi
exec "$GIT_MODEL_BUILD_DIR/src/git-model" "\$@"
EOF

# wait_for_unnamed PID DIR: wait up to 20 s until PID holds an unnamed
# file in DIR (O_TMPFILE: "DIR/#<ino> (deleted)") of 16 MiB.
wait_for_unnamed () {
	i=0
	while :
	do
		for f in /proc/$1/fd/*
		do
			case "$(readlink "$f" 2>/dev/null)" in
			"$2/#"*)
				test "$(stat -L -c %s "$f" 2>/dev/null)" = 16777216 &&
				return 0 ;;
			esac
		done
		i=$((i + 1))
		test $i -lt 200 || return 1
		sleep 0.1
	done
}

# A clone of remote.git into wt whose store is on tmpfs (another file
# system than the work tree), then `git checkout main` in the background
# with $TRASH_DIRECTORY/<bin> first in PATH and stderr to <err>; sets
# $shm and $clone_pid. Run inside a test (it registers clean-ups).
other_fs_checkout () {
	shm=$(mktemp -d /dev/shm/git-model-t0094.XXXXXX) &&
	test_when_finished "rm -rf \"$shm\"" &&
	rm -rf wt &&
	git clone -q --no-checkout remote.git wt &&
	mkdir "$shm/model" &&
	rm -rf wt/.git/model &&
	ln -s "$shm/model" wt/.git/model &&
	rm -f strace.pid filter.pid &&
	git config --global model.smudgeInlineMax 1m &&
	test_when_finished "git config --global --unset model.smudgeInlineMax" &&
	{
		(
			PATH="$TRASH_DIRECTORY/$1:$PATH" &&
			export PATH &&
			exec git -C wt -c filter.model.process="$wrap_cmd" \
				checkout -q main 2>"$2"
		) &
		clone_pid=$!
	}
}

test_expect_success STRACE_INJECT,OTHER_FS 'store on another file system: a kill mid-write leaves nothing git status shows' '
	other_fs_checkout linkbin err.otherfs &&
	wait_for_file strace.pid &&
	i=0 &&
	until hook_pid=$(pgrep -P "$(cat strace.pid)")
	do
		i=$((i + 1)) && test $i -lt 200 && sleep 0.1 || return 1
	done &&
	wait_for_unnamed $hook_pid "$TRASH_DIRECTORY/wt" &&
	kill -9 $hook_pid $(cat filter.pid) $clone_pid &&
	! wait $clone_pid &&
	wait_gone $hook_pid &&
	git -C wt status --porcelain --untracked-files=all >out.otherfs &&
	test_must_be_empty out.otherfs &&
	ls -a wt >list.otherfs &&
	! grep "git-model-" list.otherfs &&
	git -C wt model pointer --check big.pth &&
	git -C wt model checkout &&
	test_cmp_bin big.orig "wt/big.pth" &&
	ls -a wt >list.otherfs &&
	! grep "git-model-" list.otherfs
'

# Killed in the instant between naming its temp file and the exchange
# (the rename held 3 s), a checkout leaves the named file; prune removes
# it once it is old enough.
test_expect_success STRACE_INJECT,OTHER_FS 'store on another file system: prune removes the temp file a kill left beside the work tree file' '
	other_fs_checkout slowbin err.otherfs2 &&
	tmp=$(wait_for_file "wt/.big.pth.git-model-*" 16777216) &&
	hook_pid=$(pgrep -P "$(cat strace.pid)") &&
	kill -9 $hook_pid $(cat filter.pid) $clone_pid &&
	! wait $clone_pid &&
	wait_gone $hook_pid &&
	git -C wt model prune 2>err.otherfs-prune1 &&
	test_path_is_file "$tmp" &&
	touch -d "2 hours ago" "$tmp" &&
	git -C wt model prune -v >out.otherfs-prune 2>err.otherfs-prune &&
	cat err.otherfs-prune &&
	grep "^removed stale temp file .*/wt/${tmp#wt/}.$" out.otherfs-prune &&
	test_path_is_missing "$tmp" &&
	git -C wt status --porcelain --untracked-files=all >out.otherfs2 &&
	test_must_be_empty out.otherfs2
'

test_done
