# lib-fault-proxy.sh: test-tool fault-proxy in front of a test server.
#
#	. "$TEST_DIRECTORY/lib-fault-proxy.sh"
#	start_proxy MODE COUNT [METHOD]   # $PROXY_URL, its log proxy.log
#	                                  # (slowup: $FAULT_PROXY_RATE)
#	stop_proxy
#	fresh_clone                       # lazy/: remote.git, pointers only
#	setup_three_weights               # work/: a, b, c.pth pushed to nginx
#
# The proxy forwards to 127.0.0.1:$FAULT_PROXY_UPSTREAM, nginx's port
# ($HTTPD_PORT) unless the script sets it (the S3 proxy's, for t0097).

start_proxy () {
	rm -f proxy.port proxy.log || return 1
	# Hold none of the script's descriptors (the TAP reader waits on them).
	test-tool fault-proxy --port-file proxy.port \
		--upstream "${FAULT_PROXY_UPSTREAM:-$HTTPD_PORT}" \
		--mode "$1" --count "$2" ${3:+--method "$3"} \
		${FAULT_PROXY_RATE:+--rate "$FAULT_PROXY_RATE"} --log proxy.log \
		</dev/null >/dev/null 2>>proxy.err 3>&- 4>&- 5>&- &
	PROXY_PID=$!
	i=0
	while ! test -s proxy.port
	do
		i=$((i + 1))
		test $i -lt 50 || return 1
		sleep 0.1
	done
	PROXY_URL=http://127.0.0.1:$(cat proxy.port)
}

stop_proxy () {
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	return 0
}

# A clone with pointers only, its store empty: fetch through the proxy.
fresh_clone () {
	rm -rf lazy &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q remote.git lazy
}

# work/ with a.pth, b.pth, c.pth (3, 2, 1 MiB) in HTTP storage under
# $HTTPD_URL/open/models (named in .gitmodel), pushed to remote.git.
setup_three_weights () {
	test_setup_work "$HTTPD_URL/open/models" &&
	(
		cd work &&
		test-tool genrandom a 3m >a.pth &&
		test-tool genrandom b 2m >b.pth &&
		test-tool genrandom c 1m >c.pth &&
		git add . &&
		git commit -q -m weights &&
		git push -q origin main
	)
}
