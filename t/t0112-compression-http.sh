#!/bin/sh

test_description='compressed objects in HTTP storage, against a real nginx

A file:// storage pushed with compression, served by nginx, is cloned
over HTTP: each object storage lacks raw (404) is read as <object>.gmz,
decoded into the raw local store and verified, byte-exact; raw and
compressed objects mix. A push over WebDAV PUT with model.compression
uploads <object>.gmz; either form counts as already there, and an object
storage holds raw is not uploaded again. A hostile compressed object
fails the download with one line and stores nothing.'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses
. "$TEST_DIRECTORY/lib-httpd.sh"

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

start_httpd

size () {
	wc -c <"$1" | tr -d " "
}

# bytes_sent of the GET requests answered STATUS whose URI matches REGEX
get_bytes () {
	awk -v s="$1" -v re="$2" '$3 == "GET" && $5 == s && $4 ~ re { n += $7 }
		END { print n + 0 }' "$HTTPD_ACCESS_LOG"
}

test_expect_success 'setup: models in every dtype, pushed compressed to file://' '
	git model install &&
	mkdir data &&
	$PYTHON "$TEST_DIRECTORY/lib-compression.py" make data &&
	git init -q --bare remote.git &&
	git init -q work &&
	git -C work config model.storage "file://$HTTPD_ROOT/auth/fstore" &&
	git -C work config model.compression auto &&
	(
		cd work &&
		git model track "*.safetensors" "*.bin" &&
		cp ../data/* . &&
		git add . &&
		git commit -q -m models &&
		git remote add origin ../remote.git &&
		git push -q origin main
	) &&
	for f in data/*
	do
		o=$(obj "$HTTPD_ROOT/auth/fstore" $(oid_of $f)) &&
		test_path_is_file "$o.gmz" &&
		test_path_is_missing "$o" || return 1
	done
'

test_expect_success 'clone over HTTP decodes <object>.gmz byte-exact' '
	: >"$HTTPD_ACCESS_LOG" &&
	git clone -q -c model.storage="$HTTPD_URL/anon/fstore" remote.git clone &&
	for f in data/*
	do
		test_cmp_bin $f clone/${f#data/} || return 1
	done &&
	httpd_log_wait 8 GET 200 "\.gmz$" &&
	test "$(httpd_log_count GET 200 "/[0-9a-f]{64}$")" = 0
'

test_expect_success 'fewer bytes came over the wire than the raw objects hold' '
	raw=0 &&
	for f in data/*
	do
		raw=$((raw + $(size $f))) || return 1
	done &&
	sent=$(get_bytes 200 "\.gmz$") &&
	say "clone over HTTP: $sent bytes compressed for $raw raw" &&
	test $((sent * 11)) -le $((raw * 10))
'

test_expect_success 'raw objects mix with compressed ones' '
	(
		cd work &&
		test-tool genrandom raw1 100k >raw1.bin &&
		git add raw1.bin &&
		git commit -q -m raw1 &&
		git -c model.compression=none push -q origin main
	) &&
	o=$(obj "$HTTPD_ROOT/auth/fstore" $(oid_of work/raw1.bin)) &&
	test_path_is_file "$o" &&
	test_path_is_missing "$o.gmz" &&
	git clone -q -c model.storage="$HTTPD_URL/anon/fstore" remote.git clone2 &&
	test_cmp_bin work/raw1.bin clone2/raw1.bin &&
	test_cmp_bin data/bf16.safetensors clone2/bf16.safetensors &&
	test_cmp_bin data/random.bin clone2/random.bin
'

test_expect_success 'status and push -n over HTTP count either form as there' '
	git -C clone2 config model.storage "$HTTPD_URL/anon/fstore" &&
	git -C clone2 model status >out &&
	sed -n 2p out >line &&
	printf "\t(none)\n" >expect &&
	test_cmp expect line
'

test_expect_success 'an object in neither form: 404 names the object' '
	(
		cd work &&
		test-tool genrandom gone 10k >gone.bin &&
		git add gone.bin &&
		git commit -q -m gone &&
		git push -q origin main
	) &&
	oid=$(oid_of work/gone.bin) &&
	git clone -q -n -c model.storage="$HTTPD_URL/anon/fstore" remote.git clone4 &&
	rm -f "$(obj "$HTTPD_ROOT/auth/fstore" $oid).gmz" "$(obj "$HTTPD_ROOT/auth/fstore" $oid)" &&
	test_must_fail git -C clone4 model fetch 2>err &&
	grep "cannot download .gone.bin. from .*/$oid.: 404 Not Found" err &&
	grep "1 file(s) are not in storage" err &&
	git -C work model push --all origin
'

test_expect_success 'a truncated compressed object stores nothing, one line' '
	oid=$(oid_of data/f16.safetensors) &&
	o=$(obj "$HTTPD_ROOT/auth/fstore" $oid) &&
	chmod u+w "$o.gmz" &&
	cp "$o.gmz" good.gmz &&
	head -c 1000 good.gmz >"$o.gmz" &&
	git clone -q -n -c model.storage="$HTTPD_URL/anon/fstore" remote.git clone3 &&
	test_must_fail git -C clone3 model fetch 2>err &&
	grep "f16.safetensors.*$oid.gmz.: compressed object: truncated in block 1 of 2 (1000 of .*nothing was stored" err &&
	grep -c "compressed object" err >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	test_path_is_missing "$(obj clone3/.git/model/objects $oid)" &&
	test_path_is_missing clone3/.git/model/incomplete/$oid
'

test_expect_success 'a compressed object of other content stores nothing' '
	oid=$(oid_of data/f16.safetensors) &&
	o=$(obj "$HTTPD_ROOT/auth/fstore" $oid) &&
	p=$(obj "$HTTPD_ROOT/auth/fstore" $(oid_of data/bf16.safetensors)) &&
	cp "$p.gmz" "$o.gmz" &&
	test_must_fail git -C clone3 model fetch 2>err &&
	grep "f16.safetensors.*nothing was stored" err &&
	test_path_is_missing "$(obj clone3/.git/model/objects $oid)" &&
	cp good.gmz "$o.gmz" &&
	git -C clone3 model fetch &&
	test_cmp_bin data/f16.safetensors "$(obj clone3/.git/model/objects $oid)"
'

test_expect_success 'a container that claims more than the pointer stores nothing' '
	oid=$(oid_of data/int8.safetensors) &&
	o=$(obj "$HTTPD_ROOT/auth/fstore" $oid) &&
	chmod u+w "$o.gmz" &&
	cp "$o.gmz" good8.gmz &&
	cp "$(obj "$HTTPD_ROOT/auth/fstore" $(oid_of data/f32.bin)).gmz" "$o.gmz" &&
	git clone -q -n -c model.storage="$HTTPD_URL/anon/fstore" remote.git clone5 &&
	test_must_fail git -C clone5 model fetch 2>err &&
	grep "int8.safetensors.*compressed object: .*nothing was stored" err &&
	test_path_is_missing "$(obj clone5/.git/model/objects $oid)" &&
	cp good8.gmz "$o.gmz"
'

test_expect_success 'setup: WebDAV storage with credentials' '
	git config --global credential.helper store &&
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" >"$HOME/.git-credentials" &&
	git init -q --bare dav.git &&
	git init -q dav &&
	(
		cd dav &&
		git model track "*.safetensors" "*.bin" &&
		git config model.storage "$HTTPD_URL/auth/dav" &&
		git config model.compression auto &&
		cp ../data/* . &&
		git add . &&
		git commit -q -m models &&
		git remote add origin ../dav.git
	)
'

test_expect_success 'push over WebDAV uploads <object>.gmz, none raw' '
	: >"$HTTPD_ACCESS_LOG" &&
	git -C dav push -q origin main &&
	for f in data/*
	do
		o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of $f)) &&
		test_path_is_file "$o.gmz" &&
		test_path_is_missing "$o" || return 1
	done &&
	httpd_log_wait 8 PUT 201 "\.gmz$" &&
	test "$(httpd_log_count PUT 201 "/[0-9a-f]{64}$")" = 0 &&
	o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of data/bf16.safetensors)) &&
	test $(($(size "$o.gmz") * 13)) -le $(($(size data/bf16.safetensors) * 10))
'

test_expect_success 'the uploaded containers decode to the objects' '
	for f in data/*
	do
		o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of $f)) &&
		test-tool zcontainer decode "$o.gmz" raw &&
		test_cmp_bin $f raw || return 1
	done
'

test_expect_success 'a second push finds them there' '
	test_terminal "git -C dav model push --all origin" >err &&
	grep "uploaded 0 object(s) to .*, 8 already there" err
'

test_expect_success 'clone over HTTP with credentials reads them' '
	git clone -q -c model.storage="$HTTPD_URL/auth/dav" dav.git davclone &&
	for f in data/*
	do
		test_cmp_bin $f davclone/${f#data/} || return 1
	done
'

test_expect_success 'an object storage holds raw is not uploaded again compressed' '
	(
		cd dav &&
		test-tool genrandom raw2 100k >raw2.bin &&
		git add raw2.bin &&
		git commit -q -m raw2 &&
		git -c model.compression=none push -q origin main
	) &&
	o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of dav/raw2.bin)) &&
	test_path_is_file "$o" &&
	: >"$HTTPD_ACCESS_LOG" &&
	test_terminal "git -C dav model push --all origin" >err &&
	grep "uploaded 0 object(s) to .*, 9 already there" err &&
	test_path_is_missing "$o.gmz" &&
	test "$(httpd_log_count PUT 201)" = 0
'

test_expect_success 'a damaged raw object is replaced raw, not hidden by a .gmz' '
	(
		cd dav &&
		test-tool genrandom raw3 50k >raw3.bin &&
		git add raw3.bin &&
		git commit -q -m raw3 &&
		git -c model.compression=none push -q origin main
	) &&
	o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of dav/raw3.bin)) &&
	chmod u+w "$o" &&
	head -c 100 dav/raw3.bin >"$o" &&
	git -C dav model push --all origin &&
	test_cmp_bin dav/raw3.bin "$o" &&
	test_path_is_missing "$o.gmz"
'

test_expect_success 'ls-files --size: the bytes and form storage holds' '
	git -C dav model ls-files --size >out &&
	o=$(obj "$HTTPD_ROOT/auth/dav" $(oid_of data/bf16.safetensors)) &&
	kib=$(awk -v n=$(size "$o.gmz") "BEGIN { printf \"%.2f KiB\", n / 1024 }") &&
	grep "^$(oid_of data/bf16.safetensors | cut -c1-10) \* 201.47 KiB *$kib gmz  bf16.safetensors$" out &&
	grep " 100.00 KiB 100.00 KiB raw  raw2.bin$" out
'

test_expect_success 'ls-files --size: an object storage lacks is "-"' '
	(
		cd dav &&
		test-tool genrandom new 2k >new.bin &&
		git add new.bin &&
		git commit -q -m new
	) &&
	git -C dav model ls-files --size >out &&
	grep "^[0-9a-f]* \*   2.00 KiB          -      new.bin$" out &&
	git -C dav model ls-files >out &&
	grep "^[0-9a-f]* \*   2.00 KiB  new.bin$" out
'

test_expect_success 'url names the raw form; --check the form storage holds' '
	oid=$(oid_of data/f16.safetensors) &&
	git -C dav model url f16.safetensors >url &&
	echo "$HTTPD_URL/auth/dav/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" >expect &&
	test_cmp expect url &&
	git -C dav model url --check f16.safetensors >url &&
	echo "$(cat expect).gmz" >expect.gmz &&
	test_cmp expect.gmz url &&
	oid=$(oid_of dav/raw2.bin) &&
	git -C dav model url --check raw2.bin >url &&
	echo "$HTTPD_URL/auth/dav/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" >expect &&
	test_cmp expect url &&
	test_must_fail git -C dav model url --check new.bin 2>err &&
	grep "error: .new.bin. is in neither form in storage" err
'

test_expect_success 'ulimit -f during a compressed download: the error says why, nothing stored' '
	(
		cd dav &&
		test_seq 1 300000 >big.bin &&
		git add big.bin &&
		git commit -q -m big &&
		git push -q origin main
	) &&
	oid=$(oid_of dav/big.bin) &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/dav" $oid).gmz" &&
	git clone -q -n -c model.storage="$HTTPD_URL/auth/dav" dav.git davbig &&
	(
		# 1024 blocks: 512 KiB or 1 MiB, whichever unit the shell uses
		ulimit -f 1024 &&
		test_must_fail git -C davbig -c model.retries=0 model fetch 2>err.ulimit
	) &&
	cat err.ulimit &&
	grep "cannot download .big.bin. from .*$oid.gmz.: cannot write .*: File too large" err.ulimit &&
	test_path_is_missing "$(obj davbig/.git/model/objects $oid)" &&
	test_path_is_missing davbig/.git/model/incomplete/$oid &&
	git -C davbig model fetch &&
	test_cmp_bin dav/big.bin "$(obj davbig/.git/model/objects $oid)"
'

test_done
