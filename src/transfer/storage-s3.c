/*
 * The S3 backend: s3://bucket/prefix on AWS S3 and S3-compatible stores
 * (MinIO, Ceph RGW, Cloudflare R2, Wasabi), with the settings users
 * already give the AWS CLI (aws-config.h).
 *
 * Requests are signed with Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4, libcurl >= 7.75), but for those it would sign
 * wrongly (before 8.10, a KMS key id: aws-sigv4.h), which we sign
 * ourselves. Two things libcurl 7.88 needs from us: an explicit x-amz-content-sha256 header (without it, it signs
 * the hash of an empty body), and every query string in canonical form
 * (keys sorted, values URI-encoded), since it signs the query as written.
 * An object's payload hash is its oid, known before we send a byte.
 *
 * Addressing: virtual-hosted (https://bucket.s3.region.amazonaws.com/key)
 * for AWS; path style (https://endpoint/bucket/key) with model.s3.pathStyle
 * or, automatically, for an IP address or localhost endpoint.
 *
 * Objects of model.s3.multipartThreshold bytes or more (default 64 MiB) go
 * up in parts of model.s3.partSize (default 16 MiB, grown so there are at
 * most 10,000 parts): this file says what each step of a multipart upload
 * sends and what its answer means (struct storage_multipart_ops); the
 * engine (transfer.c) schedules the steps, the parts in parallel.
 *
 * Credentials (aws-credentials.h) are resolved at the first request and
 * again before temporary ones expire; finding none is an error unless
 * model.s3.anonymous asks for unsigned requests.
 *
 * An object's compressed form (git-model-compression(5)) is the key plus
 * ".gmz", uploaded with the x-amz-checksum-sha256 of its own bytes; the
 * engine names it (storage_http_ops.compressed).
 *
 * With model.s3.signature=v2 (libs3), open() gives the engine synchronous
 * calls instead (struct storage_sync_ops), which read and write objects
 * raw only.
 *
 * TLS is the transport's (http.h); when git's settings name no CA file,
 * AWS_CA_BUNDLE or the profile's ca_bundle does, as for the AWS CLI.
 */

#include <ctype.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBS3
#include <libs3.h>
#endif

#include "aws-config.h"
#include "aws-credentials.h"
#include "aws-sigv4.h"
#include "config.h"
#include "hash.h"
#include "http.h"
#include "pointer.h"
#include "s3-xml.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define MIB (1024ULL * 1024)
#define S3_MAX_PARTS 10000
#define S3_MIN_PART (5 * MIB)
/* Every object's type, whether it goes up in one PUT or in parts. */
#define S3_CONTENT_TYPE "application/octet-stream"

struct s3_storage {
	char *bucket;
	char *prefix;   /* no leading or trailing slash; may be empty */
	char *scheme;   /* "https" or "http" */
	char *host;     /* host[:port] of the endpoint */
	int path_style;
	int aws_host;   /* host is AWS's default for the region */
	char *old_host; /* the host before a region move (handles in flight) */
	struct aws_config aws;
	char *region;
	char sigv4[128];
	uint64_t threshold, part;
	char *sse;            /* model.s3.sse, or NULL */
	char *sse_kms_key_id; /* model.s3.sseKmsKeyId, or NULL */
	char *storage_class;  /* model.s3.storageClass, or NULL */
	int request_payer;    /* model.s3.requestPayer = requester */
	int anonymous;      /* model.s3.anonymous: sign nothing */
	int credentials_ok; /* resolved once; -1: failed, reported */
	CURL *easy;         /* s3_send()'s, reused: its connection stays */
	pthread_mutex_t lock; /* over aws's credentials */
};

/* S3's URI encoding: unreserved characters stay, '/' stays in keys. */
static void s3_encode(const char *in, int keep_slash, struct strbuf *out)
{
	for (; *in; in++) {
		unsigned char c = *in;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~' || (keep_slash && c == '/'))
			strbuf_addch(out, c);
		else
			strbuf_addf(out, "%%%02X", c);
	}
}

static int is_ip_or_localhost(const char *host)
{
	size_t len = strcspn(host, ":");

	if (host[0] == '[')
		return 1;
	if (len == 9 && !strncasecmp(host, "localhost", 9))
		return 1;
	return strspn(host, "0123456789.") >= len;
}

enum s3_signature { S3_SIGV4, S3_SIGV2 };

static int select_signature(struct storage *s, enum s3_signature *sig);
static int s3_credentials(struct storage *s);
static int s3_object_settings(struct storage *s);
static const struct storage_http_ops s3_http_ops;
#ifdef HAVE_LIBS3
static const struct storage_sync_ops s3v2_sync_ops;
#endif

/* A header value from config: printable, no line break. */
static int s3_setting(struct storage *s, const char *key, char **out)
{
	struct strbuf v = STRBUF_INIT;
	size_t i;

	if (config_get(s->repo, key, &v) < 0)
		return -1;
	for (i = 0; i < v.len; i++)
		if (!isprint((unsigned char)v.buf[i])) {
			strbuf_release(&v);
			return error("bad value for %s: not printable text",
				     key);
		}
	*out = v.len ? strbuf_detach(&v, NULL) : NULL;
	strbuf_release(&v);
	return 0;
}

/*
 * What a bucket may require of every new object and request:
 * model.s3.sse (AES256, aws:kms, aws:kms:dsse) with
 * model.s3.sseKmsKeyId (a KMS key other than the bucket's),
 * model.s3.storageClass, model.s3.requestPayer (requester). None from
 * .gitmodel: a repository does not choose that you pay for its reads.
 */
