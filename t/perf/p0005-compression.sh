#!/bin/sh
# Compressed storage (git-model-compression(5)): push and clone of trained
# weights with model.compression none, auto and zstd into a file://
# storage, side by side with `zstd -T0` on the same files.
#
# The data are lib-compression.py's: a small MLP trained a few hundred
# steps, saved as FP32, BF16, FP16 and int8 .safetensors, plus random and
# zlib-compressed bytes; PERF_COMPRESS_SCALE (8; 2 with PERF_QUICK)
# widens the network; PERF_COMPRESS_DATA=<dir> takes the files from a
# directory instead (lib-compression.py make <dir> [SCALE] made them
# before: training takes minutes). For each setting: the bytes in
# storage, the push time, and the time of a clone that smudges every file
# from storage; with nginx installed, the time of a push over HTTP to
# nginx (WebDAV PUT) and of the same clone over HTTP from nginx, at full
# speed and with nginx's limit_rate at PERF_COMPRESS_RATE (8m) per
# connection; and of a push over HTTP with each upload connection held
# to the same rate (test-tool fault-proxy's slowup) and of the clone of
# what it stored; then zstd -T0 at the same
# level (3) on each file, and zstd -T0 -d; last, each file's decoding
# speed on one core, git-model's blocks beside zstd -b3. The storage is
# written with model.file.hardLinks=false, so a raw push is a copy, not
# a link. No targets: numbers only.

. "$(dirname "$0")/perf-lib.sh"

if test -n "$PERF_QUICK"
then
	: "${PERF_COMPRESS_SCALE:=2}"
else
	: "${PERF_COMPRESS_SCALE:=8}"
fi
command -v zstd >/dev/null 2>&1 ||
	perf_die "the zstd command is not installed (apt-get install zstd)"

