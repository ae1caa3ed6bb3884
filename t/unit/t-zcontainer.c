/*
 * Unit tests for zcontainer.c against git-model-compression(5): round
 * trips of every block kind, what the encoder chooses for typical bytes,
 * and hostile containers (truncated, lying sizes, an overlapping block
 * table, a zstd bomb) refused with one line and no raw byte handed out.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <zstd.h>

#include "strbuf.h"
#include "wrapper.h"
#include "zcontainer.h"
#include "unit-test.h"

static uint64_t rng = 88172645463325252ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

/*
 * Float32 weights of small magnitude, roughly normal: full random
 * mantissas, while the sign and exponent bytes repeat.
 */
static void fill_f32(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		float f = ((float)next_rand() + next_rand() + next_rand() -
			   1.5f * 4294967296.0f) / 4294967296.0f * 0.05f;

		memcpy(buf + i, &f, 4);
	}
	for (; i < len; i++)
		buf[i] = 0;
}

static void fill_random(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = next_rand();
}

/* Encode `len` bytes at `raw` into `out` through a memfd. */
static int encode(const struct zc_options *opts, const void *raw, size_t len,
		  struct strbuf *out)
{
	int in = memfd_create("raw", 0), fd = memfd_create("zc", 0);
	uint64_t stored = 0;
	int ret;

	if (write_in_full(in, raw, len) < 0 || lseek(in, 0, SEEK_SET))
		return -1;
	ret = zc_encode_fd(in, len, fd, opts, &stored);
	strbuf_reset(out);
	if (!ret) {
		strbuf_grow(out, stored);
		if (pread(fd, out->buf, stored, 0) != (ssize_t)stored)
			ret = -1;
		else
			strbuf_setlen(out, stored);
	}
	close(in);
	close(fd);
	return ret;
}

static int emit_sb(void *ctx, const void *buf, size_t len)
{
	strbuf_add(ctx, buf, len);
	return 0;
}

/* Decode in pieces of `piece` bytes; -1 leaves the reason in `err`. */
static int decode(const struct strbuf *in, uint64_t want, size_t piece,
		  struct strbuf *raw, struct strbuf *err)
{
	struct zc_decoder d;
	size_t off = 0;
	int ret = 0;

	zc_decoder_init(&d, want);
	strbuf_reset(raw);
	strbuf_reset(err);
	while (!ret && off < in->len) {
		size_t n = in->len - off < piece ? in->len - off : piece;

		ret = zc_decoder_feed(&d, in->buf + off, n, emit_sb, raw, err);
		off += n;
	}
	if (!ret)
		ret = zc_decoder_finish(&d, err);
	zc_decoder_release(&d);
	return ret;
}

static void round_trip(const struct zc_options *opts, const unsigned char *raw,
		       size_t len, const char *what)
{
	struct strbuf z = STRBUF_INIT, back = STRBUF_INIT, err = STRBUF_INIT;
	static const size_t pieces[] = { 1, 7, 4096, SIZE_MAX };
	size_t i;

	if (!ok(!encode(opts, raw, len, &z), "%s: encodes", what))
		return;
	ok(z.len <= len + ZC_HEADER_SIZE +
	   ((len + opts->block_size - 1) / opts->block_size) * ZC_ENTRY_SIZE,
	   "%s: never larger than raw plus header and table (%zu -> %zu)",
	   what, len, z.len);
	for (i = 0; i < sizeof(pieces) / sizeof(*pieces); i++) {
		if (len > 100000 && pieces[i] == 1)
			continue;
		if (decode(&z, len, pieces[i], &back, &err))
			printf("# %s\n", err.buf);
		ok(back.len == len && !memcmp(back.buf, raw, len),
		   "%s: decodes byte-exact in pieces of %zu", what, pieces[i]);
	}
	strbuf_release(&z);
	strbuf_release(&back);
	strbuf_release(&err);
}

/*
 * The block table of a container, for checking what the encoder chose;
 * `transform` -1 is any byte-plane transform.
 */
