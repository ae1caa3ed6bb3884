# lib-httpd.sh: a real nginx for the HTTP storage tests; modelled on git's
# t/lib-httpd.sh. Source it after test-lib.sh and start the server at the
# top level of the script, not in a test body:
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$TEST_DIRECTORY/lib-httpd.sh"
#	start_httpd
#	test_expect_success 'push over HTTP' '
#		git config model.storage "$HTTPD_URL/auth/store" && ...
#	'
#	test_done
#
# start_httpd skips the script when nginx is not installed (fails it under
# CI=true), then runs nginx on a free port of 127.0.0.1 with every file it
# writes under "$TRASH_DIRECTORY/httpd", and exports:
#
#	HTTPD_PORT, HTTPD_URL	the port and http://127.0.0.1:$HTTPD_PORT
#	HTTPD_SSL_PORT, HTTPD_SSL_URL	the same locations over TLS, with a
#				self-signed certificate for 127.0.0.1 in
#	HTTPD_CERT		(PEM, made with openssl)
#	HTTPD_ROOT		the document root, "$TRASH_DIRECTORY/httpd/www"
#	HTTPD_USER, HTTPD_PASSWORD	the one basic-auth account; the password
#				is a distinctive string ("pw-<hex>-secret") so a
#				test can grep any output for a leak. It is only
#				written to disk hashed, unless openssl is missing.
#	HTTPD_TOKEN		a bearer token for /bearer/, as distinctive as the
#				password ("tok-<hex>-secret"); only the server's
#				configuration holds it
#	HTTPD_ACCESS_LOG	the access log
#	HTTPD_S3_URL		only when the script set HTTPD_S3_UPSTREAM to the
#				port of an S3 server (lib-s3.sh's $S3_PORT)
#				before start_httpd: https://127.0.0.1:<port>, a
#				TLS forwarder to it with the certificate above
#				(the Host header passes unchanged, so SigV4
#				signatures hold)
#	HTTPD_PID		nginx's master process
#
# Locations (no size limit on bodies, keepalive on):
#
#	/auth/	$HTTPD_ROOT/auth/: GET, HEAD and PUT (WebDAV, creating the
#		directories), all behind basic auth ($HTTPD_USER)
#	/anon/	the same directory, anonymous and read-only: GET and HEAD,
#		every other method is 403
#	/slow/	the same as /anon/, sending each response at 2 MB/s, so
#		that parallel downloads show in the access log
#	/open/	$HTTPD_ROOT/open/: GET, HEAD and PUT without auth
#	/norange/	the same directory as /open/, GET and HEAD only, ignoring
#		Range: every GET is answered 200 with the whole file, as by
#		a server without range support (nginx's max_ranges 0)
#	/token/	$HTTPD_ROOT/token/: the same, but only for requests with the
#		header "X-Test-Token: token-123" (others get 401)
#	/bearer/	$HTTPD_ROOT/bearer/: the same, but only for requests with
#		the header "Authorization: Bearer $HTTPD_TOKEN" (others get 401)
#
# The access log has one line per request, when nginx has finished it,
# with these fields separated by single spaces (an empty one is "-"):
#
#	$msec $request_time $request_method $uri $status $http_range $bytes_sent $remote_user
#	1712345678.123 0.004 PUT /auth/a/b 201 - 180 alice
#
# $msec is when the request ended, $request_time how long it took since
# its first byte (both in seconds, millisecond resolution), $uri is
# decoded (a URI with a space in it would shift the later fields, and so
# would a multi-range "bytes=0-1, 5-6") and $remote_user is the name the
# client sent, whether or not its password was right.
#
# Functions: start_httpd, stop_httpd (idempotent), httpd_log_count METHOD
# STATUS [URI-REGEX], httpd_log_wait COUNT METHOD STATUS [URI-REGEX] and
# httpd_max_overlap METHOD (see each one below). nginx writes a request's
# line just after it sends the response, so a client can be done before
# the line is there: use httpd_log_wait before reading the log.
#
# nginx is a child of the script's shell: a bare "wait" in a test would
# wait for it forever; wait for the PIDs you started ("wait $pid").
#
# nginx is stopped however the script ends: test-lib.sh's test_atexit
# has test_done and its EXIT trap (a body calling exit, a signal, a bail
# out) stop it, and a watchdog process stops it at most a second after
# the script's shell is gone. lib-s3.sh does the same, so a script can use
# both libraries.

