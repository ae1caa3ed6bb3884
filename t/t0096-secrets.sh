#!/bin/sh

test_description='secrets never reach any output, file or log

An HTTP password from a credential helper and in a storage URL, a bearer
token in model.http.extraHeader (given through the environment, so that
no file holds it), and S3 keys and a session token in AWS_* variables.
Push, a failing push, clone, fetch, pull and env run with each, plain and
with GIT_TRACE=1 and GIT_CURL_VERBOSE=1; every output is kept in out.*
and err.*. The last tests grep those, every file of the trash directory
but the servers'"'"' own configuration and the credential helper'"'"'s file,
every object of every repository, and the servers'"'"' logs.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_httpd
start_s3 models

# A wrong password and a wrong secret are secrets too: a message must not
# echo what was refused either.
WRONG_PASSWORD=wrong-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")-pw
WRONG_SECRET=wrong-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")-key

# traced N CMD...: CMD (a command or a function) as run number N: 1
# plain, 2 with GIT_TRACE=1, 3 with GIT_CURL_VERBOSE=1 and GIT_TRACE_CURL=1.
traced () {
	(
		case $1 in
		2) GIT_TRACE=1 && export GIT_TRACE ;;
		3) GIT_CURL_VERBOSE=1 GIT_TRACE_CURL=1 &&
		   export GIT_CURL_VERBOSE GIT_TRACE_CURL ;;
		esac &&
		shift &&
		"$@"
	)
}

# run NAME CMD...: run CMD three times (see traced), stdout and stderr in
# out.NAME.N and err.NAME.N; all three must succeed.
run () {
	run_name_=$1
	shift
	for run_n_ in 1 2 3
	do
		traced $run_n_ "$@" >"out.$run_name_.$run_n_" \
			2>"err.$run_name_.$run_n_" || return 1
	done
}

# run_fail NAME CMD...: the same, and each must fail.
run_fail () {
	run_name_=$1
	shift
	for run_n_ in 1 2 3
	do
		test_must_fail traced $run_n_ "$@" >"out.$run_name_.$run_n_" \
			2>"err.$run_name_.$run_n_" || return 1
	done
}

# clone_fresh REPO DIR: a clone into DIR, removing what is there.
clone_fresh () {
	rm -rf "$2" &&
	git clone -q "$1" "$2"
}

# Every secret, one a line, for grep -f.
secrets () {
	printf "%s\n" "$HTTPD_PASSWORD" "$WRONG_PASSWORD" "$HTTPD_TOKEN" \
		"$S3_TOKEN_SECRET_ACCESS_KEY" "$S3_SESSION_TOKEN" \
		"$WRONG_SECRET"
}

# with_header VALUE CMD...: CMD with http.<bearer storage>.extraHeader=VALUE
# in the environment (as "git -c" passes it), so that no config file holds
# it; scoped to the storage URL that .gitmodel names, as git-model-config(5)
# says to trust it.
with_header () {
	(
		GIT_CONFIG_COUNT=1 &&
		GIT_CONFIG_KEY_0="http.$HTTPD_URL/bearer/.extraHeader" &&
		GIT_CONFIG_VALUE_0=$1 &&
		export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0 &&
		shift &&
		"$@"
	)
}

with_token () {
	with_header "Authorization: Bearer $HTTPD_TOKEN" "$@"
}

with_wrong_token () {
	with_header "Authorization: Bearer $WRONG_PASSWORD" "$@"
}

# with_aws SECRET CMD...: CMD with the session key, SECRET and its token.
with_aws () {
	(
		AWS_ACCESS_KEY_ID=$S3_TOKEN_ACCESS_KEY_ID &&
		AWS_SECRET_ACCESS_KEY=$1 &&
		AWS_SESSION_TOKEN=$S3_SESSION_TOKEN &&
		export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
		shift &&
		"$@"
	)
}

with_s3_keys () {
	with_aws "$S3_TOKEN_SECRET_ACCESS_KEY" "$@"
}

with_wrong_s3_secret () {
	with_aws "$WRONG_SECRET" "$@"
}

