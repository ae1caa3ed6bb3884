#include "tensor-tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "model-file.h"
#include "model-format.h"
#include "wrapper.h"
#include "banned.h"

/*
 * Bytes kept until the header reads: a bigger header (a million tensors)
 * is left to the diff that needs it.
 */
#define TAP_MAX_HEADER (16u << 20)
/*
 * Runs of bytes shorter than this (an HTTP download's are 16 KiB) are
 * gathered into one before the thread gets them.
 */
#define TAP_CHUNK (1u << 20)
/* Bytes model_format_detect() is given to tell a model. */
#define TAP_SNIFF 16

/* A copy of a run of bytes the writer handed over. */
struct chunk {
	char *buf;
	size_t len, alloc;
};

struct tensor_tap {
	struct store_tap base; /* first: the writer's pointer is ours */
	uint64_t size;	       /* expected */
	int off;	       /* not a model, or the thread did not start */
	int running;
	pthread_t thread;

	/* Shared with the thread, under `mu`. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk q[2];
	int head, queued, done;
	int filling;		/* the writer's: the slot after the queued
				   ones holds bytes not handed over yet */

	/* The thread's own until it is joined. */
	uint64_t pos;		/* bytes seen */
	struct strbuf prefix;	/* the bytes seen, until the header is read */
	int parsed, failed;
	struct model_info info;
	size_t *order;		/* tensors with bytes, by offset */
	size_t nr_order, cur;	/* cur: the tensor being hashed, or next */
	int hashing;
	struct hash h;
	char (*hashes)[OID_HEXSZ + 1];
	size_t nr_hashed;
};

/* Reads from the bytes seen so far; a read past them sets `short_read`. */
struct prefix_ctx {
	const struct strbuf *buf;
	int short_read;
};

static int prefix_read_at(void *data, uint64_t off, void *buf, size_t len)
{
	struct prefix_ctx *ctx = data;

	if (off > ctx->buf->len || len > ctx->buf->len - off) {
		ctx->short_read = 1;
		return -1;
	}
	memcpy(buf, ctx->buf->buf + off, len);
	return 0;
}

