#!/bin/sh

test_description='filter-process against a hostile or broken peer

t0011 has reserved lengths, an oversize packet, a bad hex length and a
stream cut inside the content of a clean, an unknown command and a peer
without version 2. This script sends the same breakage at the other
places of the conversation (the handshake, the capabilities, a request
header), keys and commands a peer should not send, and checks what a
broken conversation leaves: one clear error, no object or temp file in
the store, and on stdout nothing after the last complete response.'

. "$(dirname "$0")/test-lib.sh"

# pack NAME <LINES: NAME.pkt from test-tool pkt-line pack's notation.
pack () {
	test-tool pkt-line pack >"$1.pkt"
}

# The greeting and capabilities of a clean-only client.
hello () {
	printf "git-filter-client\nversion=2\n0000\ncapability=clean\ncapability=smudge\n0000\n"
}

# broken NAME PATTERN [LINES]: filter-process fed NAME.pkt fails, its
# first line of stderr an error matching PATTERN, LINES lines in all
# (default 1); it leaves no object and no temp file, and its stdout is
# whole packets only.
broken () {
	test_must_fail git model filter-process <"$1.pkt" >"$1.out" 2>"$1.err" &&
	cat "$1.err" &&
	head -n 1 "$1.err" | grep "^error: $2" &&
	test_line_count = "${3:-1}" "$1.err" &&
	test-tool pkt-line unpack <"$1.out" >"$1.resp" &&
	test_path_is_missing .git/model/objects &&
	test_model_tmp_clean .git
}

# The server's side of the handshake, as filter-process answers hello.
cat >handshake.expect <<\EOF
git-filter-server
version=2
0000
capability=clean
capability=smudge
0000
EOF

test_expect_success 'setup' '
	git model install --local &&
	git model track "*.pth" &&
	test-tool genrandom big 3m >big.pth &&
	echo small >small.pth
'

test_expect_success 'reserved lengths 0001-0003 in the greeting' '
	for len in 0001 0002 0003
	do
		printf "%s" $len >reserved-$len.pkt &&
		broken reserved-$len "protocol error: packet length $len is reserved" &&
		test_must_be_empty reserved-$len.out || return 1
	done
'

test_expect_success 'reserved lengths among the capabilities' '
	for len in 0001 0002 0003
	do
		{
			printf "git-filter-client\nversion=2\n0000\ncapability=clean\n" |
			test-tool pkt-line pack &&
			printf "%s" $len
		} >caps-$len.pkt &&
		broken caps-$len "protocol error: packet length $len is reserved" || return 1
	done
'

test_expect_success 'a packet over 65520 bytes in the handshake and in a request' '
	printf "fff1" >big-greeting.pkt &&
	broken big-greeting "protocol error: packet length 65521 exceeds 65520" &&
	{
		hello | test-tool pkt-line pack &&
		printf "fff5command=clean"
	} >big-request.pkt &&
	broken big-request "protocol error: packet length 65525 exceeds 65520" &&
	test_cmp handshake.expect big-request.resp
'

test_expect_success 'a stream cut inside a packet of the handshake' '
	printf "0016git-filter-cl" >cut-greeting.pkt &&
	broken cut-greeting "protocol error: stream ends inside a packet" &&
	{
		printf "git-filter-client\nversion=2\n0000\n" | test-tool pkt-line pack &&
		printf "0015capability=cl"
	} >cut-caps.pkt &&
	broken cut-caps "protocol error: stream ends inside a packet"
'

# A broken packet in the handshake is reported once, by pkt-line.c, with
# the cause; filter.c does not add a second, wrong, reason.
test_expect_success 'a broken packet in the handshake gives one error, not a second wrong one' '
	for f in reserved-0001 caps-0001 big-greeting cut-greeting cut-caps
	do
		test_line_count = 1 $f.err || return 1
	done
'

test_expect_success 'a stream cut inside a packet of a request header' '
	{
		hello | test-tool pkt-line pack &&
		printf "0012command=cl"
	} >cut-request.pkt &&
	broken cut-request "protocol error: stream ends inside a packet" &&
	test_cmp handshake.expect cut-request.resp
'

test_expect_success 'a stream that ends after the greeting, before its flush' '
	printf "git-filter-client\nversion=2\n" | pack short-greeting &&
	broken short-greeting "protocol error: handshake cut short"
'

test_expect_success 'a peer that is not git: wrong greeting, no version, bad capability' '
	printf "git-filter-server\nversion=2\n0000\n" | pack not-client &&
	broken not-client "protocol error: expected .git-filter-client." &&
	printf "git-filter-client\nverzion=2\n0000\n" | pack no-version &&
	broken no-version "protocol error: expected a version" &&
	printf "git-filter-client\nversion=2\n0000\nclean\n0000\n" | pack bad-cap &&
	broken bad-cap "protocol error: expected a capability"
