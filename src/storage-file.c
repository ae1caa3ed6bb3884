/*
 * The directory backend: file:///abs/dir, in the local store's layout.
 * Writes go to a temp file beside the final name and are renamed into
 * place after fsync, so a reader never sees half an object.
 *
 * Where the file system can (btrfs, XFS), objects are copy-on-write
 * clones rather than copies, both ways: no data is written, and each copy
 * stays its own. Never hard links: a link would share one inode between
 * the store and the storage, so damage to one would be damage to both. A
 * download is still hashed before it goes into the store.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define COPY_BLOCK (1024 * 1024)

struct file_storage {
	char *dir;
	/*
	 * Set when a clone into the store failed because the file systems
	 * cannot clone (not supported, or two of them): later objects are
	 * copied without trying again.
	 */
	int no_clone;
};

static int file_open(struct storage *s)
{
	struct file_storage *fs;
	struct strbuf path = STRBUF_INIT;
	const char *p = s->url + strlen("file://");

	if (!strncmp(p, "localhost/", 10))
		p += 9;
	if (*p != '/') {
		strbuf_release(&path);
		return error("storage URL '%s' is not file:///absolute/path",
			     s->display);
	}
	if (url_decode_path(p, &path) < 0) {
		strbuf_release(&path);
		return error("storage URL '%s' has a bad %%-escape",
			     s->display);
	}
	fs = xcalloc(1, sizeof(*fs));
	fs->dir = strbuf_detach(&path, NULL);
	s->data = fs;
	return 0;
}

static void object_path(struct storage *s, const char *oid,
			struct strbuf *out)
{
	struct file_storage *fs = s->data;

	strbuf_addf(out, "%s/sha256/%.2s/%.2s/%s", fs->dir, oid, oid + 2,
		    oid);
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
			  const struct store *store)
{
	struct file_storage *fs = s->data;
	struct strbuf path = STRBUF_INIT;
	int fd, ret = 0;

	if (fs->no_clone)
		return 0;
	object_path(s, oid, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ret = store_clone(store, oid, size, fd);
		close(fd);
		if (!ret)
			fs->no_clone = 1;
	}
	strbuf_release(&path);
	return ret;
}

static int file_put(struct storage *s, const char *oid, uint64_t size,
		    int in)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	char *buf = xmalloc(COPY_BLOCK);
	uint64_t done = 0;
	int fd = -1, ret = -1;

	object_path(s, oid, &path);
	if (mkdir_leading(path.buf) < 0) {
		error_errno("cannot create the directory of '%s'", path.buf);
		goto cleanup;
	}
	strbuf_addf(&tmp, "%s.tmp-XXXXXX", path.buf);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		strbuf_reset(&tmp);
		goto cleanup;
	}
	if (!clone_fd(in, fd))
		done = size; /* a copy-on-write clone: nothing to write */
	while (done < size) {
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

static void file_close(struct storage *s)
{
	struct file_storage *fs = s->data;

	if (fs)
		free(fs->dir);
	free(fs);
	s->data = NULL;
}

const struct storage_ops storage_file_ops = {
	.scheme = "file",
	.open = file_open,
	.exists = file_exists,
	.get = file_get,
	.put = file_put,
	.clone_get = file_clone_get,
	.threads_ok = 1,
	.close = file_close,
};
