/*
 * Fuzz pickle_load() (src/format/pickle.h). Invariants: a pickle that
 * loads has a root, and every tensor in it has at most MODEL_MAX_DIMS
 * dims, a storage with a string key and a known dtype; a refusal gives
 * one line starting "pickle: " and leaves nothing allocated; the value
 * count stays under PICKLE_MAX_VALUES.
 */

#include "fuzz.h"

#include "pickle.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pickle p = PICKLE_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (!pickle_load(&p, data, size, &err)) {
		fuzz_assert(p.root);
		fuzz_assert(!err.len);
		fuzz_assert(p.nr <= PICKLE_MAX_VALUES);
		for (i = 0; i < p.nr; i++) {
			const struct pickle_value *v = p.all[i];

			if (v->type != PICKLE_TENSOR)
				continue;
			fuzz_assert(v->ndim <= MODEL_MAX_DIMS);
			fuzz_assert(v->storage->type == PICKLE_STORAGE);
			fuzz_assert(v->storage->key->type == PICKLE_STR);
			fuzz_assert(model_dtype_size(v->dtype) == v->elem_size);
			fuzz_assert(v->elem_size);
		}
	} else {
		fuzz_assert(!strncmp(err.buf, "pickle: ", 8));
		fuzz_assert(!memchr(err.buf, '\n', err.len));
		fuzz_assert(!p.root && !p.nr && !p.all);
	}
	pickle_release(&p);
	pickle_release(&p);
	strbuf_release(&err);
	return 0;
}