static void check_table(const struct strbuf *z, unsigned codec,
			int transform, const char *what)
{
	struct zc_header h = ZC_HEADER_INIT;
	int all = 1;
	uint32_t i;

	if (zc_header_parse(&h, z->buf, z->len, NULL) <= 0) {
		ok(0, "%s: parses", what);
		return;
	}
	for (i = 0; i < h.nr; i++)
		all &= h.blocks[i].codec == codec &&
		       (transform < 0 ? h.blocks[i].transform != ZC_TRANSFORM_NONE :
			h.blocks[i].transform == transform);
	ok(h.nr && all, "%s: every block is %s/%s", what,
	   codec ? "zstd" : "raw",
	   transform < 0 ? "planes" : zc_transform_name(transform));
	zc_header_release(&h);
}

/*
 * Decoding `z` fails with one line holding `word`. Blocks before the one
 * at fault may have been handed out (the caller discards them); with
 * `none_out`, the fault is found before any.
 */
static void expect_refused_(const struct strbuf *z, uint64_t want,
			    const char *word, int none_out, const char *what)
{
	struct strbuf back = STRBUF_INIT, err = STRBUF_INIT;
	int ret = decode(z, want, 4096, &back, &err);

	ok(ret == -1 && strstr(err.buf, word) && !strchr(err.buf, '\n'),
	   "%s: refused (%s)", what, err.buf);
	if (none_out)
		ok(!back.len, "%s: no raw byte handed out", what);
	strbuf_release(&back);
	strbuf_release(&err);
}
#define expect_refused(z, want, word, what) expect_refused_(z, want, word, 1, what)
#define expect_refused_late(z, want, word, what) expect_refused_(z, want, word, 0, what)