HTTPD_DIR="$TRASH_DIRECTORY/httpd"
HTTPD_ROOT="$HTTPD_DIR/www"
HTTPD_ACCESS_LOG="$HTTPD_DIR/access.log"
HTTPD_USER=alice
# Not inherited from a script that runs this one.
HTTPD_PORT= HTTPD_URL= HTTPD_PASSWORD= HTTPD_PID= HTTPD_WATCHDOG_PID_=
HTTPD_TOKEN= HTTPD_S3_PORT= HTTPD_S3_URL=
export HTTPD_ROOT HTTPD_ACCESS_LOG HTTPD_USER

# nginx, or nothing if it is not installed.
httpd_find_nginx_ () {
	if test -x /usr/sbin/nginx
	then
		echo /usr/sbin/nginx
	else
		command -v nginx 2>/dev/null
	fi
}

# httpd_kill_ PID: stop nginx's master (which stops its workers), the
# workers too if it has to be killed.
httpd_kill_ () {
	test_process_kill "$1" $(pgrep -P "$1" 2>/dev/null)
}

# The basic-auth user file: apr1 hashes (nginx knows them) when openssl
# is here, else nginx's "{PLAIN}" scheme.
httpd_write_htpasswd_ () {
	if command -v openssl >/dev/null 2>&1 &&
	   httpd_hash_=$(printf '%s\n' "$HTTPD_PASSWORD" |
			openssl passwd -apr1 -stdin 2>/dev/null) &&
	   test -n "$httpd_hash_"
	then
		echo "$HTTPD_USER:$httpd_hash_"
	else
		echo "$HTTPD_USER:{PLAIN}$HTTPD_PASSWORD"
	fi >"$HTTPD_DIR/htpasswd"
}

# The locations, shared by the http and https servers.
httpd_write_locations_ () {
	cat <<EOF
location /auth/ {
	auth_basic "git-model tests";
	auth_basic_user_file "$HTTPD_DIR/htpasswd";
	dav_methods PUT;
	create_full_put_path on;
	dav_access user:rw group:r all:r;
}

location /anon/ {
	alias "$HTTPD_ROOT/auth/";
	limit_except GET {
		deny all;
	}
}

location /slow/ {
	alias "$HTTPD_ROOT/auth/";
	limit_rate 2m;
	limit_except GET {
		deny all;
	}
}

location /open/ {
	dav_methods PUT;
	create_full_put_path on;
	dav_access user:rw group:r all:r;
}

location /norange/ {
	alias "$HTTPD_ROOT/open/";
	max_ranges 0;
	limit_except GET {
		deny all;
	}
}

location /token/ {
	if (\$http_x_test_token != "token-123") {
		return 401;
	}
	dav_methods PUT;
	create_full_put_path on;
	dav_access user:rw group:r all:r;
}

location /bearer/ {
	if (\$http_authorization != "Bearer $HTTPD_TOKEN") {
		return 401;
	}
	dav_methods PUT;
	create_full_put_path on;
	dav_access user:rw group:r all:r;
}
EOF
}

# A self-signed certificate for 127.0.0.1, made once per trash directory.
httpd_write_cert_ () {
	test -s "$HTTPD_CERT" && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$HTTPD_DIR/server.key" -out "$HTTPD_CERT" >/dev/null 2>&1
}

