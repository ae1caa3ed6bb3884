#include "checkout.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clean-cache.h"
#include "config.h"
#include "repo.h"
#include "hash.h"
#include "loan.h"
#include "pointer.h"
#include "scan.h"
#include "usage.h"
#include "workers.h"
#include "wrapper.h"
#include "banned.h"

#define DEFERRED_NAME "model-deferred"
/* Temp files in the work tree: .<name> TEMP_TAIL */
#define TEMP_TAIL ".git-model-XXXXXX"
#define RECORD_PREFIX "sha256:"
/* Writers of a deferred checkout, at most (one per core). */
#define JOB_THREADS_MAX 16
/* More than any checkout records: a path is at most PATH_MAX bytes. */
#define DEFERRED_CAP (256 << 20)

/* umask() can only be read by setting it: once, before any thread. */
static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* In the kernel when it can (a reflink on btrfs and XFS), else by blocks. */
static int copy_fd(int in, int out, uint64_t size)
{
	uint64_t left = size;
	char *buf = NULL;
	int ret = -1;

	while (left) {
		ssize_t n = copy_file_range(in, NULL, out, NULL,
					    left > (1 << 30) ? (1 << 30) : left,
					    0);

		if (n <= 0)
			break;
		left -= n;
	}
	if (left) {
		buf = xmalloc(COPY_BLOCK);
		if (lseek(in, size - left, SEEK_SET) < 0 ||
		    lseek(out, size - left, SEEK_SET) < 0)
			goto cleanup;
		while (left) {
			ssize_t n = xread(in, buf, COPY_BLOCK);

			if (n <= 0 || write_in_full(out, buf, n) < 0)
				goto cleanup;
			left -= n;
		}
	}
	ret = 0;
cleanup:
	free(buf);
	return ret;
}

/*
 * Open the directory that holds `path` (relative to the work tree's top,
 * as the index names it) one component at a time from `root`, with
 * O_NOFOLLOW, and point `*base` at the last component. A symbolic link
 * or anything but a directory among the leading components is refused:
 * a write there would go through the link, perhaps out of the work tree
 * (git checks leading paths the same way since CVE-2021-21300). Every
 * look at and write to a work tree file goes through the fd returned.
 * Returns the directory's fd, or -1: reported when `report`, except with
 * errno ENOENT for a directory that is gone (nothing to write there).
 */
static int open_leading(int root, const char *path, const char **base,
			int report)
{
	const char *p = path, *slash;
	char *name = NULL;
	int fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), gone = 0;

	if (fd < 0)
		return error_errno("cannot open the work tree");
	while (fd >= 0 && (slash = strchr(p, '/'))) {
		int bad, next = -1, err = 0;
		struct stat st;

		free(name);
		name = xstrndup(p, slash - p);
		bad = !*name || !strcmp(name, ".") || !strcmp(name, "..");
		if (!bad) {
			next = openat(fd, name, O_RDONLY | O_DIRECTORY |
							O_NOFOLLOW | O_CLOEXEC);
			err = errno;
		}
		if (!report)
			gone = next < 0 && err == ENOENT;
		else if (bad)
			error("refusing to write '%s': not a path in the work "
			      "tree",
			      path);
		else if (next < 0 && err == ENOENT)
			gone = 1;
		else if (next < 0 &&
			 !fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) &&
			 S_ISLNK(st.st_mode))
			error("refusing to write '%s': '%.*s' is a symbolic "
			      "link",
			      path, (int)(slash - path), path);
		else if (next < 0)
			error("cannot open the directory '%.*s': %s",
			      (int)(slash - path), path, strerror(err));
		close(fd);
		fd = next;
		p = slash + 1;
	}
	free(name);
	if (fd >= 0 && (!*p || !strcmp(p, ".") || !strcmp(p, ".."))) {
		if (report)
			error("refusing to write '%s': not a path in the work "
			      "tree",
			      path);
		fd = close_quietly(fd);
	}
	*base = p;
	errno = gone ? ENOENT : EPERM;
	return fd;
}

/*
 * open_leading() for a file of this checkout: -1 when refused (reported,
 * counted as failed), -2 when its directory is gone (nothing to do).
 */
static int open_dir(struct checkout *co, const char *path, const char **base)
{
	int dir = open_leading(co->root, path, base, 1);

	if (dir >= 0)
		return dir;
	if (errno == ENOENT)
		return -2;
	co->failed++;
	return -1;
}

