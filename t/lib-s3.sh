# lib-s3.sh: an S3 server for the S3 storage tests: s3rver (a Node.js
# S3 emulator) behind sigv4-proxy.js, which checks every request's AWS
# Signature Version 4 (s3rver itself does not). Source it after
# test-lib.sh and start the servers at the top level of the script, not in
# a test body:
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$TEST_DIRECTORY/lib-s3.sh"
#	start_s3 models
#	test_expect_success 'push to S3' '
#		git config model.storage "s3://models/..." && ...
#	'
#	test_done
#
# The Node modules live in t/s3/node_modules: "npm ci --prefix t/s3"
# installs the versions pinned in t/s3/package-lock.json (s3rver 3.7.1,
# aws4 1.13.2). start_s3 skips the script when node or those modules are
# missing (fails it under CI=true).
#
# start_s3 [BUCKET...] runs, with their files under "$TRASH_DIRECTORY/s3":
#
#   s3rver on 127.0.0.1 (its data in $S3_DATA, BUCKETs made at start), with
#	t/s3/s3rver-preload.js, which adds the keys below to s3rver's one
#	(S3RVER/S3RVER: s3rver refuses any other key), makes PutObject and
#	UploadPart atomic (an upload cut short leaves nothing, as on S3; in
#	s3rver alone it leaves a cut object) and makes multipart uploads
#	behave as on S3 (AbortMultipartUpload, ListMultipartUploads in pages
#	of at most $S3RVER_MAX_UPLOADS, NoSuchUpload, InvalidPart,
#	EntityTooSmall for a part but the last under 5 MiB, ...; see the file),
#	and node's --openssl-legacy-provider where node takes it: s3rver
#	DES-encrypts the continuation token of a ListObjectsV2 page, and
#	OpenSSL 3 has DES only in its legacy provider (without it a listing
#	of more than one page is a 500)
#   sigv4-proxy.js in front of it, which refuses a request whose signature
#	is missing (403 AccessDenied), wrong or malformed (403
#	SignatureDoesNotMatch), for an unknown key (403 InvalidAccessKeyId),
#	or without x-amz-content-sha256 (403 SignatureDoesNotMatch), and
#	aborts an upload whose body does not have the SHA-256 in
#	x-amz-content-sha256 (400 XAmzContentSHA256Mismatch, nothing stored);
#	see the top of t/s3/sigv4-proxy.js
#
# and exports:
#
#	S3_ENDPOINT		http://127.0.0.1:$S3_PORT, the proxy: what the
#				client under test talks to (path-style:
#				$S3_ENDPOINT/BUCKET/KEY)
#	S3_DIRECT_ENDPOINT	http://127.0.0.1:$S3_DIRECT_PORT, s3rver
#				itself: no signature check, anonymous requests
#				allowed (for checking behind the client's back)
#	S3_REGION		us-east-1 (s3rver takes any region)
#	S3_REGIONS		"BUCKET REGION" lines: the proxy answers a
#				request to BUCKET signed for another region
#				with S3's AuthorizationHeaderMalformed
#				"expecting 'REGION'" and the header
#				x-amz-bucket-region: REGION (none by default);
#				"BUCKET REGION 301": with 301
#				PermanentRedirect instead
#	S3_DELAYS		"METHOD REGEX MS" lines: the proxy holds the
#				answer to a METHOD request whose path?query
#				matches REGEX for MS ms after s3rver gave it
#				(none by default)
#	S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
#				S3RVER and S3RVER, s3rver's own key
#	S3_OTHER_ACCESS_KEY_ID, S3_OTHER_SECRET_ACCESS_KEY
#				AKIDTEST and secret-test-value, a second key
#				(working end to end thanks to the preload)
#	S3_TOKEN_ACCESS_KEY_ID, S3_TOKEN_SECRET_ACCESS_KEY, S3_SESSION_TOKEN
#				ASIATEST, a key that the proxy accepts only
#				with x-amz-security-token: S3_SESSION_TOKEN
#				(403 InvalidToken otherwise), as for STS keys
#	S3_CREDENTIALS		the file with the "KEY SECRET [TOKEN]" lines, read
#				by the proxy at each request
#	S3_DATA			s3rver's directory; an object's bytes are in
#				"$(s3_object_path BUCKET KEY)"
#	S3_PROXY_LOG		the proxy's log, one line per request:
#	  <start-ms> <end-ms> <method> <path?query> <status> sig=<ok|bad|missing> body=<ok|bad|unsigned|->
#	  1712345678123 1712345678130 PUT /models/a/b 200 sig=ok body=ok
#				start-ms is when the request's headers had come,
#				end-ms when the response ended (ms since the
#				epoch); path?query is as sent; status is "-"
#				when no response was sent (the client went
#				away); body=ok/bad: the body was checked against
#				x-amz-content-sha256, unsigned: UNSIGNED-PAYLOAD,
#				-: not looked at. The line is written before the
#				response's last byte, so a client that has its
#				whole response finds it.
#	S3RVER_PID, S3_PROXY_PID	the two node processes
#
# start_aws_doubles (after start_s3) runs t/s3/aws-doubles.js: test
# doubles on 127.0.0.1 for what s3rver lacks, STS, the container
# credentials endpoint and EC2 instance metadata (IMDSv2), handing out
# keys the proxy accepts (see the top of that file), and exports
#
#	AWS_DOUBLES		http://127.0.0.1:$PORT: STS at "/", the
#				container endpoint at "/container/credentials",
#				IMDS under "/latest/"
#	AWS_DOUBLES_LOG		one line per request (see the file)
#	AWS_DOUBLES_SETTINGS	its JSON settings, read at each request
#
# Functions: start_s3, stop_s3 (idempotent; start_s3 again keeps the
# ports, the keys and the data), s3_create_bucket NAME, s3_curl ARGS...
# (curl signing with S3_ACCESS_KEY_ID), s3_object_path BUCKET KEY,
# s3_log_count METHOD STATUS [REGEX], s3_log_wait COUNT METHOD STATUS
# [REGEX] and s3_max_overlap METHOD [REGEX] (see each one below).
#
# A signed request with curl (7.75 or later; 7.88 here):
#
#	curl --aws-sigv4 "aws:amz:$S3_REGION:s3" \
#		--user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
#		-H "x-amz-content-sha256: $(sha256sum <file | cut -d" " -f1)" \
#		-T file "$S3_ENDPOINT/bucket/key"
#
# curl adds no x-amz-content-sha256 itself (give the body's SHA-256, the
# empty string's for a request without body, or UNSIGNED-PAYLOAD), and
# signs the query as written: give the parameters sorted, each with "="
# ("?uploads=", "?partNumber=1&uploadId=ID").
#
# The node processes are children of the script's shell: a bare "wait" in
# a test would wait for them forever; wait for the PIDs you started.
#
# They are stopped however the script ends, as nginx is in lib-httpd.sh
# (the two libraries can be used together): a chained EXIT trap covers a
# body calling exit, a signal and a bail out; test_atexit (test-lib.sh)
# is for test_done; and a watchdog process, which stops them at most
# a second after the script's shell is gone, covers the rest.

