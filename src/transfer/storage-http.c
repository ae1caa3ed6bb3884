/*
 * The HTTP backend: any server that answers GET, HEAD and PUT under a base
 * URL (nginx or Apache WebDAV, artifact stores, object stores' HTTP
 * gateways). transfer.c drives the requests; this file says where objects
 * are and how to authenticate:
 *
 *	credentials   from the URL's userinfo, else on a 401 from `git
 *	              credential fill` (credential.c), approved or rejected
 *	              after use
 *	headers       http.<url>.extraHeader, http.extraHeader and
 *	              model.http.extraHeader, as config_http_settings()
 *	              lets them reach this URL (config.h); an Authorization
 *	              header there means the credential helper is never asked
 *
 * TLS, timeouts, proxy and tracing are the transport's (http.h).
 */

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "credential.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct http_storage {
	char *base; /* without userinfo */
	struct credential cred;
	int have_cred;  /* cred.username/password are set */
	int tried_fill; /* git credential fill was asked */
	int approved;
	struct http_settings hs; /* the headers */
};

static const struct storage_http_ops http_ops;

static int http_open(struct storage *s)
{
	struct http_storage *h = xcalloc(1, sizeof(*h));
	const struct repo *r = s->repo;
	const char *host = strstr(s->url, "://") + 3;

	s->data = h;
	s->http = &http_ops;
	if (!*host || *host == '/')
		return error("storage URL '%s' has no host", s->display);
	h->base = url_without_userinfo(s->url);
	if (storage_open_transport(s, s->url) < 0)
		return -1;
	if (!s->anonymous) {
		credential_from_url(&h->cred, s->url);
		h->have_cred = h->cred.username && h->cred.password;
	}
	if (config_http_settings(r, s->url, s->anonymous, &h->hs) < 0)
		return -1;
	return 0;
}

static void http_object_url(struct storage *s, const char *oid,
			    const char *query, struct strbuf *out)
{
	struct http_storage *h = s->data;

	storage_object_url(h->base, oid, out);
	if (query)
		strbuf_addf(out, "?%s", query);
}

static int http_prepare(struct storage *s, CURL *easy,
			struct curl_slist **headers,
			const struct storage_request *rq)
{
	struct http_storage *h = s->data;
	size_t i;

	if (h->have_cred) {
		/* ANY makes libcurl ask without credentials first, each time. */
		long auth = s->auth_offered & CURLAUTH_BASIC ? CURLAUTH_BASIC :
							       CURLAUTH_ANY;

		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, auth);
		curl_easy_setopt(easy, CURLOPT_USERNAME, h->cred.username);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, h->cred.password);
	}
	for (i = 0; i < h->hs.headers_nr; i++) {
		struct curl_slist *l = curl_slist_append(*headers,
							 h->hs.headers[i]);

		if (!l)
			return error("out of memory for HTTP headers");
		*headers = l;
	}
	return 0;
}

static int http_unauthorized(struct storage *s)
{
	struct http_storage *h = s->data;

	if (s->anonymous)
		return error("'%s' wants credentials; a pointer's url is "
			     "only fetched anonymously (set model.storage to "
			     "use credentials with it)",
			     s->display);
	/* Credentials were never sent: nothing to ask for or reject. */
	if (h->hs.auth_header)
		return error("'%s' refused the Authorization header of your "
			     "extraHeader setting (check it; the credential "
			     "helper is not asked while it is set)",
			     s->display);
	if (h->hs.withheld) {
		struct strbuf hint = STRBUF_INIT;

		config_http_trust_hint(s->url, &hint);
		error("'%s' wants credentials; %s", s->display, hint.buf);
		strbuf_release(&hint);
		return -1;
	}
	if (h->tried_fill || h->have_cred) {
		/* What we sent was refused: tell the helpers, give up. */
		if (h->tried_fill)
			credential_reject(&h->cred);
		return error("'%s' refused the credentials for '%s' (check "
			     "them, or your credential helper)",
			     s->display, h->cred.host);
	}
	h->tried_fill = 1;
	if (credential_fill(&h->cred) < 0)
		return -1;
	h->have_cred = 1;
	return 0;
}

static void http_authorized(struct storage *s)
{
	struct http_storage *h = s->data;

	if (h->tried_fill && !h->approved) {
		credential_approve(&h->cred);
		h->approved = 1;
	}
}

static void http_close(struct storage *s)
{
	struct http_storage *h = s->data;

	if (!h)
		return;
	free(h->base);
	credential_release(&h->cred);
	http_settings_release(&h->hs);
	free(h);
	s->data = NULL;
}

static const struct storage_http_ops http_ops = {
	.object_url = http_object_url,
	.prepare = http_prepare,
	.unauthorized = http_unauthorized,
	.authorized = http_authorized,
	.compressed = 1,
};

const struct storage_ops storage_http_ops = {
	.scheme = "http",
	.open = http_open,
	.close = http_close,
};

const struct storage_ops storage_https_ops = {
	.scheme = "https",
	.open = http_open,
	.close = http_close,
};