static int s3_object_settings(struct storage *s)
{
	struct s3_storage *s3 = s->data;
	char *payer = NULL;
	int ret = -1;

	if (s3_setting(s, "model.s3.sse", &s3->sse) < 0 ||
	    s3_setting(s, "model.s3.sseKmsKeyId", &s3->sse_kms_key_id) < 0 ||
	    s3_setting(s, "model.s3.storageClass", &s3->storage_class) < 0 ||
	    s3_setting(s, "model.s3.requestPayer", &payer) < 0)
		goto cleanup;
	if (s3->sse && strcmp(s3->sse, "AES256") &&
	    strcmp(s3->sse, "aws:kms") && strcmp(s3->sse, "aws:kms:dsse")) {
		error("bad value '%s' for model.s3.sse (AES256, aws:kms or "
		      "aws:kms:dsse)", s3->sse);
		goto cleanup;
	}
	if (s3->sse_kms_key_id &&
	    (!s3->sse || strncmp(s3->sse, "aws:kms", 7))) {
		error("model.s3.sseKmsKeyId needs model.s3.sse aws:kms or "
		      "aws:kms:dsse");
		goto cleanup;
	}
	if (s3->storage_class &&
	    strspn(s3->storage_class, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") !=
		    strlen(s3->storage_class)) {
		error("bad value '%s' for model.s3.storageClass (STANDARD, "
		      "STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ...)",
		      s3->storage_class);
		goto cleanup;
	}
	if (payer && strcmp(payer, "requester")) {
		error("bad value '%s' for model.s3.requestPayer (requester)",
		      payer);
		goto cleanup;
	}
	s3->request_payer = !!payer;
	ret = 0;
cleanup:
	free(payer);
	return ret;
}

static int s3_open(struct storage *s)
{
	struct s3_storage *s3 = xcalloc(1, sizeof(*s3));
	const struct repo *r = s->repo;
	struct strbuf endpoint = STRBUF_INIT, region = STRBUF_INIT;
	const char *p = s->url + strlen("s3://"), *slash, *host;
	enum s3_signature sig;
	int path_style = -1, ret = -1;

	s->data = s3;
	pthread_mutex_init(&s3->lock, NULL);
	slash = strchr(p, '/');
	s3->bucket = slash ? xstrndup(p, slash - p) : xstrdup(p);
	s3->prefix = xstrdup(slash ? slash + 1 : "");
	if (!*s3->bucket || strchr(s3->bucket, '@') ||
	    strcspn(s3->bucket, "/?#") != strlen(s3->bucket)) {
		error("storage URL '%s' has no valid bucket name (use "
		      "s3://bucket/prefix)", s->display);
		goto cleanup;
	}
	if (aws_config_load(&s3->aws) < 0)
		goto cleanup;

	if (config_get(r, "model.s3.region", &region) < 0)
		goto cleanup;
	if (!region.len)
		strbuf_addstr(&region, s3->aws.region ? s3->aws.region :
							"us-east-1");
	if (strcspn(region.buf, ":\n") != region.len) {
		error("bad S3 region '%s'", region.buf);
		goto cleanup;
	}
	xsnprintf(s3->sigv4, sizeof(s3->sigv4), "aws:amz:%s:s3", region.buf);
	s3->region = xstrdup(region.buf);
	if (config_get_bool(r, "model.s3.anonymous", 0, &s3->anonymous) < 0 ||
	    s3_object_settings(s) < 0)
		goto cleanup;

	if (config_s3_endpoint(r, s3->aws.endpoint_url, &endpoint) < 0)
		goto cleanup;
	if (!endpoint.len) {
		strbuf_addf(&endpoint, "https://s3.%s.amazonaws.com",
			    region.buf);
		s3->aws_host = 1;
	}
	host = strstr(endpoint.buf, "://");
	if (!host || (strncmp(endpoint.buf, "http://", 7) &&
		      strncmp(endpoint.buf, "https://", 8))) {
		error("S3 endpoint '%s' is not an http:// or https:// URL",
		      endpoint.buf);
		goto cleanup;
	}
	s3->scheme = xstrndup(endpoint.buf, host - endpoint.buf);
	host += 3;
	s3->host = xstrndup(host, strcspn(host, "/"));
	if (!*s3->host || strchr(s3->host, '@')) {
		error("S3 endpoint '%s' needs a host and no credentials in it",
		      endpoint.buf);
		goto cleanup;
	}
	if (config_get_bool(r, "model.s3.pathStyle", -1, &path_style) < 0)
		goto cleanup;
	s3->path_style = path_style >= 0 ? path_style :
					   is_ip_or_localhost(s3->host);
	/* A dotted bucket name cannot be a TLS host name under *.amazonaws */
	if (!s3->path_style && strchr(s3->bucket, '.'))
		s3->path_style = 1;

	if (config_get_size(r, "model.s3.multipartThreshold", 64 * MIB,
			    &s3->threshold) < 0 ||
	    config_get_size(r, "model.s3.partSize", 16 * MIB, &s3->part) < 0)
		goto cleanup;
	if (s3->part < S3_MIN_PART) {
		error("model.s3.partSize must be at least 5m (S3's smallest "
		      "part)");
		goto cleanup;
	}
	if (select_signature(s, &sig) < 0)
		goto cleanup;
	if (sig == S3_SIGV4) {
		s->http = &s3_http_ops;
		if (storage_open_transport(s, endpoint.buf) < 0)
			goto cleanup;
		http_transport_default_ca(s->transport, s3->aws.ca_bundle);
	} else {
#ifdef HAVE_LIBS3
		s->sync = &s3v2_sync_ops;
		if (s3_credentials(s) < 0)
			goto cleanup;
#endif
	}
	ret = 0;
cleanup:
	strbuf_release(&endpoint);
	strbuf_release(&region);
	return ret;
}

/* The URL of `key` ("": the bucket), with `query` when not NULL. */
static void s3_key_url(struct storage *s, const char *key, const char *query,
		       struct strbuf *out)
{
	struct s3_storage *s3 = s->data;

	if (s3->path_style) {
		strbuf_addf(out, "%s://%s/", s3->scheme, s3->host);
		s3_encode(s3->bucket, 0, out);
	} else {
		strbuf_addf(out, "%s://%s.%s", s3->scheme, s3->bucket,
			    s3->host);
	}
	strbuf_addch(out, '/');
	s3_encode(key, 1, out);
	if (query)
		strbuf_addf(out, "?%s", query);
}

/* Where the objects are: "<prefix>/sha256/", or "sha256/". */
static void s3_objects_prefix(struct s3_storage *s3, struct strbuf *out)
{
	if (*s3->prefix)
		strbuf_addf(out, "%s/", s3->prefix);
	strbuf_addstr(out, "sha256/");
}

static void s3_object_url(struct storage *s, const char *oid,
			  const char *query, struct strbuf *out)
{
	struct strbuf key = STRBUF_INIT;

	s3_objects_prefix(s->data, &key);
	strbuf_addf(&key, "%.2s/%.2s/%s", oid, oid + 2, oid);
	s3_key_url(s, key.buf, query, out);
	strbuf_release(&key);
}

/*
 * Resolve the credentials on first use (so commands that send nothing
 * never run a credential_process or ask a metadata service), and again
 * when temporary ones are within AWS_CREDENTIALS_REFRESH seconds of
 * expiring. No credentials at all is an error unless model.s3.anonymous
 * asks for unsigned requests: a typo in a profile never drops signing.
 * 0, or -1 (reported once).
 */
static int s3_credentials(struct storage *s)
{
	struct s3_storage *s3 = s->data;
	int got;

	if (s3->anonymous)
		return 0;
	if (s3->credentials_ok < 0)
		return -1;
	if (s3->credentials_ok > 0 &&
	    (!s3->aws.expiration ||
	     time(NULL) + AWS_CREDENTIALS_REFRESH < s3->aws.expiration))
		return 0;
	aws_config_drop_credentials(&s3->aws);
	got = aws_credentials_load(&s3->aws,
				   s3->aws.region ? s3->aws.region : s3->region,
				   s->transport);
	if (!got)
		error("no AWS credentials for '%s' (set AWS_PROFILE, or "
		      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for a "
		      "public bucket, git config model.s3.anonymous true)",
		      s->display);
	s3->credentials_ok = got > 0 ? 1 : -1;
	return got > 0 ? 0 : -1;
}

static int add_header(struct curl_slist **headers, const char *fmt,
		      const char *value)
{
	struct strbuf h = STRBUF_INIT;
	struct curl_slist *l;

	strbuf_addf(&h, fmt, value);
	l = curl_slist_append(*headers, h.buf);
	explicit_bzero(h.buf, h.len);
	strbuf_release(&h);
	if (!l)
		return error("out of memory for HTTP headers");
	*headers = l;
	return 0;
}

/* The SHA-256 `hex` as S3's flexible checksums want it: base64. */
static void sha256_base64(const char *hex, char out[45])
{
	unsigned char bin[32];
	int i;

	for (i = 0; i < 32; i++) {
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			BUG("not a SHA-256: '%s'", hex);
		bin[i] = byte;
	}
	EVP_EncodeBlock((unsigned char *)out, bin, sizeof(bin));
}

/*
 * The headers of S3's own semantics, signed with the rest: a new object's
 * (a PUT without query, or CreateMultipartUpload) Content-Type,
 * encryption and storage class, its x-amz-checksum-sha256 (a part's too),
 * so S3 refuses a body that is not what we hashed; x-amz-request-payer on
 * every request.
 */
static int s3_request_headers(struct storage *s, struct curl_slist **headers,
			      const struct storage_request *rq)
{
	struct s3_storage *s3 = s->data;
	const char *method = rq->method ? rq->method : "GET";
	int put = !strcmp(method, "PUT");
	int object = put && !rq->query.len;
	int part = put && !strncmp(rq->query.buf, "partNumber=", 11);
	int init = !strcmp(method, "POST") &&
		   !strcmp(rq->query.buf, "uploads=");
	char sum[45];

	if (object && !rq->content_type &&
	    add_header(headers, "Content-Type: %s", S3_CONTENT_TYPE) < 0)
		return -1;
	if ((object || part) && rq->payload_sha256) {
		sha256_base64(rq->payload_sha256, sum);
		if (add_header(headers, "x-amz-checksum-sha256: %s", sum) < 0)
			return -1;
	}
	if (init && add_header(headers, "x-amz-checksum-algorithm: %s",
			       "SHA256") < 0)
		return -1;
	if (!strcmp(method, "HEAD") &&
	    add_header(headers, "x-amz-checksum-mode: %s", "ENABLED") < 0)
		return -1;
	if ((object || init) && s3->sse &&
	    add_header(headers, "x-amz-server-side-encryption: %s",
		       s3->sse) < 0)
		return -1;
	if ((object || init) && s3->sse_kms_key_id &&
	    add_header(headers,
		       "x-amz-server-side-encryption-aws-kms-key-id: %s",
		       s3->sse_kms_key_id) < 0)
		return -1;
	if ((object || init) && s3->storage_class &&
	    add_header(headers, "x-amz-storage-class: %s",
		       s3->storage_class) < 0)
		return -1;
	if (s3->request_payer &&
	    add_header(headers, "x-amz-request-payer: %s", "requester") < 0)
		return -1;
	return 0;
}

/*
 * Sign with aws-sigv4.c what libcurl would sign wrongly (its version
 * before 8.10 with a KMS key id): the Authorization, x-amz-date and Host
 * headers go into `headers`. Called under s3->lock. 0 or -1 (reported).
 */
static int s3_sign(struct storage *s, struct curl_slist **headers,
		   const struct storage_request *rq, const char *payload)
{
	struct s3_storage *s3 = s->data;
	struct aws_sigv4 sig = { 0 };
	struct strbuf auth = STRBUF_INIT;
	char amz_date[17];
	int ret = -1;

	if (!rq->url)
		BUG("an S3 request to sign without its URL");
	sig.method = rq->method ? rq->method : "GET";
	sig.url = rq->url;
	sig.headers = *headers;
	sig.payload_sha256 = payload;
	sig.region = s3->region;
	sig.service = "s3";
	sig.access_key = s3->aws.access_key;
	sig.secret_key = s3->aws.secret_key;
	sig.now = time(NULL);
	{
		/* the host of the URL, as the Host header sends it */
		const char *h = strstr(rq->url, "://");
		char *host = h ? xstrndup(h + 3, strcspn(h + 3, "/?")) : NULL;

		sig.host = host ? host : "";
		if (host && aws_sigv4_sign(&sig, &auth, amz_date) == 0 &&
		    add_header(headers, "Host: %s", host) == 0 &&
		    add_header(headers, "x-amz-date: %s", amz_date) == 0 &&
		    add_header(headers, "Authorization: %s", auth.buf) == 0)
			ret = 0;
		free(host);
	}
	explicit_bzero(auth.buf, auth.len);
	strbuf_release(&auth);
	return ret;
}

static int s3_prepare(struct storage *s, CURL *easy,
		      struct curl_slist **headers,
		      const struct storage_request *rq)
{
	struct s3_storage *s3 = s->data;
	const char *payload = rq->payload_sha256 ? rq->payload_sha256 :
						    EMPTY_SHA256;

	if (rq->content_type &&
	    add_header(headers, "Content-Type: %s", rq->content_type) < 0)
		return -1;
	if (add_header(headers, "x-amz-content-sha256: %s", payload) < 0)
		return -1;
	if (s3_request_headers(s, headers, rq) < 0)
		return -1;
	if (s3->anonymous)
		return 0; /* asked for: a public bucket */
	pthread_mutex_lock(&s3->lock);
	if (s3_credentials(s) < 0)
		goto fail;
	if (s3->aws.session_token &&
	    add_header(headers, "x-amz-security-token: %s",
		       s3->aws.session_token) < 0)
		goto fail;
	if (aws_sigv4_curl_misorders(*headers)) {
		if (s3_sign(s, headers, rq, payload) < 0)
			goto fail;
	} else {
		/* libcurl copies these: a refresh cannot pull them away */
		curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, s3->sigv4);
		curl_easy_setopt(easy, CURLOPT_USERNAME, s3->aws.access_key);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, s3->aws.secret_key);
	}
	pthread_mutex_unlock(&s3->lock);
	return 0;
