#!/bin/sh

test_description='hostile pointers and storage: no path from a bad oid, no pointer url followed, no bad bytes kept

Pointers are committed as raw blobs (git hash-object --no-filters) and
pushed without the pre-push hook, as from a repository that never ran
git-model. A clone and every porcelain command then run over them (under
strace when it is installed). Each must leave the files holding what was
committed, touch no file outside the clone, and never build a path from a
bad oid nor follow a url the configuration did not name. t/unit/t-pointer.c
has the parser side of the same inputs.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

if strace -f -qq -o /dev/null true 2>/dev/null
then
	test_set_prereq STRACE
fi

obj_path () {
	echo "$1/sha256/$(echo $2 | cut -c1-2)/$(echo $2 | cut -c3-4)/$2"
}

# commit_raw NAME <CONTENT: commit CONTENT as NAME's blob, bypassing the
# filter, and push it without the pre-push hook.
commit_raw () {
	blob=$(git -C work hash-object -w --no-filters --stdin) &&
	git -C work update-index --add --cacheinfo 100644,$blob,"$1" &&
	test_tick &&
	git -C work commit -q -m "$1" &&
	git -C work push -q --no-verify origin main
}

# commit_raw_in REPO NAME <CONTENT: the same in REPO.
commit_raw_in () {
	blob=$(git -C "$1" hash-object -w --no-filters --stdin) &&
	git -C "$1" update-index --add --cacheinfo 100644,$blob,"$2" &&
	test_tick &&
	git -C "$1" commit -q -m "$2" &&
	git -C "$1" push -q --no-verify origin main
}

# pointer_text OID SIZE [URL]: a pointer as a raw text, not checked.
pointer_text () {
	printf "version git-model/1\noid sha256:%s\nsize %s\n" "$1" "$2" &&
	if test -n "$3"
	then
		printf "url %s\n" "$3"
	fi
}

# Every file under the trash directory but the clone, the servers' own
# files and this script's traces and snapshots, with size, time and mode
# (directories by name only: making the clone changes the trash's time).
snapshot () {
	find "$TRASH_DIRECTORY" \( -path "$TRASH_DIRECTORY/clone" -o \
		-path "$HTTPD_DIR" -o -name "snap.*" -o -name "trace.*" -o \
		-name "err.*" -o -name "out.*" \) -prune -o \
		-type d -printf "%p/\n" -o -printf "%p %s %T@ %m\n" | sort
}

# traced NAME CMD...: run CMD, under strace when it is installed, its
# file and connect system calls in trace.NAME.
traced () {
	traced_name_=$1
	shift
	if test_have_prereq STRACE
	then
		strace -f -qq -o "trace.$traced_name_" -e trace=%file,connect "$@"
	else
		"$@"
	fi
}

# no_trace_of STRING: no traced system call named STRING.
no_trace_of () {
	test_have_prereq STRACE || return 0
	if grep -F -- "$1" trace.* >&4
	then
		echo >&4 "a traced system call names '$1'"
		return 1
	fi
}

# The file in the clone holds exactly what was committed.
holds_blob () {
	git -C clone cat-file blob "HEAD:$1" >expect.blob &&
	test_cmp_bin expect.blob "clone/$1"
}

# The access log since the setup (which fetched the web canary itself).
log_since_setup () {
	sed -n "$((log_mark + 1)),\$p" "$HTTPD_ACCESS_LOG"
}

# No file of the clone (work tree or store) has the canary's bytes.
no_canary_in_clone () {
	if grep -r -l -F "$1" clone --exclude-dir=objects 2>/dev/null >&4 ||
	   grep -r -l -F "$1" clone/.git/model 2>/dev/null >&4
	then
		echo >&4 "the canary '$1' is in the clone"
		return 1
	fi
}

