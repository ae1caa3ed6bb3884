#ifndef STORE_WALK_H
#define STORE_WALK_H

/*
 * Listing what is in the local store's objects/ directory, for fsck and
 * prune, which must see everything there, not just what pointers name.
 *
 * Every file under objects/ is reported once, sorted by path, each
 * directory's entries read in full before any is reported (so a callback
 * may rename or unlink the entry it is given). An entry is one of:
 *
 *	STORE_OBJECT	sha256/<oid[0:2]>/<oid[2:4]>/<oid>, a regular file
 *			with a valid oid in its own place (not yet hashed:
 *			that is the caller's business)
 *	STORE_TEMP	sha256/<aa>/<bb>/<oid>.tmp-XXXXXX, a regular
 *			file: an upload in progress (or left by a crash)
 *			when this store serves as a directory storage (the
 *			store of a local bare remote)
 *	STORE_STRAY	anything else that is not a directory: a file in
 *			the wrong place or with a wrong name, a symbolic
 *			link
 *
 * Directories are entered (symbolic links to them are not), down to a
 * small depth; deeper ones are reported as strays. A missing objects/
 * directory is an empty store.
 */

#include <sys/stat.h>

#include "pointer.h"
#include "store.h"

enum store_entry_kind {
	STORE_OBJECT,
	STORE_TEMP,
	STORE_STRAY,
};

struct store_entry {
	enum store_entry_kind kind;
	const char *path; /* absolute */
	const char *rel;  /* relative to objects/ */
	const char *name; /* the last component */
	char oid[OID_HEXSZ + 1]; /* STORE_OBJECT and STORE_TEMP; else "" */
	struct stat st;   /* from lstat() */
};

/*
 * Call `fn` for every entry. A non-zero return from `fn` stops the walk and
 * is returned. Returns 0, or -1 when a directory cannot be read (reported;
 * the walk goes on with the other directories first).
 */
typedef int (*store_entry_fn)(const struct store_entry *e, void *data);
int store_walk(const struct store *s, store_entry_fn fn, void *data);

#endif