fail:
	pthread_mutex_unlock(&s3->lock);
	return -1;
}

static char *xstrfmt_host(const char *region)
{
	struct strbuf h = STRBUF_INIT;

	strbuf_addf(&h, "s3.%s.amazonaws.com", region);
	return strbuf_detach(&h, NULL);
}

/* `region` ("eu-west-1") from S3's endpoint "b.s3.eu-west-1.amazonaws.com". */
static void region_of_endpoint(const char *endpoint, struct strbuf *region)
{
	const char *p = strstr(endpoint, "s3.");
	const char *end = strstr(endpoint, ".amazonaws.com");

	if (p && end && (p == endpoint || p[-1] == '.') && p + 3 < end)
		strbuf_add(region, p + 3, end - p - 3);
}

/*
 * S3's answers for a bucket in another region than the one signed for:
 * AuthorizationHeaderMalformed with <Region> or "expecting 'R'" in its
 * message, PermanentRedirect with <Region> or <Endpoint>, and, for HEAD,
 * whose answer has no body, a 301 or 400 whose x-amz-bucket-region names
 * the region (`where`). Move there, as the AWS CLI retries: sign for that
 * region and, when the endpoint is AWS's default, use the region's own.
 * The endpoint a user named stays: credentials go nowhere new.
 */
