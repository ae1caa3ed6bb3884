/*
 * Compressed objects in storage (git-model-compression(5)), for the
 * synchronous backends that keep them (storage_sync_ops'
 * open_compressed): uploads are compressed from the local store straight
 * into storage's file where the backend can (put_compressed_by), else
 * into an anonymous temp file (transfer_zc_compress(), which
 * transfer-http.c uses too), then uploaded; downloads stream through the container's
 * decoder into a store writer, which verifies the raw sha256, so a
 * hostile container stores nothing. The local store stays raw.
 *
 * Only a storage that model.storage names gets compressed uploads: a
 * local remote's own store (storage.h) is a store, and stays raw.
 */

#include "transfer-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "link-rate.h"
#include "model-format.h"
#include "usage.h"
#include "wrapper.h"
#include "zcontainer.h"
#include "banned.h"

int transfer_compression_config(struct transfer *t, const struct repo *r)
{
	struct strbuf v = STRBUF_INIT;
	long level;
	int ret;

	t->compression = TRANSFER_COMPRESS_AUTO;
	ret = config_get(r, "model.compression", &v);
	if (ret < 0)
		goto out;
	if (!ret) {
		if (!strcmp(v.buf, "auto"))
			t->compression = TRANSFER_COMPRESS_AUTO;
		else if (!strcmp(v.buf, "zstd"))
			t->compression = TRANSFER_COMPRESS_ZSTD;
		else if (!strcmp(v.buf, "none"))
			t->compression = TRANSFER_COMPRESS_NONE;
		else {
			ret = error("model.compression must be auto, zstd or none, not '%s'",
				    v.buf);
			goto out;
		}
	}
	ret = config_get_int(r, "model.compression.level", ZC_LEVEL_DEFAULT,
			     &level);
	if (ret < 0)
		goto out;
	if (level < 1 || level > 19) {
		ret = error("model.compression.level must be 1 to 19, not %ld",
			    level);
		goto out;
	}
	t->compression_level = level;
	/* A store (a local remote's) is not compressed: only model.storage. */
	strbuf_reset(&v);
	if (storage_configured_url(r, &v))
		t->compression = TRANSFER_COMPRESS_NONE;
	ret = 0;
out:
	strbuf_release(&v);
	return ret;
}

static uint64_t meter_us(const struct transfer_zc_meter *m, uint64_t now);
static double meter_recent_rate(const struct transfer_zc_meter *m,
				uint64_t now);

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Whether this transfer reads and writes the link's rate in link-rates:
 * an auto push to HTTP storage (S3 and LFS hrefs too) from a store, its
 * rates not stood for by GIT_MODEL_TEST_ZC_RATES.
 */
static int remembers_rate(const struct transfer_zc_adapt *a,
			  const struct transfer *t)
{
	return !a->forced[ZC_METER_UPLOAD] && t->dir == TRANSFER_UPLOAD &&
	       t->compression == TRANSFER_COMPRESS_AUTO && t->storage->http &&
	       t->store && !t->foreign;
}

/*
 * Whether the upload meter has counted for as long as the trial
 * compressed: its rate then compares with the trial's. Under a->lock.
 */
static int upload_measured(const struct transfer_zc_meter *c,
			   const struct transfer_zc_meter *u, uint64_t now)
{
	return u->bytes && meter_us(u, now) - u->first_us >= c->busy_us;
}

void transfer_zc_adapt_init(struct transfer_zc_adapt *a, struct transfer *t)
{
	const char *v = getenv("GIT_MODEL_TEST_ZC_RATES");
	unsigned long long c, u;
	uint64_t sum = 0;
	char end;
	size_t i;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	if (v && sscanf(v, "%llu:%llu%c", &c, &u, &end) == 2 && c && u) {
		a->forced[ZC_METER_COMPRESS] = c;
		a->forced[ZC_METER_UPLOAD] = u;
	}
	/* the rate the last push measured, for the first choices */
	if (remembers_rate(a, t) &&
	    link_rate_get(t->store->dir, t->storage->display,
			  &a->remembered) <= 0)
		a->remembered = 0;
	/* the trial's objects: the engine may grow t->items meanwhile */
	a->t = t;
	for (i = 0; i < t->top && sum < ZC_SAMPLE_BYTES; i++) {
		if (!t->items[i]->size)
			continue;
		ALLOC_GROW(a->sample, a->nr_sample + 1, a->alloc_sample);
		memcpy(a->sample[a->nr_sample].oid, t->items[i]->oid,
		       sizeof(a->sample[0].oid));
		a->sample[a->nr_sample++].size = t->items[i]->size;
		sum += t->items[i]->size;
	}
}