S3_DIR="$TRASH_DIRECTORY/s3"
S3_DATA="$S3_DIR/data"
S3_CREDENTIALS="$S3_DIR/credentials"
S3_PROXY_LOG="$S3_DIR/proxy.log"
S3_REGIONS="$S3_DIR/regions"
S3_DELAYS="$S3_DIR/delays"
S3_REGION=us-east-1
S3_ACCESS_KEY_ID=S3RVER S3_SECRET_ACCESS_KEY=S3RVER
S3_OTHER_ACCESS_KEY_ID=AKIDTEST S3_OTHER_SECRET_ACCESS_KEY=secret-test-value
S3_TOKEN_ACCESS_KEY_ID=ASIATEST S3_TOKEN_SECRET_ACCESS_KEY=secret-of-the-session
S3_SESSION_TOKEN=token-of-the-session
# Not inherited from a script that runs this one.
S3_PORT= S3_DIRECT_PORT= S3_ENDPOINT= S3_DIRECT_ENDPOINT= S3RVER_PID= \
	S3_PROXY_PID= S3_WATCHDOG_PID_= AWS_DOUBLES= AWS_DOUBLES_PID=
export S3_DATA S3_CREDENTIALS S3_PROXY_LOG S3_REGIONS S3_DELAYS S3_REGION S3_ACCESS_KEY_ID \
	S3_SECRET_ACCESS_KEY S3_OTHER_ACCESS_KEY_ID S3_OTHER_SECRET_ACCESS_KEY \
	S3_TOKEN_ACCESS_KEY_ID S3_TOKEN_SECRET_ACCESS_KEY S3_SESSION_TOKEN
