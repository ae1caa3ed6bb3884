#ifndef CHECKOUT_H
#define CHECKOUT_H

/*
 * Putting weights into the work tree where a file holds its pointer text,
 * and refreshing the index so that git status does not re-read them.
 *
 * A file is replaced only when it still holds the pointer of its index
 * entry (scan.h: file_holds_pointer()) and its attributes say
 * filter=model (others are reported and left alone), through a temp
 * file that takes its place atomically (an exchange of the two names
 * where the file system has one, else rename()), so a reader sees the
 * pointer or the weights, never a mix. The temp file is in the store's
 * tmp/ (store_tmp_file()), where git status does not see it and prune
 * removes it after a kill; beside the file only when tmp/ is on another
 * file system. Every look at and write to a work tree file goes through
 * its directory's fd, opened one component at a time with O_NOFOLLOW: a
 * path with a symbolic link among its leading directories is refused
 * (reported), so nothing is written through a link or outside the work
 * tree. Its index entry gets the new
 * file's stat data, and clean's record (clean-cache.h) the same. The file's mtime is set a second back, so that the
 * index, written at once, is newer than it: git does not take the entry
 * for racily clean and hash the weights again, and no one waits for the
 * clock to tick.
 *
 * Deferred checkout. git reads a filter's whole smudge output into memory
 * before it writes the file, so smudging a 70 GB checkpoint through git
 * needs 70 GB of RAM, and even small weights cost a copy through a pipe
 * and git's memory. For objects bigger than model.smudgeInlineMax the
 * filter therefore answers with the pointer text and records the path with
 * checkout_defer(); the post-checkout, post-merge and post-rewrite hooks
 * (hooks.h) then run checkout_deferred(), which writes the weights
 * straight from the store into the work tree, streaming.
 *
 * The record is <git dir>/model-deferred, this worktree's own: NUL-ended
 * records "sha256:<oid> <size> <path>", the path relative to the top of
 * the work tree, appended with one write() each. checkout_deferred()
 * claims it by renaming it, so records appended meanwhile go to a fresh
 * file. The record names the object because git may write a file that
 * is not the index's version (git restore --source, a merge conflict):
 * such a file gets its weights, and its index entry is left alone.
 *
 * Lending (loan.h). Where model.checkout allows it, the first file of an
 * oid in a run is written by moving the object out of the store instead
 * of copying it; other files with that oid are copied first (from the
 * store, or from the lent file of another worktree while it is
 * unchanged). git unlinks a work tree file before it asks the filter for
 * its new content, so nothing can take a lent file back before git
 * removes it: checkout_begin() settles every loan first (loan_settle_all():
 * an unlinked lent file goes back into the store through its anchor, a
 * changed one is the user's and its object comes from storage), so a
 * switch between two versions is two renames. A write of a file that
 * cannot be lent (another file system, an object not in storage, other
 * hard links, a loan elsewhere) is a copy.
 */

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <git2.h>

#include "hash.h"
#include "oidset.h"
#include "pointer.h"
#include "repo.h"
#include "store.h"

/*
 * Default for model.smudgeInlineMax; see git-model-config(5). Measured on
 * checkouts of 200 files: at 10 KiB both ways take the same time, from
 * 100 KiB on the deferred way is faster (1.4x at 256 KiB, 2x at 1 MiB).
 */
#define SMUDGE_INLINE_MAX_DEFAULT ((uint64_t)256 << 10)

/*
 * How a file is written (model.checkout, git-model-config(5)): copied
 * (a reflink where the file system can, by copy_file_range()), or the
 * object lent (loan.h) when it can be, else copied; auto tries a reflink
 * first, then a loan, then a copy.
 */
enum checkout_how {
	CHECKOUT_AUTO = 0,
	CHECKOUT_COPY,
	CHECKOUT_LEND,
};

/* A file to write, queued by checkout_deferred() (checkout.c). */
struct write_job {
	char *path;        /* relative, owned */
	int refresh;       /* the stage-0 entry of path is ... */
	git_oid entry_id;  /* ... this pointer blob: refresh it */
	char oid[HASH_HEXSZ + 1];
	uint64_t size;
	unsigned mode;
	struct stat st; /* of the written file */
	int may_lend;   /* the first job of its oid in this run */
	int ok;
};

struct checkout {
	struct repo *repo;
	git_index *index;
	struct store store;
	int root; /* the work tree's top (O_PATH) */
	int tmp_elsewhere; /* the store's tmp/ is on another file system */
	size_t written, missing, failed, skipped;
	time_t newest; /* latest mtime of a file written */
	struct oidset swept; /* directories cleared of stale temp files */
	enum checkout_how how;
	struct oidset lending; /* oids with a job that may lend them */
	struct oidset queued; /* sha256 of each path queued */
	int lend_phase; /* run_jobs(): 0 copies, then 1 loans */
	struct write_job *jobs;
	size_t jobs_nr, jobs_alloc;
	mode_t umask;
	int quiet;
	/*
	 * Files the filter left to us: it reported why each object could
	 * not be had, so a missing one is only counted, not warned about.
	 */
	int deferred;
};

/*
 * Give the index entry `e` the stat data `st` of its file, which holds
 * what the entry says (libgit2 is told not to check it again as racily
 * clean: it would hash weights without our filter).
 */
void entry_set_stat(git_index_entry *e, const struct stat *st);

/* model.checkout into `how` (auto when unset). 0, or -1 (reported). */
int checkout_read_how(const struct repo *r, enum checkout_how *how);

/* Settle the loans (loan.h), read the index. 0 or -1 (reported). */
int checkout_begin(struct checkout *co, struct repo *r, int quiet);

/*
 * Put the weights of the stage-0 entry `e` into the work tree if its file
 * holds the entry's pointer: checked now, queued, and written by
 * checkout_finish(), one writer per core. Returns 1 when queued (or its
 * entry refreshed), 0 when there was nothing to do, -1 when the weights
 * are not local (reported; counted in missing).
 */
int checkout_entry(struct checkout *co, const git_index_entry *e);

/*
 * Write the queued files, then the index when anything was written;
 * report, and release everything. Returns 0 when every file came out, 1
 * when some are missing or failed, -1 when the index could not be
 * written (reported).
 */
int checkout_finish(struct checkout *co);

/*
 * Record `path` (relative to the work tree's top), which git is writing
 * with the pointer text of `p`, for checkout_deferred().
 */
int checkout_defer(const struct repo *r, const char *path,
		   const struct pointer *p);

/*
 * Write the files recorded by checkout_defer(). Returns 0 when all came
 * out (or none was recorded), 1 when some did not (reported), -1 on error.
 */
int checkout_deferred(struct repo *r, int quiet);

/*
 * Call `fn` with the path (from the top of the work tree) of each temp
 * file a checkout writing beside the work tree file may have left:
 * ".<name>.git-model-XXXXXX" beside a tracked <name>, found without
 * following a symbolic link. Whether it is stale (unlocked, old) is the
 * caller's to judge. 0, or -1 (reported).
 */
int checkout_each_temp(struct repo *r,
		       void (*fn)(const char *path, void *data), void *data);

#endif