/*
 * Call `fn` for each ".<name>.git-model-XXXXXX" in the directory `dir`
 * (the fd of the work tree directory `prefix`, "" or ending in '/'), by
 * make_temp() beside a tracked <name> (in `index`): nothing else is ours.
 * `fn` gets the directory's fd, the temp file's name in it and its path
 * from the top of the work tree.
 */
static void each_temp_in(git_index *index, int dir, const char *prefix,
			 size_t prefix_len,
			 void (*fn)(int dir, const char *name,
				    const char *path, void *data),
			 void *data)
{
	struct strbuf name = STRBUF_INIT, path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int fd = dup(dir);

	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		close_quietly(fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), tail = strlen(TEMP_TAIL);
		const char *mark = de->d_name + len - tail;

		if (de->d_name[0] != '.' || len < tail + 2 ||
		    strncmp(mark, TEMP_TAIL, tail - 6))
			continue;
		strbuf_reset(&name);
		strbuf_add(&name, prefix, prefix_len);
		strbuf_add(&name, de->d_name + 1, mark - de->d_name - 1);
		if (!git_index_get_bypath(index, name.buf, 0))
			continue;
		strbuf_reset(&path);
		strbuf_add(&path, prefix, prefix_len);
		strbuf_addstr(&path, de->d_name);
		fn(dir, de->d_name, path.buf, data);
	}
	closedir(d);
	strbuf_release(&name);
	strbuf_release(&path);
}

/* Unlink the temp file `name` in `dir` unless a live writer locks it. */
static void remove_if_unlocked(int dir, const char *name, const char *path,
			       void *data)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	(void)path;
	(void)data;
	if (fd < 0)
		return;
	if (!flock(fd, LOCK_EX | LOCK_NB))
		unlinkat(dir, name, 0);
	close(fd);
}

/*
 * Temp files of a checkout that was killed, from where the store's tmp/
 * is on another file system: ".<name>.git-model-XXXXXX" beside a tracked
 * <name> in the directory `dir` (the fd of `path`'s directory) that no
 * live writer holds a lock on.
 */
static void remove_stale_temps(struct checkout *co, int dir, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash + 1 - path) : 0;
	char key[HASH_HEXSZ + 1];
	struct hash h = HASH_INIT;

	/*
	 * Once per directory and run: reading a directory of n files for
	 * each of them would be n^2. A temp file left by a killed run is
	 * older than this one, so one look is enough.
	 */
	hash_start(&h);
	hash_update(&h, path, dir_len);
	hash_finish(&h, key);
	if (!oidset_insert_hex(&co->swept, key))
		return;
	each_temp_in(co->index, dir, path, dir_len, remove_if_unlocked, NULL);
}

struct each_temp_path {
	void (*fn)(const char *path, void *data);
	void *data;
};

static void each_temp_path_cb(int dir, const char *name, const char *path,
			      void *data)
{
	struct each_temp_path *ctx = data;

	(void)dir;
	(void)name;
	ctx->fn(path, ctx->data);
}

int checkout_each_temp(struct repo *r,
		       void (*fn)(const char *path, void *data), void *data)
{
	struct oidset seen = OIDSET_INIT;
	git_index *index = NULL;
	size_t i, n;
	int root, ret = 0;

	if (!r->workdir)
		return 0;
	root = open(r->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return error_errno("cannot open the work tree '%s'",
				   r->workdir);
	if (git_repository_index(&index, r->git) < 0 ||
	    git_index_read(index, 0) < 0) {
		ret = git2_error("cannot read the index");
		goto cleanup;
	}
	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		const char *slash = strrchr(e->path, '/'), *base;
		size_t dir_len = slash ? (size_t)(slash + 1 - e->path) : 0;
		struct each_temp_path ctx = { fn, data };
		char key[HASH_HEXSZ + 1];
		struct hash h = HASH_INIT;
		int dir;

		hash_start(&h);
		hash_update(&h, e->path, dir_len);
		hash_finish(&h, key);
		if (!oidset_insert_hex(&seen, key))
			continue;
		dir = open_leading(root, e->path, &base, 0);
		if (dir < 0)
			continue;
		each_temp_in(index, dir, e->path, dir_len, each_temp_path_cb,
			     &ctx);
		close(dir);
	}
cleanup:
	git_index_free(index);
	oidset_release(&seen);
	close(root);
	return ret;
}

