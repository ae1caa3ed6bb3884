#include "aws-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define AWS_FILE_MAX (1024 * 1024)

static void set(char **dst, const char *v, size_t len)
{
	if (*dst)
		return; /* the first source found wins */
	*dst = xstrndup(v, len);
}

void aws_config_release(struct aws_config *c)
{
	free_secret(&c->access_key);
	free_secret(&c->secret_key);
	free_secret(&c->session_token);
	free(c->region);
	free(c->endpoint_url);
	free(c->profile);
	free(c->ca_bundle);
	memset(c, 0, sizeof(*c));
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

/* What one section of an AWS file says (sub-settings of `parent` only). */
struct aws_section {
	struct aws_config c;
	char *services;         /* a profile's "services": that section's name */
	char *ignore_endpoints; /* a profile's ignore_configured_endpoint_urls */
};

#define AWS_SECTION_INIT { AWS_CONFIG_INIT, NULL, NULL }

static void aws_section_release(struct aws_section *s)
{
	aws_config_release(&s->c);
	free(s->services);
	free(s->ignore_endpoints);
	memset(s, 0, sizeof(*s));
}

static int key_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && !memcmp(key, want, klen);
}

static void set_key(struct aws_section *s, const char *key, size_t klen,
		    const char *val, size_t vlen)
{
	struct aws_config *c = &s->c;

	if (key_is(key, klen, "aws_access_key_id"))
		set(&c->access_key, val, vlen);
	else if (key_is(key, klen, "aws_secret_access_key"))
		set(&c->secret_key, val, vlen);
	else if (key_is(key, klen, "aws_session_token"))
		set(&c->session_token, val, vlen);
	else if (key_is(key, klen, "region"))
		set(&c->region, val, vlen);
	else if (key_is(key, klen, "ca_bundle"))
		set(&c->ca_bundle, val, vlen);
	else if (key_is(key, klen, "endpoint_url"))
		set(&c->endpoint_url, val, vlen);
	else if (key_is(key, klen, "services"))
		set(&s->services, val, vlen);
	else if (key_is(key, klen, "ignore_configured_endpoint_urls"))
		set(&s->ignore_endpoints, val, vlen);
}

/*
 * Read `section` of an INI file in AWS's format: "[name]", "key = value",
 * '#' and ';' comments, and sub-settings, indented lines under a key with
 * no value ("s3 =" then "  endpoint_url = ..."). With `parent` NULL, the
 * section's own keys are read and sub-settings skipped; else only the
 * sub-settings of `parent`. A missing file is fine.
 */
static int read_section(const char *path, const char *section,
			const char *parent, struct aws_section *out)
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
			in_section = nlen == strlen(section) &&
				     !memcmp(name, section, nlen);
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

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

/*
 * The endpoint as the AWS CLI picks it for S3, unless the environment's
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
 * ignore_configured_endpoint_urls is "true": AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, the "s3" sub-setting endpoint_url of the profile's
 * services section, the profile's endpoint_url. `profile` (read from the
 * config file `path`) may be NULL.
 */
static int load_endpoint(struct aws_config *c, const char *path,
			 struct aws_section *profile)
{
	const char *ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	struct strbuf section = STRBUF_INIT;
	struct aws_section services = AWS_SECTION_INIT;
	int ret = 0;

	if (!ignore && profile)
		ignore = profile->ignore_endpoints;
	if (is_true(ignore))
		return 0;
	if (env("AWS_ENDPOINT_URL_S3"))
		set(&c->endpoint_url, env("AWS_ENDPOINT_URL_S3"),
		    strlen(env("AWS_ENDPOINT_URL_S3")));
	else if (env("AWS_ENDPOINT_URL"))
		set(&c->endpoint_url, env("AWS_ENDPOINT_URL"),
		    strlen(env("AWS_ENDPOINT_URL")));
	if (c->endpoint_url || !profile)
		return 0;
	if (profile->services) {
		strbuf_addf(&section, "services %s", profile->services);
		ret = read_section(path, section.buf, "s3", &services);
		if (services.c.endpoint_url) {
			c->endpoint_url = services.c.endpoint_url;
			services.c.endpoint_url = NULL;
		}
	}
	if (!c->endpoint_url && profile->c.endpoint_url) {
		c->endpoint_url = profile->c.endpoint_url;
		profile->c.endpoint_url = NULL;
	}
	aws_section_release(&services);
	strbuf_release(&section);
	return ret;
}

