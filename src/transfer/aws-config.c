#include "aws-config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define AWS_FILE_MAX (1024 * 1024)

const char *aws_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void set(char **dst, const char *v, size_t len)
{
	if (*dst)
		return; /* the first source found wins */
	*dst = xstrndup(v, len);
}

static void set_str(char **dst, const char *v)
{
	if (v)
		set(dst, v, strlen(v));
}

void aws_config_drop_credentials(struct aws_config *c)
{
	free_secret(&c->access_key);
	free_secret(&c->secret_key);
	free_secret(&c->session_token);
	free(c->source);
	c->source = NULL;
	c->expiration = 0;
}

void aws_config_release(struct aws_config *c)
{
	aws_config_drop_credentials(c);
	free(c->region);
	free(c->endpoint_url);
	free(c->profile);
	free(c->ca_bundle);
	memset(c, 0, sizeof(*c));
}

void aws_profile_release(struct aws_profile *p)
{
	free(p->name);
	free_secret(&p->access_key);
	free_secret(&p->secret_key);
	free_secret(&p->session_token);
	free(p->region);
	free(p->endpoint_url);
	free(p->ca_bundle);
	free(p->services);
	free(p->ignore_endpoints);
	free(p->credential_process);
	free(p->role_arn);
	free(p->source_profile);
	free(p->credential_source);
	free(p->role_session_name);
	free(p->external_id);
	free(p->duration_seconds);
	free(p->web_identity_token_file);
	free(p->config_path);
	memset(p, 0, sizeof(*p));
}

static const char *trim(const char *s, const char *end, size_t *len)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*len = end - s;
	return s;
}

/* Key names as the CLI's parser reads them: without regard to case. */
static int key_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && !strncasecmp(key, want, klen);
}

static const struct {
	const char *key;
	size_t off;
} profile_keys[] = {
#define K(k, f) { k, offsetof(struct aws_profile, f) }
	K("aws_access_key_id", access_key),
	K("aws_secret_access_key", secret_key),
	K("aws_session_token", session_token),
	K("region", region),
	K("ca_bundle", ca_bundle),
	K("endpoint_url", endpoint_url),
	K("services", services),
	K("ignore_configured_endpoint_urls", ignore_endpoints),
	K("credential_process", credential_process),
	K("role_arn", role_arn),
	K("source_profile", source_profile),
	K("credential_source", credential_source),
	K("role_session_name", role_session_name),
	K("external_id", external_id),
	K("duration_seconds", duration_seconds),
	K("web_identity_token_file", web_identity_token_file),
#undef K
};

static void set_key(struct aws_profile *p, const char *key, size_t klen,
		    const char *val, size_t vlen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(profile_keys); i++)
		if (key_is(key, klen, profile_keys[i].key)) {
			set((char **)((char *)p + profile_keys[i].off), val,
			    vlen);
			return;
		}
}

/*
 * Whether the section header `name` (trimmed, no brackets) is `section`:
 * "profile  x" is "profile x", as the CLI splits on the first blanks.
 */
static int section_is(const char *name, size_t nlen, const char *section)
{
	size_t slen = strlen(section);

	if (nlen == slen && !memcmp(name, section, nlen))
		return 1;
	if (!strncmp(section, "profile ", 8) && nlen > 8 &&
	    !memcmp(name, "profile", 7) && isspace((unsigned char)name[7])) {
		const char *n = name + 7, *end = name + nlen;

		while (n < end && isspace((unsigned char)*n))
			n++;
		return (size_t)(end - n) == slen - 8 &&
		       !memcmp(n, section + 8, slen - 8);
	}
	return 0;
}

/*
 * Read `section` of an INI file in AWS's format: "[name]", "key = value",
 * '#' and ';' comments, and sub-settings, indented lines under a key with
 * no value ("s3 =" then "  endpoint_url = ..."). With `parent` NULL, the
 * section's own keys are read and sub-settings skipped; else only the
 * sub-settings of `parent`. A missing file is fine. Sets *found when the
 * section is there.
 */
static int read_section(const char *path, const char *section,
			const char *parent, struct aws_profile *out,
			int *found)
{
	struct strbuf buf = STRBUF_INIT;
	const char *p, *end, *under = NULL;
	size_t under_len = 0;
	int fd, in_section = 0, ret = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'", path);
	n = strbuf_read_capped(&buf, fd, AWS_FILE_MAX);
	close(fd);
	if (n < 0) {
		ret = error("cannot read '%s'", path);
		goto cleanup;
	}
	for (p = buf.buf; p < buf.buf + buf.len; p = end + 1) {
		const char *line, *eq;
		size_t len, klen, vlen;
		const char *key, *val;
		int indented = *p == ' ' || *p == '\t';

		end = memchr(p, '\n', buf.buf + buf.len - p);
		if (!end)
			end = buf.buf + buf.len;
		line = trim(p, end, &len);
		if (!len || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			const char *name;
			size_t nlen;

			under = NULL;
			if (line[len - 1] != ']') {
				in_section = 0;
				continue;
			}
			name = trim(line + 1, line + len - 1, &nlen);
			in_section = section_is(name, nlen, section);
			if (in_section && found)
				*found = 1;
			continue;
		}
		if (!in_section || !(eq = memchr(line, '=', len)))
			continue;
		key = trim(line, eq, &klen);
		val = trim(eq + 1, line + len, &vlen);
		if (indented && under) {
			/* a sub-setting of `under` */
			if (parent && key_is(under, under_len, parent))
				set_key(out, key, klen, val, vlen);
			continue;
		}
		if (indented)
			continue; /* a continuation line: not a key */
		under = vlen ? NULL : key;
		under_len = klen;
		if (!parent)
			set_key(out, key, klen, val, vlen);
	}
cleanup:
	explicit_bzero(buf.buf, buf.len);
	strbuf_release(&buf);
	return ret;
}

