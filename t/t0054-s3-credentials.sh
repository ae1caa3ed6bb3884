#!/bin/sh

test_description='S3 credentials from every source the AWS CLI and SDKs read

STS, the container credentials endpoint and EC2 instance metadata are test
doubles on 127.0.0.1 (t/s3/aws-doubles.js), for what s3rver lacks; the
tests point git-model at them with the SDKs own environment variables.
Where the real AWS CLI is installed, it resolves the same settings against
the same server.'

. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 models
start_aws_doubles

AWS_CONFIG_FILE=$TRASH_DIRECTORY/aws-config
AWS_SHARED_CREDENTIALS_FILE=$TRASH_DIRECTORY/aws-credentials
export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

command -v aws >/dev/null 2>&1 && test_set_prereq AWSCLI

# push_with ENV...: commit one more file and push it with ENV added to
# an environment with no AWS keys; the push must upload it.
push_with () {
	n=$(s3_log_count PUT 200) &&
	f=$(ls work | wc -l) &&
	test-tool genrandom "w$f" 100k >work/w$f.pth &&
	git -C work add w$f.pth &&
	git -C work commit -q -m "w$f" &&
	env "$@" git -C work push -q origin main 2>err &&
	test "$(s3_log_count PUT 200)" -gt $n &&
	test "$(git -C remote.git rev-parse main)" = "$(git -C work rev-parse main)"
}

# push_fails_with ENV...: commit one more file; its push fails and sends
# S3 nothing.
push_fails_with () {
	n=$(wc -l <"$S3_PROXY_LOG") &&
	f=$(ls work | wc -l) &&
	test-tool genrandom "f$f" 100k >work/f$f.pth &&
	git -C work add f$f.pth &&
	git -C work commit -q -m "f$f" &&
	test_must_fail env "$@" git -C work push origin main 2>err &&
	test "$(wc -l <"$S3_PROXY_LOG")" = "$n"
}

# aws_ls ENV...: the AWS CLI lists the bucket through the proxy, with ENV.
aws_ls () {
	env "$@" aws s3 ls --endpoint-url "$S3_ENDPOINT" s3://models/ >ls.out
}

test_expect_success 'setup: storage and endpoint configured, no AWS keys anywhere' '
	s3_setup_work s3://models/team "$S3_ENDPOINT" &&
	git config --global model.s3.region us-east-1 &&
	: >"$AWS_CONFIG_FILE" &&
	: >"$AWS_SHARED_CREDENTIALS_FILE" &&
	test-tool genrandom a 300k >work/a.pth &&
	git -C work add . &&
	git -C work commit -q -m a
'

test_expect_success 'no credentials at all: an error saying what to set, nothing sent' '
	push_fails_with &&
	grep "error: no AWS credentials for .s3://models/team. (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for a public bucket, git config model.s3.anonymous true)" err
'

test_expect_success 'model.s3.anonymous: requests go unsigned, as asked' '
	test_must_fail git -C work -c model.s3.anonymous=true \
		push origin main 2>err &&
	grep AccessDenied err &&
	test "$(s3_log_count HEAD 403 "/models/team/")" -ge 1 &&
	grep " sig=missing " "$S3_PROXY_LOG"
'

test_expect_success 'model.s3.anonymous from .gitmodel is not asking' '
	git -C work config -f .gitmodel model.s3.anonymous true &&
	test_when_finished "git -C work config -f .gitmodel --unset model.s3.anonymous" &&
	push_fails_with &&
	grep "error: no AWS credentials for" err
'

test_expect_success 'partial keys in the environment: the CLI'"'"'s error' '
	push_fails_with AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID &&
	grep "error: partial credentials found in the environment, missing: AWS_SECRET_ACCESS_KEY" err &&
	push_fails_with AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY &&
	grep "missing: AWS_ACCESS_KEY_ID" err &&
	! grep "$S3_SECRET_ACCESS_KEY" err
'

test_expect_success AWSCLI 'the AWS CLI says the same about partial keys' '
	! aws_ls AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID 2>aws.err &&
	grep -i "partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY" aws.err
'

