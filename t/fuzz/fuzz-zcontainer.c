/*
 * Fuzz the compressed-object container (src/format/zcontainer.h).
 * Invariants: a header and table that parse format back to the very same
 * bytes (one canonical form); the streaming decoder gives the same answer
 * and the same raw bytes whether fed at once or byte by byte; a container
 * that decodes emits exactly its raw size, never more than its blocks
 * claim; a refusal is one line; a container's length is one
 * zc_stored_size_possible() allows; a decoder started at a block
 * (zc_decoder_init_at()) on the bytes from that block's offset emits the
 * same raw bytes from that block's raw offset. Then the input, as raw
 * bytes, is encoded and must decode back to itself.
 */

#include "fuzz.h"

#include "strbuf.h"
#include "zcontainer.h"

static int emit_sb(void *ctx, const void *buf, size_t len)
{
	struct strbuf *sb = ctx;

	fuzz_assert(sb->len + len <= ZC_BLOCK_MAX * 4ull);
	strbuf_add(sb, buf, len);
	return 0;
}

static int decode(const uint8_t *data, size_t size, size_t piece,
		  struct strbuf *raw, struct strbuf *err)
{
	struct zc_decoder d;
	size_t off = 0;
	int ret = 0;

	zc_decoder_init(&d, ZC_SIZE_ANY);
	while (!ret && off < size) {
		size_t n = size - off < piece ? size - off : piece;

		ret = zc_decoder_feed(&d, data + off, n, emit_sb, raw, err);
		off += n;
	}
	if (!ret)
		ret = zc_decoder_finish(&d, err);
	if (!ret)
		fuzz_assert(raw->len == d.h.raw_size && size == d.h.stored_size);
	zc_decoder_release(&d);
	zc_decoder_release(&d); /* twice is harmless */
	return ret;
}

/* Decode from block `k` on, as a resumed download does: same bytes. */
static void check_resume(const uint8_t *data, size_t size, uint32_t k,
			 const struct strbuf *whole)
{
	struct zc_header h = ZC_HEADER_INIT;
	struct zc_decoder d;
	struct strbuf raw = STRBUF_INIT;
	uint64_t stored, raw_off, want;

	fuzz_assert(zc_header_parse(&h, data, size, NULL) > 0);
	want = h.raw_size;
	zc_block_offsets(&h, k, &stored, &raw_off);
	fuzz_assert(zc_block_at(&h, raw_off) == k);
	fuzz_assert(!zc_decoder_init_at(&d, want, &h, k, NULL));
	fuzz_assert(!h.blocks);
	fuzz_assert(!zc_decoder_feed(&d, data + stored, size - stored,
				     emit_sb, &raw, NULL));
	fuzz_assert(!zc_decoder_finish(&d, NULL));
	fuzz_assert(raw_off + raw.len == whole->len);
	fuzz_assert(!memcmp(raw.buf, whole->buf + raw_off, raw.len));
	zc_decoder_release(&d);
	strbuf_release(&raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zc_header h = ZC_HEADER_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, e2 = STRBUF_INIT;
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct zc_block blk;
	long n = zc_header_parse(&h, data, size, &err);
	int ra, rb;

	if (n > 0) {
		fuzz_assert(!err.len);
		zc_header_format(&h, &out);
		fuzz_assert(out.len == (size_t)n);
		fuzz_assert(!memcmp(out.buf, data, n));
		fuzz_assert(zc_stored_size_possible(h.raw_size, h.stored_size));
	} else if (n < 0) {
		fuzz_assert(err.len && !memchr(err.buf, '\n', err.len));
		fuzz_assert(!h.blocks && !h.nr);
	} else {
		fuzz_assert(!err.len && !h.blocks);
	}
	zc_header_release(&h);
	zc_header_release(&h);

	ra = decode(data, size, SIZE_MAX, &a, &err);
	rb = decode(data, size, 1, &b, &e2);
	fuzz_assert(ra == rb);
	if (!ra) {
		fuzz_assert(a.len == b.len && !memcmp(a.buf, b.buf, a.len));
		fuzz_assert(zc_header_parse(&h, data, size, NULL) > 0);
		if (h.nr) {
			check_resume(data, size, 0, &a);
			check_resume(data, size, h.nr / 2, &a);
			check_resume(data, size, h.nr - 1, &a);
		}
		check_resume(data, size, h.nr, &a);
		zc_header_release(&h);
	} else {
		fuzz_assert(err.len && !memchr(err.buf, '\n', err.len));
		fuzz_assert(e2.len && !memchr(e2.buf, '\n', e2.len));
	}

	if (size && size <= ZC_BLOCK_MAX) {
		strbuf_reset(&out);
		opts.level = 1;
		zc_block_encode(&opts, 0, data, size, &out, &blk);
		fuzz_assert(out.len == blk.stored_len && blk.stored_len <= size);
		strbuf_reset(&a);
		strbuf_grow(&a, size);
		fuzz_assert(!zc_block_decode(&blk, 0, out.buf, a.buf, NULL));
		fuzz_assert(!memcmp(a.buf, data, size));
		fuzz_assert(blk.codec == ZC_CODEC_RAW || blk.stored_len < size);
	}

	strbuf_release(&err);
	strbuf_release(&e2);
	strbuf_release(&out);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
