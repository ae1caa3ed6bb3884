/*
 * The engine for HTTP backends (storage_http_ops): every request on
 * libcurl's multi interface, model.concurrency at a time, each handle set
 * up by the transport (http.h) and then by the backend. Downloads are
 * resumed from <store>/incomplete/<oid> and verified before they enter the
 * store; a multipart upload runs its steps as the backend describes them.
 */

#include "transfer-internal.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "tcp-acked.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define BODY_MAX (64 * 1024)
/* How often to look whether another process finished a download. */
#define BUSY_WAIT_MS 200
/* After SIGINT or SIGTERM: how long aborting multipart uploads may take. */
#define INTERRUPT_GRACE_MS 10000

/* Set by SIGINT or SIGTERM while requests run: the signal's number. */
static volatile sig_atomic_t interrupted;

/* libcurl callbacks */

/* The value of header line `buf` (`len` bytes), trimmed; NULL if long. */
static char *header_value(const char *buf, size_t len, size_t name_len)
{
	const char *v = buf + name_len, *end = buf + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' '))
		end--;
	return end - v > 1024 ? NULL : xstrndup(v, end - v);
}

static size_t header_cb(char *buf, size_t size, size_t n, void *data)
{
	struct transfer_item *it = data;
	const char *sum = it->t->storage->http->checksum_header;
	const char *where = it->t->storage->http->where_header;
	size_t len = size * n;

	if (sum && len > strlen(sum) + 1 &&
	    !strncasecmp(buf, sum, strlen(sum)) && buf[strlen(sum)] == ':') {
		free(it->checksum);
		it->checksum = header_value(buf, len, strlen(sum) + 1);
		return len;
	}
	if (where && len > strlen(where) + 1 &&
	    !strncasecmp(buf, where, strlen(where)) &&
	    buf[strlen(where)] == ':') {
		free(it->where);
		it->where = header_value(buf, len, strlen(where) + 1);
		return len;
	}

	if (len > 14 && !strncasecmp(buf, "Content-Range:", 14)) {
		unsigned long long first, last, total;
		char *v = header_value(buf, len, 14);

		/* "bytes 100-199/1000"; a total of "*" is not known */
		if (v && sscanf(v, "bytes %llu-%llu/%llu", &first, &last,
				&total) == 3 && first <= last && last < total &&
		    total <= INT64_MAX) {
			it->range_first = first;
			it->range_total = total;
		}
		free(v);
	} else if (len > 12 && !strncasecmp(buf, "Retry-After:", 12)) {
		long v = strtol(buf + 12, NULL, 10);

		if (v > 0)
			it->retry_after = v;
	} else if (len > 5 && !strncasecmp(buf, "ETag:", 5)) {
		const char *v = buf + 5, *end = buf + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
				   end[-1] == ' '))
			end--;
		free(it->etag);
		it->etag = end - v > 1024 ? NULL : xstrndup(v, end - v);
	}
	return len;
}

/*
 * The decoder's raw bytes of a compressed download: into the incomplete
 * file and its hash, as a raw download's bytes go.
 */
static int emit_incomplete(void *data, const void *buf, size_t len)
{
	struct transfer_item *it = data;

	if (write_in_full(it->fd, buf, len) < 0) {
		it->write_errno = errno ? errno : EIO;
		return -1;
	}
	hash_update(&it->hash, buf, len);
	if (it->tap)
		it->tap->data(it->tap, buf, len);
	it->have += len;
	it->progress_now = it->have;
	return 0;
}

/* Empty the incomplete file: what is written next is the content's start. */
static int restart_incomplete(struct transfer_item *it)
{
	if (ftruncate(it->fd, 0) < 0 || lseek(it->fd, 0, SEEK_SET) < 0) {
		it->write_errno = errno ? errno : EIO;
		return -1;
	}
	it->have = 0;
	it->progress_now = 0;
	hash_release(&it->hash);
	hash_start(&it->hash);
	item_tap_start(it);
	return 0;
}

static void wake_multi(void *multi)
{
	curl_multi_wakeup(multi);
}

/*
 * A decoder for a compressed download from its start; its threads wake
 * the engine when a block has decoded.
 */
static void zc_start(struct transfer_item *it)
{
	zc_decoder_init(&it->zc, it->size);
	zc_decoder_notify(&it->zc, wake_multi, it->t->multi);
}

/*
 * Feed the decoder the bytes held back (zc_held), as many as it takes
 * without waiting. 0, or -1 (zc_err or write_errno says why).
 */
static int zc_feed_held(struct transfer_item *it)
{
	long n = zc_decoder_feed_some(&it->zc, it->zc_held.buf,
				      it->zc_held.len, emit_incomplete, it,
				      &it->zc_err);

	if (n < 0)
		return -1;
	memmove(it->zc_held.buf, it->zc_held.buf + n, it->zc_held.len - n);
	strbuf_setlen(&it->zc_held, it->zc_held.len - n);
	return 0;
}

/*
 * The bytes of a compressed download (zc_resume in transfer-internal.h).
 * The decoder checks every length it reads. A server that ignored the
 * Range of a resumed one sends the whole container (200): it is decoded
 * from its start, into an emptied file. What the decoder has no room for
 * yet is held (zc_held), and the transfer paused while bytes are held:
 * this thread drives every transfer and never waits for one.
 */
