/*
 * Fuzz the ONNX reader (onnx.c) through model_read() (model-format.h).
 * Invariants: model-fuzz.h's, and that a tensor with bytes has them after
 * the first byte (inside a field of the graph).
 */

#include "model-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_info info = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	fuzz_model_check(data, size);
	if (!fuzz_model_read(data, size, &info, &err) &&
	    info.format == MODEL_FORMAT_ONNX)
		for (i = 0; i < info.nr; i++)
			fuzz_assert(!info.tensors[i].length ||
				    info.tensors[i].offset >= 4);
	model_info_release(&info);
	strbuf_release(&err);
	return 0;
}
