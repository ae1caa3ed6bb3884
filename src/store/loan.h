#ifndef LOAN_H
#define LOAN_H

/*
 * Lending objects to the work tree: one copy on disk.
 *
 * A checkout that would copy an object into the work tree may instead
 * move it there (rename(), atomic, no data written) and take it back when
 * the file is replaced or removed. The store then holds each checked-out
 * version once, in the work tree, and a switch between two local
 * versions writes no data.
 *
 * Only an object that storage has is lent, so that a work tree file the
 * user changes can never be the last copy of a version: the object comes
 * back from storage. "Storage has it" is known without a network round
 * trip from an empty marker file, <dir>/stored/<oid[0:2]>/<oid>, that
 * the transfer engine creates whenever storage confirmed the object: an
 * upload that finished, an upload skipped because storage had it, a
 * check that found it, a download (transfer.c). It names no URL: it
 * means "a storage of this repository had it". An object that was only
 * cleaned (git add, an unpushed commit) has none and is copied, never
 * lent. Markers are not synced: one lost in a crash makes a copy.
 *
 * Layout, in the store's directory (shared by all worktrees):
 *
 *	stored/<aa>/<oid> the marker: storage has the object
 *	lent/<oid>        the anchor: a second name (hard link) of the
 *	                  lent file, made before the move
 *	lent/<oid>.loan   the record: the file's absolute path and its stat
 *	                  (dev, ino, size, mtime and ctime in ns)
 *
 * git removes a work tree file itself, with unlink(), before it asks the
 * filter for the new content, and runs no hook first: the take-back can
 * only happen afterwards. The anchor is what keeps the bytes alive
 * through git's unlink. It is never served as an object on trust:
 *
 *  - While the work tree path still names the anchor's inode with the
 *    recorded stat (the rule git trusts for its index: no write can leave
 *    the ctime as it was), the loan is out: store_has() and store_open()
 *    answer with the anchor, read-only (a checkout of a second path with
 *    the same oid, push, fsck, show).
 *  - When the path names the inode with other stat data, the user wrote
 *    to it: the file is the user's, the anchor is dropped, and the object
 *    is said to come from storage.
 *  - When the path no longer names it (git unlinked or replaced it) the
 *    anchor alone holds it, and git's unlink changed its ctime. It goes
 *    back into objects/ as it is (mode 0444, trusted, no data read or
 *    written) when it has no other name and its inode, size and mtime
 *    to the nanosecond are the recorded ones, and no process has it
 *    open for writing (a read lease is granted, fcntl(2)); otherwise it
 *    is dropped with a message. The lent file's mtime was set a second
 *    back with the clock's nanoseconds, and every write moves it to the
 *    clock's time, so a write shows unless its writer then puts the
 *    mtime back to the nanosecond (utimensat(), touch -d with the full
 *    timestamp), or the clock was set back to that very nanosecond when
 *    it wrote. That is the hole, and it is git's own for its index
 *    without the ctime. Its damage is bounded: such bytes are served as
 *    the version until git model fsck hashes the object (and moves it to
 *    bad/), and the version is in storage (only such objects are lent).
 *    Where leases cannot be taken (disabled, another owner's file, a
 *    file system without them) and for a loan a kill left pending, the
 *    anchor goes back with mode 0400, which store.h's rule hashes before
 *    the object is first trusted (and removes when it does not match).
 *
 * The work tree file is never a name of an object in objects/: an object
 * with other links (file:// storage links them) is never lent, a lent
 * file is mode 0644 (so storage-file.c copies rather than links it), and
 * an anchor is moved back only when it has no other name.
 *
 * Every step is a rename, a link or an unlink, and the record is written
 * before the move ("pending") and completed after it, so a kill at any
 * point leaves a state that loan_settle() repairs: an anchor beside an
 * object still in objects/ is dropped, a record without its anchor is
 * dropped, a pending loan whose file was moved is the user's file (the
 * object comes from storage), a pending loan whose move never happened
 * is taken back. Records are not synced: one that a crash lost or left
 * empty or unreadable counts as none, and the lent file is then the
 * user's (its object comes from storage). Loans are changed under an
 * flock of lent/.
 */

