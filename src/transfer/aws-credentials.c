#include "aws-credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "http.h"
#include "run-command.h"
#include "s3-xml.h"
#include "url.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define AWS_ANSWER_MAX (64 * 1024)
#define AWS_TOKEN_MAX (16 * 1024)
#define AWS_PROFILE_DEPTH 5
#define IMDS_TIMEOUT_MS 1000
#define CONTAINER_TIMEOUT_MS 2000
#define STS_TIMEOUT 30

static void wipe(struct strbuf *sb)
{
	explicit_bzero(sb->buf, sb->len);
	strbuf_release(sb);
}

static void take(struct aws_config *c, const char *id, const char *secret,
		 const char *token, time_t expiration, const char *source)
{
	c->access_key = xstrdup(id);
	c->secret_key = xstrdup(secret);
	c->session_token = token && *token ? xstrdup(token) : NULL;
	c->expiration = expiration;
	c->source = xstrdup(source);
}

/* An ISO 8601 UTC time ("2026-12-03T02:00:00Z", fractions allowed). */
static int parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		for (end++; isdigit((unsigned char)*end); end++)
			;
	if (*end && strcmp(end, "Z") && strcmp(end, "+00:00"))
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Expiration text into *out; an expired one is an error naming `source`. */
static int check_expiration(const char *text, const char *source,
			    time_t *out)
{
	*out = 0;
	if (!text || !*text)
		return 0;
	if (parse_time(text, out) < 0)
		return error("cannot read the Expiration '%s' of the "
			     "credentials from %s", text, source);
	if (*out <= time(NULL))
		return error("the credentials from %s expired at %s (renew "
			     "them, or fix this machine's clock)", source, text);
	return 0;
}


static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Credentials from a JSON document with AccessKeyId, SecretAccessKey,
 * `token_key` and Expiration (credential_process, container, IMDS).
 * 1 taken, -1 (reported) when they are not there.
 */
static int take_json(struct aws_config *c, const char *text, size_t len,
		     const char *token_key, const char *source)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *root = NULL;
	const char *id, *secret;
	time_t exp;
	int ret = -1;

	if (!tok)
		return error("out of memory");
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || !json_object_is_type(root, json_type_object)) {
		error("the answer of %s is not a JSON object", source);
		goto cleanup;
	}
	id = json_str(root, "AccessKeyId");
	secret = json_str(root, "SecretAccessKey");
	if (!id || !*id || !secret || !*secret) {
		error("the answer of %s has no AccessKeyId and "
		      "SecretAccessKey", source);
		goto cleanup;
	}
	if (check_expiration(json_str(root, "Expiration"), source, &exp) < 0)
		goto cleanup;
	take(c, id, secret, json_str(root, token_key), exp, source);
	ret = 1;
cleanup:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

static int from_process(struct aws_config *c, const struct aws_profile *p)
{
	struct strbuf out = STRBUF_INIT, source = STRBUF_INIT;
	char **argv = NULL;
	size_t argc = 0, i;
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL, *v;
	int code, ret = -1;

	strbuf_addf(&source, "the credential_process of AWS profile '%s'",
		    p->name);
	if (split_command(p->credential_process, &argv, &argc) < 0 ||
	    !argc) {
		error("cannot read %s: an unterminated quote or no command",
		      source.buf);
		goto cleanup;
	}
	code = run_command((const char *const *)argv, &out, AWS_ANSWER_MAX);
	if (code < 0) {
		error("cannot run %s", source.buf);
		goto cleanup;
	}
	if (code) {
		error("%s exited with %d", source.buf, code);
		goto cleanup;
	}
	tok = json_tokener_new_ex(16);
	root = tok ? json_tokener_parse_ex(tok, out.buf, (int)out.len) : NULL;
	if (!root || !json_object_object_get_ex(root, "Version", &v) ||
	    json_object_get_int(v) != 1) {
		error("%s did not print JSON with \"Version\": 1", source.buf);
		goto cleanup;
	}
	ret = take_json(c, out.buf, out.len, "SessionToken", source.buf);
cleanup:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	explicit_bzero(out.buf, out.len);
	strbuf_release(&out);
	strbuf_release(&source);
	return ret;
}

struct fetch {
	struct strbuf body;
	int too_big;
};

static size_t fetch_write(char *data, size_t size, size_t n, void *cb)
{
	struct fetch *f = cb;

	if (f->body.len + size * n > AWS_ANSWER_MAX) {
		f->too_big = 1;
		return 0;
	}
	strbuf_add(&f->body, data, size * n);
	return size * n;
}

