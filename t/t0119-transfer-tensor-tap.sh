#!/bin/sh

test_description='a download hashes the tensors of what it brings as the bytes arrive

Tensor hashes of a .safetensors object are cached when it enters the
local store, also by download, so that the first diff reads only
headers. They are computed from the bytes the transfer verifies, not by
reading the object again afterwards: for each way an object comes (a
file:// link, a file:// copy, a file:// .gmz, HTTP raw, resumed HTTP,
HTTP .gmz), `git model fetch` reads from files no more than the transfer
needs (storage'"'"'s copy, a partial download) plus half the object, and the
cached hashes are the tensors'"'"' own.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-safetensors.sh"

PYTHON=/usr/bin/python3
start_httpd

# rchar CMD...: run CMD (its output to cmd.out), and print the bytes it
# and its children read (rchar of /proc/<pid>/io, read before it is reaped).
rchar () {
	$PYTHON - "$@" <<-\EOF
	import os, subprocess, sys
	with open("cmd.out", "wb") as out:
	    p = subprocess.Popen(sys.argv[1:], stdout=out, stderr=out)
	os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
	io = dict(l.split(": ") for l in open("/proc/%d/io" % p.pid))
	if p.wait():
	    sys.exit("command failed: " + open("cmd.out").read())
	print(int(io["rchar"]))
	EOF
}

# check_fetch WHAT FROM: fetch main's model into an empty store. The bytes
# read from files and pipes (rchar leaves out sockets) stay under FROM,
# what the transfer itself reads from files, plus half the object; and
# its tensors' hashes are cached, right (show prints them after the
# middle of the store's copy is spoiled; a copy: the store's may be a
# hard link of storage's).
check_fetch () {
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	read=$(rchar git model fetch -q) &&
	say "$1: fetch read $read bytes for an object of $size" &&
	test $read -lt $(($2 + size / 2)) &&
	oid=$(oid_of m.safetensors) &&
	test_path_is_file .git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid &&
	st_spoil "$(obj .git/model/objects $oid)" $((size / 2)) &&
	st_show_hashes model show HEAD:m.safetensors >actual &&
	test_cmp m.safetensors.hashes actual
}

test_expect_success 'setup: a model pushed raw and compressed' '
	git model install --local &&
	git model track "*.safetensors" &&
	st_model m.safetensors seed1 8 &&
	size=$(wc -c <m.safetensors) &&
	git add .gitattributes m.safetensors &&
	git commit -q -m model &&
	git config model.storage "file://$HTTPD_ROOT/auth/raw" &&
	git config model.compression none &&
	git model push -q &&
	git config model.storage "file://$HTTPD_ROOT/auth/gmz" &&
	git config model.compression auto &&
	git model push -q &&
	oid=$(oid_of m.safetensors) &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/raw" $oid)" &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/gmz" $oid).gmz" &&
	test_path_is_missing "$(obj "$HTTPD_ROOT/auth/gmz" $oid)"
'

test_expect_success 'file://, linked' '
	git config model.storage "file://$HTTPD_ROOT/auth/raw" &&
	check_fetch "file:// link" $size
'

test_expect_success 'file://, copied' '
	git config model.file.hardLinks false &&
	check_fetch "file:// copy" $size &&
	git config --unset model.file.hardLinks
'

test_expect_success 'file://, compressed' '
	git config model.storage "file://$HTTPD_ROOT/auth/gmz" &&
	check_fetch "file:// .gmz" $size
'

test_expect_success 'file://, a damaged raw copy beside the compressed one' '
	oid=$(oid_of m.safetensors) &&
	raw=$(obj "$HTTPD_ROOT/auth/raw" $oid) &&
	both=$(obj "$HTTPD_ROOT/auth/both" $oid) &&
	mkdir -p "$(dirname "$both")" &&
	cp "$(obj "$HTTPD_ROOT/auth/gmz" $oid).gmz" "$both.gmz" &&
	cp "$raw" "$both" &&
	chmod u+w "$both" &&
	printf X | dd of="$both" bs=1 seek=100000 conv=notrunc 2>/dev/null &&
	git config model.storage "file://$HTTPD_ROOT/auth/both" &&
	check_fetch "file:// damaged raw, then .gmz" $((2 * size))
'

test_expect_success 'HTTP, raw' '
	git config model.storage "$HTTPD_URL/anon/raw" &&
	check_fetch "HTTP raw" 0
'

test_expect_success 'HTTP, compressed' '
	git config model.storage "$HTTPD_URL/anon/gmz" &&
	check_fetch "HTTP .gmz" 0
'

test_expect_success 'HTTP, resumed from a partial download' '
	git config model.storage "$HTTPD_URL/anon/raw" &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	mkdir -p .git/model/incomplete &&
	oid=$(oid_of m.safetensors) &&
	head -c 5000000 m.safetensors >.git/model/incomplete/$oid &&
	: >"$HTTPD_ACCESS_LOG" &&
	check_fetch "HTTP resumed" 5000000 &&
	httpd_log_wait 1 GET 206 "/$oid$"
'

# The cache is only a speed-up, and its reader checks every record: it
# is not synced, so a download does not wait for the disk in the HTTP
# engine's thread. The object itself is synced before its rename.
test_expect_success 'the cached hashes are written without a sync, the object with one' '
	git config model.storage "$HTTPD_URL/anon/raw" &&
	rm -rf .git/model/objects .git/model/tensor-hashes &&
	strace -f -qq -y -o trace -e trace=fsync,fdatasync git model fetch -q &&
	oid=$(oid_of m.safetensors) &&
	test_path_is_file .git/model/tensor-hashes/$(echo $oid | cut -c1-2)/$oid &&
	grep "$oid" trace &&
	! grep tensor-hashes trace
'

test_done