S3_MODULES_="$TEST_DIRECTORY/s3/node_modules"

test_atexit stop_s3

# s3_start_failed_ WHAT: say why and show the servers' messages, then exit
# (the EXIT trap stops what runs).
s3_start_failed_ () {
	echo >&4 "start_s3: $1; the servers' messages:"
	cat "$S3_DIR/s3rver.out" "$S3_DIR/proxy.err" "$S3_DIR/doubles.err" >&4 2>/dev/null
	exit 1
}

# Start the servers (see the top of this file).
start_s3 () {
	test -z "$S3RVER_PID$S3_PROXY_PID" || BUG "start_s3: already running"
	s3_node_=$(command -v node 2>/dev/null)
	if test -z "$s3_node_"
	then
		test_env_require_ci_service s3rver \
			"node is not installed (apt-get install nodejs npm; npm ci --prefix t/s3)"
	fi
	if ! test -f "$S3_MODULES_/s3rver/bin/s3rver.js" ||
	   ! test -f "$S3_MODULES_/aws4/aws4.js"
	then
		test_env_require_ci_service s3rver \
			"t/s3/node_modules is missing (npm ci --prefix t/s3)"
	fi
	mkdir -p "$S3_DATA" &&
	{
		printf '%s %s\n' "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" \
			"$S3_OTHER_ACCESS_KEY_ID" "$S3_OTHER_SECRET_ACCESS_KEY" &&
		printf '%s %s %s\n' "$S3_TOKEN_ACCESS_KEY_ID" \
			"$S3_TOKEN_SECRET_ACCESS_KEY" "$S3_SESSION_TOKEN"
	} >"$S3_CREDENTIALS" &&
	rm -f "$S3_DIR/proxy.port" "$S3_DIR/pids" &&
	: >"$S3_DIR/s3rver.out" &&
	: >>"$S3_PROXY_LOG" ||
	BUG "start_s3: cannot write in '$S3_DIR'"

	# s3rver's ListObjectsV2 pages need DES (see the top of this file).
	s3_legacy_=
	if NODE_OPTIONS= "$s3_node_" --openssl-legacy-provider -e \
		"require('crypto').createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8))" \
		</dev/null >/dev/null 2>&1 3>&- 4>&- 5>&-
	then
		s3_legacy_=--openssl-legacy-provider
	fi

	# Port 0 the first time: s3rver says which port it got.
	set -- $(for s3_b_
		do
			printf ' --configure-bucket %s' "$s3_b_"
		done)
	# Hold none of the script's descriptors: the TAP reader waits for
	# every holder of stdout to close it.
	NODE_OPTIONS= S3RVER_CREDENTIALS=$S3_CREDENTIALS "$s3_node_" \
		$s3_legacy_ --require "$TEST_DIRECTORY/s3/s3rver-preload.js" \
		"$S3_MODULES_/s3rver/bin/s3rver.js" \
		--directory "$S3_DATA" --address 127.0.0.1 \
		--port "${S3_DIRECT_PORT:-0}" --silent "$@" \
		</dev/null >>"$S3_DIR/s3rver.out" 2>&1 3>&- 4>&- 5>&- &
	S3RVER_PID=$!
	echo "$S3RVER_PID" >>"$S3_DIR/pids"
	export S3RVER_PID
	trap 'test_atexit_exit_trap_' EXIT

	# The watchdog: stops the servers once this shell is gone, whatever
	# killed it ($$ is this shell's PID, also in the subshell).
	(
		while kill -0 $$ 2>/dev/null
		do
			sleep 1
		done
		for s3_p_ in $(cat "$S3_DIR/pids" 2>/dev/null)
		do
			test_process_kill "$s3_p_"
		done
	) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
	S3_WATCHDOG_PID_=$!

	s3_i_=0
	while :
	do
		s3_port_=$(sed -n 's/^S3rver listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
			"$S3_DIR/s3rver.out")
		test -n "$s3_port_" && break
		test_process_alive "$S3RVER_PID" || s3_start_failed_ "s3rver exited"
		test $s3_i_ -lt 150 ||
		s3_start_failed_ "s3rver did not listen within 15 s"
		sleep 0.1
		s3_i_=$((s3_i_ + 1))
	done
	S3_DIRECT_PORT=$s3_port_
	S3_DIRECT_ENDPOINT=http://127.0.0.1:$S3_DIRECT_PORT

	NODE_OPTIONS= "$s3_node_" "$TEST_DIRECTORY/s3/sigv4-proxy.js" \
		--upstream "$S3_DIRECT_PORT" --credentials "$S3_CREDENTIALS" \
		--port "${S3_PORT:-0}" --port-file "$S3_DIR/proxy.port" \
		--log "$S3_PROXY_LOG" --regions "$S3_REGIONS" \
		--delays "$S3_DELAYS" \
		</dev/null >>"$S3_DIR/proxy.err" 2>&1 3>&- 4>&- 5>&- &
	S3_PROXY_PID=$!
	echo "$S3_PROXY_PID" >>"$S3_DIR/pids"
	export S3_PROXY_PID

	s3_i_=0
	# The proxy writes its port (atomically) once it listens.
	until test -s "$S3_DIR/proxy.port"
	do
		test_process_alive "$S3_PROXY_PID" || s3_start_failed_ "sigv4-proxy.js exited"
		test $s3_i_ -lt 150 ||
		s3_start_failed_ "sigv4-proxy.js did not listen within 15 s"
		sleep 0.1
		s3_i_=$((s3_i_ + 1))
	done
	S3_PORT=$(cat "$S3_DIR/proxy.port")
	S3_ENDPOINT=http://127.0.0.1:$S3_PORT
	export S3_PORT S3_ENDPOINT S3_DIRECT_PORT S3_DIRECT_ENDPOINT
}