static void put32(struct strbuf *z, size_t off, uint32_t v)
{
	unsigned char *p = (unsigned char *)z->buf + off;

	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put64(struct strbuf *z, size_t off, uint64_t v)
{
	put32(z, off, v);
	put32(z, off + 4, v >> 32);
}

#define ENTRY(i, field) (ZC_HEADER_SIZE + (i) * ZC_ENTRY_SIZE + (field))

/* Stops the decoder at its third block. */
static int emit_two(void *ctx, const void *buf, size_t len)
{
	struct strbuf *sb = ctx;

	if (sb->len >= 2 * 16384)
		return -1;
	strbuf_add(sb, buf, len);
	return 0;
}

/*
 * Blocks decode on several threads, yet the raw bytes and the errors come
 * in block order: a bad block is named even when the input is cut later,
 * and a caller that stops taking bytes gets no more.
 */
static void in_order(void)
{
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct strbuf z = STRBUF_INIT, t = STRBUF_INIT, back = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct zc_header h = ZC_HEADER_INIT;
	struct zc_decoder d;
	unsigned char *raw = xmalloc(16 * 16384);
	size_t off, i, cut = 0;
	int ret;

	opts.block_size = 16384;
	fill_f32(raw, 16 * 16384);
	encode(&opts, raw, 16 * 16384, &z);
	if (!ok(zc_header_parse(&h, z.buf, z.len, NULL) > 0 && h.nr == 16,
		"16 blocks"))
		goto out;
	off = ZC_HEADER_SIZE + 16 * ZC_ENTRY_SIZE;
	for (i = 0; i < 9; i++)
		off += h.blocks[i].stored_len;
	for (cut = off, i = 9; i < 13; i++)
		cut += h.blocks[i].stored_len;

	strbuf_add(&t, z.buf, z.len);
	t.buf[off] = 0; /* block 9's frame loses its magic */
	expect_refused_late(&t, ZC_SIZE_ANY, "block 9: not a zstd frame",
			    "a bad block in the middle");
	strbuf_setlen(&t, cut);
	expect_refused_late(&t, ZC_SIZE_ANY, "block 9: not a zstd frame",
			    "a bad block before a cut: the block is named");
	ret = decode(&t, ZC_SIZE_ANY, 1, &back, &err);
	ok(ret == -1 && strstr(err.buf, "block 9: not a zstd frame"),
	   "byte by byte too (%s)", err.buf);
	ok(back.len <= 9 * 16384 && !memcmp(back.buf, raw, back.len),
	   "blocks before it, in order (%zu bytes)", back.len);

	strbuf_reset(&back);
	strbuf_reset(&err);
	zc_decoder_init(&d, ZC_SIZE_ANY);
	ret = zc_decoder_feed(&d, z.buf, z.len, emit_two, &back, &err);
	if (!ret)
		ret = zc_decoder_finish(&d, &err);
	zc_decoder_release(&d);
	ok(ret == -1 && strstr(err.buf, "block 2: its raw bytes were not taken"),
	   "a caller that stops taking bytes stops the decoder (%s)", err.buf);
	ok(back.len == 2 * 16384 && !memcmp(back.buf, raw, back.len),
	   "it got the first two blocks");
out:
	zc_header_release(&h);
	strbuf_release(&z);
	strbuf_release(&t);
	strbuf_release(&back);
	strbuf_release(&err);
	free(raw);
}

static void hostile(void)
{
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct strbuf z = STRBUF_INIT, t = STRBUF_INIT;
	static const size_t cuts[] = { 0, 3, 4, 23, 24, 25, 71, 72, 1000 };
	unsigned char *raw = xmalloc(300000), *bomb;
	size_t n, i;

	opts.block_size = 100000;
	fill_f32(raw, 300000);
	encode(&opts, raw, 300000, &z);

	/* inside the magic, the header, the table, the first block */
	for (i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		strbuf_reset(&t);
		strbuf_add(&t, z.buf, cuts[i]);
		expect_refused(&t, 300000, "truncated", "truncated container");
	}
	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len - 1);
	expect_refused_late(&t, 300000, "truncated in block 2", "last byte missing");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	strbuf_addch(&t, 0);
	expect_refused_late(&t, 300000, "after its last block", "a byte too many");

	expect_refused(&z, 299999, "were expected", "raw size not the pointer's");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	put64(&t, 8, 300001);
	expect_refused(&t, ZC_SIZE_ANY, "the header says", "header lies about raw size");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	put32(&t, ENTRY(0, 8), 0xffffff00);
	expect_refused(&t, ZC_SIZE_ANY, "not below its raw length",
		       "stored length beyond the raw length");

	/* block 0 claims one byte more: its frame runs into block 1 */
	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	put32(&t, ENTRY(0, 8),
	      ((unsigned char)t.buf[ENTRY(0, 8)] |
	       (unsigned char)t.buf[ENTRY(0, 9)] << 8 |
	       (unsigned char)t.buf[ENTRY(0, 10)] << 16) + 1);
	expect_refused(&t, ZC_SIZE_ANY, "block 0", "overlapping block table");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	t.buf[ENTRY(1, 0)] = 7;
	expect_refused(&t, ZC_SIZE_ANY, "unknown codec", "unknown codec");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	put32(&t, 16, ZC_BLOCKS_MAX + 1);
	expect_refused(&t, ZC_SIZE_ANY, "more than", "too many blocks");

	strbuf_reset(&t);
	strbuf_add(&t, z.buf, z.len);
	t.buf[4] = 2;
	expect_refused(&t, ZC_SIZE_ANY, "version 2", "a later version");

	strbuf_reset(&t);
	strbuf_addstr(&t, "PK\003\004 not a container at all");
	expect_refused(&t, ZC_SIZE_ANY, "bad magic", "not a container");

	/*
	 * A zstd bomb: 16 MiB of zeros in a frame whose header says 1000
	 * bytes, in a container claiming 1000 raw bytes (the frame must
	 * be smaller than the block's raw length).
	 */
	bomb = xcalloc(1, 16 << 20);
	n = ZSTD_compress(raw, 300000, bomb, 16 << 20, 3);
	ok(!ZSTD_isError(n) && n < 1000, "bomb frame is %zu bytes", n);
	/* frame header: magic, descriptor (FCS 4 bytes, single segment) */
	ok((raw[4] & 0xc0) == 0x80, "bomb frame has a 4-byte content size");
	{
		unsigned off = 5 + !(raw[4] & 0x20) + (raw[4] & 3 ? 1 << ((raw[4] & 3) - 1) : 0);
		struct zc_header h = ZC_HEADER_INIT;
		struct zc_block b = { ZC_CODEC_ZSTD, 0, 1000, n };

		raw[off] = 1000 & 0xff;
		raw[off + 1] = 1000 >> 8;
		raw[off + 2] = raw[off + 3] = 0;
		h.raw_size = 1000;
		h.nr = 1;
		h.blocks = &b;
		strbuf_reset(&t);
		zc_header_format(&h, &t);
		strbuf_add(&t, raw, n);
		expect_refused(&t, 1000, "block 0", "zstd bomb claiming 1000 bytes");
	}
	free(bomb);
	free(raw);
	in_order();
	strbuf_release(&z);
	strbuf_release(&t);
}

