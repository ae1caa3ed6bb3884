#ifndef WRAPPER_H
#define WRAPPER_H

/*
 * Allocation and I/O wrappers.
 *
 * The x*alloc() family never returns NULL: on exhaustion it dies, since no
 * caller can do anything useful without memory. read_in_full() and
 * write_in_full() retry on EINTR and on short transfers, so a caller sees
 * either the whole count, a short count at end of file (read only), or -1
 * with errno set.
 */

#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The buffer size of a plain read-write copy loop. */
#define COPY_BLOCK (1024 * 1024)

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* `size` bytes aligned to `align` (a power of two); free() frees them. */
void *xmalloc_aligned(size_t align, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Overwrite the string *p (a password, a secret key) with zeros in a way
 * the compiler may not drop (explicit_bzero), free it and set *p to NULL.
 * A NULL *p is left alone.
 */
void free_secret(char **p);

/*
 * Grow `x` (an array of `nr` used elements, `alloc` allocated) so that
 * at least `want` elements fit.
 */
#define ALLOC_GROW(x, want, alloc)                                           \
	do {                                                                 \
		if ((want) > (alloc)) {                                      \
			(alloc) = (want) < 16 ? 16 : (want) * 3 / 2;        \
			(x) = xrealloc((x), (alloc) * sizeof(*(x)));         \
		}                                                            \
	} while (0)

/* snprintf() that treats truncation as a bug: for fixed-size formats only. */
int xsnprintf(char *dst, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

ssize_t xread(int fd, void *buf, size_t len);
ssize_t read_in_full(int fd, void *buf, size_t count);
ssize_t write_in_full(int fd, const void *buf, size_t count);

/* Close fd unless it is negative; preserves errno. Always returns -1. */
int close_quietly(int fd);

/*
 * Create the directories leading to `path` (not `path` itself), mode 0777
 * minus umask. Returns 0 or -1 with errno set.
 */
int mkdir_leading(const char *path);

/* The value of a hex digit (either case), or -1. */
int hexval(int c);

/* write_file_atomically()'s flags */
#define WRITE_FILE_UMASK 1   /* `mode` minus the umask */
#define WRITE_FILE_NO_SYNC 2 /* a cache: a crash may lose it, or end it early */

/*
 * Replace `path` with `len` bytes of `data` and mode `mode`, through a
 * temp file beside it and rename(), so a reader sees the old file or the
 * new one, never a part; the data is synced before the rename, unless
 * WRITE_FILE_NO_SYNC (then, after a crash, the new file may be empty or
 * cut short: for caches whose reader checks each record). For small
 * files (configuration, hooks, caches). Returns 0 or -1 (reported).
 */
int write_file_atomically(const char *path, const void *data, size_t len,
			  unsigned mode, unsigned flags);

/*
 * Make `out` a copy-on-write clone of all of `in` (FICLONE: btrfs, XFS,
 * bcachefs, OCFS2). The two stay independent files, as after a copy, but
 * no data is written. Returns 0, or -1 with errno set (EOPNOTSUPP, EXDEV,
 * EINVAL where the file system cannot): not reported.
 */
int clone_fd(int in, int out);

/*
 * Give the file open as `fd` the new name `path` (a hard link, through
 * /proc/self/fd). Fails like link(2): EEXIST, EXDEV, EPERM...; not
 * reported. Returns 0 or -1.
 */
int link_fd(int fd, const char *path);

#endif