/*
 * git takes an entry whose mtime is not older than the index file, in
 * whole seconds, for racily clean and reads the file again, which for
 * weights means the clean filter hashing them. Rather than wait for the
 * next second to write the index, the file's mtime is set to the start of
 * the second before this one. That is safe: the entry records this mtime,
 * and any later write to the file sets it to the present, so git still
 * sees every change.
 */
static int backdate(int fd)
{
	struct timespec now, times[2];

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	times[0].tv_sec = 0;
	times[0].tv_nsec = UTIME_OMIT;
	times[1].tv_sec = now.tv_sec - 1;
	times[1].tv_nsec = 0;
	return futimens(fd, times);
}

/*
 * Put `tmp` in the place of `file`, atomically: a reader sees one or the
 * other. An exchange of the two names, then an unlink of the old file
 * (now under `tmp`), rather than rename() over it: ext4 takes a rename
 * over an existing file for an application replacing it without fsync
 * and writes the new file out at once (auto_da_alloc), which for 200
 * files of weights queued 200 MiB of writes in the rename itself and
 * kept the index write that follows waiting behind them (up to 45 ms).
 * Work tree files are not synced, by git either: they can be checked
 * out again. Where the file system has no exchange, or `file` is gone,
 * a plain rename().
 */
static int replace_file(const char *tmp, int dir, const char *base)
{
	if (!renameat2(AT_FDCWD, tmp, dir, base, RENAME_EXCHANGE)) {
		struct stat st;

		if (!lstat(tmp, &st) && !S_ISDIR(st.st_mode)) {
			unlink(tmp);
			return 0;
		}
		/* A directory took the file's place meanwhile: put it back. */
		renameat2(AT_FDCWD, tmp, dir, base, RENAME_EXCHANGE);
		errno = EISDIR;
		return -1;
	}
	if (errno != EINVAL && errno != ENOSYS && errno != ENOENT)
		return -1;
	return renameat(AT_FDCWD, tmp, dir, base);
}

/*
 * A temp file for `base` in `dir`, its path in `tmp`, locked: in the
 * store's tmp/, where git status does not look and where a killed
 * writer's file is prune's to remove, when that is on the work tree's
 * file system (a rename cannot cross one); else an unnamed file in `dir`
 * (O_TMPFILE: a kill leaves nothing), `tmp` left empty until
 * name_temp() names it for the exchange; else, where the file system
 * has no O_TMPFILE, beside the file as ".<base>" TEMP_TAIL. Names go
 * through /proc so that no path outside `dir` is followed. Returns the
 * fd, or -1 (reported).
 */
static int make_temp(struct checkout *co, int dir, const char *base,
		     const char *path, struct strbuf *tmp)
{
	struct stat dst, tst;
	int out = -1;

	if (!__atomic_load_n(&co->tmp_elsewhere, __ATOMIC_RELAXED) &&
	    !fstat(dir, &dst)) {
		out = store_tmp_file(&co->store, "checkout-", tmp);
		if (out >= 0 && !fstat(out, &tst) && tst.st_dev == dst.st_dev)
			return out;
		if (out >= 0) {
			__atomic_store_n(&co->tmp_elsewhere, 1,
					 __ATOMIC_RELAXED);
			unlink(tmp->buf);
			close(out);
		}
		strbuf_reset(tmp);
	}
	out = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (out >= 0) {
		flock(out, LOCK_EX);
		return out;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		error_errno("cannot create a temp file beside '%s'", path);
		return -1;
	}
	strbuf_addf(tmp, "/proc/self/fd/%d/.%s" TEMP_TAIL, dir, base);
	out = mkostemp(tmp->buf, O_CLOEXEC);
	if (out < 0) {
		error_errno("cannot create a temp file beside '%s'", path);
		return -1;
	}
	flock(out, LOCK_EX);
	return out;
}

/*
 * Give the unnamed temp file `fd` (make_temp()) a name beside `base` in
 * `dir`, ".<base>" TEMP_TAIL, for replace_file(): it has one only for
 * the instant before the exchange. 0, or -1 with errno set.
 */
