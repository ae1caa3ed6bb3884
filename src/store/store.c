#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dir-sync.h"
#include "loan.h"
#include "human.h"
#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define WRITE_BLOCK (4 * 1024 * 1024)
/* The first block goes out in pieces of this size as it fills. */
#define EARLY_WRITE (256 * 1024)
/* Direct I/O wants buffers, offsets and lengths aligned to this. */
#define DIRECT_ALIGN 4096
/* The mode of an object in place whose data may not be on disk yet. */
#define UNSYNCED 0400

/*
 * Spare blocks, kept for the next writer. A block of this size is a
 * mapping of its own: freeing it unmaps it, and the next writer faults in
 * fresh zeroed pages again. A filter cleaning 200 files of 1 MiB did that
 * 200 times. At most SPARE_BLOCKS are kept (one writer with its thread
 * uses two), shared by all threads under `spare_mu`; they live until
 * the process exits.
 */
#define SPARE_BLOCKS 2
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static char *spare[SPARE_BLOCKS];
static int nr_spare;

static char *block_get(void)
{
	char *b = NULL;

	pthread_mutex_lock(&spare_mu);
	if (nr_spare)
		b = spare[--nr_spare];
	pthread_mutex_unlock(&spare_mu);
	return b ? b : xmalloc_aligned(DIRECT_ALIGN, WRITE_BLOCK);
}

static void block_put(char *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&spare_mu);
	if (nr_spare < SPARE_BLOCKS) {
		spare[nr_spare++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&spare_mu);
	free(b);
}

void store_init(struct store *s, const char *model_dir)
{
	s->dir = xstrdup(model_dir);
}

void store_release(struct store *s)
{
	free(s->dir);
	s->dir = NULL;
}

int store_object_path(const struct store *s, const char *oid,
		      struct strbuf *out)
{
	if (!oid_hex_valid(oid))
		return error("invalid object id '%.80s'", oid);
	strbuf_addf(out, "%s/objects/sha256/%.2s/%.2s/%s", s->dir, oid,
		    oid + 2, oid);
	return 0;
}

/*
 * An object whose mode is still UNSYNCED: this process's, on its way to
 * the disk, or another's, or one whose sync a crash cut short, when it
 * may hold anything. Wait for our own syncs; if it is still UNSYNCED,
 * hash it, and sync it and make it 0444 when it is right, under a shared
 * flock (see store.h): without one, its writer is syncing it and marks
 * it itself. 1 when the object at `path` (`st` its stat) can be trusted,
 * 0 when not (a damaged one is removed, one lent meanwhile is not
 * served from here).
 */
static int settle(const char *oid, uint64_t size, const char *path,
		  struct stat *st)
{
	char got[HASH_HEXSZ + 1];
	uint64_t got_size;
	struct stat now;
	int fd, ok, may_mark;

	if ((st->st_mode & 07777) != UNSYNCED)
		return 1;
	dir_sync_drain();
	if (stat(path, st) < 0)
		return 0;
	if ((st->st_mode & 07777) != UNSYNCED)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Never blocks: the writer may be this process, on another fd. */
	may_mark = !flock(fd, LOCK_SH | LOCK_NB);
	if (fstat(fd, &now) < 0) {
		close(fd);
		return 0;
	}
	if ((now.st_mode & 07777) != UNSYNCED) {
		/* Marked by its writer since, or lent (then not 0444). */
		close(fd);
		*st = now;
		return (now.st_mode & 07777) == 0444;
	}
	ok = !hash_fd(fd, got, &got_size) && got_size == size &&
	     !strcmp(got, oid);
	if (ok) {
		/* Not ours to change, maybe: then it is checked each time. */
		if (may_mark && !fdatasync(fd))
			fchmod(fd, 0444);
	} else if (!lstat(path, st) && st->st_ino == now.st_ino &&
		   st->st_dev == now.st_dev) {
		warning("'%s' in the store does not match its object id (a "
			"crash came before it was synced): removed", path);
		unlink(path);
	}
	close(fd);
	*st = now;
	return ok;
}

int store_has(const struct store *s, const char *oid, uint64_t size)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	if (store_object_path(s, oid, &path) < 0)
		goto cleanup;
	if (stat(path.buf, &st) < 0 && errno == ENOENT) {
		/* Lent to a work tree (loan.h), or taken back just now. */
		int lent = loan_settle(s, oid, 0);

		if (lent == LOAN_OUT) {
			int fd = loan_open(s, oid, size);

			ret = fd >= 0;
			close_quietly(fd);
			goto cleanup;
		}
		if (stat(path.buf, &st) < 0)
			goto cleanup;
	}
	ret = S_ISREG(st.st_mode) &&
	      (uint64_t)st.st_size == size && settle(oid, size, path.buf, &st);
