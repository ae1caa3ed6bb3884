#include "range-source.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct reply {
	unsigned char *buf;
	size_t want, got;
	int overflow;
};

static size_t write_cb(char *data, size_t size, size_t n, void *p)
{
	struct reply *r = p;
	size_t len = size * n;

	if (len > r->want - r->got) {
		r->overflow = 1;
		return 0;
	}
	memcpy(r->buf + r->got, data, len);
	r->got += len;
	return len;
}

/* GET bytes [off, off + len) into `buf`. 0, or -1 (reported). */
static int get_range(struct range_source *rs, uint64_t off, void *buf,
		     size_t len)
{
	struct storage *s = rs->storage;
	struct storage_request rq = STORAGE_REQUEST_INIT;
	struct strbuf url = STRBUF_INIT;
	char range[64];
	int attempt, ret = -1;

	if (rs->fetched + len > rs->cap)
		return error("reading %.10s from '%s' would transfer more "
			     "than %" PRIu64 " bytes; not downloading weights",
			     rs->oid, s->display, rs->cap);
	xsnprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
		  off + len - 1);
	s->http->object_url(s, rs->oid, NULL, &url);
	for (attempt = 0; attempt < 2; attempt++) {
		struct curl_slist *headers = NULL;
		struct reply r = { buf, len, 0, 0 };
		long status = 0;
		CURLcode rc;

		curl_easy_reset(rs->easy);
		http_transport_setup(s->transport, rs->easy);
		rq.method = "GET";
		curl_easy_setopt(rs->easy, CURLOPT_URL, url.buf);
		curl_easy_setopt(rs->easy, CURLOPT_RANGE, range);
		curl_easy_setopt(rs->easy, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(rs->easy, CURLOPT_WRITEDATA, &r);
		if (s->http->prepare(s, rs->easy, &headers, &rq) < 0) {
			curl_slist_free_all(headers);
			break;
		}
		curl_easy_setopt(rs->easy, CURLOPT_HTTPHEADER, headers);
		rc = curl_easy_perform(rs->easy);
		curl_slist_free_all(headers);
		curl_easy_getinfo(rs->easy, CURLINFO_RESPONSE_CODE, &status);
		rs->fetched += r.got;
		if (status == 401 && !attempt && s->http->unauthorized &&
		    !s->http->unauthorized(s))
			continue;
		if (status == 200 || r.overflow)
			error("'%s' ignores Range requests: not downloading "
			      "the weights of %.10s to read a header",
			      s->display, rs->oid);
		else if (rc != CURLE_OK)
			error("cannot read %.10s from '%s': %s", rs->oid,
			      s->display, curl_easy_strerror(rc));
		else if (status != 206)
			error("cannot read %.10s from '%s': HTTP %ld %s",
			      rs->oid, s->display, status,
			      http_reason_phrase(status));
		else if (r.got != len)
			error("'%s' sent %zu bytes of %.10s for %zu asked",
			      s->display, r.got, rs->oid, len);
		else
			ret = 0;
		if (!ret && s->http->authorized)
			s->http->authorized(s);
		break;
	}
	storage_request_release(&rq);
	strbuf_release(&url);
	return ret;
}

static int range_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct range_source *rs = ctx;
	size_t want;

	if (off > rs->src.size || len > rs->src.size - off)
		return error("read past the end of %.10s", rs->oid);
	if (off >= rs->block_off && off + len <= rs->block_off + rs->block_len) {
		memcpy(buf, rs->block + (off - rs->block_off), len);
		return 0;
	}
	if (len > RANGE_SOURCE_BLOCK)
		return get_range(rs, off, buf, len);
	want = rs->src.size - off < RANGE_SOURCE_BLOCK ?
		       (size_t)(rs->src.size - off) :
		       RANGE_SOURCE_BLOCK;
	rs->block_len = 0;
	if (get_range(rs, off, rs->block, want) < 0)
		return -1;
	rs->block_off = off;
	rs->block_len = want;
	memcpy(buf, rs->block, len);
	return 0;
}

int range_source_open(struct range_source *rs, struct storage *s,
		      const char *oid, uint64_t size, uint64_t cap)
{
	if (!s->http)
		return 1;
	if (!oid_hex_valid(oid))
		BUG("range_source_open() of an invalid oid");
	if (http_global_init() < 0)
		return -1;
	rs->easy = curl_easy_init();
	if (!rs->easy)
		return error("cannot start a curl handle");
	rs->storage = s;
	memcpy(rs->oid, oid, sizeof(rs->oid));
	rs->cap = cap;
	rs->fetched = 0;
	rs->block = xmalloc(RANGE_SOURCE_BLOCK);
	rs->block_off = rs->block_len = 0;
	rs->src.read_at = range_read_at;
	rs->src.ctx = rs;
	rs->src.size = size;
	return 0;
}

void range_source_release(struct range_source *rs)
{
	if (rs->easy)
		curl_easy_cleanup(rs->easy);
	free(rs->block);
	rs->easy = NULL;
	rs->block = NULL;
}
