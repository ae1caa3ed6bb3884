#!/bin/sh

test_description='an interrupted download of <object>.gmz resumes at a block

A compressed object in HTTP storage (a real nginx, a fault proxy that
cuts a response halfway) is downloaded into the incomplete file as raw
bytes, block by block. Cut, the incomplete file keeps the raw bytes of
the blocks that came whole; the next attempt, in the same run or a later
one, asks for the header and table with a range request, then for the
stored bytes from the block where the raw bytes end, and verifies the
sha256 of the whole object. Raw bytes a raw download left are resumed
the same way from the .gmz, and a server that ignores Range sends the
whole container, which is decoded from its start. S3 (SigV4, s3rver)
runs on the same engine: the same resume there.

Then downloads of either form: an object in neither form leaves no
incomplete file; wrong bytes in one form (a damaged raw copy beside a
good .gmz, or the reverse) make the download ask for the other; and a
.gmz too short to be a container of its object does not count as there,
so push replaces it.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
. "$TEST_DIRECTORY/lib-safetensors.sh"

start_httpd
start_s3 models

. "$TEST_DIRECTORY/lib-fault-proxy.sh"

size () {
	wc -c <"$1" | tr -d " "
}

# log_bytes REGEX: bytes_sent of every GET in nginx's log whose URI matches
log_bytes () {
	awk -v re="$1" '$3 == "GET" && $4 ~ re { n += $7 } END { print n + 0 }' \
		"$HTTPD_ACCESS_LOG"
}

# stored_offset GMZ RAW: where, in the container GMZ, the block starts
# that holds raw byte RAW (git-model-compression(5))
stored_offset () {
	test-tool zcontainer table "$1" >table &&
	awk -v want="$2" '
		{ raw[NR] = $3; stored[NR] = $4 }
		END {
			off = 24 + 16 * NR; r = 0
			for (i = 1; i <= NR; i++) {
				if (want < r + raw[i])
					break
				r += raw[i]; off += stored[i]
			}
			print off
		}' table
}

BLOCK=4194304

test_expect_success 'setup: a weight of six blocks pushed compressed over HTTP' '
	test_setup_work "$HTTPD_URL/open/models" &&
	(
		cd work &&
		git config model.compression auto &&
		test-tool genrandom big 10m >big.pth &&
		test_seq 1 1500000 >>big.pth &&
		git add . &&
		git commit -q -m big &&
		git push -q origin main
	) &&
	oid=$(oid_of work/big.pth) &&
	gmz=$(obj "$HTTPD_ROOT/open/models" $oid).gmz &&
	test_path_is_file "$gmz" &&
	test_path_is_missing "$(obj "$HTTPD_ROOT/open/models" $oid)" &&
	test-tool zcontainer table "$gmz" >table &&
	test_line_count = 6 table
'

test_expect_success 'a cut download keeps the raw bytes of whole blocks' '
	start_proxy cut 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=0 model fetch 2>err &&
	grep "fault=cut" proxy.log &&
	part=$(size lazy/.git/model/incomplete/$oid) &&
	say "the cut left $part raw bytes of $(size work/big.pth)" &&
	test "$part" -ge $BLOCK &&
	test $((part % BLOCK)) = 0 &&
	head -c $part work/big.pth >expect &&
	test_cmp_bin expect lazy/.git/model/incomplete/$oid
'

test_expect_success 'the next fetch resumes at that block with Range, verified' '
	part=$(size lazy/.git/model/incomplete/$oid) &&
	from=$(stored_offset "$gmz" $part) &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch &&
	test_cmp_bin work/big.pth "$(obj lazy/.git/model/objects $oid)" &&
	test_path_is_missing lazy/.git/model/incomplete/$oid &&
	httpd_log_wait 2 GET 206 "$oid.gmz$" &&
	grep " GET [^ ]*/$oid.gmz 206 bytes=0-[0-9]* " "$HTTPD_ACCESS_LOG" &&
	grep " GET [^ ]*/$oid.gmz 206 bytes=$from- " "$HTTPD_ACCESS_LOG" &&
	test "$(httpd_log_count GET 200 "$oid.gmz$")" = 0 &&
	sent=$(log_bytes "$oid.gmz$") &&
	whole=$(size "$gmz") &&
	say "resumed: $sent bytes sent of the $whole of the .gmz" &&
	test $((sent + from)) -lt $((whole + 8192))
'