int aws_profile_read(const char *name, struct aws_profile *p)
{
	struct strbuf path = STRBUF_INIT, section = STRBUF_INIT;
	const char *home = aws_env("HOME");
	int ret = 0;

	p->name = xstrdup(name);
	if (aws_env("AWS_SHARED_CREDENTIALS_FILE"))
		strbuf_addstr(&path, aws_env("AWS_SHARED_CREDENTIALS_FILE"));
	else if (home)
		strbuf_addf(&path, "%s/.aws/credentials", home);
	if (path.len && read_section(path.buf, name, NULL, p, &p->found) < 0)
		ret = -1;

	strbuf_reset(&path);
	if (aws_env("AWS_CONFIG_FILE"))
		strbuf_addstr(&path, aws_env("AWS_CONFIG_FILE"));
	else if (home)
		strbuf_addf(&path, "%s/.aws/config", home);
	if (path.len) {
		int had_keys = p->access_key || p->secret_key;

		p->config_path = xstrdup(path.buf);
		strbuf_addf(&section, "profile %s", name);
		if (read_section(path.buf, section.buf, NULL, p, &p->found) < 0)
			ret = -1;
		if (!strcmp(name, "default") &&
		    read_section(path.buf, "default", NULL, p, &p->found) < 0)
			ret = -1;
		if (!had_keys && (p->access_key || p->secret_key))
			p->keys_from_config = 1;
	}
	strbuf_release(&path);
	strbuf_release(&section);
	return ret;
}

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

int aws_service_endpoint(const struct aws_profile *p, const char *service,
			 struct strbuf *out)
{
	const char *ignore = aws_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	struct strbuf name = STRBUF_INIT;
	struct aws_profile services = AWS_PROFILE_INIT;
	const char *s;
	int ret = 0;

	if (!ignore && p)
		ignore = p->ignore_endpoints;
	if (is_true(ignore))
		return 0;
	strbuf_addstr(&name, "AWS_ENDPOINT_URL_");
	for (s = service; *s; s++)
		strbuf_addch(&name, toupper((unsigned char)*s));
	if (aws_env(name.buf)) {
		strbuf_addstr(out, aws_env(name.buf));
		goto cleanup;
	}
	if (aws_env("AWS_ENDPOINT_URL")) {
		strbuf_addstr(out, aws_env("AWS_ENDPOINT_URL"));
		goto cleanup;
	}
	if (!p)
		goto cleanup;
	if (p->services && p->config_path) {
		strbuf_reset(&name);
		strbuf_addf(&name, "services %s", p->services);
		ret = read_section(p->config_path, name.buf, service,
				   &services, NULL);
		if (services.endpoint_url) {
			strbuf_addstr(out, services.endpoint_url);
			goto cleanup;
		}
	}
	if (p->endpoint_url)
		strbuf_addstr(out, p->endpoint_url);
cleanup:
	aws_profile_release(&services);
	strbuf_release(&name);
	return ret;
}

int aws_config_load(struct aws_config *c)
{
	struct aws_profile p = AWS_PROFILE_INIT;
	struct strbuf endpoint = STRBUF_INIT;
	const char *name = aws_env("AWS_PROFILE");
	int ret = -1;

	if (!name)
		name = aws_env("AWS_DEFAULT_PROFILE");
	if (aws_env("AWS_ACCESS_KEY_ID") && !aws_env("AWS_SECRET_ACCESS_KEY")) {
		error("partial credentials found in the environment, missing: "
		      "AWS_SECRET_ACCESS_KEY");
		goto cleanup;
	}
	if (!aws_env("AWS_ACCESS_KEY_ID") && aws_env("AWS_SECRET_ACCESS_KEY")) {
		error("partial credentials found in the environment, missing: "
		      "AWS_ACCESS_KEY_ID");
		goto cleanup;
	}
	if (aws_profile_read(name ? name : "default", &p) < 0)
		goto cleanup;
	if (name && !p.found) {
		error("the AWS profile '%s' could not be found in '%s' or the "
		      "shared credentials file (check %s)", name,
		      p.config_path ? p.config_path : "~/.aws/config",
		      aws_env("AWS_PROFILE") ? "AWS_PROFILE" :
					       "AWS_DEFAULT_PROFILE");
		goto cleanup;
	}
	c->profile = xstrdup(p.name);
	set_str(&c->region, aws_env("AWS_REGION"));
	set_str(&c->region, aws_env("AWS_DEFAULT_REGION"));
	set_str(&c->region, p.region);
	set_str(&c->ca_bundle, aws_env("AWS_CA_BUNDLE"));
	set_str(&c->ca_bundle, p.ca_bundle);
	if (aws_service_endpoint(&p, "s3", &endpoint) < 0)
		goto cleanup;
	if (endpoint.len)
		c->endpoint_url = strbuf_detach(&endpoint, NULL);
	ret = 0;
cleanup:
	aws_profile_release(&p);
	strbuf_release(&endpoint);
	return ret;
}
