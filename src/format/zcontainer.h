#ifndef ZCONTAINER_H
#define ZCONTAINER_H

/*
 * The compressed form of an object in storage and on the wire, specified
 * in man/git-model-compression.adoc: a 24-byte header (magic "GMZC",
 * version, raw size, block count), a table of 16-byte block entries
 * (codec, transform, raw and stored length), then each block's stored
 * bytes in table order, nothing after the last. A block is stored raw, or
 * as one standard zstd frame of its bytes, or of its bytes regrouped into
 * byte planes of width 2 or 4 (all first bytes of each element, then all
 * second bytes...). Every integer is little-endian.
 *
 * The decoder reads bytes from strangers: it checks every length in the
 * header and the table against the limits below and against each other
 * before it allocates or decodes, decodes each zstd frame into a buffer
 * of exactly the block's raw length (a frame that holds more is an
 * error, not an allocation), and hands out a block's raw bytes only once
 * the whole block has decoded. Errors are one line, appended to `err`,
 * never printed: a caller that stores what the decoder emits discards it
 * on error, so a hostile container stores nothing. The raw sha256 is not
 * the container's business; the store writer verifies it.
 *
 * The encoder chooses per block, from what the bytes are: a model file's
 * own header (model_read(): a tensor's dtype gives its element width)
 * when the caller passes one, otherwise a trial on a sample of the block.
 * A block that zstd does not make smaller is stored raw, so a container
 * is never larger than the raw object plus its header and table.
 *
 * No I/O here but on the fds the encoder is given; safe to use from
 * several threads on different structs.
 */

#include <stddef.h>
#include <stdint.h>

#include "model-format.h"
#include "strbuf.h"

#define ZC_MAGIC "GMZC"
#define ZC_VERSION 1
#define ZC_HEADER_SIZE 24
#define ZC_ENTRY_SIZE 16
/* A block's raw length is at most this; the encoder's default is below. */
#define ZC_BLOCK_MAX (16u << 20)
#define ZC_BLOCK_DEFAULT (4u << 20)
/* At most this many blocks: caps the table a reader buffers (16 MiB). */
#define ZC_BLOCKS_MAX (1u << 20)

enum zc_codec {
	ZC_CODEC_RAW = 0,
	ZC_CODEC_ZSTD = 1,
};

/* The value is the element width in bytes; NONE is 0. */
enum zc_transform {
	ZC_TRANSFORM_NONE = 0,
	ZC_TRANSFORM_PLANES2 = 2,
	ZC_TRANSFORM_PLANES4 = 4,
};

struct zc_block {
	uint8_t codec;
	uint8_t transform;
	uint32_t raw_len;
	uint32_t stored_len;
};

/*
 * A parsed header and table. `blocks` (nr of them) is owned by the
 * struct; `stored_size` is the whole container's length in bytes, header
 * and table included, as the table implies it.
 */
struct zc_header {
	uint64_t raw_size;
	uint64_t stored_size;
	uint32_t nr;
	struct zc_block *blocks;
};

#define ZC_HEADER_INIT { .raw_size = 0, .nr = 0, .blocks = NULL }

void zc_header_release(struct zc_header *h);

/* True when `len` bytes at `buf` start with the magic (len >= 4). */
int zc_is_container(const void *buf, size_t len);

/*
 * Parse the header and table from `len` bytes at `buf`. Returns the
 * number of bytes they took (ZC_HEADER_SIZE + nr * ZC_ENTRY_SIZE), 0 when
 * `len` is too short to tell yet, or -1 with a one-line reason in `err`
 * (when not NULL) for a header or table that breaks the spec. On 0 and -1
 * `h` is left released.
 */
long zc_header_parse(struct zc_header *h, const void *buf, size_t len,
		     struct strbuf *err);

/*
 * The length of the header and table of the container whose first `len`
 * bytes are at `buf`, from its block count: 0 while `len` is below
 * ZC_HEADER_SIZE. Whether the rest holds is zc_header_parse()'s
 * business; a count over ZC_BLOCKS_MAX still gives its length.
 */
uint64_t zc_header_length(const void *buf, size_t len);

/* Append the canonical bytes of `h`'s header and table to `out`. */
void zc_header_format(const struct zc_header *h, struct strbuf *out);

/*
 * Where block `k` (0 to h->nr) of a parsed container starts: its stored
 * bytes at offset *stored of the container (the header and table come
 * before block 0), its raw bytes at offset *raw of the content. Block
 * h->nr gives the ends: the container's length and the raw size.
 */
