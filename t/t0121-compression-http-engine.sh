#!/bin/sh

test_description='compressed downloads over HTTP share the engine fairly

One thread drives every HTTP transfer of a run (libcurl multi). The
blocks of <object>.gmz decode on the decoder'"'"'s threads: a transfer
whose decoder has no room is paused, not waited for, and the last blocks
of a finished transfer decode while the others go on. A decoder made
slow by the test suite (GIT_MODEL_TEST_ZC_DECODE_WAIT) so holds up no
raw download of the same run. Stopped by a signal, a .gmz download
keeps the raw bytes of the blocks that came whole, as a cut one does.

Which form is asked for first: the .gmz when model.compression is
zstd, else the raw one, for downloads and for show'"'"'s range requests
alike; counted in nginx'"'"'s access log.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-safetensors.sh"

start_httpd

. "$TEST_DIRECTORY/lib-fault-proxy.sh"

# open_gate_after FILE: in the background, create ./gate once FILE
# exists (./first then says it came first), or after 30 s
open_gate_after () {
	{
		i=0
		while test $i -lt 300 && ! test -f "$1"
		do
			sleep 0.1
			i=$((i + 1))
		done
		if test -f "$1"
		then
			: >first
		fi
		: >gate
	} &
	GATE_PID=$!
}

# fetch_gated URL OID: fetch into lazy/ from URL, every block's decoding
# waiting until object OID is in lazy/'s store
fetch_gated () {
	fresh_clone &&
	rm -f gate first &&
	open_gate_after "$PWD/$(obj lazy/.git/model/objects $2)" &&
	GIT_MODEL_TEST_ZC_DECODE_WAIT="$PWD/gate" \
		git -C lazy -c model.storage="$1" model fetch &&
	wait $GATE_PID
}

# fetched FILE...: lazy/ has the objects of work/FILE..., byte-exact
fetched () {
	for f in "$@"
	do
		test_cmp_bin work/$f \
			"$(obj lazy/.git/model/objects $(oid_of work/$f))" ||
		return 1
	done &&
	test_dir_is_empty lazy/.git/model/incomplete
}

test_expect_success 'setup: an object as .gmz only, one raw only' '
	test_setup_work "file://$HTTPD_ROOT/auth/fstore" &&
	(
		cd work &&
		test-tool genrandom small 2m >small.pth &&
		git add . &&
		git commit -q -m gmz &&
		git -c model.compression=zstd push -q origin main &&
		test-tool genrandom raw 6m >raw.pth &&
		git add raw.pth &&
		git commit -q -m raw &&
		git -c model.compression=none push -q origin main
	) &&
	soid=$(oid_of work/small.pth) &&
	roid=$(oid_of work/raw.pth) &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/fstore" $soid).gmz" &&
	test_path_is_missing "$(obj "$HTTPD_ROOT/auth/fstore" $soid)" &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/fstore" $roid)"
'

test_expect_success 'the last blocks of a .gmz decode while a raw download goes on' '
	# 2 MB/s a connection: the .gmz is all in before the raw object
	fetch_gated "$HTTPD_URL/slow/fstore" $roid &&
	test_path_is_file first &&
	fetched small.pth raw.pth
'

test_expect_success 'a .gmz whose decoder is full is paused, then goes on' '
	(
		cd work &&
		test-tool genrandom big 20m >big.pth &&
		git add big.pth &&
		git commit -q -m big &&
		git -c model.compression=zstd push -q origin main
	) &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/fstore" $(oid_of work/big.pth)).gmz" &&
	fetch_gated "$HTTPD_URL/anon/fstore" $roid &&
	test_path_is_file first &&
	fetched small.pth raw.pth big.pth
'