if test -n "$PERF_COMPRESS_DATA"
then
	mkdir data && cp "$PERF_COMPRESS_DATA"/* data/ ||
		perf_die "cannot copy the test data from '$PERF_COMPRESS_DATA'"
else
	mkdir data &&
	/usr/bin/python3 "$PERF_DIR/../lib-compression.py" make data \
		"$PERF_COMPRESS_SCALE" ||
		perf_die "cannot make the test data (python3-torch)"
fi
raw=$(cat data/* | wc -c)
echo "$perf_name: push and clone with compression, $(perf_human $raw) in" \
	"$(ls data | wc -l) files, scale $PERF_COMPRESS_SCALE (best of $PERF_REPEAT)"
printf '%-22s %12s %8s %9s %9s\n' setting stored ratio push clone

# secs COMMAND...: run it, print its wall time in seconds.
secs () {
	s=$(date +%s.%N) &&
	"$@" >/dev/null 2>&1 &&
	e=$(date +%s.%N) &&
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f\n", e - s }'
}

best () {
	sort -n | head -n 1
}

# best_secs DIR COMMAND...: PERF_REPEAT times, remove DIR and time
# COMMAND, which makes it again; print the best time in seconds.
best_secs () {
	dir=$1 &&
	shift &&
	times= &&
	r=0 &&
	while test $r -lt $PERF_REPEAT
	do
		rm -rf "$dir" &&
		times="$times $(secs "$@")" || return 1
		r=$((r + 1))
	done &&
	echo $times | tr ' ' '\n' | best
}

git init -q --bare remote.git &&
git init -q work &&
(
	cd work &&
	git config model.file.hardLinks false &&
	git model track "*.safetensors" "*.bin" >/dev/null &&
	cp ../data/* . &&
	git add . &&
	git commit -q -m weights &&
	git remote add origin ../remote.git &&
	git push -q origin main
) || perf_die "cannot make the repository"

for mode in none auto zstd
do
	pushes= clones=
	r=0
	while test $r -lt $PERF_REPEAT
	do
		rm -rf "storage-$mode" "clone-$mode" && mkdir "storage-$mode" &&
		sync &&
		pushes="$pushes $(secs git -C work -c model.compression=$mode \
			-c model.storage="file://$PWD/storage-$mode" \
			model push --all origin)" ||
			perf_die "push with model.compression=$mode failed"
		sync &&
		cat $(find "storage-$mode" -type f) >/dev/null &&
		clones="$clones $(secs git -c model.file.hardLinks=false \
			-c model.storage="file://$PWD/storage-$mode" \
			clone -q remote.git "clone-$mode")" ||
			perf_die "clone with model.compression=$mode failed"
		r=$((r + 1))
	done
	for f in data/*
	do
		cmp -s "$f" "clone-$mode/${f#data/}" ||
			perf_die "clone-$mode/${f#data/} differs from $f"
	done
	stored=$(cat $(find "storage-$mode" -type f) | wc -c)
	printf '%-22s %12s %8s %8ss %8ss\n' "model.compression=$mode" \
		"$stored" "$(awk -v r=$raw -v s=$stored 'BEGIN { printf "%.3f", r / s }')" \
		"$(echo $pushes | tr ' ' '\n' | best)" \
		"$(echo $clones | tr ' ' '\n' | best)"
done

# Over HTTP: nginx serves the same storages; clones read them at full
# local speed, then with every connection held to PERF_COMPRESS_RATE
# bytes a second by nginx's limit_rate (the network as the bottleneck;
# git-model runs model.concurrency transfers at once, 8 by default).
: "${PERF_COMPRESS_RATE:=8m}"
nginx=/usr/sbin/nginx
test -x "$nginx" || nginx=$(command -v nginx)
if test -z "$nginx"
then
	echo "no nginx (apt-get install nginx): no HTTP clones"
else
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') &&
	mkdir nginx && {
		test "$(id -u)" != 0 || echo 'user root root;'
		cat <<-EOF
		daemon off;
		worker_processes 2;
		pid "$PWD/nginx/pid";
		error_log "$PWD/nginx/error.log";
		events { worker_connections 64; }
		http {
			access_log off;
			client_body_temp_path "$PWD/nginx/body";
			proxy_temp_path "$PWD/nginx/proxy";
			fastcgi_temp_path "$PWD/nginx/fastcgi";
			uwsgi_temp_path "$PWD/nginx/uwsgi";
			scgi_temp_path "$PWD/nginx/scgi";
			server {
				listen 127.0.0.1:$port;
				location /fast/ { alias "$PWD/"; }
				location /dav/ {
					alias "$PWD/dav/";
					dav_methods PUT;
					create_full_put_path on;
					client_max_body_size 0;
				}
				location /slow/ { alias "$PWD/"; limit_rate $PERF_COMPRESS_RATE; }
			}
		}
		EOF
	} >nginx/nginx.conf || perf_die "cannot write nginx.conf"
	"$nginx" -p "$PWD/nginx/" -c "$PWD/nginx/nginx.conf" \
		</dev/null >nginx/out 2>&1 &
	nginx_pid=$!
	trap 'kill $nginx_pid 2>/dev/null' EXIT
	n=0
	until test -s nginx/pid || test $n -ge 50
	do
		sleep 0.1
		n=$((n + 1))
	done
	test -s nginx/pid || perf_die "nginx did not start: $(cat nginx/out)"
	mkdir dav &&
	echo "push over HTTP (nginx WebDAV PUT); clone over HTTP at full speed and limit_rate $PERF_COMPRESS_RATE per connection" &&
	printf '%-22s %12s %9s %9s %9s\n' setting stored push clone limited
	for mode in none auto zstd
	do
		t=$(best_secs "dav/storage-$mode" \
			git -C work -c model.compression=$mode \
			-c model.storage="http://127.0.0.1:$port/dav/storage-$mode" \
			model push --all origin) ||
			perf_die "push over HTTP with model.compression=$mode failed"
		for where in fast slow
		do
			c=$(best_secs "http-$mode" \
				git -c model.file.hardLinks=false \
				-c model.storage="http://127.0.0.1:$port/$where/storage-$mode" \
				clone -q remote.git "http-$mode") ||
				perf_die "clone over HTTP with model.compression=$mode failed"
			t="$t $c"
			for f in data/*
			do
				cmp -s "$f" "http-$mode/${f#data/}" ||
					perf_die "http-$mode/${f#data/} differs from $f"
			done
		done
		printf '%-22s %12s %8ss %8ss %8ss\n' "model.compression=$mode" \
			"$(cat $(find "dav/storage-$mode" -type f) | wc -c)" $t
	done

	# The same pushes over a slow uplink: test-tool fault-proxy's slowup
	# holds each upload connection to PERF_COMPRESS_RATE in front of
	# nginx (a receive buffer of 64 KiB, so that the bytes wait in
	# git-model's socket as behind a real link); then a clone of what
	# each stored, at limit_rate.
	bytes=$(echo "$PERF_COMPRESS_RATE" | awk '
		/^[0-9]+[kK]$/ { print $0 * 1024; next }
		/^[0-9]+[mM]$/ { print $0 * 1048576; next }
		/^[0-9]+[gG]$/ { print $0 * 1073741824; next }
		/^[0-9]+$/ { print $0; next }') &&
	test -n "$bytes" ||
		perf_die "PERF_COMPRESS_RATE '$PERF_COMPRESS_RATE' is not nginx's <n>[kmg]"
	test-tool fault-proxy --port-file proxy.port --upstream "$port" \
		--mode slowup --count 1000000000 --rate "$bytes" \
		</dev/null >/dev/null 2>proxy.err &
	proxy_pid=$!
	trap 'kill $nginx_pid $proxy_pid 2>/dev/null' EXIT
	n=0
	until test -s proxy.port || test $n -ge 50
	do
		sleep 0.1
		n=$((n + 1))
	done
	test -s proxy.port || perf_die "the proxy did not start: $(cat proxy.err)"
	echo "push over HTTP with uploads held to $PERF_COMPRESS_RATE per connection; clone of what it stored at limit_rate"
	printf '%-22s %12s %9s %9s\n' setting stored push clone
	for mode in none auto zstd
	do
		p=$(best_secs "dav/slow-$mode" \
			git -C work -c model.compression=$mode \
			-c model.storage="http://127.0.0.1:$(cat proxy.port)/dav/slow-$mode" \
			model push --all origin) ||
			perf_die "push over a slow uplink with model.compression=$mode failed"
		c=$(best_secs "slow-$mode" git -c model.file.hardLinks=false \
			-c model.storage="http://127.0.0.1:$port/slow/dav/slow-$mode" \
			clone -q remote.git "slow-$mode") ||
			perf_die "clone of the slow push's storage failed ($mode)"
		for f in data/*
		do
			cmp -s "$f" "slow-$mode/${f#data/}" ||
				perf_die "slow-$mode/${f#data/} differs from $f"
		done
		printf '%-22s %12s %8ss %8ss\n' "model.compression=$mode" \
			"$(cat $(find "dav/slow-$mode" -type f) | wc -c)" "$p" "$c"
	done
	kill $nginx_pid $proxy_pid
	wait $nginx_pid $proxy_pid 2>/dev/null
	trap - EXIT
fi

mkdir zstd-out &&
c=$(secs sh -c 'for f in data/*; do zstd -T0 -3 -q -f "$f" -o "zstd-out/${f#data/}.zst" || exit 1; done') &&
d=$(secs sh -c 'for f in zstd-out/*.zst; do zstd -T0 -d -q -f "$f" -o "${f%.zst}" || exit 1; done') ||
	perf_die "zstd failed"
stored=$(cat zstd-out/*.zst | wc -c)
printf '%-22s %12s %8s %8ss %8ss\n' "zstd -T0 -3 (-d)" "$stored" \
	"$(awk -v r=$raw -v s=$stored 'BEGIN { printf "%.3f", r / s }')" "$c" "$d"

# stored DIR PATH: the bytes of PATH.gmz in DIR, or of PATH with an "r"
# when auto sent it raw (git-model-compression(5), PUSH)
stored () {
	if test -f "$1/$2.gmz"
	then
		wc -c <"$1/$2.gmz"
	else
		echo "$(wc -c <"$1/$2")r"
	fi
}

# zstd_decode FILE: zstd's own decoding speed of FILE at level 3 on one
# core, in memory (zstd -b), MB/s
zstd_decode () {
	zstd -b3 -T1 "$1" 2>&1 | tr '\r' '\n' | grep "MB/s.*MB/s" |
		tail -n 1 | sed -n 's/.*, *\([0-9.]*\) MB\/s *$/\1/p'
}

echo "per file: raw, auto, zstd (model.compression), zstd -T0 -3 (r: sent raw);"
echo "decoding on one core, in memory, MB/s: the zstd setting's blocks (test-tool"
echo "zcontainer speed), zstd -b3's frame"
for f in data/*
do
	o=$(sha256sum <"$f" | cut -d" " -f1)
	p=sha256/$(echo $o | cut -c1-2)/$(echo $o | cut -c3-4)/$o
	printf '  %-20s %10s %10s %10s %10s %7s %7s\n' "${f#data/}" \
		"$(wc -c <"$f")" \
		"$(stored storage-auto $p)" "$(stored storage-zstd $p)" \
		"$(wc -c <"zstd-out/${f#data/}.zst")" \
		"$(test-tool zcontainer speed "storage-zstd/$p.gmz" | cut -d" " -f1)" \
		"$(zstd_decode "$f" | cut -d. -f1)"
done

perf_done
