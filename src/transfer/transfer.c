#include "transfer-internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "human.h"
#include "loan.h"
#include "tensor-tap.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_MAX_MS 10000
#define RETRY_AFTER_MAX_S 60

uint64_t transfer_now_ms(void)
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
	if (transfer_compression_config(t, r) < 0)
		return -1;
	t->quiet = quiet;
	t->progress = progress < 0 ? isatty(2) && !quiet : progress;
	return 0;
}

struct transfer_item *transfer_item_new(struct transfer *t, const char *oid,
					uint64_t size, const char *path)
{
	struct transfer_item *it = xcalloc(1, sizeof(*it));

	it->t = t;
	memcpy(it->oid, oid, OID_HEXSZ);
	it->size = size;
	it->path = xstrdup(path);
	it->fd = it->in_fd = it->zc_fd = -1;
	strbuf_init(&it->rq.query, 0);
	strbuf_init(&it->rq.body, 0);
	strbuf_init(&it->incomplete, 0);
	strbuf_init(&it->body, 0);
	strbuf_init(&it->failure, 0);
	strbuf_init(&it->zc_err, 0);
	strbuf_init(&it->zc_head, 0);
	strbuf_init(&it->zc_held, 0);
	return it;
}

void transfer_item_queue(struct transfer *t, struct transfer_item *it)
{
	ALLOC_GROW(t->items, t->nr + 1, t->alloc);
	t->items[t->nr++] = it;
}

void transfer_add(struct transfer *t, const char *oid, uint64_t size,
		  const char *path)
{
	struct transfer_item *it = transfer_item_new(t, oid, size, path);

	it->req = t->dir == TRANSFER_DOWNLOAD ? REQ_GET : REQ_HEAD;
	transfer_item_queue(t, it);
	t->top++;
	t->bytes_total += size;
}

void item_tap_start(struct transfer_item *it)
{
	struct transfer *t = it->t;

	tensor_tap_finish(it->tap, t->store, NULL);
	it->tap = NULL;
	if (t->dir == TRANSFER_DOWNLOAD && t->store && !t->foreign)
		it->tap = tensor_tap_new(it->size);
}

/* The tap's hashes are cached for an object now in the store. */
static void item_tap_end(struct transfer_item *it, int stored)
{
	tensor_tap_finish(it->tap, it->t->store, stored ? it->oid : NULL);
	it->tap = NULL;
}

void item_close_files(struct transfer_item *it)
{
	item_tap_end(it, 0);
	/* an empty partial download tells a later run nothing: not kept */
	if (it->fd >= 0 && !it->have && it->incomplete.len)
		unlink(it->incomplete.buf);
	if (it->fd >= 0)
		close(it->fd); /* also drops the flock */
	if (it->in_fd >= 0)
		close(it->in_fd);
	it->fd = it->in_fd = -1;
	hash_release(&it->hash);
}

/* An object's item has ended: its compressed upload is not sent again. */
static void item_close_spool(struct transfer_item *it)
{
	if (it->zc_fd >= 0)
		close(it->zc_fd);
	it->zc_fd = -1;
}

static void item_free(struct transfer *t, struct transfer_item *it)
{
	const struct storage_http_ops *http = t->storage->http;

	item_close_files(it);
	if (it->easy)
		curl_easy_cleanup(it->easy);
	curl_slist_free_all(it->headers);
	storage_request_release(&it->rq);
	if (it->mp)
		http->multipart->end(it->mp);
	strbuf_release(&it->incomplete);
	strbuf_release(&it->body);
	strbuf_release(&it->failure);
	strbuf_release(&it->zc_err);
	strbuf_release(&it->zc_head);
	strbuf_release(&it->zc_held);
	if (it->zc_active)
		zc_decoder_release(&it->zc);
	item_close_spool(it);
	free(it->mismatch_why);
	free(it->etag);
	free(it->checksum);
	free(it->where);
	free(it->parts);
	free(it->path);
	free(it);
}