void transfer_zc_adapt_release(struct transfer_zc_adapt *a)
{
	struct transfer *t = a->t;
	struct transfer_zc_meter *u = &a->meter[ZC_METER_UPLOAD];
	uint64_t now = now_us();

	if (a->sampling)
		pthread_join(a->sampler, NULL);
	/* remembered when measured enough to speak for the link */
	if (remembers_rate(a, t) && u->bytes >= ZC_REMEMBER_BYTES &&
	    meter_us(u, now) - u->first_us >= ZC_REMEMBER_US)
		link_rate_put(t->store->dir, t->storage->display,
			      meter_recent_rate(u, now));
	free(a->sample);
	pthread_mutex_destroy(&a->lock);
}

/* The meter `kind` of `t`, its adapt's lock taken; NULL when none. */
static struct transfer_zc_meter *meter_lock(struct transfer *t,
					    enum transfer_zc_meter_kind kind)
{
	if (!t->zc_adapt)
		return NULL;
	pthread_mutex_lock(&t->zc_adapt->lock);
	return &t->zc_adapt->meter[kind];
}

static void meter_unlock(struct transfer *t)
{
	pthread_mutex_unlock(&t->zc_adapt->lock);
}

void transfer_zc_meter_begin(struct transfer *t,
			     enum transfer_zc_meter_kind kind)
{
	struct transfer_zc_meter *m = meter_lock(t, kind);

	if (!m)
		return;
	if (!m->active++)
		m->since_us = now_us();
	meter_unlock(t);
}

void transfer_zc_meter_add(struct transfer *t, enum transfer_zc_meter_kind kind,
			   uint64_t bytes)
{
	struct transfer_zc_meter *m = meter_lock(t, kind);
	uint64_t us;

	if (!m)
		return;
	us = meter_us(m, now_us());
	if (!m->bytes && bytes) {
		/* the time before (connecting, asking) is not the link's */
		m->first_us = us;
		m->mark_us[0] = m->mark_us[1] = us;
	}
	m->bytes += bytes;
	if (us - m->first_us >= 2 * (m->mark_us[1] - m->first_us)) {
		/* the window starts at most half its length ago */
		m->mark_us[0] = m->mark_us[1];
		m->mark_bytes[0] = m->mark_bytes[1];
		m->mark_us[1] = us;
		m->mark_bytes[1] = m->bytes;
	}
	meter_unlock(t);
}

void transfer_zc_meter_end(struct transfer *t, enum transfer_zc_meter_kind kind,
			   int ok)
{
	struct transfer_zc_meter *m = meter_lock(t, kind);

	if (!m)
		return;
	if (!m->active)
		BUG("a transfer meter ended more often than it began");
	if (!--m->active)
		m->busy_us += now_us() - m->since_us;
	if (ok)
		m->ended_ok++;
	m->probing = 0;
	meter_unlock(t);
}

/* The time it has been active, the span under way too. */
static uint64_t meter_us(const struct transfer_zc_meter *m, uint64_t now)
{
	return m->busy_us + (m->active ? now - m->since_us : 0);
}

/* Bytes per second so far; 0 before any time. */
static double meter_rate(const struct transfer_zc_meter *m, uint64_t now)
{
	uint64_t us = meter_us(m, now);

	return us ? m->bytes * 1e6 / us : 0;
}

/*
 * Bytes per second over the later part of the time so far (from a mark
 * at most half of it in): what buffers took at the start, faster than
 * the link, weighs less.
 */
static double meter_recent_rate(const struct transfer_zc_meter *m,
				uint64_t now)
{
	uint64_t us = meter_us(m, now);

	if (us <= m->mark_us[0])
		return meter_rate(m, now);
	return (m->bytes - m->mark_bytes[0]) * 1e6 / (us - m->mark_us[0]);
}

