#!/bin/sh

test_description='a pointer url is followed only under model.allowPointerUrls, anonymously'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-httpd.sh"

start_httpd

obj_path () {
	echo "sha256/$(echo $1 | cut -c1-2)/$(echo $1 | cut -c3-4)/$1"
}

# commit_pointer FILE URL-BASE: commit a pointer to FILE's bytes (which are
# put in the local store, then removed) with url URL-BASE/<object path>.
commit_pointer () {
	oid=$(oid_of "$1") &&
	printf "version git-model/1\noid sha256:%s\nsize %s\nurl %s/%s\n" \
		$oid $(wc -c <"$1") "$2" "$(obj_path $oid)" >"ptr-$1" &&
	cp "ptr-$1" "work/$1" &&
	git -C work add "$1" &&
	git -C work commit -q -m "$1"
}

# fresh_clone NAME: a clone whose remote is neither local nor http(s)
# (whose Git LFS server would be its storage) and which has no
# model.storage, so the only way to the weights is the pointers' urls.
fresh_clone () {
	rm -rf "$1" &&
	git clone -q --no-checkout remote.git "$1" &&
	git -C "$1" remote set-url origin git://git.example.invalid/models.git
}

test_expect_success 'setup: weights on nginx, pointers with url lines' '
	git model install &&
	git config --global credential.helper "!f() { echo called >>\"$TRASH_DIRECTORY/helper.log\"; echo username=$HTTPD_USER; echo password=$HTTPD_PASSWORD; }; f" &&
	git init -q --bare remote.git &&
	git init -q work &&
	git -C work model track "*.pth" &&
	git -C work add .gitattributes &&
	git -C work commit -q -m attributes &&
	test-tool genrandom good 300k >good.pth &&
	mkdir -p "$HTTPD_ROOT/open/models/$(dirname $(obj_path $(oid_of good.pth)))" &&
	cp good.pth "$HTTPD_ROOT/open/models/$(obj_path $(oid_of good.pth))" &&
	commit_pointer good.pth "$HTTPD_URL/open/models" &&
	git -C work push -q --no-verify ../remote.git main
'

test_expect_success 'not allowed: the url is not requested, the pointer stays' '
	fresh_clone c1 &&
	test_expect_code 1 git -C c1 checkout -q main 2>err &&
	git -C c1 model pointer --check good.pth &&
	test "$(httpd_log_count GET 200 "/open/models/")" = 0 &&
	grep "no model.storage is set" err
'

test_expect_success 'allowed prefix: the weights come from the url' '
	fresh_clone c2 &&
	git -C c2 config model.allowPointerUrls "$HTTPD_URL/open/" &&
	git -C c2 checkout -q main 2>err &&
	test_cmp_bin good.pth c2/good.pth &&
	# a url is not the repository'"'"'s storage: never lent (t0105)
	test "$(stat -c %h c2/good.pth)" = 1 &&
	test_path_is_file "$(obj c2/.git/model/objects $(oid_of good.pth))" &&
	httpd_log_wait 1 GET 200 "/open/models/sha256/"
'

test_expect_success 'git model fetch follows allowed urls too' '
	fresh_clone c3 &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C c3 checkout -q main &&
	test_must_fail git -C c3 model fetch 2>err &&
	grep "cannot download weights" err &&
	git -C c3 -c model.allowPointerUrls="$HTTPD_URL/open/models" model fetch &&
	git -C c3 model checkout &&
	test_cmp_bin good.pth c3/good.pth
'

test_expect_success 'a prefix must end at a path boundary' '
	fresh_clone c4 &&
	git -C c4 config model.allowPointerUrls "$HTTPD_URL/op" &&
	test_expect_code 1 git -C c4 checkout -q main 2>err &&
	git -C c4 model pointer --check good.pth &&
	grep "not under model.allowPointerUrls" err
'

test_expect_success 'setup: hostile urls' '
	mkdir canary &&
	test-tool genrandom canary 100k >canary.pth &&
	mkdir -p "canary/$(dirname $(obj_path $(oid_of canary.pth)))" &&
	cp canary.pth "canary/$(obj_path $(oid_of canary.pth))" &&
	commit_pointer canary.pth "file://$TRASH_DIRECTORY/canary" &&
	test-tool genrandom meta 100k >meta.pth &&
	commit_pointer meta.pth "http://169.254.169.254/latest/meta-data" &&
	test-tool genrandom other 100k >other.pth &&
	test-tool genrandom elsewhere 100k >elsewhere.pth &&
	oid=$(oid_of other.pth) &&
	printf "version git-model/1\noid sha256:%s\nsize %s\nurl %s/%s\n" \
		$oid $(wc -c <other.pth) "$HTTPD_URL/open/models" \
		"$(obj_path $(oid_of good.pth))" >work/other.pth &&
	git -C work add other.pth &&
	git -C work commit -q -m other &&
	test-tool genrandom secret 100k >secret.pth &&
	mkdir -p "$HTTPD_ROOT/token/models/$(dirname $(obj_path $(oid_of secret.pth)))" &&
	cp secret.pth "$HTTPD_ROOT/token/models/$(obj_path $(oid_of secret.pth))" &&
	commit_pointer secret.pth "$HTTPD_URL/token/models" &&
	test-tool genrandom liar 100k >liar.pth &&
	mkdir -p "$HTTPD_ROOT/open/models/$(dirname $(obj_path $(oid_of liar.pth)))" &&
	test-tool genrandom not-liar 100k >"$HTTPD_ROOT/open/models/$(obj_path $(oid_of liar.pth))" &&
	commit_pointer liar.pth "$HTTPD_URL/open/models" &&
	git -C work push -q --no-verify ../remote.git main