'

test_expect_success 'a request line without =, or without a command' '
	{ hello && printf "command clean\n0000\n"; } | pack no-equals &&
	broken no-equals "protocol error: expected key=value" &&
	test_cmp handshake.expect no-equals.resp &&
	{ hello && printf "pathname=x.pth\n0000\n0000\n"; } | pack no-command &&
	broken no-command "protocol error: request without a command"
'

test_expect_success 'a command too long for any command is unknown, not cut short' '
	{
		hello &&
		printf "command=clean%0100d\npathname=x.pth\n0000\n0000\n" 0
	} | pack long-command &&
	broken long-command "protocol error: unknown command"
'

test_expect_success 'a NUL byte in a request line is an error, not a shorter name' '
	{
		hello | test-tool pkt-line pack &&
		printf "0017command=clean\000junk\n"
	} >nul-command.pkt &&
	broken nul-command "protocol error: NUL byte in a text packet" &&
	{
		hello | test-tool pkt-line pack &&
		printf "command=clean\n" | test-tool pkt-line pack &&
		printf "001cpathname=small.pth\000../x\n"
	} >nul-path.pkt &&
	broken nul-path "protocol error: NUL byte in a text packet"
'

test_expect_success 'keys a future git may send are ignored' '
	{
		hello &&
		printf "command=clean\npathname=small.pth\nref=refs/heads/main\n" &&
		printf "treeish=0123\nblob=4567\nfuture-key=1\n0000\nfile:small.pth\n0000\n"
	} | pack future &&
	git model filter-process <future.pkt >future.out 2>future.err &&
	test_must_be_empty future.err &&
	test-tool pkt-line unpack <future.out >future.resp &&
	git model pointer --file small.pth >pointer &&
	{
		cat handshake.expect &&
		echo status=success &&
		echo 0000 &&
		cat pointer &&
		printf "0000\n0000\n"
	} >expect &&
	test_cmp expect future.resp &&
	rm -rf .git/model
'

test_expect_success 'an unknown command after a served one: that response stays whole' '
	{
		hello &&
		printf "command=clean\npathname=small.pth\n0000\nfile:small.pth\n0000\n" &&
		printf "command=frobnicate\npathname=small.pth\n0000\n0000\n"
	} | pack after-one &&
	test_must_fail git model filter-process <after-one.pkt >after-one.out 2>after-one.err &&
	grep "^error: protocol error: unknown command .frobnicate." after-one.err &&
	test_line_count = 1 after-one.err &&
	test-tool pkt-line unpack <after-one.out >after-one.resp &&
	test_cmp future.resp after-one.resp &&
	test_model_store_ok .git &&
	rm -rf .git/model
'

test_expect_success 'a clean cut off after 3 MiB of content stores nothing' '
	{
		hello &&
		printf "command=clean\npathname=big.pth\n0000\nfile:big.pth\n"
	} | pack cut-content &&
	broken cut-content "protocol error: git closed the stream in the middle of a file" 2 &&
	sed -n 2p cut-content.err | grep "^error: cannot clean .big.pth.$" &&
	test_cmp handshake.expect cut-content.resp
'

test_expect_success 'a reserved length after 3 MiB of content stores nothing' '
	{
		hello &&
		printf "command=clean\npathname=big.pth\n0000\nfile:big.pth\nraw:0002\n"
	} | pack bad-content &&
	broken bad-content "protocol error: packet length 0002 is reserved" 2 &&
	sed -n 2p bad-content.err | grep "^error: cannot clean .big.pth.$" &&
	test_cmp handshake.expect bad-content.resp
'

test_expect_success 'a smudge cut off mid-content answers nothing for it' '
	git model pointer --file big.pth >big.pointer &&
	{
		hello &&
		printf "command=smudge\npathname=big.pth\n0000\nfile:big.pth\n"
	} | pack cut-smudge &&
	broken cut-smudge "protocol error: git closed the stream in the middle of a file" 2 &&
	sed -n 2p cut-smudge.err | grep "^error: cannot smudge .big.pth.$" &&
	test_cmp handshake.expect cut-smudge.resp
'

test_expect_success 'the process still serves a whole conversation after all that' '
	{
		hello &&
		printf "command=clean\npathname=big.pth\n0000\nfile:big.pth\n0000\n"
	} | pack whole &&
	git model filter-process <whole.pkt >whole.out 2>whole.err &&
	test_must_be_empty whole.err &&
	test-tool pkt-line unpack <whole.out >whole.resp &&
	git model pointer --file big.pth >pointer &&
	sed -n "9,11p" whole.resp >got &&
	test_cmp pointer got &&
	test_model_store_ok .git &&
	test_model_tmp_clean .git
'

test_done
