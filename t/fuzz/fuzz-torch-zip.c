/*
 * Fuzz the torch.save() zip reader (zip.c, pickle.c, torch-zip.c) through
 * model_read() (model-format.h). Invariants: model-fuzz.h's, and that a
 * tensor's bytes lie before the zip's central directory, which follows
 * at least one local header.
 */

#include "model-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_info info = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	fuzz_model_check(data, size);
	if (!fuzz_model_read(data, size, &info, &err) &&
	    info.format == MODEL_FORMAT_TORCH_ZIP)
		for (i = 0; i < info.nr; i++) {
			fuzz_assert(info.tensors[i].offset >= 30);
			fuzz_assert(info.tensors[i].offset +
					    info.tensors[i].length <= size - 22);
		}
	model_info_release(&info);
	strbuf_release(&err);
	return 0;
}
