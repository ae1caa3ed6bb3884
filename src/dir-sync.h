#ifndef DIR_SYNC_H
#define DIR_SYNC_H

/*
 * Making new directory entries durable, off the caller's path.
 *
 * A rename into the store is durable only once its directory is fsynced,
 * and a new directory only once its parent is. Each such fsync() is a
 * disk cache flush: done in line, git add of 200 small files waited for
 * 200 of them, one after each file, on top of the flush of each file's
 * data. Here a thread of its own fsyncs the directories queued to it while
 * the caller goes on; dir_sync_wait() waits for all of it.
 *
 * What a caller gets: the file it renamed is in place and whole at once
 * (its data was synced before the rename; that stays the caller's job),
 * and its name survives a crash once dir_sync_wait() has returned 0. The
 * process waits for the thread at exit (atexit()), so a command's own
 * directories are synced before it exits, error or not; git waits for its
 * filter process to exit before it does, so this holds for git add too.
 *
 * The queue and the thread are the process's, shared by all callers and
 * threads. Paths are copied.
 */

/*
 * Queue the directory `dir` (absolute or relative to the working directory
 * at the time of the call: callers pass absolute paths) for an fsync().
 * A directory already queued and not yet started is not queued twice.
 * Never fails: where no thread can start, the fsync() is done in line.
 */
void dir_sync_queue(const char *dir);

/* Queue the directory that holds `path`. */
void dir_sync_queue_parent(const char *path);

/*
 * mkdir_leading() made some of the directories leading to `path`, which
 * ones is not known: queue every one that may hold a new entry, from the
 * grandparent of `path` up to the parent of `top` (where the making
 * started: a store or storage directory, itself perhaps new). The parent
 * of `path` is not queued: queue it once `path` itself is in place.
 */
void dir_sync_queue_made(const char *path, const char *top);

/*
 * Wait until every directory queued so far is synced. Returns 0, or -1
 * when an fsync() failed since the last call (each failure reported with
 * error() as it happened).
 */
int dir_sync_wait(void);

#endif
