#include "transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hash.h"
#include "human.h"
#include "pointer.h"
#include "usage.h"
#include "workers.h"
#include "wrapper.h"
#include "banned.h"

#define COPY_BLOCK (1024 * 1024)
#define BACKOFF_BASE_MS 250
#define BACKOFF_MAX_MS 10000
#define RETRY_AFTER_MAX_S 60
#define BODY_MAX (64 * 1024)

enum stage {
	ST_QUEUED,  /* waiting for a slot (and for not_before) */
	ST_RUNNING, /* a request is in flight */
	ST_WAITING, /* a multipart upload waiting for its parts */
	ST_DONE,
	ST_SKIPPED, /* upload: storage had it already */
	ST_FAILED,
};

enum request {
	REQ_HEAD,
	REQ_PUT,
	REQ_GET,
	/* multipart uploads (S3) */
	REQ_MP_INIT,     /* POST ?uploads= */
	REQ_PART,        /* PUT ?partNumber=N&uploadId=ID */
	REQ_MP_COMPLETE, /* POST ?uploadId=ID with the parts' ETags */
	REQ_MP_ABORT,    /* DELETE ?uploadId=ID */
	/*
	 * A HEAD that failed has no body to explain it; S3 puts the reason
	 * (SignatureDoesNotMatch, AccessDenied...) in one: ask again with a
	 * one-byte GET to read it.
	 */
	REQ_PROBE,
};

struct transfer_item {
	struct transfer *t;
	char oid[OID_HEXSZ + 1];
	uint64_t size;
	char *path;
	enum stage stage;
	enum request req;
	int attempts;        /* failed attempts so far */
	uint64_t not_before; /* ms clock: backoff */
	int auth_gen;        /* credentials generation the request used */

	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	long retry_after;   /* seconds, from the response */
	struct strbuf body; /* a response that is not content, capped */

	/* downloads */
	int fd;
	struct strbuf incomplete;
	struct hash hash;
	uint64_t have;  /* bytes in the incomplete file */
	int status_checked;
	int wrong_bytes;
	int write_errno; /* writing the partial file failed */

	/* uploads */
	int in_fd;

	/*
	 * Multipart uploads: the object's item waits (ST_WAITING) while its
	 * parts, items of their own, run; then it completes or aborts.
	 */
	struct transfer_item *parent; /* set on parts */
	int part_no;
	uint64_t offset, length, sent;
	char part_sha[HASH_HEXSZ + 1];
	char *etag;
	char *upload_id;
	struct transfer_item **parts;
	size_t nparts, parts_done, parts_failed;
	struct strbuf failure; /* why the upload failed, for the message */
	struct strbuf post;    /* the body of a POST */

