#ifndef STORE_H
#define STORE_H

/*
 * The local store: <common git dir>/model, shared by all linked worktrees.
 *
 *	objects/sha256/<oid[0:2]>/<oid[2:4]>/<oid>   complete, verified, 0444
 *	tmp/                                          temp files being written
 *	incomplete/<oid>                              resumable partial downloads
 *
 * An object enters objects/ only by a rename from tmp/ (store_adopt()):
 * the temp file is written, its sha256 checked, made 0400 and renamed
 * into place, then queued on the dir-sync thread (dir-sync.h), which
 * syncs its data, makes it 0444 and syncs its directory (and every
 * directory made for it); the process waits for that before it exits.
 * A clone or a hard link (store_clone(), store_link()) goes through tmp/
 * the same way, hashed before the rename. A kill or a full disk therefore
 * never leaves a partial object under objects/, and concurrent writers of
 * the same object are harmless (content-addressed, rename is atomic).
 * A crash may leave an object of mode 0400 whose data never reached the
 * disk: store_has() and store_open() hash such an object before they
 * trust it, and remove it when it does not match.
 *
 * The mark "synced" (mode 0444) is set through an fd, so it must never
 * reach a file that was lent to a work tree meanwhile (loan.h). It is set
 * only under an flock of the object: its writer's exclusive one, held
 * from tmp/ until the dir-sync thread marked it and closed the fd, or
 * the shared one of a process that hashed it. loan_lend() moves an
 * object out only with an exclusive lock of its own, taken without
 * waiting (else it copies).
 *
 * No path is ever built from an oid that oid_hex_valid() did not accept.
 */

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "strbuf.h"

struct store {
	char *dir; /* absolute path of the model directory, owned */
};

#define STORE_INIT { .dir = NULL }

/* `model_dir` is copied. Nothing is created until something is written. */
void store_init(struct store *s, const char *model_dir);
void store_release(struct store *s);

/*
 * The object's path. Returns 0, or -1 (reported) when `oid` is not
 * 64 lowercase hex digits.
 */
int store_object_path(const struct store *s, const char *oid,
		      struct strbuf *out);

/*
 * True when the object is in the store with the given size. One of mode
 * 0400 (see above) is hashed first; this process's own syncs are waited
 * for.
 */
int store_has(const struct store *s, const char *oid, uint64_t size);

/*
 * Open the object for reading, checking that its size is `size` (and,
 * for one of mode 0400, its bytes, as store_has() does). Returns an fd,
 * or -1: errno ENOENT when absent or removed as damaged, otherwise
 * reported with error().
 */
int store_open(const struct store *s, const char *oid, uint64_t size);

/*
 * A new temp file <dir>/tmp/<prefix>XXXXXX (tmp/ made when missing), its
 * path appended to `path`, open for reading and writing. It is locked
 * (flock(LOCK_EX)) for as long as the fd, or a dup of it, is open: a
 * temp file that no process holds a lock on belongs to a writer that
 * died, and prune removes it once it is old enough. Every writer in
 * tmp/ holds such a lock. Returns the fd, or -1 with errno set (not
 * reported).
 */
int store_tmp_file(const struct store *s, const char *prefix,
		   struct strbuf *path);

/*
 * Open an anonymous temp file in tmp/ (already unlinked), for spooling
 * content that is not an object. Returns an fd or -1 (reported).
 */
int store_spool(const struct store *s);

/*
 * Writing an object: start, write any number of times, then commit or
 * abort. The writer hashes what it writes in the caller's thread and
 * hands full blocks (4 MiB) to a thread of its own that writes them
 * straight to the disk (O_DIRECT; where the file system refuses, through
 * the page cache with write-back started at once), so hashing overlaps
 * writing and the fdatasync() after commit has little left to wait for.
 * An object that fits in one block has no thread: it is written in the
 * caller's thread as it fills, 256 KiB at a time, its write-back started.
 * Memory: two blocks. After commit or abort the writer holds no
 * resources (the thread is joined); abort is safe to call at any time,
 * also twice.
 */
struct bg_writer;