enum transfer_wrong transfer_wrong(const struct transfer *t, size_t i)
{
	if (t->dir != TRANSFER_CHECK || i >= t->top)
		BUG("transfer_wrong() on an item that was not checked");
	return t->items[i]->stage == ST_DONE ? t->items[i]->wrong :
					       TRANSFER_NOT_WRONG;
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

enum transfer_form transfer_found(const struct transfer *t, size_t i,
				  uint64_t *stored)
{
	if (transfer_has(t, i) != 1)
		BUG("transfer_found() of an object storage does not have");
	*stored = t->items[i]->stored;
	return t->items[i]->gmz ? TRANSFER_FORM_COMPRESSED : TRANSFER_FORM_RAW;
}

void transfer_download_advice(const struct transfer *t, const char *where,
			      const char *again)
{
	size_t other = t->failed - t->failed_absent - t->failed_mismatch;

	if (t->failed_absent)
		error("%zu file(s) are not in storage '%s' (run 'git model "
		      "push --all' in a clone that has them)",
		      t->failed_absent, where);
	if (t->failed_mismatch)
		error("%zu file(s) have wrong bytes in storage '%s': the "
		      "copies there are damaged (delete them there, then run "
		      "'git model push --all' in a clone that has them)",
		      t->failed_mismatch, where);
	if (other)
		error("%zu file(s) could not be downloaded; run '%s' again "
		      "once the storage is reachable",
		      other, again);
}

void transfer_release(struct transfer *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		item_free(t, t->items[i]);
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

void item_fail(struct transfer_item *it, const char *fmt, ...)
{
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
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
		transfer_part_ended(it);
		strbuf_release(&why);
		return;
	}
	storage_object_location(it->t->storage, it->oid, &url);
	if (it->gmz)
		strbuf_addstr(&url, ".gmz");
	results_lock(it->t);
	if (!it->quiet_fail) {
		if (it->t->progress)
			fputc('\n', stderr);
		error("cannot %s '%s' %s '%s': %s", verb(it->t), it->path,
		      preposition(it->t), url.buf, why.buf);
	}
	it->stage = ST_FAILED;
	it->progress_now = 0;
	it->t->failed++;
	if (it->fail_kind == FAIL_ABSENT)
		it->t->failed_absent++;
	else if (it->fail_kind == FAIL_MISMATCH)
		it->t->failed_mismatch++;
	results_unlock(it->t);
	item_close_files(it);
	item_close_spool(it);
	strbuf_release(&url);
	strbuf_release(&why);
}

void item_done(struct transfer_item *it, enum stage how)
{
	item_tap_end(it, how == ST_DONE);
	item_close_files(it);
	if (it->parent) {
		it->stage = how;
		transfer_part_ended(it);
		return;
	}
	item_close_spool(it);
	results_lock(it->t);
	it->stage = how;
	if (how == ST_SKIPPED)
		it->t->skipped++;
	else
		it->t->done++;
	it->t->bytes_done += it->size;
	it->progress_now = 0;
	results_unlock(it->t);
}

uint64_t transfer_backoff_ms(int attempt, long retry_after,
			     unsigned long rnd)
{
	uint64_t delay = BACKOFF_MAX_MS;

	if (retry_after > 0)
		return (uint64_t)(retry_after < RETRY_AFTER_MAX_S ?
					  retry_after :
					  RETRY_AFTER_MAX_S) *
		       1000;
	/* 250 ms doubled for each attempt after the first, up to the cap */
	if (attempt >= 1 && attempt <= 6)
		delay = (uint64_t)BACKOFF_BASE_MS << (attempt - 1);
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* jitter: between half and one and a half times the delay */
	return delay / 2 + rnd % (delay + 1);
}

void item_retry(struct transfer_item *it, const char *why)
{
	if (it->attempts++ >= it->t->retries) {
		item_fail(it, "%s (after %d attempt%s)", why, it->attempts,
			  it->attempts == 1 ? "" : "s");
		return;
	}
	it->not_before = transfer_now_ms() +
			 transfer_backoff_ms(it->attempts, it->retry_after,
					     (unsigned long)rand());
	it->stage = ST_QUEUED;
	it->progress_now = 0;
	item_close_files(it);
}

void item_mismatch(struct transfer_item *it, const char *why)
{
	if (!it->mismatches++ && it->t->retries > 0) {
		item_retry(it, why);
		return;
	}
	it->fail_kind = FAIL_MISMATCH;
	item_fail(it, "%s", why);
}

void transfer_draw_progress(struct transfer *t, uint64_t start, int last)
{
	struct strbuf size = STRBUF_INIT, rate = STRBUF_INIT;
	uint64_t bytes = t->bytes_done, elapsed = transfer_now_ms() - start;
	size_t i, finished = t->done + t->skipped + t->failed;

	for (i = 0; i < t->nr; i++)
		if (t->items[i]->stage == ST_RUNNING ||
		    t->items[i]->stage == ST_WAITING ||
		    t->items[i]->stage == ST_DECODING)
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

/*
 * The objects storage confirmed it has, for loan.h: uploaded, skipped as
 * there, found by a check, downloaded (a check's ST_DONE means absent).
 */
static void mark_stored(struct transfer *t)
{
	const char **oids = xcalloc(t->top + 1, sizeof(*oids));
	size_t i, n = 0;

	for (i = 0; i < t->top; i++) {
		enum stage st = t->items[i]->stage;

		if (st == ST_SKIPPED ||
		    (st == ST_DONE && t->dir != TRANSFER_CHECK))
			oids[n++] = t->items[i]->oid;
	}
	if (n && t->store && !t->foreign)
		store_mark_stored(t->store, oids, n);
	free(oids);
}

size_t transfer_run(struct transfer *t)
{
	uint64_t start = transfer_now_ms();
	struct transfer_zc_adapt adapt;
	size_t i;

	if (!t->nr)
		return 0;
	srand((unsigned)(start ^ getpid()));
	transfer_zc_adapt_init(&adapt, t);
	t->zc_adapt = &adapt;
	if (!t->storage->http) {
		transfer_run_sync(t, start);
	} else if (transfer_run_http(t, start) < 0) {
		/* Nothing more can be sent: what is left has failed. */
		for (i = 0; i < t->top; i++)
			if (t->items[i]->stage != ST_DONE &&
			    t->items[i]->stage != ST_SKIPPED &&
			    t->items[i]->stage != ST_FAILED)
				item_fail(t->items[i], "the transfer could "
						       "not run");
	}
	/* it waits for the trial, which measures through t->zc_adapt */
	transfer_zc_adapt_release(&adapt);
	t->zc_adapt = NULL;
	if (t->progress)
		transfer_draw_progress(t, start, 1);
	mark_stored(t);
	return t->failed;
}