test_expect_success 'setup: real weights in HTTP storage, canaries outside it' '
	git config --global model.compression none &&
	test_setup_work "$HTTPD_URL/open/models" &&
	(
		cd work &&
		echo good >good.pth &&
		test-tool genrandom real 200k >real.pth &&
		git add . &&
		git commit -q -m weights &&
		git push -q origin main
	) &&
	good=$(oid_of work/good.pth) &&
	test_path_is_file "$(obj_path "$HTTPD_ROOT/open/models" $good)" &&

	# Readable files whose oids hostile pointers name, with their url.
	canary=CANARY-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n") &&
	for i in $(test_seq 50); do echo "$canary $i"; done >canary &&
	echo "$canary on the web" >canary-web &&
	web_oid=$(oid_of canary-web) &&
	mkdir -p "$(dirname "$(obj_path "$HTTPD_ROOT/open/elsewhere" $web_oid)")" &&
	cp canary-web "$(obj_path "$HTTPD_ROOT/open/elsewhere" $web_oid)" &&
	curl -s -f -o fetched "$(obj_path "$HTTPD_URL/open/elsewhere" $web_oid)" &&
	test_cmp canary-web fetched &&
	echo "$canary from the metadata service" >canary-md &&

	pointer_text "../../../../tmp/x" 5 | commit_raw trav-tmp.pth &&
	pointer_text "../../../../escaped" 5 | commit_raw trav-trash.pth &&
	pointer_text "$(echo $good | cut -c1-63)" 5 | commit_raw hex63.pth &&
	pointer_text "${good}0" 5 | commit_raw hex65.pth &&
	pointer_text "$good" 99999999999999999999 | commit_raw size-huge.pth &&
	# 2^64 + 5: wraps around to the right size in 64 bits
	pointer_text "$good" 18446744073709551621 | commit_raw size-wrap.pth &&
	printf "version git-model/1\noid sha256:%s\000\nsize 5\n" $good |
	commit_raw nul-oid.pth &&
	printf "version git-model/1\noid sha256:%s\nsize 5\000junk\n" $good |
	commit_raw nul-size.pth &&
	{
		pointer_text "$good" 5 &&
		printf "x-long %02048d\n" 0
	} | commit_raw long-line.pth &&
	pointer_text $(oid_of canary) $(wc -c <canary) \
		"file://$TRASH_DIRECTORY/canary" | commit_raw url-file.pth &&
	pointer_text $(oid_of /etc/passwd) $(wc -c </etc/passwd) \
		"file:///etc/passwd" | commit_raw url-passwd.pth &&
	pointer_text $web_oid $(wc -c <canary-web) \
		"$(obj_path "$HTTPD_URL/open/elsewhere" $web_oid)" |
	commit_raw url-http.pth &&
	pointer_text $web_oid $(wc -c <canary-web) \
		"$(obj_path "$HTTPD_URL/open/models/../elsewhere" $web_oid)" |
	commit_raw url-dotdot.pth &&
	pointer_text $(oid_of canary-md) $(wc -c <canary-md) \
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/x" |
	commit_raw url-metadata.pth &&
	git -C remote.git ls-tree --name-only HEAD >all &&
	grep -v "^\.git\|^good\.pth\|^real\.pth" all >hostile &&
	test_line_count = 14 hostile &&
	httpd_log_wait 1 GET 200 "/open/elsewhere/" &&
	log_mark=$(wc -l <"$HTTPD_ACCESS_LOG")
'

test_expect_success 'a clone over hostile pointers succeeds and touches nothing outside' '
	test_path_is_missing "$TRASH_DIRECTORY/escaped" &&
	if test -e /tmp/x
	then
		ls -ld --time-style=full-iso /tmp/x >tmp-x.before
	fi &&
	snapshot >snap.before &&
	test_expect_code 1 traced clone git clone -q remote.git clone 2>err.clone &&
	snapshot >snap.after &&
	if test_have_prereq STRACE
	then
		# the trace is real: it shows the store being written
		grep "clone/.git/model/objects/sha256/" trace.clone >/dev/null
	fi &&
	test_cmp snap.before snap.after &&
	test_path_is_missing "$TRASH_DIRECTORY/escaped" &&
	test_path_is_missing "$TRASH_DIRECTORY/../escaped" &&
	if test -f tmp-x.before
	then
		ls -ld --time-style=full-iso /tmp/x >tmp-x.after &&
		test_cmp tmp-x.before tmp-x.after
	else
		test_path_is_missing /tmp/x
	fi &&
	test_cmp_bin work/good.pth clone/good.pth &&
	test_cmp_bin work/real.pth clone/real.pth &&
	test_model_store_ok clone/.git &&
	test_model_tmp_clean clone/.git
'

test_expect_success 'an oid with ../ is never a path: the file keeps its text' '
	holds_blob trav-tmp.pth &&
	holds_blob trav-trash.pth &&
	no_trace_of "tmp/x" &&
	no_trace_of "escaped" &&
	test_must_fail git -C clone model pointer --check trav-tmp.pth 2>err.check &&
	test_line_count = 1 err.check &&
	grep "line 2: oid is not 64 lowercase hex digits" err.check
