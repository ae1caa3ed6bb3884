#include "aws-sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hash.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* One header to sign: lowercase name, value trimmed, spaces squeezed. */
struct signed_header {
	char *name;
	char *value;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct signed_header *)a)->name,
		      ((const struct signed_header *)b)->name);
}

static void add_header(struct signed_header **v, size_t *nr, size_t *alloc,
		       const char *line)
{
	const char *colon = strchr(line, ':'), *p;
	struct strbuf value = STRBUF_INIT;
	struct signed_header *h;
	size_t i;

	if (!colon)
		return;
	ALLOC_GROW(*v, *nr + 1, *alloc);
	h = &(*v)[(*nr)++];
	h->name = xstrndup(line, colon - line);
	for (i = 0; h->name[i]; i++)
		h->name[i] = tolower((unsigned char)h->name[i]);
	for (p = colon + 1; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			if (value.len && value.buf[value.len - 1] != ' ')
				strbuf_addch(&value, ' ');
			continue;
		}
		strbuf_addch(&value, *p);
	}
	strbuf_rtrim(&value);
	h->value = strbuf_detach(&value, NULL);
}

static void hmac(const unsigned char *key, size_t key_len, const char *data,
		 unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data,
	     strlen(data), out, &len);
}

int aws_sigv4_sign(const struct aws_sigv4 *rq, struct strbuf *authorization,
		   char amz_date[17])
{
	struct signed_header *v = NULL;
	size_t nr = 0, alloc = 0, i;
	struct strbuf canonical = STRBUF_INIT, names = STRBUF_INIT;
	struct strbuf to_sign = STRBUF_INIT, key = STRBUF_INIT;
	const struct curl_slist *l;
	const char *path, *query;
	char date[9], hex[HASH_HEXSZ + 1];
	unsigned char k[32];
	struct hash h = HASH_INIT;
	struct tm tm;

	path = strstr(rq->url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	if (!path)
		return error("cannot sign '%s': no path", rq->url);
	query = strchr(path, '?');

	gmtime_r(&rq->now, &tm);
	strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	{
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "host:%s", rq->host);
		add_header(&v, &nr, &alloc, line.buf);
		strbuf_reset(&line);
		strbuf_addf(&line, "x-amz-date:%s", amz_date);
		add_header(&v, &nr, &alloc, line.buf);
		strbuf_release(&line);
	}
	for (l = rq->headers; l; l = l->next)
		add_header(&v, &nr, &alloc, l->data);
	qsort(v, nr, sizeof(*v), by_name);

	strbuf_addf(&canonical, "%s\n", rq->method);
	strbuf_add(&canonical, path, query ? (size_t)(query - path) :
					       strlen(path));
	strbuf_addf(&canonical, "\n%s\n", query ? query + 1 : "");
	for (i = 0; i < nr; i++) {
		strbuf_addf(&canonical, "%s:%s\n", v[i].name, v[i].value);
		strbuf_addf(&names, "%s%s", i ? ";" : "", v[i].name);
	}
	strbuf_addf(&canonical, "\n%s\n%s", names.buf, rq->payload_sha256);

	hash_start(&h);
	hash_update(&h, canonical.buf, canonical.len);
	hash_finish(&h, hex);
	hash_release(&h);
	strbuf_addf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		    amz_date, date, rq->region, rq->service, hex);

	strbuf_addf(&key, "AWS4%s", rq->secret_key);
	hmac((unsigned char *)key.buf, key.len, date, k);
	hmac(k, sizeof(k), rq->region, k);
	hmac(k, sizeof(k), rq->service, k);
	hmac(k, sizeof(k), "aws4_request", k);
	hmac(k, sizeof(k), to_sign.buf, k);

	strbuf_addf(authorization,
		    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
		    "SignedHeaders=%s, Signature=",
		    rq->access_key, date, rq->region, rq->service, names.buf);
	for (i = 0; i < sizeof(k); i++)
		strbuf_addf(authorization, "%02x", k[i]);

	explicit_bzero(key.buf, key.len);
	explicit_bzero(k, sizeof(k));
	for (i = 0; i < nr; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	strbuf_release(&canonical);
	strbuf_release(&names);
	strbuf_release(&to_sign);
	strbuf_release(&key);
	return 0;
}

int aws_sigv4_curl_misorders(const struct curl_slist *headers)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	const struct curl_slist *a, *b;

	if (info->version_num >= 0x080a00)
		return 0;
	for (a = headers; a; a = a->next)
		for (b = headers; b; b = b->next) {
			size_t n = strcspn(a->data, ":");

			if (a != b && !strncasecmp(a->data, b->data, n) &&
			    b->data[n] == '-')
				return 1;
		}
	return 0;
}