cleanup:
	strbuf_release(&path);
	return ret;
}

int store_open(const struct store *s, const char *oid, uint64_t size)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int fd = -1;

	if (store_object_path(s, oid, &path) < 0) {
		errno = EINVAL;
		goto cleanup;
	}
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Lent to a work tree (loan.h), or taken back just now. */
		if (loan_settle(s, oid, 0) == LOAN_OUT) {
			fd = loan_open(s, oid, size);
			goto cleanup;
		}
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno != ENOENT)
			error_errno("cannot open '%s'", path.buf);
		goto cleanup;
	}
	if (fstat(fd, &st) < 0) {
		error_errno("cannot stat '%s'", path.buf);
		fd = close_quietly(fd);
		goto cleanup;
	}
	if ((uint64_t)st.st_size != size) {
		error("object '%s' has %lld bytes, its pointer says %llu "
		      "(delete the object and run 'git model pull')",
		      path.buf, (long long)st.st_size,
		      (unsigned long long)size);
		close(fd);
		fd = -1;
		errno = EIO;
	} else if (!settle(oid, size, path.buf, &st)) {
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
cleanup:
	strbuf_release(&path);
	return fd;
}

/* Room kept free beyond an object's size, with 1/64 of the size. */
#define ROOM_MARGIN (64 << 10)

static int tmp_dir(const struct store *s, struct strbuf *out)
{
	strbuf_addf(out, "%s/tmp/", s->dir);
	if (mkdir_leading(out->buf) < 0)
		return error_errno("cannot create '%s'", out->buf);
	return 0;
}

int store_tmp_file(const struct store *s, const char *prefix,
		   struct strbuf *path)
{
	int fd;

	strbuf_addf(path, "%s/tmp/%sXXXXXX", s->dir, prefix);
	fd = mkostemp(path->buf, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !mkdir_leading(path->buf)) {
		/* A failed mkostemp() may have filled in the XXXXXX: again. */
		strbuf_reset(path);
		strbuf_addf(path, "%s/tmp/%sXXXXXX", s->dir, prefix);
		fd = mkostemp(path->buf, O_CLOEXEC);
	}
	/* Ours alone: nobody else has opened it yet. */
	if (fd >= 0)
		flock(fd, LOCK_EX | LOCK_NB);
	return fd;
}

int store_spool(const struct store *s)
{
	struct strbuf path = STRBUF_INIT;
	int fd = -1;

	if (tmp_dir(s, &path) < 0)
		goto cleanup;
	fd = open(path.buf, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		strbuf_addstr(&path, "spool-XXXXXX");
		fd = mkostemp(path.buf, O_CLOEXEC);
		if (fd >= 0)
			unlink(path.buf);
	}
	if (fd < 0)
		error_errno("cannot create a temp file in '%s'", path.buf);
cleanup:
	strbuf_release(&path);
	return fd;
}

/*
 * The writer's thread. The caller fills one block while the thread writes
 * the other; `posted` is the block handed over, or -1 when the thread is
 * idle. The first write error stops all writing and is kept in `err`.
 */
struct bg_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	int direct;    /* fd is O_DIRECT (the thread's own business) */
	char *blocks[2];
	int cur;       /* the block the caller fills */
	int posted;
	size_t skip;   /* bytes at the start of the posted block written */
	size_t len;    /* bytes to write from there */
	off_t off;     /* where the posted block goes */
	int stop;
	int err;
	struct store_tap *tap;
};

/*
 * Switch off direct I/O: for a last block of an odd length, or where the
 * file system refused it after all. 0, or -1 with errno set.
 */