/*
 * One request. `t` NULL: no proxy, no tracing (link-local services);
 * `timeout_ms` caps the whole exchange. The body is wiped by the caller.
 * 0 with *status, or -1 when no answer came (not reported).
 */
static int fetch(const struct http_transport *t, const char *method,
		 const char *url, struct curl_slist *headers,
		 const char *post, const char *sigv4,
		 const struct aws_config *signer, long timeout_ms,
		 long *status, struct fetch *f)
{
	CURL *easy = curl_easy_init();
	CURLcode rc;

	if (!easy)
		return -1;
	if (t)
		http_transport_setup(t, easy);
	else
		curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, f);
	if (post) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
	}
	if (sigv4) {
		curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4);
		curl_easy_setopt(easy, CURLOPT_USERNAME, signer->access_key);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, signer->secret_key);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(easy);
	strbuf_addch(&f->body, '\0');
	f->body.len--;
	return rc == CURLE_OK ? 0 : -1;
}

static void fetch_release(struct fetch *f)
{
	explicit_bzero(f->body.buf, f->body.len);
	strbuf_release(&f->body);
}

static int is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) ||
	       !strcmp(host, "[::1]") || !strcmp(host, "::1") ||
	       /* EKS Pod Identity, as the SDKs allow it */
	       !strcmp(host, "169.254.170.23") ||
	       !strcasecmp(host, "[fd00:ec2::23]");
}

static int add_header(struct curl_slist **list, const char *name,
		      const char *value)
{
	struct strbuf h = STRBUF_INIT;
	struct curl_slist *l;

	strbuf_addf(&h, "%s: %s", name, value);
	l = curl_slist_append(*list, h.buf);
	explicit_bzero(h.buf, h.len);
	strbuf_release(&h);
	if (!l)
		return error("out of memory for HTTP headers");
	*list = l;
	return 0;
}

/* Read a token file (web identity, container authorization), capped. */
static int read_token(const char *path, const char *what, struct strbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open %s '%s'", what, path);
	if (strbuf_read_capped(out, fd, AWS_TOKEN_MAX) < 0) {
		close(fd);
		return error("cannot read %s '%s'", what, path);
	}
	close(fd);
	strbuf_rtrim(out);
	return 0;
}