static int s3_misdirected(struct storage *s, long status, const char *body,
			  const char *where)
{
	struct s3_storage *s3 = s->data;
	struct strbuf code = STRBUF_INIT, region = STRBUF_INIT;
	struct strbuf text = STRBUF_INIT;
	const char *p;
	int ret = 0;

	if (s3_xml_text(body, "Code", &code) &&
	    strcmp(code.buf, "AuthorizationHeaderMalformed") &&
	    strcmp(code.buf, "PermanentRedirect"))
		goto cleanup; /* another error, whatever the header says */
	if (where && *where &&
	    (status == 301 || status == 307 || status == 400)) {
		strbuf_addstr(&region, where);
	} else if (!code.len) {
		goto cleanup;
	} else if (!s3_xml_text(body, "Region", &region)) {
		if (s3_xml_text(body, "Message", &text) &&
		    (p = strstr(text.buf, "expecting '")))
			strbuf_add(&region, p + 11, strcspn(p + 11, "'"));
		else if (s3_xml_text(body, "Endpoint", &text))
			region_of_endpoint(text.buf, &region);
	}
	if (!region.len || region.len > 32 ||
	    strspn(region.buf, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    region.len)
		goto cleanup;
	pthread_mutex_lock(&s3->lock);
	if (strcmp(region.buf, s3->region)) {
		warning("bucket '%s' is in region '%s', not '%s' (set "
			"model.s3.region or AWS_REGION)", s3->bucket,
			region.buf, s3->region);
		free(s3->region);
		s3->region = strbuf_detach(&region, NULL);
		xsnprintf(s3->sigv4, sizeof(s3->sigv4), "aws:amz:%s:s3",
			  s3->region);
		if (s3->aws_host) {
			free(s3->old_host);
			s3->old_host = s3->host;
			s3->host = xstrfmt_host(s3->region);
		}
	}
	pthread_mutex_unlock(&s3->lock);
	ret = 1;
cleanup:
	strbuf_release(&code);
	strbuf_release(&region);
	strbuf_release(&text);
	return ret;
}

/*
 * HEAD with x-amz-checksum-mode: ENABLED states the object's
 * x-amz-checksum-sha256 when it was uploaded with one. A single PUT's is
 * the SHA-256 of the whole object, the oid; a multipart upload's is a
 * checksum of the parts' ("...-N"), which says nothing about the oid:
 * taken as a match, the size deciding as before.
 */
static int s3_checksum_matches(struct storage *s, const char *oid,
			       const char *value)
{
	char sum[45];

	(void)s;
	if (strchr(value, '-'))
		return 1;
	sha256_base64(oid, sum);
	return !strcmp(sum, value);
}

/* The error body is S3's XML: s3-xml.c reads its Code and Message. */
static void s3_describe_error(struct storage *s, long status,
			      const char *body, struct strbuf *out)
{
	s3_describe_error_body(status, body, out);
}

/*
 * The one rule for whether a request that failed (`rc`, else the answer's
 * `status` and its NUL-terminated `body`) may succeed if sent again: the
 * connection failed on its way (http_transient_curl()), the status says
 * "later" (http_transient_status()), or a 4xx error's S3 code says this
 * request's bytes were damaged or late (s3_error_transient()). 1 or 0.
 */
static int s3_failure_transient(CURLcode rc, long status, const char *body)
{
	if (rc != CURLE_OK)
		return http_transient_curl(rc);
	if (http_transient_status(status))
		return 1;
	return status >= 400 && status < 500 && s3_error_transient(body);
}

static int s3_transient(struct storage *s, long status, const char *body)
{
	(void)s;
	return s3_failure_transient(CURLE_OK, status, body);
}

static uint64_t s3_part_size(struct storage *s, uint64_t size)
{
	struct s3_storage *s3 = s->data;
	uint64_t part = s3->part;

	if (size < s3->threshold)
		return 0;
	/* at most 10,000 parts: grow the part for huge objects */
	if ((size + part - 1) / part > S3_MAX_PARTS)
		part = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
	return part;
}

static void s3_close(struct storage *s)
{
	struct s3_storage *s3 = s->data;

	if (!s3)
		return;
	free(s3->bucket);
	free(s3->prefix);
	free(s3->scheme);
	free(s3->host);
	free(s3->old_host);
	free(s3->region);
	free(s3->sse);
	free(s3->sse_kms_key_id);
	free(s3->storage_class);
	if (s3->easy)
		curl_easy_cleanup(s3->easy);
	aws_config_release(&s3->aws);
	pthread_mutex_destroy(&s3->lock);
	free(s3);
	s->data = NULL;
}

/* One multipart upload: its id, then each part's ETag. */
struct s3_upload {
	char *upload_id;
	size_t nparts;
	char **etags;
	char (*sums)[65]; /* each part's SHA-256, hex, as sent */
};

static void *s3_mp_begin(struct storage *s, size_t nparts)
{
	struct s3_upload *u = xcalloc(1, sizeof(*u));

	(void)s;
	u->nparts = nparts;
	u->etags = xcalloc(nparts, sizeof(*u->etags));
	u->sums = xcalloc(nparts, sizeof(*u->sums));
	return u;
}

static void s3_mp_end(void *mp)
{
	struct s3_upload *u = mp;
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->nparts; i++)
		free(u->etags[i]);
	free(u->etags);
	free(u->sums);
	free(u->upload_id);
	free(u);
}

/* Text for an XML element: the server's ETag may hold anything. */
static void xml_escape(const char *in, struct strbuf *out)
{
	for (; *in; in++) {
		switch (*in) {
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		default: strbuf_addch(out, *in);
		}
	}
}

static int s3_mp_request(struct storage *s, void *mp,
			 enum storage_mp_step step, int part,
			 struct storage_request *rq)
{
	struct s3_upload *u = mp;
	struct hash h = HASH_INIT;
	size_t i;