'

test_expect_success 'an oid of 63 or 65 hex digits is not taken for the stored one' '
	holds_blob hex63.pth &&
	holds_blob hex65.pth &&
	! test_cmp_bin work/good.pth clone/hex63.pth &&
	no_trace_of "$(echo $good | cut -c1-63)\"" &&
	no_trace_of "${good}0" &&
	for f in hex63.pth hex65.pth
	do
		test_must_fail git -C clone model pointer --check $f 2>err.check &&
		test_line_count = 1 err.check &&
		grep "oid is not 64 lowercase hex digits" err.check || return 1
	done
'

test_expect_success 'a size over 2^63-1 is refused, also one that wraps to the real size' '
	holds_blob size-huge.pth &&
	holds_blob size-wrap.pth &&
	for f in size-huge.pth size-wrap.pth
	do
		test_must_fail git -C clone model pointer --check $f 2>err.check &&
		test_line_count = 1 err.check &&
		grep "line 3:" err.check || return 1
	done
'

test_expect_success 'NUL bytes after a valid oid or size: not a pointer' '
	holds_blob nul-oid.pth &&
	holds_blob nul-size.pth &&
	! test_cmp_bin work/good.pth clone/nul-oid.pth &&
	for f in nul-oid.pth nul-size.pth
	do
		test_must_fail git -C clone model pointer --check $f 2>err.check &&
		test_line_count = 1 err.check || return 1
	done
'

test_expect_success 'a 2 KiB line makes content, not a pointer' '
	holds_blob long-line.pth &&
	test_must_fail git -C clone model pointer --check long-line.pth 2>err.check &&
	test_line_count = 1 err.check &&
	grep "larger than 1024 bytes" err.check
'

test_expect_success 'url file://: never read, its bytes nowhere in the clone' '
	holds_blob url-file.pth &&
	holds_blob url-passwd.pth &&
	no_trace_of "$TRASH_DIRECTORY/canary" &&
	no_trace_of "/etc/passwd" &&
	no_canary_in_clone "$canary" &&
	root_line=$(head -n 1 /etc/passwd) &&
	! grep -r -F -x "$root_line" clone --exclude-dir=objects &&
	grep "url-file.pth" err.clone &&
	grep "url-passwd.pth" err.clone &&
	grep "git model pull" err.clone
'

test_expect_success 'url http:// outside the configured storage: never asked for' '
	holds_blob url-http.pth &&
	holds_blob url-dotdot.pth &&
	httpd_log_wait 1 GET 404 "/open/models/sha256/" &&
	! log_since_setup | grep "elsewhere" &&
	no_canary_in_clone "$canary" &&
	grep "cannot download .url-http.pth. from .$HTTPD_URL/open/models/sha256/" err.clone
'

test_expect_success STRACE 'url http://169.254.169.254/: never connected to' '
	holds_blob url-metadata.pth &&
	grep "connect(" trace.clone >connects &&
	grep "127.0.0.1" connects &&
	no_trace_of "169.254.169.254" &&
	! grep -v "127.0.0.1\|sa_family=AF_UNIX\|AF_INET6, sin6_port=htons(0)\|sa_family=AF_UNSPEC" connects
'

test_expect_success 'fetch, pull, status, ls-files over them: same, and no url followed' '
	snapshot >snap.before &&
	test_must_fail traced fetch git -C clone model fetch 2>err.fetch &&
	test_must_fail traced pull git -C clone model pull 2>err.pull &&
	traced status git -C clone model status >out.status 2>err.status &&
	traced ls git -C clone model ls-files >out.ls 2>err.ls &&
	snapshot >snap.after &&
	test_cmp snap.before snap.after &&
	grep "cannot download .url-file.pth." err.fetch &&
	grep "cannot download .url-passwd.pth." err.pull &&
	for f in $(cat hostile)
	do
		holds_blob $f || return 1
	done &&
	test_cmp_bin work/good.pth clone/good.pth &&
	no_trace_of "tmp/x" &&
	no_trace_of "escaped" &&
	no_trace_of "$TRASH_DIRECTORY/canary" &&
	no_trace_of "/etc/passwd" &&
	no_trace_of "169.254.169.254" &&
	no_canary_in_clone "$canary" &&
	! log_since_setup | grep "elsewhere" &&
	test_model_store_ok clone/.git &&
	test_model_tmp_clean clone/.git
