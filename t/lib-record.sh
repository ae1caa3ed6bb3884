# lib-record.sh: a recording HTTP server that plays "evil" in the trust
# tests: every request line and header it gets is appended to a log the
# test greps (t/record-server.py). Source it after test-lib.sh:
#
#	start_record_server [--status CODE]
#
# runs it on a free port of 127.0.0.1 and sets RECORD_URL
# (http://127.0.0.1:PORT) and RECORD_LOG. GET and HEAD get CODE (404 by
# default; 401 with a Basic challenge), PUT and POST 201. The server stops
# by itself at most half a second after the script's shell is gone;
# stop_record_server stops it earlier. Calling start_record_server again
# starts another one (RECORD_URL and RECORD_LOG then name the new one).

RECORD_PID= RECORD_URL= RECORD_LOG=
record_n_=0

start_record_server () {
	record_n_=$((record_n_ + 1))
	RECORD_LOG="$TRASH_DIRECTORY/record.$record_n_.log"
	record_port_="$TRASH_DIRECTORY/record.$record_n_.port"
	rm -f "$record_port_"
	python3 "$TEST_DIRECTORY/record-server.py" --port-file "$record_port_" \
		--log "$RECORD_LOG" --watch $$ "$@" &
	RECORD_PID=$!
	record_i_=0
	while ! test -s "$record_port_"
	do
		if test $record_i_ -ge 100
		then
			error "the recording server did not start"
		fi
		sleep 0.05
		record_i_=$((record_i_ + 1))
	done
	RECORD_URL="http://127.0.0.1:$(cat "$record_port_")"
}

stop_record_server () {
	test -n "$RECORD_PID" || return 0
	kill "$RECORD_PID" 2>/dev/null
	wait "$RECORD_PID" 2>/dev/null
	RECORD_PID=
}
