#ifndef CREDENTIAL_H
#define CREDENTIAL_H

/*
 * HTTP credentials through git's own credential system (`git credential
 * fill`, `approve`, `reject`), so every helper a user has configured for
 * git works for storage too, and prompts follow git's rules.
 *
 * A credential is held in memory only, and wiped when released. Nothing
 * here ever prints a username or password.
 */

#include "strbuf.h"

struct credential {
	char *protocol;
	char *host;     /* host[:port] */
	char *path;
	char *username; /* may come from the URL */
	char *password;
};

#define CREDENTIAL_INIT { NULL, NULL, NULL, NULL, NULL }

/*
 * Fill protocol, host and path from a URL (http or https), and the user
 * name and password from its userinfo, %-decoded (url.h has the rule).
 * 0, or -1 when `url` has no scheme.
 */
int credential_from_url(struct credential *c, const char *url);

/* Ask git for a username and password. 0, or -1 (reported). */
int credential_fill(struct credential *c);

/* Tell git the credential worked, or did not. */
void credential_approve(struct credential *c);
void credential_reject(struct credential *c);

void credential_release(struct credential *c);

#endif
