/*
 * The directory backend: file:///abs/dir, in the local store's layout.
 * Writes go to a temp file beside the final name and are renamed into
 * place after fsync, so a reader never sees half an object; the directory
 * and any directory made for it are synced on the dir-sync thread, which
 * the process waits for before it exits (a failure fails the push).
 *
 * No data is copied where it need not be. Where the file system can
 * (btrfs, XFS), an object is a copy-on-write clone, both ways: no data is
 * written, and each copy stays its own. Otherwise, on one file system,
 * an object is hard-linked, as git hard-links .git/objects in a clone of
 * a local repository: objects are immutable and read-only, so the store
 * and the storage can share one. Only objects that no one can write
 * through their mode are linked; model.file.hardLinks=false copies them
 * (a storage kept as a backup on the same disk). A download is hashed
 * before it enters the store, however it came.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dir-sync.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct file_storage {
	char *dir;
	/*
	 * Set when a clone into the store failed because the file systems
	 * cannot clone (not supported, or two of them): later objects are
	 * copied without trying again. The same for links. Worker threads
	 * read and set them at once: only through no() and set_no().
	 */
	int no_clone;
	int no_link;
};

static const struct storage_sync_ops file_sync_ops;

/* A hint, not a lock: relaxed atomics are enough. */
static int no(const int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static void set_no(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
}

static int file_open(struct storage *s)
{
	struct file_storage *fs;
	struct strbuf path = STRBUF_INIT;

	if (file_url_path(s->url, &path) < 0) {
		strbuf_release(&path);
		return error("storage URL '%s' is not file:///absolute/path "
			     "(with valid %%-escapes)",
			     s->display);
	}
	fs = xcalloc(1, sizeof(*fs));
	fs->dir = strbuf_detach(&path, NULL);
	s->data = fs;
	s->sync = &file_sync_ops;
	if (s->repo) {
		int links;

		if (config_get_bool(s->repo, "model.file.hardLinks", 1,
				    &links) < 0)
			return -1;
		fs->no_link = !links;
	}
	return 0;
}

/* The object's path; with `suffix` (".gmz"), its compressed form's. */
static void object_path_suffix(struct storage *s, const char *oid,
			       const char *suffix, struct strbuf *out)
{
	struct file_storage *fs = s->data;

	strbuf_addf(out, "%s/sha256/%.2s/%.2s/%s%s", fs->dir, oid, oid + 2,
		    oid, suffix);
}

static void object_path(struct storage *s, const char *oid,
			struct strbuf *out)
{
	object_path_suffix(s, oid, "", out);
}

static int file_exists(struct storage *s, const char *oid, uint64_t size)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret;

	object_path(s, oid, &path);
	if (!stat(path.buf, &st))
		ret = S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
	else if (errno == ENOENT || errno == ENOTDIR)
		ret = 0;
	else
		ret = error_errno("cannot check '%s'", path.buf);
	strbuf_release(&path);
	return ret;
}

static int file_get(struct storage *s, const char *oid, uint64_t size,
		    struct store_writer *w)
{
	struct strbuf path = STRBUF_INIT;
	char *buf = NULL;
	ssize_t n;
	int fd, ret = -1;

	object_path(s, oid, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			error("'%s' is not in storage '%s'", oid, s->display);
		else
			error_errno("cannot open '%s'", path.buf);
		goto cleanup;
	}
	/* Read straight into the writer's block: no copy of our own. */
	for (;;) {
		size_t room = store_writer_room(w, &buf);

		n = xread(fd, buf, room > COPY_BLOCK ? COPY_BLOCK : room);
		if (n <= 0)
			break;
		if (store_writer_advance(w, n) < 0)
			goto cleanup;
		if (w->size > size) {
			error("'%s' in storage is larger than its pointer says",
			      path.buf);
			goto cleanup;
		}
	}
	if (n < 0) {
		error_errno("cannot read '%s'", path.buf);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	return ret;
}

static int file_clone_get(struct storage *s, const char *oid, uint64_t size,
			  const struct store *store, struct store_tap *tap)
{
	struct file_storage *fs = s->data;
	struct strbuf path = STRBUF_INIT;
	int fd, ret = 0;

	object_path(s, oid, &path);
	if (!no(&fs->no_clone)) {
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ret = store_clone(store, oid, size, fd, tap);
			close(fd);
			if (!ret)
				set_no(&fs->no_clone);
		}
	}
	if (!ret && !no(&fs->no_link)) {
		ret = store_link(store, oid, size, path.buf, tap);
		/* Not an error; another object may be linkable (its mode). */
		if (!ret && (errno == EXDEV || errno == EPERM ||
			     errno == EMLINK || errno == EOPNOTSUPP))
			set_no(&fs->no_link);
	}
	strbuf_release(&path);
	return ret;
}

/*
 * For the test suite only: between its look at the object and the link,
 * an upload makes <file>.reached and waits until <file> exists, <file>
 * named by GIT_MODEL_TEST_LINK_WAIT (another process acts meanwhile).
 */