test_expect_success 'keys from the environment' '
	push_with AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
'

test_expect_success 'a profile that does not exist is an error naming it' '
	push_fails_with AWS_PROFILE=nosuch &&
	grep "error: the AWS profile .nosuch. could not be found" err &&
	grep "check AWS_PROFILE" err &&
	push_fails_with AWS_DEFAULT_PROFILE=nosuch2 &&
	grep "error: the AWS profile .nosuch2. could not be found" err &&
	grep "check AWS_DEFAULT_PROFILE" err
'

test_expect_success AWSCLI 'the AWS CLI refuses the missing profile too' '
	! aws_ls AWS_PROFILE=nosuch 2>aws.err &&
	grep "could not be found" aws.err
'

test_expect_success 'shared files: [x] in credentials, [profile x] in config, keys in any case' '
	cat >"$AWS_SHARED_CREDENTIALS_FILE" <<-EOF &&
	[default]
	aws_access_key_id = AKIDWRONG
	aws_secret_access_key = wrong

	[creds]
	AWS_Access_Key_ID = $S3_OTHER_ACCESS_KEY_ID
	aws_secret_access_key = $S3_OTHER_SECRET_ACCESS_KEY
	EOF
	cat >"$AWS_CONFIG_FILE" <<-EOF &&
	[profile   conf]
	aws_access_key_id = $S3_ACCESS_KEY_ID
	aws_secret_access_key = $S3_SECRET_ACCESS_KEY

	[conf]
	aws_access_key_id = AKIDNOTAPROFILE
	aws_secret_access_key = wrong
	EOF
	push_with AWS_PROFILE=creds &&
	push_with AWS_PROFILE=conf &&
	push_with AWS_DEFAULT_PROFILE=creds &&
	push_with AWS_PROFILE=conf AWS_DEFAULT_PROFILE=nosuch &&
	push_fails_with AWS_PROFILE=nosuch AWS_DEFAULT_PROFILE=creds &&
	grep "profile .nosuch." err
'

test_expect_success AWSCLI 'the AWS CLI reads the same keys from those sections' '
	AWS_PROFILE=creds aws configure get aws_access_key_id >key &&
	echo "$S3_OTHER_ACCESS_KEY_ID" >expect &&
	test_cmp expect key &&
	AWS_PROFILE=conf aws configure get aws_access_key_id >key &&
	echo "$S3_ACCESS_KEY_ID" >expect &&
	test_cmp expect key &&
	aws_ls AWS_PROFILE=creds &&
	aws_ls AWS_PROFILE=conf
'

test_expect_success 'setup: a credential process' '
	mkdir "dir with space" &&
	write_script "dir with space/creds" <<-\EOF
	printf "%s\n" "$@" >"$TRASH_DIRECTORY/process.args"
	echo run >>"$TRASH_DIRECTORY/process.runs"
	test "$1" = fail && exit 3
	exp=${PROCESS_EXPIRATION:+", \"Expiration\": \"$PROCESS_EXPIRATION\""}
	printf "{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"%s}\n" \
		"$S3_OTHER_ACCESS_KEY_ID" "$S3_OTHER_SECRET_ACCESS_KEY" "$exp"
	EOF
'

test_expect_success 'credential_process: run without a shell, words split as the CLI does' '
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile proc]
	credential_process = "$TRASH_DIRECTORY/dir with space/creds" one\ word '"'"'\$(touch pwned)'"'"' "a \"b\""
	EOF
	push_with AWS_PROFILE=proc &&
	cat >expect <<-\EOF &&
	one word
	$(touch pwned)
	a "b"
	EOF
	test_cmp expect process.args &&
	test_path_is_missing pwned &&
	test_path_is_missing work/pwned
'

test_expect_success AWSCLI 'the AWS CLI runs the process with the same words' '
	rm process.args &&
	aws_ls AWS_PROFILE=proc &&
	test_cmp expect process.args
'