static int bg_buffered(struct bg_writer *bg)
{
	int fl = fcntl(bg->fd, F_GETFL);

	if (fl < 0 || fcntl(bg->fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return -1;
	bg->direct = 0;
	return 0;
}

/*
 * Write `len` bytes at `off`. The blocks of a big object go to the disk
 * directly (O_DIRECT): through the page cache, each new page costs more
 * than the disk write itself on some machines (a VM whose memory the host
 * takes back), and tens of GB would only push everything else out of the
 * cache (t/perf/p0001-add-big.sh measures it). Where the file system will
 * not, buffered writes get their write-back started at once, so that the
 * fdatasync() after commit has little left to wait for.
 */
static int bg_write(struct bg_writer *bg, const char *p, size_t len,
		    off_t off)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		ssize_t got;

		if (bg->direct && n % DIRECT_ALIGN) {
			n -= n % DIRECT_ALIGN;
			if (!n && bg_buffered(bg) < 0)
				return -1;
			if (!n)
				n = len - done;
		}
		got = pwrite(bg->fd, p + done, n, off + done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && bg->direct && errno == EINVAL) {
			if (bg_buffered(bg) < 0)
				return -1;
			continue;
		}
		if (got < 0)
			return -1;
		if (!got) {
			errno = ENOSPC;
			return -1;
		}
		if (!bg->direct)
			/* A failure only costs time. */
			sync_file_range(bg->fd, off + done, got,
					SYNC_FILE_RANGE_WRITE);
		done += got;
	}
	return 0;
}

static void *bg_main(void *data)
{
	struct bg_writer *bg = data;

	pthread_mutex_lock(&bg->mu);
	for (;;) {
		const char *block;
		size_t len, skip;
		off_t off;
		int err = 0;

		while (bg->posted < 0 && !bg->stop)
			pthread_cond_wait(&bg->cv, &bg->mu);
		if (bg->posted < 0)
			break;
		skip = bg->skip;
		block = bg->blocks[bg->posted] + skip;
		len = bg->len;
		off = bg->off;
		pthread_mutex_unlock(&bg->mu);

		if (bg_write(bg, block, len, off) < 0)
			err = errno ? errno : EIO;
		else if (bg->tap)
			bg->tap->data(bg->tap, block - skip, skip + len);

		pthread_mutex_lock(&bg->mu);
		if (err && !bg->err)
			bg->err = err;
		bg->posted = -1;
		pthread_cond_broadcast(&bg->cv);
	}
	pthread_mutex_unlock(&bg->mu);
	return NULL;
}

/* Wait until the thread is idle; returns its error (0 if none). */
static int bg_wait_idle(struct bg_writer *bg)
{
	int err;

	pthread_mutex_lock(&bg->mu);
	while (bg->posted >= 0)
		pthread_cond_wait(&bg->cv, &bg->mu);
	err = bg->err;
	pthread_mutex_unlock(&bg->mu);
	return err;
}

/* The thread, taking over `first` (the caller's filled block) as block 0. */
static struct bg_writer *bg_start(int fd, char *first)
{
	struct bg_writer *bg = xcalloc(1, sizeof(*bg));
	int err, fl;

	bg->fd = fd;
	bg->posted = -1;
	bg->blocks[0] = first;
	bg->blocks[1] = block_get();
	fl = fcntl(fd, F_GETFL);
	bg->direct = fl >= 0 && !fcntl(fd, F_SETFL, fl | O_DIRECT);
	pthread_mutex_init(&bg->mu, NULL);
	pthread_cond_init(&bg->cv, NULL);
	err = pthread_create(&bg->thread, NULL, bg_main, bg);
	if (err) {
		errno = err;
		error_errno("cannot start a writer thread");
		pthread_mutex_destroy(&bg->mu);
		pthread_cond_destroy(&bg->cv);
		block_put(bg->blocks[1]);
		free(bg);
		return NULL;
	}
	return bg;
}

/* Stop and join the thread (after its current block), free everything. */
static void bg_finish(struct bg_writer *bg)
{
	if (!bg)
		return;
	pthread_mutex_lock(&bg->mu);
	bg->stop = 1;
	pthread_cond_broadcast(&bg->cv);
	pthread_mutex_unlock(&bg->mu);
	pthread_join(bg->thread, NULL);
	pthread_mutex_destroy(&bg->mu);
	pthread_cond_destroy(&bg->cv);
	block_put(bg->blocks[0]);
	block_put(bg->blocks[1]);
	free(bg);
}

/* Join the thread if there is one, and free the blocks. */
static void release_blocks(struct store_writer *w)
{
	if (w->bg)
		bg_finish(w->bg); /* it owns both blocks */
	else
		block_put(w->buf);
	w->bg = NULL;
	w->buf = NULL;
}