static int from_container(struct aws_config *c)
{
	const char *rel = aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct strbuf url = STRBUF_INIT, token = STRBUF_INIT;
	struct curl_slist *headers = NULL;
	struct fetch f = { STRBUF_INIT, 0 };
	struct url u = URL_INIT;
	long status = 0;
	int ret = -1;

	if (rel) {
		strbuf_addf(&url, "http://169.254.170.2%s", rel);
	} else if (full) {
		if (url_parse(&u, full) < 0 ||
		    (strcmp(u.scheme, "https") &&
		     (strcmp(u.scheme, "http") || !is_loopback(u.host)))) {
			error("AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' must be "
			      "https or a loopback address", full);
			goto cleanup;
		}
		strbuf_addstr(&url, full);
	} else {
		ret = 0;
		goto cleanup;
	}
	if (token_file) {
		if (read_token(token_file, "the container authorization token",
			       &token) < 0)
			goto cleanup;
	} else if (aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		strbuf_addstr(&token, aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (strchr(token.buf, '\n') || strchr(token.buf, '\r')) {
		error("the container authorization token has a line break");
		goto cleanup;
	}
	if (token.len && add_header(&headers, "Authorization", token.buf) < 0)
		goto cleanup;
	if (add_header(&headers, "Accept", "application/json") < 0)
		goto cleanup;
	if (fetch(NULL, "GET", url.buf, headers, NULL, NULL, NULL,
		  CONTAINER_TIMEOUT_MS, &status, &f) < 0 || status != 200) {
		error("cannot get credentials from the container endpoint "
		      "'%s' (HTTP %ld)", url.buf, status);
		goto cleanup;
	}
	ret = take_json(c, f.body.buf, f.body.len, "Token",
			"the container credentials endpoint");
cleanup:
	curl_slist_free_all(headers);
	fetch_release(&f);
	url_release(&u);
	explicit_bzero(token.buf, token.len);
	strbuf_release(&token);
	strbuf_release(&url);
	return ret;
}

static int from_imds(struct aws_config *c)
{
	const char *base = aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *disabled = aws_env("AWS_EC2_METADATA_DISABLED");
	struct strbuf url = STRBUF_INIT, token = STRBUF_INIT;
	struct strbuf role = STRBUF_INIT;
	struct curl_slist *headers = NULL;
	struct fetch f = { STRBUF_INIT, 0 };
	long status = 0;
	int ret = 0;

	if (disabled && !strcasecmp(disabled, "true"))
		return 0;
	if (!base)
		base = "http://169.254.169.254";
	strbuf_addstr(&url, base);
	strbuf_rtrim(&url);
	while (url.len && url.buf[url.len - 1] == '/')
		strbuf_setlen(&url, url.len - 1);
	strbuf_addstr(&url, "/latest/api/token");
	if (add_header(&headers, "X-aws-ec2-metadata-token-ttl-seconds",
		       "21600") < 0)
		goto cleanup;
	if (fetch(NULL, "PUT", url.buf, headers, NULL, NULL, NULL,
		  IMDS_TIMEOUT_MS, &status, &f) < 0)
		goto cleanup; /* nobody there: not on EC2 */
	if (status != 200 || !f.body.len || f.body.len > 1024 ||
	    strchr(f.body.buf, '\n')) {
		ret = error("the EC2 instance metadata service gave no "
			    "session token (HTTP %ld)", status);
		goto cleanup;
	}
	strbuf_add(&token, f.body.buf, f.body.len);
	fetch_release(&f);
	strbuf_init(&f.body, 0);
	curl_slist_free_all(headers);
	headers = NULL;
	if (add_header(&headers, "X-aws-ec2-metadata-token", token.buf) < 0)
		goto cleanup;

	strbuf_setlen(&url, url.len - strlen("api/token"));
	strbuf_addstr(&url, "meta-data/iam/security-credentials/");
	if (fetch(NULL, "GET", url.buf, headers, NULL, NULL, NULL,
		  IMDS_TIMEOUT_MS, &status, &f) < 0 || status != 200) {
		if (status == 404)
			goto cleanup; /* no role: no credentials */
		ret = error("the EC2 instance metadata service did not name "
			    "the instance's role (HTTP %ld)", status);
		goto cleanup;
	}
	strbuf_add(&role, f.body.buf, strcspn(f.body.buf, "\r\n"));
	if (!role.len || strcspn(role.buf, "/?#%") != role.len) {
		ret = error("the EC2 instance metadata service named no valid "
			    "role");
		goto cleanup;
	}
	strbuf_add(&url, role.buf, role.len);
	fetch_release(&f);
	strbuf_init(&f.body, 0);
	if (fetch(NULL, "GET", url.buf, headers, NULL, NULL, NULL,
		  IMDS_TIMEOUT_MS, &status, &f) < 0 || status != 200) {
		ret = error("cannot get the credentials of role '%s' from the "
			    "EC2 instance metadata service (HTTP %ld)",
			    role.buf, status);
		goto cleanup;
	}
	ret = take_json(c, f.body.buf, f.body.len, "Token",
			"EC2 instance metadata");
cleanup:
	curl_slist_free_all(headers);
	fetch_release(&f);
	explicit_bzero(token.buf, token.len);
	strbuf_release(&token);
	strbuf_release(&role);
	strbuf_release(&url);
	return ret;
}

/* application/x-www-form-urlencoded, AWS's way (RFC 3986 unreserved). */
static void form_add(struct strbuf *form, const char *key, const char *value)
{
	if (form->len)
		strbuf_addch(form, '&');
	strbuf_addf(form, "%s=", key);
	for (; *value; value++) {
		unsigned char ch = *value;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~')
			strbuf_addch(form, ch);
		else
			strbuf_addf(form, "%%%02X", ch);
	}
}

/*
 * An STS action: POST `form` to the user's STS endpoint, signed by
 * `signer` when not NULL, and take the Credentials of its answer.
 */
static int sts_call(struct aws_config *c, const struct aws_profile *p,
		    const char *region, const struct http_transport *t,
		    const struct aws_config *signer, const char *form,
		    const char *source)
{
	struct strbuf endpoint = STRBUF_INIT, sigv4 = STRBUF_INIT;
	struct strbuf id = STRBUF_INIT, secret = STRBUF_INIT;
	struct strbuf token = STRBUF_INIT, exp_text = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	struct curl_slist *headers = NULL;
	struct fetch f = { STRBUF_INIT, 0 };
	long status = 0;
	time_t exp;
	int ret = -1;

	if (aws_service_endpoint(p, "sts", &endpoint) < 0)
		goto cleanup;
	if (!endpoint.len)
		strbuf_addf(&endpoint, "https://sts.%s.amazonaws.com",
			    region ? region : "us-east-1");
	if (strncmp(endpoint.buf, "https://", 8) &&
	    strncmp(endpoint.buf, "http://", 7)) {
		error("STS endpoint '%s' is not an http:// or https:// URL",
		      endpoint.buf);
		goto cleanup;
	}
	strbuf_addf(&sigv4, "aws:amz:%s:sts", region ? region : "us-east-1");
	if (add_header(&headers, "Content-Type",
		       "application/x-www-form-urlencoded") < 0 ||
	    add_header(&headers, "Accept", "application/xml") < 0)
		goto cleanup;
	if (fetch(t, "POST", endpoint.buf, headers, form,
		  signer ? sigv4.buf : NULL, signer, STS_TIMEOUT * 1000L,
		  &status, &f) < 0) {
		error("cannot reach the STS endpoint '%s' for %s",
		      endpoint.buf, source);
		goto cleanup;
	}
	if (status != 200) {
		s3_describe_error_body(status, f.body.buf, &why);
		error("STS at '%s' refused %s: %s", endpoint.buf, source,
		      why.buf);
		goto cleanup;
	}
	if (!s3_xml_text_capped(f.body.buf, "AccessKeyId", 256, &id) ||
	    !s3_xml_text_capped(f.body.buf, "SecretAccessKey", 256, &secret) ||
	    !s3_xml_text_capped(f.body.buf, "SessionToken", AWS_TOKEN_MAX,
				&token) ||
	    !id.len || !secret.len) {
		error("the answer of STS at '%s' for %s has no credentials",
		      endpoint.buf, source);
		goto cleanup;
	}
	s3_xml_text(f.body.buf, "Expiration", &exp_text);
	if (check_expiration(exp_text.buf, source, &exp) < 0)
		goto cleanup;
	take(c, id.buf, secret.buf, token.buf, exp, source);
	ret = 1;
cleanup:
	curl_slist_free_all(headers);
	fetch_release(&f);
	wipe(&id);
	wipe(&secret);
	wipe(&token);
	strbuf_release(&exp_text);
	strbuf_release(&why);
	strbuf_release(&endpoint);
	strbuf_release(&sigv4);
	return ret;
}

static void session_name(const struct aws_profile *p, struct strbuf *out)
{
	if (p->role_session_name)
		strbuf_addstr(out, p->role_session_name);
	else
		strbuf_addf(out, "git-model-session-%lld",
			    (long long)time(NULL));
}

static int web_identity(struct aws_config *c, const struct aws_profile *p,
			const char *region, const struct http_transport *t,
			const char *role, const char *token_file)
{
	struct strbuf token = STRBUF_INIT, form = STRBUF_INIT;
	struct strbuf name = STRBUF_INIT, source = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&source, "AssumeRoleWithWebIdentity of '%s'", role);
	if (read_token(token_file, "the web identity token file", &token) < 0)
		goto cleanup;
	if (aws_env("AWS_ROLE_SESSION_NAME"))
		strbuf_addstr(&name, aws_env("AWS_ROLE_SESSION_NAME"));
	else
		session_name(p, &name);
	form_add(&form, "Action", "AssumeRoleWithWebIdentity");
	if (p->duration_seconds)
		form_add(&form, "DurationSeconds", p->duration_seconds);
	form_add(&form, "RoleArn", role);
	form_add(&form, "RoleSessionName", name.buf);
	form_add(&form, "Version", "2011-06-15");
	form_add(&form, "WebIdentityToken", token.buf);
	ret = sts_call(c, p, region, t, NULL, form.buf, source.buf);
cleanup:
	explicit_bzero(token.buf, token.len);
	explicit_bzero(form.buf, form.len);
	strbuf_release(&token);
	strbuf_release(&form);
	strbuf_release(&name);
	strbuf_release(&source);
	return ret;
}

static int from_profile(struct aws_config *c, const char *name, int depth,
			const char *region, const struct http_transport *t);

static int from_env(struct aws_config *c)
{
	if (!aws_env("AWS_ACCESS_KEY_ID") || !aws_env("AWS_SECRET_ACCESS_KEY"))
		return 0;
	take(c, aws_env("AWS_ACCESS_KEY_ID"), aws_env("AWS_SECRET_ACCESS_KEY"),
	     aws_env("AWS_SESSION_TOKEN"), 0, "the environment");
	return 1;
}

static int assume_role(struct aws_config *c, const struct aws_profile *p,
		       int depth, const char *region,
		       const struct http_transport *t)
{
	struct aws_config src = AWS_CONFIG_INIT;
	struct strbuf form = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf source = STRBUF_INIT;
	const char *cs = p->credential_source;
	int ret = -1, got;

	strbuf_addf(&source, "AssumeRole of '%s' (AWS profile '%s')",
		    p->role_arn, p->name);
	if (p->source_profile && cs) {
		error("AWS profile '%s' has both source_profile and "
		      "credential_source", p->name);
		goto cleanup;
	}
	if (p->source_profile) {
		if (!strcmp(p->source_profile, p->name)) {
			/* the profile's own keys sign the call */
			got = p->access_key && p->secret_key;
			if (got)
				take(&src, p->access_key, p->secret_key,
				     p->session_token, 0, p->name);
		} else {
			got = from_profile(&src, p->source_profile, depth + 1,
					   region, t);
		}
	} else if (!cs) {
		error("AWS profile '%s' has role_arn but neither "
		      "source_profile nor credential_source", p->name);
		goto cleanup;
	} else if (!strcmp(cs, "Environment")) {
		got = from_env(&src);
	} else if (!strcmp(cs, "Ec2InstanceMetadata")) {
		got = from_imds(&src);
	} else if (!strcmp(cs, "EcsContainer")) {
		got = from_container(&src);
	} else {
		error("AWS profile '%s': credential_source '%s' is not "
		      "Environment, Ec2InstanceMetadata or EcsContainer",
		      p->name, cs);
		goto cleanup;
	}
	if (got < 0)
		goto cleanup;
	if (!got) {
		error("no credentials to sign %s with (from %s '%s')",
		      source.buf, p->source_profile ? "source_profile" :
						      "credential_source",
		      p->source_profile ? p->source_profile : cs);
		goto cleanup;
	}
	session_name(p, &name);
	form_add(&form, "Action", "AssumeRole");
	if (p->duration_seconds)
		form_add(&form, "DurationSeconds", p->duration_seconds);
	if (p->external_id)
		form_add(&form, "ExternalId", p->external_id);
	form_add(&form, "RoleArn", p->role_arn);
	form_add(&form, "RoleSessionName", name.buf);
	form_add(&form, "Version", "2011-06-15");
	ret = sts_call(c, p, region, t, &src, form.buf, source.buf);
cleanup:
	aws_config_release(&src);
	strbuf_release(&form);
	strbuf_release(&name);
	strbuf_release(&source);
	return ret;
}

/* Sources 2 to 6 for profile `name`. */
static int from_profile(struct aws_config *c, const char *name, int depth,
			const char *region, const struct http_transport *t)
{
	struct aws_profile p = AWS_PROFILE_INIT;
	struct strbuf source = STRBUF_INIT;
	int ret = -1;

	if (depth > AWS_PROFILE_DEPTH) {
		error("AWS profile '%s': source_profile goes more than %d "
		      "deep (a loop?)", name, AWS_PROFILE_DEPTH);
		goto cleanup;
	}
	if (aws_profile_read(name, &p) < 0)
		goto cleanup;
	if (!p.found && depth) {
		error("the AWS profile '%s' (a source_profile) could not be "
		      "found", name);
		goto cleanup;
	}
	if (!region)
		region = p.region;
	strbuf_addf(&source, "AWS profile '%s'", name);
	if (p.role_arn && !p.web_identity_token_file &&
	    !(p.source_profile && !strcmp(p.source_profile, name) && depth))
		ret = assume_role(c, &p, depth, region, t);
	else if (p.role_arn && p.web_identity_token_file)
		ret = web_identity(c, &p, region, t, p.role_arn,
				   p.web_identity_token_file);
	else if (!depth && aws_env("AWS_WEB_IDENTITY_TOKEN_FILE") &&
		 aws_env("AWS_ROLE_ARN"))
		ret = web_identity(c, &p, region, t, aws_env("AWS_ROLE_ARN"),
				   aws_env("AWS_WEB_IDENTITY_TOKEN_FILE"));
	else if (p.access_key && p.secret_key && !p.keys_from_config)
		goto keys;
	else if (p.credential_process)
		ret = from_process(c, &p);
	else if (p.access_key && p.secret_key)
		goto keys;
	else
		ret = 0;
	goto cleanup;
keys:
	take(c, p.access_key, p.secret_key, p.session_token, 0, source.buf);
	ret = 1;
cleanup:
	aws_profile_release(&p);
	strbuf_release(&source);
	return ret;
}

int aws_credentials_load(struct aws_config *c, const char *region,
			 const struct http_transport *t)
{
	int ret;

	if (c->access_key)
		BUG("aws_credentials_load() over credentials");
	ret = from_env(c);
	if (!ret)
		ret = from_profile(c, c->profile ? c->profile : "default", 0,
				   region, t);
	if (!ret)
		ret = from_container(c);
	if (!ret)
		ret = from_imds(c);
	return ret;
}