test_expect_success 'credential_process: a failure and an expired answer are errors' '
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile procfail]
	credential_process = "$TRASH_DIRECTORY/dir with space/creds" fail
	EOF
	push_fails_with AWS_PROFILE=procfail &&
	grep "error: the credential_process of AWS profile .procfail. exited with 3" err &&
	push_fails_with AWS_PROFILE=proc PROCESS_EXPIRATION=2001-01-01T00:00:00Z &&
	grep "error: the credentials from the credential_process of AWS profile .proc. expired at 2001-01-01T00:00:00Z" err &&
	push_with AWS_PROFILE=proc PROCESS_EXPIRATION=2099-01-01T00:00:00.000Z
'

test_expect_success 'credential_process: run again when its credentials near expiry' '
	rm -f process.runs &&
	exp=$(date -u -d "@$(($(date +%s) + 300))" +%Y-%m-%dT%H:%M:%SZ) &&
	test-tool genrandom p1 100k >work/p1.pth &&
	test-tool genrandom p2 100k >work/p2.pth &&
	git -C work add p1.pth p2.pth &&
	git -C work commit -q -m p &&
	env AWS_PROFILE=proc PROCESS_EXPIRATION=$exp \
		git -C work push -q origin main &&
	test $(wc -l <process.runs) -gt 1 &&
	rm process.runs &&
	push_with AWS_PROFILE=proc &&
	test $(wc -l <process.runs) = 1
'

test_expect_success 'role_arn + source_profile: STS AssumeRole, signed by the source' '
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile role]
	role_arn = arn:aws:iam::123456789012:role/models
	source_profile = creds
	role_session_name = ci-run
	EOF
	push_with AWS_PROFILE=role AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "^POST / AssumeRole 200 key=$S3_OTHER_ACCESS_KEY_ID role=arn:aws:iam::123456789012:role/models session=ci-run$" "$AWS_DOUBLES_LOG"
'

test_expect_success 'role_arn + credential_source; the profile'"'"'s services section names STS' '
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile role2]
	role_arn = arn:aws:iam::123456789012:role/two
	credential_source = EcsContainer
	services = doubles

	[services doubles]
	sts =
	  endpoint_url = $AWS_DOUBLES
	EOF
	: >"$AWS_DOUBLES_LOG" &&
	push_with AWS_PROFILE=role2 \
		AWS_CONTAINER_CREDENTIALS_FULL_URI=$AWS_DOUBLES/container/credentials &&
	sed -e "s/ key=ASIADBL[0-9X]* / key=K /" -e "s/session=.*//" "$AWS_DOUBLES_LOG" >actual &&
	cat >expect <<-\EOF &&
	GET /container/credentials container 200
	POST / AssumeRole 200 key=K role=arn:aws:iam::123456789012:role/two 
	EOF
	test_cmp expect actual
'

test_expect_success 'role_arn: a source whose key STS refuses, and an expired answer' '
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile badsource]
	role_arn = arn:aws:iam::123456789012:role/models
	source_profile = default
	EOF
	push_fails_with AWS_PROFILE=badsource AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "error: STS at .$AWS_DOUBLES. refused AssumeRole of .arn:aws:iam::123456789012:role/models. (AWS profile .badsource.): 403 InvalidClientTokenId" err &&
	echo "{\"duration\": -60}" >"$AWS_DOUBLES_SETTINGS" &&
	push_fails_with AWS_PROFILE=role AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	rm "$AWS_DOUBLES_SETTINGS" &&
	grep "error: the credentials from AssumeRole of .arn:aws:iam::123456789012:role/models. (AWS profile .role.) expired at " err
'

