# lib-lfs.sh: a Git LFS server for the tests, t/lfs/lfs-server.py (the
# batch API with the basic transfer adapter; the top of that file says
# exactly what it serves). Source it after test-lib.sh and start the
# server at the top level of the script, not in a test body:
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$TEST_DIRECTORY/lib-lfs.sh"
#	start_lfs
#	test_expect_success 'git lfs push' '
#		git config lfs.url "$LFS_URL/repo.git/info/lfs" && ...
#	'
#	test_done
#
# start_lfs skips the script when python3 is missing (fails it under
# CI=true), then runs the server on a free port of 127.0.0.1 with every
# file it writes under "$TRASH_DIRECTORY/lfs", and exports:
#
#	LFS_PORT, LFS_URL	the port and http://127.0.0.1:$LFS_PORT; the
#			LFS endpoint of a remote http://127.0.0.1:PORT/r.git
#			is $LFS_URL/r.git/info/lfs
#	LFS_USER, LFS_PASSWORD	the one account (Basic auth); the password
#			is a distinctive string ("lfs-<hex>-secret") so a test
#			can grep any output for a leak
#	LFS_TOKENS	the file of tokens accepted as "Authorization:
#			RemoteAuth TOKEN" (empty at start)
#	LFS_CONFIG	the server's JSON configuration, read at each
#			request (absent at start: the defaults); lfs_config
#			writes it
#	LFS_ROOT	where the objects are; lfs_object_path gives one's file
#	LFS_LOG	the request log, one line per request:
#	  <start-ms> <end-ms> <method> <path> <status> <user> <detail>
#			(see t/lfs/lfs-server.py), read with lfs_log_count and
#			lfs_log_wait
#	LFS_PID	the server's process
#	LFS_GIT_ROOT	where the bare git repositories it serves over
#			smart HTTP are: $LFS_GIT_ROOT/r.git is the remote
#			$LFS_URL/r.git, whose LFS endpoint is
#			$LFS_URL/r.git/info/lfs (no credentials for git)
#
# Functions: lfs_require_git_lfs, start_lfs, stop_lfs (idempotent; start_lfs again keeps the
# port, the password and the objects), lfs_config JSON, lfs_object_path
# PREFIX OID, lfs_credentials (a credential helper with the account for
# the server, in the global git config), lfs_log_count METHOD STATUS
# [PATH-REGEX] and lfs_log_wait COUNT METHOD STATUS [PATH-REGEX].
#
# The server is a child of the script's shell: a bare "wait" in a test
# would wait for it forever; wait for the PIDs you started. It is stopped
# however the script ends (test_atexit in test-lib.sh), and by
# a watchdog at most a second after the script's shell is gone.

LFS_DIR="$TRASH_DIRECTORY/lfs"
LFS_ROOT="$LFS_DIR/objects"
LFS_LOG="$LFS_DIR/requests.log"
LFS_CONFIG="$LFS_DIR/config.json"
LFS_TOKENS="$LFS_DIR/tokens"
LFS_GIT_ROOT="$LFS_DIR/git"
LFS_USER=lfsuser
# Not inherited from a script that runs this one.
LFS_PORT= LFS_URL= LFS_PASSWORD= LFS_PID= LFS_WATCHDOG_PID_=
export LFS_ROOT LFS_LOG LFS_CONFIG LFS_TOKENS LFS_USER LFS_GIT_ROOT

test_atexit stop_lfs

# lfs_require_git_lfs: skip the script when Debian's git-lfs is missing
# (fail it under CI=true).
lfs_require_git_lfs () {
	git lfs version >/dev/null 2>&1 ||
	test_env_require_ci_service git-lfs \
		"git-lfs is not installed (apt-get install git-lfs)"
}