# Start aws-doubles.js (see the top of this file).
start_aws_doubles () {
	test -n "$S3_PROXY_PID" || BUG "start_aws_doubles: start_s3 first"
	AWS_DOUBLES_LOG="$S3_DIR/doubles.log"
	AWS_DOUBLES_SETTINGS="$S3_DIR/doubles.json"
	rm -f "$S3_DIR/doubles.port" &&
	: >>"$AWS_DOUBLES_LOG" ||
	BUG "start_aws_doubles: cannot write in '$S3_DIR'"
	NODE_OPTIONS= NODE_PATH="$S3_MODULES_" "$s3_node_" \
		"$TEST_DIRECTORY/s3/aws-doubles.js" \
		--credentials "$S3_CREDENTIALS" \
		--settings "$AWS_DOUBLES_SETTINGS" \
		--port-file "$S3_DIR/doubles.port" --log "$AWS_DOUBLES_LOG" \
		</dev/null >>"$S3_DIR/doubles.err" 2>&1 3>&- 4>&- 5>&- &
	AWS_DOUBLES_PID=$!
	echo "$AWS_DOUBLES_PID" >>"$S3_DIR/pids"
	s3_i_=0
	until test -s "$S3_DIR/doubles.port"
	do
		test_process_alive "$AWS_DOUBLES_PID" ||
		s3_start_failed_ "aws-doubles.js exited"
		test $s3_i_ -lt 150 ||
		s3_start_failed_ "aws-doubles.js did not listen within 15 s"
		sleep 0.1
		s3_i_=$((s3_i_ + 1))
	done
	AWS_DOUBLES=http://127.0.0.1:$(cat "$S3_DIR/doubles.port")
	export AWS_DOUBLES AWS_DOUBLES_LOG AWS_DOUBLES_SETTINGS AWS_DOUBLES_PID
}