static int name_temp(int dir, const char *base, int fd, struct strbuf *tmp)
{
	static unsigned counter;
	char from[64];
	int tries;

	xsnprintf(from, sizeof(from), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < 100; tries++) {
		unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		strbuf_reset(tmp);
		strbuf_addf(tmp, "/proc/self/fd/%d/.%s.git-model-%06x", dir,
			    base,
			    (unsigned)(ts.tv_nsec ^ (n << 12) ^ getpid()) &
				    0xffffff);
		if (!linkat(AT_FDCWD, from, AT_FDCWD, tmp->buf,
			    AT_SYMLINK_FOLLOW))
			return 0;
		if (errno != EEXIST)
			break;
	}
	strbuf_reset(tmp);
	return -1;
}

/*
 * Replace the work tree file `path` (relative), which must still hold the
 * pointer `p`, with the object's bytes through a temp file (make_temp())
 * and an atomic exchange, or, when `may_lend` and co->how allows, by a
 * reflink (auto) or the object itself (loan_lend()); stat the result
 * into `st`. The temp file is
 * locked while it is written, so that a later run can tell the leftovers
 * of a killed one. Safe to run in several threads at once.
 */
static int write_weights(struct checkout *co, const struct pointer *p,
			 const char *path, unsigned mode, int may_lend,
			 struct stat *st)
{
	struct strbuf tmp = STRBUF_INIT, abs = STRBUF_INIT;
	mode_t file_mode = (mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) &
			   ~co->umask;
	const char *base;
	int in = -1, out = -1, dir, ret = -1, reflinked = 0;

	dir = open_leading(co->root, path, &base, 1);
	if (dir < 0)
		return -1;
	if (!file_holds_pointer(dir, base, p, st)) {
		error("'%s' changed while it was checked out; left alone",
		      path);
		goto cleanup;
	}
	in = store_open(&co->store, p->oid, p->size);
	if (in < 0)
		goto cleanup;
	if (may_lend && co->how == CHECKOUT_AUTO) {
		out = make_temp(co, dir, base, path, &tmp);
		if (out < 0)
			goto cleanup;
		reflinked = !clone_fd(in, out);
	}
	if (may_lend && !reflinked && co->how != CHECKOUT_COPY) {
		int lent;

		strbuf_addf(&abs, "%s/%s", co->repo->workdir, path);
		lent = loan_lend(&co->store, p->oid, p->size, dir, base,
				 abs.buf, file_mode & 07777, st);
		if (lent < 0)
			goto cleanup;
		if (lent) {
			clean_record_checked_out(&co->store, st, p->oid,
						 abs.buf);
			ret = 0;
			goto cleanup;
		}
	}
	if (out < 0)
		out = make_temp(co, dir, base, path, &tmp);
	if (out < 0)
		goto cleanup;
	if ((!reflinked && copy_fd(in, out, p->size) < 0) ||
	    fchmod(out, file_mode) < 0 ||
	    backdate(out) < 0) {
		error_errno("cannot write '%s'", path);
		goto cleanup;
	}
	if (!tmp.len && name_temp(dir, base, out, &tmp) < 0) {
		error_errno("cannot write '%s'", path);
		goto cleanup;
	}
	/* Still open, so still locked: the exchange is ours to make. */
	if (replace_file(tmp.buf, dir, base) < 0) {
		error_errno("cannot replace '%s'", path);
		goto cleanup;
	}
	strbuf_reset(&tmp);
	if (fstatat(dir, base, st, AT_SYMLINK_NOFOLLOW) < 0) {
		error_errno("cannot stat '%s'", path);
		goto cleanup;
	}
	/* So that git status need not clean it again (clean-cache.h). */
	if (!abs.len)
		strbuf_addf(&abs, "%s/%s", co->repo->workdir, path);
	clean_record_checked_out(&co->store, st, p->oid, abs.buf);
	ret = 0;
cleanup:
	if (tmp.len)
		unlink(tmp.buf);
	close_quietly(in);
	close_quietly(out);
	close(dir);
	strbuf_release(&tmp);
	strbuf_release(&abs);
	return ret;
}

void entry_set_stat(git_index_entry *e, const struct stat *st)
{
	e->ctime.seconds = st->st_ctim.tv_sec;
	e->ctime.nanoseconds = st->st_ctim.tv_nsec;
	e->mtime.seconds = st->st_mtim.tv_sec;
	e->mtime.nanoseconds = st->st_mtim.tv_nsec;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->file_size = (uint32_t)st->st_size;
	/*
	 * We know the file matches the entry: tell libgit2 not to re-check
	 * it as racily clean (it would hash the weights without our filter).
	 */
	e->flags_extended |= GIT_INDEX_ENTRY_UPTODATE;
}