	(void)s;
	if (step == STORAGE_MP_INIT) {
		rq->method = "POST";
		/*
		 * The object's type, as a single PUT gives it (and explicit:
		 * else libcurl signs the form type it would add)
		 */
		rq->content_type = S3_CONTENT_TYPE;
		strbuf_addstr(&rq->query, "uploads=");
		return 0;
	}
	if (step == STORAGE_MP_PART) {
		if (part < 1 || (size_t)part > u->nparts)
			BUG("S3 part %d of %zu", part, u->nparts);
		rq->method = "PUT";
		if (!rq->payload_sha256)
			BUG("S3 part %d without its SHA-256", part);
		memcpy(u->sums[part - 1], rq->payload_sha256, 64);
		strbuf_addf(&rq->query, "partNumber=%d&", part);
	} else if (step == STORAGE_MP_COMPLETE) {
		rq->method = "POST";
		rq->content_type = "application/xml";
		strbuf_addstr(&rq->body, "<CompleteMultipartUpload>");
		for (i = 0; i < u->nparts; i++) {
			char sum[45];

			strbuf_addf(&rq->body, "<Part><PartNumber>%zu"
					       "</PartNumber><ETag>", i + 1);
			xml_escape(u->etags[i] ? u->etags[i] : "", &rq->body);
			strbuf_addstr(&rq->body, "</ETag>");
			if (u->sums[i][0]) {
				sha256_base64(u->sums[i], sum);
				strbuf_addf(&rq->body, "<ChecksumSHA256>%s"
						       "</ChecksumSHA256>", sum);
			}
			strbuf_addstr(&rq->body, "</Part>");
		}
		strbuf_addstr(&rq->body, "</CompleteMultipartUpload>");
		hash_start(&h);
		hash_update(&h, rq->body.buf, rq->body.len);
		hash_finish(&h, rq->body_sha256);
		hash_release(&h);
		rq->payload_sha256 = rq->body_sha256;
	} else {
		rq->method = "DELETE";
	}
	strbuf_addstr(&rq->query, "uploadId=");
	s3_encode(u->upload_id, 0, &rq->query);
	return 0;
}

static enum storage_mp_answer s3_mp_answer(struct storage *s, void *mp,
					   enum storage_mp_step step,
					   int part, long status,
					   const char *body, const char *etag,
					   struct strbuf *why)
{
	struct s3_upload *u = mp;
	struct strbuf id = STRBUF_INIT;

	(void)s;
	switch (step) {
	case STORAGE_MP_INIT:
		if (status != 200)
			return STORAGE_MP_FAIL;
		if (!s3_xml_text(body, "UploadId", &id) || !id.len) {
			strbuf_release(&id);
			strbuf_addstr(why, "the storage did not start a "
					   "multipart upload");
			return STORAGE_MP_FAIL;
		}
		free(u->upload_id);
		u->upload_id = strbuf_detach(&id, NULL);
		return STORAGE_MP_OK;
	case STORAGE_MP_PART:
		if (status != 200 && status != 201 && status != 204) {
			if (status >= 200 && status < 300)
				strbuf_addstr(why, "the storage sent no ETag "
						   "for the part");
			return STORAGE_MP_FAIL;
		}
		if (!etag) {
			strbuf_addstr(why, "the storage sent no ETag for the "
					   "part");
			return STORAGE_MP_FAIL;
		}
		free(u->etags[part - 1]);
		u->etags[part - 1] = xstrdup(etag);
		return STORAGE_MP_OK;
	case STORAGE_MP_COMPLETE:
		/* S3 may answer 200 with an <Error> in the body: retry */
		if (status == 200 && !strstr(body, "<Error>"))
			return STORAGE_MP_OK;
		if (status != 200)
			return STORAGE_MP_FAIL;
		strbuf_addstr(why, "the storage could not complete the "
				   "multipart upload");
		return STORAGE_MP_RETRY;
	case STORAGE_MP_ABORT:
		/* 404 NoSuchUpload: no upload of that id is left either */
		return (status >= 200 && status < 300) || status == 404 ?
			       STORAGE_MP_OK : STORAGE_MP_FAIL;
	}
	return STORAGE_MP_FAIL;
}

/*
 * Requests outside the engine, one at a time: listing the multipart
 * uploads left open and aborting them (git model prune
 * --storage-uploads), listing the objects (git model fsck --remote).
 */

/* A page of ListMultipartUploads or ListObjectsV2 (1,000 entries) fits. */
#define S3_LIST_MAX (4 * 1024 * 1024)
#define S3_SEND_ATTEMPTS 3

struct s3_answer {
	long status;
	struct strbuf body;  /* capped at S3_LIST_MAX */
	char *where;         /* x-amz-bucket-region, or NULL */
};

static size_t s3_answer_body(char *buf, size_t size, size_t n, void *data)
{
	struct s3_answer *a = data;
	size_t len = size * n;

	if (a->body.len + len > S3_LIST_MAX)
		return 0; /* too long: fails the transfer */
	strbuf_add(&a->body, buf, len);
	return len;
}

static size_t s3_answer_header(char *buf, size_t size, size_t n, void *data)
{
	static const char name[] = "x-amz-bucket-region:";
	struct s3_answer *a = data;
	size_t len = size * n, v = sizeof(name) - 1;

	if (len > v && len < v + 64 && !strncasecmp(buf, name, v)) {
		while (v < len && buf[v] == ' ')
			v++;
		free(a->where);
		a->where = xstrndup(buf + v, strcspn(buf + v, " \r\n"));
	}
	return len;
}

/*
 * Send `rq` (GET or DELETE, no body) for `key` ("": the bucket) and wait
 * for its answer in `a`, on the one handle these requests share (one
 * thread: prune, fsck), so that one connection serves them all.
 * Failures that s3_failure_transient() calls transient, as the engine
 * does, are tried again, up to S3_SEND_ATTEMPTS in all; a bucket in
 * another region moves us there (s3_misdirected()) and the request goes
 * again once. 0, or -1 when no answer came (reported, naming `what`).
 */
static int s3_send(struct storage *s, const char *key,
		   const struct storage_request *rq, const char *what,
		   struct s3_answer *a)
{
	struct s3_storage *s3 = s->data;
	struct strbuf url = STRBUF_INIT;
	struct storage_request one;
	int attempt, moved = 0, ret = -1;
	char errbuf[CURL_ERROR_SIZE];

	if (!s3->easy)
		s3->easy = curl_easy_init();
	if (!s3->easy)
		return error("cannot start libcurl");
	for (attempt = 1;; attempt++) {
		struct curl_slist *headers = NULL;
		CURL *easy = s3->easy;
		CURLcode rc;

		curl_easy_reset(easy); /* keeps the connection */
		strbuf_reset(&a->body);
		free(a->where);
		a->where = NULL;
		a->status = 0;
		errbuf[0] = '\0';
		strbuf_reset(&url);
		s3_key_url(s, key, rq->query.len ? rq->query.buf : NULL, &url);
		http_transport_setup(s->transport, easy);
		curl_easy_setopt(easy, CURLOPT_URL, url.buf);
		curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, s3_answer_body);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION,
				 s3_answer_header);
		curl_easy_setopt(easy, CURLOPT_HEADERDATA, a);
		if (strcmp(rq->method, "GET"))
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
					 rq->method);
		one = *rq; /* shallow: only its url is its own */
		one.url = url.buf;
		if (s3_prepare(s, easy, &headers, &one) < 0) {
			curl_slist_free_all(headers);
			break;
		}
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		rc = curl_easy_perform(easy);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a->status);
		curl_slist_free_all(headers);
		strbuf_addch(&a->body, '\0');
		strbuf_setlen(&a->body, a->body.len - 1);

		if (rc == CURLE_OK && !moved && a->status >= 300 &&
		    a->status < 500 &&
		    s3_misdirected(s, a->status, a->body.buf, a->where) > 0) {
			moved = 1;
			attempt--;
			continue;
		}
		if (attempt < S3_SEND_ATTEMPTS &&
		    s3_failure_transient(rc, a->status, a->body.buf)) {
			sleep(attempt);
			continue;
		}
		if (rc != CURLE_OK) {
			error("cannot %s in '%s': %s%s%s%s", what, s->display,
			      curl_easy_strerror(rc), errbuf[0] ? " (" : "",
			      errbuf, errbuf[0] ? ")" : "");
			break;
		}
		ret = 0;
		break;
	}
	strbuf_release(&url);
	return ret;
}

