/*
 * Fuzz the GGUF reader through model_read() (model-format.h).
 * Invariants: model-fuzz.h's, and for this format that no two tensors'
 * bytes overlap and that each starts at or after the end of the tensor
 * infos.
 */

#include "model-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_info info = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i, j;

	fuzz_model_check(data, size);
	if (!fuzz_model_read(data, size, &info, &err) &&
	    info.format == MODEL_FORMAT_GGUF) {
		for (i = 0; i < info.nr; i++) {
			const struct model_tensor *a = &info.tensors[i];

			fuzz_assert(a->offset >= 24);
			for (j = 0; j < i; j++) {
				const struct model_tensor *b = &info.tensors[j];

				fuzz_assert(!a->length || !b->length ||
					    a->offset + a->length <= b->offset ||
					    b->offset + b->length <= a->offset);
			}
		}
	}
	model_info_release(&info);
	strbuf_release(&err);
	return 0;
}