int checkout_read_how(const struct repo *r, enum checkout_how *how)
{
	struct strbuf v = STRBUF_INIT;
	int ret = 0;

	*how = CHECKOUT_AUTO;
	switch (config_get(r, "model.checkout", &v)) {
	case 0:
		if (!strcmp(v.buf, "copy"))
			*how = CHECKOUT_COPY;
		else if (!strcmp(v.buf, "lend"))
			*how = CHECKOUT_LEND;
		else if (strcmp(v.buf, "auto"))
			ret = error("model.checkout is '%s': expected lend, "
				    "copy or auto (copying meanwhile)",
				    v.buf);
		break;
	case 1:
		break;
	default:
		ret = -1;
	}
	strbuf_release(&v);
	return ret;
}

int checkout_begin(struct checkout *co, struct repo *r, int quiet)
{
	memset(co, 0, sizeof(*co));
	co->repo = r;
	co->quiet = quiet;
	co->umask = current_umask();
	/*
	 * git_index_add() looks up every entry's blob in the object database
	 * to check that it exists (2-4 ms for 200 entries): ours are entries
	 * git itself just wrote, with new stat data. Nothing else here
	 * creates objects.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	repo_store(r, &co->store);
	if (checkout_read_how(r, &co->how) < 0)
		co->how = CHECKOUT_COPY;
	/* Files git unlinked or replaced since: their loans end now. */
	loan_settle_all(&co->store, 0, NULL);
	co->root = open(r->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (co->root < 0) {
		error_errno("cannot open the work tree '%s'", r->workdir);
		store_release(&co->store);
		return -1;
	}
	if (git_repository_index(&co->index, r->git) < 0 ||
	    git_index_read(co->index, 0) < 0) {
		git2_error("cannot read the index");
		git_index_free(co->index);
		co->index = NULL;
		store_release(&co->store);
		co->root = close_quietly(co->root);
		return -1;
	}
	return 0;
}

static int add_entry(struct checkout *co, const git_index_entry *e,
		     const struct stat *st)
{
	git_index_entry copy = *e;

	entry_set_stat(&copy, st);
	if (git_index_add(co->index, &copy) < 0) {
		git2_error("cannot update the index");
		co->failed++;
		return -1;
	}
	co->written++;
	if (st->st_mtim.tv_sec > co->newest)
		co->newest = st->st_mtim.tv_sec;
	return 1;
}

/*
 * Only a path whose attributes say filter=model holds a pointer that is
 * ours to replace: any other is content the user committed, perhaps a
 * pointer shown as an example, and is left alone (reported). The
 * attributes are the checked-out revision's: .gitattributes from the
 * index first, as git reads them when it checks a file out.
 */
static int filter_is_model(struct checkout *co, const char *path, int report)
{
	const char *value = NULL;

	if (git_attr_get(&value, co->repo->git, GIT_ATTR_CHECK_INDEX_THEN_FILE,
			 path, "filter") < 0) {
		git2_error("cannot read the attributes");
		co->failed++;
		return 0;
	}
	if (git_attr_value(value) == GIT_ATTR_VALUE_STRING &&
	    !strcmp(value, "model"))
		return 1;
	if (!report)
		return 0;
	warning("'%s' holds a pointer, but its attributes do not say "
		"filter=model: left as it is",
		path);
	co->skipped++;
	return 0;
}

/*
 * The file holds weights already, but its index entry has other stat
 * data: we wrote it and could not write the index then (a lock, a full
 * disk), or git wrote an index over ours (a rebase). git, seeing another
 * size, would call the file modified for good. When the file's bytes are
 * the object's (hashed: only files of the object's size whose stat data
 * differ), refresh the entry.
 */
static int refresh_entry(struct checkout *co, const git_index_entry *e,
			 const struct pointer *p)
{
	char oid[HASH_HEXSZ + 1];
	const char *base;
	uint64_t size;
	struct stat st;
	int fd, same, dir;

	if (!filter_is_model(co, e->path, 0))
		return 0;
	/* Not through a link: quietly, as nothing is written. */
	dir = open_leading(co->root, e->path, &base, 0);
	if (dir < 0)
		return 0;
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != p->size ||
	    (e->file_size == (uint32_t)st.st_size &&
	     e->mtime.seconds == (int32_t)st.st_mtim.tv_sec &&
	     e->mtime.nanoseconds == (uint32_t)st.st_mtim.tv_nsec &&
	     e->ino == (uint32_t)st.st_ino)) {
		close(dir);
		return 0;
	}
	fd = openat(dir, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dir);
	if (fd < 0)
		return 0;
	same = !hash_fd(fd, oid, &size) && size == p->size &&
	       !strcmp(oid, p->oid) && !fstat(fd, &st);
	close(fd);
	return same ? add_entry(co, e, &st) : 0;
}