start_lfs () {
	test -z "$LFS_PID" || BUG "start_lfs: already running"
	if ! command -v python3 >/dev/null 2>&1
	then
		test_env_require_ci_service "python3" \
			"python3 is not installed (apt-get install python3)"
	fi
	if test -z "$LFS_PASSWORD"
	then
		LFS_PASSWORD=lfs-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-secret
	fi
	mkdir -p "$LFS_ROOT" "$LFS_GIT_ROOT" &&
	printf '%s\n' "$LFS_PASSWORD" >"$LFS_DIR/password" &&
	: >>"$LFS_TOKENS" &&
	: >>"$LFS_LOG" &&
	rm -f "$LFS_DIR/port" ||
	BUG "start_lfs: cannot write in '$LFS_DIR'"

	# Hold none of the script's descriptors: the TAP reader waits for
	# every holder of stdout to close it.
	python3 "$TEST_DIRECTORY/lfs/lfs-server.py" --root "$LFS_ROOT" \
		--port "${LFS_PORT:-0}" --port-file "$LFS_DIR/port" \
		--log "$LFS_LOG" --config "$LFS_CONFIG" \
		--user "$LFS_USER" --password-file "$LFS_DIR/password" \
		--token-file "$LFS_TOKENS" --git-root "$LFS_GIT_ROOT" \
		</dev/null >>"$LFS_DIR/server.out" 2>&1 3>&- 4>&- 5>&- &
	LFS_PID=$!
	export LFS_PID
	trap 'test_atexit_exit_trap_' EXIT

	# The watchdog: stops the server once this shell is gone, whatever
	# killed it ($$ is this shell's PID, also in the subshell).
	(
		while kill -0 $$ 2>/dev/null
		do
			sleep 1
		done
		kill -TERM "$LFS_PID"
	) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
	LFS_WATCHDOG_PID_=$!

	lfs_i_=0
	until test -s "$LFS_DIR/port"
	do
		if ! test_process_alive "$LFS_PID" || test $lfs_i_ -ge 100
		then
			echo >&4 "start_lfs: the server did not start; its messages:"
			cat >&4 "$LFS_DIR/server.out"
			exit 1
		fi
		sleep 0.1
		lfs_i_=$((lfs_i_ + 1))
	done
	LFS_PORT=$(cat "$LFS_DIR/port")
	LFS_URL=http://127.0.0.1:$LFS_PORT
	export LFS_PORT LFS_URL LFS_PASSWORD
}

# Stop the server and its watchdog; nothing to do if none runs.
stop_lfs () {
	test -n "$LFS_PID$LFS_WATCHDOG_PID_" || return 0
	test -z "$LFS_PID" || { test_process_kill "$LFS_PID"; wait "$LFS_PID" 2>/dev/null; }
	test -z "$LFS_WATCHDOG_PID_" || { test_process_kill "$LFS_WATCHDOG_PID_"; wait "$LFS_WATCHDOG_PID_" 2>/dev/null; }
	LFS_PID= LFS_WATCHDOG_PID_=
	return 0
}

# lfs_config JSON: the server's configuration from its next request on
# (its counters start again); lfs_config '{}' restores the defaults.
lfs_config () {
	test $# = 1 || BUG "usage: lfs_config JSON"
	printf '%s\n' "$1" >"$LFS_CONFIG.tmp" &&
	mv "$LFS_CONFIG.tmp" "$LFS_CONFIG"
}

# lfs_object_path PREFIX OID: the file holding an object the server has
# for the LFS endpoint $LFS_URL$PREFIX (PREFIX "/r.git/info/lfs").
lfs_object_path () {
	test $# = 2 || BUG "usage: lfs_object_path PREFIX OID"
	lfs_q_=$(printf '%s' "$1" | sed 's|/|%2F|g')
	echo "$LFS_ROOT/$lfs_q_/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-4)/$2"
}

# lfs_credentials: git's "store" credential helper, in the global git
# config, with the account for the server (and nothing else). git runs
# the helper through the shell: $HOME must not hold a single quote.
lfs_credentials () {
	printf 'http://%s:%s@127.0.0.1:%s\n' "$LFS_USER" "$LFS_PASSWORD" \
		"$LFS_PORT" >"$HOME/lfs-credentials" &&
	git config --global credential.helper \
		"store --file='$HOME/lfs-credentials'"
}

# lfs_log_count METHOD STATUS [PATH-REGEX]: how many requests in the log
# have this method and status (and a path matching the extended regular
# expression, anchored at neither end).
lfs_log_count () {
	test_log_count "$LFS_LOG" "$@"
}

# lfs_log_wait COUNT METHOD STATUS [PATH-REGEX]: wait up to 5 s until
# lfs_log_count says COUNT or more.
lfs_log_wait () {
	test_log_wait "$LFS_LOG" "$@"
}