test_expect_success 'setup: three repositories, one per kind of secret' '
	git config --global model.compression none &&
	git model install &&
	git config --global credential.helper store &&
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" \
		>"$HOME/.git-credentials" &&
	for kind in basic bearer s3
	do
		git init -q --bare $kind.git &&
		git init -q $kind &&
		git -C $kind model track "*.pth" &&
		git -C $kind remote add origin ../$kind.git || return 1
	done &&
	git -C basic config -f .gitmodel model.storage "$HTTPD_URL/auth/models" &&
	git -C bearer config -f .gitmodel model.storage "$HTTPD_URL/bearer/models" &&
	git -C s3 config -f .gitmodel model.storage "s3://models/secret" &&
	git -C s3 config -f .gitmodel model.s3.endpoint "$S3_ENDPOINT" &&
	git config --global model.s3.endpoint "$S3_ENDPOINT" &&
	for kind in basic bearer s3
	do
		git -C $kind add .gitattributes .gitmodel &&
		commit_weights $kind a.pth || return 1
	done
'

test_expect_success 'basic auth from the credential helper: push, clone, fetch, env' '
	git -C basic push -q origin main 2>err.basic-push &&
	commit_weights basic b.pth &&
	run basic-push2 git -C basic push origin main &&
	test_path_is_file "$HTTPD_ROOT/auth/models/sha256/$(sha256sum <basic/b.pth | cut -c1-2)/$(sha256sum <basic/b.pth | cut -c3-4)/$(sha256sum <basic/b.pth | cut -d" " -f1)" &&
	run basic-clone clone_fresh basic.git basic-clone &&
	test_cmp_bin basic/b.pth basic-clone/b.pth &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q basic.git basic-lazy &&
	run basic-fetch git -C basic-lazy model fetch &&
	run basic-pull git -C basic-lazy model pull &&
	test_cmp_bin basic/a.pth basic-lazy/a.pth &&
	run basic-env git -C basic model env
'

test_expect_success 'basic auth: a wrong password fails clearly, says nothing of it' '
	commit_weights basic c.pth &&
	cp "$HOME/.git-credentials" creds.saved &&
	echo "http://$HTTPD_USER:$WRONG_PASSWORD@127.0.0.1:$HTTPD_PORT" \
		>"$HOME/.git-credentials" &&
	test_must_fail git -C basic push origin main >out.basic-wrong 2>err.basic-wrong &&
	grep "refused the credentials" err.basic-wrong &&
	echo "http://$HTTPD_USER:$WRONG_PASSWORD@127.0.0.1:$HTTPD_PORT" \
		>"$HOME/.git-credentials" &&
	test_must_fail traced 2 git -C basic push origin main \
		>out.basic-wrong2 2>err.basic-wrong2 &&
	echo "http://$HTTPD_USER:$WRONG_PASSWORD@127.0.0.1:$HTTPD_PORT" \
		>"$HOME/.git-credentials" &&
	test_must_fail traced 3 git -C basic push origin main \
		>out.basic-wrong3 2>err.basic-wrong3 &&
	cp creds.saved "$HOME/.git-credentials"
'

test_expect_success 'a password in the storage URL: not in the pointer, not in messages' '
	git -C basic config model.storage \
		"http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT/auth/models" &&
	commit_weights basic d.pth &&
	git -C basic cat-file -p HEAD:d.pth >pointer.d &&
	grep "^url $HTTPD_URL/auth/models/sha256/" pointer.d &&
	run basic-url-push git -C basic push origin main &&
	run basic-url-env git -C basic model env &&
	run basic-url-ls git -C basic model ls-files &&
	git -C basic config model.storage \
		"http://$HTTPD_USER:$WRONG_PASSWORD@127.0.0.1:$HTTPD_PORT/auth/models" &&
	commit_weights basic e.pth &&
	run_fail basic-url-wrong git -C basic push origin main &&
	grep "refused the credentials" err.basic-url-wrong.1 &&
	git -C basic config --unset model.storage
'

