#ifndef MODEL_FORMAT_H
#define MODEL_FORMAT_H

/*
 * What a model file holds: its format and its tensors, read from the
 * file's own header by a hostile-input parser per format:
 *
 *	safetensors.c   .safetensors: u64le header length, JSON header
 *	torch-zip.c     torch.save() since 1.6: a zip with archive/data.pkl
 *	                (read by pickle.c, a restricted interpreter that knows
 *	                only what torch writes and never calls anything) and
 *	                archive/data/<key> storages
 *	gguf.c          GGUF v2/v3: header, metadata, tensor infos
 *	onnx.c          ONNX: the graph's initializers (a minimal protobuf
 *	                reader for the fields it needs)
 *
 * Readers never read the whole file: they pull the bytes they need through
 * a `struct model_source`, so a local object, a file in the work tree or a
 * Range request to storage can all be read the same way, and a header can
 * be read without downloading the weights. Every length and offset read
 * from the file is checked against the file's size and against the limits
 * below before it is used.
 *
 * This module does no I/O of its own and is safe to call from several
 * threads on different sources.
 */

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Limits on what a reader accepts; a file over one is refused. */
#define MODEL_MAX_TENSORS (1u << 20)
#define MODEL_MAX_DIMS 8
#define MODEL_MAX_NAME 4096
#define MODEL_MAX_HEADER (100u << 20) /* bytes of header/metadata read */

enum model_format {
	MODEL_FORMAT_UNKNOWN = 0,
	MODEL_FORMAT_SAFETENSORS,
	MODEL_FORMAT_TORCH_ZIP,
	MODEL_FORMAT_TORCH_LEGACY, /* recognised, not read: named as such */
	MODEL_FORMAT_GGUF,
	MODEL_FORMAT_ONNX,
};

/*
 * Where a reader gets bytes. read_at() fills exactly `len` bytes at `off`
 * and returns 0, or -1 (reported) on an I/O error or a short read. `size`
 * is the file's size in bytes.
 */
struct model_source {
	int (*read_at)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t size;
};

/*
 * One tensor. `dtype` is the canonical upper-case name used in every
 * message: "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8",
 * "BOOL", "F8_E4M3", "F8_E5M2", and GGUF's own quantized types by their
 * names ("Q4_0", "Q8_0", "Q4_K", ...). `elem_size` is bytes per element
 * (0 for block-quantized types, whose bytes are compared as bytes).
 * [offset, offset + length) is where the tensor's bytes are in the file,
 * checked to lie inside it; `contiguous` is 0 when the tensor is a view
 * whose bytes are not one run (torch strides), and then offset/length
 * span the storage bytes it uses and `stride` holds its strides in
 * elements, each element checked to lie inside that span.
 */
struct model_tensor {
	char *name;
	char dtype[16];
	unsigned elem_size;
	unsigned ndim;
	uint64_t shape[MODEL_MAX_DIMS];
	uint64_t offset;
	uint64_t length;
	int contiguous;
	uint64_t stride[MODEL_MAX_DIMS]; /* when not contiguous */
};

/*
 * A file's tensors, in the file's order. `metadata` holds the format's
 * free-form key/value metadata as "key=value" lines, capped, for `show`.
 * Owned by the struct; model_info_release() frees all of it and leaves a
 * valid empty struct.
 */
struct model_info {
	enum model_format format;
	struct model_tensor *tensors;
	size_t nr, alloc;
	struct strbuf metadata;
};

#define MODEL_INFO_INIT { .format = MODEL_FORMAT_UNKNOWN, .metadata = STRBUF_INIT }

void model_info_release(struct model_info *info);

/* The format's name for messages: "safetensors", "pytorch (zip)", ... */
const char *model_format_name(enum model_format f);

/*
 * Guess the format from the first bytes of a file (at least 16 of them
 * when the file has that many) and its size. No I/O.
 */
enum model_format model_format_detect(const unsigned char *head, size_t len,
				      uint64_t size);

/*
 * Read the tensors of the file behind `src`. Returns 0, or -1 with a
 * one-line reason in `err` (nothing printed): not a known format, or a
 * malformed or over-limit header ("safetensors: header length 2^63 is
 * larger than the file"). On -1, `info` holds nothing.
 */
int model_read(const struct model_source *src, struct model_info *info,
	       struct strbuf *err);

/* Cap on the bytes of `metadata`: what is over it is left out. */
#define MODEL_MAX_METADATA (1u << 20)

/*
 * Bytes per element of the dtype called `dtype` (one of the names above),
 * 0 when it is block-quantized or unknown.
 */
unsigned model_dtype_size(const char *dtype);

/*
 * Decode `n` little-endian elements of dtype `dtype` at `buf` (n times
 * model_dtype_size() bytes) into `out`, for statistics: integers and
 * BOOL as their values, floats with their infinities and NaNs. Returns
 * 0, or -1 when the dtype has no per-element value (block-quantized or
 * unknown): compare those as bytes. Not reported.
 */
int model_decode(const char *dtype, const void *buf, size_t n, double *out);

/*
 * Sources for the common cases. model_source_fd() reads with pread() from
 * `fd` (not owned, left open; its offset is not used), `size` bytes long.
 * model_source_mem() reads from `len` bytes at `buf`, which `mem` points
 * at and which must outlive the source.
 */
void model_source_fd(struct model_source *src, int fd, uint64_t size);

struct model_mem {
	const unsigned char *buf;
	size_t len;
};
void model_source_mem(struct model_source *src, struct model_mem *mem,
		      const void *buf, size_t len);

#endif
