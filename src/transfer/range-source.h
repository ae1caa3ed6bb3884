#ifndef RANGE_SOURCE_H
#define RANGE_SOURCE_H

/*
 * A `struct model_source` (model-format.h) over an object in HTTP storage
 * (http, https, s3 with SigV4), read with Range requests: a reader gets
 * a model's header without the weights being downloaded. Reads are
 * rounded up to RANGE_SOURCE_BLOCK and the last block is kept, so
 * reading a header costs one or two requests. At most `cap` bytes are
 * ever transferred; a read past that fails, so a caller cannot start
 * downloading weights by mistake. The response must be 206 with exactly
 * the bytes asked for: a server that ignores Range is refused.
 *
 * The storage is the caller's and must outlive the source; its backend's
 * prepare() signs or authorizes each request, and a 401 asks its
 * unauthorized() once for credentials. One thread at a time.
 *
 * Storage that may keep the compressed form instead (storage_http_ops'
 * `compressed`, git-model-compression(5)) is read as <object>.gmz when the
 * object answers 404, or first when `gmz_first` says so: its header and
 * block table first, then, for each read, the stored bytes of the
 * blocks that hold the raw range, each decoded whole (the last one
 * kept). Those bytes count against `cap`: a header costs its container's
 * first block, which git-model's encoder ends where a model's first
 * tensor starts. A container that breaks the spec fails the read with
 * one line; nothing is stored.
 */

#include <stdint.h>

#include "model-format.h"
#include "storage.h"
#include "zcontainer.h"

#define RANGE_SOURCE_BLOCK (64u << 10)

struct range_source {
	struct model_source src;
	struct storage *storage;
	char oid[65];
	void *easy; /* CURL *, owned */
	uint64_t fetched, cap;
	unsigned char *block; /* the last block read, owned */
	uint64_t block_off;
	size_t block_len;
	/* reading <object>.gmz: 0 not known yet, 1 raw, 2 compressed */
	int form;
	/*
	 * The caller's guess, after range_source_open(): 1 asks for the
	 * compressed form first (the raw one when it is absent), as
	 * downloads do when model.compression is `zstd`; 0 the raw one.
	 */
	int gmz_first;
	struct zc_header zh;
	uint64_t *zraw_off, *zstored_off; /* per block, owned */
	unsigned char *zraw;              /* the last block decoded, owned */
	uint32_t zblock;                  /* its number, or UINT32_MAX */
};

#define RANGE_SOURCE_INIT { .easy = NULL, .block = NULL, \
			    .zh = ZC_HEADER_INIT, .zraw_off = NULL, \
			    .zstored_off = NULL, .zraw = NULL }

/*
 * Set up reads of object `oid` of `size` bytes in `s`. Returns 0, or 1
 * when the storage does not speak HTTP (the caller may say why), or -1
 * (reported).
 */
int range_source_open(struct range_source *rs, struct storage *s,
		      const char *oid, uint64_t size, uint64_t cap);
void range_source_release(struct range_source *rs);

#endif