void zc_block_offsets(const struct zc_header *h, uint32_t k,
		      uint64_t *stored, uint64_t *raw);

/*
 * The block of a parsed container that holds raw byte `raw_off` of the
 * content; h->nr when `raw_off` is at or past its end.
 */
uint32_t zc_block_at(const struct zc_header *h, uint64_t raw_off);

/*
 * Whether a container of `stored` bytes can hold content of `raw_size`
 * bytes by FORMAT in git-model-compression(5): at least a header, a table
 * of as few blocks as that content needs and a byte per block; at most
 * a table of as many blocks as it can have and every block stored raw.
 * A length outside that is never a valid container of that content.
 */
int zc_stored_size_possible(uint64_t raw_size, uint64_t stored);

/*
 * Decode block number `i` (for messages): `stored` holds b->stored_len bytes, `raw` has room for
 * b->raw_len. `b` must have passed zc_header_parse(). Returns 0, or -1
 * with a one-line reason in `err`; then `raw` holds garbage.
 */
int zc_block_decode(const struct zc_block *b, uint32_t i, const void *stored,
		    void *raw, struct strbuf *err);

/*
 * Where a decoder's raw bytes go, in order. Returns 0, or -1 to stop the
 * decoder (the callee reported why).
 */
typedef int (*zc_emit_fn)(void *ctx, const void *buf, size_t len);

/*
 * A streaming decoder: feed it the container's bytes in pieces of any
 * size, it emits the raw bytes block by block, in order, from the thread
 * that feeds it. `want_size` is the raw size the caller expects (the
 * pointer's), or ZC_SIZE_ANY; a container naming another one is refused
 * before anything is emitted. Blocks decode on up to one thread per core
 * while earlier ones are emitted: a decoder holds a few blocks and its
 * threads from the header to zc_decoder_release(). Every decoder and
 * encoder in the process takes its block buffers from one budget (128
 * MiB, see zcontainer.c): each always gets one block's worth, so it
 * never waits for another; more only within its share of the budget.
 * Past that it runs with fewer blocks in flight, slower, rather than
 * allocating. The feed
 * that brings the last byte has emitted every block when it returns; an
 * earlier one may leave decoded blocks for a later feed.
 */
#define ZC_SIZE_ANY UINT64_MAX

struct zc_pipe;

struct zc_decoder {
	uint64_t want_size;
	struct zc_header h;
	int have_header;
	int failed;
	uint32_t next;          /* the block being filled */
	struct strbuf in;       /* the header and table until they are in */
	struct zc_pipe *pipe;   /* the blocks in flight, once they are */
	uint64_t fed, emitted;
	void (*notify)(void *data); /* zc_decoder_notify() */
	void *notify_data;
};

#define ZC_DECODER_INIT { .want_size = ZC_SIZE_ANY, .h = ZC_HEADER_INIT, \
			  .in = STRBUF_INIT }

void zc_decoder_init(struct zc_decoder *d, uint64_t want_size);
void zc_decoder_release(struct zc_decoder *d);

/*
 * A decoder that starts at block `first` (0 to h->nr) of a container
 * whose header and table were read apart, to resume a download with a
 * range request: `h` passed zc_header_parse() on them, and the decoder
 * takes its table (`h` is left released). The bytes fed are the
 * container's from block `first`'s stored offset on, and the raw bytes
 * emitted the content's from that block's raw offset (zc_block_offsets());
 * `emitted` and `fed` count from the container's start, as if the
 * blocks before had been fed and emitted. Returns 0, or -1 with a reason
 * in `err` when `h` holds another raw size than `want_size` (not
 * ZC_SIZE_ANY) or `first` is past the end; every feed then fails. Either
 * way release the decoder with zc_decoder_release().
 */
int zc_decoder_init_at(struct zc_decoder *d, uint64_t want_size,
		       struct zc_header *h, uint32_t first, struct strbuf *err);

/*
 * The input stopped short (a cut connection): emit every block whose
 * stored bytes were all fed, waiting for their threads, so that a resumed
 * download need not fetch them again; the stored bytes of the block being
 * filled are dropped. Returns 0 (then `emitted` says where the raw bytes
 * end), or -1 with a reason in `err`. Feed no more after it.
 */
int zc_decoder_drain(struct zc_decoder *d, zc_emit_fn emit, void *ctx,
		     struct strbuf *err);

