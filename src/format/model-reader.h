#ifndef MODEL_READER_H
#define MODEL_READER_H

/*
 * What the per-format readers behind model_read() share; commands use
 * model-format.h, not this.
 *
 * Each reader fills `info` (empty on entry) and returns 0, or returns -1
 * with one line in `err` that starts with the format's name
 * ("safetensors: ..."); model_read() then empties `info`. Readers never
 * print and never trust a length or offset from the file before checking
 * it against the source's size and the MODEL_MAX_* limits.
 */

#include "model-format.h"

int safetensors_read(const struct model_source *src, struct model_info *info,
		     struct strbuf *err);
int gguf_read(const struct model_source *src, struct model_info *info,
	      struct strbuf *err);
int torch_zip_read(const struct model_source *src, struct model_info *info,
		   struct strbuf *err);
int onnx_read(const struct model_source *src, struct model_info *info,
	      struct strbuf *err);

/*
 * Read `len` bytes at `off` into `buf`: -1 with "<fmt>: <what> at <off>
 * (<len> bytes) is past the end of the file" in `err` when the range is
 * not inside the source, or "<fmt>: cannot read <what>" when read_at()
 * fails.
 */
int model_src_read(const struct model_source *src, uint64_t off, void *buf,
		   size_t len, const char *fmt, const char *what,
		   struct strbuf *err);

/*
 * Sequential reads through a 64 KiB window of the file, for formats that
 * are many small fields. Set `src`, `err`, `fmt` and `limit` (no byte at
 * or past it is read or skipped: the header's cap) in a zeroed struct;
 * `off` is the next byte. Both calls return 0, or -1 with "<fmt>: <what>
 * at <off> is past ..." in `err`. model_cursor_skip() reads nothing.
 */
struct model_cursor {
	const struct model_source *src;
	struct strbuf *err;
	const char *fmt;
	uint64_t limit;
	uint64_t off;
	uint64_t win_off;
	size_t win_len;
	unsigned char win[65536];
};

int model_cursor_read(struct model_cursor *c, void *buf, size_t len,
		      const char *what);
int model_cursor_skip(struct model_cursor *c, uint64_t len, const char *what);

/*
 * A new zeroed tensor at the end of `info`, named with `len` bytes at
 * `name`; NULL with a reason in `err` when the file has more than
 * MODEL_MAX_TENSORS, or the name is empty, longer than MODEL_MAX_NAME or
 * holds a NUL or a control character (names end up in one-line messages).
 */
struct model_tensor *model_tensor_add(struct model_info *info,
				      const char *name, size_t len,
				      const char *fmt, struct strbuf *err);

/* Set `t->dtype` and `t->elem_size`; -1 when `dtype` is not a known name. */
int model_tensor_set_dtype(struct model_tensor *t, const char *dtype);

/*
 * `*out` = product of the `ndim` dims times `elem_size`; -1 when the
 * product of `elem_size` and the dims that are not 0 overflows 64 bits,
 * so that no product of some of the dims (a stride, a row's bytes)
 * overflows, whatever their order and even when a dim of 0 makes the
 * tensor empty. A shape with no dims is a scalar (one element).
 */
int model_shape_bytes(const uint64_t *shape, unsigned ndim, uint64_t elem_size,
		      uint64_t *out);

/*
 * Check that the tensors' bytes lie in [start, end) of the file without
 * overlapping (tensors of no bytes aside); with `exact`, also that they
 * cover that range with no hole. Sorts nothing in `info`.
 */
int model_check_layout(const struct model_info *info, uint64_t start,
		       uint64_t end, int exact, const char *fmt,
		       struct strbuf *err);

/*
 * Append at most `max` bytes of `s` (`len` bytes) to `sb` with newlines,
 * backslashes and control characters escaped (\n, \\, \xNN), so that
 * bytes from the file fit in a one-line message.
 */
void model_add_escaped(struct strbuf *sb, const char *s, size_t len,
		       size_t max);

/*
 * Append "key=value\n" to `info->metadata`, with newlines, backslashes and
 * control characters escaped (\n, \\, \xNN), a value longer than 1024
 * bytes cut with "...", and nothing once MODEL_MAX_METADATA is reached.
 */
void model_meta_add(struct model_info *info, const char *key, size_t klen,
		    const char *val, size_t vlen);

#endif
