#include "credential.h"

#include <stdlib.h>
#include <string.h>

#include "run-command.h"
#include "url.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define CREDENTIAL_OUTPUT_MAX 65536

void credential_release(struct credential *c)
{
	free(c->protocol);
	free(c->host);
	free(c->path);
	free_secret(&c->username);
	free_secret(&c->password);
	memset(c, 0, sizeof(*c));
}

int credential_from_url(struct credential *c, const char *url)
{
	struct url u = URL_INIT;
	struct strbuf host = STRBUF_INIT;
	const char *path;

	if (url_parse(&u, url) < 0) {
		url_release(&u);
		return -1;
	}
	c->protocol = xstrdup(u.scheme);
	strbuf_addstr(&host, u.host);
	if (u.port)
		strbuf_addf(&host, ":%s", u.port);
	c->host = strbuf_detach(&host, NULL);
	path = u.path + strspn(u.path, "/");
	if (*path)
		c->path = xstrndup(path, strcspn(path, "?#"));
	/* the decoded user and password move to c, to be wiped there */
	c->username = u.user;
	c->password = u.password;
	u.user = u.password = NULL;
	url_release(&u);
	return 0;
}

static int has_newline(const char *s)
{
	return s && strpbrk(s, "\n\r");
}

static void add_field(struct strbuf *in, const char *key, const char *value)
{
	if (value)
		strbuf_addf(in, "%s=%s\n", key, value);
}

static int run(struct credential *c, const char *action, struct strbuf *out)
{
	const char *argv[] = { "git", "credential", action, NULL };
	struct strbuf in = STRBUF_INIT;
	int ret;

	/* A newline would let a URL inject fields into the request. */
	if (has_newline(c->protocol) || has_newline(c->host) ||
	    has_newline(c->path) || has_newline(c->username) ||
	    has_newline(c->password))
		return error("refusing a credential request with a newline in "
			     "it");
	add_field(&in, "protocol", c->protocol);
	add_field(&in, "host", c->host);
	add_field(&in, "path", c->path);
	add_field(&in, "username", c->username);
	add_field(&in, "password", c->password);
	strbuf_addch(&in, '\n');
	ret = run_command_io(argv, in.buf, in.len, out, CREDENTIAL_OUTPUT_MAX);
	explicit_bzero(in.buf, in.len);
	strbuf_release(&in);
	return ret;
}

int credential_fill(struct credential *c)
{
	struct strbuf out = STRBUF_INIT;
	char *line, *next;
	int ret;

	ret = run(c, "fill", &out);
	if (ret) {
		ret = error("cannot get credentials for '%s' (set up a git "
			    "credential helper, see gitcredentials(7))",
			    c->host);
		goto cleanup;
	}
	for (line = out.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "username=", 9)) {
			free_secret(&c->username);
			c->username = xstrdup(line + 9);
		} else if (!strncmp(line, "password=", 9)) {
			free_secret(&c->password);
			c->password = xstrdup(line + 9);
		}
	}
	if (!c->username || !c->password)
		ret = error("no credentials for '%s' from git credential fill",
			    c->host);
cleanup:
	explicit_bzero(out.buf, out.len);
	strbuf_release(&out);
	return ret;
}

void credential_approve(struct credential *c)
{
	struct strbuf out = STRBUF_INIT;

	run(c, "approve", &out);
	strbuf_release(&out);
}

void credential_reject(struct credential *c)
{
	struct strbuf out = STRBUF_INIT;

	run(c, "reject", &out);
	strbuf_release(&out);
}