test_expect_success 'a bearer token in http.<url>.extraHeader: push, clone, fetch, env' '
	with_token git -C bearer push -q origin main 2>err.bearer-push &&
	commit_weights bearer b.pth &&
	run bearer-push2 with_token git -C bearer push origin main &&
	run bearer-clone with_token clone_fresh bearer.git bearer-clone &&
	test_cmp_bin bearer/b.pth bearer-clone/b.pth &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q bearer.git bearer-lazy &&
	run bearer-fetch with_token git -C bearer-lazy model fetch &&
	run bearer-pull with_token git -C bearer-lazy model pull &&
	test_cmp_bin bearer/a.pth bearer-lazy/a.pth &&
	run bearer-env with_token git -C bearer model env &&
	grep -i -F "command	http.$HTTPD_URL/bearer/.extraheader=Authorization: ***" out.bearer-env.1
'

test_expect_success 'a wrong bearer token: 401, push refused, the token not echoed' '
	commit_weights bearer c.pth &&
	run_fail bearer-wrong with_wrong_token git -C bearer push origin main &&
	grep "401" err.bearer-wrong.1 &&
	run_fail bearer-none git -C bearer push origin main
'

test_expect_success 'S3 keys and a session token in the environment: push, clone, fetch, env' '
	with_s3_keys git -C s3 push -q origin main 2>err.s3-push &&
	commit_weights s3 b.pth &&
	run s3-push2 with_s3_keys git -C s3 push origin main &&
	run s3-clone with_s3_keys clone_fresh s3.git s3-clone &&
	test_cmp_bin s3/b.pth s3-clone/b.pth &&
	GIT_MODEL_SKIP_SMUDGE=1 git clone -q s3.git s3-lazy &&
	run s3-fetch with_s3_keys git -C s3-lazy model fetch &&
	run s3-pull with_s3_keys git -C s3-lazy model pull &&
	test_cmp_bin s3/a.pth s3-lazy/a.pth &&
	run s3-env with_s3_keys git -C s3 model env &&
	run s3-url with_s3_keys git -C s3 model url --https a.pth
'

test_expect_success 'a wrong S3 secret: SignatureDoesNotMatch, the secret not echoed' '
	commit_weights s3 c.pth &&
	run_fail s3-wrong with_wrong_s3_secret git -C s3 push origin main &&
	grep "SignatureDoesNotMatch" err.s3-wrong.1
'

test_expect_success 'no secret in any captured output' '
	secrets >secrets.list &&
	test_line_count = 6 secrets.list &&
	ls out.* err.* >captured &&
	test_line_count -gt 40 captured &&
	# the GIT_TRACE=1 runs did trace
	grep "trace: run_command: .*hooks/pre-push" err.basic-push2.2 &&
	! grep -a -F -f secrets.list out.* err.*
'

test_expect_success 'no secret in any file of the trash directory' '
	# the servers must know them, and the helper keeps its password
	! grep -r -a -l -F -f secrets.list . \
		--exclude=secrets.list \
		--exclude=.git-credentials --exclude=creds.saved \
		--exclude=locations.conf --exclude=htpasswd \
		--exclude=credentials --exclude=proxy.err
'

test_expect_success 'no secret in any object of any repository' '
	find . -maxdepth 3 -type f -path "*.git/HEAD" >heads &&
	test_line_count -ge 10 heads &&
	for gitdir in $(sed "s,/HEAD\$,," heads)
	do
		git --git-dir="$gitdir" cat-file --batch-all-objects --batch \
			>objects.dump &&
		! grep -a -F -f secrets.list objects.dump || {
			echo >&4 "a secret in $gitdir"
			return 1
		}
	done
'

test_expect_success 'no secret in the servers'"'"' logs' '
	test_file_not_empty "$HTTPD_ACCESS_LOG" &&
	test_file_not_empty "$S3_PROXY_LOG" &&
	! grep -a -F -f secrets.list "$HTTPD_ACCESS_LOG" "$HTTPD_DIR/error.log" \
		"$S3_PROXY_LOG" &&
	# The proxy dumps the signed headers of a request it refuses, and
	# x-amz-security-token is one: the session token must be sent. No
	# other secret is ever sent to S3.
	grep -v -F "$S3_SESSION_TOKEN" secrets.list >never-sent.list &&
	! grep -r -a -l -F -f never-sent.list "$S3_DIR" --exclude=credentials &&
	! grep -r -a -l -F -f secrets.list "$S3_DIR" --exclude=credentials \
		--exclude=proxy.err
'

test_done