int store_writer_start(struct store_writer *w, const struct store *s)
{
	struct strbuf path = STRBUF_INIT;

	w->store = s;
	w->size = 0;
	w->buf_len = 0;
	w->written = 0;
	w->fd = -1;
	w->tmp_path = NULL;
	w->buf = NULL;
	w->bg = NULL;
	w->tap = NULL;
	w->hash = (struct hash)HASH_INIT;
	w->fd = store_tmp_file(s, "object-", &path);
	if (w->fd < 0) {
		error_errno("cannot create a temp file in '%s/tmp' "
			    "(is the disk full or read-only?)", s->dir);
		goto fail;
	}
	w->tmp_path = strbuf_detach(&path, NULL);
	/* The thread starts with the second block: most objects fit in one. */
	w->buf = block_get();
	hash_start(&w->hash);
	return 0;
fail:
	strbuf_release(&path);
	return -1;
}

/* Hand the filled block to the thread and take the other one. */
static int flush_block(struct store_writer *w)
{
	struct bg_writer *bg = w->bg;
	int err;

	if (!w->buf_len)
		return 0;
	if (!bg) {
		bg = w->bg = bg_start(w->fd, w->buf);
		if (!bg)
			return -1;
		bg->tap = w->tap;
	}
	err = bg_wait_idle(bg);
	if (!err) {
		/* Of the first block, only what write_early() left. */
		size_t skip = w->written;

		w->written = 0;
		pthread_mutex_lock(&bg->mu);
		bg->posted = bg->cur;
		bg->skip = skip;
		bg->len = w->buf_len - skip;
		bg->off = w->size - w->buf_len + skip;
		bg->cur ^= 1;
		pthread_cond_broadcast(&bg->cv);
		pthread_mutex_unlock(&bg->mu);
	}
	w->buf = bg->blocks[bg->cur];
	w->buf_len = 0;
	if (err) {
		errno = err;
		return error_errno("cannot write '%s'", w->tmp_path);
	}
	return 0;
}

size_t store_writer_room(struct store_writer *w, char **dst)
{
	if (w->fd < 0)
		BUG("store_writer_room() on a writer that is not started");
	*dst = w->buf + w->buf_len;
	return WRITE_BLOCK - w->buf_len;
}

/*
 * Most objects fit in the first block and have no thread. Rather than
 * write all of it at commit and wait there for the disk, write it as it
 * fills and start its write-back, so that the fdatasync() after commit finds
 * most of it on disk already (t/perf/p0002-files.sh measures it).
 */
static int write_early(struct store_writer *w)
{
	/* Whole pieces: the thread may write the rest with direct I/O. */
	size_t len = (w->buf_len - w->written) / EARLY_WRITE * EARLY_WRITE;

	if (w->bg || !len || w->buf_len == WRITE_BLOCK)
		return 0;
	if (write_in_full(w->fd, w->buf + w->written, len) < 0)
		return error_errno("cannot write '%s'", w->tmp_path);
	sync_file_range(w->fd, w->written, len, SYNC_FILE_RANGE_WRITE);
	w->written += len;
	return 0;
}

int store_writer_advance(struct store_writer *w, size_t len)
{
	if (len > WRITE_BLOCK - w->buf_len)
		BUG("store_writer_advance() past the block");
	hash_update(&w->hash, w->buf + w->buf_len, len);
	w->buf_len += len;
	w->size += len;
	if (w->buf_len == WRITE_BLOCK)
		return flush_block(w);
	return write_early(w);
}

