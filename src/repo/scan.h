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
#include <sys/stat.h>

#include "oidset.h"
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
 * Call fn(path, id, data) for each regular file (mode 100644 or 100755) of
 * `tree` and its subtrees, in pre-order; `path` is relative to `tree` and
 * valid during the call only. fn returns 0 to go on, or -1 to stop (fn
 * reports). When `seen` is not NULL, subtrees already in it are skipped
 * and those walked are added (a walk over many commits' trees reads each
 * subtree once). Returns 0, or -1 (reported).
 */
typedef int (*tree_file_fn)(const char *path, const git_oid *id, void *data);
int tree_files(git_tree *tree, struct oidset *seen, tree_file_fn fn,
	       void *data);

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
 * Every pointer that any commit reachable from any ref under refs/ or
 * from HEAD adds, for commits whose committer date is after `since`;
 * since 0: the whole history, every object a checkout of any commit needs.
 * Unique by oid, sorted by path.
 */
int scan_refs_added(const struct repo *r, git_time_t since,
		    struct found_set *out);

/*
 * Calls fn with the commit that each ref under refs/ peels to (with
 * SCAN_REFS_BRANCHES_TAGS, only those under refs/heads/ and refs/tags/),
 * in the order libgit2 lists them; a commit named by several refs comes
 * once per ref. A ref that names a tree or a blob is passed over; one
 * whose object cannot be read, or a listing that fails, is an error,
 * as in git push --all. fn returns 0 to go on; its first non-zero
 * return stops the walk and is returned. 0 or -1 (with error()).
 */
#define SCAN_REFS_BRANCHES_TAGS (1u << 0)
int scan_each_ref_commit(const struct repo *r, unsigned flags,
			 int (*fn)(git_commit *commit, void *data), void *data);

/*
 * Every pointer in the tree of each ref under refs/ whose commit's
 * committer date is after `since`, appended as scan_tree() does. Refs
 * are read as scan_each_ref_commit() reads them.
 */
int scan_recent_refs(const struct repo *r, git_time_t since,
		     struct found_set *out);

/*
 * Does `name` (relative to the directory fd `dir`, or AT_FDCWD) hold a
 * pointer to p's object (oid and size), i.e. were its weights never put
 * in place? Only a regular file of at most POINTER_MAX bytes counts; a
 * symbolic link is not followed. Its lstat() goes to `st` when not NULL.
 * 1 yes, 0 no (or unreadable).
 */
int file_holds_pointer(int dir, const char *name, const struct pointer *p,
		       struct stat *st);

/*
 * Call fn(path, pointer, data) for each work tree file that still holds
 * the pointer of its index entry (stage 0), in index order; `p` is valid
 * during the call only. A non-zero return from fn stops the walk and is
 * returned; -1 when the index cannot be read (reported).
 */
typedef int (*worktree_pointer_fn)(const char *path, const struct pointer *p,
				   void *data);
int worktree_pointers(const struct repo *r, worktree_pointer_fn fn,
		      void *data);

#endif
