#ifndef TENSOR_DATA_H
#define TENSOR_DATA_H

/*
 * A tensor's bytes, as opposed to its header entry (model-format.h):
 * comparing two tensors element by element, hashing a tensor's bytes,
 * and the one-line text of a tensor that show, textconv and diff print.
 * Bytes are pulled through a `struct model_source` in blocks of
 * TENSOR_BLOCK, so memory use does not depend on a tensor's size.
 *
 * Numeric dtypes are those model_decode() turns into doubles (floats,
 * integers, BOOL); block-quantized ones are compared as bytes only.
 *
 * No state: safe to call from several threads on different sources.
 */

#include <stddef.h>
#include <stdint.h>

#include "model-format.h"

#define TENSOR_BLOCK (1u << 20)

/* True when the elements of `dtype` have values (model_decode()). */
int tensor_numeric(const char *dtype);

/* Elements of `t`: the product of its shape (1 for a scalar). */
uint64_t tensor_numel(const struct model_tensor *t);

/*
 * Append "<name> <dtype> [<d0>, <d1>]" to `out`: the name as it is when it
 * holds only printable ASCII other than space, quote and backslash, else
 * in double quotes with C escapes (git's quote_c_style), so one tensor is
 * always one line whatever its name.
 */
void tensor_describe(const struct model_tensor *t, struct strbuf *out);

/* Append the name alone, quoted as above. */
void tensor_quote_name(const char *name, struct strbuf *out);

/* Indices of the tensors of `info` sorted by name; the caller frees. */
size_t *model_sorted_tensors(const struct model_info *info);

/*
 * The sha256 of the tensor's bytes into `hex`: [offset, offset + length)
 * for a contiguous tensor; for a view, its elements in row-major order
 * (the bytes torch's .contiguous() would give), gathered from its span,
 * which is read whole into memory: a view whose span is over
 * TENSOR_MAX_VIEW bytes is refused. Returns 0, or -1 when the source
 * fails (reported by the source) or the view is too large (reported).
 */
#define TENSOR_MAX_VIEW (256u << 20)
int tensor_hash(const struct model_source *src, const struct model_tensor *t,
		char hex[65]);

/*
 * How `b` differs from `a`, element by element, in doubles:
 * max and mean of |b - a|, ||b - a|| / ||a|| (relative L2; infinite when
 * ||a|| is 0 and b differs), and the number of elements that differ (NaN
 * equals NaN here). `bytes_equal` is set when the two runs of bytes are
 * identical (then everything else is 0).
 */
struct tensor_delta {
	double max_abs, mean_abs, rel_l2;
	uint64_t numel, changed;
	int bytes_equal;
};

/*
 * Compare tensor `ta` of `a` with `tb` of `b`, both numeric, contiguous
 * and of the same number of elements (the caller checks). Each tensor's
 * bytes are read once, in blocks. Returns 0, or -1 when a source fails.
 */
int tensor_compare(const struct model_source *a, const struct model_tensor *ta,
		   const struct model_source *b, const struct model_tensor *tb,
		   struct tensor_delta *d);

#endif