static void s3_report(struct storage *s, const char *what,
		      const struct s3_answer *a)
{
	struct strbuf why = STRBUF_INIT;

	s3_describe_error_body(a->status, a->body.buf, &why);
	error("cannot %s in '%s': %s", what, s->display, why.buf);
	strbuf_release(&why);
}

/* "2026-12-01T10:00:00.000Z" (S3's <Initiated>), or -1. */
static time_t s3_parse_time(const char *text)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    !n)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* The <Upload> elements of one page into `v`. 0, or -1 (reported). */
static int s3_parse_uploads(struct storage *s, const char *body,
			    const char *prefix, struct storage_upload **v,
			    size_t *nr, size_t *alloc)
{
	const char *p = body, *e;
	size_t len;
	int ret = 0;

	while ((e = s3_xml_element(p, "Upload", S3_XML_TEXT_MAX * 4, &len))) {
		char *one = xstrndup(e, len);
		struct strbuf key = STRBUF_INIT, id = STRBUF_INIT;
		struct strbuf when = STRBUF_INIT;
		time_t t;

		p = e + len;
		if (!s3_xml_text(one, "Key", &key) ||
		    !s3_xml_text(one, "UploadId", &id) || !id.len ||
		    !s3_xml_text(one, "Initiated", &when) ||
		    (t = s3_parse_time(when.buf)) == (time_t)-1) {
			ret = error("cannot list the multipart uploads in "
				    "'%s': an <Upload> without Key, UploadId "
				    "or Initiated",
				    s->display);
		} else if (!strncmp(key.buf, prefix, strlen(prefix))) {
			ALLOC_GROW(*v, *nr + 1, *alloc);
			(*v)[*nr].key = strbuf_detach(&key, NULL);
			(*v)[*nr].id = strbuf_detach(&id, NULL);
			(*v)[*nr].initiated = t;
			(*nr)++;
		}
		free(one);
		strbuf_release(&key);
		strbuf_release(&id);
		strbuf_release(&when);
		if (ret)
			break;
	}
	return ret;
}

/*
 * ListMultipartUploads under <prefix>/sha256/, every page: S3 lists at
 * most 1,000 a page and says where the next one starts (NextKeyMarker,
 * NextUploadIdMarker) while IsTruncated is true.
 */
static int s3_list_uploads(struct storage *s, struct storage_upload **out,
			   size_t *nr)
{
	static const char what[] = "list the multipart uploads";
	struct s3_answer a = { 0, STRBUF_INIT, NULL };
	struct storage_request rq = STORAGE_REQUEST_INIT;
	struct strbuf prefix = STRBUF_INIT, key = STRBUF_INIT;
	struct strbuf id = STRBUF_INIT, truncated = STRBUF_INIT;
	struct strbuf next_key = STRBUF_INIT, next_id = STRBUF_INIT;
	size_t alloc = 0;
	int ret = -1;

	s3_objects_prefix(s->data, &prefix);
	rq.method = "GET";
	for (;;) {
		/* canonical: the parameters sorted, each with '=' */
		strbuf_reset(&rq.query);
		if (key.len) {
			strbuf_addstr(&rq.query, "key-marker=");
			s3_encode(key.buf, 0, &rq.query);
			strbuf_addch(&rq.query, '&');
		}
		strbuf_addstr(&rq.query, "max-uploads=1000&prefix=");
		s3_encode(prefix.buf, 0, &rq.query);
		if (id.len) {
			strbuf_addstr(&rq.query, "&upload-id-marker=");
			s3_encode(id.buf, 0, &rq.query);
		}
		strbuf_addstr(&rq.query, "&uploads=");
		if (s3_send(s, "", &rq, what, &a) < 0)
			goto cleanup;
		if (a.status != 200) {
			s3_report(s, what, &a);
			goto cleanup;
		}
		if (s3_parse_uploads(s, a.body.buf, prefix.buf, out, nr,
				     &alloc) < 0)
			goto cleanup;
		strbuf_reset(&truncated);
		if (!s3_xml_text(a.body.buf, "IsTruncated", &truncated) ||
		    strcmp(truncated.buf, "true"))
			break;
		/* the next page starts after the markers, which must move */
		strbuf_reset(&next_key);
		strbuf_reset(&next_id);
		s3_xml_text(a.body.buf, "NextKeyMarker", &next_key);
		s3_xml_text(a.body.buf, "NextUploadIdMarker", &next_id);
		if (!next_key.len || (!strcmp(next_key.buf, key.buf) &&
				      !strcmp(next_id.buf, id.buf))) {
			error("cannot %s in '%s': a truncated list whose "
			      "next page does not move on", what, s->display);
			goto cleanup;
		}
		strbuf_reset(&key);
		strbuf_addstr(&key, next_key.buf);
		strbuf_reset(&id);
		strbuf_addstr(&id, next_id.buf);
	}
	ret = 0;
cleanup:
	if (ret < 0) {
		storage_uploads_release(*out, *nr);
		*out = NULL;
		*nr = 0;
	}
	storage_request_release(&rq);
	strbuf_release(&a.body);
	free(a.where);
	strbuf_release(&prefix);
	strbuf_release(&key);
	strbuf_release(&id);
	strbuf_release(&truncated);
	strbuf_release(&next_key);
	strbuf_release(&next_id);
	return ret;
}

/* AbortMultipartUpload: 204, or 404 NoSuchUpload when it is gone. */
static int s3_abort_upload(struct storage *s, const struct storage_upload *u)
{
	static const char what[] = "abort a multipart upload";
	struct s3_answer a = { 0, STRBUF_INIT, NULL };
	struct storage_request rq = STORAGE_REQUEST_INIT;
	struct strbuf code = STRBUF_INIT;
	int ret = -1;

	rq.method = "DELETE";
	strbuf_addstr(&rq.query, "uploadId=");
	s3_encode(u->id, 0, &rq.query);
	if (s3_send(s, u->key, &rq, what, &a) < 0)
		goto cleanup;
	if (a.status == 204 || a.status == 200)
		ret = 0;
	else if (a.status == 404 && s3_xml_text(a.body.buf, "Code", &code) &&
		 !strcmp(code.buf, "NoSuchUpload"))
		ret = 1;
	else
		s3_report(s, what, &a);
cleanup:
	storage_request_release(&rq);
	strbuf_release(&a.body);
	free(a.where);
	strbuf_release(&code);
	return ret;
}

