#ifndef OIDSET_H
#define OIDSET_H

/*
 * A set of object ids: git's (git_oid) or the sha256 of a pointer (64 hex
 * digits), one kind per set. prune and fsck add every tree, blob and
 * pointer they meet, so lookups must stay cheap for millions of entries:
 * an open-addressing hash table, keyed by the id's own first bytes (ids
 * are uniformly distributed already).
 *
 * A zeroed set (OIDSET_INIT) is empty and valid; oidset_release() frees it
 * and leaves it empty, so releasing twice is harmless.
 */

#include <stddef.h>

#include <git2.h>

#define OIDSET_KEYSZ 32

struct oidset {
	unsigned char (*keys)[OIDSET_KEYSZ];
	unsigned char *used;
	size_t nr, alloc; /* alloc: 0 or a power of two */
};

#define OIDSET_INIT { .keys = NULL, .used = NULL, .nr = 0, .alloc = 0 }

void oidset_release(struct oidset *s);

/* Add a git object id. Returns 1 when it was not in the set yet, else 0. */
int oidset_insert_git(struct oidset *s, const git_oid *id);

/*
 * Add a pointer oid, 64 lowercase hex digits (BUG() for anything else:
 * callers pass oids that pointer_parse() or oid_hex_valid() accepted).
 * Returns 1 when it was not in the set yet, else 0.
 */
int oidset_insert_hex(struct oidset *s, const char *hex);
int oidset_contains_hex(const struct oidset *s, const char *hex);

#endif