static int by_offset(const void *a, const void *b, void *data)
{
	const struct model_tensor *t = data;
	const struct model_tensor *x = &t[*(const size_t *)a];
	const struct model_tensor *y = &t[*(const size_t *)b];

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

/* Hash what of [base, base + len) belongs to tensors. */
static void feed(struct tensor_tap *tt, uint64_t base, const char *buf,
		 size_t len)
{
	uint64_t end = base + len;

	while (tt->cur < tt->nr_order) {
		size_t i = tt->order[tt->cur];
		const struct model_tensor *t = &tt->info.tensors[i];
		uint64_t t_end = t->offset + t->length;
		uint64_t lo, hi;

		if (t->offset >= end)
			return;
		if (!tt->hashing) {
			if (t->offset < base) {
				/* overlaps the previous one: not ours */
				tt->failed = 1;
				return;
			}
			hash_start(&tt->h);
			tt->hashing = 1;
		}
		lo = t->offset > base ? t->offset : base;
		hi = t_end < end ? t_end : end;
		hash_update(&tt->h, buf + (lo - base), hi - lo);
		if (t_end > end)
			return;
		hash_finish(&tt->h, tt->hashes[i]);
		tt->hashing = 0;
		tt->nr_hashed++;
		tt->cur++;
	}
}

/* Read the header from the bytes seen, once there are enough of them. */
static void try_header(struct tensor_tap *tt)
{
	struct prefix_ctx ctx = { .buf = &tt->prefix };
	struct model_source src = { .read_at = prefix_read_at, .ctx = &ctx,
				    .size = tt->size };
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (model_read(&src, &tt->info, &err) < 0) {
		strbuf_release(&err);
		if (!ctx.short_read || tt->prefix.len > TAP_MAX_HEADER)
			tt->failed = 1;
		return;
	}
	strbuf_release(&err);
	if (tt->info.format != MODEL_FORMAT_SAFETENSORS &&
	    tt->info.format != MODEL_FORMAT_GGUF) {
		tt->failed = 1;
		return;
	}
	tt->parsed = 1;
	tt->hashes = xcalloc(tt->info.nr + 1, sizeof(*tt->hashes));
	tt->order = xcalloc(tt->info.nr + 1, sizeof(*tt->order));
	for (i = 0; i < tt->info.nr; i++) {
		if (tt->info.tensors[i].length) {
			tt->order[tt->nr_order++] = i;
			continue;
		}
		hash_start(&tt->h);
		hash_finish(&tt->h, tt->hashes[i]);
		tt->nr_hashed++;
	}
	qsort_r(tt->order, tt->nr_order, sizeof(*tt->order), by_offset,
		tt->info.tensors);
	feed(tt, 0, tt->prefix.buf, tt->prefix.len);
	strbuf_release(&tt->prefix);
}

static void take(struct tensor_tap *tt, const char *buf, size_t len)
{
	uint64_t base = tt->pos;

	tt->pos += len;
	if (tt->failed)
		return;
	if (tt->parsed) {
		feed(tt, base, buf, len);
		return;
	}
	strbuf_add(&tt->prefix, buf, len);
	try_header(tt);
}

static void *tap_main(void *data)
{
	struct tensor_tap *tt = data;

	pthread_mutex_lock(&tt->mu);
	for (;;) {
		struct chunk *c;

		while (!tt->queued && !tt->done)
			pthread_cond_wait(&tt->cv, &tt->mu);
		if (!tt->queued)
			break;
		c = &tt->q[tt->head];
		pthread_mutex_unlock(&tt->mu);

		take(tt, c->buf, c->len);

		pthread_mutex_lock(&tt->mu);
		tt->head ^= 1;
		tt->queued--;
		pthread_cond_broadcast(&tt->cv);
	}
	pthread_mutex_unlock(&tt->mu);
	return NULL;
}

static int is_model(const void *buf, size_t len, uint64_t size)
{
	enum model_format f = model_format_detect(buf, len, size);

	return f == MODEL_FORMAT_SAFETENSORS || f == MODEL_FORMAT_GGUF;
}

/* Hand the slot being filled to the thread. */
static void queue_filling(struct tensor_tap *tt)
{
	pthread_mutex_lock(&tt->mu);
	tt->queued++;
	tt->filling = 0;
	pthread_cond_broadcast(&tt->cv);
	pthread_mutex_unlock(&tt->mu);
}

static void tap_data(struct store_tap *tap, const void *buf, size_t len)
{
	struct tensor_tap *tt = (struct tensor_tap *)tap;
	struct chunk *c;

	if (tt->off || !len)
		return;
	/*
	 * The slot after the queued ones is filled here: the thread touches
	 * only queued slots, and taking one from the head leaves the index
	 * of the slot after them as it was.
	 */
	pthread_mutex_lock(&tt->mu);
	while (!tt->filling && tt->queued == 2)
		pthread_cond_wait(&tt->cv, &tt->mu);
	c = &tt->q[(tt->head + tt->queued) % 2];
	pthread_mutex_unlock(&tt->mu);
	if (!tt->filling) {
		c->len = 0;
		tt->filling = 1;
	}
	if (c->alloc - c->len < len) {
		size_t want = c->len + len;

		if (want < TAP_CHUNK)
			want = TAP_CHUNK;
		c->buf = xrealloc(c->buf, want);
		c->alloc = want;
	}
	memcpy(c->buf + c->len, buf, len);
	c->len += len;

	if (!tt->running) {
		/* The first bytes say whether it is a model at all. */
		if (c->len < TAP_SNIFF && c->len < tt->size)
			return;
		if (!is_model(c->buf, c->len, tt->size) ||
		    pthread_create(&tt->thread, NULL, tap_main, tt)) {
			tt->off = 1;
			return;
		}
		tt->running = 1;
	}
	if (c->len >= TAP_CHUNK)
		queue_filling(tt);
}

struct store_tap *tensor_tap_new(uint64_t size)
{
	struct tensor_tap *tt = xcalloc(1, sizeof(*tt));

	tt->base.data = tap_data;
	tt->size = size;
	tt->off = !size;
	pthread_mutex_init(&tt->mu, NULL);
	pthread_cond_init(&tt->cv, NULL);
	strbuf_init(&tt->prefix, 0);
	tt->info = (struct model_info)MODEL_INFO_INIT;
	return &tt->base;
}

void tensor_tap_finish(struct store_tap *tap, const struct store *s,
		       const char *oid)
{
	struct tensor_tap *tt = (struct tensor_tap *)tap;

	if (!tt)
		return;
	if (tt->running) {
		if (tt->filling)
			queue_filling(tt);
		pthread_mutex_lock(&tt->mu);
		tt->done = 1;
		pthread_cond_broadcast(&tt->cv);
		pthread_mutex_unlock(&tt->mu);
		pthread_join(tt->thread, NULL);
	}
	if (oid && tt->running && tt->parsed && !tt->failed &&
	    tt->pos == tt->size && tt->nr_hashed == tt->info.nr)
		model_file_cache_hashes(s, oid, &tt->info, tt->hashes);
	if (tt->hashing)
		hash_release(&tt->h);
	free(tt->q[0].buf);
	free(tt->q[1].buf);
	strbuf_release(&tt->prefix);
	model_info_release(&tt->info);
	free(tt->order);
	free(tt->hashes);
	pthread_mutex_destroy(&tt->mu);
	pthread_cond_destroy(&tt->cv);
	free(tt);
}
