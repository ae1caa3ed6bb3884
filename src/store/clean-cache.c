#include "clean-cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define CLEAN_DIR "clean"
#define RECORD_CAP 8192

static void record_path(const struct store *s, uint64_t dev, uint64_t ino,
			struct strbuf *out)
{
	strbuf_addf(out, "%s/" CLEAN_DIR "/%" PRIu64 "-%" PRIu64, s->dir, dev,
		    ino);
}

/*
 * The record at `file`: its stamp, oid and path (when `path` is not
 * NULL). 1 when read, 0 when missing or not a record.
 */
static int read_record(const char *file, struct file_stamp *fs, char *oid,
		       struct strbuf *path)
{
	struct strbuf rec = STRBUF_INIT;
	char hex[HASH_HEXSZ + 1];
	int fd, n = 0, ret = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (strbuf_read_capped(&rec, fd, RECORD_CAP) < 0 ||
	    sscanf(rec.buf,
		   "%64s %" SCNu64 " %" SCNd64 " %ld %" SCNd64 " %ld %n", hex,
		   &fs->size, &fs->mtime_s, &fs->mtime_ns, &fs->ctime_s,
		   &fs->ctime_ns, &n) != 6 ||
	    !n || rec.buf[n] != '/' || !oid_hex_valid(hex))
		goto cleanup;
	memcpy(oid, hex, sizeof(hex));
	if (path)
		strbuf_addstr(path, rec.buf + n);
	ret = 1;
cleanup:
	close(fd);
	strbuf_release(&rec);
	return ret;
}

int clean_cache_hint(const struct store *s, const struct stat *st, char *oid,
		     int *current)
{
	struct strbuf file = STRBUF_INIT;
	struct file_stamp fs;
	int ret;

	record_path(s, st->st_dev, st->st_ino, &file);
	ret = read_record(file.buf, &fs, oid, NULL) &&
	      fs.size == (uint64_t)st->st_size;
	if (ret) {
		fs.dev = st->st_dev;
		fs.ino = st->st_ino;
		*current = file_stamp_same(&fs, st);
	}
	strbuf_release(&file);
	return ret;
}

int clean_record_begin(struct clean_record *r, const struct store *s)
{
	r->store = s;
	strbuf_reset(&r->tmp);
	r->fd = store_tmp_file(s, "clean-", &r->tmp);
	if (r->fd < 0)
		return -1;
	/* Its mtime, from the file system's clock: the start. */
	if (fstat(r->fd, &r->start) < 0) {
		clean_record_release(r);
		return -1;
	}
	return 0;
}

static int older(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The record of `st` into the temp file, renamed into place: 1 or -1. */
static int put_record(struct clean_record *r, const struct stat *st,
		      const char *oid, const char *path)
{
	struct strbuf rec = STRBUF_INIT, file = STRBUF_INIT;
	struct file_stamp fs;
	int ret = -1;

	file_stamp_set(&fs, st);
	strbuf_addf(&rec,
		    "%s %" PRIu64 " %" PRId64 " %ld %" PRId64 " %ld %s", oid,
		    fs.size, fs.mtime_s, fs.mtime_ns, fs.ctime_s, fs.ctime_ns,
		    path);
	record_path(r->store, fs.dev, fs.ino, &file);
	if (write_in_full(r->fd, rec.buf, rec.len) < 0 ||
	    fchmod(r->fd, 0444) < 0)
		goto cleanup;
	if (rename(r->tmp.buf, file.buf) < 0 &&
	    (errno != ENOENT || mkdir_leading(file.buf) < 0 ||
	     rename(r->tmp.buf, file.buf) < 0))
		goto cleanup;
	strbuf_reset(&r->tmp);
	ret = 1;
cleanup:
	strbuf_release(&rec);
	strbuf_release(&file);
	return ret;
}

int clean_record_commit(struct clean_record *r, const struct stat *st,
			const char *oid, const char *path)
{
	int ret = 0;

	if (r->fd >= 0 && S_ISREG(st->st_mode) &&
	    older(&st->st_ctim, &r->start.st_mtim) && oid_hex_valid(oid) &&
	    *path == '/')
		ret = put_record(r, st, oid, path);
	clean_record_release(r);
	return ret;
}

int clean_record_checked_out(const struct store *s, const struct stat *st,
			     const char *oid, const char *path)
{
	struct clean_record r = CLEAN_RECORD_INIT;
	struct timespec limit = st->st_ctim;
	int ret = 0;

	/* Half a second of the second it was set back by, at least. */
	limit.tv_nsec -= 500000000L;
	if (limit.tv_nsec < 0) {
		limit.tv_nsec += 1000000000L;
		limit.tv_sec--;
	}
	if (!S_ISREG(st->st_mode) || !older(&st->st_mtim, &limit) ||
	    !oid_hex_valid(oid) || *path != '/')
		return 0;
	if (clean_record_begin(&r, s) < 0)
		return -1;
	ret = put_record(&r, st, oid, path);
	clean_record_release(&r);
	return ret;
}

void clean_record_release(struct clean_record *r)
{
	int err = errno;

	if (r->tmp.len)
		unlink(r->tmp.buf);
	strbuf_release(&r->tmp);
	r->fd = close_quietly(r->fd);
	errno = err;
}

int clean_cache_prune(const struct store *s, int dry_run, size_t *nr)
{
	struct strbuf dir = STRBUF_INIT, file = STRBUF_INIT,
		      path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	strbuf_addf(&dir, "%s/" CLEAN_DIR, s->dir);
	d = opendir(dir.buf);
	if (!d) {
		if (errno != ENOENT)
			ret = error_errno("cannot open '%s'", dir.buf);
		goto cleanup;
	}
	while ((de = readdir(d))) {
		char oid[HASH_HEXSZ + 1];
		struct file_stamp fs;
		struct stat st;
		int n = 0;

		if (de->d_name[0] == '.')
			continue;
		strbuf_reset(&file);
		strbuf_reset(&path);
		strbuf_addf(&file, "%s/%s", dir.buf, de->d_name);
		if (sscanf(de->d_name, "%" SCNu64 "-%" SCNu64 "%n", &fs.dev,
			   &fs.ino, &n) == 2 && !de->d_name[n] &&
		    read_record(file.buf, &fs, oid, &path) &&
		    !lstat(path.buf, &st) && file_stamp_same(&fs, &st))
			continue;
		if (dry_run || !unlink(file.buf))
			(*nr)++;
		else if (errno != ENOENT)
			ret = error_errno("cannot remove '%s'", file.buf);
	}
	closedir(d);
cleanup:
	strbuf_release(&dir);
	strbuf_release(&file);
	strbuf_release(&path);
	return ret;
}
