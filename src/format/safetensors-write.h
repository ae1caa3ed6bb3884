#ifndef SAFETENSORS_WRITE_H
#define SAFETENSORS_WRITE_H

/*
 * Writing a .safetensors header in one canonical form, for files that
 * git-model makes itself (a merge of two versions' tensors):
 *
 *	u64le length, then the JSON header: "__metadata__" first when there
 *	is any, then the tensors in the order given, each
 *	{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]} with the
 *	data laid out in that same order, no gaps; no white space in the
 *	JSON, which is padded with spaces to a multiple of 8 bytes.
 *
 * No I/O; safe from several threads.
 */

#include <stddef.h>
#include <stdint.h>

#include "model-format.h"
#include "strbuf.h"

/*
 * Append the header of `tensors` (their names, dtypes, shapes and
 * lengths; offsets are ignored) to `out`. `metadata` is the
 * "__metadata__" object as JSON text, or NULL. Returns the data's total
 * length.
 */
uint64_t safetensors_header(const struct model_tensor *const *tensors,
			    size_t nr, const char *metadata,
			    struct strbuf *out);

/*
 * The "__metadata__" object of the safetensors file behind `src` as
 * plain JSON text into `out` (nothing when there is none). The header
 * must have been read by model_read() already. 0, or -1 with `err`.
 */
int safetensors_metadata_json(const struct model_source *src,
			      struct strbuf *out, struct strbuf *err);

#endif