'

test_expect_success 'file:// is never followed, even with * allowed' '
	fresh_clone c5 &&
	git -C c5 config model.allowPointerUrls "*" &&
	git -C c5 config model.retries 1 &&
	git -C c5 config model.http.extraHeader "X-Test-Token: token-123" &&
	rm -f helper.log &&
	test_expect_code 1 git -C c5 checkout -q main 2>err &&
	git -C c5 model pointer --check canary.pth &&
	grep "canary.pth.*only http:// and https:// urls are followed" err &&
	! grep -r -l -F "$(head -c 64 canary.pth | od -An -tx1 | head -1)" c5/.git/model 2>/dev/null
'

test_expect_success 'a url naming another object is not followed' '
	git -C c5 model pointer --check other.pth &&
	grep "other.pth.*own path" err
'

test_expect_success 'no credentials go to a pointer url host' '
	git -C c5 model pointer --check secret.pth &&
	grep "wants credentials" err &&
	test_path_is_missing helper.log &&
	test "$(httpd_log_count GET 401 "/token/models/")" -ge 1 &&
	test "$(httpd_log_count GET 200 "/token/models/")" = 0
'

test_expect_success 'bytes that do not match the oid are not stored' '
	git -C c5 model pointer --check liar.pth &&
	test_path_is_missing "c5/.git/model/objects/$(obj_path $(oid_of liar.pth))" &&
	grep "liar.pth" err &&
	test_cmp_bin good.pth c5/good.pth
'

test_expect_success 'dot segments cannot leave an allowed prefix' '
	test-tool genrandom dots 100k >dots.pth &&
	mkdir -p "$HTTPD_ROOT/token/models/$(dirname $(obj_path $(oid_of dots.pth)))" &&
	cp dots.pth "$HTTPD_ROOT/token/models/$(obj_path $(oid_of dots.pth))" &&
	commit_pointer dots.pth "$HTTPD_URL/open/../token/models" &&
	git -C work push -q --no-verify ../remote.git main &&
	fresh_clone c9 &&
	git -C c9 config model.allowPointerUrls "$HTTPD_URL/open/" &&
	test_expect_code 1 git -C c9 checkout -q main 2>err &&
	git -C c9 model pointer --check dots.pth &&
	grep "dots.pth.*dot segments" err
'

test_expect_success 'a metadata-service url is not requested unless listed' '
	fresh_clone c6 &&
	git -C c6 config model.allowPointerUrls "$HTTPD_URL/open/" &&
	test_expect_code 1 git -C c6 checkout -q main 2>err &&
	git -C c6 model pointer --check meta.pth &&
	grep "meta.pth.*not under model.allowPointerUrls" err
'

test_expect_success 'a committed .gitmodel cannot allow pointer urls' '
	fresh_clone c8 &&
	git -C c8 show main:.gitattributes >/dev/null &&
	test_expect_code 1 git -C c8 checkout -q main 2>/dev/null &&
	git -C c8 config -f .gitmodel model.allowPointerUrls "*" &&
	git -C c8 add .gitmodel &&
	git -C c8 commit -q -m "allow all" &&
	git -C c8 model env >env &&
	rm -f c8/good.pth &&
	test_expect_code 1 git -C c8 checkout -- good.pth 2>err &&
	git -C c8 model pointer --check good.pth
'

test_expect_success 'configured storage wins over pointer urls' '
	fresh_clone c7 &&
	mkdir -p store7 &&
	git -C c7 config model.storage "file://$TRASH_DIRECTORY/store7" &&
	git -C c7 config model.allowPointerUrls "*" &&
	before=$(httpd_log_count GET 200 "/open/models/") &&
	test_expect_code 1 git -C c7 checkout -q main 2>err &&
	git -C c7 model pointer --check good.pth &&
	test "$(httpd_log_count GET 200 "/open/models/")" = "$before"
'

test_expect_success 'a url with userinfo is not followed, in any spelling' '
	oid=$(oid_of good.pth) &&
	before=$(httpd_log_count GET 200 "/open/models/") &&
	for ui in "$HTTPD_USER:$HTTPD_PASSWORD@" "$HTTPD_USER@" "a@b@" "u:p%40@"
	do
		rm -rf ui &&
		git init -q ui &&
		git -C ui model track "*.pth" &&
		printf "version git-model/1\noid sha256:%s\nsize %s\nurl %s/%s\n" \
			$oid $(wc -c <good.pth) \
			"http://${ui}127.0.0.1:$HTTPD_PORT/open/models" \
			"$(obj_path $oid)" >ui/good.pth &&
		git -C ui add .gitattributes good.pth &&
		git -C ui commit -q -m ui &&
		test_must_fail git -C ui -c model.allowPointerUrls="*" \
			model fetch 2>err &&
		grep "credentials, a query or a fragment is not followed" err &&
		! grep -e "$HTTPD_PASSWORD" err || return 1
	done &&
	test "$(httpd_log_count GET 200 "/open/models/")" = "$before"
'

test_done
