#ifndef CLEAN_CACHE_H
#define CLEAN_CACHE_H

/*
 * Clean's records: which object a work tree file holds, by its stat.
 *
 * git sends a file through the clean filter whenever its index cannot
 * vouch for it: a racily clean entry, and every time a file whose size
 * is a multiple of 4 GiB (the index keeps the size mod 2^32, and 0 is
 * git's mark for "check the content"). Hashing and storing gigabytes to
 * learn an oid the store has already is what this spares.
 *
 * A record says "the file with this inode, size, mtime and ctime (to the
 * nanosecond) holds the object <oid>". It is written only by a clean
 * that read every byte git sent, found them equal to the file's own
 * bytes, found the file's stat the same before and after, and hashed
 * them to <oid>; and only when the file's ctime is older than the
 * moment that clean began, as the file system's clock tells it (the
 * mtime of a temp file made then, on the same file system): any write
 * after that moment gives the file another ctime, even where timestamps
 * are coarse. This is git's own rule for trusting stat data (ctime
 * cannot be set by a writer), with the racy case ruled out at the
 * start rather than re-checked later.
 *
 * A checkout that wrote a file from the object, or lent the object
 * (checkout.h, loan.h), records it too, with the stat it took once the
 * file was in place. Its ctime is then the present, but its mtime was
 * set a second back, and any write sets the mtime to the present: the
 * record is taken only while the mtime is still at least half a second
 * older than the ctime. Only a writer that puts the mtime back to the
 * nanosecond within the clock tick of the checkout gets past it, the
 * hole loan.h describes, which git's index has for these files too.
 *
 * A record is a hint, never the answer by itself: filter.c answers its
 * oid only when the file's stat is still the recorded one, the bytes git
 * sends are the file's (compared as they come), and the store has the
 * object (clean then writes nothing). Anything else is an ordinary
 * clean. A record that is missing, broken or stale costs one clean.
 *
 * Layout, in the store's directory (shared by all worktrees; each work
 * tree file has its own inode):
 *
 *	clean/<dev>-<ino>   "<oid> <size> <mtime s> <ns> <ctime s> <ns> <path>"
 *
 * written as a temp file in tmp/ (store_tmp_file(), so prune removes one
 * a kill left) and renamed into place: a reader sees a whole record or
 * none. Not synced: one lost in a crash costs a clean. Records of files
 * that are gone are removed by git model prune.
 */

#include <stdint.h>
#include <sys/stat.h>

#include "file-stamp.h"
#include "hash.h"
#include "store.h"
#include "strbuf.h"

/*
 * The oid (HASH_HEXSZ + 1 bytes) that the record of `st`'s inode names,
 * when the record's stamp is `st`'s. 1 when found, 0 when there is no
 * such record (none, broken, or of an older state of the file).
 */
int clean_cache_lookup(const struct store *s, const struct stat *st,
		       char *oid);

/*
 * A record being made: begun before the clean reads the file, committed
 * after. `start` is the file system's time at the beginning.
 */
struct clean_record {
	const struct store *store;
	int fd; /* the temp file in tmp/, or -1 */
	struct strbuf tmp;
	struct stat start;
};

#define CLEAN_RECORD_INIT { .store = NULL, .fd = -1, .tmp = STRBUF_INIT }

/* 0, or -1 with errno set (not reported: a record is only a hint). */
int clean_record_begin(struct clean_record *r, const struct store *s);

/*
 * Record that the file with stat `st` (taken after the clean began, and
 * the same at its end), at `path` (for prune), holds `oid`. Nothing is
 * recorded when `st`'s ctime is not older than the beginning, or the
 * file is on another file system than the store. 1 when recorded, 0
 * when not, -1 with errno set (not reported). The temp file is gone
 * afterwards in every case.
 */
int clean_record_commit(struct clean_record *r, const struct stat *st,
			const char *oid, const char *path);

/*
 * Record that the file with stat `st`, which a checkout wrote from the
 * object `oid` (or lent it) with its mtime set a second back, at `path`
 * (absolute, for prune), holds `oid`. Nothing is recorded when its mtime
 * is not at least half a second older than its ctime (written again
 * since). 1 when recorded, 0 when not, -1 with errno set (not reported).
 * Safe to call from several threads at once.
 */
int clean_record_checked_out(const struct store *s, const struct stat *st,
			     const char *oid, const char *path);

/* Drop a record that was not committed; harmless twice. */
void clean_record_release(struct clean_record *r);

/*
 * Remove the records whose path no longer names their inode with their
 * stamp (the file was changed, replaced or removed). Only counts them
 * into `nr` when `dry_run`. 0, or -1 (reported).
 */
int clean_cache_prune(const struct store *s, int dry_run, size_t *nr);

#endif