int main(void)
{
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct strbuf z = STRBUF_INIT;
	size_t len = 1 << 20;
	unsigned char *buf = xmalloc(len);
	unsigned char *f32 = xmalloc(2 * len);
	size_t i;

	opts.block_size = 256 << 10;

	round_trip(&opts, buf, 0, "empty object");
	fill_random(buf, 1);
	round_trip(&opts, buf, 1, "one byte");

	fill_random(buf, len);
	round_trip(&opts, buf, len, "random bytes");
	encode(&opts, buf, len, &z);
	check_table(&z, ZC_CODEC_RAW, ZC_TRANSFORM_NONE, "random bytes");

	fill_f32(buf, len);
	round_trip(&opts, buf, len - 3, "f32 weights, odd length");
	encode(&opts, buf, len, &z);
	check_table(&z, ZC_CODEC_ZSTD, ZC_TRANSFORM_PLANES4, "f32 weights");
	ok(z.len * 105 < (size_t)len * 100, "f32 weights shrink by 5%% (%zu)", z.len);

	/* bf16: the top halves of float32s */
	fill_f32(f32, 2 * len);
	for (i = 0; i < len / 2; i++)
		memcpy(buf + 2 * i, f32 + 4 * i + 2, 2);
	free(f32);
	round_trip(&opts, buf, len, "bf16 weights");
	encode(&opts, buf, len, &z);
	check_table(&z, ZC_CODEC_ZSTD, -1, "bf16 weights");

	/*
	 * Planes split 16 elements at a time, then one by one: blocks of
	 * element counts that are not multiples of 16, with bytes left over.
	 */
	opts.block_size = (256 << 10) + 2 * 7 + 1;
	round_trip(&opts, buf, len - 1, "bf16 weights, blocks of 16n+7 elements and a byte");
	encode(&opts, buf, len - 1, &z);
	check_table(&z, ZC_CODEC_ZSTD, -1, "bf16 weights, blocks of 16n+7 elements");
	fill_f32(buf, len);
	opts.block_size = (256 << 10) + 4 * 9 + 3;
	round_trip(&opts, buf, len - 2, "f32 weights, blocks of 16n+9 elements and 3 bytes");
	encode(&opts, buf, len - 2, &z);
	/* the last block, shorter, may find planes2 as good */
	check_table(&z, ZC_CODEC_ZSTD, -1, "f32 weights, blocks of 16n+9 elements");
	opts.block_size = 256 << 10;

	memset(buf, 0, len);
	round_trip(&opts, buf, len, "zeros");

	opts.mode = ZC_ZSTD;
	fill_f32(buf, len);
	round_trip(&opts, buf, len, "f32 weights, plain zstd");
	encode(&opts, buf, len, &z);
	check_table(&z, ZC_CODEC_ZSTD, ZC_TRANSFORM_NONE, "f32 plain zstd");

	hostile();
	free(buf);
	strbuf_release(&z);
	return done_testing();
}
