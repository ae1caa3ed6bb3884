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

/*
 * GET bytes [off, off + len) of the object, or of its compressed form
 * when `gmz`, into `buf`. 0, or -1 (reported); 1 (not reported) on a 404
 * when `absent_ok`.
 */
static int get_range(struct range_source *rs, int gmz, int absent_ok,
		     uint64_t off, void *buf, size_t len)
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
	if (gmz)
		strbuf_addstr(&url, ".gmz");
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
		if (status == 404 && absent_ok)
			ret = 1;
		else if (status == 200 || r.overflow)
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

/*
 * Read the compressed form's header and table and lay out its blocks.
 * 0, or -1 (reported); 1 (not reported) when it is absent (404) and
 * `absent_ok`.
 */
static int open_container(struct range_source *rs, int absent_ok)
{
	unsigned char head[ZC_HEADER_SIZE];
	struct strbuf err = STRBUF_INIT;
	unsigned char *table = NULL;
	uint64_t raw = 0, stored;
	size_t len;
	uint32_t i;
	long n;
	int ret = -1;

	n = get_range(rs, 1, 1, 0, head, sizeof(head));
	if (n == 1 && absent_ok)
		return 1;
	if (n == 1)
		return error("cannot read %.10s from '%s': HTTP 404 Not Found",
			     rs->oid, rs->storage->display);
	if (n < 0)
		return -1;
	n = zc_header_parse(&rs->zh, head, sizeof(head), &err);
	if (!n) {
		/* the block count, at offset 16 (git-model-compression(5)) */
		len = ZC_HEADER_SIZE +
		      (size_t)(head[16] | head[17] << 8 | head[18] << 16 |
			       (uint32_t)head[19] << 24) * ZC_ENTRY_SIZE;
		table = xmalloc(len);
		memcpy(table, head, sizeof(head));
		if (get_range(rs, 1, 0, sizeof(head), table + sizeof(head),
			      len - sizeof(head)) < 0)
			goto out;
		n = zc_header_parse(&rs->zh, table, len, &err);
	}
	if (n <= 0) {
		error("the compressed form of %.10s in '%s' is damaged: %s",
		      rs->oid, rs->storage->display,
		      err.len ? err.buf : "truncated header");
		goto out;
	}
	if (rs->zh.raw_size != rs->src.size) {
		error("the compressed form of %.10s in '%s' holds %llu bytes, "
		      "not the pointer's %llu", rs->oid, rs->storage->display,
		      (unsigned long long)rs->zh.raw_size,
		      (unsigned long long)rs->src.size);
		goto out;
	}
	rs->zraw_off = xcalloc(rs->zh.nr + 1, sizeof(*rs->zraw_off));
	rs->zstored_off = xcalloc(rs->zh.nr + 1, sizeof(*rs->zstored_off));
	stored = n;
	for (i = 0; i < rs->zh.nr; i++) {
		rs->zraw_off[i] = raw;
		rs->zstored_off[i] = stored;
		raw += rs->zh.blocks[i].raw_len;
		stored += rs->zh.blocks[i].stored_len;
	}
	rs->zraw_off[i] = raw;
	rs->zstored_off[i] = stored;
	ret = 0;
out:
	free(table);
	strbuf_release(&err);
	return ret;
}

/* Make block `i` the decoded one. 0, or -1 (reported). */
static int decode_block(struct range_source *rs, uint32_t i)
{
	const struct zc_block *b = &rs->zh.blocks[i];
	struct strbuf err = STRBUF_INIT;
	unsigned char *stored;
	int ret;

	if (rs->zblock == i)
		return 0;
	rs->zblock = UINT32_MAX;
	stored = xmalloc(b->stored_len);
	ret = get_range(rs, 1, 0, rs->zstored_off[i], stored, b->stored_len);
	if (!ret) {
		free(rs->zraw);
		rs->zraw = xmalloc(b->raw_len);
		ret = zc_block_decode(b, i, stored, rs->zraw, &err);
		if (ret < 0)
			error("the compressed form of %.10s in '%s' is damaged: %s",
			      rs->oid, rs->storage->display, err.buf);
		else
			rs->zblock = i;
	}
	free(stored);
	strbuf_release(&err);
	return ret;
}

/* Read raw [off, off + len) from the compressed form. 0, or -1. */
static int read_compressed(struct range_source *rs, uint64_t off,
			   unsigned char *buf, size_t len)
{
	uint32_t lo = 0, hi = rs->zh.nr;

	/* the last block that starts at or before off */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rs->zraw_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (len) {
		uint64_t in = off - rs->zraw_off[lo];
		size_t n = rs->zh.blocks[lo].raw_len - in;

		if (n > len)
			n = len;
		if (decode_block(rs, lo) < 0)
			return -1;
		memcpy(buf, rs->zraw + in, n);
		buf += n;
		off += n;
		len -= n;
		lo++;
	}
	return 0;
}

static int range_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct range_source *rs = ctx;
	size_t want;
	int ret;

	if (off > rs->src.size || len > rs->src.size - off)
		return error("read past the end of %.10s", rs->oid);
	if (!len)
		return 0;
	if (!rs->form && rs->gmz_first && rs->storage->http->compressed) {
		/* the form storage most likely has; else the raw one */
		ret = open_container(rs, 1);
		if (ret < 0)
			return -1;
		rs->form = ret ? 1 : 2;
	}
	if (rs->form == 2)
		return read_compressed(rs, off, buf, len);
	if (off >= rs->block_off && off + len <= rs->block_off + rs->block_len) {
		memcpy(buf, rs->block + (off - rs->block_off), len);
		return 0;
	}
	if (len > RANGE_SOURCE_BLOCK)
		want = len;
	else
		want = rs->src.size - off < RANGE_SOURCE_BLOCK ?
			       (size_t)(rs->src.size - off) :
			       RANGE_SOURCE_BLOCK;
	rs->block_len = 0;
	ret = get_range(rs, 0, !rs->form && rs->storage->http->compressed, off,
			want > len ? rs->block : buf, want);
	if (ret == 1) {
		/* absent raw: the compressed form, if storage has it */
		rs->form = 2;
		if (open_container(rs, 0) < 0)
			return -1;
		return read_compressed(rs, off, buf, len);
	}
	if (ret < 0)
		return -1;
	rs->form = 1;
	if (want > len) {
		rs->block_off = off;
		rs->block_len = want;
		memcpy(buf, rs->block, len);
	}
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
	rs->form = 0;
	rs->gmz_first = 0;
	rs->zblock = UINT32_MAX;
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
	zc_header_release(&rs->zh);
	free(rs->zraw_off);
	free(rs->zstored_off);
	free(rs->zraw);
	rs->easy = NULL;
	rs->block = NULL;
	rs->zraw_off = rs->zstored_off = NULL;
	rs->zraw = NULL;
}