static size_t write_compressed(struct transfer_item *it, const char *buf,
			       size_t len, long status)
{
	long n;

	if (!it->status_checked) {
		it->status_checked = 1;
		/* storage keeps this form: later downloads ask it first */
		it->t->prefer_compressed = 1;
		if (status == 200 && it->zc_resume != ZC_RESUME_NONE) {
			if (restart_incomplete(it) < 0)
				return 0;
			zc_decoder_release(&it->zc);
			zc_start(it);
			it->zc_resume = ZC_RESUME_NONE;
		} else if (status == 206 &&
			   (it->zc_resume == ZC_RESUME_NONE ||
			    it->range_first != (it->zc_resume == ZC_RESUME_HEADER ?
						0 : (int64_t)it->zc_from))) {
			strbuf_addf(&it->zc_err, "compressed object: asked for "
				    "bytes from %llu, storage sent others",
				    (unsigned long long)(it->zc_resume == ZC_RESUME_BLOCKS ?
							 it->zc_from : 0));
			return 0;
		}
	}
	if (it->zc_resume == ZC_RESUME_HEADER) {
		if (len > it->zc_head_want - it->zc_head.len) {
			strbuf_addstr(&it->zc_err, "compressed object: storage "
				      "sent more of its header than asked");
			return 0;
		}
		strbuf_add(&it->zc_head, buf, len);
		return len;
	}
	/* the decoder failed since the last write (zc_service()) */
	if (it->zc_err.len || it->write_errno)
		return 0;
	if (it->zc_held.len) {
		if (zc_feed_held(it) < 0)
			return 0;
		if (it->zc_held.len) {
			it->zc_paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	n = zc_decoder_feed_some(&it->zc, buf, len, emit_incomplete, it,
				 &it->zc_err);
	if (n < 0)
		return 0;
	strbuf_add(&it->zc_held, buf + n, len - n);
	return len;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *data)
{
	struct transfer_item *it = data;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(it->easy, CURLINFO_RESPONSE_CODE, &status);
	if (it->req != REQ_GET || (status != 200 && status != 206)) {
		/* not content (an error, an XML answer): keep its start */
		size_t room = BODY_MAX - it->body.len;

		strbuf_add(&it->body, buf, len < room ? len : room);
		return len;
	}
	if (it->gmz)
		return write_compressed(it, buf, len, status);
	if (!it->status_checked) {
		it->status_checked = 1;
		/* the server ignored our Range: start over */
		if (status == 200 && it->have && restart_incomplete(it) < 0)
			return 0;
	}
	if (it->have + len > it->size) {
		it->wrong_bytes = 1;
		return 0;
	}
	if (write_in_full(it->fd, buf, len) < 0) {
		it->write_errno = errno ? errno : EIO;
		return 0;
	}
	hash_update(&it->hash, buf, len);
	if (it->tap)
		it->tap->data(it->tap, buf, len);
	it->have += len;
	it->progress_now = it->have;
	return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *data)
{
	struct transfer_item *it = data;
	size_t want = size * n;
	ssize_t got;

	if (it->req == REQ_PART && want > it->length - it->sent)
		want = it->length - it->sent;
	/* pread: the parts of a compressed upload share one spool */
	got = pread(it->in_fd, buf, want, it->offset + it->sent);
	if (got < 0 && errno == EINTR)
		return read_cb(buf, size, n, data);
	if (got < 0)
		return CURL_READFUNC_ABORT;
	it->sent += got;
	return got;
}

/*
 * While an upload waits for auto's choice, the engine calls libcurl this
 * often at least: the meter takes its samples in libcurl's calls.
 */
#define ZC_UNDECIDED_MS 2

/* Each connection libcurl opens, for meter_upload(). */
static int note_socket(void *data, curl_socket_t fd, curlsocktype purpose)
{
	struct transfer *t = data;

	if (purpose == CURLSOCKTYPE_IPCXN && t->tcp_acked)
		tcp_acked_opened(t->tcp_acked, fd);
	return CURL_SOCKOPT_OK;
}

/*
 * Count a raw upload's bytes in the upload meter of model.compression=auto
 * (transfer-internal.h): those its connection's peer acknowledged since
 * the request began (tcp-acked.h), taken at most once a millisecond and
 * when it ends (`last`), not those libcurl wrote, which the socket's send
 * buffer takes faster than the link. Where the kernel cannot say, what
 * libcurl wrote (`ulnow`).
 */
static void meter_upload(struct transfer_item *it, curl_off_t ulnow, int last)
{
	struct tcp_acked *a = it->t->tcp_acked;
	long local = 0, peer = 0;
	uint64_t now = transfer_now_ms(), bytes;

	if (!it->zc_metered)
		return;
	if (it->zc_conn == ZC_CONN_WROTE) {
		if ((uint64_t)ulnow > it->progress_now) {
			transfer_zc_meter_add(it->t, ZC_METER_UPLOAD,
					      ulnow - it->progress_now);
			it->zc_acked += ulnow - it->progress_now;
		}
		return;
	}
	if ((now == it->zc_sampled && !last) ||
	    curl_easy_getinfo(it->easy, CURLINFO_LOCAL_PORT, &local) !=
		    CURLE_OK ||
	    curl_easy_getinfo(it->easy, CURLINFO_PRIMARY_PORT, &peer) !=
		    CURLE_OK ||
	    local <= 0 || peer <= 0)
		return; /* not yet connected */
	it->zc_sampled = now;
	if (it->zc_conn >= 0 && tcp_acked_is(a, it->zc_conn, local, peer)) {
		if (!tcp_acked_take(a, it->zc_conn, &bytes)) {
			transfer_zc_meter_add(it->t, ZC_METER_UPLOAD, bytes);
			it->zc_acked += bytes;
		}
		return;
	}
	it->zc_conn = a ? tcp_acked_find(a, local, peer) : -1;
	if (it->zc_conn < 0 || tcp_acked_start(a, it->zc_conn) < 0) {
		/* counted as written from here */
		it->zc_conn = ZC_CONN_WROTE;
		it->progress_now = ulnow;
	}
}

static int progress_cb(void *data, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer_item *it = data;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (it->req == REQ_PUT || it->req == REQ_PART) {
		meter_upload(it, ulnow, 0);
		it->progress_now = ulnow;
	}
	return 0;
}

/* Open (or resume) the incomplete file of a download. 0, 1 busy, -1. */
static int open_incomplete(struct transfer_item *it)
{
	struct stat st;

	strbuf_reset(&it->incomplete);
	if (store_incomplete_path(it->t->store, it->oid, &it->incomplete) < 0)
		return -1;
	it->fd = open(it->incomplete.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (it->fd < 0)
		return error_errno("cannot open '%s'", it->incomplete.buf);
	/* Another process downloading the same object: wait our turn. */
	if (flock(it->fd, LOCK_EX | LOCK_NB) < 0) {
		close(it->fd);
		it->fd = -1;
		return 1;
	}
	if (fstat(it->fd, &st) < 0)
		return error_errno("cannot stat '%s'", it->incomplete.buf);
	it->have = st.st_size;
	if (it->have > it->size) {
		if (ftruncate(it->fd, 0) < 0)
			return error_errno("cannot truncate '%s'",
					   it->incomplete.buf);
		it->have = 0;
	}
	return 0;
}

/*
 * Keep the first `keep` bytes of the incomplete file (at most what it
 * has) and hash them, before the download adds to them. 0, or -1.
 */
static int hash_incomplete(struct transfer_item *it, uint64_t keep)
{
	char *buf;
	uint64_t left, off = 0;

	if (keep < it->have) {
		if (ftruncate(it->fd, keep) < 0)
			return error_errno("cannot truncate '%s'",
					   it->incomplete.buf);
		it->have = keep;
	}
	hash_release(&it->hash);
	hash_start(&it->hash);
	item_tap_start(it);
	buf = xmalloc(COPY_BLOCK);
	for (left = it->have; left;) {
		ssize_t n = pread(it->fd, buf, left < COPY_BLOCK ? left :
								   COPY_BLOCK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return error_errno("cannot read '%s'",
					   it->incomplete.buf);
		}
		hash_update(&it->hash, buf, n);
		if (it->tap)
			it->tap->data(it->tap, buf, n);
		left -= n;
		off += n;
	}
	free(buf);
	if (lseek(it->fd, it->have, SEEK_SET) < 0)
		return error_errno("cannot seek '%s'", it->incomplete.buf);
	return 0;
}

static void queue_request(struct transfer_item *it, enum request req);

/* One line for wrong bytes in a form storage holds, when another is tried. */
static void warn_mismatch(struct transfer_item *it, const char *why)
{
	struct strbuf url = STRBUF_INIT;

	storage_object_location(it->t->storage, it->oid, &url);
	if (it->t->progress)
		fputc('\n', stderr);
	warning("'%s': %s%s: %s; trying %s%s", it->path, url.buf,
		it->gmz ? ".gmz" : "", why, url.buf, it->gmz ? "" : ".gmz");
	strbuf_release(&url);
}

/*
 * The form asked for after wrong bytes in the other one was absent, or
 * wrong too: back to the first form, whose mismatch stands (asked again
 * once, as item_mismatch() does, then failed with its reason).
 */
static void other_form_failed(struct transfer_item *it)
{
	it->gmz = it->mismatch_gmz;
	item_mismatch(it, it->mismatch_why);
}

/*
 * Downloaded bytes were wrong (`why`; the incomplete file is gone).
 * Storage that keeps both forms may hold the other one right, a damaged
 * raw copy beside a good .gmz or the reverse: that form is asked for
 * once, unless it was asked before (found absent).
 */
static void download_mismatch(struct transfer_item *it, const char *why)
{
	if (it->mismatch_why && it->gmz != it->mismatch_gmz) {
		warn_mismatch(it, why);
		other_form_failed(it);
		return;
	}
	if (!it->t->storage->http->compressed || it->form != FORM_FIRST ||
	    it->mismatch_why) {
		item_mismatch(it, why);
		return;
	}
	warn_mismatch(it, why);
	it->mismatch_why = xstrdup(why);
	it->mismatch_gmz = it->gmz;
	it->form = FORM_OTHER;
	it->gmz = !it->gmz;
	item_close_files(it);
	queue_request(it, REQ_GET);
}

/* The download is complete: verify and move it into the store. */
static void finish_download(struct transfer_item *it)
{
	char got[HASH_HEXSZ + 1];
	int fd = it->fd;

	hash_finish(&it->hash, got);
	if (strcmp(got, it->oid)) {
		/* Wrong bytes: never kept, and perhaps right next time. */
		unlink(it->incomplete.buf);
		download_mismatch(it, "the bytes do not match the object id "
				      "(nothing was stored)");
		return;
	}
	it->fd = -1; /* store_adopt closes it */
	if (store_adopt(it->t->store, it->oid, fd, it->incomplete.buf) < 0) {
		item_fail(it, "cannot store the object");
		return;
	}
	item_done(it, ST_DONE);
}

/* The sha256 of a part, read from the object (S3 signs every payload). */
static int hash_part(struct transfer_item *it)
{
	struct hash h = HASH_INIT;
	char *buf = xmalloc(COPY_BLOCK);
	uint64_t left = it->length, off = it->offset;
	int ret = 0;

	hash_start(&h);
	while (left) {
		ssize_t n = pread(it->in_fd, buf,
				  left < COPY_BLOCK ? left : COPY_BLOCK, off);

		if (n <= 0) {
			ret = -1;
			break;
		}
		hash_update(&h, buf, n);
		left -= n;
		off += n;
	}
	if (!ret)
		hash_finish(&h, it->part_sha);
	hash_release(&h);
	free(buf);
	return ret;
}

static enum storage_mp_step mp_step(enum request req)
{
	switch (req) {
	case REQ_MP_INIT: return STORAGE_MP_INIT;
	case REQ_PART: return STORAGE_MP_PART;
	case REQ_MP_COMPLETE: return STORAGE_MP_COMPLETE;
	case REQ_MP_ABORT: return STORAGE_MP_ABORT;
	default: BUG("request %d is not a multipart step", (int)req);
	}
}

/*
 * Room on the disk for what is left (a pointer may say any size): else
 * fail, before the first byte, keeping no empty partial file. 0 or -1.
 */
static int check_room(struct transfer_item *it)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	if (store_check_room(it->t->store, it->size - it->have, &why) < 0) {
		if (!it->have)
			unlink(it->incomplete.buf);
		item_fail(it, "%s (nothing was downloaded)", why.buf);
		ret = -1;
	}
	strbuf_release(&why);
	return ret;
}

/*
 * Before a GET: the object may be here already, or another process may be
 * bringing it. 0 to send the request, 1 when the item moved on, -1 failed.
 */
static int prepare_download(struct transfer_item *it)
{
	int busy;

	/* a compressed download's blocks, after its header (resume_at_block()) */
	if (it->fd >= 0)
		return 0;
	/* Another process may have brought it while we waited. */
	if (store_has(it->t->store, it->oid, it->size)) {
		item_done(it, ST_SKIPPED);
		return 1;
	}
	busy = open_incomplete(it);
	if (busy < 0) {
		item_fail(it, "cannot write into the local store");
		return -1;
	}
	if (busy) {
		/*
		 * Another process is downloading it: wait for it, however
		 * long a big object takes. That is not a failed attempt (its
		 * lock goes when it exits).
		 */
		item_close_files(it);
		it->not_before = transfer_now_ms() + BUSY_WAIT_MS;
		it->stage = ST_QUEUED;
		return 1;
	}
	if (store_has(it->t->store, it->oid, it->size)) {
		unlink(it->incomplete.buf);
		item_done(it, ST_SKIPPED);
		return 1;
	}
	if (it->gmz) {
		if (it->zc_active)
			zc_decoder_release(&it->zc);
		zc_start(it);
		it->zc_active = 1;
		strbuf_reset(&it->zc_err);
		strbuf_reset(&it->zc_head);
		/*
		 * Raw bytes are there (of either form): the header and table
		 * first, to find the block they end in (its raw bytes are
		 * hashed then, up to that block). A short guess at the table
		 * of blocks of the usual size; a longer one is asked for.
		 */
		it->zc_resume = it->have && it->have < it->size ?
			ZC_RESUME_HEADER : ZC_RESUME_NONE;
		it->zc_head_want = it->size / ZC_BLOCK_DEFAULT + 2;
		if (it->zc_head_want > ZC_BLOCKS_MAX)
			it->zc_head_want = ZC_BLOCKS_MAX;
		it->zc_head_want = ZC_HEADER_SIZE +
				   ZC_ENTRY_SIZE * it->zc_head_want;
		if (it->zc_resume == ZC_RESUME_HEADER)
			return check_room(it);
	}
	if (hash_incomplete(it, it->have) < 0) {
		item_fail(it, "cannot write into the local store");
		return -1;
	}
	if (it->have == it->size) {
		finish_download(it);
		return 1;
	}
	return check_room(it);
}

static int prepare_upload(struct transfer_item *it)
{
	struct transfer_item *obj = it->parent ? it->parent : it;

	if (obj->gmz)
		it->in_fd = fcntl(obj->zc_fd, F_DUPFD_CLOEXEC, 0);
	else
		it->in_fd = store_open(it->t->store, it->oid, it->size);
	if (it->in_fd < 0) {
		item_fail(it, "the weights are not in the local store");
		return -1;
	}
	it->sent = 0;
	if (it->req == REQ_PART &&
	    ((!it->part_sha[0] && hash_part(it) < 0) ||
	     lseek(it->in_fd, it->offset, SEEK_SET) < 0)) {
		item_fail(it, "cannot read the local object");
		return -1;
	}
	return 0;
}

/* The bytes an upload of the object sends: raw, or compressed. */
static uint64_t upload_size(const struct transfer_item *obj)
{
	return obj->gmz ? obj->zc_size : obj->size;
}

/* What the request is: method, query, body, and the handle's options. */
static int describe_request(struct transfer_item *it)
{
	struct storage *s = it->t->storage;
	struct storage_request *rq = &it->rq;
	struct transfer_item *obj = it->parent ? it->parent : it;

	rq->oid = it->oid;
	if (it->req == REQ_VERIFY) {
		/* described by storage when the PUT succeeded */
		curl_easy_setopt(it->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDS, rq->body.buf);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDSIZE,
				 (long)rq->body.len);
		return 0;
	}
	rq->method = "GET";
	rq->payload_sha256 = NULL;
	rq->content_type = NULL;
	strbuf_reset(&rq->query);
	strbuf_reset(&rq->body);
	switch (it->req) {
	case REQ_HEAD:
		rq->method = "HEAD";
		curl_easy_setopt(it->easy, CURLOPT_NOBODY, 1L);
		return 0;
	case REQ_PROBE:
		curl_easy_setopt(it->easy, CURLOPT_RANGE, "0-0");
		return 0;
	case REQ_GET:
		if (it->gmz && it->zc_resume == ZC_RESUME_HEADER) {
			char range[64];

			xsnprintf(range, sizeof(range), "0-%llu",
				  (unsigned long long)it->zc_head_want - 1);
			curl_easy_setopt(it->easy, CURLOPT_RANGE, range);
		} else if ((it->gmz && it->zc_resume == ZC_RESUME_BLOCKS) ||
			   (!it->gmz && it->have)) {
			/*
			 * Not RESUME_FROM: libcurl fails any answer to that
			 * but a 206 (a 404 of a form storage lacks, a 200
			 * from a server that ignores Range) before we see it.
			 */
			char range[64];

			xsnprintf(range, sizeof(range), "%llu-",
				  (unsigned long long)(it->gmz ? it->zc_from :
								 it->have));
			curl_easy_setopt(it->easy, CURLOPT_RANGE, range);
		}
		return 0;
	case REQ_PUT:
		rq->method = "PUT";
		rq->payload_sha256 = it->gmz ? it->zc_sha : it->oid;
		break;
	case REQ_PART:
		rq->payload_sha256 = it->part_sha;
		/* fall through */
	default:
		if (s->http->multipart->request(s, obj->mp, mp_step(it->req),
						it->part_no, rq) < 0)
			return -1;
		break;
	}
	if (it->req == REQ_PUT || it->req == REQ_PART) {
		curl_easy_setopt(it->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(it->easy, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(it->req == REQ_PUT ?
						      upload_size(it) :
						      it->length));
		curl_easy_setopt(it->easy, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(it->easy, CURLOPT_READDATA, it);
		curl_easy_setopt(it->easy, CURLOPT_UPLOAD_BUFFERSIZE,
				 512L * 1024);
	} else if (!strcmp(rq->method, "POST")) {
		curl_easy_setopt(it->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDS, rq->body.buf);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDSIZE,
				 (long)rq->body.len);
	} else if (strcmp(rq->method, "GET")) {
		curl_easy_setopt(it->easy, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	return 0;
}

static enum storage_op locate_op(const struct transfer *t)
{
	return t->dir == TRANSFER_UPLOAD ? STORAGE_OP_UPLOAD :
	       t->dir == TRANSFER_CHECK  ? STORAGE_OP_CHECK :
					   STORAGE_OP_DOWNLOAD;
}

/* What storage said of the item (locate): 0 send the request, 1 moved on. */
static int apply_where(struct transfer_item *it, struct storage_locate *loc)
{
	switch (loc->where) {
	case STORAGE_SEND:
		if (it->t->dir == TRANSFER_CHECK)
			BUG("storage answered a check with 'send'");
		if (it->req == REQ_HEAD)
			it->req = REQ_PUT;
		return 0;
	case STORAGE_HAS:
		it->stored = it->size; /* such storage keeps objects raw */
		item_done(it, ST_SKIPPED);
		return 1;
	case STORAGE_LACKS:
		if (it->t->dir == TRANSFER_CHECK) {
			item_done(it, ST_DONE);
			return 1;
		}
		if (it->t->dir == TRANSFER_UPLOAD) {
			it->req = REQ_PUT;
			return 0;
		}
		it->fail_kind = FAIL_ABSENT;
		break;
	case STORAGE_REFUSED:
		break;
	}
	item_fail(it, "%s", loc->why.len ? loc->why.buf : "refused");
	return 1;
}

/*
 * Ask storage where the objects still queued go, all at once (it may
 * group them, as the Git LFS batch API does).
 */
static void locate_all(struct transfer *t)
{
	struct storage *s = t->storage;
	struct storage_locate *locs;
	struct transfer_item **its;
	size_t i, n = 0;

	locs = xcalloc(t->top, sizeof(*locs));
	its = xcalloc(t->top, sizeof(*its));
	for (i = 0; i < t->top; i++) {
		struct transfer_item *it = t->items[i];

		if (it->stage != ST_QUEUED)
			continue;
		its[n] = it;
		locs[n].oid = it->oid;
		locs[n].size = it->size;
		locs[n].refused = 0;
		locs[n].where = STORAGE_REFUSED;
		strbuf_init(&locs[n].why, 0);
		n++;
	}
	if (n)
		s->http->locate(s, locate_op(t), locs, n);
	for (i = 0; i < n; i++) {
		/* A whole batch refused: one line says why, not one each. */
		if (i && locs[i].where == STORAGE_REFUSED &&
		    locs[i - 1].where == STORAGE_REFUSED &&
		    !strcmp(locs[i].why.buf, locs[i - 1].why.buf))
			its[i]->quiet_fail = 1;
		apply_where(its[i], &locs[i]);
	}
	for (i = 0; i < n; i++)
		strbuf_release(&locs[i].why);
	free(locs);
	free(its);
}

/* Before a request of the item: where it goes now. 0 send it, 1 not. */
static int locate_one(struct transfer_item *it)
{
	struct storage *s = it->t->storage;
	struct storage_locate loc = { .oid = it->oid, .size = it->size };
	int ret;

	if (!s->http->locate || it->parent ||
	    (it->req != REQ_HEAD && it->req != REQ_GET && it->req != REQ_PUT))
		return 0;
	loc.refused = it->relocated == 1;
	strbuf_init(&loc.why, 0);
	s->http->locate(s, locate_op(it->t), &loc, 1);
	if (loc.refused)
		it->relocated = 2;
	ret = apply_where(it, &loc);
	strbuf_release(&loc.why);
	return ret;
}

static int start_request(struct transfer *t, CURLM *multi,
			 struct transfer_item *it)
{
	struct storage *s = t->storage;
	struct strbuf url = STRBUF_INIT;
	int ret = -1, prepared;

	if (it->easy)
		curl_easy_cleanup(it->easy);
	curl_slist_free_all(it->headers);
	it->headers = NULL;
	it->easy = curl_easy_init();
	if (!it->easy) {
		item_fail(it, "cannot start libcurl");
		goto cleanup;
	}
	it->retry_after = 0;
	it->status_checked = 0;
	it->wrong_bytes = 0;
	it->write_errno = 0;
	it->range_first = it->range_total = -1;
	it->errbuf[0] = '\0';
	strbuf_reset(&it->zc_held);
	it->zc_paused = 0;
	free(it->etag);
	it->etag = NULL;
	free(it->checksum);
	it->checksum = NULL;
	free(it->where);
	it->where = NULL;
	strbuf_reset(&it->body);

	if (!it->parent && it->form == FORM_UNASKED) {
		/* the form the storage most likely has, or is to get */
		it->form = FORM_FIRST;
		it->gmz = s->http->compressed &&
			  (t->dir == TRANSFER_DOWNLOAD ?
				   t->prefer_compressed :
				   t->compression != TRANSFER_COMPRESS_NONE);
	}
	if (locate_one(it)) {
		ret = 0;
		goto cleanup;
	}
	if (it->req == REQ_GET) {
		int res = prepare_download(it);

		if (res) {
			ret = res > 0 ? 0 : -1;
			goto cleanup;
		}
	} else if ((it->req == REQ_PUT || it->req == REQ_PART) &&
		   prepare_upload(it) < 0) {
		goto cleanup;
	}

	http_transport_setup(s->transport, it->easy);
	curl_easy_setopt(it->easy, CURLOPT_PRIVATE, it);
	curl_easy_setopt(it->easy, CURLOPT_ERRORBUFFER, it->errbuf);
	curl_easy_setopt(it->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(it->easy, CURLOPT_HEADERDATA, it);
	curl_easy_setopt(it->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(it->easy, CURLOPT_WRITEDATA, it);
	curl_easy_setopt(it->easy, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(it->easy, CURLOPT_XFERINFODATA, it);
	curl_easy_setopt(it->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(it->easy, CURLOPT_SOCKOPTFUNCTION, note_socket);
	curl_easy_setopt(it->easy, CURLOPT_SOCKOPTDATA, t);
	curl_easy_setopt(it->easy, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (describe_request(it) < 0) {
		item_fail(it, "cannot prepare the request");
		goto cleanup;
	}
	if ((it->parent ? it->parent : it)->gmz) {
		s->http->object_url(s, it->oid, NULL, &url);
		strbuf_addstr(&url, ".gmz");
		if (it->rq.query.len)
			strbuf_addf(&url, "?%s", it->rq.query.buf);
	} else {
		s->http->object_url(s, it->oid,
				    it->rq.query.len ? it->rq.query.buf : NULL,
				    &url);
	}
	curl_easy_setopt(it->easy, CURLOPT_URL, url.buf);
	it->rq.url = url.buf; /* for this call only */
	prepared = s->http->prepare(s, it->easy, &it->headers, &it->rq);
	it->rq.url = NULL;
	if (prepared < 0) {
		item_fail(it, "cannot prepare the request");
		goto cleanup;
	}
	curl_easy_setopt(it->easy, CURLOPT_HTTPHEADER, it->headers);
	it->auth_gen = t->auth_gen;
	if (curl_multi_add_handle(multi, it->easy) != CURLM_OK) {
		item_fail(it, "cannot start the request");
		goto cleanup;
	}
	it->stage = ST_RUNNING;
	it->progress_now = 0;
	it->zc_metered = (it->req == REQ_PUT || it->req == REQ_PART) &&
			 !(it->parent ? it->parent : it)->gmz;
	it->zc_conn = -1;
	it->zc_sampled = 0;
	it->zc_acked = 0;
	if (it->zc_metered)
		transfer_zc_meter_begin(t, ZC_METER_UPLOAD);
	ret = 0;
cleanup:
	strbuf_release(&url);
	return ret;
}

/* The backend agreed to a multipart upload: queue the parts. */
/*
 * The part size of the upload of `it`, or 0 for one PUT. A compressed
 * object under the threshold goes in parts too when its raw form would
 * and it is more than one part: its bytes then leave over about as many
 * connections as the raw ones would, and the choice of its form
 * (transfer_zc_switch()) compares like with like.
 */
static uint64_t upload_part_size(struct transfer_item *it)
{
	struct storage *s = it->t->storage;
	const struct storage_multipart_ops *mp = s->http->multipart;
	uint64_t part;

	if (!mp)
		return 0;
	part = mp->part_size(s, upload_size(it));
	if (part || !it->gmz)
		return part;
	part = mp->part_size(s, it->size);
	return part < upload_size(it) ? part : 0;
}

static void start_parts(struct transfer *t, struct transfer_item *it)
{
	uint64_t size = upload_size(it);
	uint64_t part_size = upload_part_size(it);
	size_t n = it->nparts, i;
	uint64_t off;

	it->parts = xcalloc(n, sizeof(*it->parts));
	it->parts_done = it->parts_failed = 0;
	for (i = 0, off = 0; i < n; i++, off += part_size) {
		struct transfer_item *p = transfer_item_new(t, it->oid,
							    it->size, it->path);

		p->parent = it;
		p->req = REQ_PART;
		p->part_no = i + 1;
		p->offset = off;
		p->length = size - off < part_size ? size - off : part_size;
		it->parts[i] = p;
		transfer_item_queue(t, p);
	}
	it->stage = ST_WAITING;
}

/* Run `req` next for this item, as soon as a slot is free. */
static void queue_request(struct transfer_item *it, enum request req)
{
	it->req = req;
	it->stage = ST_QUEUED;
	it->not_before = 0;
}

/* Abort the multipart upload of `it`, with retries of its own. */
static void queue_abort(struct transfer_item *it)
{
	it->attempts = 0;
	queue_request(it, REQ_MP_ABORT);
}

void transfer_part_ended(struct transfer_item *part)
{
	struct transfer_item *it = part->parent;

	if (part->stage == ST_DONE) {
		it->parts_done++;
		it->progress_now += part->length;
	} else {
		it->parts_failed++;
	}
	if (it->parts_done + it->parts_failed < it->nparts)
		return;
	if (it->parts_failed)
		queue_abort(it);
	else
		queue_request(it, REQ_MP_COMPLETE);
	it->attempts = 0;
}

/* "404 Not Found", with what the body says when it is short text. */
static void describe_status(struct transfer_item *it, long status,
			    struct strbuf *out)
{
	struct storage *s = it->t->storage;
	size_t i, n = strcspn(it->body.buf, "\r\n");

	if (s->http->describe_error && it->body.len) {
		s->http->describe_error(s, status, it->body.buf, out);
		return;
	}
	strbuf_addf(out, "%ld %s", status, http_reason_phrase(status));
	if (!n || n > 200)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)it->body.buf[i] < 0x20 ||
		    it->body.buf[i] == '<')
			return;
	strbuf_addstr(out, " (");
	strbuf_add(out, it->body.buf, n);
	strbuf_addch(out, ')');
}

/*
 * The form asked of a storage that keeps compressed objects was absent
 * (404): ask for the other one, once. 1 when that request is queued.
 */
static int ask_other_form(struct transfer_item *it)
{
	if (!it->t->storage->http->compressed || it->form == FORM_OTHER)
		return 0;
	it->form = FORM_OTHER;
	it->gmz = !it->gmz;
	item_close_files(it);
	queue_request(it, it->req);
	return 1;
}

/* The decoder refused what storage holds (zc_err says why): nothing stays. */
static void zc_mismatch(struct transfer_item *it)
{
	unlink(it->incomplete.buf);
	strbuf_addstr(&it->zc_err, " (nothing was stored)");
	download_mismatch(it, it->zc_err.buf);
}

/*
 * A compressed download stops short (a cut connection, a signal): the
 * blocks whose stored bytes all came are decoded into the incomplete
 * file, waiting for them, so that the resume need not fetch them again.
 */
static void zc_keep_whole_blocks(struct transfer_item *it)
{
	if (it->req == REQ_GET && it->gmz && it->fd >= 0 && it->zc_active &&
	    it->zc_resume != ZC_RESUME_HEADER &&
	    !zc_decoder_feed(&it->zc, it->zc_held.buf, it->zc_held.len,
			     emit_incomplete, it, NULL))
		zc_decoder_drain(&it->zc, emit_incomplete, it, NULL);
	strbuf_reset(&it->zc_held);
}

/* Writing the incomplete file failed (write_errno). */
static void write_failed(struct transfer_item *it)
{
	/*
	 * A full disk is not the network's fault: no retry, and the
	 * partial file goes, so that it does not keep the disk full.
	 */
	item_fail(it, "cannot write '%s': %s", it->incomplete.buf,
		  strerror(it->write_errno));
	if (it->write_errno == ENOSPC || it->write_errno == EDQUOT ||
	    it->write_errno == EFBIG)
		unlink(it->incomplete.buf);
}

/*
 * A compressed download running or decoding its last blocks
 * (ST_DECODING), from the engine's loop: the blocks decoded since go
 * into the incomplete file, the bytes held go to the decoder, and a
 * paused transfer goes on once none are held. Once every block of one
 * decoding is out, it is finished and verified. A failure of a running
 * one stops it at its next write (or as it ends, request_done()).
 */
static void zc_service(struct transfer_item *it)
{
	int idle = 0;

	/* blocks that went out make room for the bytes held */
	while (!it->zc_err.len && !it->write_errno) {
		uint64_t have = it->have;

		if (it->zc_held.len && zc_feed_held(it) < 0)
			break;
		idle = zc_decoder_poll(&it->zc, emit_incomplete, it,
				       &it->zc_err);
		if (idle < 0 || !it->zc_held.len || it->have == have)
			break;
	}
	if (it->stage == ST_RUNNING) {
		if (it->zc_paused && (!it->zc_held.len || it->zc_err.len ||
				      it->write_errno)) {
			it->zc_paused = 0;
			curl_easy_pause(it->easy, CURLPAUSE_CONT);
		}
		return;
	}
	if (it->write_errno) {
		write_failed(it);
	} else if (it->zc_err.len) {
		zc_mismatch(it);
	} else if (idle > 0 && !it->zc_held.len) {
		if (zc_decoder_finish(&it->zc, &it->zc_err) < 0) {
			zc_mismatch(it);
			return;
		}
		finish_download(it);
	}
}

/*
 * The header and table of a compressed download to resume came
 * (ZC_RESUME_HEADER): keep the raw bytes of the whole blocks in the
 * incomplete file and hash them, and ask for the stored bytes from the
 * next block on, decoded from there (ZC_RESUME_BLOCKS). The incomplete
 * file stays open and locked in between.
 */
static void resume_at_block(struct transfer_item *it)
{
	struct zc_header h = ZC_HEADER_INIT;
	uint64_t want = zc_header_length(it->zc_head.buf, it->zc_head.len);
	uint64_t raw;
	uint32_t k;
	long n;

	n = zc_header_parse(&h, it->zc_head.buf, it->zc_head.len, &it->zc_err);
	if (!n && want > it->zc_head_want &&
	    it->zc_head.len == it->zc_head_want) {
		/* a longer table than guessed (its count is within the cap) */
		it->zc_head_want = want;
		strbuf_reset(&it->zc_head);
		queue_request(it, REQ_GET);
		return;
	}
	if (!n)
		strbuf_addf(&it->zc_err, "compressed object: truncated in its "
			    "header (%llu bytes)",
			    (unsigned long long)it->zc_head.len);
	else if (n > 0 && it->range_total >= 0 &&
		 (uint64_t)it->range_total != h.stored_size)
		strbuf_addf(&it->zc_err, "compressed object: %lld bytes, its "
			    "table says %llu", (long long)it->range_total,
			    (unsigned long long)h.stored_size);
	if (n <= 0 || it->zc_err.len) {
		zc_header_release(&h);
		zc_mismatch(it);
		return;
	}
	k = zc_block_at(&h, it->have);
	zc_block_offsets(&h, k, &it->zc_from, &raw);
	zc_decoder_release(&it->zc);
	if (zc_decoder_init_at(&it->zc, it->size, &h, k, &it->zc_err) < 0) {
		zc_mismatch(it);
		return;
	}
	zc_decoder_notify(&it->zc, wake_multi, it->t->multi);
	if (hash_incomplete(it, raw) < 0) {
		item_fail(it, "cannot write into the local store");
		return;
	}
	it->zc_resume = ZC_RESUME_BLOCKS;
	queue_request(it, REQ_GET);
}

/* Compress the object into a spool for its upload. 0, or -1 (failed). */
static int compress_upload(struct transfer_item *it)
{
	if (it->zc_fd >= 0)
		return 0;
	if (transfer_zc_spool(it->t, it) < 0) {
		item_fail(it, "cannot compress it");
		return -1;
	}
	return 0;
}

/*
 * The object is not in storage: a PUT, or a multipart upload when big.
 * A check only notes it (ST_DONE: asked and absent; ST_SKIPPED: there).
 * The upload is compressed when model.compression says so (auto:
 * transfer_zc_choose()) and storage keeps compressed objects, unless
 * `raw` (a damaged raw copy there, which readers would find first, is to
 * be replaced).
 */
static void send_upload(struct transfer_item *it);
static void choose_upload(struct transfer_item *it, int idle);

static void queue_upload(struct transfer_item *it, int raw)
{
	struct storage *s = it->t->storage;

	if (it->t->dir == TRANSFER_CHECK) {
		item_done(it, ST_DONE);
		return;
	}
	if (!raw && s->http->compressed &&
	    it->t->compression != TRANSFER_COMPRESS_NONE) {
		choose_upload(it, 0);
		return;
	}
	it->gmz = 0;
	send_upload(it);
}

/*
 * The form of an upload that may be compressed (transfer_zc_choose()):
 * while that waits for a rate, the item stays queued with zc_undecided
 * set, and the engine asks again before it would start it; `idle`, when
 * nothing runs whose end could settle it, it goes raw.
 */
static void choose_upload(struct transfer_item *it, int idle)
{
	enum transfer_zc_choice c = transfer_zc_choose(it->t);

	if (c == ZC_WAIT && idle)
		c = ZC_RAW;
	it->zc_undecided = c == ZC_WAIT;
	if (it->zc_undecided) {
		queue_request(it, REQ_PUT);
		return;
	}
	it->gmz = c == ZC_COMPRESS;
	if (it->gmz && it->zc_fd < 0 && it->t->zc_stage) {
		/* compressed on a worker; sent once collected */
		transfer_zc_stage_submit(it->t->zc_stage, it);
		return;
	}
	if (it->gmz && compress_upload(it) < 0)
		return;
	send_upload(it);
}

/* Send `it` compressed: on a stage worker when there is one. */
static void send_compressed(struct transfer_item *it)
{
	it->gmz = 1;
	if (it->zc_fd < 0 && it->t->zc_stage)
		transfer_zc_stage_submit(it->t->zc_stage, it);
	else if (!compress_upload(it))
		send_upload(it);
}

/* Stop a raw upload request under way, its bytes counted by the meter. */
static void stop_metered(struct transfer *t, CURLM *multi,
			 struct transfer_item *it)
{
	meter_upload(it, it->progress_now, 1);
	transfer_zc_meter_end(t, ZC_METER_UPLOAD, 0);
	it->zc_metered = 0;
	curl_multi_remove_handle(multi, it->easy);
	item_close_files(it);
}

/*
 * The bytes of the raw multipart upload of `it` that have left so far
 * (its parts done, and what the meter counted of those under way), or 0
 * when none of its parts measures the link now.
 */
static uint64_t parts_sent(const struct transfer_item *it)
{
	uint64_t sent = it->progress_now;
	int metered = 0;
	size_t i;

	for (i = 0; i < it->nparts; i++) {
		const struct transfer_item *p = it->parts[i];

		if (p->stage != ST_RUNNING)
			continue;
		sent += p->zc_acked;
		metered |= p->zc_metered;
	}
	return metered ? sent : 0;
}

/*
 * Give up the raw multipart upload of `it`: its parts under way stop,
 * those queued never start, and the upload is aborted; once storage has
 * answered, the compressed form follows (abort_ended()). How many
 * requests were stopped.
 */
static size_t abandon_parts(struct transfer *t, CURLM *multi,
			    struct transfer_item *it)
{
	size_t i, n = 0;

	for (i = 0; i < it->nparts; i++) {
		struct transfer_item *p = it->parts[i];

		if (p->stage == ST_RUNNING) {
			stop_metered(t, multi, p);
			n++;
		} else if (p->stage == ST_QUEUED) {
			item_close_files(p);
		} else {
			continue;
		}
		/* ended, without telling the object (transfer_part_ended()) */
		p->stage = ST_FAILED;
		p->quiet_fail = 1;
	}
	it->zc_abandon = 1;
	it->progress_now = 0;
	queue_abort(it);
	return n;
}

/*
 * A raw upload that measures the link for auto is given up for its
 * compressed form when transfer_zc_switch() says so: a PUT is stopped
 * before its end (storage keeps nothing of a PUT cut short), a multipart
 * upload aborted; then the object is compressed and sent. Once an
 * object: the compressed form is not given up in turn. How many
 * requests under way were stopped.
 */
static size_t switch_to_compressed(struct transfer *t, CURLM *multi)
{
	size_t i, n = 0;
	uint64_t sent;

	if (t->compression != TRANSFER_COMPRESS_AUTO ||
	    !t->storage->http->compressed)
		return 0;
	for (i = 0; i < t->top; i++) {
		struct transfer_item *it = t->items[i];

		if (it->gmz || it->zc_switched)
			continue;
		if (it->stage == ST_WAITING && it->parts &&
		    !it->parts_failed && (sent = parts_sent(it)) &&
		    transfer_zc_switch(t, it->size, sent)) {
			it->zc_switched = 1;
			n += abandon_parts(t, multi, it);
			continue;
		}
		if (it->stage != ST_RUNNING || it->req != REQ_PUT ||
		    !it->zc_metered ||
		    !transfer_zc_switch(t, it->size, it->zc_acked))
			continue;
		stop_metered(t, multi, it);
		it->zc_switched = 1;
		send_compressed(it);
		n++;
	}
	return n;
}

/* The upload's first request: a PUT, or the start of a multipart upload. */
static void send_upload(struct transfer_item *it)
{
	struct storage *s = it->t->storage;
	const struct storage_multipart_ops *mp = s->http->multipart;
	uint64_t part = upload_part_size(it);

	if (!part) {
		queue_request(it, REQ_PUT);
		return;
	}
	it->nparts = (upload_size(it) + part - 1) / part;
	if (!it->mp)
		it->mp = mp->begin(s, it->nparts);
	queue_request(it, REQ_MP_INIT);
}

/*
 * The object's failure (it->failure), once its multipart upload was
 * aborted (`refused` NULL) or the abort failed for `refused`: then the
 * parts stay in storage, and the message says what removes them. An
 * upload given up for the compressed form (it->zc_abandon) goes on
 * compressed instead, with a warning if the abort failed.
 */
static void abort_ended(struct transfer_item *it, const char *refused)
{
	struct storage *s = it->t->storage;
	const char *what;

	if (it->zc_abandon && interrupted) {
		it->zc_abandon = 0;
		strbuf_addstr(&it->failure, "interrupted");
	}
	if (it->zc_abandon) {
		/* given up for the compressed form (switch_to_compressed()) */
		if (refused) {
			if (it->t->progress)
				fputc('\n', stderr);
			warning("the raw upload of '%s' given up for its "
				"compressed form stays in storage, the abort "
				"failed: %s; 'git model prune "
				"--storage-uploads' aborts it",
				it->path, refused);
		}
		it->zc_abandon = 0;
		s->http->multipart->end(it->mp);
		it->mp = NULL;
		free(it->parts);
		it->parts = NULL;
		it->nparts = 0;
		it->attempts = 0;
		strbuf_reset(&it->failure);
		send_compressed(it);
		return;
	}
	what = it->failure.len ? it->failure.buf : "failed";
	if (!refused)
		item_fail(it, "%s (the multipart upload was aborted)", what);
	else
		item_fail(it, "%s (its multipart upload stays in storage, "
			      "the abort failed: %s; 'git model prune "
			      "--storage-uploads' aborts it)",
			  what, refused);
}

/*
 * Try `it` again after a failure that may pass (item_retry()). Out of
 * attempts, the completion of a multipart upload aborts the upload
 * instead, so that storage keeps none of its parts; `why` then starts
 * the object's message. An abort out of attempts ends it (abort_ended()).
 */
static void retry_request(struct transfer_item *it, const char *why)
{
	struct strbuf tried = STRBUF_INIT;

	if ((it->req != REQ_MP_COMPLETE && it->req != REQ_MP_ABORT) ||
	    it->attempts < it->t->retries) {
		item_retry(it, why);
		return;
	}
	it->attempts++;
	strbuf_addf(&tried, "%s (after %d attempt%s)", why, it->attempts,
		    it->attempts == 1 ? "" : "s");
	if (it->req == REQ_MP_ABORT) {
		abort_ended(it, tried.buf);
	} else {
		strbuf_add(&it->failure, tried.buf, tried.len);
		item_close_files(it);
		queue_abort(it);
	}
	strbuf_release(&tried);
}

/* The answer to a step of a multipart upload. */
static void multipart_done(struct transfer *t, struct transfer_item *it,
			   long status)
{
	struct storage *s = t->storage;
	struct transfer_item *obj = it->parent ? it->parent : it;
	struct strbuf why = STRBUF_INIT;
	enum storage_mp_answer a;

	a = s->http->multipart->answer(s, obj->mp, mp_step(it->req),
				       it->part_no, status, it->body.buf,
				       it->etag, &why);
	if (a == STORAGE_MP_FAIL && !why.len)
		describe_status(it, status, &why);
	switch (it->req) {
	case REQ_MP_INIT:
		if (a == STORAGE_MP_OK && interrupted) {
			/* created while we stopped for a signal: abort it */
			strbuf_addstr(&it->failure, "interrupted");
			queue_abort(it);
		} else if (a == STORAGE_MP_OK) {
			start_parts(t, it);
		} else if (a == STORAGE_MP_RETRY) {
			item_retry(it, why.buf);
		} else {
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_PART:
		if (a == STORAGE_MP_OK)
			item_done(it, ST_DONE);
		else if (a == STORAGE_MP_RETRY)
			item_retry(it, why.buf);
		else
			item_fail(it, "%s", why.buf);
		break;
	case REQ_MP_COMPLETE:
		if (a == STORAGE_MP_OK) {
			item_done(it, ST_DONE);
		} else if (a == STORAGE_MP_RETRY) {
			retry_request(it, why.buf);
		} else {
			strbuf_addstr(&it->failure, why.buf);
			queue_abort(it);
		}
		break;
	default:
		/* the upload failed, whatever the answer: say why, and where */
		abort_ended(it, a == STORAGE_MP_OK ? NULL : why.buf);
		break;
	}
	strbuf_release(&why);
}

static void request_done(struct transfer *t, struct transfer_item *it,
			 CURLcode rc)
{
	struct storage *s = t->storage;
	struct strbuf why = STRBUF_INIT;
	long status = 0;
	curl_off_t len = -1;

	curl_easy_getinfo(it->easy, CURLINFO_RESPONSE_CODE, &status);
	if (it->zc_metered) {
		curl_off_t sent = 0;

		/* answered: all it sent has arrived */
		curl_easy_getinfo(it->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
		meter_upload(it, sent, 1);
		transfer_zc_meter_end(t, ZC_METER_UPLOAD, rc == CURLE_OK &&
				      status >= 200 && status < 300);
	}
	it->zc_metered = 0;
	if (rc == CURLE_OK && it->req == REQ_GET && it->gmz &&
	    (it->zc_err.len || it->write_errno))
		/* the decoder failed after the last write (zc_service()) */
		rc = CURLE_WRITE_ERROR;
	if (rc == CURLE_WRITE_ERROR && it->wrong_bytes) {
		/* a retry starts afresh; no half-written file stays */
		unlink(it->incomplete.buf);
		download_mismatch(it, "the server sent more bytes than the "
				      "pointer says (nothing was stored)");
		goto cleanup;
	}
	if (rc == CURLE_WRITE_ERROR && it->zc_err.len && !it->write_errno) {
		/* the decoder refused what storage holds: nothing stays */
		zc_mismatch(it);
		goto cleanup;
	}
	if (rc == CURLE_WRITE_ERROR && it->write_errno) {
		write_failed(it);
		goto cleanup;
	}
	if (rc != CURLE_OK)
		zc_keep_whole_blocks(it);
	if (rc != CURLE_OK) {
		strbuf_addstr(&why, curl_easy_strerror(rc));
		if (it->errbuf[0])
			strbuf_addf(&why, " (%s)", it->errbuf);
		if (http_transient_curl(rc))
			retry_request(it, why.buf);
		else
			item_fail(it, "%s", why.buf);
		goto cleanup;
	}
	if ((status == 401 || status == 403) && s->http->locate &&
	    !it->relocated && !it->parent && it->req != REQ_VERIFY) {
		/* Where storage sent us has expired: ask it anew, once. */
		it->relocated = 1;
		item_close_files(it);
		queue_request(it, it->req);
		goto cleanup;
	}
	if (status == 401 && s->http->unauthorized) {
		if (!s->auth_offered)
			curl_easy_getinfo(it->easy, CURLINFO_HTTPAUTH_AVAIL,
					  &s->auth_offered);
		/* Newer credentials arrived since this request: just retry. */
		if (it->auth_gen == t->auth_gen) {
			/* A password prompt starts on a line of its own. */
			if (!t->auth_failed && t->progress)
				fputc('\n', stderr);
			if (t->auth_failed || s->http->unauthorized(s) < 0) {
				/* One line for the refusal, not one each. */
				it->quiet_fail = t->auth_failed;
				t->auth_failed = 1;
				item_fail(it, "401 Unauthorized");
				goto cleanup;
			}
			t->auth_gen++;
		}
		item_close_files(it);
		queue_request(it, it->req);
		goto cleanup;
	}
	if (status >= 300 && status < 500 && s->http->misdirected &&
	    !it->misdirected && (it->body.len || it->where) &&
	    s->http->misdirected(s, status, it->body.buf, it->where) > 0) {
		/* The storage moved where the answer says: once more there. */
		it->misdirected = 1;
		item_close_files(it);
		queue_request(it, it->req);
		goto cleanup;
	}
	if (status >= 200 && status < 300 && s->http->authorized)
		s->http->authorized(s);
	if (http_transient_status(status)) {
		strbuf_addf(&why, "%ld %s", status,
			    http_reason_phrase(status));
		retry_request(it, why.buf);
		goto cleanup;
	}
	if (status >= 400 && status < 500 && s->http->transient &&
	    it->body.len && s->http->transient(s, status, it->body.buf)) {
		describe_status(it, status, &why);
		retry_request(it, why.buf);
		goto cleanup;
	}

	switch (it->req) {
	case REQ_HEAD:
		curl_easy_getinfo(it->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				  &len);
		if (status == 200 && it->gmz &&
		    (len < 0 || zc_stored_size_possible(it->size, len))) {
			/* its size and sum are not known before it is made */
			it->stored = len > 0 ? (uint64_t)len : 0;
			item_done(it, ST_SKIPPED);
		} else if (status == 200 && it->gmz) {
			/* no container of the object is that long: replace it */
			it->wrong = TRANSFER_WRONG_SIZE;
			queue_upload(it, 0);
		} else if (status == 200 && len == (curl_off_t)it->size &&
		    (!it->checksum ||
		     s->http->checksum_matches(s, it->oid, it->checksum))) {
			/* the size, and the checksum the storage states */
			it->stored = it->size;
			item_done(it, ST_SKIPPED);
		} else if (status == 404 && ask_other_form(it)) {
			break;
		} else if (status == 200 || status == 404) {
			/* absent, or there with the wrong size or sum: upload */
			if (status == 200 && len >= 0)
				it->wrong = len != (curl_off_t)it->size ?
						    TRANSFER_WRONG_SIZE :
						    TRANSFER_WRONG_CHECKSUM;
			queue_upload(it, status == 200);
		} else if (s->http->describe_error && !it->body.len) {
			queue_request(it, REQ_PROBE);
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_PROBE:
		if (t->dir == TRANSFER_CHECK && status >= 200 && status < 300) {
			/* there, but of what size? */
			item_fail(it, "the storage refused HEAD, but not GET");
		} else if (status == 404 && ask_other_form(it)) {
			break;
		} else if ((status >= 200 && status < 300) || status == 404) {
			/* a passing fault: upload (same bytes if it is there) */
			queue_upload(it, 0);
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_PUT:
		if ((status == 200 || status == 201 || status == 204) &&
		    s->http->verify &&
		    s->http->verify(s, it->oid, it->size, &it->rq) > 0) {
			item_close_files(it);
			it->attempts = 0;
			queue_request(it, REQ_VERIFY);
		} else if (status == 200 || status == 201 || status == 204) {
			item_done(it, ST_DONE);
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_VERIFY:
		if (status >= 200 && status < 300) {
			item_done(it, ST_DONE);
		} else {
			describe_status(it, status, &why);
			item_fail(it, "the upload was not verified: %s",
				  why.buf);
		}
		break;
	case REQ_GET:
		if (it->gmz && status == 206 &&
		    it->zc_resume == ZC_RESUME_HEADER) {
			resume_at_block(it);
		} else if (it->gmz && (status == 200 ||
				       (status == 206 &&
					it->zc_resume == ZC_RESUME_BLOCKS))) {
			/* its last blocks decode while others transfer */
			it->stage = ST_DECODING;
			zc_service(it);
		} else if ((status == 200 || status == 206) &&
			   it->have == it->size) {
			if (it->form == FORM_OTHER)
				t->prefer_compressed = 0;
			finish_download(it);
		} else if (status == 200 || status == 206) {
			item_retry(it, "the transfer ended early");
		} else if (status == 416) {
			/* our partial file is not a prefix of theirs */
			if (ftruncate(it->fd, 0) < 0)
				unlink(it->incomplete.buf);
			item_retry(it, "416 Range Not Satisfiable");
		} else if (status == 404 && it->mismatch_why &&
			   it->gmz != it->mismatch_gmz) {
			other_form_failed(it);
		} else if (status == 404 && ask_other_form(it)) {
			break;
		} else {
			if (status == 404) {
				it->fail_kind = FAIL_ABSENT;
				/* neither form: name the object itself */
				it->gmz = 0;
			}
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	default:
		multipart_done(t, it, status);
		break;
	}
cleanup:
	strbuf_release(&why);
}

/*
 * For the test suite only: GIT_MODEL_TEST_MULTI_INIT_FAILS=1 makes
 * curl_multi_init() seem to fail (it only does when memory runs out),
 * so that t0042 can check that a push then fails.
 */
static CURLM *multi_init(void)
{
	const char *v = getenv("GIT_MODEL_TEST_MULTI_INIT_FAILS");

	if (v && !strcmp(v, "1"))
		return NULL;
	return curl_multi_init();
}

static void on_interrupt(int sig)
{
	interrupted = sig;
}

/*
 * Stop for a signal: every request stops and no new one starts, except
 * AbortMultipartUpload for each upload that was started, so nothing is
 * left behind in storage (as `aws s3 cp` does on Ctrl-C). A
 * CreateMultipartUpload in flight runs to its answer: the storage may
 * have created the upload already, and only the answer names it, to
 * abort it (multipart_done()). A compressed download keeps the blocks
 * that came whole, as on a cut connection. Returns how many running
 * requests were stopped.
 */
static size_t stop_for_signal(struct transfer *t, CURLM *multi)
{
	size_t i, stopped = 0;

	for (i = 0; i < t->nr; i++) {
		struct transfer_item *it = t->items[i];

		if (it->stage == ST_RUNNING && it->req == REQ_MP_INIT) {
			it->quiet_fail = 1;
		} else if (it->stage == ST_RUNNING) {
			curl_multi_remove_handle(multi, it->easy);
			/* as a cut connection does: for the next run */
			zc_keep_whole_blocks(it);
			item_close_files(it);
			it->stage = ST_QUEUED;
			stopped++;
		}
	}
	for (i = 0; i < t->nr; i++) {
		struct transfer_item *it = t->items[i];

		if (it->stage != ST_QUEUED || it->req == REQ_MP_ABORT)
			continue;
		it->quiet_fail = 1;
		if (it->mp && it->req == REQ_MP_COMPLETE) {
			strbuf_addstr(&it->failure, "interrupted");
			queue_abort(it);
		} else {
			item_fail(it, "interrupted");
		}
	}
	for (i = 0; i < t->nr; i++)
		if (t->items[i]->req == REQ_MP_ABORT)
			t->items[i]->quiet_fail = 1;
	return stopped;
}

/*
 * Service the compressed downloads (zc_service()): 1 when one of them
 * ended, so that its slot is filled without a poll's wait. `decoding`
 * gets how many are ST_DECODING: they hold their slot of
 * model.concurrency.
 */
static int service_decoders(struct transfer *t, size_t *decoding)
{
	size_t i;
	int ended = 0;

	*decoding = 0;
	for (i = 0; i < t->nr; i++) {
		struct transfer_item *it = t->items[i];

		if (it->req != REQ_GET || !it->gmz || !it->zc_active ||
		    it->fd < 0 || it->zc_resume == ZC_RESUME_HEADER ||
		    (it->stage != ST_RUNNING && it->stage != ST_DECODING))
			continue;
		zc_service(it);
		if (it->stage == ST_DECODING)
			(*decoding)++;
		else if (it->stage != ST_RUNNING)
			ended = 1;
	}
	return ended;
}

int transfer_run_http(struct transfer *t, uint64_t start)
{
	CURLM *multi;
	struct tcp_acked acked = TCP_ACKED_INIT;
	uint64_t last_draw = 0, deadline = 0;
	size_t i, running = 0, decoding = 0, finished = 0;
	struct sigaction sa, old_int, old_term;
	int ret = 0;

	if (http_global_init() < 0)
		return -1;
	multi = multi_init();
	if (!multi)
		return error("cannot start libcurl (curl_multi_init failed)");
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)t->concurrency);
	if (t->storage->http->locate)
		locate_all(t);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C is not waited for */
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	t->multi = multi;
	t->tcp_acked = &acked;
	/*
	 * What was pushed with zstd is kept compressed; what `auto` pushed
	 * may be raw (a fast link): its downloads ask for the raw form
	 * until one finds a .gmz.
	 */
	if (t->dir == TRANSFER_DOWNLOAD &&
	    t->compression == TRANSFER_COMPRESS_ZSTD)
		t->prefer_compressed = 1;
	t->zc_stage = transfer_zc_stage_start(t, wake_multi, multi);
	while (finished < t->top) {
		uint64_t now = transfer_now_ms(), wait = 100;
		CURLMcode mc;
		CURLMsg *msg;
		struct transfer_item *zit;
		int left, still, ended = 0;
		size_t switched;

		while ((zit = transfer_zc_stage_collect(t->zc_stage))) {
			if (zit->zc_fd < 0)
				item_fail(zit, "cannot compress it");
			else
				send_upload(zit);
		}

		if (interrupted && !deadline) {
			running -= stop_for_signal(t, multi);
			deadline = now + INTERRUPT_GRACE_MS;
			finished = t->done + t->skipped + t->failed;
			if (finished >= t->top)
				break;
		}
		if (deadline && now >= deadline)
			break;

		for (i = 0; i < t->nr &&
			    running + decoding +
			    transfer_zc_stage_busy(t->zc_stage) <
			    (size_t)t->concurrency; i++) {
			struct transfer_item *it = t->items[i];

			if (it->stage != ST_QUEUED)
				continue;
			if (deadline && it->req != REQ_MP_ABORT) {
				/* a retry queued since the signal */
				it->quiet_fail = 1;
				item_fail(it, "interrupted");
				continue;
			}
			if (it->not_before > now) {
				if (it->not_before - now < wait)
					wait = it->not_before - now;
				continue;
			}
			if (it->zc_undecided) {
				choose_upload(it, !running &&
						  !transfer_zc_stage_busy(t->zc_stage) &&
						  !transfer_zc_trial_running(t));
				/* the meter's samples come from libcurl's calls */
				if (it->zc_undecided && wait > ZC_UNDECIDED_MS)
					wait = ZC_UNDECIDED_MS;
				if (it->stage != ST_QUEUED || it->zc_undecided)
					continue;
			}
			start_request(t, multi, it);
			if (it->stage == ST_RUNNING)
				running++;
		}
		mc = curl_multi_perform(multi, &still);
		if (mc != CURLM_OK) {
			ret = error("libcurl failed: %s",
				    curl_multi_strerror(mc));
			break;
		}
		while ((msg = curl_multi_info_read(multi, &left))) {
			struct transfer_item *it;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&it);
			curl_multi_remove_handle(multi, msg->easy_handle);
			running--;
			request_done(t, it, msg->data.result);
			ended = 1;
		}
		if (service_decoders(t, &decoding))
			ended = 1;
		switched = switch_to_compressed(t, multi);
		if (switched) {
			running -= switched;
			ended = 1;
		}
		finished = t->done + t->skipped + t->failed;
		if (t->progress && transfer_now_ms() - last_draw >= 250) {
			transfer_draw_progress(t, start, 0);
			last_draw = transfer_now_ms();
		}
		/* A slot came free: fill it now, not after a poll's wait. */
		if (finished < t->top && !ended) {
			mc = curl_multi_poll(multi, NULL, 0, wait, NULL);
			if (mc != CURLM_OK) {
				ret = error("libcurl failed: %s",
					    curl_multi_strerror(mc));
				break;
			}
		}
	}
	transfer_zc_stage_stop(t->zc_stage);
	t->zc_stage = NULL;
	for (i = 0; i < t->nr; i++) {
		struct transfer_item *it = t->items[i];

		if (it->stage == ST_RUNNING) {
			curl_multi_remove_handle(multi, it->easy);
			it->stage = ST_QUEUED;
		} else if (it->stage == ST_DECODING) {
			it->stage = ST_QUEUED;
		}
		/* no decoder's thread wakes the handle once it is gone */
		if (it->zc_active)
			zc_decoder_notify(&it->zc, NULL, NULL);
	}
	curl_multi_cleanup(multi);
	t->multi = NULL;
	t->tcp_acked = NULL;
	tcp_acked_release(&acked);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (interrupted) {
		int aborted = 0;

		for (i = 0; i < t->nr; i++)
			if (t->items[i]->req == REQ_MP_ABORT)
				aborted = 1;
		if (t->progress)
			fputc('\n', stderr);
		if (aborted)
			ret = error("interrupted by signal %d; the multipart "
				    "uploads started were aborted",
				    (int)interrupted);
		else if (t->dir == TRANSFER_DOWNLOAD)
			ret = error("interrupted by signal %d; what came is "
				    "kept, and the next fetch resumes it",
				    (int)interrupted);
		else
			ret = error("interrupted by signal %d", (int)interrupted);
	}
	return ret;
}