/*
 * A tap sees every byte of an object being written, in order, once the
 * bytes are written: data() is called with each run of them, on the
 * writer's thread (or, for an object that fits in one block, in the
 * caller's at commit). It must not keep `buf`, and what it costs is the
 * writer's. Set `tap` after store_writer_start(); the writer never calls
 * it after commit or abort has returned. Owned by the caller.
 */
struct store_tap {
	void (*data)(struct store_tap *tap, const void *buf, size_t len);
};

struct store_writer {
	const struct store *store;
	int fd;
	char *tmp_path;
	struct hash hash;
	uint64_t size;
	char *buf;       /* the block being filled */
	size_t buf_len;
	size_t written;  /* of the first block, written out already */
	struct bg_writer *bg;
	struct store_tap *tap; /* NULL: none */
};

#define STORE_WRITER_INIT { .store = NULL, .fd = -1, .tmp_path = NULL, \
			    .buf = NULL, .written = 0, .bg = NULL, .tap = NULL }

int store_writer_start(struct store_writer *w, const struct store *s);
int store_writer_write(struct store_writer *w, const void *data, size_t len);

/*
 * The same without a copy: store_writer_room() points `*dst` at the free
 * part of the current block and returns its size (never 0); the caller
 * fills up to that many bytes there and passes the count to
 * store_writer_advance(), which returns like store_writer_write().
 */
size_t store_writer_room(struct store_writer *w, char **dst);
int store_writer_advance(struct store_writer *w, size_t len);

/*
 * Finish the object. When `expect_oid` is not NULL, the content must hash
 * to it, else nothing is stored and -1 is returned (reported). The oid is
 * written to `oid` (65 bytes) and the size to `size` when not NULL.
 */
int store_writer_commit(struct store_writer *w, const char *expect_oid,
			char *oid, uint64_t *size);
void store_writer_abort(struct store_writer *w);

/*
 * Move a complete file that the caller has verified against `oid` into
 * the store: make it 0400, rename `tmp_path` into place, and hand `fd` to
 * the dir-sync thread, which syncs it and makes it 0444 (a hard link,
 * with more than one name, is neither synced nor changed: it is another's
 * object already). When the store has the object already, `tmp_path` is
 * dropped. `fd` is the store's in every case (closed, or the thread's);
 * on failure `tmp_path` is unlinked. Returns 0 or -1 (reported).
 */
int store_adopt(const struct store *s, const char *oid, int fd,
		const char *tmp_path);

/*
 * Put the file open as `fd` into the store as `oid` as a copy-on-write
 * clone (clone_fd()): no data is written, yet the store's copy is its own.
 * The clone is hashed before it goes in; `tap` (when not NULL) sees its
 * bytes as they are hashed, as a writer's tap does (store_tap below).
 * Returns 1 when stored, 0 when the file system cannot clone it (copy it
 * instead), -1 when its bytes are not the object or on error (reported).
 */
struct store_tap;
int store_clone(const struct store *s, const char *oid, uint64_t size,
		int fd, struct store_tap *tap);

/*
 * Put the file at `src` into the store as `oid` by a hard link, once it
 * hashes to `oid` with `size` bytes. Only a regular file without write
 * permission for anyone is linked: the store's object must not change
 * under it. Returns 1 when stored; 0 when it cannot be linked (errno
 * from link(), e.g. EXDEV or EPERM, or 0 for a writable or odd file: copy
 * it instead); -1 when its bytes are not the object or on error
 * (reported). `tap` as for store_clone().
 */
int store_link(const struct store *s, const char *oid, uint64_t size,
	       const char *src, struct store_tap *tap);

/*
 * Is there room for `bytes` more in the store's file system (statvfs(3):
 * the blocks an unprivileged writer may use), with a margin of 1/64 of
 * them and 64 KiB? 0 when there is, or when it cannot be told; -1 with
 * errno ENOSPC when not, and `why` (appended to) says how much is needed
 * and free, for a message. Checked before a download, so that a pointer
 * with a huge size never starts filling the disk.
 */
int store_check_room(const struct store *s, uint64_t bytes,
		     struct strbuf *why);

/* <dir>/incomplete/<oid>, its directory created. 0 or -1 (reported). */
int store_incomplete_path(const struct store *s, const char *oid,
			  struct strbuf *out);

#endif