	uint64_t progress_now; /* bytes of the current request */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int transfer_init(struct transfer *t, enum transfer_dir dir,
		  struct storage *s, struct store *store, const struct repo *r,
		  int progress, int quiet)
{
	long v;

	memset(t, 0, sizeof(*t));
	t->dir = dir;
	t->storage = s;
	t->store = store;
	if (config_get_int(r, "model.concurrency", 8, &v) < 0)
		return -1;
	if (v < 1 || v > 256)
		return error("model.concurrency must be 1 to 256, not %ld", v);
	t->concurrency = v;
	if (config_get_int(r, "model.retries", 5, &v) < 0)
		return -1;
	if (v < 0 || v > 100)
		return error("model.retries must be 0 to 100, not %ld", v);
	t->retries = v;
	t->quiet = quiet;
	t->progress = progress < 0 ? isatty(2) && !quiet : progress;
	return 0;
}

void transfer_add(struct transfer *t, const char *oid, uint64_t size,
		  const char *path)
{
	struct transfer_item *it = xcalloc(1, sizeof(*it));

	it->t = t;
	memcpy(it->oid, oid, OID_HEXSZ);
	it->size = size;
	it->path = xstrdup(path);
	it->fd = it->in_fd = -1;
	it->req = t->dir == TRANSFER_DOWNLOAD ? REQ_GET : REQ_HEAD;
	strbuf_init(&it->incomplete, 0);
	strbuf_init(&it->body, 0);
	strbuf_init(&it->failure, 0);
	strbuf_init(&it->post, 0);
	ALLOC_GROW(t->items, t->nr + 1, t->alloc);
	t->items[t->nr++] = it;
	t->top++;
	t->bytes_total += size;
}

static void item_close_files(struct transfer_item *it)
{
	if (it->fd >= 0)
		close(it->fd); /* also drops the flock */
	if (it->in_fd >= 0)
		close(it->in_fd);
	it->fd = it->in_fd = -1;
	hash_release(&it->hash);
}

static void item_free(struct transfer_item *it)
{
	item_close_files(it);
	if (it->easy)
		curl_easy_cleanup(it->easy);
	curl_slist_free_all(it->headers);
	strbuf_release(&it->incomplete);
	strbuf_release(&it->body);
	strbuf_release(&it->failure);
	strbuf_release(&it->post);
	free(it->etag);
	free(it->upload_id);
	free(it->parts);
	free(it->path);
	free(it);
}

int transfer_has(const struct transfer *t, size_t i)
{
	if (t->dir != TRANSFER_CHECK || i >= t->top)
		BUG("transfer_has() on an item that was not checked");
	switch (t->items[i]->stage) {
	case ST_SKIPPED: return 1;
	case ST_DONE: return 0;
	default: return -1;
	}
}

void transfer_release(struct transfer *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		item_free(t->items[i]);
	free(t->items);
	t->items = NULL;
	t->nr = t->alloc = 0;
}

static const char *verb(const struct transfer *t)
{
	return t->dir == TRANSFER_UPLOAD ? "upload" :
	       t->dir == TRANSFER_CHECK  ? "check" :
					   "download";
}

static const char *preposition(const struct transfer *t)
{
	return t->dir == TRANSFER_UPLOAD ? "to" :
	       t->dir == TRANSFER_CHECK  ? "in" :
					   "from";
}

static const char *reason_phrase(long status)
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

static int transient_status(long status)
{
	return status == 408 || status == 429 || status == 500 ||
	       status == 502 || status == 503 || status == 504;
}

static int transient_curl(CURLcode rc)
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

/* One line: "error: cannot upload 'x' to 'url': reason". */
static void item_fail(struct transfer_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void part_finished(struct transfer_item *part);

static void results_lock(struct transfer *t)
{
	if (t->results_lock)
		pthread_mutex_lock(t->results_lock);
}

static void results_unlock(struct transfer *t)
{
	if (t->results_lock)
		pthread_mutex_unlock(t->results_lock);
}

static void item_fail(struct transfer_item *it, const char *fmt, ...)
{
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
	struct storage *s = it->t->storage;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&why, fmt, ap);
	va_end(ap);
	if (it->parent) {
		/* The object's item reports it, once, after aborting. */
		if (!it->parent->failure.len)
			strbuf_addf(&it->parent->failure, "part %d: %s",
				    it->part_no, why.buf);
		it->stage = ST_FAILED;
		item_close_files(it);
		part_finished(it);
		strbuf_release(&why);
		return;
	}
	if (s->ops->object_url)
		s->ops->object_url(s, it->oid, NULL, &url);
	else
		strbuf_addstr(&url, s->display);
	results_lock(it->t);
	if (it->t->progress)
		fputc('\n', stderr);
	error("cannot %s '%s' %s '%s': %s", verb(it->t), it->path,
	      preposition(it->t), url.buf, why.buf);
	it->stage = ST_FAILED;
	it->t->failed++;
	results_unlock(it->t);
	item_close_files(it);
	strbuf_release(&url);
	strbuf_release(&why);
}

static void item_done(struct transfer_item *it, enum stage how)
{
	it->stage = how;
	item_close_files(it);
	if (it->parent) {
		part_finished(it);
		return;
	}
	results_lock(it->t);
	if (how == ST_SKIPPED)
		it->t->skipped++;
	else
		it->t->done++;
	it->t->bytes_done += it->size;
	results_unlock(it->t);
	it->progress_now = 0;
}

/* Queue a retry after backoff, or fail when out of attempts. */
/* How often to look whether another process finished a download. */
#define BUSY_WAIT_MS 200

static void item_retry(struct transfer_item *it, const char *why)
{
	uint64_t delay;

	if (it->attempts++ >= it->t->retries) {
		item_fail(it, "%s (after %d attempt%s)", why, it->attempts,
			  it->attempts == 1 ? "" : "s");
		return;
	}
	delay = (uint64_t)BACKOFF_BASE_MS << (it->attempts - 1);
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* jitter: between half and one and a half times the delay */
	delay = delay / 2 + (uint64_t)rand() % (delay + 1);
	if (it->retry_after > 0)
		delay = (uint64_t)(it->retry_after < RETRY_AFTER_MAX_S ?
					   it->retry_after :
					   RETRY_AFTER_MAX_S) *
			1000;
	it->not_before = now_ms() + delay;
	it->stage = ST_QUEUED;
	it->progress_now = 0;
	item_close_files(it);
}

/* libcurl callbacks */

static size_t header_cb(char *buf, size_t size, size_t n, void *data)
{
	struct transfer_item *it = data;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(buf, "Retry-After:", 12)) {
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
		it->etag = xstrndup(v, end - v);
	}
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
	if (!it->status_checked) {
		it->status_checked = 1;
		if (status == 200 && it->have) {
			/* the server ignored our Range: start over */
			if (ftruncate(it->fd, 0) < 0 ||
			    lseek(it->fd, 0, SEEK_SET) < 0)
				return 0;
			it->have = 0;
			hash_start(&it->hash);
		}
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
	got = xread(it->in_fd, buf, want);
	if (got < 0)
		return CURL_READFUNC_ABORT;
	it->sent += got;
	return got;
}

static int progress_cb(void *data, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer_item *it = data;

	if (it->req == REQ_PUT || it->req == REQ_PART)
		it->progress_now = ulnow;
	return 0;
}

/* Open (or resume) the incomplete file of a download. 0, 1 busy, -1. */
static int open_incomplete(struct transfer_item *it)
{
	struct stat st;
	char *buf;
	uint64_t left;

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
	hash_start(&it->hash);
	if (it->have > it->size) {
		if (ftruncate(it->fd, 0) < 0)
			return error_errno("cannot truncate '%s'",
					   it->incomplete.buf);
		it->have = 0;
	}
	/* What an earlier attempt wrote is hashed before we add to it. */
	buf = xmalloc(COPY_BLOCK);
	for (left = it->have; left;) {
		ssize_t n = xread(it->fd, buf, left < COPY_BLOCK ? left :
								   COPY_BLOCK);

		if (n <= 0) {
			free(buf);
			return error_errno("cannot read '%s'",
					   it->incomplete.buf);
		}
		hash_update(&it->hash, buf, n);
		left -= n;
	}
	free(buf);
	if (lseek(it->fd, it->have, SEEK_SET) < 0)
		return error_errno("cannot seek '%s'", it->incomplete.buf);
	return 0;
}

/* The download is complete: verify and move it into the store. */
static void finish_download(struct transfer_item *it)
{
	char got[HASH_HEXSZ + 1];
	int fd = it->fd;

	hash_finish(&it->hash, got);
	if (strcmp(got, it->oid)) {
		/* Wrong bytes: never kept, and perhaps right next time. */
		if (ftruncate(it->fd, 0) < 0)
			unlink(it->incomplete.buf);
		item_retry(it, "the bytes do not match the object id (nothing "
			       "was stored)");
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

/* The canonical query of a request (keys sorted, values encoded). */
static void request_query(struct transfer_item *it, struct strbuf *q)
{
	const char *id = it->parent ? it->parent->upload_id : it->upload_id;
	const char *p;

	switch (it->req) {
	case REQ_MP_INIT:
		strbuf_addstr(q, "uploads=");
		return;
	case REQ_PART:
		strbuf_addf(q, "partNumber=%d&", it->part_no);
		break;
	case REQ_MP_COMPLETE:
	case REQ_MP_ABORT:
		break;
	default:
		return;
	}
	strbuf_addstr(q, "uploadId=");
	for (p = id; *p; p++) {
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			strbuf_addch(q, c);
		else
			strbuf_addf(q, "%%%02X", c);
	}
}

static int start_request(struct transfer *t, CURLM *multi,
			 struct transfer_item *it)
{
	struct storage *s = t->storage;
	struct strbuf url = STRBUF_INIT, query = STRBUF_INIT;
	struct storage_request rq = { "GET", NULL };
	int ret = -1;

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
	it->errbuf[0] = '\0';
	strbuf_reset(&it->body);

	if (it->req == REQ_GET) {
		int busy;

		/* Another process may have brought it while we waited. */
		if (store_has(it->t->store, it->oid, it->size)) {
			item_done(it, ST_SKIPPED);
			ret = 0;
			goto cleanup;
		}
		busy = open_incomplete(it);
		if (busy < 0) {
			item_fail(it, "cannot write into the local store");
			goto cleanup;
		}
		if (busy) {
			/*
			 * Another process is downloading it: wait for it,
			 * however long a big object takes. That is not a
			 * failed attempt (its lock goes when it exits).
			 */
			item_close_files(it);
			it->not_before = now_ms() + BUSY_WAIT_MS;
			it->stage = ST_QUEUED;
			ret = 0;
			goto cleanup;
		}
		if (store_has(it->t->store, it->oid, it->size)) {
			unlink(it->incomplete.buf);
			item_done(it, ST_SKIPPED);
			ret = 0;
			goto cleanup;
		}
		if (it->have == it->size) {
			finish_download(it);
			ret = 0;
			goto cleanup;
		}
	} else if (it->req == REQ_PUT || it->req == REQ_PART) {
		it->in_fd = store_open(t->store, it->oid, it->size);
		if (it->in_fd < 0) {
			item_fail(it, "the weights are not in the local store");
			goto cleanup;
		}
		it->sent = 0;
		if (it->req == REQ_PART &&
		    ((!it->part_sha[0] && hash_part(it) < 0) ||
		     lseek(it->in_fd, it->offset, SEEK_SET) < 0)) {
			item_fail(it, "cannot read the local object");
			goto cleanup;
		}
	}

	request_query(it, &query);
	s->ops->object_url(s, it->oid, query.len ? query.buf : NULL, &url);
	curl_easy_setopt(it->easy, CURLOPT_URL, url.buf);
	curl_easy_setopt(it->easy, CURLOPT_PRIVATE, it);
	curl_easy_setopt(it->easy, CURLOPT_ERRORBUFFER, it->errbuf);
	curl_easy_setopt(it->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(it->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(it->easy, CURLOPT_HEADERDATA, it);
	curl_easy_setopt(it->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(it->easy, CURLOPT_WRITEDATA, it);
	curl_easy_setopt(it->easy, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(it->easy, CURLOPT_XFERINFODATA, it);
	curl_easy_setopt(it->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(it->easy, CURLOPT_BUFFERSIZE, 512L * 1024);
	switch (it->req) {
	case REQ_HEAD:
		rq.method = "HEAD";
		curl_easy_setopt(it->easy, CURLOPT_NOBODY, 1L);
		break;
	case REQ_PROBE:
		curl_easy_setopt(it->easy, CURLOPT_RANGE, "0-0");
		break;
	case REQ_PUT:
	case REQ_PART:
		rq.method = "PUT";
		rq.payload_sha256 = it->req == REQ_PUT ? it->oid :
							   it->part_sha;
		curl_easy_setopt(it->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(it->easy, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(it->req == REQ_PUT ? it->size :
								  it->length));
		curl_easy_setopt(it->easy, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(it->easy, CURLOPT_READDATA, it);
		curl_easy_setopt(it->easy, CURLOPT_UPLOAD_BUFFERSIZE,
				 512L * 1024);
		break;
	case REQ_GET:
		if (it->have)
			curl_easy_setopt(it->easy, CURLOPT_RESUME_FROM_LARGE,
					 (curl_off_t)it->have);
		break;
	case REQ_MP_INIT:
	case REQ_MP_COMPLETE:
		rq.method = "POST";
		if (it->req == REQ_MP_INIT)
			strbuf_reset(&it->post);
		else
			rq.payload_sha256 = it->part_sha;
		curl_easy_setopt(it->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDS, it->post.buf);
		curl_easy_setopt(it->easy, CURLOPT_POSTFIELDSIZE,
				 (long)it->post.len);
		/*
		 * An explicit type: without one, libcurl 7.88 signs the
		 * form type it would add, so the signature must match it.
		 */
		it->headers = curl_slist_append(it->headers,
						"Content-Type: application/xml");
		break;
	case REQ_MP_ABORT:
		rq.method = "DELETE";
		curl_easy_setopt(it->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	}
	if (s->ops->prepare(s, it->easy, &it->headers, &rq) < 0) {
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
	ret = 0;
cleanup:
	strbuf_release(&url);
	strbuf_release(&query);
	return ret;
}

/* The text of <tag>...</tag> in a response, if any. */
static int xml_value(const char *body, const char *tag, struct strbuf *out)
{
	struct strbuf open = STRBUF_INIT, close = STRBUF_INIT;
	const char *a, *b = NULL;

	strbuf_addf(&open, "<%s>", tag);
	strbuf_addf(&close, "</%s>", tag);
	a = strstr(body, open.buf);
	if (a)
		b = strstr(a + open.len, close.buf);
	if (b)
		strbuf_add(out, a + open.len, b - a - open.len);
	strbuf_release(&open);
	strbuf_release(&close);
	return b != NULL;
}

/* CreateMultipartUpload answered: queue the parts. */
static void start_parts(struct transfer *t, struct transfer_item *it,
			uint64_t part_size)
{
	struct strbuf id = STRBUF_INIT;
	uint64_t off;
	size_t n = (it->size + part_size - 1) / part_size, i;

	if (!xml_value(it->body.buf, "UploadId", &id) || !id.len ||
	    id.len > 1024) {
		strbuf_release(&id);
		item_fail(it, "the storage did not start a multipart upload");
		return;
	}
	it->upload_id = strbuf_detach(&id, NULL);
	it->parts = xcalloc(n, sizeof(*it->parts));
	it->nparts = n;
	it->parts_done = it->parts_failed = 0;
	for (i = 0, off = 0; i < n; i++, off += part_size) {
		struct transfer_item *p = xcalloc(1, sizeof(*p));

		p->t = t;
		p->parent = it;
		memcpy(p->oid, it->oid, sizeof(p->oid));
		p->size = it->size;
		p->path = xstrdup(it->path);
		p->fd = p->in_fd = -1;
		p->req = REQ_PART;
		p->part_no = i + 1;
		p->offset = off;
		p->length = it->size - off < part_size ? it->size - off :
							 part_size;
		strbuf_init(&p->incomplete, 0);
		strbuf_init(&p->body, 0);
		strbuf_init(&p->failure, 0);
		strbuf_init(&p->post, 0);
		it->parts[i] = p;
		ALLOC_GROW(t->items, t->nr + 1, t->alloc);
		t->items[t->nr++] = p;
	}
	it->stage = ST_WAITING;
}

/* A part ended (done or failed): complete or abort when all have. */
static void part_finished(struct transfer_item *part)
{
	struct transfer_item *it = part->parent;
	struct hash h = HASH_INIT;
	size_t i;

	if (part->stage == ST_DONE) {
		it->parts_done++;
		it->progress_now += part->length;
	} else {
		it->parts_failed++;
	}
	if (it->parts_done + it->parts_failed < it->nparts)
		return;
	strbuf_reset(&it->post);
	if (it->parts_failed) {
		it->req = REQ_MP_ABORT;
	} else {
		it->req = REQ_MP_COMPLETE;
		strbuf_addstr(&it->post, "<CompleteMultipartUpload>");
		for (i = 0; i < it->nparts; i++)
			strbuf_addf(&it->post,
				    "<Part><PartNumber>%d</PartNumber>"
				    "<ETag>%s</ETag></Part>",
				    it->parts[i]->part_no,
				    it->parts[i]->etag ? it->parts[i]->etag :
							 "");
		strbuf_addstr(&it->post, "</CompleteMultipartUpload>");
		hash_start(&h);
		hash_update(&h, it->post.buf, it->post.len);
		hash_finish(&h, it->part_sha);
	}
	it->stage = ST_QUEUED;
	it->not_before = 0;
	it->attempts = 0;
}

/* "404 Not Found", with what the body says when it is short text. */
static void describe_status(struct transfer_item *it, long status,
			    struct strbuf *out)
{
	struct storage *s = it->t->storage;
	size_t i, n = strcspn(it->body.buf, "\r\n");

	if (s->ops->describe_error && it->body.len) {
		s->ops->describe_error(s, status, it->body.buf, out);
		return;
	}
	strbuf_addf(out, "%ld %s", status, reason_phrase(status));
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

/* Run `req` next for this item, as soon as a slot is free. */
static void queue_request(struct transfer_item *it, enum request req)
{
	it->req = req;
	it->stage = ST_QUEUED;
	it->not_before = 0;
}

/*
 * The object is not in storage: a PUT, or a multipart upload when big.
 * A check only notes it (ST_DONE: asked and absent; ST_SKIPPED: there).
 */
static void queue_upload(struct transfer_item *it)
{
	struct storage *s = it->t->storage;

	if (it->t->dir == TRANSFER_CHECK) {
		item_done(it, ST_DONE);
		return;
	}
	queue_request(it, s->ops->part_size && s->ops->part_size(s, it->size) ?
				  REQ_MP_INIT :
				  REQ_PUT);
}

static void request_done(struct transfer *t, struct transfer_item *it,
			 CURLcode rc)
{
	struct storage *s = t->storage;
	struct strbuf why = STRBUF_INIT;
	long status = 0;
	curl_off_t len = -1;

	curl_easy_getinfo(it->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && it->wrong_bytes) {
		if (ftruncate(it->fd, 0) < 0)
			unlink(it->incomplete.buf);
		item_retry(it, "the server sent more bytes than the pointer "
			       "says (nothing was stored)");
		goto cleanup;
	}
	if (rc == CURLE_WRITE_ERROR && it->write_errno) {
		/* A full disk is not the network's fault: no retry. */
		item_fail(it, "cannot write '%s': %s", it->incomplete.buf,
			  strerror(it->write_errno));
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		strbuf_addstr(&why, curl_easy_strerror(rc));
		if (it->errbuf[0])
			strbuf_addf(&why, " (%s)", it->errbuf);
		if (transient_curl(rc))
			item_retry(it, why.buf);
		else
			item_fail(it, "%s", why.buf);
		goto cleanup;
	}
	if (status == 401 && s->ops->unauthorized) {
		/* Newer credentials arrived since this request: just retry. */
		if (it->auth_gen == t->auth_gen) {
			if (t->auth_failed || s->ops->unauthorized(s) < 0) {
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
	if (status >= 200 && status < 300 && s->ops->authorized)
		s->ops->authorized(s);
	if (transient_status(status)) {
		strbuf_addf(&why, "%ld %s", status, reason_phrase(status));
		item_retry(it, why.buf);
		goto cleanup;
	}

	switch (it->req) {
	case REQ_HEAD:
		curl_easy_getinfo(it->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				  &len);
		if (status == 200 && len == (curl_off_t)it->size) {
			item_done(it, ST_SKIPPED);
		} else if (status == 200 || status == 404) {
			/* absent, or there with the wrong size: upload */
			queue_upload(it);
		} else if (s->ops->describe_error && !it->body.len) {
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
		} else if ((status >= 200 && status < 300) || status == 404) {
			/* a passing fault: upload (same bytes if it is there) */
			queue_upload(it);
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_PUT:
	case REQ_PART:
		if ((status == 200 || status == 201 || status == 204) &&
		    (it->req == REQ_PUT || it->etag)) {
			item_done(it, ST_DONE);
		} else if (status >= 200 && status < 300) {
			item_fail(it, "the storage sent no ETag for the part");
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_GET:
		if ((status == 200 || status == 206) && it->have == it->size) {
			finish_download(it);
		} else if (status == 200 || status == 206) {
			item_retry(it, "the transfer ended early");
		} else if (status == 416) {
			/* our partial file is not a prefix of theirs */
			if (ftruncate(it->fd, 0) < 0)
				unlink(it->incomplete.buf);
			item_retry(it, "416 Range Not Satisfiable");
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_MP_INIT:
		if (status == 200) {
			start_parts(t, it, s->ops->part_size(s, it->size));
		} else {
			describe_status(it, status, &why);
			item_fail(it, "%s", why.buf);
		}
		break;
	case REQ_MP_COMPLETE:
		/* S3 may answer 200 with an <Error> in the body: retry */
		if (status == 200 && !strstr(it->body.buf, "<Error>")) {
			item_done(it, ST_DONE);
		} else if (status == 200) {
			item_retry(it, "the storage could not complete the "
				       "multipart upload");
		} else {
			describe_status(it, status, &it->failure);
			queue_request(it, REQ_MP_ABORT);
		}
		break;
	case REQ_MP_ABORT:
		/* whatever the answer: the upload failed, say why */
		item_fail(it, "%s (the multipart upload was aborted)",
			  it->failure.len ? it->failure.buf : "failed");
		break;
	}
cleanup:
	strbuf_release(&why);
}

static void draw_progress(struct transfer *t, uint64_t start, int last)
{
	struct strbuf size = STRBUF_INIT, rate = STRBUF_INIT;
	uint64_t bytes = t->bytes_done, elapsed = now_ms() - start;
	size_t i, finished = t->done + t->skipped + t->failed;

	for (i = 0; i < t->nr; i++)
		if (t->items[i]->stage == ST_RUNNING ||
		    t->items[i]->stage == ST_WAITING)
			bytes += t->items[i]->progress_now;
	human_size(bytes, &size);
	human_size(elapsed ? bytes * 1000 / elapsed : 0, &rate);
	fprintf(stderr, "\r%s weights: %3d%% (%zu/%zu), %s | %s/s%s",
		t->dir == TRANSFER_UPLOAD ? "Uploading" :
		t->dir == TRANSFER_CHECK  ? "Checking" :
					    "Downloading",
		t->top ? (int)(finished * 100 / t->top) : 100, finished, t->top,
		size.buf, rate.buf, last ? ", done.\n" : "   ");
	fflush(stderr);
	strbuf_release(&size);
	strbuf_release(&rate);
}

/* Backends without HTTP: their own calls, one object at a time. */
static void run_sync(struct transfer *t, struct transfer_item *it)
{
	struct storage *s = t->storage;
	struct store_writer w = STORE_WRITER_INIT;
	int res, fd;

	if (t->dir != TRANSFER_DOWNLOAD) {
		res = s->ops->exists(s, it->oid, it->size);
		if (res > 0) {
			item_done(it, ST_SKIPPED);
			return;
		}
		if (res < 0) {
			item_fail(it, "cannot check the storage");
			return;
		}
		if (t->dir == TRANSFER_CHECK) {
			item_done(it, ST_DONE);
			return;
		}
		fd = store_open(t->store, it->oid, it->size);
		if (fd < 0) {
			item_fail(it, "the weights are not in the local store");
			return;
		}
		res = s->ops->put(s, it->oid, it->size, fd);
		close(fd);
		if (res < 0)
			item_fail(it, "the copy failed");
		else
			item_done(it, ST_DONE);
		return;
	}
	if (s->ops->clone_get) {
		res = s->ops->clone_get(s, it->oid, it->size, t->store);
		if (res > 0) {
			item_done(it, ST_DONE);
			return;
		}
		if (res < 0) {
			item_fail(it, "the bytes do not match the object id "
				      "(nothing was stored)");
			return;
		}
	}
	if (store_writer_start(&w, t->store) < 0 ||
	    s->ops->get(s, it->oid, it->size, &w) < 0) {
		store_writer_abort(&w);
		item_fail(it, "the copy failed");
		return;
	}
	if (w.size != it->size) {
		store_writer_abort(&w);
		item_fail(it, "it has %llu bytes, its pointer says %llu",
			  (unsigned long long)w.size,
			  (unsigned long long)it->size);
		return;
	}
	if (store_writer_commit(&w, it->oid, NULL, NULL) < 0) {
		/* store.c said why: a mismatch, or the disk */
		item_fail(it, "nothing was stored");
		return;
	}
	item_done(it, ST_DONE);
}

static size_t run_multi(struct transfer *t, uint64_t start)
{
	CURLM *multi = curl_multi_init();
	uint64_t last_draw = 0;
	size_t i, running = 0, finished = 0;

	if (!multi) {
		error("cannot start libcurl");
		return t->nr;
	}
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)t->concurrency);
	while (finished < t->top) {
		uint64_t now = now_ms(), wait = 100;
		CURLMsg *msg;
		int left, still, ended = 0;

		for (i = 0; i < t->nr && running < (size_t)t->concurrency; i++) {
			struct transfer_item *it = t->items[i];

			if (it->stage != ST_QUEUED)
				continue;
			if (it->not_before > now) {
				if (it->not_before - now < wait)
					wait = it->not_before - now;
				continue;
			}
			start_request(t, multi, it);
			if (it->stage == ST_RUNNING)
				running++;
		}
		curl_multi_perform(multi, &still);
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
		finished = t->done + t->skipped + t->failed;
		if (t->progress && now_ms() - last_draw >= 250) {
			draw_progress(t, start, 0);
			last_draw = now_ms();
		}
		/* A slot came free: fill it now, not after a poll's wait. */
		if (finished < t->top && !ended)
			curl_multi_poll(multi, NULL, 0, wait, NULL);
	}
	curl_multi_cleanup(multi);
	return t->failed;
}

/*
 * A backend without HTTP whose calls may run in threads (a directory):
 * a few workers, so that hashing, which is most of a local copy, runs on
 * every core. Not more workers than cores: each holds a store writer's
 * buffers, and more would only take turns.
 */
struct sync_run {
	struct transfer *t;
	uint64_t start;
	pthread_mutex_t lock; /* the results (t->results_lock) */
};

static void sync_one(void *data, size_t i)
{
	struct sync_run *run = data;

	run_sync(run->t, run->t->items[i]);
	if (run->t->progress) {
		pthread_mutex_lock(&run->lock);
		draw_progress(run->t, run->start, 0);
		pthread_mutex_unlock(&run->lock);
	}
}

static void run_sync_all(struct transfer *t, uint64_t start)
{
	struct sync_run run = { t, start, PTHREAD_MUTEX_INITIALIZER };

	t->results_lock = &run.lock;
	run_on_cores(t->nr, t->storage->ops->threads_ok ? t->concurrency : 1,
		     sync_one, &run);
	t->results_lock = NULL;
	pthread_mutex_destroy(&run.lock);
}

size_t transfer_run(struct transfer *t)
{
	uint64_t start = now_ms();

	if (!t->nr)
		return 0;
	srand((unsigned)(start ^ getpid()));
	if (t->storage->ops->object_url) {
		run_multi(t, start);
	} else {
		run_sync_all(t, start);
	}
	if (t->progress)
		draw_progress(t, start, 1);
	return t->failed;
}
