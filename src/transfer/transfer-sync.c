/*
 * The engine for backends without HTTP (storage_sync_ops): their own
 * calls, one object per call. When the backend allows it (threads_ok: a
 * directory), a few workers run them, so that hashing, which is most of a
 * local copy, runs on every core; not more workers than cores, since each
 * holds a store writer's buffers and more would only take turns.
 */

#include "transfer-internal.h"

#include <pthread.h>
#include <unistd.h>

#include "usage.h"
#include "workers.h"
#include "wrapper.h"
#include "banned.h"

/*
 * The raw copy in storage had wrong bytes (`why`): storage may hold the
 * compressed form right. 1 when that finished the item, 0 when storage
 * has no compressed form (the raw copy's mismatch stands).
 */
static int compressed_instead(struct transfer *t, struct transfer_item *it,
			      const char *why)
{
	if (!t->storage->sync->open_compressed)
		return 0;
	it->mismatch_why = xstrdup(why);
	return transfer_zc_download(t, it);
}

static void run_one(struct transfer *t, struct transfer_item *it)
{
	struct storage *s = t->storage;
	const struct storage_sync_ops *ops = s->sync;
	struct store_writer w = STORE_WRITER_INIT;
	struct strbuf why = STRBUF_INIT;
	int res, fd;

	if (t->dir != TRANSFER_DOWNLOAD) {
		res = ops->exists(s, it->oid, it->size);
		if (res > 0) {
			it->stored = it->size;
			item_done(it, ST_SKIPPED);
			return;
		}
		if (res < 0) {
			item_fail(it, "cannot check the storage");
			return;
		}
		if (transfer_zc_upload(t, it))
			return;
		if (t->dir == TRANSFER_CHECK) {
			item_done(it, ST_DONE);
			return;
		}
		fd = store_open(t->store, it->oid, it->size);
		if (fd < 0) {
			item_fail(it, "the weights are not in the local store");
			return;
		}
		transfer_zc_meter_begin(t, ZC_METER_UPLOAD);
		res = ops->put(s, it->oid, it->size, fd);
		if (!res)
			transfer_zc_meter_add(t, ZC_METER_UPLOAD, it->size);
		transfer_zc_meter_end(t, ZC_METER_UPLOAD, !res);
		close(fd);
		if (res < 0)
			item_fail(it, "the copy failed");
		else
			item_done(it, ST_DONE);
		return;
	}
	item_tap_start(it);
	if (ops->clone_get) {
		res = ops->clone_get(s, it->oid, it->size, t->store, it->tap);
		if (res > 0) {
			item_done(it, ST_DONE);
			return;
		}
		if (res < 0) {
			if (compressed_instead(t, it, "the bytes do not match "
						      "the object id"))
				return;
			it->fail_kind = FAIL_MISMATCH;
			item_fail(it, "the bytes do not match the object id "
				      "(nothing was stored)");
			return;
		}
	}
	if (transfer_zc_download(t, it))
		return;
	if (store_check_room(t->store, it->size, &why) < 0) {
		item_fail(it, "%s (nothing was copied)", why.buf);
		strbuf_release(&why);
		return;
	}
	res = store_writer_start(&w, t->store);
	if (!res) {
		w.tap = it->tap;
		res = ops->get(s, it->oid, it->size, &w);
	}
	if (res < 0) {
		store_writer_abort(&w);
		if (!ops->exists(s, it->oid, it->size))
			it->fail_kind = FAIL_ABSENT;
		item_fail(it, "the copy failed");
		return;
	}
	if (w.size != it->size) {
		store_writer_abort(&w);
		if (compressed_instead(t, it, "it has another size than its "
					      "pointer says"))
			return;
		it->fail_kind = FAIL_MISMATCH;
		item_fail(it, "it has %llu bytes, its pointer says %llu",
			  (unsigned long long)w.size,
			  (unsigned long long)it->size);
		return;
	}
	if (store_writer_commit(&w, it->oid, NULL, NULL) < 0) {
		/* store.c said why: a mismatch, or the disk */
		if (compressed_instead(t, it, "its bytes were not stored"))
			return;
		item_fail(it, "nothing was stored");
		return;
	}
	item_done(it, ST_DONE);
}

struct sync_run {
	struct transfer *t;
	uint64_t start;
	pthread_mutex_t lock; /* the results (t->results_lock) */
};

static void sync_one(void *data, size_t i)
{
	struct sync_run *run = data;

	run_one(run->t, run->t->items[i]);
	if (run->t->progress) {
		pthread_mutex_lock(&run->lock);
		transfer_draw_progress(run->t, run->start, 0);
		pthread_mutex_unlock(&run->lock);
	}
}

void transfer_run_sync(struct transfer *t, uint64_t start)
{
	struct sync_run run = { t, start, PTHREAD_MUTEX_INITIALIZER };

	t->results_lock = &run.lock;
	run_on_cores(t->nr, t->storage->sync->threads_ok ? t->concurrency : 1,
		     sync_one, &run);
	t->results_lock = NULL;
	pthread_mutex_destroy(&run.lock);
}