'

test_expect_success 'push --all over them: refused for the missing weights, nothing uploaded' '
	git init -q --bare other.git &&
	git -C clone remote add other ../other.git &&
	test_must_fail git -C clone model push --all other 2>err.push &&
	grep "url-file.pth" err.push &&
	test_path_is_missing "$(obj_path "$HTTPD_ROOT/open/models" $(oid_of canary))" &&
	test_path_is_missing "$(obj_path "$HTTPD_ROOT/open/models" $web_oid)" &&
	! log_since_setup | grep "elsewhere"
'

# A malformed pointer is checked out as it is, with one warning that says
# what is wrong with it.
test_expect_success 'a checkout names each malformed pointer and what is wrong with it' '
	for f in trav-tmp.pth hex63.pth hex65.pth size-huge.pth nul-oid.pth
	do
		grep "$f" err.clone || return 1
	done
'

# Without storage, pointer urls are followed under the prefixes listed in
# model.allowPointerUrls (t0043). A url can start with an allowed prefix
# and leave it again with dot segments, which libcurl (and nginx) resolve.
test_expect_success 'setup: urls with dot segments, in a repository without storage' '
	git init -q --bare nostore.git &&
	git init -q nostore &&
	git -C nostore model track "*.pth" &&
	git -C nostore add .gitattributes &&
	git -C nostore commit -q -m attributes &&
	git -C nostore remote add origin ../nostore.git &&
	pointer_text $web_oid $(wc -c <canary-web) \
		"$(obj_path "$HTTPD_URL/open/models/../elsewhere" $web_oid)" |
	commit_raw_in nostore dotdot.pth &&
	pointer_text $web_oid $(wc -c <canary-web) \
		"$(obj_path "$HTTPD_URL/open/models/%2e%2e/elsewhere" $web_oid)" |
	commit_raw_in nostore dotdot-pct.pth &&
	pointer_text $web_oid $(wc -c <canary-web) \
		"$(obj_path "$HTTPD_URL/open/elsewhere" $web_oid)" |
	commit_raw_in nostore plain.pth
'

# clone_no_storage DIR: a clone of nostore.git, not checked out, whose
# remote is neither local nor http(s): no storage, only the pointers'
# urls (as in t0043).
clone_no_storage () {
	rm -rf "$1" &&
	git clone -q --no-checkout nostore.git "$1" &&
	git -C "$1" remote set-url origin git://git.example.invalid/models.git
}

test_expect_success 'control: a plain url under the allowed prefix is followed' '
	clone_no_storage ctl &&
	git -C ctl -c model.allowPointerUrls="$HTTPD_URL/open/elsewhere" \
		checkout -q main 2>err.ctl &&
	test_cmp canary-web ctl/plain.pth
'

# libcurl removes dot segments, and nginx decodes %2e%2e and does the
# same: a string prefix test would let these leave the allowed prefix.
test_expect_success 'a url cannot leave an allowed prefix with ../ or %2e%2e' '
	clone_no_storage ns &&
	log_mark=$(wc -l <"$HTTPD_ACCESS_LOG") &&
	test_expect_code 1 git -C ns -c model.allowPointerUrls="$HTTPD_URL/open/models" \
		checkout -q main 2>err.dotdot &&
	! log_since_setup | grep "elsewhere" &&
	grep "^warning: .dotdot.pth.: .*dot segments" err.dotdot &&
	grep "^warning: .dotdot-pct.pth.: .*dot segments" err.dotdot &&
	git -C ns model pointer --check dotdot.pth &&
	git -C ns model pointer --check dotdot-pct.pth &&
	git -C ns model pointer --check plain.pth
'