test_expect_success 'a signal keeps the raw bytes of the blocks that came whole' '
	fresh_clone &&
	rm -f gate gate-waiting &&
	git -C lazy config model.storage "$HTTPD_URL/anon/fstore" || return 1
	# git-model itself, not the git that would run it
	(
		cd lazy &&
		GIT_MODEL_TEST_ZC_DECODE_WAIT="$TRASH_DIRECTORY/gate" \
			exec git-model fetch -I big.pth 2>../err
	) &
	pid=$! &&
	# a block of big.pth came whole: its decoding waits
	i=0 &&
	while ! test -f gate-waiting && test $i -lt 300
	do
		sleep 0.1 &&
		i=$((i + 1))
	done &&
	kill -INT $pid &&
	# the gate opens once git-model stops for the signal: its main
	# thread then waits for the decoder'"'"'s threads (a futex), where it
	# polled its transfers before
	i=0 &&
	while ! grep -q futex /proc/$pid/wchan 2>/dev/null && test $i -lt 300
	do
		sleep 0.1 &&
		i=$((i + 1))
	done &&
	: >gate &&
	! wait $pid &&
	grep "^error: interrupted by signal 2; what came is kept, and the next fetch resumes it$" err &&
	! grep multipart err &&
	boid=$(oid_of work/big.pth) &&
	part=$(wc -c <lazy/.git/model/incomplete/$boid) &&
	say "the signal left $part raw bytes" &&
	test "$part" -ge 4194304 &&
	test $((part % 4194304)) = 0 &&
	head -c $part work/big.pth >expect &&
	test_cmp_bin expect lazy/.git/model/incomplete/$boid &&
	git -C lazy model fetch &&
	fetched big.pth
'

test_expect_success 'a resumed .gmz with one block left decodes it off the engine' '
	(
		cd work &&
		test-tool genrandom two 6m >two.pth &&
		git add two.pth &&
		git commit -q -m two &&
		git -c model.compression=zstd push -q origin main
	) &&
	toid=$(oid_of work/two.pth) &&
	test_path_is_missing "$(obj "$HTTPD_ROOT/auth/fstore" $toid)" &&
	fresh_clone &&
	mkdir -p lazy/.git/model/incomplete &&
	# the first of its two blocks came whole before
	head -c 4194304 work/two.pth >lazy/.git/model/incomplete/$toid &&
	rm -f gate first &&
	open_gate_after "$PWD/$(obj lazy/.git/model/objects $roid)" &&
	GIT_MODEL_TEST_ZC_DECODE_WAIT="$PWD/gate" git -C lazy \
		-c model.storage="$HTTPD_URL/slow/fstore" model fetch \
		-I two.pth,raw.pth &&
	wait $GATE_PID &&
	test_path_is_file first &&
	fetched two.pth raw.pth
'

test_expect_success 'model.compression=auto: downloads ask for the raw form first' '
	fresh_clone &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/anon/fstore" \
		-c model.compression=auto model fetch &&
	fetched small.pth raw.pth big.pth &&
	httpd_log_wait 1 GET 200 "/$roid$" &&
	test "$(httpd_log_count GET 404 "/$soid$")" = 1 &&
	test "$(httpd_log_count GET 404 "/$roid.gmz$")" = 0
'

test_expect_success 'model.compression=zstd: downloads ask for the .gmz first' '
	fresh_clone &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/anon/fstore" \
		-c model.compression=zstd model fetch &&
	fetched small.pth raw.pth big.pth &&
	httpd_log_wait 1 GET 200 "/$roid$" &&
	test "$(httpd_log_count GET 404 "/$roid.gmz$")" = 1 &&
	test "$(httpd_log_count GET 404)" = 1
'

test_expect_success 'model.compression=zstd: show asks for the .gmz first' '
	st_model m.safetensors m 2 &&
	cp m.safetensors work/ &&
	(
		cd work &&
		git model track "*.safetensors" &&
		git add .gitattributes m.safetensors &&
		git commit -q -m model &&
		git -c model.compression=zstd push -q origin main
	) &&
	moid=$(oid_of work/m.safetensors) &&
	test_path_is_missing "$(obj "$HTTPD_ROOT/auth/fstore" $moid)" &&
	fresh_clone &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/anon/fstore" \
		-c model.compression=zstd model show HEAD:m.safetensors >out &&
	grep F32 out &&
	httpd_log_wait 1 GET 206 "/$moid.gmz$" &&
	test "$(httpd_log_count GET 404)" = 0 &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/anon/fstore" \
		model show HEAD:m.safetensors >out &&
	grep F32 out &&
	httpd_log_wait 1 GET 206 "/$moid.gmz$" &&
	test "$(httpd_log_count GET 404 "/$moid$")" = 1
'

test_done