/*
 * Queue the weights of `p` for run_jobs() to write into `path`
 * (relative), once they are known to be local and its directory to be
 * inside the work tree. `e` is the stage-0 entry to refresh afterwards,
 * or NULL. 1 when queued, 0 when the path is not ours to write, -1 when
 * the weights are missing or the path is refused (reported).
 */
static int queue_write(struct checkout *co, const char *path,
		       const struct pointer *p, const git_index_entry *e,
		       unsigned mode)
{
	struct write_job *job;
	char key[HASH_HEXSZ + 1];
	struct hash h = HASH_INIT;
	const char *base;
	int dir;

	dir = open_dir(co, path, &base);
	if (dir < 0)
		return dir == -2 ? 0 : -1;
	if (!filter_is_model(co, path, 1)) {
		close(dir);
		return 0;
	}
	if (!store_has(&co->store, p->oid, p->size)) {
		/*
		 * After a clone or checkout the summary line and the
		 * filter's download advice say what to run; each file is
		 * named here.
		 */
		if (co->deferred)
			warning("'%s': weights %.12s are not in the local "
				"store",
				path, p->oid);
		else
			warning("'%s': weights %.12s are not in the local "
				"store (run 'git model fetch')",
				path, p->oid);
		co->missing++;
		close(dir);
		return -1;
	}
	remove_stale_temps(co, dir, path);
	close(dir);
	/*
	 * Once per path: the lists of a killed run, adopted, may name it
	 * again, and a second writer would find the first one's weights.
	 */
	hash_start(&h);
	hash_update(&h, path, strlen(path));
	hash_finish(&h, key);
	if (!oidset_insert_hex(&co->queued, key))
		return 1;
	ALLOC_GROW(co->jobs, co->jobs_nr + 1, co->jobs_alloc);
	job = &co->jobs[co->jobs_nr++];
	memset(job, 0, sizeof(*job));
	job->path = xstrdup(path);
	job->may_lend = oidset_insert_hex(&co->lending, p->oid);
	if (e) {
		job->refresh = 1;
		git_oid_cpy(&job->entry_id, &e->id);
	}
	memcpy(job->oid, p->oid, sizeof(job->oid));
	job->size = p->size;
	job->mode = mode;
	return 1;
}