# Storage that holds wrong bytes under an oid: in a repository of its own,
# so that the hostile pointers above do not make every pull fail.
test_expect_success 'HTTP storage serving wrong bytes: a clone reports it, stores nothing' '
	git init -q --bare honest.git &&
	git init -q honest &&
	(
		cd honest &&
		git model track "*.pth" &&
		git config -f .gitmodel model.storage "$HTTPD_URL/open/honest" &&
		test-tool genrandom bad 300k >bad.pth &&
		test-tool genrandom fine 100k >fine.pth &&
		git add . &&
		git commit -q -m weights &&
		git remote add origin ../honest.git &&
		git push -q origin main
	) &&
	bad=$(oid_of honest/bad.pth) &&
	stored="$(obj_path "$HTTPD_ROOT/open/honest" $bad)" &&
	cp "$stored" bad.saved &&
	chmod u+w "$stored" &&
	test-tool genrandom evil 300k >"$stored" &&
	test_expect_code 1 git -c model.retries=1 clone -q honest.git clone2 2>err.bad &&
	grep "cannot download .bad.pth." err.bad &&
	grep "do not match the object id" err.bad &&
	grep "git model pull" err.bad &&
	git -C clone2 model pointer --check bad.pth &&
	test_path_is_missing "$(obj_path clone2/.git/model/objects $bad)" &&
	test_cmp_bin honest/fine.pth clone2/fine.pth &&
	test_model_store_ok clone2/.git &&
	test_model_tmp_clean clone2/.git
'

test_expect_success 'once the storage is fixed, git model pull gets the right bytes' '
	cp bad.saved "$stored" &&
	git -C clone2 model pull 2>err.fixed &&
	test_cmp_bin honest/bad.pth clone2/bad.pth &&
	git -C clone2 status --porcelain >out.st &&
	test_must_be_empty out.st &&
	test_model_store_ok clone2/.git
'

test_expect_success 'directory storage with wrong, short and long objects' '
	mkdir dirstore &&
	git init -q --bare empty.git &&
	git -C honest remote add empty ../empty.git &&
	git -C honest -c model.storage="file://$TRASH_DIRECTORY/dirstore" \
		model push --all empty 2>err.dpush &&
	stored=$(obj_path dirstore $bad) &&
	test_cmp_bin bad.saved "$stored" &&
	chmod u+w "$stored" &&
	for how in wrong short long
	do
		case $how in
		wrong) test-tool genrandom evil 300k ;;
		short) head -c 1000 bad.saved ;;
		long) cat bad.saved bad.saved ;;
		esac >"$stored" &&
		rm -rf clone3 &&
		test_expect_code 1 git -c model.storage="file://$TRASH_DIRECTORY/dirstore" \
			clone -q honest.git clone3 2>err.$how &&
		grep "cannot download .bad.pth." err.$how &&
		git -C clone3 model pointer --check bad.pth &&
		test_cmp_bin honest/fine.pth clone3/fine.pth &&
		test_path_is_missing "$(obj_path clone3/.git/model/objects $bad)" &&
		test_model_store_ok clone3/.git &&
		test_model_tmp_clean clone3/.git || return 1
	done &&
	grep "does not match its object id" err.wrong &&
	grep "has 1000 bytes, its pointer says 307200" err.short &&
	grep "larger than its pointer says" err.long &&
	cp bad.saved "$stored" &&
	git -C clone3 -c model.storage="file://$TRASH_DIRECTORY/dirstore" \
		model pull 2>err.dfixed &&
	test_cmp_bin honest/bad.pth clone3/bad.pth &&
	test_model_store_ok clone3/.git
'

# A symbolic link is a blob git never filters; its target text may be a
# valid pointer to weights that are local. It stays a link: nothing is
# written to where it points, nor in its place.
test_expect_success SYMLINKS 'a committed symbolic link whose target is a pointer stays a link' '
	blob=$(git -C honest cat-file -p HEAD:fine.pth |
	       git -C honest hash-object -w --no-filters --stdin) &&
	git -C honest update-index --add --cacheinfo 120000,$blob,link.pth &&
	git -C honest commit -q -m "a link whose target is a pointer" &&
	git -C honest push -q --no-verify origin main &&
	rm -rf clone4 &&
	git clone -q honest.git clone4 2>err.link &&
	test -h clone4/link.pth &&
	git -C honest cat-file -p HEAD:fine.pth >link.expect &&
	test "$(readlink clone4/link.pth)" = "$(cat link.expect)" &&
	git -C clone4 model pull 2>err.link-pull &&
	git -C clone4 model checkout link.pth 2>err.link-co &&
	printf "%s\0" link.pth >clone4/.git/model-deferred &&
	git -C clone4 model post-checkout 2>err.link-hook &&
	test -h clone4/link.pth &&
	test "$(readlink clone4/link.pth)" = "$(cat link.expect)" &&
	git -C clone4 status --porcelain >out.st &&
	test_must_be_empty out.st
'

test_done