/*
 * The oid of `key` when it is an object's name under `prefix`
 * ("<prefix>aa/bb/<oid>", or that plus ".gmz": `gmz`), else 0.
 */
static int s3_object_of_key(const char *key, const char *prefix,
			    char oid[OID_HEXSZ + 1], int *gmz)
{
	size_t plen = strlen(prefix), len = strlen(key);

	if (strncmp(key, prefix, plen))
		return 0;
	key += plen;
	len -= plen;
	if (len == 6 + OID_HEXSZ + 4 && !strcmp(key + 6 + OID_HEXSZ, ".gmz"))
		*gmz = 1;
	else if (len == 6 + OID_HEXSZ)
		*gmz = 0;
	else
		return 0;
	memcpy(oid, key + 6, OID_HEXSZ);
	oid[OID_HEXSZ] = '\0';
	return oid_hex_valid(oid) && key[2] == '/' && key[5] == '/' &&
	       !strncmp(key, oid, 2) && !strncmp(key + 3, oid + 2, 2);
}

/* A listing's <Size>: decimal digits only, within uint64_t. */
static int s3_parse_size(const char *text, uint64_t *out)
{
	uint64_t n = 0;

	if (!*text)
		return -1;
	for (; *text; text++) {
		if (*text < '0' || *text > '9' ||
		    n > (UINT64_MAX - (*text - '0')) / 10)
			return -1;
		n = n * 10 + (*text - '0');
	}
	*out = n;
	return 0;
}

/* The <Contents> of one page of ListObjectsV2 to fn. 0, or -1 (reported). */
static int s3_parse_objects(struct storage *s, const char *body,
			    const char *prefix,
			    void (*fn)(void *, const char *, int, uint64_t),
			    void *ctx)
{
	const char *p = body, *e;
	size_t len;
	int ret = 0;

	while ((e = s3_xml_element(p, "Contents", S3_XML_TEXT_MAX * 4, &len))) {
		char *one = xstrndup(e, len);
		struct strbuf key = STRBUF_INIT, size = STRBUF_INIT;
		char oid[OID_HEXSZ + 1];
		uint64_t n;
		int gmz;

		p = e + len;
		if (!s3_xml_text(one, "Key", &key) ||
		    !s3_xml_text(one, "Size", &size) ||
		    s3_parse_size(size.buf, &n) < 0)
			ret = error("cannot list the objects in '%s': a "
				    "<Contents> without Key or Size",
				    s->display);
		else if (s3_object_of_key(key.buf, prefix, oid, &gmz))
			fn(ctx, oid, gmz, n);
		free(one);
		strbuf_release(&key);
		strbuf_release(&size);
		if (ret)
			break;
	}
	return ret;
}

/*
 * ListObjectsV2 under <prefix>/sha256/, up to `max_pages` pages: at most
 * 1,000 keys a page, the next one from NextContinuationToken while
 * IsTruncated is true. Any error answer is STORAGE_LIST_UNANSWERED,
 * quietly: the caller asks each object instead, and those answers say
 * what is wrong.
 */
static int s3_list_objects(struct storage *s, size_t max_pages,
			   void (*fn)(void *, const char *, int, uint64_t),
			   void *ctx)
{
	static const char what[] = "list the objects";
	struct s3_answer a = { 0, STRBUF_INIT, NULL };
	struct storage_request rq = STORAGE_REQUEST_INIT;
	struct strbuf prefix = STRBUF_INIT, token = STRBUF_INIT;
	struct strbuf truncated = STRBUF_INIT, next = STRBUF_INIT;
	size_t pages = 0;
	int ret = -1;

	s3_objects_prefix(s->data, &prefix);
	rq.method = "GET";
	for (;;) {
		if (pages++ == max_pages) {
			ret = STORAGE_LIST_TOO_LONG;
			goto cleanup;
		}
		/* canonical: the parameters sorted, each with '=' */
		strbuf_reset(&rq.query);
		if (token.len) {
			strbuf_addstr(&rq.query, "continuation-token=");
			s3_encode(token.buf, 0, &rq.query);
			strbuf_addch(&rq.query, '&');
		}
		strbuf_addstr(&rq.query, "list-type=2&max-keys=1000&prefix=");
		s3_encode(prefix.buf, 0, &rq.query);
		if (s3_send(s, "", &rq, what, &a) < 0)
			goto cleanup;
		if (a.status != 200) {
			ret = STORAGE_LIST_UNANSWERED;
			goto cleanup;
		}
		if (s3_parse_objects(s, a.body.buf, prefix.buf, fn, ctx) < 0)
			goto cleanup;
		strbuf_reset(&truncated);
		if (!s3_xml_text(a.body.buf, "IsTruncated", &truncated) ||
		    strcmp(truncated.buf, "true"))
			break;
		strbuf_reset(&next);
		if (!s3_xml_text(a.body.buf, "NextContinuationToken", &next) ||
		    !next.len || !strcmp(next.buf, token.buf)) {
			error("cannot %s in '%s': a truncated list whose "
			      "next page does not move on", what, s->display);
			goto cleanup;
		}
		strbuf_reset(&token);
		strbuf_add(&token, next.buf, next.len);
	}
	ret = STORAGE_LISTED;
cleanup:
	storage_request_release(&rq);
	strbuf_release(&a.body);
	free(a.where);
	strbuf_release(&prefix);
	strbuf_release(&token);
	strbuf_release(&truncated);
	strbuf_release(&next);
	return ret;
}

static const struct storage_uploads_ops s3_uploads_ops = {
	.list = s3_list_uploads,
	.abort = s3_abort_upload,
};

static const struct storage_multipart_ops s3_multipart_ops = {
	.part_size = s3_part_size,
	.begin = s3_mp_begin,
	.request = s3_mp_request,
	.answer = s3_mp_answer,
	.end = s3_mp_end,
};

static const struct storage_http_ops s3_http_ops = {
	.object_url = s3_object_url,
	.prepare = s3_prepare,
	.describe_error = s3_describe_error,
	.transient = s3_transient,
	.misdirected = s3_misdirected,
	.where_header = "x-amz-bucket-region",
	.checksum_header = "x-amz-checksum-sha256",
	.checksum_matches = s3_checksum_matches,
	.multipart = &s3_multipart_ops,
	.compressed = 1,
	.uploads = &s3_uploads_ops,
	.list_objects = s3_list_objects,
};

const struct storage_ops storage_s3_ops = {
	.scheme = "s3",
	.open = s3_open,
	.close = s3_close,
};

#ifdef HAVE_LIBS3
/*
 * SigV2 through libs3, for S3-compatible stores that only know the old
 * scheme (model.s3.signature = v2). AWS itself refuses SigV2 for newer
 * regions and deprecated it for all, so SigV4 over libcurl stays the
 * default. libs3 calls are synchronous: the transfer engine runs these
 * objects one after the other, each verified against its oid as always.
 */