/*
 * Feed `len` bytes. Returns 0, or -1 with a one-line reason in `err`
 * (a malformed container, bytes after its end, or `emit` said stop);
 * after -1 every call fails again.
 */
int zc_decoder_feed(struct zc_decoder *d, const void *buf, size_t len,
		    zc_emit_fn emit, void *ctx, struct strbuf *err);

/*
 * For a caller that must never wait, as an event loop driving several
 * downloads: zc_decoder_feed_some() takes the bytes it has room for
 * without waiting for a block's thread, emits the blocks decoded so far,
 * and returns how many bytes it took (0 to `len`), or -1 as
 * zc_decoder_feed() does. The bytes it did not take are to be fed again
 * once a block was emitted. zc_decoder_poll() emits the blocks decoded
 * since, without waiting: 1 when no block is in flight (every block
 * whose stored bytes were all fed went out), 0 while some are, -1 with a
 * reason in `err` (then every call fails again).
 *
 * zc_decoder_notify() has `fn` called with `data` when a block has
 * decoded, from the decoding thread, with a lock of the decoder held:
 * `fn` only wakes the caller up (curl_multi_wakeup()). Call it after
 * zc_decoder_init() or zc_decoder_init_at(), before the first feed. Set
 * after zc_decoder_init(), it also makes the blocks decode on threads
 * however few cores or blocks there are, never in the feed; so too
 * after zc_decoder_init_at(), before the first feed.
 */
long zc_decoder_feed_some(struct zc_decoder *d, const void *buf, size_t len,
			  zc_emit_fn emit, void *ctx, struct strbuf *err);
int zc_decoder_poll(struct zc_decoder *d, zc_emit_fn emit, void *ctx,
		    struct strbuf *err);
void zc_decoder_notify(struct zc_decoder *d, void (*fn)(void *data),
		       void *data);

/*
 * The input has ended: returns 0 when the container was complete and
 * every raw byte was emitted, -1 with a reason in `err` otherwise. After
 * zc_decoder_feed_some(), call it once zc_decoder_poll() says 1.
 */
int zc_decoder_finish(struct zc_decoder *d, struct strbuf *err);

/*
 * How the encoder chooses. ZC_AUTO: per block, byte planes or plain zstd
 * or raw, from the hint or a sample. ZC_ZSTD: plain zstd on every block.
 * Either way a block zstd does not make smaller is stored raw.
 */
enum zc_mode {
	ZC_AUTO,
	ZC_ZSTD,
};

#define ZC_LEVEL_DEFAULT 3

struct zc_options {
	enum zc_mode mode;
	int level;                    /* zstd's: 1..19; 0 means default */
	uint32_t block_size;          /* 0 means ZC_BLOCK_DEFAULT */
	/*
	 * When below the block size: the raw length of the first block
	 * (then blocks of block_size), so that a model's header (the bytes
	 * before its first tensor) is a block of its own that a reader can
	 * fetch and decode alone. 0: every block is block_size.
	 */
	uint32_t first_block;
	const struct model_info *hint; /* may be NULL */
};

#define ZC_OPTIONS_INIT { .mode = ZC_AUTO, .level = ZC_LEVEL_DEFAULT, \
			  .block_size = ZC_BLOCK_DEFAULT, .first_block = 0, \
			  .hint = NULL }

/*
 * Encode the `size` bytes read from `in_fd` (from its current offset;
 * not owned) into `out_fd` (seekable, empty, not owned): blocks compress
 * on all cores while earlier ones are written, in order, after room for
 * the header and table, which are written last at offset 0. A few blocks
 * are in memory at a time, from the budget above. Returns 0, or -1 after error() on an I/O
 * error or a short input. `stored` (when not NULL) gets the container's
 * length.
 */
int zc_encode_fd(int in_fd, uint64_t size, int out_fd,
		 const struct zc_options *opts, uint64_t *stored);

/*
 * Encode one block of `len` bytes (1..ZC_BLOCK_MAX) at file offset `off`
 * into `out` (appended, at most `len` bytes): sets `b` to what was chosen.
 * For the fuzzer and the unit tests; zc_encode_fd() uses it.
 */
void zc_block_encode(const struct zc_options *opts, uint64_t off,
		     const void *raw, uint32_t len, struct strbuf *out,
		     struct zc_block *b);

/* The transform's name in messages and `test-tool`: "none", "planes2"... */
const char *zc_transform_name(unsigned transform);

#endif