httpd_write_conf_ () {
	# Run as root, nginx's workers would switch to the user compiled
	# in (www-data), which cannot write into the trash directory;
	# "user root root" keeps them root. Not root, nginx cannot switch
	# users and the directive would only draw a warning, so leave it.
	if test "$(id -u)" = 0
	then
		echo 'user root root;'
	fi
	cat <<EOF
daemon off;
master_process on;
worker_processes 1;
pid "$HTTPD_DIR/nginx.pid";
error_log "$HTTPD_DIR/error.log" info;

events {
	worker_connections 256;
}

http {
	default_type application/octet-stream;
	log_format gitmodel '\$msec \$request_time \$request_method \$uri \$status \$http_range \$bytes_sent \$remote_user';
	access_log "$HTTPD_ACCESS_LOG" gitmodel;
	client_body_temp_path "$HTTPD_DIR/client_body_temp";
	proxy_temp_path "$HTTPD_DIR/proxy_temp";
	fastcgi_temp_path "$HTTPD_DIR/fastcgi_temp";
	uwsgi_temp_path "$HTTPD_DIR/uwsgi_temp";
	scgi_temp_path "$HTTPD_DIR/scgi_temp";
	client_max_body_size 0;

	server {
		listen 127.0.0.1:$HTTPD_PORT;
		server_name 127.0.0.1;
		root "$HTTPD_ROOT";
		include "$HTTPD_DIR/locations.conf";
	}

	server {
		listen 127.0.0.1:$HTTPD_SSL_PORT ssl;
		server_name 127.0.0.1;
		ssl_certificate "$HTTPD_CERT";
		ssl_certificate_key "$HTTPD_DIR/server.key";
		root "$HTTPD_ROOT";
		include "$HTTPD_DIR/locations.conf";
	}
EOF
	if test -n "$HTTPD_S3_UPSTREAM"
	then
		cat <<EOF

	server {
		listen 127.0.0.1:$HTTPD_S3_PORT ssl;
		server_name 127.0.0.1;
		ssl_certificate "$HTTPD_CERT";
		ssl_certificate_key "$HTTPD_DIR/server.key";
		location / {
			proxy_pass http://127.0.0.1:$HTTPD_S3_UPSTREAM;
			proxy_set_header Host \$http_host;
			proxy_http_version 1.1;
			proxy_request_buffering off;
			proxy_buffering off;
		}
	}
EOF
	fi
	echo "}"
}

# stop_httpd runs when the script ends, from test_done (which clears the
# EXIT trap) and from the EXIT trap.
test_atexit stop_httpd

# Start nginx (see the top of this file). Called again after stop_httpd,
# it keeps the port, the password and the files.
start_httpd () {
	test -z "$HTTPD_PID" || BUG "start_httpd: nginx is already running"
	httpd_nginx_=$(httpd_find_nginx_)
	if test -z "$httpd_nginx_"
	then
		test_env_require_ci_service nginx \
			"nginx is not installed (apt-get install nginx-light)"
	fi
	case "$HTTPD_DIR" in
	*[\"\$\\]*) BUG "start_httpd: cannot quote '$HTTPD_DIR' for nginx" ;;
	esac
	if test -z "$HTTPD_PORT"
	then
		HTTPD_PORT=$(test_free_port) || BUG "start_httpd: no free port"
		HTTPD_SSL_PORT=$(test_free_port) || BUG "start_httpd: no free port"
		test "$HTTPD_SSL_PORT" != "$HTTPD_PORT" ||
		HTTPD_SSL_PORT=$(test_free_port) || BUG "start_httpd: no free port"
	fi
	if test -n "$HTTPD_S3_UPSTREAM" && test -z "$HTTPD_S3_PORT"
	then
		HTTPD_S3_PORT=$(test_free_port) || BUG "start_httpd: no free port"
		HTTPD_S3_URL=https://127.0.0.1:$HTTPD_S3_PORT
		export HTTPD_S3_URL
	fi
	HTTPD_URL=http://127.0.0.1:$HTTPD_PORT
	HTTPD_SSL_URL=https://127.0.0.1:$HTTPD_SSL_PORT
	HTTPD_CERT=$HTTPD_DIR/server.crt
	if test -z "$HTTPD_PASSWORD"
	then
		HTTPD_PASSWORD=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-secret
	fi
	if test -z "$HTTPD_TOKEN"
	then
		HTTPD_TOKEN=tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-secret
	fi
	export HTTPD_PORT HTTPD_URL HTTPD_PASSWORD HTTPD_SSL_PORT HTTPD_SSL_URL \
		HTTPD_CERT HTTPD_TOKEN
	mkdir -p "$HTTPD_ROOT/auth" "$HTTPD_ROOT/open" "$HTTPD_ROOT/token" \
		"$HTTPD_ROOT/bearer" &&
	rm -f "$HTTPD_DIR/nginx.pid" &&
	httpd_write_htpasswd_ &&
	httpd_write_cert_ &&
	httpd_write_locations_ >"$HTTPD_DIR/locations.conf" &&
	httpd_write_conf_ >"$HTTPD_DIR/nginx.conf" ||
	BUG "start_httpd: cannot write the configuration in '$HTTPD_DIR'"

	# Hold none of the script's descriptors: the TAP reader waits for
	# every holder of stdout to close it.
	"$httpd_nginx_" -p "$HTTPD_DIR/" -c "$HTTPD_DIR/nginx.conf" \
		</dev/null >>"$HTTPD_DIR/nginx.out" 2>&1 3>&- 4>&- 5>&- &
	HTTPD_PID=$!
	export HTTPD_PID
	trap 'test_atexit_exit_trap_' EXIT

	# The watchdog: stops nginx once this shell is gone, whatever
	# killed it ($$ is this shell's PID, also in the subshell).
	(
		while kill -0 $$ 2>/dev/null
		do
			sleep 1
		done
		httpd_kill_ "$HTTPD_PID"
	) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
	HTTPD_WATCHDOG_PID_=$!

	httpd_i_=0 httpd_why_=
	while :
	do
		if ! test_process_alive "$HTTPD_PID"
		then
			httpd_why_="nginx exited"
		elif test $httpd_i_ -ge 50
		then
			httpd_why_="nginx did not answer within 5 s"
		elif command -v curl >/dev/null 2>&1
		then
			curl -s -m 2 --noproxy "*" -o /dev/null "$HTTPD_URL/" &&
			return 0
		else
			# nginx listens before it writes its pid file.
			test -s "$HTTPD_DIR/nginx.pid" && return 0
		fi
		if test -n "$httpd_why_"
		then
			echo >&4 "start_httpd: $httpd_why_; its messages:"
			cat "$HTTPD_DIR/nginx.out" "$HTTPD_DIR/error.log" >&4 2>/dev/null
			exit 1
		fi
		sleep 0.1
		httpd_i_=$((httpd_i_ + 1))
	done
}

# Stop nginx and its watchdog; nothing to do if nginx is not running.
stop_httpd () {
	test -n "$HTTPD_PID" || return 0
	httpd_kill_ "$HTTPD_PID"
	wait "$HTTPD_PID" 2>/dev/null
	if test -n "$HTTPD_WATCHDOG_PID_"
	then
		kill "$HTTPD_WATCHDOG_PID_" 2>/dev/null
		wait "$HTTPD_WATCHDOG_PID_" 2>/dev/null
	fi
	HTTPD_PID= HTTPD_WATCHDOG_PID_=
	return 0
}

# httpd_log_count METHOD STATUS [URI-REGEX]: how many requests in the
# access log have this method and status (and a URI matching the
# extended regular expression, anchored at neither end).
httpd_log_count () {
	test_log_count "$HTTPD_ACCESS_LOG" "$@"
}

# httpd_log_wait COUNT METHOD STATUS [URI-REGEX]: wait up to 5 s until
# httpd_log_count says COUNT or more.
httpd_log_wait () {
	test_log_wait "$HTTPD_ACCESS_LOG" "$@"
}

# httpd_max_overlap METHOD: the most METHOD requests that were in flight
# at once, each from $msec - $request_time to $msec (in whole ms; one
# ending when another starts does not overlap it). 0 if there were none.
httpd_max_overlap () {
	test $# = 1 || BUG "usage: httpd_max_overlap METHOD"
	test_log_max_overlap "$HTTPD_ACCESS_LOG" end-duration "$1"
}
