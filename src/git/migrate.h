#ifndef MIGRATE_H
#define MIGRATE_H

/*
 * git model migrate: moving a repository's history to git-model, through
 * rewrite.h.
 *
 * MIGRATE_IMPORT: blobs committed raw, at paths that the include patterns
 * match, become git-model pointers (the bytes go into the local store, as
 * `git add` through the clean filter would put them, and the pointer is
 * the one clean writes, url included); the top .gitattributes of every
 * commit gains "<pattern> filter=model diff=model merge=model -text" for
 * each pattern it lacks, as `git model track` writes it. Patterns are
 * those of a top-level .gitattributes: without a '/', they match a file's
 * name in any directory; with one, its path from the top ("**" as in
 * gitattributes(5)). Empty files and blobs that are pointers already stay.
 *
 * MIGRATE_FROM_LFS: blobs that are git-lfs pointers (lfs-pointer.h)
 * become git-model pointers to the same sha256; the objects come into the
 * store from git-lfs's own (<common git dir>/lfs/objects), hard-linked
 * when they may be, else copied, hashed either way; in every
 * .gitattributes the attributes filter=lfs, diff=lfs and merge=lfs become
 * filter=model, diff=model and merge=model.
 *
 * Each blob is converted once (memoized by id), so the work is linear in
 * the number of distinct blobs and trees.
 *
 * Not thread-safe; one migration per process.
 */

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "repo.h"
#include "rewrite.h"
#include "store.h"
#include "strbuf.h"

enum migrate_mode {
	MIGRATE_IMPORT,
	MIGRATE_FROM_LFS,
};

struct migrate {
	struct repo *repo;
	enum migrate_mode mode;
	int dry_run;
	int verbose;                /* list each converted file on stdout */
	char **patterns;            /* import: as written in .gitattributes */
	size_t patterns_nr, patterns_alloc;
	struct store store;
	char *storage_url;          /* for the pointers' url lines, or NULL */
	struct oid_memo blobs;      /* blob id -> converted blob id */
	struct oid_memo attrs;      /* .gitattributes blob id -> new one */
	size_t files;               /* distinct blobs converted */
	uint64_t bytes;             /* their content */
	size_t linked, copied;      /* from-lfs: objects brought in */
	size_t missing;             /* from-lfs: objects nowhere local */
	struct strbuf missing_list; /* "<oid> <path>\n" of the first few */
	struct rewrite_ops ops;
};

#define MIGRATE_INIT { .repo = NULL, .patterns = NULL, \
		       .store = STORE_INIT, .storage_url = NULL, \
		       .missing_list = STRBUF_INIT }

/*
 * Set up a migration of `repo` (kept by pointer). `storage_url` is the
 * configured storage's base URL without userinfo, or NULL (copied).
 */
void migrate_init(struct migrate *m, struct repo *repo,
		  enum migrate_mode mode, const char *storage_url,
		  int dry_run);

/*
 * Add an import pattern as the user wrote it (escaped as track does).
 * 0, or -1 (reported) for an empty one or one with a newline.
 */
int migrate_add_pattern(struct migrate *m, const char *pattern);

/* The callbacks for rewrite_init(), set up by migrate_init(). */
const struct rewrite_ops *migrate_ops(struct migrate *m);

/*
 * After the refs moved: HEAD's branch went from commit `old` to `new`.
 * Update the index to `new`'s tree and the work tree to match, without
 * touching the weights that are in place already: an entry whose file
 * holds what the old blob gave keeps its stat data; a .gitattributes is
 * written anew; a file holding a git-lfs pointer gets the git-model
 * pointer and then its weights from the store (checkout.h).
 * 0, 1 when some weights could not be put in place (reported), or -1.
 */
int migrate_update_worktree(struct migrate *m, const git_oid *old,
			    const git_oid *new);

void migrate_release(struct migrate *m);

#endif