int checkout_entry(struct checkout *co, const git_index_entry *e)
{
	struct pointer p = POINTER_INIT;
	struct strbuf file = STRBUF_INIT;
	int ret = 0;

	if (git_index_entry_stage(e) ||
	    (e->mode != GIT_FILEMODE_BLOB &&
	     e->mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
	    blob_pointer(co->repo, &e->id, &p) <= 0)
		return 0;
	strbuf_addf(&file, "%s/%s", co->repo->workdir, e->path);
	if (!file_holds_pointer(AT_FDCWD, file.buf, &p, NULL)) {
		ret = refresh_entry(co, e, &p);
		goto cleanup;
	}
	ret = queue_write(co, e->path, &p, e, e->mode);
cleanup:
	pointer_release(&p);
	strbuf_release(&file);
	return ret;
}

/* One queued file, in one of run_jobs()'s threads. */
static void write_job(void *data, size_t i)
{
	struct checkout *co = data;
	struct write_job *job = &co->jobs[i];
	struct pointer p = POINTER_INIT;

	if (job->may_lend != co->lend_phase)
		return;
	memcpy(p.oid, job->oid, sizeof(p.oid));
	p.size = job->size;
	job->ok = !write_weights(co, &p, job->path, job->mode, job->may_lend,
				 &job->st);
}

/*
 * Write the queued files, one writer per core (copying is the kernel's
 * memcpy where there are no reflinks, and one core copies at its pace),
 * then update the index in this thread: libgit2's index is not ours to
 * share between threads.
 */
static void run_jobs(struct checkout *co)
{
	size_t i;

	/*
	 * Copies first, while the objects they read are in the store; then
	 * the first file of each oid, which may move its object out.
	 */
	co->lend_phase = 0;
	run_on_cores(co->jobs_nr, JOB_THREADS_MAX, write_job, co);
	co->lend_phase = 1;
	run_on_cores(co->jobs_nr, JOB_THREADS_MAX, write_job, co);
	for (i = 0; i < co->jobs_nr; i++) {
		struct write_job *job = &co->jobs[i];
		const git_index_entry *e = NULL;

		/* Looked up again: adding entries moves them in memory. */
		if (job->ok && job->refresh)
			e = git_index_get_bypath(co->index, job->path, 0);
		if (e && !git_oid_equal(&e->id, &job->entry_id))
			e = NULL;
		if (!job->ok)
			co->failed++;
		else if (e)
			add_entry(co, e, &job->st);
		else
			co->written++;
		free(job->path);
	}
	free(co->jobs);
	co->jobs = NULL;
	co->jobs_nr = co->jobs_alloc = 0;
}

int checkout_finish(struct checkout *co)
{
	int ret;

	run_jobs(co);
	ret = (co->missing || co->failed) ? 1 : 0;

	if (co->written) {
		/*
		 * git treats an entry as racily clean, and re-reads the file,
		 * when it is not older than the index. Files we wrote are
		 * backdated (backdate()); one refreshed by refresh_entry()
		 * may be as new as this second: then wait for the next.
		 */
		while (time(NULL) <= co->newest)
			usleep(20 * 1000);
		if (git_index_write(co->index) < 0)
			ret = git2_error("cannot write the index");
		else if (!co->quiet)
			fprintf(stderr, "git-model: checked out %zu file(s)\n",
				co->written);
	}
	if (co->missing)
		fprintf(stderr, "git-model: %zu file(s) hold their pointer, "
				"not their weights (run 'git model pull' once "
				"the storage has them)\n",
			co->missing);
	git_index_free(co->index);
	co->index = NULL;
	store_release(&co->store);
	oidset_release(&co->swept);
	oidset_release(&co->lending);
	oidset_release(&co->queued);
	co->root = close_quietly(co->root);
	return ret;
}

int checkout_defer(const struct repo *r, const char *path,
		   const struct pointer *p)
{
	struct strbuf file = STRBUF_INIT, rec = STRBUF_INIT;
	int fd, ret = 0;

	strbuf_addf(&file, "%s/" DEFERRED_NAME, r->gitdir);
	strbuf_addf(&rec, RECORD_PREFIX "%s %" PRIu64 " %s", p->oid, p->size,
		    path);
	fd = open(file.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	/* One write per record: records of concurrent writers never mix. */
	if (fd < 0 || write(fd, rec.buf, rec.len + 1) != (ssize_t)rec.len + 1)
		ret = error_errno("cannot record '%s' in '%s'", path,
				  file.buf);
	close_quietly(fd);
	strbuf_release(&file);
	strbuf_release(&rec);
	return ret;
}

/*
 * A record of checkout_defer(): the pointer in `p` (oid and size only),
 * the path in `path`. 0, or -1 for a record of another form.
 */
static int parse_record(const char *rec, struct pointer *p, const char **path)
{
	const char *oid = rec + strlen(RECORD_PREFIX), *end;
	char *num_end;

	if (strncmp(rec, RECORD_PREFIX, strlen(RECORD_PREFIX)) ||
	    strnlen(oid, HASH_HEXSZ + 1) <= HASH_HEXSZ ||
	    oid[HASH_HEXSZ] != ' ')
		return -1;
	memcpy(p->oid, oid, HASH_HEXSZ);
	p->oid[HASH_HEXSZ] = '\0';
	end = oid + HASH_HEXSZ + 1;
	if (!oid_hex_valid(p->oid) || *end < '0' || *end > '9')
		return -1;
	errno = 0;
	p->size = strtoull(end, &num_end, 10);
	if (errno || *num_end != ' ' || !num_end[1])
		return -1;
	*path = num_end + 1;
	return 0;
}

/*
 * The file `path` that git wrote with the pointer `p`: queue it
 * (queue_write()) when it still holds that pointer. Its index entry will be
 * refreshed only when it is that pointer at stage 0; otherwise git wrote
 * the file alone (git restore --source, a conflict) and the entry is not
 * ours to change.
 */
static int checkout_recorded(struct checkout *co, const char *path,
			     const struct pointer *p)
{
	struct pointer staged = POINTER_INIT;
	const git_index_entry *e;
	const char *base;
	struct stat st;
	int dir = -1, ret = 0;

	dir = open_dir(co, path, &base);
	if (dir < 0)
		return dir == -2 ? 0 : -1;
	e = git_index_get_bypath(co->index, path, 0);
	if (e && (blob_pointer(co->repo, &e->id, &staged) <= 0 ||
		  strcmp(staged.oid, p->oid) || staged.size != p->size))
		e = NULL;
	if (!file_holds_pointer(dir, base, p, &st)) {
		if (e)
			ret = refresh_entry(co, e, p);
		goto cleanup;
	}
	ret = queue_write(co, path, p, e,
			  (st.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE
						 : GIT_FILEMODE_BLOB);
cleanup:
	close_quietly(dir);
	pointer_release(&staged);
	return ret;
}

/*
 * Lists claimed by a run that died (model-deferred.<pid> of a pid that is
 * gone) are appended to ours, `claimed`. Returns how many were adopted.
 */
static int adopt_orphans(const struct repo *r, const struct strbuf *claimed)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(r->gitdir);
	int n = 0;

	while (d && (de = readdir(d))) {
		const char *p = de->d_name + strlen(DEFERRED_NAME ".");
		char *end;
		long pid;
		int fd;

		if (strncmp(de->d_name, DEFERRED_NAME ".",
			    strlen(DEFERRED_NAME ".")))
			continue;
		pid = strtol(p, &end, 10);
		if (end == p || *end || pid == (long)getpid() ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", r->gitdir, de->d_name);
		strbuf_reset(&text);
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || strbuf_read_capped(&text, fd, DEFERRED_CAP) < 0) {
			close_quietly(fd);
			continue;
		}
		close(fd);
		fd = open(claimed->buf, O_WRONLY | O_APPEND | O_CREAT |
					O_CLOEXEC, 0666);
		if (fd >= 0 && write_in_full(fd, text.buf, text.len) >= 0) {
			unlink(path.buf);
			n++;
		}
		close_quietly(fd);
	}
	if (d)
		closedir(d);
	strbuf_release(&path);
	strbuf_release(&text);
	return n;
}

int checkout_deferred(struct repo *r, int quiet)
{
	struct strbuf file = STRBUF_INIT, claimed = STRBUF_INIT,
		      list = STRBUF_INIT;
	struct checkout co;
	size_t off;
	int fd = -1, ret = -1;

	strbuf_addf(&file, "%s/" DEFERRED_NAME, r->gitdir);
	strbuf_addf(&claimed, "%s.%ld", file.buf, (long)getpid());
	if (rename(file.buf, claimed.buf) < 0) {
		if (errno != ENOENT) {
			error_errno("cannot claim '%s'", file.buf);
			goto cleanup;
		}
		if (!adopt_orphans(r, &claimed)) {
			ret = 0;
			goto cleanup;
		}
	} else {
		adopt_orphans(r, &claimed);
	}
	fd = open(claimed.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || strbuf_read_capped(&list, fd, DEFERRED_CAP) < 0) {
		error_errno("cannot read '%s'", claimed.buf);
		goto cleanup;
	}
	if (checkout_begin(&co, r, quiet) < 0)
		goto cleanup;
	co.deferred = 1;
	for (off = 0; off < list.len;) {
		const char *rec = list.buf + off, *path;
		size_t len = strnlen(rec, list.len - off);
		struct pointer p = POINTER_INIT;
		const git_index_entry *e;

		off += len + 1;
		if (off > list.len)
			break; /* a record cut short: not ours to guess */
		if (!parse_record(rec, &p, &path)) {
			checkout_recorded(&co, path, &p);
			continue;
		}
		/* A bare path, as earlier versions wrote: the index says what. */
		e = git_index_get_bypath(co.index, rec, 0);
		if (e)
			checkout_entry(&co, e);
	}
	ret = checkout_finish(&co);
	if (ret >= 0)
		unlink(claimed.buf);
cleanup:
	close_quietly(fd);
	strbuf_release(&file);
	strbuf_release(&claimed);
	strbuf_release(&list);
	return ret;
}