test_expect_success 'web identity: the profile'"'"'s token file, and AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE' '
	echo "{\"webIdentityToken\": \"eyJ.the-token.sig\"}" >"$AWS_DOUBLES_SETTINGS" &&
	echo "eyJ.the-token.sig" >token &&
	cat >>"$AWS_CONFIG_FILE" <<-EOF &&
	[profile eks]
	role_arn = arn:aws:iam::123456789012:role/eks
	web_identity_token_file = $TRASH_DIRECTORY/token
	EOF
	push_with AWS_PROFILE=eks AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "^POST / AssumeRoleWithWebIdentity 200  role=arn:aws:iam::123456789012:role/eks" "$AWS_DOUBLES_LOG" &&
	push_with AWS_ROLE_ARN=arn:aws:iam::123456789012:role/env \
		AWS_WEB_IDENTITY_TOKEN_FILE="$TRASH_DIRECTORY/token" \
		AWS_ROLE_SESSION_NAME=pod-1 AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "^POST / AssumeRoleWithWebIdentity 200  role=arn:aws:iam::123456789012:role/env session=pod-1$" "$AWS_DOUBLES_LOG" &&
	echo wrong >token &&
	push_fails_with AWS_PROFILE=eks AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "400 InvalidIdentityToken" err &&
	! grep wrong err
'

test_expect_success 'container endpoint: FULL_URI with its authorization token' '
	echo "{\"containerToken\": \"Bearer tok-123\"}" >"$AWS_DOUBLES_SETTINGS" &&
	printf "Bearer tok-123\n" >ctoken &&
	: >"$AWS_DOUBLES_LOG" &&
	# the default profile'"'"'s keys would come first
	no_keys=AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials &&
	push_with $no_keys AWS_CONTAINER_CREDENTIALS_FULL_URI=$AWS_DOUBLES/container/credentials \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$TRASH_DIRECTORY/ctoken" &&
	push_with $no_keys AWS_CONTAINER_CREDENTIALS_FULL_URI=$AWS_DOUBLES/container/credentials \
		AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer tok-123" &&
	test "$(grep -c "^GET /container/credentials container 200" "$AWS_DOUBLES_LOG")" = 2 &&
	push_fails_with $no_keys AWS_CONTAINER_CREDENTIALS_FULL_URI=$AWS_DOUBLES/container/credentials \
		AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong" &&
	grep "HTTP 401" err &&
	! grep "Bearer" err
'

test_expect_success 'container endpoint: FULL_URI only to loopback or https' '
	push_fails_with $no_keys AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds &&
	grep "error: AWS_CONTAINER_CREDENTIALS_FULL_URI .http://192.0.2.1/creds. must be https or a loopback address" err
'

test_expect_success 'EC2 instance metadata: an IMDSv2 token first, then the role'"'"'s keys' '
	: >"$AWS_DOUBLES_LOG" &&
	push_with $no_keys AWS_EC2_METADATA_DISABLED= \
		AWS_EC2_METADATA_SERVICE_ENDPOINT=$AWS_DOUBLES/ &&
	cat >expect <<-\EOF &&
	PUT /latest/api/token imds-token 200
	GET /latest/meta-data/iam/security-credentials/ imds-role 200
	GET /latest/meta-data/iam/security-credentials/test-role imds-creds 200
	EOF
	sed -n "1,3p" "$AWS_DOUBLES_LOG" >actual &&
	test_cmp expect actual &&
	: >"$AWS_DOUBLES_LOG" &&
	push_fails_with $no_keys AWS_EC2_METADATA_DISABLED=true \
		AWS_EC2_METADATA_SERVICE_ENDPOINT=$AWS_DOUBLES/ &&
	test_must_be_empty "$AWS_DOUBLES_LOG" &&
	grep "no AWS credentials" err
'

test_expect_success 'temporary credentials are fetched again before they expire' '
	echo "{\"duration\": 300}" >"$AWS_DOUBLES_SETTINGS" &&
	: >"$AWS_DOUBLES_LOG" &&
	test-tool genrandom r1 100k >work/r1.pth &&
	test-tool genrandom r2 100k >work/r2.pth &&
	test-tool genrandom r3 100k >work/r3.pth &&
	git -C work add r1.pth r2.pth r3.pth &&
	git -C work commit -q -m r &&
	env AWS_PROFILE=role AWS_ENDPOINT_URL_STS=$AWS_DOUBLES \
		git -C work push -q origin main &&
	test "$(grep -c "AssumeRole 200" "$AWS_DOUBLES_LOG")" -gt 1 &&
	rm "$AWS_DOUBLES_SETTINGS" &&
	: >"$AWS_DOUBLES_LOG" &&
	push_with AWS_PROFILE=role AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	test "$(grep -c "AssumeRole 200" "$AWS_DOUBLES_LOG")" = 1