/*
 * For the test suite only: when the environment variable `var` names a
 * file, append to it a line of `fmt`.
 */
PRINTF(2, 3)
static void test_zc_note(const char *var, const char *fmt, ...)
{
	const char *v = getenv(var);
	va_list ap;
	FILE *f;

	if (!v || !(f = fopen(v, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/*
 * GIT_MODEL_TEST_ZC_TRIAL=<file>: a line with the bytes each trial
 * compressed.
 */
static void test_zc_trial(uint64_t bytes)
{
	test_zc_note("GIT_MODEL_TEST_ZC_TRIAL", "%llu\n",
		     (unsigned long long)bytes);
}

/*
 * GIT_MODEL_TEST_ZC_METER=<file>: a line for each choice made by
 * measured rates: the bytes the upload meter had counted and over how
 * long (microseconds from its first bytes).
 */
static void test_zc_meter(const struct transfer_zc_meter *u, uint64_t now)
{
	test_zc_note("GIT_MODEL_TEST_ZC_METER", "%llu %llu\n",
		     (unsigned long long)u->bytes,
		     (unsigned long long)(meter_us(u, now) - u->first_us));
}

/* The encoder's bytes for the trial, thrown away. */
static void *sample_compression(void *data)
{
	struct transfer_zc_adapt *a = data;
	struct transfer *t = a->t;
	struct strbuf out = STRBUF_INIT;
	unsigned char *buf = xmalloc(ZC_SAMPLE_BYTES);
	uint64_t done = 0, stored = 0;
	size_t i;

	transfer_zc_meter_begin(t, ZC_METER_COMPRESS);
	for (i = 0; i < a->nr_sample && done < ZC_SAMPLE_BYTES; i++) {
		struct zc_options opts = ZC_OPTIONS_INIT;
		struct model_info info = MODEL_INFO_INIT;
		struct model_source src;
		struct strbuf why = STRBUF_INIT;
		struct zc_block b;
		uint64_t len = a->sample[i].size;
		int in = store_open(t->store, a->sample[i].oid, len);

		if (in < 0)
			continue;
		if (len > ZC_SAMPLE_BYTES - done)
			len = ZC_SAMPLE_BYTES - done;
		opts.level = t->compression_level;
		model_source_fd(&src, in, a->sample[i].size);
		if (!model_read(&src, &info, &why))
			opts.hint = &info;
		if (lseek(in, 0, SEEK_SET) == 0 &&
		    read_in_full(in, buf, len) == (ssize_t)len) {
			zc_block_encode(&opts, 0, buf, len, &out, &b);
			done += len;
			stored += b.stored_len;
		}
		strbuf_reset(&out);
		strbuf_release(&why);
		model_info_release(&info);
		close(in);
	}
	transfer_zc_meter_add(t, ZC_METER_COMPRESS, done);
	transfer_zc_meter_end(t, ZC_METER_COMPRESS, done > 0);
	test_zc_trial(done);
	pthread_mutex_lock(&a->lock);
	a->sampled = 1;
	a->trial_raw = done;
	a->trial_stored = stored;
	pthread_mutex_unlock(&a->lock);
	strbuf_release(&out);
	free(buf);
	return NULL;
}

/*
 * Whether compressing a whole object at `crate` and sending it at `urate`
 * shrunk by the trial's ratio ends sooner, by ZC_SWITCH_MARGIN, than
 * sending `left` of it (a fraction) raw. Under a->lock.
 */
static int whole_sooner(const struct transfer_zc_adapt *a, double crate,
			double urate, double left)
{
	double ratio;

	if (!a->trial_stored || !(crate > 0) || !(urate > 0))
		return 0;
	ratio = (double)a->trial_raw / a->trial_stored;
	return 1 / crate + 1 / ratio / urate < ZC_SWITCH_MARGIN * left / urate;
}

int transfer_zc_trial_running(struct transfer *t)
{
	struct transfer_zc_adapt *a = t->zc_adapt;
	int ret;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	ret = a->sampling && !a->sampled;
	pthread_mutex_unlock(&a->lock);
	return ret;
}

enum transfer_zc_choice transfer_zc_choose(struct transfer *t)
{
	struct transfer_zc_adapt *a = t->zc_adapt;
	struct transfer_zc_meter *c, *u;
	enum transfer_zc_choice ret;
	uint64_t now = now_us();
	int unmeasured;

	if (t->compression == TRANSFER_COMPRESS_NONE)
		return ZC_RAW;
	if (t->compression == TRANSFER_COMPRESS_ZSTD || !a)
		return ZC_COMPRESS;
	if (a->forced[ZC_METER_COMPRESS])
		return a->forced[ZC_METER_COMPRESS] > a->forced[ZC_METER_UPLOAD] ?
			       ZC_COMPRESS : ZC_RAW;
	c = &a->meter[ZC_METER_COMPRESS];
	u = &a->meter[ZC_METER_UPLOAD];
	pthread_mutex_lock(&a->lock);
	if (!a->sampling && !a->sampled) {
		/* the first upload to choose starts the trial */
		if (!pthread_create(&a->sampler, NULL, sample_compression, a))
			a->sampling = 1;
		else
			a->sampled = 1;
	}
	unmeasured = !u->ended_ok && !u->active && !u->probing;
	if (unmeasured && (!a->remembered || a->remembered_used))
		ret = ZC_RAW; /* it measures the link */
	else if (!a->sampled)
		ret = ZC_WAIT;
	else if (!c->ended_ok)
		ret = ZC_RAW; /* the trial failed: nothing says compress */
	else if (unmeasured) {
		/*
		 * The first object, by the last push's rate, as if alone
		 * (transfer_zc_switch()); the next one measures.
		 */
		a->remembered_used = 1;
		ret = whole_sooner(a, meter_rate(c, now), a->remembered, 1) ?
			      ZC_COMPRESS : ZC_RAW;
	} else if (!u->ended_ok && !upload_measured(c, u, now))
		ret = ZC_WAIT; /* not measured as long as compression */
	else {
		ret = meter_rate(c, now) > meter_recent_rate(u, now) ?
			      ZC_COMPRESS : ZC_RAW;
		test_zc_meter(u, now);
	}
	/* the probe counts as under way from here, before it begins */
	if (!u->ended_ok && !u->active && ret == ZC_RAW)
		u->probing = 1;
	pthread_mutex_unlock(&a->lock);
	return ret;
}

int transfer_zc_switch(struct transfer *t, uint64_t size, uint64_t sent)
{
	struct transfer_zc_adapt *a = t->zc_adapt;
	struct transfer_zc_meter *c, *u;
	uint64_t now = now_us();
	double crate, urate;
	int ret = 0;

	if (t->compression != TRANSFER_COMPRESS_AUTO || !a ||
	    a->forced[ZC_METER_COMPRESS] || sent >= size)
		return 0;
	c = &a->meter[ZC_METER_COMPRESS];
	u = &a->meter[ZC_METER_UPLOAD];
	pthread_mutex_lock(&a->lock);
	if (!a->sampled || !c->ended_ok || !upload_measured(c, u, now))
		goto out; /* not measured yet */
	crate = meter_rate(c, now);
	urate = meter_recent_rate(u, now);
	ret = whole_sooner(a, crate, urate, (double)(size - sent) / size);
out:
	pthread_mutex_unlock(&a->lock);
	return ret;
}

/*
 * 1 when storage holds the compressed form of the `size` bytes of `oid`
 * (its length in `stored`), 0 when not, or not of a length any container
 * of them can have (zc_stored_size_possible()), -1 (reported).
 */
static int has_compressed(struct storage *s, const char *oid, uint64_t size,
			  uint64_t *stored)
{
	int fd = s->sync->open_compressed(s, oid);
	struct stat st;

	if (fd >= 0) {
		if (fstat(fd, &st) < 0) {
			error_errno("cannot stat the compressed form of '%s'",
				    oid);
			close(fd);
			return -1;
		}
		close(fd);
		*stored = st.st_size;
		return zc_stored_size_possible(size, *stored);
	}
	return errno == ENOENT ? 0 : -1;
}

/*
 * Where a model's first tensor starts (its header ends), when that is in
 * the first block; else 0. The header then is a block of its own, which
 * show and textconv of remote weights read alone (range-source.h).
 */
static uint32_t header_end(const struct model_info *info)
{
	uint64_t end = UINT64_MAX;
	size_t i;

	for (i = 0; i < info->nr; i++)
		if (info->tensors[i].length && info->tensors[i].offset < end)
			end = info->tensors[i].offset;
	return end < ZC_BLOCK_DEFAULT ? (uint32_t)end : 0;
}

/*
 * For the test suite only: GIT_MODEL_TEST_ZC_WAIT=<oid>:<file> makes the
 * compression of object <oid> wait until <file> exists (a slow one).
 */
static void test_zc_wait(const char *oid)
{
	const char *v = getenv("GIT_MODEL_TEST_ZC_WAIT");

	if (!v || strncmp(v, oid, OID_HEXSZ) || v[OID_HEXSZ] != ':')
		return;
	while (access(v + OID_HEXSZ + 1, F_OK) < 0)
		usleep(10 * 1000);
}

/* Compress object `oid` of the local store into `out`: 0, or -1 (reported). */
static int compress_into(struct transfer *t, const char *oid, uint64_t size,
			 int out, uint64_t *stored)
{
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct model_info info = MODEL_INFO_INIT;
	struct model_source src;
	struct strbuf why = STRBUF_INIT;
	int in, ret = -1;

	test_zc_wait(oid);

	in = store_open(t->store, oid, size);
	if (in < 0)
		return error("the weights of '%s' are not in the local store",
			     oid);
	/* auto and zstd alike: each block as its bytes are best kept */
	opts.mode = ZC_AUTO;
	opts.level = t->compression_level;
	model_source_fd(&src, in, size);
	if (!model_read(&src, &info, &why)) {
		/* a model file's dtypes choose its blocks' transforms */
		opts.hint = &info;
		opts.first_block = header_end(&info);
	}
	strbuf_release(&why);
	ret = zc_encode_fd(in, size, out, &opts, stored);
	model_info_release(&info);
	close(in);
	return ret;
}

int transfer_zc_compress(struct transfer *t, const char *oid, uint64_t size,
			 uint64_t *stored)
{
	int out = store_spool(t->store);

	if (out < 0)
		return -1;
	if (compress_into(t, oid, size, out, stored) < 0)
		goto fail;
	if (lseek(out, 0, SEEK_SET) < 0) {
		error_errno("cannot rewind the compressed spool");
		goto fail;
	}
	return out;
fail:
	close(out);
	return -1;
}

/*
 * The compression stage of HTTP uploads (transfer-internal.h): `queue`
 * holds the items submitted and not yet taken, `ended` those compressed
 * (or failed) and not yet collected, both in order; `lock` guards them
 * and `stop`, `work` says the queue grew or stop was set.
 */
struct transfer_zc_stage {
	struct transfer *t;
	void (*wake)(void *data);
	void *wake_data;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct transfer_item **queue, **ended;
	size_t nr_queue, alloc_queue, nr_ended, alloc_ended;
	size_t busy; /* submitted, not collected: the engine's thread only */
	pthread_t *threads;
	size_t nr_threads;
	int stop;
};

int transfer_zc_spool(struct transfer *t, struct transfer_item *it)
{
	uint64_t stored, size;
	int fd;

	transfer_zc_meter_begin(t, ZC_METER_COMPRESS);
	fd = transfer_zc_compress(t, it->oid, it->size, &stored);
	if (fd >= 0)
		transfer_zc_meter_add(t, ZC_METER_COMPRESS, it->size);
	transfer_zc_meter_end(t, ZC_METER_COMPRESS, fd >= 0);

	if (fd >= 0 && (hash_fd(fd, it->zc_sha, &size) < 0 || size != stored)) {
		error("cannot read the compressed form of '%s'", it->oid);
		close(fd);
		fd = -1;
	}
	it->zc_fd = fd;
	it->zc_size = fd >= 0 ? size : 0;
	return fd >= 0 ? 0 : -1;
}

static void *stage_worker(void *data)
{
	struct transfer_zc_stage *st = data;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct transfer_item *it;

		while (!st->stop && !st->nr_queue)
			pthread_cond_wait(&st->work, &st->lock);
		if (st->stop)
			break;
		it = st->queue[0];
		memmove(st->queue, st->queue + 1,
			--st->nr_queue * sizeof(*st->queue));
		pthread_mutex_unlock(&st->lock);
		transfer_zc_spool(st->t, it);
		pthread_mutex_lock(&st->lock);
		ALLOC_GROW(st->ended, st->nr_ended + 1, st->alloc_ended);
		st->ended[st->nr_ended++] = it;
		st->wake(st->wake_data);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

struct transfer_zc_stage *transfer_zc_stage_start(struct transfer *t,
						  void (*wake)(void *data),
						  void *wake_data)
{
	struct transfer_zc_stage *st;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cores > 1 ? (size_t)cores : 1, i;

	if (t->dir != TRANSFER_UPLOAD ||
	    t->compression == TRANSFER_COMPRESS_NONE)
		return NULL;
	if (want > (size_t)t->concurrency)
		want = t->concurrency;
	if (want > TRANSFER_ZC_STAGE_THREADS)
		want = TRANSFER_ZC_STAGE_THREADS;
	st = xcalloc(1, sizeof(*st));
	st->t = t;
	st->wake = wake;
	st->wake_data = wake_data;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->work, NULL);
	st->threads = xcalloc(want, sizeof(*st->threads));
	for (i = 0; i < want; i++)
		if (!pthread_create(&st->threads[st->nr_threads], NULL,
				    stage_worker, st))
			st->nr_threads++;
	if (!st->nr_threads) {
		transfer_zc_stage_stop(st);
		return NULL;
	}
	return st;
}

void transfer_zc_stage_submit(struct transfer_zc_stage *st,
			      struct transfer_item *it)
{
	it->stage = ST_COMPRESSING;
	st->busy++;
	pthread_mutex_lock(&st->lock);
	ALLOC_GROW(st->queue, st->nr_queue + 1, st->alloc_queue);
	st->queue[st->nr_queue++] = it;
	pthread_cond_signal(&st->work);
	pthread_mutex_unlock(&st->lock);
}

size_t transfer_zc_stage_busy(const struct transfer_zc_stage *st)
{
	return st ? st->busy : 0;
}

struct transfer_item *transfer_zc_stage_collect(struct transfer_zc_stage *st)
{
	struct transfer_item *it = NULL;

	if (!st || !st->busy)
		return NULL;
	pthread_mutex_lock(&st->lock);
	if (st->nr_ended) {
		it = st->ended[0];
		memmove(st->ended, st->ended + 1,
			--st->nr_ended * sizeof(*st->ended));
	}
	pthread_mutex_unlock(&st->lock);
	if (it) {
		st->busy--;
		it->stage = ST_QUEUED;
	}
	return it;
}

void transfer_zc_stage_stop(struct transfer_zc_stage *st)
{
	size_t i;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->stop = 1;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->lock);
	for (i = 0; i < st->nr_threads; i++)
		pthread_join(st->threads[i], NULL);
	/* not compressed, or not collected: they did not finish */
	for (i = 0; i < st->nr_queue; i++)
		st->queue[i]->stage = ST_QUEUED;
	for (i = 0; i < st->nr_ended; i++)
		st->ended[i]->stage = ST_QUEUED;
	pthread_cond_destroy(&st->work);
	pthread_mutex_destroy(&st->lock);
	free(st->queue);
	free(st->ended);
	free(st->threads);
	free(st);
}

struct fill_ctx {
	struct transfer *t;
	struct transfer_item *it;
};

static int fill_compressed(void *ctx_, int fd)
{
	struct fill_ctx *ctx = ctx_;
	uint64_t stored;

	return compress_into(ctx->t, ctx->it->oid, ctx->it->size, fd, &stored);
}

int transfer_zc_upload(struct transfer *t, struct transfer_item *it)
{
	struct storage *s = t->storage;
	uint64_t stored;
	int out, res;

	if (!s->sync->open_compressed)
		return 0;
	res = has_compressed(s, it->oid, it->size, &it->stored);
	if (res > 0) {
		it->gmz = 1;
		item_done(it, ST_SKIPPED);
		return 1;
	}
	if (res < 0) {
		item_fail(it, "cannot check the storage");
		return 1;
	}
	/* waiting for a rate would hold a worker: the raw copy measures one */
	if (t->dir != TRANSFER_UPLOAD || transfer_zc_choose(t) != ZC_COMPRESS)
		return 0;

	/*
	 * What is measured is the compressed copy's whole way into storage,
	 * as a raw copy's is (transfer-sync.c): it is not done ahead.
	 */
	transfer_zc_meter_begin(t, ZC_METER_COMPRESS);
	if (s->sync->put_compressed_by) {
		struct fill_ctx ctx = { t, it };

		/* compressed straight into storage's file, block by block */
		res = s->sync->put_compressed_by(s, it->oid, fill_compressed,
						 &ctx);
		if (res < 0)
			item_fail(it, "the copy failed");
		goto done;
	}
	out = transfer_zc_compress(t, it->oid, it->size, &stored);
	if (out < 0) {
		res = -1;
		item_fail(it, "cannot compress it");
		goto done;
	}
	res = s->sync->put_compressed(s, it->oid, stored, out);
	if (res < 0)
		item_fail(it, "the copy failed");
	close(out);
done:
	if (res >= 0)
		transfer_zc_meter_add(t, ZC_METER_COMPRESS, it->size);
	transfer_zc_meter_end(t, ZC_METER_COMPRESS, res >= 0);
	if (res >= 0)
		item_done(it, ST_DONE);
	return 1;
}

static int emit_to_writer(void *ctx, const void *buf, size_t len)
{
	return store_writer_write(ctx, buf, len);
}

int transfer_zc_download(struct transfer *t, struct transfer_item *it)
{
	struct storage *s = t->storage;
	struct store_writer w = STORE_WRITER_INIT;
	struct zc_decoder d;
	struct strbuf err = STRBUF_INIT;
	char *buf = NULL;
	int fd, ret = 1;

	/*
	 * A raw copy is copied (or cloned) faster than it is decoded, unless
	 * its bytes were wrong (it->mismatch_why).
	 */
	if (!s->sync->open_compressed ||
	    (!it->mismatch_why && s->sync->exists(s, it->oid, it->size) > 0))
		return 0;
	fd = s->sync->open_compressed(s, it->oid);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		item_fail(it, "the copy failed");
		return 1;
	}
	it->gmz = 1; /* what failure messages name from here on */
	if (it->mismatch_why) {
		struct strbuf url = STRBUF_INIT;

		storage_object_location(s, it->oid, &url);
		warning("'%s': %s: %s; trying %s.gmz", it->path, url.buf,
			it->mismatch_why, url.buf);
		strbuf_release(&url);
	}
	zc_decoder_init(&d, it->size);
	if (store_check_room(t->store, it->size, &err) < 0) {
		item_fail(it, "%s (nothing was copied)", err.buf);
		goto out;
	}
	if (store_writer_start(&w, t->store) < 0) {
		item_fail(it, "the copy failed");
		goto out;
	}
	/* a raw copy tried first may have fed it: from the first byte */
	item_tap_start(it);
	w.tap = it->tap;
	buf = xmalloc(COPY_BLOCK);
	for (;;) {
		ssize_t n = xread(fd, buf, COPY_BLOCK);

		if (n < 0) {
			strbuf_addf(&err, "cannot read its compressed form: %s",
				    strerror(errno));
			break;
		}
		if (!n) {
			zc_decoder_finish(&d, &err);
			break;
		}
		if (zc_decoder_feed(&d, buf, n, emit_to_writer, &w, &err) < 0)
			break;
	}
	if (err.len) {
		store_writer_abort(&w);
		it->fail_kind = FAIL_MISMATCH;
		item_fail(it, "%s (nothing was stored)", err.buf);
		goto out;
	}
	if (store_writer_commit(&w, it->oid, NULL, NULL) < 0) {
		/* store.c said why: a mismatch, or the disk */
		it->fail_kind = FAIL_MISMATCH;
		item_fail(it, "nothing was stored");
		goto out;
	}
	item_done(it, ST_DONE);
out:
	free(buf);
	zc_decoder_release(&d);
	strbuf_release(&err);
	close(fd);
	return ret;
}
