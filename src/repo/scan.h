#ifndef SCAN_H
#define SCAN_H

/*
 * Finding pointers in git's history, through libgit2.
 *
 * A blob is a pointer when it is at most POINTER_MAX bytes (read from the
 * object header first, so large blobs are never loaded) and parses as one.
 *
 * scan_tree() lists every pointer in one tree (fetch, ls-files).
 * scan_added() lists the pointers that commits add: for each commit in
 * `want` and not in `have` (or under `hide_glob`), the diff against its
 * parent; for a merge, only what differs from every parent, so a merge
 * does not re-list the other branch's files.
 *
 * found_set_finish() makes results unique by oid, sorted by path; the set
 * owns its strings.
 */

#include <stdint.h>

#include "pointer.h"
#include "repo.h"

struct found {
	char oid[OID_HEXSZ + 1];
	uint64_t size;
	char *path;
	char *url; /* the pointer's url line, or NULL */
};

struct found_set {
	struct found *v;
	size_t nr, alloc;
};

#define FOUND_SET_INIT { .v = NULL, .nr = 0, .alloc = 0 }

void found_set_release(struct found_set *s);

/* Sort by path and keep one entry per oid. */
void found_set_finish(struct found_set *s);

/*
 * Is the blob `id` a pointer? 1 yes (filled into `p`), 0 no, -1 error.
 */
int blob_pointer(const struct repo *r, const git_oid *id, struct pointer *p);

/*
 * Is the blob `id` a git-lfs pointer (lfs-pointer.h)? 1 yes, 0 no, -1 error.
 */
int blob_lfs_pointer(const struct repo *r, const git_oid *id);

/*
 * Every pointer in the tree of `rev` (any revision git understands), one
 * entry per path, in tree order: call found_set_finish() for unique oids.
 */
int scan_tree(const struct repo *r, const char *rev, struct found_set *out);

int scan_added(const struct repo *r, const git_oid *want, size_t nwant,
	       const git_oid *have, size_t nhave, const char *hide_glob,
	       struct found_set *out);

/*
 * Does the work tree file `file` (absolute) hold exactly the content of the
 * pointer blob `blob`, i.e. were its weights never put in place?
 */
int worktree_holds_pointer(const struct repo *r, const char *file,
			   const git_oid *blob);

#endif
