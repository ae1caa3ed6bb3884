#ifndef DIR_SYNC_H
#define DIR_SYNC_H

/*
 * Making new files in the store durable, off the caller's path.
 *
 * An object is durable once its data is synced and its directory is, and a
 * new directory once its parent is. Each fsync() is a disk cache flush.
 * Done in line, git add of 200 small files waited for 400 of them, two
 * after each file, since git sends the next file only when it has the
 * pointer. Here a thread of its own syncs what is queued to it while the
 * caller goes on, and dir_sync_wait() waits for all of it.
 *
 * The process waits for the thread at exit (atexit()), so a command's
 * files are durable before it exits, error or not; git waits for its
 * filter process to exit before it does, so this holds for git add too.
 *
 * A file queued with dir_sync_queue_file() is already in place under its
 * final name, whole, with mode 0400; the thread syncs its data, then makes
 * it 0444, then syncs its directory. Mode 0400 thus marks a file whose
 * data may not be on the disk yet: after a crash, such a file may hold
 * anything, and whoever finds one must check it before trusting it
 * (store.c does). A file that cannot be synced is unlinked.
 *
 * The queue and the thread are the process's, shared by all callers and
 * threads. Paths must be absolute; they are copied.
 */

/*
 * Queue the directory `dir` for an fsync(). One already queued and not
 * yet started is not queued twice. Never fails: where no thread can
 * start, the work is done in line.
 */
void dir_sync_queue(const char *dir);

/* Queue the directory that holds `path`. */
void dir_sync_queue_parent(const char *path);

/*
 * Queue the file open as `fd` at `path` (mode 0400; see above): its data,
 * its mode 0444, then its directory. `fd` is the queue's from now on: it
 * is closed after the sync. A store object's `fd` holds an exclusive
 * flock (store.h) until then, so that no one lends it before it is marked. When a quarter of the fd limit (at most 256)
 * is queued already, this waits for the thread to catch up.
 */
void dir_sync_queue_file(int fd, const char *path);

/*
 * mkdir_leading() made some of the directories leading to `path`, which
 * ones is not known: queue every one that may hold a new entry, from the
 * grandparent of `path` up to the parent of `top` (where the making
 * started: a store or storage directory, itself perhaps new). The parent
 * of `path` is not queued: queue it once `path` itself is in place.
 */
void dir_sync_queue_made(const char *path, const char *top);

/* Wait until everything this process queued so far is done. */
void dir_sync_drain(void);

/*
 * The same, then say how it went: 0, or -1 when a sync failed since the
 * last call (each failure reported with error() as it happened).
 */
int dir_sync_wait(void);

#endif