int aws_config_load(struct aws_config *c)
{
	struct strbuf path = STRBUF_INIT, section = STRBUF_INIT;
	const char *home = env("HOME");
	const char *profile = env("AWS_PROFILE");
	int ret = 0;

	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		set(&c->access_key, env("AWS_ACCESS_KEY_ID"),
		    strlen(env("AWS_ACCESS_KEY_ID")));
		set(&c->secret_key, env("AWS_SECRET_ACCESS_KEY"),
		    strlen(env("AWS_SECRET_ACCESS_KEY")));
		if (env("AWS_SESSION_TOKEN"))
			set(&c->session_token, env("AWS_SESSION_TOKEN"),
			    strlen(env("AWS_SESSION_TOKEN")));
	}
	if (env("AWS_REGION"))
		set(&c->region, env("AWS_REGION"), strlen(env("AWS_REGION")));
	if (env("AWS_DEFAULT_REGION"))
		set(&c->region, env("AWS_DEFAULT_REGION"),
		    strlen(env("AWS_DEFAULT_REGION")));
	if (env("AWS_CA_BUNDLE"))
		set(&c->ca_bundle, env("AWS_CA_BUNDLE"),
		    strlen(env("AWS_CA_BUNDLE")));
	if (!profile)
		profile = "default";
	c->profile = xstrdup(profile);

	if (env("AWS_SHARED_CREDENTIALS_FILE"))
		strbuf_addstr(&path, env("AWS_SHARED_CREDENTIALS_FILE"));
	else if (home)
		strbuf_addf(&path, "%s/.aws/credentials", home);
	/* keys come as a pair from one place, never half from each */
	if (path.len && !c->access_key) {
		struct aws_section sec = AWS_SECTION_INIT;
		struct aws_config *file = &sec.c;

		if (read_section(path.buf, profile, NULL, &sec) < 0)
			ret = -1;
		if (file->access_key && file->secret_key) {
			c->access_key = file->access_key;
			c->secret_key = file->secret_key;
			c->session_token = file->session_token;
			file->access_key = file->secret_key = NULL;
			file->session_token = NULL;
		}
		aws_section_release(&sec);
	}

	strbuf_reset(&path);
	if (env("AWS_CONFIG_FILE"))
		strbuf_addstr(&path, env("AWS_CONFIG_FILE"));
	else if (home)
		strbuf_addf(&path, "%s/.aws/config", home);
	if (!strcmp(profile, "default"))
		strbuf_addstr(&section, "default");
	else
		strbuf_addf(&section, "profile %s", profile);
	if (path.len) {
		struct aws_section sec = AWS_SECTION_INIT;
		struct aws_config *file = &sec.c;

		if (read_section(path.buf, section.buf, NULL, &sec) < 0)
			ret = -1;
		if (!c->access_key && file->access_key && file->secret_key) {
			c->access_key = file->access_key;
			c->secret_key = file->secret_key;
			c->session_token = file->session_token;
			file->access_key = file->secret_key = NULL;
			file->session_token = NULL;
		}
		if (!c->region && file->region) {
			c->region = file->region;
			file->region = NULL;
		}
		if (!c->ca_bundle && file->ca_bundle) {
			c->ca_bundle = file->ca_bundle;
			file->ca_bundle = NULL;
		}
		if (load_endpoint(c, path.buf, &sec) < 0)
			ret = -1;
		aws_section_release(&sec);
	} else if (load_endpoint(c, NULL, NULL) < 0) {
		ret = -1;
	}
	strbuf_release(&path);
	strbuf_release(&section);
	return ret;
}