struct v2_call {
	S3Status status;
	struct strbuf message;
	uint64_t length; /* from HEAD */
	struct store_writer *w;
	int fd;
	uint64_t left;
	int failed_io;
};

static S3BucketContext v2_context(struct s3_storage *s3)
{
	S3BucketContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.hostName = s3->host;
	ctx.bucketName = s3->bucket;
	ctx.protocol = strcmp(s3->scheme, "http") ? S3ProtocolHTTPS :
						     S3ProtocolHTTP;
	ctx.uriStyle = s3->path_style ? S3UriStylePath :
					S3UriStyleVirtualHost;
	ctx.accessKeyId = s3->aws.access_key;
	ctx.secretAccessKey = s3->aws.secret_key;
	return ctx;
}

static void v2_key(struct s3_storage *s3, const char *oid, struct strbuf *key)
{
	if (*s3->prefix)
		strbuf_addf(key, "%s/", s3->prefix);
	strbuf_addf(key, "sha256/%.2s/%.2s/%s", oid, oid + 2, oid);
}

static S3Status v2_properties(const S3ResponseProperties *p, void *data)
{
	((struct v2_call *)data)->length = p->contentLength;
	return S3StatusOK;
}

static void v2_complete(S3Status status, const S3ErrorDetails *e, void *data)
{
	struct v2_call *c = data;

	c->status = status;
	if (e && e->message)
		strbuf_addstr(&c->message, e->message);
}

static int v2_report(struct storage *s, struct v2_call *c, const char *what)
{
	struct strbuf hint = STRBUF_INIT;
	const char *name = S3_get_status_name(c->status);
	const char *h;

	/* libs3 names S3's codes "ErrorAccessDenied" and so on */
	h = s3_error_hint(!strncmp(name, "Error", 5) ? name + 5 : name);
	if (h)
		strbuf_addf(&hint, " (%s)", h);
	error("cannot %s in '%s' (SigV2 via libs3): %s%s%s%s", what,
	      s->display, name, c->message.len ? ": " : "", c->message.buf,
	      hint.buf);
	strbuf_release(&hint);
	return -1;
}

static S3Status v2_discard(int n, const char *buf, void *data)
{
	return S3StatusOK;
}

static int v2_exists(struct storage *s, const char *oid, uint64_t size)
{
	struct s3_storage *s3 = s->data;
	S3BucketContext ctx = v2_context(s3);
	S3ResponseHandler h = { v2_properties, v2_complete };
	struct v2_call c = { S3StatusOK, STRBUF_INIT, 0, NULL, -1, 0, 0 };
	struct strbuf key = STRBUF_INIT;
	int ret;

	v2_key(s3, oid, &key);
	S3_head_object(&ctx, key.buf, NULL, &h, &c);
	if (c.status != S3StatusOK && c.status != S3StatusHttpErrorNotFound &&
	    !c.message.len) {
		/* A HEAD answer has no body: a one-byte GET tells why. */
		S3GetObjectHandler g = { { NULL, v2_complete }, v2_discard };

		S3_get_object(&ctx, key.buf, NULL, 0, 1, NULL, &g, &c);
	}
	if (c.status == S3StatusOK)
		ret = c.length == size;
	else if (c.status == S3StatusHttpErrorNotFound ||
		 c.status == S3StatusErrorNoSuchKey)
		ret = 0;
	else
		ret = v2_report(s, &c, "check an object");
	strbuf_release(&key);
	strbuf_release(&c.message);
	return ret;
}

static S3Status v2_data_in(int n, const char *buf, void *data)
{
	struct v2_call *c = data;

	if (store_writer_write(c->w, buf, n) < 0) {
		c->failed_io = 1;
		return S3StatusAbortedByCallback;
	}
	return S3StatusOK;
}

static int v2_get(struct storage *s, const char *oid, uint64_t size,
		  struct store_writer *w)
{
	struct s3_storage *s3 = s->data;
	S3BucketContext ctx = v2_context(s3);
	S3GetObjectHandler h = { { v2_properties, v2_complete }, v2_data_in };
	struct v2_call c = { S3StatusOK, STRBUF_INIT, 0, w, -1, 0, 0 };
	struct strbuf key = STRBUF_INIT;
	int ret = 0;

	v2_key(s3, oid, &key);
	S3_get_object(&ctx, key.buf, NULL, 0, 0, NULL, &h, &c);
	if (c.status != S3StatusOK && !c.failed_io)
		ret = v2_report(s, &c, "download an object");
	else if (c.failed_io)
		ret = -1;
	strbuf_release(&key);
	strbuf_release(&c.message);
	return ret;
}

static int v2_data_out(int n, char *buf, void *data)
{
	struct v2_call *c = data;
	ssize_t got;

	if ((uint64_t)n > c->left)
		n = c->left;
	got = xread(c->fd, buf, n);
	if (got < 0) {
		c->failed_io = 1;
		return -1;
	}
	c->left -= got;
	return got;
}

static int v2_put(struct storage *s, const char *oid, uint64_t size, int fd)
{
	struct s3_storage *s3 = s->data;
	S3BucketContext ctx = v2_context(s3);
	S3PutObjectHandler h = { { v2_properties, v2_complete }, v2_data_out };
	struct v2_call c = { S3StatusOK, STRBUF_INIT, 0, NULL, fd, size, 0 };
	struct strbuf key = STRBUF_INIT;
	int ret = 0;

	v2_key(s3, oid, &key);
	S3_put_object(&ctx, key.buf, size, NULL, NULL, &h, &c);
	if (c.failed_io)
		ret = error_errno("cannot read object %s", oid);
	else if (c.status != S3StatusOK)
		ret = v2_report(s, &c, "upload an object");
	strbuf_release(&key);
	strbuf_release(&c.message);
	return ret;
}

static const struct storage_sync_ops s3v2_sync_ops = {
	.exists = v2_exists,
	.get = v2_get,
	.put = v2_put,
};
#endif

/* model.s3.signature: v4 (default, libcurl) or v2 (libs3, when built). */
static int select_signature(struct storage *s, enum s3_signature *which)
{
	struct strbuf sig = STRBUF_INIT;
	int ret = 0;

	if (config_get(s->repo, "model.s3.signature", &sig) < 0)
		return -1;
	*which = S3_SIGV4;
	if (!sig.len || !strcasecmp(sig.buf, "v4")) {
		/* the default */
	} else if (!strcasecmp(sig.buf, "v2")) {
#ifdef HAVE_LIBS3
		static int initialised;

		if (!initialised &&
		    S3_initialize("git-model", S3_INIT_ALL, NULL) !=
			    S3StatusOK)
			ret = error("cannot initialise libs3");
		initialised = 1;
		*which = S3_SIGV2;
#else
		ret = error("model.s3.signature = v2 needs libs3, and this "
			    "git-model was built without it (install libs3-dev "
			    "and rebuild)");
#endif
	} else {
		ret = error("bad value '%s' for model.s3.signature (v4 or v2)",
			    sig.buf);
	}
	strbuf_release(&sig);
	return ret;
}
