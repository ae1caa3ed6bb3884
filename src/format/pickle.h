#ifndef PICKLE_H
#define PICKLE_H

/*
 * A restricted unpickler for the data.pkl that torch.save() writes: it
 * knows only the opcodes torch's pickler emits (protocols 2 to 5: PROTO,
 * FRAME, MARK, the tuple, list and dict builders, the ints, BINFLOAT,
 * strings and bytes, NONE and the bools, the memo opcodes, GLOBAL and
 * STACK_GLOBAL, BINPERSID, REDUCE, BUILD, POP, STOP) and only the globals
 * torch's files name: torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter(_with_state), collections.OrderedDict,
 * and the torch.*Storage types (torch.storage.UntypedStorage as bytes).
 * It never calls anything: REDUCE of one of those globals builds a value
 * of our own (a tensor, an empty dict), and any other global or opcode
 * is an error naming it ("global 'os system' is not allowed").
 *
 * The result is a tree of values owned by `struct pickle`; the memo can
 * make it share nodes or hold cycles, so walk it with a depth limit.
 * Every value counts against PICKLE_MAX_VALUES, the stack and memo
 * against their caps.
 */

#include <stddef.h>
#include <stdint.h>

#include "model-format.h"
#include "strbuf.h"

#define PICKLE_MAX_VALUES (1u << 22)
#define PICKLE_MAX_MEMO (1u << 22)

enum pickle_type {
	PICKLE_NONE,
	PICKLE_BOOL,
	PICKLE_INT,
	PICKLE_FLOAT,
	PICKLE_STR,
	PICKLE_BYTES,
	PICKLE_TUPLE,
	PICKLE_LIST,
	PICKLE_DICT, /* dict and OrderedDict: `items` are key, value, ... */
	PICKLE_GLOBAL, /* one of the allowed globals */
	PICKLE_STORAGE, /* a persistent id: a storage in the archive */
	PICKLE_TENSOR,
};

enum pickle_global {
	PICKLE_G_ORDERED_DICT,
	PICKLE_G_REBUILD_TENSOR_V2,
	PICKLE_G_REBUILD_PARAMETER,
	PICKLE_G_REBUILD_PARAMETER_WITH_STATE,
	PICKLE_G_STORAGE_TYPE, /* `dtype` and `elem_size` say which */
};

struct pickle_value {
	enum pickle_type type;
	int64_t i; /* BOOL, INT */
	double f;
	char *str; /* STR, BYTES: `len` bytes and a NUL */
	size_t len;
	struct pickle_value **items; /* TUPLE, LIST, DICT */
	size_t nr, alloc;
	enum pickle_global global;
	char dtype[16]; /* GLOBAL storage type, STORAGE, TENSOR */
	unsigned elem_size;
	const struct pickle_value *key; /* STORAGE: its archive key (STR) */
	uint64_t numel; /* STORAGE: elements in the storage */
	const struct pickle_value *storage; /* TENSOR */
	uint64_t storage_offset; /* TENSOR, in elements */
	unsigned ndim;
	uint64_t shape[MODEL_MAX_DIMS], stride[MODEL_MAX_DIMS];
};

struct pickle {
	struct pickle_value **all; /* every value made, for release */
	size_t nr, alloc;
	struct pickle_value *root; /* what STOP returned */
};

#define PICKLE_INIT { 0 }

/*
 * Unpickle `len` bytes at `buf` into `p` (empty on entry). Returns 0, or
 * -1 with one line in `err` (then `p` holds nothing). Nothing printed.
 */
int pickle_load(struct pickle *p, const unsigned char *buf, size_t len,
		struct strbuf *err);

/* Free every value; `p` is left empty and may be released again. */
void pickle_release(struct pickle *p);

#endif
