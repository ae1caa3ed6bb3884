#ifndef POINTER_H
#define POINTER_H

/*
 * Pointer files, version 1: the few lines git stores in place of the weights.
 *
 *	version git-model/1
 *	oid sha256:<64 lowercase hex>
 *	size <decimal bytes>
 *	url <the object's full URL>           (optional)
 *
 * The spec (man/git-model-pointer.adoc): UTF-8, LF line ends, one space
 * between key and value, no trailing space, at most POINTER_MAX bytes;
 * `version` first, the other keys in strictly increasing byte order; keys
 * match [a-z0-9.-]+. Readers keep keys they do not know (forward
 * compatibility); writers emit exactly one canonical form, so that one
 * content and one configuration always give the same pointer, byte for byte.
 *
 * This module only parses and formats. It does no I/O.
 */

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define POINTER_MAX 1024
#define POINTER_VERSION "git-model/1"
#define OID_HEXSZ 64
#define POINTER_SIZE_MAX INT64_MAX

struct pointer_key {
	char *key;
	char *value;
};

/*
 * A parsed pointer. `url` is NULL when absent. `ext` holds the keys this
 * version does not know, in byte order, owned by the pointer.
 */
struct pointer {
	char oid[OID_HEXSZ + 1];
	uint64_t size;
	char *url;
	struct pointer_key *ext;
	size_t ext_nr, ext_alloc;
};

#define POINTER_INIT { .oid = "", .size = 0, .url = NULL, .ext = NULL }

void pointer_init(struct pointer *p);
void pointer_release(struct pointer *p);

/*
 * Parse `len` bytes at `buf`. Returns 0 when they are a canonical v1
 * pointer, -1 otherwise; then, if `err` is not NULL, a one-line reason
 * naming the problem (and its line) is appended to `err`. Nothing is printed.
 * On failure `p` is left released.
 */
int pointer_parse(struct pointer *p, const char *buf, size_t len,
		  struct strbuf *err);

/*
 * Quick test used on content of unknown nature: could these bytes be a
 * pointer at all? True when `len` is within POINTER_MAX and the content
 * starts with the version key. A full pointer_parse() decides.
 */
int pointer_maybe(const char *buf, size_t len);

/*
 * Append the canonical text of `p` to `out`. `p->oid` must be valid;
 * `url` and `ext` keys are merged in byte order.
 */
void pointer_format(const struct pointer *p, struct strbuf *out);

/* Set the url (copied), or clear it with NULL. */
void pointer_set_url(struct pointer *p, const char *url);

/* True when `hex` is exactly 64 lowercase hex digits followed by NUL. */
int oid_hex_valid(const char *hex);

#endif
