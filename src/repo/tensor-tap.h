#ifndef TENSOR_TAP_H
#define TENSOR_TAP_H

/*
 * Tensor hashes computed while an object is written to the store (at
 * clean and at download), so that the first diff or show of the object
 * finds them cached (model-file.h) and reads only its header.
 *
 * A tensor tap is a store_tap (store.h). It looks at the object's first
 * bytes; only a .safetensors or GGUF file (whose header is at the front)
 * is hashed, any other content costs that one look. The header is read
 * from the first bytes as they come, then each tensor's bytes are hashed
 * on a thread of the tap's own, from copies of the writer's runs of bytes
 * (short runs gathered into runs of a MiB), so the writer waits for it
 * only when it is two runs behind. One writer thread at a time.
 *
 * Only a speed-up: when anything goes wrong (a header it cannot read, a
 * size other than the one expected, a thread that cannot start), nothing
 * is cached and nothing is reported; a later diff hashes the tensors.
 */

#include <stdint.h>

#include "store.h"

/*
 * A tap for an object expected to be `size` bytes, the size its header
 * is read against. Never NULL; owned by the caller until
 * tensor_tap_finish().
 */
struct store_tap *tensor_tap_new(uint64_t size);

/*
 * Call after the store writer's commit or abort: wait for the tap's
 * thread, and when `oid` is not NULL and every tensor of an object of
 * the expected size was hashed, cache the hashes for `oid` in `s`. Frees
 * the tap; `tap` may be NULL.
 */
void tensor_tap_finish(struct store_tap *tap, const struct store *s,
		       const char *oid);

#endif