test_expect_success 'a cut in the middle of a run is resumed in that run' '
	start_proxy cut 1 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	git -C lazy -c model.storage="$PROXY_URL/open/models" model fetch &&
	test_cmp_bin work/big.pth "$(obj lazy/.git/model/objects $oid)" &&
	grep "^GET [^ ]*/$oid.gmz 200 range=- fault=cut" proxy.log &&
	grep "^GET [^ ]*/$oid.gmz 206 range=bytes=0-[0-9]* fault=none" proxy.log &&
	grep "^GET [^ ]*/$oid.gmz 206 range=bytes=[1-9][0-9]*- fault=none" proxy.log
'

test_expect_success 'raw bytes a raw download left are resumed from the .gmz' '
	(
		cd work &&
		test_seq 2000000 3100000 >raw.pth &&
		git add raw.pth &&
		git commit -q -m raw &&
		git -c model.compression=none push -q origin main
	) &&
	roid=$(oid_of work/raw.pth) &&
	r=$(obj "$HTTPD_ROOT/open/models" $roid) &&
	test_path_is_file "$r" &&
	start_proxy cut 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=0 model fetch 2>err &&
	part=$(size lazy/.git/model/incomplete/$roid) &&
	test "$part" -gt $BLOCK &&
	test $((part % BLOCK)) != 0 &&
	test-tool zcontainer encode "$r" "$r.gmz" &&
	rm -f "$r" &&
	from=$(stored_offset "$r.gmz" $part) &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch &&
	test_cmp_bin work/raw.pth "$(obj lazy/.git/model/objects $roid)" &&
	httpd_log_wait 1 GET 206 "$roid.gmz$" &&
	grep " GET [^ ]*/$roid.gmz 206 bytes=$from- " "$HTTPD_ACCESS_LOG" &&
	sent=$(log_bytes "$roid.gmz$") &&
	whole=$(size "$r.gmz") &&
	say "resumed after $part raw bytes: $sent bytes sent of the $whole of the .gmz" &&
	test "$sent" -lt "$whole"
'

test_expect_success 'a server that ignores Range sends it all: decoded from its start' '
	start_proxy cut 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=0 model fetch 2>err &&
	test -s lazy/.git/model/incomplete/$oid &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/norange/models" model fetch &&
	test_cmp_bin work/big.pth "$(obj lazy/.git/model/objects $oid)" &&
	test_cmp_bin work/raw.pth "$(obj lazy/.git/model/objects $roid)" &&
	httpd_log_wait 1 GET 200 "/norange/.*$oid.gmz$" &&
	test "$(httpd_log_count GET 206)" = 0
'

test_expect_success 'a wrong byte in the kept blocks: the sha256 catches it, the retry starts over' '
	start_proxy cut 1000 &&
	test_when_finished stop_proxy &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$PROXY_URL/open/models" \
		-c model.retries=0 model fetch 2>err &&
	f=lazy/.git/model/incomplete/$oid &&
	printf "X" | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch 2>err &&
	test_cmp_bin work/big.pth "$(obj lazy/.git/model/objects $oid)" &&
	httpd_log_wait 1 GET 200 "$oid.gmz$"
'

