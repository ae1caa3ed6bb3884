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
 * nanosecond) held the object <oid>". A clean writes one when it hashed
 * the bytes git sent to <oid>, of the file's size, found the file's stat
 * the same before and after, and the file's ctime older than the moment
 * that clean began, as the file system's clock tells it (the mtime of a
 * temp file made then, in the store), so that the record is not of a
 * file being written. The clean does not read the file itself:
 * git's bytes are most often the file's, and when they are not (git
 * hash-object --path, a merge) the record is only a wrong guess.
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
 * A record is a guess, never the answer by itself: for a file of the
 * recorded size whose inode has a record (whatever its times: a touch, a
 * rewrite of the same bytes), filter.c compares the bytes git sends, as
 * they come, with the store's object of the recorded oid, and answers
 * that oid only when they are all equal: the store's objects hold what
 * their oid says (store.h), so the answer is the hash of git's bytes
 * without hashing them, and clean writes nothing. On the first
 * difference the equal part is copied from the object into an ordinary
 * clean. A record that is missing, broken or wrong costs one clean, and
 * reads of the object's equal part. A record that answered for a file
 * whose stamp is no longer its own is written again with the file's
 * stat, under the rules of a clean's record, so that prune keeps it.
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
 * when the record is of a file of `st`'s size; its times may be older
 * (touch, a write that put the same bytes back). `*current` is set to 1
 * when the record's stamp is `st`'s, to 0 when the record should be
 * written again with `st` if it answers. 1 when found, 0 when there is
 * no such record (none, broken, or of another size).
 */
int clean_cache_hint(const struct store *s, const struct stat *st, char *oid,
		     int *current);

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
 * recorded when `st`'s ctime is not older than the beginning (on another
 * file system than the store's, local ones share the kernel's clock; a
 * record made by a skewed clock is only a wrong guess). 1 when recorded,
 * 0 when not, -1 with errno set (not reported). The temp file is gone
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