int store_writer_write(struct store_writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		char *dst;
		size_t n = store_writer_room(w, &dst);

		if (n > len)
			n = len;
		memcpy(dst, p, n);
		if (store_writer_advance(w, n) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Everything written: 0, or -1 (reported). */
static int drain(struct store_writer *w)
{
	int err;

	if (!w->bg) {
		/* All of it in the first block: the rest written here. */
		if (w->buf_len > w->written &&
		    write_in_full(w->fd, w->buf + w->written,
				  w->buf_len - w->written) < 0)
			return error_errno("cannot write '%s'", w->tmp_path);
		if (w->tap && w->buf_len)
			w->tap->data(w->tap, w->buf, w->buf_len);
		w->buf_len = w->written = 0;
		return 0;
	}
	if (flush_block(w) < 0)
		return -1;
	err = bg_wait_idle(w->bg);
	if (err) {
		errno = err;
		return error_errno("cannot write '%s'", w->tmp_path);
	}
	return 0;
}

int store_adopt(const struct store *s, const char *oid, int fd,
		const char *tmp_path)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int made_dirs = 0, ret = -1;

	if (fstat(fd, &st) < 0) {
		error_errno("cannot stat '%s'", tmp_path);
		goto cleanup;
	}
	/*
	 * Already there (content-addressed, verified when it came in): keep
	 * it, which spares the sync and keeps hard links to it intact.
	 */
	if (store_has(s, oid, st.st_size)) {
		close(fd);
		unlink(tmp_path);
		return 0;
	}
	/*
	 * Mode 0400 until its data is on the disk (UNSYNCED). A file linked
	 * from elsewhere (store_link()) is synced and read-only already, and
	 * its mode is not ours to change.
	 */
	if (st.st_nlink == 1 && fchmod(fd, UNSYNCED) < 0) {
		error_errno("cannot make '%s' read-only", tmp_path);
		goto cleanup;
	}
	if (store_object_path(s, oid, &path) < 0)
		goto cleanup;
	/* The directories are there but for the first objects. */
	if (rename(tmp_path, path.buf) < 0) {
		if (errno != ENOENT || mkdir_leading(path.buf) < 0 ||
		    rename(tmp_path, path.buf) < 0) {
			error_errno("cannot move '%s' into the store",
				    tmp_path);
			goto cleanup;
		}
		made_dirs = 1;
	}
	/*
	 * In place and whole, for this process and any other: git may have
	 * the pointer now. Its data, its mode 0444 and its directory go to
	 * the disk on the dir-sync thread, which git add waits for only at
	 * its end, not file by file (dir-sync.h).
	 */
	if (st.st_nlink == 1) {
		dir_sync_queue_file(fd, path.buf);
	} else {
		close(fd);
		dir_sync_queue_parent(path.buf);
	}
	fd = -1;
	if (made_dirs)
		dir_sync_queue_made(path.buf, s->dir);
	ret = 0;
cleanup:
	close_quietly(fd);
	if (ret < 0)
		unlink(tmp_path);
	strbuf_release(&path);
	return ret;
}

/*
 * The file `fd` (read from its start), a clone or a link at `tmp_path`,
 * into the store once it hashes to `oid` with `size` bytes; `tap` (when
 * not NULL) sees the bytes as they are hashed. `fd` is closed, and
 * `tmp_path` unlinked on failure. 1, or -1 (reported).
 */
static void tap_each(void *tap_, const void *buf, size_t len)
{
	struct store_tap *tap = tap_;

	tap->data(tap, buf, len);
}

static int adopt_verified(const struct store *s, const char *oid,
			  uint64_t size, int fd, const char *tmp_path,
			  struct store_tap *tap)
{
	char got[HASH_HEXSZ + 1];
	uint64_t got_size;

	if (hash_fd_each(fd, got, &got_size, tap ? tap_each : NULL, tap) < 0)
		goto fail;
	if (got_size != size || strcmp(got, oid)) {
		error("content does not match its object id: expected %s, "
		      "got %s; nothing was stored", oid, got);
		goto fail;
	}
	return store_adopt(s, oid, fd, tmp_path) < 0 ? -1 : 1;
fail:
	close(fd);
	unlink(tmp_path);
	return -1;
}

int store_clone(const struct store *s, const char *oid, uint64_t size,
		int fd, struct store_tap *tap)
{
	struct strbuf tmp = STRBUF_INIT;
	int out = -1, ret = 0;

	out = store_tmp_file(s, "clone-", &tmp);
	if (out < 0) {
		ret = error_errno("cannot create a temp file in '%s/tmp'",
				  s->dir);
		goto cleanup;
	}
	if (clone_fd(fd, out) < 0)
		goto cleanup; /* no reflinks here: the caller copies */
	ret = adopt_verified(s, oid, size, out, tmp.buf, tap);
	out = -1;
	strbuf_reset(&tmp);
cleanup:
	if (out >= 0) {
		close(out);
		unlink(tmp.buf);
	}
	strbuf_release(&tmp);
	return ret;
}

/*
 * Link `src` to a name in tmp/ for `oid`, in `out`: unique among live
 * threads (the pid and thread id, which no other live thread has). tmp/
 * is made only when it is missing. 0, or -1 with errno set.
 */
static int link_in_tmp(const struct store *s, const char *src,
		       const char *oid, struct strbuf *out)
{
	strbuf_addf(out, "%s/tmp/link-%.16s-%ld-%ld", s->dir, oid,
		    (long)getpid(), (long)gettid());
	if (!link(src, out->buf))
		return 0;
	/* mkdir_leading() makes the directories above the name: tmp/. */
	if (errno != ENOENT || access(src, F_OK) < 0 ||
	    mkdir_leading(out->buf) < 0)
		return -1;
	return link(src, out->buf);
}

int store_link(const struct store *s, const char *oid, uint64_t size,
	       const char *src, struct store_tap *tap)
{
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	int fd = -1, ret = 0, err = 0;

	if (!oid_hex_valid(oid))
		return error("invalid object id '%.80s'", oid);
	/*
	 * Another file system, no permission (fs.protected_hardlinks), too
	 * many links, or the leftover of a killed process that had our pid
	 * and thread id: copy instead.
	 */
	if (link_in_tmp(s, src, oid, &tmp) < 0) {
		err = errno;
		strbuf_reset(&tmp);
		goto cleanup;
	}
	fd = open(tmp.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* In use, for prune (store.h): until it is adopted or dropped. */
	if (fd >= 0)
		flock(fd, LOCK_EX | LOCK_NB);
	/*
	 * Only an object no one can write through its mode: a writable one
	 * could change under the store's name for it. Copy it instead.
	 */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0222) || (uint64_t)st.st_size != size)
		goto cleanup;
	ret = adopt_verified(s, oid, size, fd, tmp.buf, tap);
	fd = -1;
	strbuf_reset(&tmp);
cleanup:
	close_quietly(fd);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	errno = err;
	return ret;
}