#include <stdint.h>
#include <sys/stat.h>

#include "store.h"

/* What loan_settle() found. */
enum loan_state {
	LOAN_NONE = 0, /* no loan (any there was is settled now) */
	LOAN_OUT,      /* lent, and the work tree file is unchanged */
};

/* Totals of loan_settle_all(). */
struct loan_stats {
	size_t out;      /* loans still out */
	uint64_t out_bytes;
	size_t returned; /* anchors moved back into objects/ */
	size_t dropped;  /* loans ended without their bytes (from storage) */
};

#define LOAN_STATS_INIT { 0, 0, 0, 0 }

/*
 * Record that storage has the objects `oids` (`nr` of them): their
 * markers. 0 or -1 (reported).
 */
int store_mark_stored(const struct store *s, const char *const *oids,
		      size_t nr);

/* True when `oid` has its marker. */
int store_is_stored(const struct store *s, const char *oid);

/*
 * Move the object `oid` into the work tree as `base` in the directory
 * `dir` (replacing what is there, atomically), whose absolute path is
 * `abs_path`, with the permission bits `mode`, and record the loan. Its
 * mtime is set a second back (checkout.h). Only when the object is in
 * objects/ with mode 0444 and no other name, on the file system of
 * `dir`, storage has it, it is not lent already and no process holds an
 * flock of it (one that may still mark it synced, store.h). `st` gets
 * the file's stat. Returns 1 when lent, 0 when it cannot be (copy it instead), -1
 * on error (reported; nothing was moved, or the loan is recorded).
 */
int loan_lend(const struct store *s, const char *oid, uint64_t size,
	      int dir, const char *base, const char *abs_path, mode_t mode,
	      struct stat *st);

/*
 * True when loan_lend() would lend `oid` to a work tree on the device
 * `dev` (the loan could still fail: lent elsewhere meanwhile).
 */
int loan_can_lend(const struct store *s, const char *oid, uint64_t size,
		  dev_t dev);

/*
 * Count the loans that are out into `stats` (out and out_bytes): those
 * whose file is in place, unchanged. Settles nothing. 0.
 */
int loan_count(const struct store *s, struct loan_stats *stats);

/*
 * Look at the loan of `oid`, if any, and settle what is no longer lent,
 * as the header says (messages for files the user changed, unless
 * `quiet`). Returns enum loan_state, or -1 (reported).
 */
int loan_settle(const struct store *s, const char *oid, int quiet);

/*
 * The lent file of `oid` open for reading when its loan is out with
 * `size` bytes, else -1 with errno ENOENT.
 */
int loan_open(const struct store *s, const char *oid, uint64_t size);

/*
 * loan_settle() every loan; `stats` may be NULL. 0, or -1 when some could
 * not be settled (reported).
 */
int loan_settle_all(const struct store *s, int quiet,
		    struct loan_stats *stats);

/*
 * Remove what the layout above leaves behind: the markers of objects
 * that are neither in objects/ nor lent (prune deleted them, fsck moved
 * them to bad/; a download marks them again), stored/<aa>/ once empty,
 * and the temp files of loan records a kill left in lent/. Only counts
 * them into `nr` when `dry_run`. 0, or -1 (reported).
 */
int loan_prune_leftovers(const struct store *s, int dry_run, size_t *nr);

/* Called by loan_verify_all() for a loan that ended as bad. */
typedef void (*loan_bad_fn)(void *ctx, const char *oid, const char *path);

/*
 * Hash the file of every loan that is out (through its anchor). One that
 * does not hash to its object (a write whose writer put the mtime back,
 * see above) is the user's file: its loan ends and `bad` is called with
 * its oid and absolute path. 0, or -1 when a file could not be read
 * (reported).
 */
int loan_verify_all(const struct store *s, loan_bad_fn bad, void *ctx);

#endif
