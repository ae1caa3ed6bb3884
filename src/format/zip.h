#ifndef ZIP_H
#define ZIP_H

/*
 * A minimal reader of a zip's central directory, for torch.save() files:
 * the entries' names and, for stored (uncompressed) entries, where their
 * bytes are in the file. Zip64 records are read where sizes or counts
 * need them. Names are checked (at most MODEL_MAX_NAME bytes, no NUL or
 * control character, no two alike); every offset and size is checked
 * against the file before it is kept. Reads through a model_source.
 */

#include <stdint.h>

#include "model-format.h"
#include "strbuf.h"

#define ZIP_MAX_ENTRIES (MODEL_MAX_TENSORS + 1024)

struct zip_entry {
	char *name;
	uint64_t size; /* bytes of data (stored: as in the file) */
	uint64_t local; /* offset of its local header */
	int stored; /* method 0, not encrypted */
};

/* The entries, sorted by name. */
struct zip {
	struct zip_entry *entries;
	size_t nr;
	uint64_t cd_offset; /* entries' data lies before this */
};

#define ZIP_INIT { 0 }

/*
 * Read the central directory of the zip behind `src`. Returns 0, or -1
 * with one line in `err` that starts with `fmt` (then `zip` is empty).
 */
int zip_open(struct zip *zip, const struct model_source *src, const char *fmt,
	     struct strbuf *err);

/* The entry called `name`, or NULL. */
const struct zip_entry *zip_find(const struct zip *zip, const char *name);

/*
 * `*off` = where the bytes of stored entry `e` start, from its local
 * header; -1 with a reason in `err` when the entry is compressed or its
 * bytes are not inside the file before the central directory.
 */
int zip_data_offset(const struct zip *zip, const struct zip_entry *e,
		    const struct model_source *src, uint64_t *off,
		    const char *fmt, struct strbuf *err);

void zip_release(struct zip *zip);

#endif