int store_incomplete_path(const struct store *s, const char *oid,
			  struct strbuf *out)
{
	if (!oid_hex_valid(oid))
		return error("invalid object id '%.80s'", oid);
	strbuf_addf(out, "%s/incomplete/%s", s->dir, oid);
	if (mkdir_leading(out->buf) < 0)
		return error_errno("cannot create '%s/incomplete'", s->dir);
	return 0;
}

int store_writer_commit(struct store_writer *w, const char *expect_oid,
			char *oid_out, uint64_t *size_out)
{
	char oid[HASH_HEXSZ + 1];
	int fd, ret = -1;

	if (drain(w) < 0)
		goto cleanup;
	release_blocks(w);
	hash_finish(&w->hash, oid);
	if (expect_oid && strcmp(oid, expect_oid)) {
		error("content does not match its object id: expected %s, "
		      "got %s; nothing was stored",
		      expect_oid, oid);
		goto cleanup;
	}
	fd = w->fd;
	w->fd = -1;
	if (store_adopt(w->store, oid, fd, w->tmp_path) < 0)
		goto cleanup;
	free(w->tmp_path);
	w->tmp_path = NULL;
	if (oid_out)
		memcpy(oid_out, oid, HASH_HEXSZ + 1);
	if (size_out)
		*size_out = w->size;
	ret = 0;
cleanup:
	store_writer_abort(w);
	return ret;
}

void store_writer_abort(struct store_writer *w)
{
	/* The thread may be writing to fd: join it before closing. */
	release_blocks(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp_path)
		unlink(w->tmp_path);
	free(w->tmp_path);
	w->tmp_path = NULL;
	w->buf_len = 0;
	hash_release(&w->hash);
}

int store_check_room(const struct store *s, uint64_t bytes, struct strbuf *why)
{
	struct strbuf dir = STRBUF_INIT, need = STRBUF_INIT,
		      free_h = STRBUF_INIT;
	struct statvfs vfs;
	uint64_t avail, want;
	const char *slash;
	int ret = 0;

	/* The store may not exist yet: the file system it will be on. */
	strbuf_addstr(&dir, s->dir);
	while (statvfs(dir.buf, &vfs) < 0) {
		slash = strrchr(dir.buf, '/');
		if (errno != ENOENT || !slash || slash == dir.buf)
			goto cleanup; /* cannot tell: let the writes say */
		strbuf_setlen(&dir, slash - dir.buf);
	}
	avail = vfs.f_bavail > UINT64_MAX / vfs.f_frsize ?
			UINT64_MAX :
			(uint64_t)vfs.f_bavail * vfs.f_frsize;
	want = bytes > UINT64_MAX - bytes / 64 - ROOM_MARGIN ?
		       UINT64_MAX :
		       bytes + bytes / 64 + ROOM_MARGIN;
	if (want <= avail)
		goto cleanup;
	human_size(bytes, &need);
	human_size(avail, &free_h);
	strbuf_addf(why, "%s: it needs %s, and '%s' has %s free",
		    strerror(ENOSPC), need.buf, s->dir, free_h.buf);
	errno = ENOSPC;
	ret = -1;
cleanup:
	strbuf_release(&dir);
	strbuf_release(&need);
	strbuf_release(&free_h);
	return ret;
}
