#include "http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_global_init(void)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return error("cannot initialise libcurl: %s",
			     curl_easy_strerror(global_rc));
	return 0;
}

/* git's rules for GIT_SSL_NO_VERIFY and friends: set and not "0"/"false". */
static int env_true(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") && strcasecmp(v, "false");
}

static int open_trace(struct http_transport *h)
{
	const char *v = getenv("GIT_TRACE_CURL");

	if (!v || !*v || !strcmp(v, "0") || !strcasecmp(v, "false")) {
		if (env_true("GIT_CURL_VERBOSE"))
			h->trace = stderr;
		return 0;
	}
	if (!strcmp(v, "1") || !strcmp(v, "2") || !strcasecmp(v, "true")) {
		h->trace = stderr;
		return 0;
	}
	if (v[0] != '/')
		return 0; /* git ignores what it cannot use, too */
	h->trace = fopen(v, "ae");
	if (!h->trace)
		return error_errno("cannot open '%s' (GIT_TRACE_CURL)", v);
	h->trace_close = 1;
	return 0;
}

int http_transport_init(struct http_transport *h, const struct repo *r,
			const char *url)
{
	struct strbuf v = STRBUF_INIT;
	long n;
	int ret = -1;

	memset(h, 0, sizeof(*h));
	h->ssl_verify = 1;
	if (http_global_init() < 0)
		goto cleanup;
	if (config_http_tls(r, url, &h->ssl_verify, &h->ca_info) < 0)
		goto cleanup;
	if (getenv("GIT_SSL_NO_VERIFY"))
		h->ssl_verify = !env_true("GIT_SSL_NO_VERIFY");
	if (getenv("GIT_SSL_CAINFO") && *getenv("GIT_SSL_CAINFO")) {
		free(h->ca_info);
		h->ca_info = xstrdup(getenv("GIT_SSL_CAINFO"));
	}
	if (config_get(r, "http.proxy", &v) < 0)
		goto cleanup;
	if (v.len)
		h->proxy = strbuf_detach(&v, NULL);
	if (config_get_int(r, "model.http.lowSpeedLimit",
			   HTTP_LOW_SPEED_LIMIT_DEFAULT, &n) < 0)
		goto cleanup;
	if (n < 0) {
		error("model.http.lowSpeedLimit must be 0 or more, not %ld", n);
		goto cleanup;
	}
	h->low_speed_limit = n;
	if (config_get_int(r, "model.http.lowSpeedTime",
			   HTTP_LOW_SPEED_TIME_DEFAULT, &n) < 0)
		goto cleanup;
	if (n < 0) {
		error("model.http.lowSpeedTime must be 0 or more, not %ld", n);
		goto cleanup;
	}
	h->low_speed_time = n;
	if (open_trace(h) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	strbuf_release(&v);
	return ret;
}

void http_transport_default_ca(struct http_transport *h, const char *file)
{
	if (!h->ca_info && file && *file)
		h->ca_info = xstrdup(file);
}

void http_transport_release(struct http_transport *h)
{
	free(h->ca_info);
	free(h->proxy);
	if (h->trace_close)
		fclose(h->trace);
	memset(h, 0, sizeof(*h));
	h->ssl_verify = 1;
}

static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-amz-security-token",
};

int http_header_is_secret(const char *line, size_t len)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(secret_headers); i++) {
		n = strlen(secret_headers[i]);
		if (len > n && line[n] == ':' &&
		    !strncasecmp(line, secret_headers[i], n))
			return 1;
	}
	return 0;
}

/*
 * One line of a header block or of libcurl's messages, its secret value
 * replaced: a secret header's value, and the user name in libcurl's
 * "Server auth using Basic with user 'alice'" (an AWS key id, for S3).
 */
static void trace_header(FILE *out, const char *prefix, const char *line,
			 size_t len)
{
	static const char user[] = " with user '";
	const char *u = memmem(line, len, user, strlen(user));

	if (u) {
		fprintf(out, "%s%.*s with user <redacted>\n", prefix,
			(int)(u - line), line);
		return;
	}
	if (http_header_is_secret(line, len)) {
		size_t name = strcspn(line, ":");

		fprintf(out, "%s%.*s: <redacted>\n", prefix, (int)name, line);
		return;
	}
	fprintf(out, "%s%.*s\n", prefix, (int)len, line);
}

static void trace_block(FILE *out, const char *prefix, const char *data,
			size_t size)
{
	const char *end = data + size;

	while (data < end) {
		const char *eol = memchr(data, '\n', end - data);
		size_t len = (eol ? eol : end) - data;

		if (len && data[len - 1] == '\r')
			len--;
		if (len)
			trace_header(out, prefix, data, len);
		data = eol ? eol + 1 : end;
	}
}

static int trace_cb(CURL *easy, curl_infotype type, char *data, size_t size,
		    void *ptr)
{
	FILE *out = ptr;

	(void)easy;
	switch (type) {
	case CURLINFO_TEXT:
		trace_block(out, "== Info: ", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		trace_block(out, "=> Send header: ", data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_block(out, "<= Recv header: ", data, size);
		break;
	default:
		return 0; /* bodies and TLS records: never */
	}
	fflush(out);
	return 0;
}

void http_transport_setup(const struct http_transport *h, CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "git-model/" PACKAGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, (long)h->ssl_verify);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, h->ssl_verify ? 2L : 0L);
	if (h->ca_info)
		curl_easy_setopt(easy, CURLOPT_CAINFO, h->ca_info);
	if (h->proxy)
		curl_easy_setopt(easy, CURLOPT_PROXY, h->proxy);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, h->low_speed_time);
	if (h->trace) {
		curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, trace_cb);
		curl_easy_setopt(easy, CURLOPT_DEBUGDATA, h->trace);
	}
}

int http_transient_status(long status)
{
	return status == 408 || status == 429 || status == 500 ||
	       status == 502 || status == 503 || status == 504;
}

int http_transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

const char *http_reason_phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return "";
	}
}