'

test_expect_success 'setup: an endpoint and a region from the profile, as the CLI has them' '
	cat >>"$AWS_SHARED_CREDENTIALS_FILE" <<-EOF &&

	[ep]
	aws_access_key_id = $S3_ACCESS_KEY_ID
	aws_secret_access_key = $S3_SECRET_ACCESS_KEY
	EOF
	cat >>"$AWS_CONFIG_FILE" <<-EOF
	[profile ep]
	region = eu-central-1
	endpoint_url = http://127.0.0.1:9/dead
	services = here

	[services here]
	s3 =
	  endpoint_url = $S3_ENDPOINT
	EOF
'

# Neither git config names the endpoint or the region here: the profile
# does; .gitmodel's endpoint comes after the profile's.
no_git_endpoint () {
	git config --global --unset model.s3.endpoint &&
	git config --global --unset model.s3.region &&
	test_when_finished "git config --global model.s3.endpoint \"\$S3_ENDPOINT\" &&
		git config --global model.s3.region us-east-1" &&
	echo "models eu-central-1" >"$S3_REGIONS" &&
	test_when_finished "rm -f \"\$S3_REGIONS\""
}

test_expect_success 'the services section'"'"'s endpoint and the profile'"'"'s region' '
	no_git_endpoint &&
	bad=$(s3_log_count HEAD 400) &&
	push_with AWS_PROFILE=ep &&
	! grep "warning: bucket" err &&
	test "$(s3_log_count HEAD 400)" = "$bad" &&
	# AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL and the profile
	push_with AWS_PROFILE=ep AWS_ENDPOINT_URL_S3=$S3_ENDPOINT \
		AWS_ENDPOINT_URL=http://127.0.0.1:9/dead
'

test_expect_success AWSCLI 'the AWS CLI resolves the same endpoint and region' '
	no_git_endpoint &&
	echo eu-central-1 >expect &&
	AWS_PROFILE=ep aws configure get region >actual &&
	test_cmp expect actual &&
	n=$(s3_log_count GET 200 "^/models[?]list-type=2") &&
	bad=$(s3_log_count GET 400) &&
	# no --endpoint-url: the CLI takes the services section'"'"'s, as
	# git-model did, and signs for the profile'"'"'s region, the bucket'"'"'s
	AWS_PROFILE=ep aws s3 ls s3://models/ &&
	test "$(s3_log_count GET 200 "^/models[?]list-type=2")" = $((n + 1)) &&
	AWS_PROFILE=ep AWS_ENDPOINT_URL_S3=$S3_ENDPOINT \
		AWS_ENDPOINT_URL=http://127.0.0.1:9/dead \
		aws s3 ls s3://models/ &&
	test "$(s3_log_count GET 200 "^/models[?]list-type=2")" = $((n + 2)) &&
	test "$(s3_log_count GET 400)" = "$bad"
'

test_expect_success 'no secret in errors, traces or git model env' '
	push_with GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" AWS_PROFILE=role \
		AWS_ENDPOINT_URL_STS=$AWS_DOUBLES &&
	grep "POST / HTTP" trace &&
	grep "x-amz-security-token: <redacted>" trace &&
	cp err push.err &&
	echo "eyJ.the-token.sig" >token &&
	echo "{\"webIdentityToken\": \"another\"}" >"$AWS_DOUBLES_SETTINGS" &&
	push_fails_with AWS_PROFILE=eks AWS_ENDPOINT_URL_STS=$AWS_DOUBLES \
		GIT_TRACE_CURL="$TRASH_DIRECTORY/trace" &&
	grep InvalidIdentityToken err &&
	env AWS_PROFILE=role git -C work model env >env.out 2>&1 &&
	cat push.err err env.out trace >all &&
	! grep -F -e "eyJ.the-token.sig" all &&
	while read id secret token
	do
		! grep -F -e "$secret" all || return 1
		test -z "$token" || ! grep -F -e "$token" all || return 1
	done <"$S3_CREDENTIALS"
'

test_done