# Stop both servers and the watchdog; nothing to do if none runs.
stop_s3 () {
	test -n "$S3RVER_PID$S3_PROXY_PID$S3_WATCHDOG_PID_" || return 0
	for s3_p_ in $AWS_DOUBLES_PID $S3_PROXY_PID $S3RVER_PID
	do
		test_process_kill "$s3_p_"
		wait "$s3_p_" 2>/dev/null
	done
	if test -n "$S3_WATCHDOG_PID_"
	then
		kill "$S3_WATCHDOG_PID_" 2>/dev/null
		wait "$S3_WATCHDOG_PID_" 2>/dev/null
	fi
	S3RVER_PID= S3_PROXY_PID= S3_WATCHDOG_PID_= AWS_DOUBLES_PID=
	rm -f "$S3_DIR/pids"
	return 0
}

# s3_curl ARGS...: curl, signing with S3_ACCESS_KEY_ID (add the
# x-amz-content-sha256 header yourself, see the top of this file).
s3_curl () {
	curl -s --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" "$@"
}

# s3_create_bucket NAME: a signed CreateBucket through the proxy (s3rver
# keeps a bucket as a directory of $S3_DATA).
s3_create_bucket () {
	test $# = 1 || BUG "usage: s3_create_bucket NAME"
	s3_status_=$(s3_curl -o "$S3_DIR/create-bucket.out" -w '%{http_code}' \
		-X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		"$S3_ENDPOINT/$1") &&
	test "$s3_status_" = 200 && return 0
	echo >&4 "s3_create_bucket $1: HTTP ${s3_status_:-error}"
	cat >&4 "$S3_DIR/create-bucket.out" 2>/dev/null
	return 1
}

# s3_use_keys: the servers' keys in AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, exported.
s3_use_keys () {
	AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID &&
	AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY &&
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

# s3_key PREFIX OID: the key of OID's object under PREFIX.
s3_key () {
	echo "$1/sha256/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-4)/$2"
}

# s3_setup_work URL ENDPOINT: test_setup_work URL, and model.s3.endpoint
# ENDPOINT in work/.gitmodel and in the global config (AWS keys go only to
# an endpoint you name).
s3_setup_work () {
	test_setup_work "$1" &&
	git -C work config -f .gitmodel model.s3.endpoint "$2" &&
	git config --global model.s3.endpoint "$2"
}

# s3_object_path BUCKET KEY: the file holding the object's bytes in s3rver.
s3_object_path () {
	test $# = 2 || BUG "usage: s3_object_path BUCKET KEY"
	echo "$S3_DATA/$1/$2._S3rver_object"
}

# s3_log_count METHOD STATUS [REGEX]: how many requests in the proxy's log
# have this method and status (and a path?query matching the extended
# regular expression, anchored at neither end). STATUS "-": no response.
s3_log_count () {
	test_log_count "$S3_PROXY_LOG" "$@"
}

# s3_log_wait COUNT METHOD STATUS [REGEX]: wait up to 5 s until
# s3_log_count says COUNT or more (a request whose client went away is
# logged when the proxy notices).
s3_log_wait () {
	test_log_wait "$S3_PROXY_LOG" "$@"
}

# s3_max_overlap METHOD [REGEX]: the most METHOD requests (with a
# path?query matching REGEX) that were in flight at once, each from its
# start-ms to its end-ms (one ending when another starts does not overlap
# it). 0 if there were none.
s3_max_overlap () {
	test $# = 1 || test $# = 2 || BUG "usage: s3_max_overlap METHOD [REGEX]"
	test_log_max_overlap "$S3_PROXY_LOG" start-end "$@"
}
