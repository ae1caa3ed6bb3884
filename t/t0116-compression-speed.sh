#!/bin/sh

test_description='compression within one memory budget

Every decoder and encoder in a process takes its blocks'"'"' buffers from
one budget (zcontainer.c, git-model-compression(5) LIMITS): a fetch of
many compressed objects over HTTP, eight at once, stays under a peak RSS
bound however many objects there are, and every object is byte-exact.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

# Peak RSS bound of `git model fetch`, in KiB: the budget (128 MiB), what
# the process holds besides (about 20 MiB for a fetch of raw objects) and
# a margin. Before the budget, 8 decoders held up to 48 MiB each: the
# fetch below peaked at 417 MiB.
RSS_MAX=184320
# A sanitizer keeps shadow memory, and AddressSanitizer freed blocks in
# quarantine: the bound stays flat, at a higher level.
if test -n "$GIT_MODEL_TEST_SANITIZER"
then
	RSS_MAX=$((RSS_MAX * 4))
fi

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

test_done
