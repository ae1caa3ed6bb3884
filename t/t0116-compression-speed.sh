#!/bin/sh

test_description='compression that does not hold transfers back

Every decoder and encoder in a process takes its blocks'"'"' buffers from
one budget (zcontainer.c, git-model-compression(5) LIMITS): a fetch of
many compressed objects over HTTP, eight at once, stays under a peak RSS
bound however many objects there are, and every object is byte-exact.
HTTP uploads are compressed on worker threads (transfer-internal.h):
while one object is compressed, the others are uploaded.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-httpd.sh"

# Peak RSS bound of `git model fetch`, in KiB: the budget (128 MiB), what
# the process holds besides (about 20 MiB for a fetch of raw objects),
# the first slots of pipes that start while others hold more than their
# share (zcontainer.c), and a margin. Before the budget, 8 decoders held
# up to 48 MiB each: the fetch below peaked at 417 MiB; with it, 130-180.
RSS_MAX=212992
# A sanitizer keeps shadow memory: the bound stays flat, at a higher
# level. AddressSanitizer keeps freed blocks in quarantine: 4 times.
# ThreadSanitizer maps 4 bytes of shadow for each byte the process
# touches, so the process and its shadow take 5 times its own peak.
case "$GIT_MODEL_TEST_SANITIZER" in
address)
	RSS_MAX=$((RSS_MAX * 4)) ;;
thread)
	RSS_MAX=$((RSS_MAX * 5)) ;;
esac

if ! test -x /usr/bin/time
then
	test_env_require_ci_service "GNU time" "/usr/bin/time (Debian package time) is needed to measure peak RSS"
fi

start_httpd

test_expect_success 'setup: 12 compressible objects of 16 MiB, pushed compressed' '
	git model install &&
	git init -q --bare remote.git &&
	git init -q work &&
	git -C work config model.storage "file://$HTTPD_ROOT/auth/fstore" &&
	git -C work config model.compression auto &&
	(
		cd work &&
		git model track "*.bin" &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12
		do
			test-tool genrandom "seed$i" 12582912 | base64 -w0 >f$i.bin ||
			return 1
		done &&
		git add . &&
		git commit -q -m models &&
		git remote add origin ../remote.git &&
		git push -q origin main
	) &&
	test $(find "$HTTPD_ROOT/auth/fstore" -name "*.gmz" | wc -l) = 12
'

test_expect_success 'a fetch of compressed objects, 8 at once, stays under the budget' '
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git clone &&
	git -C clone config model.storage "$HTTPD_URL/anon/fstore" &&
	git -C clone config model.concurrency 8 &&
	/usr/bin/time -f %M -o rss git -C clone model fetch &&
	echo "peak RSS $(cat rss) KiB, bound $RSS_MAX" &&
	test $(cat rss) -le $RSS_MAX &&
	rm clone/*.bin &&
	git -C clone checkout -q -- . &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12
	do
		test_cmp_bin work/f$i.bin clone/f$i.bin || return 1
	done
'

test_expect_success 'setup: WebDAV storage with credentials, one big and four small objects' '
	git config --global credential.helper store &&
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	git init -q --bare dav.git &&
	git init -q dav &&
	(
		cd dav &&
		git model track "*.bin" &&
		git config model.storage "$HTTPD_URL/auth/dav" &&
		git config model.compression auto &&
		cp ../work/f1.bin big.bin &&
		for i in 1 2 3 4
		do
			test-tool genrandom "small$i" 65536 | base64 -w0 >small$i.bin ||
			return 1
		done &&
		git add . &&
		git commit -q -m models &&
		git remote add origin ../dav.git
	)
'

test_expect_success 'while one upload is compressed, the others are sent' '
	: >"$HTTPD_ACCESS_LOG" &&
	big=$(oid_of dav/big.bin) &&
	{
		GIT_MODEL_TEST_ZC_WAIT="$big:$PWD/go" \
			git -C dav model push --all origin 2>push.err &
	} &&
	pid=$! &&
	# the big object is held in its compression until "go" exists
	httpd_log_wait 4 PUT 201 "\.gmz$" 2>/dev/null ;
	ok=$? &&
	touch go &&
	wait $pid &&
	test $ok = 0 &&
	test "$(httpd_log_count PUT 201 "$big\.gmz$")" = 1 &&
	for f in big small1 small2 small3 small4
	do
		o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of dav/$f.bin)) &&
		test-tool zcontainer decode "$o.gmz" $f.out &&
		test_cmp_bin dav/$f.bin $f.out || return 1
	done
'

test_done
