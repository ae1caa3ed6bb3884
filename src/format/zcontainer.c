#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ZSTD_c_literalCompressionMode: used only with the library built against */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "usage.h"
#include "wrapper.h"
#include "zcontainer.h"

/* Bytes of a block tried by each candidate transform when there is no hint. */
#define ZC_SAMPLE (128u << 10)
/* A sample that shrinks less than this (in 1/1000) is stored raw. */
#define ZC_SAMPLE_KEEP 990

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static void put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, v);
	put_le32(p + 4, v >> 32);
}

static uint16_t get_le16(const unsigned char *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get_le32(const unsigned char *p)
{
	return get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

static uint64_t get_le64(const unsigned char *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

const char *zc_transform_name(unsigned transform)
{
	switch (transform) {
	case ZC_TRANSFORM_NONE:
		return "none";
	case ZC_TRANSFORM_PLANES2:
		return "planes2";
	case ZC_TRANSFORM_PLANES4:
		return "planes4";
	}
	return "unknown";
}

void zc_header_release(struct zc_header *h)
{
	free(h->blocks);
	h->blocks = NULL;
	h->nr = 0;
	h->raw_size = 0;
	h->stored_size = 0;
}

int zc_is_container(const void *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, ZC_MAGIC, 4);
}

static int fail(struct strbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	strbuf_addstr(err, "compressed object: ");
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_entry(const struct zc_block *b, const unsigned char *p,
		       uint32_t i, struct strbuf *err)
{
	if (get_le16(p + 2) || get_le32(p + 12))
		return fail(err, "block %u: reserved bytes are not zero", i);
	if (!b->raw_len || b->raw_len > ZC_BLOCK_MAX)
		return fail(err, "block %u: raw length %u is not in 1..%u", i,
			    b->raw_len, ZC_BLOCK_MAX);
	switch (b->codec) {
	case ZC_CODEC_RAW:
		if (b->transform != ZC_TRANSFORM_NONE)
			return fail(err, "block %u: a raw block has a transform", i);
		if (b->stored_len != b->raw_len)
			return fail(err, "block %u: raw block stores %u bytes, not its %u",
				    i, b->stored_len, b->raw_len);
		break;
	case ZC_CODEC_ZSTD:
		if (b->transform != ZC_TRANSFORM_NONE &&
		    b->transform != ZC_TRANSFORM_PLANES2 &&
		    b->transform != ZC_TRANSFORM_PLANES4)
			return fail(err, "block %u: unknown transform %u", i,
				    b->transform);
		if (!b->stored_len || b->stored_len >= b->raw_len)
			return fail(err, "block %u: stored length %u is not below its raw length %u",
				    i, b->stored_len, b->raw_len);
		break;
	default:
		return fail(err, "block %u: unknown codec %u", i, b->codec);
	}
	return 0;
}

long zc_header_parse(struct zc_header *h, const void *buf, size_t len,
		     struct strbuf *err)
{
	const unsigned char *p = buf;
	uint64_t raw_size, sum_raw = 0, sum_stored = 0;
	uint32_t nr, i;
	size_t table;

	zc_header_release(h);
	if (len < 4)
		return 0;
	if (!zc_is_container(p, len))
		return fail(err, "bad magic (not a compressed object)");
	if (len < ZC_HEADER_SIZE)
		return 0;
	if (p[4] != ZC_VERSION)
		return fail(err, "version %u is not supported (only %u)", p[4],
			    ZC_VERSION);
	if (p[5] || get_le16(p + 6) || get_le32(p + 20))
		return fail(err, "reserved header bytes are not zero");
	raw_size = get_le64(p + 8);
	nr = get_le32(p + 16);
	if (nr > ZC_BLOCKS_MAX)
		return fail(err, "%u blocks are more than %u", nr, ZC_BLOCKS_MAX);
	if (raw_size < nr || raw_size > (uint64_t)nr * ZC_BLOCK_MAX)
		return fail(err, "raw size %llu does not fit %u blocks",
			    (unsigned long long)raw_size, nr);
	table = (size_t)nr * ZC_ENTRY_SIZE;
	if (len - ZC_HEADER_SIZE < table)
		return 0;

	h->blocks = xcalloc(nr ? nr : 1, sizeof(*h->blocks));
	for (i = 0; i < nr; i++) {
		const unsigned char *e = p + ZC_HEADER_SIZE + (size_t)i * ZC_ENTRY_SIZE;
		struct zc_block *b = &h->blocks[i];

		b->codec = e[0];
		b->transform = e[1];
		b->raw_len = get_le32(e + 4);
		b->stored_len = get_le32(e + 8);
		if (check_entry(b, e, i, err) < 0)
			goto fail;
		sum_raw += b->raw_len;
		sum_stored += b->stored_len;
	}
	if (sum_raw != raw_size) {
		fail(err, "blocks hold %llu raw bytes, the header says %llu",
		     (unsigned long long)sum_raw, (unsigned long long)raw_size);
		goto fail;
	}
	h->raw_size = raw_size;
	h->nr = nr;
	h->stored_size = ZC_HEADER_SIZE + table + sum_stored;
	return ZC_HEADER_SIZE + table;
fail:
	zc_header_release(h);
	return -1;
}

void zc_header_format(const struct zc_header *h, struct strbuf *out)
{
	unsigned char hd[ZC_HEADER_SIZE] = { 0 };
	uint32_t i;

	memcpy(hd, ZC_MAGIC, 4);
	hd[4] = ZC_VERSION;
	put_le64(hd + 8, h->raw_size);
	put_le32(hd + 16, h->nr);
	strbuf_add(out, hd, sizeof(hd));
	for (i = 0; i < h->nr; i++) {
		unsigned char e[ZC_ENTRY_SIZE] = { 0 };

		e[0] = h->blocks[i].codec;
		e[1] = h->blocks[i].transform;
		put_le32(e + 4, h->blocks[i].raw_len);
		put_le32(e + 8, h->blocks[i].stored_len);
		strbuf_add(out, e, sizeof(e));
	}
}

uint64_t zc_header_length(const void *buf, size_t len)
{
	if (len < ZC_HEADER_SIZE)
		return 0;
	return ZC_HEADER_SIZE +
	       (uint64_t)get_le32((const unsigned char *)buf + 16) * ZC_ENTRY_SIZE;
}

void zc_block_offsets(const struct zc_header *h, uint32_t k,
		      uint64_t *stored, uint64_t *raw)
{
	uint64_t s = ZC_HEADER_SIZE + (uint64_t)h->nr * ZC_ENTRY_SIZE, r = 0;
	uint32_t i;

	if (k > h->nr)
		BUG("block %u of %u", k, h->nr);
	for (i = 0; i < k; i++) {
		s += h->blocks[i].stored_len;
		r += h->blocks[i].raw_len;
	}
	*stored = s;
	*raw = r;
}

uint32_t zc_block_at(const struct zc_header *h, uint64_t raw_off)
{
	uint64_t r = 0;
	uint32_t i;

	for (i = 0; i < h->nr; i++) {
		r += h->blocks[i].raw_len;
		if (raw_off < r)
			return i;
	}
	return h->nr;
}

int zc_stored_size_possible(uint64_t raw_size, uint64_t stored)
{
	uint64_t lo, hi;

	if (!raw_size)
		return stored == ZC_HEADER_SIZE;
	/* fewest blocks: each at most ZC_BLOCK_MAX raw, at least 1 stored */
	lo = (raw_size + ZC_BLOCK_MAX - 1) / ZC_BLOCK_MAX;
	if (lo > ZC_BLOCKS_MAX)
		return 0;
	/* most blocks: each at least 1 raw byte, stored at most raw */
	hi = raw_size < ZC_BLOCKS_MAX ? raw_size : ZC_BLOCKS_MAX;
	return stored >= ZC_HEADER_SIZE + lo * (ZC_ENTRY_SIZE + 1) &&
	       stored <= ZC_HEADER_SIZE + hi * ZC_ENTRY_SIZE + raw_size;
}

/*
 * Splitting and joining planes is on every float byte's path: GCC
 * vectorizes these loops only when asked (at -O2 before GCC 12, or -O3); clang does at -O2.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZE __attribute__((optimize("tree-vectorize")))
#else
#define VECTORIZE
#endif

/*
 * Byte planes of width w: of n = len / w elements, plane k holds byte k of
 * every element, planes in order; the len % w bytes after the last whole
 * element follow as they are. Every encoded float block's bytes pass
 * here, so the widths in use are spelled out, as in planes_join().
 */
#ifdef __SSE2__
/*
 * Planes of width 2 and 4 of the first n - n % 16 elements, 16 elements
 * at a time: the low and the high byte of each 16-bit half, by masking
 * and shifting, then packing with unsigned saturation (which keeps bytes
 * as they are, since each 16-bit value is below 256). Returns the
 * elements done.
 */
static size_t planes_split_sse2(unsigned w, const unsigned char *in,
				size_t n, unsigned char *out)
{
	const __m128i m = _mm_set1_epi16(0x00ff);
	size_t i;

	if (w == 2) {
		for (i = 0; i + 16 <= n; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(in + 2 * i));
			__m128i b = _mm_loadu_si128((const __m128i *)(in + 2 * i + 16));

			_mm_storeu_si128((__m128i *)(out + i),
					 _mm_packus_epi16(_mm_and_si128(a, m),
							  _mm_and_si128(b, m)));
			_mm_storeu_si128((__m128i *)(out + n + i),
					 _mm_packus_epi16(_mm_srli_epi16(a, 8),
							  _mm_srli_epi16(b, 8)));
		}
		return i;
	}
	for (i = 0; i + 16 <= n; i += 16) {
		const unsigned char *q = in + 4 * i;
		__m128i a = _mm_loadu_si128((const __m128i *)q);
		__m128i b = _mm_loadu_si128((const __m128i *)(q + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(q + 32));
		__m128i d = _mm_loadu_si128((const __m128i *)(q + 48));
		/* bytes 0 and 2, then 1 and 3, of elements 0-7 and 8-15 */
		__m128i e0 = _mm_packus_epi16(_mm_and_si128(a, m), _mm_and_si128(b, m));
		__m128i e1 = _mm_packus_epi16(_mm_and_si128(c, m), _mm_and_si128(d, m));
		__m128i o0 = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
		__m128i o1 = _mm_packus_epi16(_mm_srli_epi16(c, 8), _mm_srli_epi16(d, 8));

		_mm_storeu_si128((__m128i *)(out + i),
				 _mm_packus_epi16(_mm_and_si128(e0, m),
						  _mm_and_si128(e1, m)));
		_mm_storeu_si128((__m128i *)(out + n + i),
				 _mm_packus_epi16(_mm_and_si128(o0, m),
						  _mm_and_si128(o1, m)));
		_mm_storeu_si128((__m128i *)(out + 2 * n + i),
				 _mm_packus_epi16(_mm_srli_epi16(e0, 8),
						  _mm_srli_epi16(e1, 8)));
		_mm_storeu_si128((__m128i *)(out + 3 * n + i),
				 _mm_packus_epi16(_mm_srli_epi16(o0, 8),
						  _mm_srli_epi16(o1, 8)));
	}
	return i;
}
#endif

VECTORIZE static void planes_split(unsigned w, const unsigned char *in,
				   size_t len, unsigned char *out)
{
	size_t n = len / w, i = 0;
	unsigned k;

#ifdef __SSE2__
	if (w == 2 || w == 4)
		i = planes_split_sse2(w, in, n, out);
#endif
	if (w == 2) {
		unsigned char *p0 = out, *p1 = out + n;

		for (; i < n; i++) {
			p0[i] = in[2 * i];
			p1[i] = in[2 * i + 1];
		}
	} else if (w == 4) {
		unsigned char *p0 = out, *p1 = out + n, *p2 = out + 2 * n,
			      *p3 = out + 3 * n;

		for (; i < n; i++) {
			p0[i] = in[4 * i];
			p1[i] = in[4 * i + 1];
			p2[i] = in[4 * i + 2];
			p3[i] = in[4 * i + 3];
		}
	} else {
		for (k = 0; k < w; k++)
			for (i = 0; i < n; i++)
				out[k * n + i] = in[i * w + k];
	}
	memcpy(out + n * w, in + n * w, len - n * w);
}

VECTORIZE static void planes_join(unsigned w, const unsigned char *in, size_t len,
			unsigned char *out)
{
	size_t n = len / w, i;
	unsigned k;

	/* the widths in use, spelled out so that the compiler vectorizes */
	if (w == 2) {
		const unsigned char *p0 = in, *p1 = in + n;

		for (i = 0; i < n; i++) {
			out[2 * i] = p0[i];
			out[2 * i + 1] = p1[i];
		}
	} else if (w == 4) {
		const unsigned char *p0 = in, *p1 = in + n, *p2 = in + 2 * n,
				    *p3 = in + 3 * n;

		for (i = 0; i < n; i++) {
			out[4 * i] = p0[i];
			out[4 * i + 1] = p1[i];
			out[4 * i + 2] = p2[i];
			out[4 * i + 3] = p3[i];
		}
	} else {
		for (k = 0; k < w; k++)
			for (i = 0; i < n; i++)
				out[i * w + k] = in[k * n + i];
	}
	memcpy(out + n * w, in + n * w, len - n * w);
}

/*
 * zc_block_decode() with `tmp` of b->raw_len bytes for a transform, and
 * zstd's context `dc` (NULL: one for this call).
 */
static int block_decode(const struct zc_block *b, uint32_t i,
			const void *stored, void *raw, unsigned char *tmp,
			ZSTD_DCtx *dc, struct strbuf *err)
{
	unsigned long long fcs;
	size_t n;

	if (b->codec == ZC_CODEC_RAW) {
		memcpy(raw, stored, b->raw_len);
		return 0;
	}
	fcs = ZSTD_getFrameContentSize(stored, b->stored_len);
	if (fcs == ZSTD_CONTENTSIZE_ERROR)
		return fail(err, "block %u: not a zstd frame", i);
	if (fcs == ZSTD_CONTENTSIZE_UNKNOWN)
		return fail(err, "block %u: zstd frame does not state its size", i);
	if (fcs != b->raw_len)
		return fail(err, "block %u: zstd frame holds %llu bytes, the table says %u",
			    i, fcs, b->raw_len);
	n = ZSTD_findFrameCompressedSize(stored, b->stored_len);
	if (ZSTD_isError(n) || n != b->stored_len)
		return fail(err, "block %u: zstd frame is not exactly its %u stored bytes",
			    i, b->stored_len);
	if (b->transform == ZC_TRANSFORM_NONE)
		tmp = NULL;
	if (dc)
		n = ZSTD_decompressDCtx(dc, tmp ? tmp : raw, b->raw_len, stored,
					b->stored_len);
	else
		n = ZSTD_decompress(tmp ? tmp : raw, b->raw_len, stored,
				    b->stored_len);
	if (ZSTD_isError(n))
		return fail(err, "block %u: zstd: %s", i, ZSTD_getErrorName(n));
	if (n != b->raw_len)
		return fail(err, "block %u: zstd frame decodes to %zu bytes, not %u",
			    i, n, b->raw_len);
	if (tmp)
		planes_join(b->transform, tmp, b->raw_len, raw);
	return 0;
}

int zc_block_decode(const struct zc_block *b, uint32_t i, const void *stored,
		    void *raw, struct strbuf *err)
{
	unsigned char *tmp = NULL;
	int ret;

	if (b->codec != ZC_CODEC_RAW && b->transform != ZC_TRANSFORM_NONE)
		tmp = xmalloc(b->raw_len);
	ret = block_decode(b, i, stored, raw, tmp, NULL, err);
	free(tmp);
	return ret;
}

/*
 * The blocks a decoder or an encoder has in flight, decoded or encoded
 * by worker threads (fn) while the caller hands out earlier ones. Block b
 * uses slot b % nr_slots; blocks [head, submitted) are submitted,
 * [submitted] is being filled by the caller, workers take them in order
 * from `taken`. The caller owns a slot's bytes while it fills or empties
 * it; a worker while it works on it; `lock` orders the hand-overs.
 */
struct zc_slot {
	/*
	 * mem_len(max_raw) bytes each, from the budget (slot_take()) before
	 * the slot is filled, or NULL: the block's stored bytes (`have` of
	 * them), its raw bytes (the encoder's: its stored bytes when
	 * compressed), and room for a transform.
	 */
	unsigned char *stored, *raw, *tmp;
	size_t have;
	ZSTD_DCtx *dc;            /* kept from block to block */
	ZSTD_CCtx *cc;            /* the encoder's, kept too */
	struct zc_block blk;      /* the encoder's: what it chose */
	uint64_t off;             /* the encoder's: the block's raw offset */
	struct strbuf err;
	int done, failed;
};

struct zc_pipe {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a block was submitted, or stop */
	pthread_cond_t ready; /* a block was worked on */
	void (*fn)(struct zc_pipe *p, struct zc_slot *s, uint32_t i);
	const struct zc_header *h;        /* the decoder's */
	const struct zc_options *opts;    /* the encoder's */
	uint32_t max_raw;
	struct zc_slot *slots;
	unsigned nr_slots;
	uint32_t head, submitted, taken;
	unsigned nr_held;     /* slots holding buffers */
	pthread_t *threads;
	unsigned nr_threads;
	int stop;
	/* the decoder's: called under `lock` when a block was worked on */
	void (*notify)(void *data);
	void *notify_data;
};

/*
 * A block's buffer. A fresh one costs a page fault per 4 KiB on first
 * use, a few times per object; huge pages, where the kernel gives them
 * on request, make that one per 2 MiB.
 */
#define HUGE_PAGE (2u << 20)

static unsigned char *block_buf(size_t len)
{
	size_t n = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	unsigned char *p = xmalloc_aligned(HUGE_PAGE, n ? n : HUGE_PAGE);

#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE); /* a hint; without it, small pages */
#endif
	return p;
}

/*
 * The budget: the block buffers of every decoder and encoder in the
 * process, on any thread, with those kept for reuse, stay within
 * ZC_MEMORY_BUDGET. A pipe always gets buffers for one slot (3 blocks),
 * so that it makes progress without waiting for another pipe (the HTTP
 * engine drives several decoders from one thread); a slot more only
 * while the budget has room and the pipe holds less than its share of
 * it (the budget over the pipes running). Past that, a pipe works with
 * the slots it has, one at the least: it goes slower rather than
 * allocating, and gives back a slot more than its share once that
 * slot's block is out. So the process exceeds the budget only when more
 * pipes run than it has first slots for (at 4 MiB blocks, more than 10),
 * by one slot for each. Buffers given back are kept for the next pipe,
 * within the budget, since a fresh one costs a page fault per 4 KiB.
 */
#define ZC_MEMORY_BUDGET (128u << 20)
#define ZC_KEPT_MAX 48

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t mem_used; /* held by slots, or kept */
static struct kept_buf {
	unsigned char *p;
	size_t len;
} mem_kept[ZC_KEPT_MAX];
static unsigned mem_nr_kept;
static unsigned mem_pipes; /* running */

/* A block buffer's length: whole huge pages, so that kept ones fit others. */
static size_t mem_len(uint32_t max_raw)
{
	return ((size_t)max_raw + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

/*
 * A buffer of `len` (mem_len()) bytes, or NULL when the budget has no
 * room for it and `force` is 0.
 */
static unsigned char *mem_take(size_t len, int force)
{
	unsigned char *p = NULL;
	unsigned i;
	int room = 0;

	pthread_mutex_lock(&mem_lock);
	for (i = 0; i < mem_nr_kept; i++)
		if (mem_kept[i].len == len) {
			p = mem_kept[i].p;
			mem_kept[i] = mem_kept[--mem_nr_kept];
			pthread_mutex_unlock(&mem_lock);
			return p;
		}
	/* kept buffers of other lengths give way to this one */
	while (mem_used + len > ZC_MEMORY_BUDGET && mem_nr_kept) {
		mem_nr_kept--;
		mem_used -= mem_kept[mem_nr_kept].len;
		free(mem_kept[mem_nr_kept].p);
	}
	if (mem_used + len <= ZC_MEMORY_BUDGET || force) {
		mem_used += len;
		room = 1;
	}
	pthread_mutex_unlock(&mem_lock);
	return room ? block_buf(len) : NULL;
}

static void mem_give(unsigned char *p, size_t len)
{
	if (!p)
		return;
	pthread_mutex_lock(&mem_lock);
	if (mem_nr_kept < ZC_KEPT_MAX && mem_used <= ZC_MEMORY_BUDGET) {
		mem_kept[mem_nr_kept].p = p;
		mem_kept[mem_nr_kept].len = len;
		mem_nr_kept++;
		p = NULL;
	} else {
		mem_used -= len;
	}
	pthread_mutex_unlock(&mem_lock);
	free(p);
}

/* True when `held` slots are more than pipe p's share of the budget. */
static int over_share(struct zc_pipe *p, unsigned held)
{
	uint64_t bytes = (uint64_t)held * 3 * mem_len(p->max_raw);
	int over;

	pthread_mutex_lock(&mem_lock);
	over = mem_used > ZC_MEMORY_BUDGET ||
	       bytes > ZC_MEMORY_BUDGET / (mem_pipes ? mem_pipes : 1);
	pthread_mutex_unlock(&mem_lock);
	return over;
}

/*
 * Buffers for slot `s`, whose block the caller fills next: 0, or -1 when
 * the budget has no room and the pipe holds buffers for another slot.
 */
static int slot_take(struct zc_pipe *p, struct zc_slot *s)
{
	size_t len = mem_len(p->max_raw);
	int force = !p->nr_held;

	if (s->stored)
		return 0;
	if (!force && over_share(p, p->nr_held + 1))
		return -1;
	s->stored = mem_take(len, force);
	s->raw = s->stored ? mem_take(len, force) : NULL;
	s->tmp = s->raw ? mem_take(len, force) : NULL;
	if (!s->tmp) {
		mem_give(s->stored, len);
		mem_give(s->raw, len);
		s->stored = s->raw = NULL;
		return -1;
	}
	s->have = 0;
	p->nr_held++;
	return 0;
}

/* Give slot `s`'s buffers back to the budget. */
static void slot_give(struct zc_pipe *p, struct zc_slot *s)
{
	size_t len = mem_len(p->max_raw);

	if (!s->stored)
		return;
	mem_give(s->stored, len);
	mem_give(s->raw, len);
	mem_give(s->tmp, len);
	s->stored = s->raw = s->tmp = NULL;
	p->nr_held--;
}

/*
 * Slot `s`'s block went out: when the pipe holds more than its share of
 * the budget (pipes started since), give the slot's buffers back, unless
 * they are its last.
 */
static void slot_out(struct zc_pipe *p, struct zc_slot *s)
{
	s->have = 0;
	if (p->nr_held >= 2 && over_share(p, p->nr_held))
		slot_give(p, s);
}

/*
 * Slot `s` is next to fill and has no buffers, the budget none to give:
 * move those of a slot whose block is out (not in [head, submitted)).
 * Returns 0, or -1 when every slot holding buffers has a block in flight.
 */
static int slot_move(struct zc_pipe *p, struct zc_slot *s)
{
	unsigned i;

	for (i = 0; i < p->nr_slots; i++) {
		struct zc_slot *o = &p->slots[i];
		uint32_t since = (i + p->nr_slots - p->head % p->nr_slots) %
				 p->nr_slots;

		if (o == s || !o->stored || since < p->submitted - p->head)
			continue;
		s->stored = o->stored;
		s->raw = o->raw;
		s->tmp = o->tmp;
		o->stored = o->raw = o->tmp = NULL;
		s->have = 0;
		return 0;
	}
	return -1;
}

/*
 * For the test suite only: GIT_MODEL_TEST_ZC_DECODE_WAIT=<file> makes
 * every block's decoding wait until <file> exists (a slow decoder);
 * <file>-waiting is created when a block waits.
 */
static void test_decode_wait(void)
{
	const char *v = getenv("GIT_MODEL_TEST_ZC_DECODE_WAIT");
	char mark[4096];
	int fd;

	if (!v || !*v || access(v, F_OK) == 0)
		return;
	if ((size_t)snprintf(mark, sizeof(mark), "%s-waiting", v) <
	    sizeof(mark)) {
		fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	while (access(v, F_OK) < 0)
		usleep(10 * 1000);
}

static void slot_decode(struct zc_pipe *p, struct zc_slot *s, uint32_t i)
{
	const struct zc_block *b = &p->h->blocks[i];

	test_decode_wait();
	s->failed = 0;
	if (b->codec == ZC_CODEC_RAW)
		return; /* emitted from s->stored */
	strbuf_reset(&s->err);
	if (b->codec == ZC_CODEC_ZSTD && !s->dc && !(s->dc = ZSTD_createDCtx()))
		die("out of memory (zstd)");
	s->failed = block_decode(b, i, s->stored, s->raw, s->tmp, s->dc,
				 &s->err) < 0;
}

static void *pipe_worker(void *arg)
{
	struct zc_pipe *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct zc_slot *s;
		uint32_t i;

		while (!p->stop && p->taken == p->submitted)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		i = p->taken++;
		s = &p->slots[i % p->nr_slots];
		pthread_mutex_unlock(&p->lock);
		p->fn(p, s, i);
		pthread_mutex_lock(&p->lock);
		s->done = 1;
		pthread_cond_broadcast(&p->ready);
		if (p->notify)
			p->notify(p->notify_data);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The buffers of one decoder's or encoder's blocks in flight stay below this. */
#define ZC_INFLIGHT_MAX (64u << 20)
/* Decoding threads of one decoder, at most. */
#define ZC_THREADS_MAX 8

/*
 * A pipe for `nr` blocks of at most `max_raw` bytes from block `first`
 * on, worked on by `fn` in threads, or in pipe_submit() when there is one
 * core or one block and `threaded` is 0 (1: a thread whatever the
 * cores, so that the caller never works on a block itself).
 */
static struct zc_pipe *pipe_start(uint32_t first, uint32_t nr,
				  uint32_t max_raw, int threaded,
				  void (*fn)(struct zc_pipe *p,
					     struct zc_slot *s, uint32_t i))
{
	struct zc_pipe *p = xcalloc(1, sizeof(*p));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = cores > 1 ? (unsigned)cores : 0, i;

	p->fn = fn;
	p->max_raw = max_raw;
	/* before the threads start, which read them */
	p->head = p->submitted = p->taken = first;
	pthread_mutex_lock(&mem_lock);
	mem_pipes++;
	pthread_mutex_unlock(&mem_lock);
	if (want > ZC_THREADS_MAX)
		want = ZC_THREADS_MAX;
	if (nr < 2)
		want = 0;
	else if (want > nr)
		want = nr;
	if (threaded && !want && nr)
		want = 1;
	/* one slot emptied, one filled, one per thread working */
	while (want && (uint64_t)(want + 2) * 3 * p->max_raw > ZC_INFLIGHT_MAX)
		want--;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->threads = want ? xcalloc(want, sizeof(*p->threads)) : NULL;
	for (i = 0; i < want; i++)
		if (!pthread_create(&p->threads[p->nr_threads], NULL,
				    pipe_worker, p))
			p->nr_threads++;
	p->nr_slots = p->nr_threads ? p->nr_threads + 2 : 1;
	p->slots = xcalloc(p->nr_slots, sizeof(*p->slots));
	for (i = 0; i < p->nr_slots; i++)
		strbuf_init(&p->slots[i].err, 0);
	return p;
}

static void pipe_stop(struct zc_pipe *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_lock(&mem_lock);
	mem_pipes--;
	pthread_mutex_unlock(&mem_lock);
	for (i = 0; i < p->nr_slots; i++) {
		slot_give(p, &p->slots[i]);
		strbuf_release(&p->slots[i].err);
		ZSTD_freeDCtx(p->slots[i].dc);
		ZSTD_freeCCtx(p->slots[i].cc);
	}
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p->slots);
	free(p->threads);
	free(p);
}

/* The slot the caller fills next, once its last block was emitted. */
static struct zc_slot *pipe_fill_slot(struct zc_pipe *p)
{
	return &p->slots[p->submitted % p->nr_slots];
}

/* Hand the filled slot to the workers, or decode it here without any. */
static void pipe_submit(struct zc_pipe *p)
{
	struct zc_slot *s = pipe_fill_slot(p);

	if (!p->nr_threads) {
		p->fn(p, s, p->submitted);
		s->done = 1;
		p->submitted++;
		p->taken++;
		return;
	}
	pthread_mutex_lock(&p->lock);
	s->done = 0;
	p->submitted++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Wait for the block at the head and take it: returns its slot (the
 * caller emits it, then calls pipe_next()), or NULL when no block is
 * submitted. A failed block's reason is in the slot's err.
 */
static struct zc_slot *pipe_head(struct zc_pipe *p, int wait)
{
	struct zc_slot *s;
	int done;

	if (p->head == p->submitted)
		return NULL;
	s = &p->slots[p->head % p->nr_slots];
	if (!p->nr_threads)
		return s;
	pthread_mutex_lock(&p->lock);
	while (!(done = s->done) && wait)
		pthread_cond_wait(&p->ready, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return done ? s : NULL;
}

/*
 * Emit decoded blocks in order: those done when `wait` is 0, else every
 * submitted one, waiting for them. Returns 0, or -1 with the reason.
 */
static int emit_ready(struct zc_decoder *d, int wait, zc_emit_fn emit,
		      void *ctx, struct strbuf *err)
{
	struct zc_pipe *p = d->pipe;
	struct zc_slot *s;

	if (!p)
		return 0; /* finished: every block went out */
	while ((s = pipe_head(p, wait))) {
		const struct zc_block *b = &d->h.blocks[p->head];

		if (s->failed) {
			if (err)
				strbuf_add(err, s->err.buf, s->err.len);
			return -1;
		}
		if (emit(ctx, b->codec == ZC_CODEC_RAW ? s->stored : s->raw,
			 b->raw_len) < 0)
			return fail(err, "block %u: its raw bytes were not taken",
				    p->head);
		d->emitted += b->raw_len;
		slot_out(p, s);
		p->head++;
	}
	return 0;
}

void zc_decoder_init(struct zc_decoder *d, uint64_t want_size)
{
	struct zc_decoder blank = ZC_DECODER_INIT;

	*d = blank;
	d->want_size = want_size;
}

void zc_decoder_release(struct zc_decoder *d)
{
	pipe_stop(d->pipe);
	d->pipe = NULL;
	zc_header_release(&d->h);
	strbuf_release(&d->in);
	d->have_header = 0;
}

/* Take bytes from *buf into `sb` until it holds `want`; true when it does. */
static int fill(struct strbuf *sb, const unsigned char **buf, size_t *len,
		size_t want)
{
	size_t n = want > sb->len ? want - sb->len : 0;

	if (n > *len)
		n = *len;
	strbuf_add(sb, *buf, n);
	*buf += n;
	*len -= n;
	return sb->len >= want;
}

/* Take bytes from *buf into the slot until it holds `want`; true when it does. */
static int fill_slot(struct zc_slot *s,
		     const unsigned char **buf, size_t *len, size_t want)
{
	size_t n = want - s->have;

	if (n > *len)
		n = *len;
	memcpy(s->stored + s->have, *buf, n);
	s->have += n;
	*buf += n;
	*len -= n;
	return s->have == want;
}

/*
 * The header and table are in d->h: check its raw size, start the pipe
 * at block `first` (whose stored bytes come next, whose raw bytes are
 * emitted next).
 */
static int decoder_start(struct zc_decoder *d, uint32_t first,
			 struct strbuf *err)
{
	uint64_t stored, raw;
	uint32_t i, max = 0;

	if (d->want_size != ZC_SIZE_ANY && d->h.raw_size != d->want_size)
		return fail(err, "holds %llu raw bytes, %llu were expected",
			    (unsigned long long)d->h.raw_size,
			    (unsigned long long)d->want_size);
	for (i = first; i < d->h.nr; i++)
		if (d->h.blocks[i].raw_len > max)
			max = d->h.blocks[i].raw_len;
	d->pipe = pipe_start(first, d->h.nr - first, max, !!d->notify,
			     slot_decode);
	/* before the first block is submitted, under the lock after */
	d->pipe->h = &d->h;
	d->pipe->notify = d->notify;
	d->pipe->notify_data = d->notify_data;
	zc_block_offsets(&d->h, first, &stored, &raw);
	d->next = first;
	d->emitted = raw;
	d->have_header = 1;
	return 0;
}

static int decoder_header(struct zc_decoder *d, const unsigned char **buf,
			  size_t *len, struct strbuf *err)
{
	long n;

	if (!fill(&d->in, buf, len, ZC_HEADER_SIZE)) {
		if (d->in.len >= 4 && !zc_is_container(d->in.buf, 4))
			return fail(err, "bad magic (not a compressed object)");
		return 0;
	}
	n = zc_header_parse(&d->h, d->in.buf, d->in.len, err);
	if (n < 0)
		return -1;
	if (!n) {
		/* the header passed: its block count is within ZC_BLOCKS_MAX */
		size_t want = zc_header_length(d->in.buf, d->in.len);

		if (!fill(&d->in, buf, len, want))
			return 0;
		n = zc_header_parse(&d->h, d->in.buf, d->in.len, err);
		if (n <= 0)
			return -1;
	}
	if (decoder_start(d, 0, err) < 0)
		return -1;
	strbuf_release(&d->in);
	return 0;
}

int zc_decoder_init_at(struct zc_decoder *d, uint64_t want_size,
		       struct zc_header *h, uint32_t first, struct strbuf *err)
{
	uint64_t raw;

	zc_decoder_init(d, want_size);
	d->h = *h;
	h->blocks = NULL;
	zc_header_release(h);
	if (first > d->h.nr) {
		d->failed = 1;
		return fail(err, "block %u is past its last block (%u)", first,
			    d->h.nr);
	}
	if (decoder_start(d, first, err) < 0) {
		d->failed = 1;
		return -1;
	}
	zc_block_offsets(&d->h, first, &d->fed, &raw);
	return 0;
}

int zc_decoder_drain(struct zc_decoder *d, zc_emit_fn emit, void *ctx,
		     struct strbuf *err)
{
	if (d->failed)
		return fail(err, "decoding failed before");
	if (!d->have_header)
		return 0;
	if (emit_ready(d, 1, emit, ctx, err) < 0) {
		d->failed = 1;
		return -1;
	}
	return 0;
}

void zc_decoder_notify(struct zc_decoder *d, void (*fn)(void *data),
		       void *data)
{
	d->notify = fn;
	d->notify_data = data;
	if (!d->pipe)
		return;
	if (fn && !d->pipe->nr_threads && d->pipe->submitted == d->next &&
	    d->pipe->head == d->next && !d->failed) {
		/* zc_decoder_init_at()'s pipe, nothing fed: on threads now */
		pipe_stop(d->pipe);
		d->pipe = NULL;
		if (decoder_start(d, d->next, NULL) < 0)
			d->failed = 1;
		return;
	}
	pthread_mutex_lock(&d->pipe->lock);
	d->pipe->notify = fn;
	d->pipe->notify_data = data;
	pthread_mutex_unlock(&d->pipe->lock);
}

/*
 * Feed what of `len` bytes the decoder takes: all of them when `wait`
 * (it waits for its threads as it must), else those it has room for
 * without waiting. Returns how many it took, or -1.
 */
static long decoder_feed(struct zc_decoder *d, const unsigned char *buf,
			 size_t len, zc_emit_fn emit, void *ctx,
			 struct strbuf *err, int wait)
{
	size_t all = len;

	if (d->failed)
		return fail(err, "decoding failed before");
	if (!d->have_header) {
		if (decoder_header(d, &buf, &len, err) < 0)
			goto fail;
		if (!d->have_header)
			goto out;
	}
	while (len) {
		struct zc_pipe *p = d->pipe;
		const struct zc_block *b;
		struct zc_slot *s;

		if (d->next == d->h.nr) {
			/* the blocks' own errors come first */
			if (emit_ready(d, 1, emit, ctx, err) < 0)
				goto fail;
			fail(err, "%zu bytes after its last block", len);
			goto fail;
		}
		b = &d->h.blocks[d->next];
		/* a slot is free once the block it last held is emitted */
		while (p->submitted - p->head == p->nr_slots) {
			if (emit_ready(d, wait, emit, ctx, err) < 0)
				goto fail;
			if (!wait && p->submitted - p->head == p->nr_slots)
				goto out;
		}
		s = pipe_fill_slot(p);
		/*
		 * The budget is short: this decoder's own blocks go out
		 * first. Both fail only while one of them is in flight.
		 */
		while (slot_take(p, s) < 0 && slot_move(p, s) < 0) {
			uint32_t head = p->head;

			if (emit_ready(d, wait, emit, ctx, err) < 0)
				goto fail;
			if (!wait && p->head == head)
				goto out;
		}
		if (!fill_slot(s, &buf, &len, b->stored_len))
			break;
		pipe_submit(p);
		d->next++;
		if (emit_ready(d, wait && d->next == d->h.nr, emit, ctx,
			       err) < 0)
			goto fail;
	}
out:
	d->fed += all - len;
	return all - len;
fail:
	d->failed = 1;
	return -1;
}

int zc_decoder_feed(struct zc_decoder *d, const void *buf, size_t len,
		    zc_emit_fn emit, void *ctx, struct strbuf *err)
{
	return decoder_feed(d, buf, len, emit, ctx, err, 1) < 0 ? -1 : 0;
}

long zc_decoder_feed_some(struct zc_decoder *d, const void *buf, size_t len,
			  zc_emit_fn emit, void *ctx, struct strbuf *err)
{
	return decoder_feed(d, buf, len, emit, ctx, err, 0);
}

int zc_decoder_poll(struct zc_decoder *d, zc_emit_fn emit, void *ctx,
		    struct strbuf *err)
{
	if (d->failed)
		return fail(err, "decoding failed before");
	if (!d->pipe)
		return 1;
	if (emit_ready(d, 0, emit, ctx, err) < 0) {
		d->failed = 1;
		return -1;
	}
	return d->pipe->head == d->pipe->submitted;
}

int zc_decoder_finish(struct zc_decoder *d, struct strbuf *err)
{
	if (d->failed)
		return fail(err, "decoding failed before");
	if (!d->have_header)
		return fail(err, "truncated in its header (%llu bytes)",
			    (unsigned long long)d->fed);
	if (d->next < d->h.nr) {
		/* a bad block before the cut says more than the cut */
		while (d->pipe->head < d->pipe->submitted) {
			struct zc_slot *s = pipe_head(d->pipe, 1);

			if (s->failed) {
				if (err)
					strbuf_add(err, s->err.buf, s->err.len);
				d->failed = 1;
				return -1;
			}
			d->pipe->head++;
		}
		return fail(err, "truncated in block %u of %u (%llu of %llu bytes)",
			    d->next, d->h.nr, (unsigned long long)d->fed,
			    (unsigned long long)d->h.stored_size);
	}
	if (d->emitted != d->h.raw_size)
		BUG("decoder emitted %llu of %llu bytes",
		    (unsigned long long)d->emitted,
		    (unsigned long long)d->h.raw_size);
	/* its threads and buffers go back to the budget now, not at release */
	pipe_stop(d->pipe);
	d->pipe = NULL;
	return 0;
}

/*
 * The element width the hint gives [off, off + len): the width (1, 2 or 4)
 * of the dtypes covering most of its bytes, or 0 when tensors cover less
 * than half of them.
 */
static unsigned hint_width(const struct model_info *hint, uint64_t off,
			   uint32_t len)
{
	uint64_t by_width[5] = { 0 }, covered = 0, end = off + len;
	unsigned w, best = 1;
	size_t i;

	if (!hint)
		return 0;
	for (i = 0; i < hint->nr; i++) {
		const struct model_tensor *t = &hint->tensors[i];
		uint64_t lo = t->offset > off ? t->offset : off;
		uint64_t hi = t->offset + t->length < end ? t->offset + t->length : end;

		if (lo >= hi)
			continue;
		if (!strcmp(t->dtype, "F32"))
			w = 4;
		else if (!strcmp(t->dtype, "F16") || !strcmp(t->dtype, "BF16"))
			w = 2;
		else
			w = 1;
		by_width[w] += hi - lo;
		covered += hi - lo;
	}
	if (covered * 2 < len)
		return 0;
	for (w = 2; w <= 4; w += 2)
		if (by_width[w] > by_width[best])
			best = w;
	return best;
}

/*
 * How a block is compressed: a transform, and for byte planes whether
 * as LITERAL_PLANES. Byte planes of floats are mostly a near-random
 * mantissa and a low-entropy exponent. Once the planes are large (half a
 * zstd block, ZSTD_BLOCKSIZE_MAX, or more), matches rarely pay there and
 * zstd's Huffman-coded literals do the work: zstd's fast strategy told to
 * skip ahead as far as it may (targetLength), with Huffman literals
 * forced on (that setting turns them off by default), looks for almost
 * no matches. On trained weights that comes out as small as any level's
 * own settings, up to 19, at about twice the speed of level 1, and
 * decodes faster too. Smaller planes share a zstd block, and its
 * literals' statistics, with their neighbours: there the level's
 * settings do better.
 *
 * ZSTD_c_literalCompressionMode is in zstd's experimental API, whose
 * numbers may change between versions: it is set only when the library
 * that runs is the one built against. Elsewhere the planes compress at
 * the level's settings, slower but as valid.
 */
#define LITERAL_PLANES 0x100

static int literal_planes_ok(void)
{
	return ZSTD_versionNumber() == ZSTD_VERSION_NUMBER;
}

static int planes_way(unsigned transform, uint32_t len)
{
	if (len / transform >= ZSTD_BLOCKSIZE_MAX / 2 && literal_planes_ok())
		return transform | LITERAL_PLANES;
	return transform;
}

/*
 * Compress `len` bytes at `in` the way `way` says into `out`, which has
 * room for `len` bytes: the frame's length, or SIZE_MAX when it would not
 * be smaller than that.
 */
static size_t compress_as(int way, int level, const unsigned char *in,
			  size_t len, unsigned char *out, unsigned char *tmp,
			  ZSTD_CCtx *cc)
{
	unsigned transform = way & 0xff;
	size_t n;

	ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	if (transform != ZC_TRANSFORM_NONE) {
		planes_split(transform, in, len, tmp);
		in = tmp;
	}
	if (way & LITERAL_PLANES) {
		ZSTD_CCtx_setParameter(cc, ZSTD_c_strategy, ZSTD_fast);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_hashLog, 6);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_minMatch, 7);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_targetLength,
				       ZSTD_TARGETLENGTH_MAX);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_literalCompressionMode,
				       ZSTD_ps_enable);
	}
	n = ZSTD_compress2(cc, out, len, in, len);
	if (ZSTD_isError(n)) {
		if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			return SIZE_MAX;
		BUG("ZSTD_compress2: %s", ZSTD_getErrorName(n));
	}
	return n < len ? n : SIZE_MAX;
}

/*
 * What `n` bytes of a sample at `in` compress to the way `way` says, as
 * in a whole block: LITERAL_PLANES are each plane on its own, as a
 * block's planes are (large enough to fill zstd blocks of their own, so
 * their literals' statistics are their own); in one frame a sample's
 * small planes would share them. SIZE_MAX when not smaller than `n`.
 */
static size_t sample_size(int way, int level, const unsigned char *in,
			  size_t n, unsigned char *out, unsigned char *tmp,
			  ZSTD_CCtx *cc)
{
	unsigned w = way & 0xff, i;
	size_t plane, total = 0;

	if (!(way & LITERAL_PLANES) || n % w)
		return compress_as(way, level, in, n, out, tmp, cc);
	planes_split(w, in, n, tmp);
	plane = n / w;
	for (i = 0; i < w; i++) {
		size_t got = compress_as(LITERAL_PLANES, level, tmp + i * plane,
					 plane, out, NULL, cc);

		if (got == SIZE_MAX)
			got = plane;
		total += got;
	}
	return total < n ? total : SIZE_MAX;
}

/*
 * Of the `nr` ways at `cand`, the one that makes a sample of the block
 * smallest; -1 (store raw) when even that barely shrinks it. The sample
 * compresses into `out` (room for len bytes).
 */
static int trial(int level, const unsigned char *raw, uint32_t len,
		 unsigned char *tmp, ZSTD_CCtx *cc, unsigned char *out,
		 const int *cand, unsigned nr)
{
	size_t start = 0, n = len, best_n = SIZE_MAX;
	int best = -1;
	unsigned i;

	if (len > ZC_SAMPLE) {
		start = ((len - ZC_SAMPLE) / 2) & ~(size_t)3;
		n = ZC_SAMPLE;
	}
	for (i = 0; i < nr; i++) {
		size_t got = sample_size(cand[i], level, raw + start, n, out,
					 tmp, cc);

		if (got < best_n) {
			best_n = got;
			best = cand[i];
		}
	}
	if (best < 0 || best_n * 1000 >= (uint64_t)n * ZC_SAMPLE_KEEP)
		return -1;
	return best;
}

/*
 * How to compress a block: plainly for a hint's integers, in planes of
 * their width for its floats; with no hint, the way that does best on a
 * sample, or -1 for raw. The sample is compressed each way as the whole
 * block would be (LITERAL_PLANES included), so that data whose matches
 * pay (text, tables) is not put into planes that look for none.
 */
static int choose(const struct zc_options *opts, int level, uint64_t off,
		  const unsigned char *raw, uint32_t len, unsigned char *tmp,
		  ZSTD_CCtx *cc, unsigned char *out)
{
	int w = hint_width(opts->hint, off, len);

	if (!w) {
		int any[] = { ZC_TRANSFORM_NONE,
			      planes_way(ZC_TRANSFORM_PLANES2, len),
			      planes_way(ZC_TRANSFORM_PLANES4, len) };

		return trial(level, raw, len, tmp, cc, out, any,
			     sizeof(any) / sizeof(*any));
	}
	if (w == 1)
		return ZC_TRANSFORM_NONE;
	if (w == ZC_TRANSFORM_PLANES2 || w == ZC_TRANSFORM_PLANES4)
		return planes_way(w, len);
	return w;
}

/*
 * zc_block_encode() into `out`, with room for len bytes, and `tmp` of len
 * bytes (for ZC_AUTO) and a zstd context, all kept by the caller from
 * block to block. A block stored raw leaves its bytes where they are.
 */
static void block_encode(const struct zc_options *opts, uint64_t off,
			 const unsigned char *raw, uint32_t len,
			 unsigned char *out, struct zc_block *b,
			 unsigned char *tmp, ZSTD_CCtx *cc)
{
	int level = opts->level ? opts->level : ZC_LEVEL_DEFAULT;
	int way = ZC_TRANSFORM_NONE;
	size_t n;

	if (!len || len > ZC_BLOCK_MAX)
		BUG("block of %u bytes", len);
	b->codec = ZC_CODEC_RAW;
	b->transform = ZC_TRANSFORM_NONE;
	b->raw_len = len;
	b->stored_len = len;
	if (opts->mode == ZC_AUTO)
		way = choose(opts, level, off, raw, len, tmp, cc, out);
	if (way >= 0) {
		n = compress_as(way, level, raw, len, out, tmp, cc);
		if (n < len) {
			b->codec = ZC_CODEC_ZSTD;
			b->transform = way & 0xff;
			b->stored_len = n;
		}
	}
}

static ZSTD_CCtx *new_cctx(void)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();

	if (!cc)
		die("out of memory (zstd)");
	return cc;
}

void zc_block_encode(const struct zc_options *opts, uint64_t off,
		     const void *raw, uint32_t len, struct strbuf *out,
		     struct zc_block *b)
{
	unsigned char *tmp = opts->mode == ZC_AUTO ? xmalloc(len ? len : 1) : NULL;
	ZSTD_CCtx *cc = new_cctx();

	strbuf_grow(out, len);
	block_encode(opts, off, raw, len, (unsigned char *)out->buf + out->len,
		     b, tmp, cc);
	if (b->codec == ZC_CODEC_RAW)
		memcpy(out->buf + out->len, raw, len);
	strbuf_setlen(out, out->len + b->stored_len);
	ZSTD_freeCCtx(cc);
	free(tmp);
}

static void slot_encode(struct zc_pipe *p, struct zc_slot *s, uint32_t i)
{
	if (!s->cc)
		s->cc = new_cctx();
	block_encode(p->opts, s->off, s->stored, s->have, s->raw, &s->blk,
		     s->tmp, s->cc);
}

/* Write the encoded blocks at the head, waiting for them with `wait`. */
static int write_ready(struct zc_pipe *p, int wait, int out_fd,
		       struct zc_header *h, uint64_t *pos)
{
	struct zc_slot *s;

	while ((s = pipe_head(p, wait))) {
		const unsigned char *out = s->blk.codec == ZC_CODEC_RAW ?
					   s->stored : s->raw;

		if (write_in_full(out_fd, out, s->blk.stored_len) < 0)
			return error_errno("cannot write the compressed object");
		*pos += s->blk.stored_len;
		h->blocks[p->head] = s->blk;
		slot_out(p, s);
		p->head++;
	}
	return 0;
}

int zc_encode_fd(int in_fd, uint64_t size, int out_fd,
		 const struct zc_options *opts, uint64_t *stored)
{
	struct zc_header h = ZC_HEADER_INIT;
	struct strbuf hd = STRBUF_INIT;
	struct zc_pipe *p = NULL;
	uint32_t bs = opts->block_size ? opts->block_size : ZC_BLOCK_DEFAULT;
	uint32_t first = bs;
	uint64_t nr64, done = 0, pos;
	int ret = -1;

	if (bs > ZC_BLOCK_MAX)
		BUG("block size %u", bs);
	if (opts->first_block && opts->first_block < bs &&
	    opts->first_block < size)
		first = opts->first_block;
	nr64 = size <= first ? !!size : 1 + (size - first + bs - 1) / bs;
	if (nr64 > ZC_BLOCKS_MAX)
		return error("cannot compress %llu bytes in blocks of %u: too many blocks",
			     (unsigned long long)size, bs);
	h.raw_size = size;
	h.nr = nr64;
	h.blocks = xcalloc(h.nr ? h.nr : 1, sizeof(*h.blocks));
	pos = ZC_HEADER_SIZE + (uint64_t)h.nr * ZC_ENTRY_SIZE;
	if (lseek(out_fd, pos, SEEK_SET) < 0) {
		error_errno("cannot seek in the compressed output");
		goto out;
	}
	p = pipe_start(0, h.nr, bs, 0, slot_encode);
	p->opts = opts;
	/* read a block into each free slot; write blocks as they are done */
	while (done < size) {
		struct zc_slot *s;
		uint32_t want = done ? bs : first;
		uint32_t len = size - done < want ? size - done : want;
		ssize_t got;

		while (p->submitted - p->head == p->nr_slots)
			if (write_ready(p, 1, out_fd, &h, &pos) < 0)
				goto out;
		s = pipe_fill_slot(p);
		/* the budget is short: this encoder's own blocks go out first */
		while (slot_take(p, s) < 0 && slot_move(p, s) < 0)
			if (write_ready(p, 1, out_fd, &h, &pos) < 0)
				goto out;
		got = read_in_full(in_fd, s->stored, len);
		if (got < 0) {
			error_errno("cannot read the object to compress");
			goto out;
		}
		if ((size_t)got != len) {
			error("the object to compress ended after %llu of %llu bytes",
			      (unsigned long long)(done + got),
			      (unsigned long long)size);
			goto out;
		}
		s->have = len;
		s->off = done;
		pipe_submit(p);
		done += len;
		if (write_ready(p, 0, out_fd, &h, &pos) < 0)
			goto out;
	}
	if (write_ready(p, 1, out_fd, &h, &pos) < 0)
		goto out;
	zc_header_format(&h, &hd);
	if (pwrite(out_fd, hd.buf, hd.len, 0) != (ssize_t)hd.len) {
		error_errno("cannot write the compressed object's header");
		goto out;
	}
	if (stored)
		*stored = pos;
	ret = 0;
out:
	pipe_stop(p);
	strbuf_release(&hd);
	zc_header_release(&h);
	return ret;
}