static void test_link_wait(void)
{
	const char *file = getenv("GIT_MODEL_TEST_LINK_WAIT");
	struct strbuf reached = STRBUF_INIT;

	if (!file)
		return;
	strbuf_addf(&reached, "%s.reached", file);
	close_quietly(open(reached.buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
	strbuf_release(&reached);
	while (access(file, F_OK) < 0)
		usleep(10 * 1000);
}

/*
 * Upload by a hard link: the object in the store is complete, synced and
 * read-only, so its new name can appear at once, with no temp file. 0 when
 * linked (or the object appeared meanwhile), -1 to copy instead.
 *
 * The link is made through `in`, which names the inode wherever it is
 * now: a store object lent to a work tree (loan.h) meanwhile would give
 * storage a name of the user's file. A shared flock from the look to the
 * link keeps it from being lent (a lender needs an exclusive one); one
 * that cannot be had at once (being lent, or synced by its writer) is
 * copied.
 */
static int link_object(struct storage *s, int in, const char *path)
{
	struct file_storage *fs = s->data;
	struct stat st;
	int ret = -1;

	if (no(&fs->no_link) || flock(in, LOCK_SH | LOCK_NB) < 0)
		return -1;
	if (fstat(in, &st) < 0 || (st.st_mode & 0222))
		goto cleanup;
	test_link_wait();
	if (!link_fd(in, path) || errno == EEXIST) {
		dir_sync_queue_parent(path);
		ret = 0;
		goto cleanup;
	}
	if (errno == EXDEV || errno == EPERM || errno == EMLINK ||
	    errno == EOPNOTSUPP || errno == ENOENT)
		set_no(&fs->no_link);
cleanup:
	flock(in, LOCK_UN);
	return ret;
}

static int parent_exists(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = xstrndup(path, slash ? slash - path : 0);
	struct stat st;
	int ret = !stat(dir, &st) && S_ISDIR(st.st_mode);

	free(dir);
	return ret;
}

/*
 * Put `size` bytes from `in` as the object plus `suffix`; or, when `fill`
 * is not NULL, what fill(ctx, fd) writes into the new temp file (`in`
 * and `size` unused). Either way under a temp name, synced, then renamed.
 */
static int put_named(struct storage *s, const char *oid, const char *suffix,
		     uint64_t size, int in, int (*fill)(void *ctx, int fd),
		     void *ctx)
{
	struct file_storage *fs = s->data;
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	char *buf = xmalloc(COPY_BLOCK);
	uint64_t done = 0;
	/*
	 * Read once: another worker may set it meanwhile, and an object
	 * that skipped the link for no clone must still try the clone.
	 */
	int cloning = !no(&fs->no_clone);
	int fd = -1, ret = -1;

	object_path_suffix(s, oid, suffix, &path);
	/* New directories are synced too, once the object is in place. */
	if (!parent_exists(path.buf)) {
		if (mkdir_leading(path.buf) < 0) {
			error_errno("cannot create the directory of '%s'",
				    path.buf);
			goto cleanup;
		}
		dir_sync_queue_made(path.buf, fs->dir);
	}
	/* A clone where the file system can, else a link, else a copy. */
	if (!fill && !cloning && !link_object(s, in, path.buf)) {
		ret = 0;
		goto cleanup;
	}
	strbuf_addf(&tmp, "%s.tmp-XXXXXX", path.buf);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		strbuf_reset(&tmp);
		goto cleanup;
	}
	if (fill) {
		if (fill(ctx, fd) < 0)
			goto cleanup;
	} else if (cloning && !clone_fd(in, fd)) {
		done = size; /* a copy-on-write clone: nothing to write */
	} else if (cloning) {
		set_no(&fs->no_clone);
		if (!link_object(s, in, path.buf)) {
			ret = 0;
			goto cleanup;
		}
	}
	while (!fill && done < size) {
		ssize_t n = xread(in, buf, COPY_BLOCK);

		if (n < 0) {
			error_errno("cannot read object %s", oid);
			goto cleanup;
		}
		if (!n) {
			error("object %s is shorter than its size", oid);
			goto cleanup;
		}
		if (write_in_full(fd, buf, n) < 0) {
			error_errno("cannot write '%s'", tmp.buf);
			goto cleanup;
		}
		done += n;
	}
	if (fchmod(fd, 0444) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		error_errno("cannot write '%s'", tmp.buf);
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp.buf, path.buf) < 0) {
		error_errno("cannot rename '%s'", tmp.buf);
		goto cleanup;
	}
	dir_sync_queue_parent(path.buf);
	strbuf_reset(&tmp);
	ret = 0;
cleanup:
	close_quietly(fd);
	if (tmp.len)
		unlink(tmp.buf);
	free(buf);
	strbuf_release(&path);
	strbuf_release(&tmp);
	return ret;
}

static int file_put(struct storage *s, const char *oid, uint64_t size,
		    int in)
{
	return put_named(s, oid, "", size, in, NULL, NULL);
}

static int file_put_compressed(struct storage *s, const char *oid,
			       uint64_t size, int in)
{
	return put_named(s, oid, ".gmz", size, in, NULL, NULL);
}

static int file_put_compressed_by(struct storage *s, const char *oid,
				  int (*fill)(void *ctx, int fd), void *ctx)
{
	return put_named(s, oid, ".gmz", 0, -1, fill, ctx);
}

static int file_open_compressed(struct storage *s, const char *oid)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	object_path_suffix(s, oid, ".gmz", &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
		error_errno("cannot open '%s'", path.buf);
	else if (fd < 0)
		errno = ENOENT;
	strbuf_release(&path);
	return fd;
}

static void file_close(struct storage *s)
{
	struct file_storage *fs = s->data;

	if (fs)
		free(fs->dir);
	free(fs);
	s->data = NULL;
}

static const struct storage_sync_ops file_sync_ops = {
	.exists = file_exists,
	.get = file_get,
	.put = file_put,
	.clone_get = file_clone_get,
	.open_compressed = file_open_compressed,
	.put_compressed = file_put_compressed,
	.put_compressed_by = file_put_compressed_by,
	.threads_ok = 1,
};

const struct storage_ops storage_file_ops = {
	.scheme = "file",
	.open = file_open,
	.close = file_close,
};