test_expect_success 'S3: a cut compressed download resumes at its block with Range' '
	s3_use_keys &&
	s3="-c model.storage=s3://models/team" &&
	git -C work $s3 -c model.s3.endpoint="$S3_ENDPOINT" model push --all origin &&
	k=$(s3_key team $oid) &&
	s3gmz=$(s3_object_path models $k.gmz) &&
	test_path_is_file "$s3gmz" &&
	FAULT_PROXY_UPSTREAM=${S3_ENDPOINT##*:} &&
	start_proxy cut 1000 &&
	test_when_finished "stop_proxy; unset FAULT_PROXY_UPSTREAM" &&
	fresh_clone &&
	test_must_fail git -C lazy $s3 -c model.s3.endpoint="$PROXY_URL" \
		-c model.retries=0 model fetch 2>err &&
	stop_proxy &&
	part=$(size lazy/.git/model/incomplete/$oid) &&
	test "$part" -ge $BLOCK &&
	test $((part % BLOCK)) = 0 &&
	from=$(stored_offset "$s3gmz" $part) &&
	start_proxy pass 0 &&
	git -C lazy $s3 -c model.s3.endpoint="$PROXY_URL" model fetch &&
	test_cmp_bin work/big.pth "$(obj lazy/.git/model/objects $oid)" &&
	test_cmp_bin work/raw.pth "$(obj lazy/.git/model/objects $roid)" &&
	grep "^GET /models/$k.gmz 206 range=bytes=0-[0-9]* fault=none" proxy.log &&
	grep "^GET /models/$k.gmz 206 range=bytes=$from- fault=none" proxy.log &&
	! grep "^GET /models/$k.gmz 200 .*fault=none" proxy.log
'

test_expect_success 'an object in neither form leaves no incomplete file' '
	(
		cd work &&
		test-tool genrandom gone 10k >gone.pth &&
		git add gone.pth &&
		git commit -q -m gone &&
		git push -q origin main
	) &&
	goid=$(oid_of work/gone.pth) &&
	g=$(obj "$HTTPD_ROOT/open/models" $goid) &&
	rm -f "$g" "$g.gmz" &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$HTTPD_URL/open/models" \
		model fetch 2>err &&
	grep "cannot download .gone.pth. from .*/$goid.: 404 Not Found" err &&
	test_path_is_missing lazy/.git/model/incomplete/$goid &&
	git -C work model push --all origin
'

test_expect_success 'a damaged raw copy beside a good .gmz: the .gmz is read' '
	(
		cd work &&
		test-tool genrandom dmg 300k >dmg.pth &&
		git add dmg.pth &&
		git commit -q -m dmg &&
		git push -q origin main
	) &&
	doid=$(oid_of work/dmg.pth) &&
	d=$(obj "$HTTPD_ROOT/open/models" $doid) &&
	test_path_is_file "$d.gmz" &&
	cp work/dmg.pth "$d" &&
	printf "X" | dd of="$d" bs=1 seek=1000 conv=notrunc 2>/dev/null &&
	fresh_clone &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch 2>err &&
	test_cmp_bin work/dmg.pth "$(obj lazy/.git/model/objects $doid)" &&
	grep "warning: .dmg.pth.: .*/$doid: the bytes do not match the object id (nothing was stored); trying .*/$doid.gmz" err &&
	httpd_log_wait 1 GET 200 "/$doid.gmz$" &&
	test "$(httpd_log_count GET 200 "/$doid$")" = 1
'

test_expect_success 'a damaged .gmz beside a good raw copy: the raw one is read' '
	cp "$d.gmz" dmg.gmz &&
	cp work/dmg.pth "$d" &&
	head -c 2000 dmg.gmz >"$d.gmz" &&
	fresh_clone &&
	: >"$HTTPD_ACCESS_LOG" &&
	# the object before it in the queue is read compressed, so that this
	# one is asked for compressed first
	git -C lazy -c model.storage="$HTTPD_URL/open/models" \
		-c model.concurrency=1 model fetch 2>err &&
	test_cmp_bin work/dmg.pth "$(obj lazy/.git/model/objects $doid)" &&
	grep "warning: .dmg.pth.: .*/$doid.gmz: compressed object: truncated" err &&
	httpd_log_wait 1 GET 200 "/$doid$" &&
	test "$(httpd_log_count GET 200 "/$doid.gmz$")" = 1
'

test_expect_success 'file:// storage: a damaged raw copy beside a good .gmz' '
	git -C work -c model.storage="file://$PWD/fdmg" model push --all origin &&
	fd=$(obj fdmg $doid) &&
	test_path_is_file "$fd.gmz" &&
	cp work/dmg.pth "$fd" &&
	printf "X" | dd of="$fd" bs=1 seek=1000 conv=notrunc 2>/dev/null &&
	chmod a-w "$fd" &&
	fresh_clone &&
	git -C lazy -c model.storage="file://$PWD/fdmg" model fetch 2>err &&
	test_cmp_bin work/dmg.pth "$(obj lazy/.git/model/objects $doid)" &&
	grep "warning: .dmg.pth.: .*$doid.*trying .*$doid.gmz" err
'

test_expect_success 'file:// storage: both copies damaged, the error names the .gmz' '
	chmod u+w "$fd.gmz" &&
	head -c 2000 "$d.gmz" >"$fd.gmz" &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="file://$PWD/fdmg" \
		model fetch 2>err &&
	grep "warning: .dmg.pth.: .*$doid: the bytes do not match" err &&
	grep "error: cannot download .dmg.pth. from .*/$doid.gmz.: compressed object: truncated" err &&
	grep "1 file(s) have wrong bytes in storage" err &&
	test_path_is_missing "$(obj lazy/.git/model/objects $doid)"
'

test_expect_success 'both copies damaged: a mismatch, nothing stored' '
	printf "X" | dd of="$d" bs=1 seek=1000 conv=notrunc 2>/dev/null &&
	fresh_clone &&
	test_must_fail git -C lazy -c model.storage="$HTTPD_URL/open/models" \
		-c model.retries=1 model fetch 2>err &&
	grep "error: cannot download .dmg.pth. from .*/$doid.*: the bytes do not match\|error: cannot download .dmg.pth. from .*/$doid.*: compressed object" err &&
	grep "1 file(s) have wrong bytes in storage" err &&
	test_path_is_missing "$(obj lazy/.git/model/objects $doid)" &&
	test_path_is_missing lazy/.git/model/incomplete/$doid &&
	cp dmg.gmz "$d.gmz" &&
	rm -f "$d"
'

for n in 0 23 40
do
	test_expect_success "a $n-byte .gmz does not count as there: push replaces it" '
		(
			cd work &&
			test-tool genrandom short$n 50k >short$n.pth &&
			git add short$n.pth &&
			git commit -q -m short$n
		) &&
		soid=$(oid_of work/short$n.pth) &&
		sg=$(obj "$HTTPD_ROOT/open/models" $soid).gmz &&
		mkdir -p "${sg%/*}" &&
		head -c $n /dev/zero >"$sg" &&
		git -C work model status >out &&
		grep "short$n.pth" out &&
		: >"$HTTPD_ACCESS_LOG" &&
		git -C work push -q origin main &&
		httpd_log_wait 1 PUT 204 "/$soid.gmz$" &&
		test-tool zcontainer decode "$sg" raw &&
		test_cmp_bin work/short$n.pth raw
	'
done

test_expect_success 'file:// storage: a .gmz too short to be one is replaced' '
	(
		cd work &&
		git -c model.storage="file://$PWD/../fstore" model push --all origin
	) &&
	soid=$(oid_of work/short23.pth) &&
	sg=$(obj fstore $soid).gmz &&
	test_path_is_file "$sg" &&
	chmod u+w "$sg" &&
	: >"$sg" &&
	(
		cd work &&
		git -c model.storage="file://$PWD/../fstore" model push --all origin
	) &&
	test-tool zcontainer decode "$sg" raw &&
	test_cmp_bin work/short23.pth raw
'

test_expect_success 'a resumed .gmz download still caches tensor hashes that are right' '
	st_model m.safetensors m 4 &&
	cp m.safetensors work/ &&
	(
		cd work &&
		git model track "*.safetensors" &&
		git add .gitattributes m.safetensors &&
		git commit -q -m model &&
		git push -q origin main
	) &&
	moid=$(oid_of work/m.safetensors) &&
	mg=$(obj "$HTTPD_ROOT/open/models" $moid).gmz &&
	test_path_is_file "$mg" &&
	fresh_clone &&
	mkdir -p lazy/.git/model/incomplete &&
	head -c 5000000 work/m.safetensors >lazy/.git/model/incomplete/$moid &&
	from=$(stored_offset "$mg" 5000000) &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch &&
	httpd_log_wait 1 GET 206 "/$moid.gmz$" &&
	grep " GET [^ ]*/$moid.gmz 206 bytes=$from- " "$HTTPD_ACCESS_LOG" &&
	test_path_is_file lazy/.git/model/tensor-hashes/$(echo $moid | cut -c1-2)/$moid &&
	st_spoil "$(obj lazy/.git/model/objects $moid)" 6000000 &&
	st_show_hashes -C lazy model show HEAD:m.safetensors >actual &&
	test_cmp m.safetensors.hashes actual
'

test_expect_success 'a table longer than the first guess: asked for again, whole' '
	(
		cd work &&
		test_seq 1 400000 >small.pth &&
		git add small.pth &&
		git commit -q -m small &&
		git push -q origin main
	) &&
	soid=$(oid_of work/small.pth) &&
	sg=$(obj "$HTTPD_ROOT/open/models" $soid) &&
	rm -f "$sg" "$sg.gmz" &&
	test-tool zcontainer encode --block-size=65536 work/small.pth "$sg.gmz" &&
	test-tool zcontainer table "$sg.gmz" >table &&
	nr=$(wc -l <table) &&
	test "$nr" -gt 2 &&
	fresh_clone &&
	mkdir -p lazy/.git/model/incomplete &&
	head -c 1000000 work/small.pth >lazy/.git/model/incomplete/$soid &&
	from=$(stored_offset "$sg.gmz" 1000000) &&
	: >"$HTTPD_ACCESS_LOG" &&
	git -C lazy -c model.storage="$HTTPD_URL/open/models" model fetch &&
	test_cmp_bin work/small.pth "$(obj lazy/.git/model/objects $soid)" &&
	httpd_log_wait 3 GET 206 "/$soid.gmz$" &&
	grep " GET [^ ]*/$soid.gmz 206 bytes=0-55 " "$HTTPD_ACCESS_LOG" &&
	grep " GET [^ ]*/$soid.gmz 206 bytes=0-$((24 + 16 * nr - 1)) " "$HTTPD_ACCESS_LOG" &&
	grep " GET [^ ]*/$soid.gmz 206 bytes=$from- " "$HTTPD_ACCESS_LOG"
'

test_done
