#ifndef MODEL_FUZZ_H
#define MODEL_FUZZ_H

/*
 * The invariants every model file reader keeps (model-format.h), for the
 * fuzz-<format> targets: a file read is of the format its first bytes
 * show, with every tensor's bytes inside the file, a shape within
 * MODEL_MAX_DIMS whose byte count is the tensor's length (for whole,
 * per-element tensors) and whose dims other than 0, times the element
 * size, have a product within 64 bits, a name with no control character, metadata
 * under its cap; a refusal gives one line and leaves `info` empty; the
 * same bytes give the same answer twice.
 */

#include "fuzz.h"

#include "model-format.h"
#include "strbuf.h"

static inline int fuzz_model_read(const uint8_t *data, size_t size,
				  struct model_info *info, struct strbuf *err)
{
	struct model_source src;
	struct model_mem mem;

	model_source_mem(&src, &mem, data, size);
	return model_read(&src, info, err);
}

static inline void fuzz_model_check(const uint8_t *data, size_t size)
{
	struct model_info info = MODEL_INFO_INIT, again = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT, err2 = STRBUF_INIT;
	int ret = fuzz_model_read(data, size, &info, &err);
	size_t i, j;

	if (!ret) {
		fuzz_assert(!err.len);
		fuzz_assert(info.format ==
			    model_format_detect(data, size < 16 ? size : 16,
						size));
		fuzz_assert(info.nr <= MODEL_MAX_TENSORS);
		fuzz_assert(info.metadata.len <= MODEL_MAX_METADATA);
		for (i = 0; i < info.nr; i++) {
			const struct model_tensor *t = &info.tensors[i];
			uint64_t n = t->elem_size;

			fuzz_assert(t->name && *t->name);
			fuzz_assert(strlen(t->name) <= MODEL_MAX_NAME);
			for (j = 0; t->name[j]; j++)
				fuzz_assert((unsigned char)t->name[j] >= 0x20 &&
					    t->name[j] != 0x7f);
			fuzz_assert(memchr(t->dtype, 0, sizeof(t->dtype)));
			fuzz_assert(t->dtype[0]);
			fuzz_assert(t->ndim <= MODEL_MAX_DIMS);
			fuzz_assert(t->offset <= size);
			fuzz_assert(t->length <= size - t->offset);
			if (t->elem_size) {
				int empty = 0;

				fuzz_assert(t->elem_size ==
					    model_dtype_size(t->dtype));
				/* no product of some dims overflows */
				for (j = 0; j < t->ndim; j++) {
					if (!t->shape[j]) {
						empty = 1;
						continue;
					}
					fuzz_assert(n <= UINT64_MAX / t->shape[j]);
					n *= t->shape[j];
				}
				if (t->contiguous)
					fuzz_assert(t->length == (empty ? 0 : n));
			}
		}
	} else {
		fuzz_assert(ret == -1);
		fuzz_assert(err.len);
		fuzz_assert(!memchr(err.buf, '\n', err.len));
		fuzz_assert(!info.nr && !info.tensors && !info.metadata.len);
	}
	fuzz_assert(fuzz_model_read(data, size, &again, &err2) == ret);
	fuzz_assert(again.nr == info.nr);
	fuzz_assert(!strcmp(err.buf, err2.buf));
	model_info_release(&info);
	model_info_release(&again);
	model_info_release(&again); /* twice is harmless */
	strbuf_release(&err);
	strbuf_release(&err2);
}

#endif
