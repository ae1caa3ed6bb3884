#ifndef URL_H
#define URL_H

/*
 * The one URL parser of git-model: storage URLs, pointer urls, S3
 * endpoints and the <url> of git's http.<url>.* settings all go through
 * it, so that what decides where a request goes (the host) and what is
 * shown or written (the URL without credentials) can never disagree.
 *
 * Userinfo: the authority runs from "://" to the first '/'; the userinfo
 * is what comes before its last '@', the user name what comes before the
 * first ':' of it. git's credential_from_url() stops the authority at
 * '?' and '#' too, so for git a password with a raw '#' or '?' makes a
 * broken host; here it is part of the password, and a URL with userinfo
 * of any spelling ("u:pa#ss@", "u:pa%23ss@", "u@x@") is never shown or
 * written with it. User and password are %-decoded, as git does.
 *
 * Nothing here does I/O; every function is thread-safe.
 */

#include "strbuf.h"

struct url {
	char *scheme;   /* lowercase; never NULL after url_parse() */
	char *user;     /* %-decoded; NULL when the URL has no userinfo */
	char *password; /* %-decoded; NULL when there is no ':' in it */
	char *host;     /* lowercase; "[v6]" keeps its brackets; may be "" */
	char *port;     /* NULL when none is written */
	char *path;     /* from the first '/' on, query included, or "" */
};

#define URL_INIT { NULL, NULL, NULL, NULL, NULL, NULL }

/*
 * Split `s` ("scheme://[userinfo@]host[:port][/path]") into `u`, which
 * owns copies. Returns 0, or -1 (not reported) when `s` has no
 * "scheme://". Release with url_release() either way.
 */
int url_parse(struct url *u, const char *s);

/* Free and wipe (explicit_bzero) the password; `u` is URL_INIT after. */
void url_release(struct url *u);

/* True when `s` has userinfo (a '@' in its authority). */
int url_has_userinfo(const char *s);

/*
 * `s` with its userinfo replaced by `mask` ("***"), or removed with its
 * '@' when `mask` is NULL; `s` unchanged when it has none.
 */
void url_mask_userinfo(const char *s, const char *mask, struct strbuf *out);

/* The URL without userinfo, for messages and pointers (caller frees). */
char *url_without_userinfo(const char *s);

/*
 * Decode %XX escapes of a URL path into `out`. Returns -1 for a bad escape
 * or an encoded NUL or '/'.
 */
int url_decode_path(const char *in, struct strbuf *out);

/*
 * The absolute path of a file:// URL ("file:///dir" or
 * "file://localhost/dir"), %-escapes decoded, appended to `out`. Returns 0,
 * or -1 when `url` is not file:// with an absolute path or has a bad
 * escape (not reported: callers word it).
 */
int file_url_path(const char *url, struct strbuf *out);

/* Encode a local path for a file:// URL. */
void url_encode_path(const char *in, struct strbuf *out);

/*
 * How well `pattern`, the <url> of a git http.<url>.* setting, matches
 * `url`, with git's urlmatch rules (git-config(1), "http.<url>.*"):
 * the scheme, the host (a "*" label stands for any one label) and
 * the port (default ports made explicit) must be the same; a user name in
 * the pattern must be the URL's; the pattern's path must be a prefix of
 * the URL's at a '/' boundary. Paths compare after %XX of unreserved
 * characters is decoded and hex is made uppercase; dot segments are not
 * resolved (a URL with them never matches a pattern without them).
 * Returns -1 for no match, else a score: the higher, the more specific
 * (a longer path, then a matching user name), as git ranks them.
 */
int url_match(const char *pattern, const char *url);

#endif
