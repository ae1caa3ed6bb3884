#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wrapper.h"
#include "banned.h"

/* Where the authority starts (after "://") and ends (first '/'). */
static const char *authority(const char *s, const char **end)
{
	const char *p = strstr(s, "://");

	if (!p || p == s || strcspn(s, ":/?#@") != (size_t)(p - s))
		return NULL;
	p += 3;
	*end = p + strcspn(p, "/");
	return p;
}

/* The '@' that ends the userinfo in [auth, end), or NULL. */
static const char *userinfo_end(const char *auth, const char *end)
{
	return memrchr(auth, '@', end - auth);
}

/* %XX-decode like git's url_decode_mem(): a bad escape stays as it is. */
static char *decode(const char *p, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (p[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)p[i + 2])) >= 0) {
			strbuf_addch(&out, hi * 16 + lo);
			i += 2;
		} else {
			strbuf_addch(&out, p[i]);
		}
	}
	return strbuf_detach(&out, NULL);
}

static char *lower(const char *p, size_t len)
{
	char *s = xstrndup(p, len);
	size_t i;

	for (i = 0; i < len; i++)
		s[i] = tolower((unsigned char)s[i]);
	return s;
}

int url_parse(struct url *u, const char *s)
{
	const char *auth, *end, *at, *host, *colon, *bracket;

	memset(u, 0, sizeof(*u));
	auth = authority(s, &end);
	if (!auth)
		return -1;
	u->scheme = lower(s, auth - 3 - s);
	host = auth;
	at = userinfo_end(auth, end);
	if (at) {
		colon = memchr(auth, ':', at - auth);
		u->user = decode(auth, (colon ? colon : at) - auth);
		if (colon)
			u->password = decode(colon + 1, at - colon - 1);
		host = at + 1;
	}
	/* host[:port], or [v6][:port] */
	bracket = *host == '[' ? memchr(host, ']', end - host) : NULL;
	colon = bracket ? memchr(bracket, ':', end - bracket) :
			  memchr(host, ':', end - host);
	u->host = lower(host, (colon ? colon : end) - host);
	if (colon)
		u->port = xstrndup(colon + 1, end - colon - 1);
	u->path = xstrdup(end);
	return 0;
}

void url_release(struct url *u)
{
	free(u->scheme);
	if (u->user) {
		explicit_bzero(u->user, strlen(u->user));
		free(u->user);
	}
	if (u->password) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	free(u->host);
	free(u->port);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

int url_has_userinfo(const char *s)
{
	const char *end, *auth = authority(s, &end);

	return auth && userinfo_end(auth, end);
}

/*
 * For masking, the authority is wherever git's credential_from_url() would
 * look for one: after the first "://", whatever comes before it, so that
 * no spelling of a URL keeps its userinfo in a message.
 */
static const char *mask_authority(const char *s, const char **end)
{
	const char *p = strstr(s, "://");

	if (!p)
		return NULL;
	p += 3;
	*end = p + strcspn(p, "/");
	return p;
}

void url_mask_userinfo(const char *s, const char *mask, struct strbuf *out)
{
	const char *end, *auth = mask_authority(s, &end), *at;

	if (!auth || !(at = userinfo_end(auth, end))) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_add(out, s, auth - s);
	if (mask) {
		strbuf_addstr(out, mask);
		strbuf_addch(out, '@');
	}
	strbuf_addstr(out, at + 1);
}

char *url_without_userinfo(const char *s)
{
	struct strbuf out = STRBUF_INIT;

	url_mask_userinfo(s, NULL, &out);
	return strbuf_detach(&out, NULL);
}

int url_decode_path(const char *in, struct strbuf *out)
{
	for (; *in; in++) {
		int hi, lo, c;

		if (*in != '%') {
			strbuf_addch(out, *in);
			continue;
		}
		hi = hexval((unsigned char)in[1]);
		lo = hi < 0 ? -1 : hexval((unsigned char)in[2]);
		if (lo < 0)
			return -1;
		c = hi * 16 + lo;
		if (!c || c == '/')
			return -1;
		strbuf_addch(out, c);
		in += 2;
	}
	return 0;
}

static int unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void url_encode_path(const char *in, struct strbuf *out)
{
	for (; *in; in++) {
		if (unreserved((unsigned char)*in) || *in == '/')
			strbuf_addch(out, *in);
		else
			strbuf_addf(out, "%%%02X", (unsigned char)*in);
	}
}

/*
 * A path as git's url_normalize() compares it: no query or fragment,
 * "/" when empty, %XX of an unreserved character decoded, other escapes
 * in uppercase hex, no trailing '/' (but "/" itself stays).
 */
static void normal_path(const char *p, struct strbuf *out)
{
	size_t len = strcspn(p, "?#"), i;

	if (*p != '/')
		strbuf_addch(out, '/');
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (p[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)p[i + 2])) >= 0) {
			if (unreserved(hi * 16 + lo))
				strbuf_addch(out, hi * 16 + lo);
			else
				strbuf_addf(out, "%%%02X", hi * 16 + lo);
			i += 2;
		} else {
			strbuf_addch(out, p[i]);
		}
	}
	while (out->len > 1 && out->buf[out->len - 1] == '/')
		strbuf_setlen(out, out->len - 1);
}

static const char *port_of(const struct url *u)
{
	if (u->port && *u->port)
		return u->port;
	if (!strcmp(u->scheme, "http"))
		return "80";
	if (!strcmp(u->scheme, "https"))
		return "443";
	return "";
}

/* Label by label; a pattern label "*" matches any one label, as in git. */
static int host_matches(const char *pattern, const char *host)
{
	while (*pattern && *host) {
		size_t pl = strcspn(pattern, "."), hl = strcspn(host, ".");
		int ok = (pl == 1 && *pattern == '*') ||
			 (pl == hl && !strncmp(pattern, host, pl));

		if (!ok || !pattern[pl] != !host[hl])
			return 0;
		pattern += pl + !!pattern[pl];
		host += hl + !!host[hl];
	}
	return !*pattern && !*host;
}

int url_match(const char *pattern, const char *url)
{
	struct url p = URL_INIT, u = URL_INIT;
	struct strbuf pp = STRBUF_INIT, up = STRBUF_INIT;
	int score = -1;

	if (url_parse(&p, pattern) < 0 || url_parse(&u, url) < 0)
		goto cleanup;
	if (strcmp(p.scheme, u.scheme) || !host_matches(p.host, u.host) ||
	    strcmp(port_of(&p), port_of(&u)))
		goto cleanup;
	if (p.user && *p.user && (!u.user || strcmp(p.user, u.user)))
		goto cleanup;
	normal_path(p.path, &pp);
	normal_path(u.path, &up);
	if (pp.len > 1 && (strncmp(up.buf, pp.buf, pp.len) ||
			   (up.buf[pp.len] && up.buf[pp.len] != '/')))
		goto cleanup;
	score = (pp.len > 1 ? (int)pp.len : 0) * 2 + !!(p.user && *p.user);
cleanup:
	strbuf_release(&pp);
	strbuf_release(&up);
	url_release(&p);
	url_release(&u);
	return score;
}

int file_url_path(const char *url, struct strbuf *out)
{
	if (strncmp(url, "file://", 7))
		return -1;
	url += 7;
	if (!strncmp(url, "localhost/", 10))
		url += 9;
	if (*url != '/')
		return -1;
	return url_decode_path(url, out);
}
