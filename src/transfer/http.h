#ifndef HTTP_H
#define HTTP_H

/*
 * The HTTP transport: how every HTTP-speaking storage backend (http://,
 * https://, s3:// with SigV4) talks to its server, in one place, the way
 * git's http.c serves every remote helper:
 *
 *	user agent    git-model/<version>
 *	TLS           GIT_SSL_NO_VERIFY, else http.sslVerify (default true);
 *	              GIT_SSL_CAINFO, else http.sslCAInfo, both as git's
 *	              http.<url>.* match the URL (config_http_tls()); a
 *	              backend may add
 *	              a CA file of its own for when neither is set (S3:
 *	              AWS_CA_BUNDLE, a profile's ca_bundle)
 *	proxy         http.proxy; else libcurl's http_proxy, https_proxy,
 *	              no_proxy
 *	timeouts      a connection must be made in HTTP_CONNECT_TIMEOUT s; a
 *	              transfer slower than model.http.lowSpeedLimit bytes a
 *	              second for model.http.lowSpeedTime seconds is aborted
 *	              as a timeout (CURLE_OPERATION_TIMEDOUT, which the engine
 *	              retries). The defaults hold against a server that
 *	              accepts and never answers and against one that trickles
 *	              bytes: a stall costs at most lowSpeedTime per attempt.
 *	tracing       GIT_CURL_VERBOSE=1, or GIT_TRACE_CURL (1, 2 or true:
 *	              stderr; an absolute path: appended to that file),
 *	              as in git: libcurl's messages and every header, with
 *	              the values of Authorization, Proxy-Authorization,
 *	              Cookie, Set-Cookie and x-amz-security-token, and the
 *	              user name libcurl names, replaced by "<redacted>".
 *	              Bodies are never traced.
 *
 * Credentials, headers of the backend's own (auth, signing) and the
 * response to a 401 are the backend's (storage.h, struct storage_http_ops);
 * this transport never adds a credential to a request.
 *
 * Thread-safety: http_global_init() may be called from any thread, any
 * number of times. A struct http_transport is read-only after
 * http_transport_init(), so any number of threads may set up handles with
 * it at once.
 */

#include <curl/curl.h>

#include "repo.h"
#include "strbuf.h"

#define HTTP_LOW_SPEED_LIMIT_DEFAULT 1000 /* bytes a second */
#define HTTP_LOW_SPEED_TIME_DEFAULT 30    /* seconds */
#define HTTP_CONNECT_TIMEOUT 30           /* seconds */

struct http_transport {
	int ssl_verify;
	char *ca_info;  /* a CA file, or NULL for libcurl's default */
	char *proxy;    /* http.proxy, or NULL */
	long low_speed_limit, low_speed_time;
	FILE *trace;    /* where GIT_TRACE_CURL goes, or NULL */
	int trace_close; /* trace is a file of ours */
};

#define HTTP_TRANSPORT_INIT { 1, NULL, NULL, 0, 0, NULL, 0 }

/* curl_global_init(), once per process. 0, or -1 (reported). */
int http_global_init(void);

/*
 * Read the settings above from `r` (may be NULL) and the environment, for
 * requests to `url` (may be NULL: only unscoped settings apply).
 * 0, or -1 (reported: a bad value).
 */
int http_transport_init(struct http_transport *h, const struct repo *r,
			const char *url);

/* Use `file` as CA file when no git setting named one; `file` is copied. */
void http_transport_default_ca(struct http_transport *h, const char *file);

/*
 * Set the transport's options on `easy` (a fresh or reset handle): user
 * agent, TLS, proxy, timeouts, tracing. The handle must not outlive `h`.
 */
void http_transport_setup(const struct http_transport *h, CURL *easy);

void http_transport_release(struct http_transport *h);

/*
 * Failures worth another attempt: connection errors, timeouts, a reply
 * cut short; HTTP 408, 429, 500, 502, 503, 504.
 */
int http_transient_curl(CURLcode rc);
int http_transient_status(long status);

/* "Not Found" for 404; "" for a status it does not know. */
const char *http_reason_phrase(long status);

/*
 * Whether a header line ("Name: value", no CR LF needed) carries a secret
 * whose value a trace must not show.
 */
int http_header_is_secret(const char *line, size_t len);

#endif
