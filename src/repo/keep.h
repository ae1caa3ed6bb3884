#ifndef KEEP_H
#define KEEP_H

/*
 * Which weights a repository still uses: the set of pointer oids that
 * `git model prune` must not delete from the local store, whatever the
 * storage holds.
 *
 * An object is in use when a pointer to it is in
 *
 *  - the tree of the HEAD of any worktree: the main one and every linked
 *    one (they share the store), also one whose directory is gone but
 *    that git still lists;
 *  - the index of any worktree, at any stage: staged, not yet committed;
 *  - any stash entry (refs/stash and its reflog): the stash commit, the
 *    commit it was made on, its index commit and its untracked-files
 *    commit;
 *  - any commit reachable from any ref, or from a worktree's HEAD, whose
 *    committer date is less than `recent_days` days before `now`
 *    (recent_days 0: none).
 *
 * These are the places git-lfs users lost staged and stashed weights from
 * (git-lfs issues 4206, 5636). When any of them cannot be read,
 * keep_collect() fails: a caller must then delete nothing.
 *
 * Trees and blobs are looked at once each however many commits share
 * them, so the cost grows with the distinct content, not with history.
 */

#include <stddef.h>
#include <time.h>

#include "oidset.h"
#include "repo.h"

struct keep {
	struct oidset oids;  /* pointer oids in use */
	struct oidset trees; /* trees walked */
	struct oidset blobs; /* blobs read */
	/* what was looked at, for --verbose */
	size_t worktrees, indexes, stashes, recent_commits;
};

#define KEEP_INIT { .oids = OIDSET_INIT, .trees = OIDSET_INIT, \
		    .blobs = OIDSET_INIT }

/* Returns 0, or -1 (reported). */
int keep_collect(struct keep *k, const struct repo *r, long recent_days,
		 time_t now);

/* Is the pointer oid `oid` (64 hex digits) in use? */
int keep_has(const struct keep *k, const char *oid);

void keep_release(struct keep *k);

#endif
