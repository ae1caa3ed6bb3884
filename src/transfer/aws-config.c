#include "aws-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * Read `section` of an INI file (AWS's format: "[name]", "key = value",
 * '#' and ';' comments). A missing file is fine.
 */
static int read_profile(const char *path, const char *section,
			struct aws_config *c)
{
	struct strbuf buf = STRBUF_INIT;
	const char *p, *end;
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

		end = memchr(p, '\n', buf.buf + buf.len - p);
		if (!end)
			end = buf.buf + buf.len;
		line = trim(p, end, &len);
		if (!len || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			const char *name;
			size_t nlen;

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
		if (klen == 17 && !memcmp(key, "aws_access_key_id", 17))
			set(&c->access_key, val, vlen);
		else if (klen == 21 && !memcmp(key, "aws_secret_access_key", 21))
			set(&c->secret_key, val, vlen);
		else if (klen == 17 && !memcmp(key, "aws_session_token", 17))
			set(&c->session_token, val, vlen);
		else if (klen == 6 && !memcmp(key, "region", 6))
			set(&c->region, val, vlen);
		else if (klen == 9 && !memcmp(key, "ca_bundle", 9))
			set(&c->ca_bundle, val, vlen);
		else if (klen == 12 && !memcmp(key, "endpoint_url", 12))
			set(&c->endpoint_url, val, vlen);
	}
cleanup:
	memset(buf.buf, 0, buf.len);
	strbuf_release(&buf);
	return ret;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
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
		struct aws_config file = AWS_CONFIG_INIT;

		if (read_profile(path.buf, profile, &file) < 0)
			ret = -1;
		if (file.access_key && file.secret_key) {
			c->access_key = file.access_key;
			c->secret_key = file.secret_key;
			c->session_token = file.session_token;
			file.access_key = file.secret_key = NULL;
			file.session_token = NULL;
		}
		aws_config_release(&file);
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
		struct aws_config file = AWS_CONFIG_INIT;

		if (read_profile(path.buf, section.buf, &file) < 0)
			ret = -1;
		if (!c->access_key && file.access_key && file.secret_key) {
			c->access_key = file.access_key;
			c->secret_key = file.secret_key;
			c->session_token = file.session_token;
			file.access_key = file.secret_key = NULL;
			file.session_token = NULL;
		}
		if (!c->region && file.region) {
			c->region = file.region;
			file.region = NULL;
		}
		if (!c->ca_bundle && file.ca_bundle) {
			c->ca_bundle = file.ca_bundle;
			file.ca_bundle = NULL;
		}
		if (file.endpoint_url) {
			c->endpoint_url = file.endpoint_url;
			file.endpoint_url = NULL;
		}
		aws_config_release(&file);
	}
	strbuf_release(&path);
	strbuf_release(&section);
	return ret;
}
