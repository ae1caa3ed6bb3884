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

#include "repo.h"
#include "hash.h"
#include "pointer.h"
#include "scan.h"
#include "usage.h"
#include "workers.h"
#include "wrapper.h"
#include "banned.h"

#define COPY_BLOCK (1024 * 1024)
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

/* True when the absolute path `file` is in the index. */
static int tracked(struct checkout *co, const char *file)
{
	size_t len = strlen(co->repo->workdir);

	if (strncmp(file, co->repo->workdir, len))
		return 0;
	while (file[len] == '/')
		len++;
	return git_index_get_bypath(co->index, file + len, 0) != NULL;
}

/*
 * Temp files of a checkout that was killed: ".<name>.git-model-XXXXXX"
 * beside `file` that no live writer holds a lock on.
 */
static void remove_stale_temps(struct checkout *co, const char *file)
{
	const char *slash = strrchr(file, '/');
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	char key[HASH_HEXSZ + 1];
	struct hash h = HASH_INIT;
	struct dirent *de;
	DIR *d = NULL;

	strbuf_add(&dir, file, slash ? (size_t)(slash - file) : 0);
	/*
	 * Once per directory and run: reading a directory of n files for
	 * each of them would be n^2. A temp file left by a killed run is
	 * older than this one, so one look is enough.
	 */
	hash_start(&h);
	hash_update(&h, dir.buf, dir.len);
	hash_finish(&h, key);
	if (!oidset_insert_hex(&co->swept, key))
		goto cleanup;
	d = opendir(dir.len ? dir.buf : ".");
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name), tail = strlen(TEMP_TAIL);
		const char *mark = de->d_name + len - tail;
		int fd;

		/*
		 * .<name>.git-model-XXXXXX, by mkostemp() in write_weights(),
		 * where <name> is a tracked file: nothing else is ours.
		 */
		if (de->d_name[0] != '.' || len < tail + 2 ||
		    strncmp(mark, TEMP_TAIL, tail - 6))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/", dir.buf);
		strbuf_add(&path, de->d_name + 1, mark - de->d_name - 1);
		if (!tracked(co, path.buf))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (!flock(fd, LOCK_EX | LOCK_NB))
			unlink(path.buf);
		close(fd);
	}
	if (d)
		closedir(d);
cleanup:
	strbuf_release(&dir);
	strbuf_release(&path);
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
static int replace_file(const char *tmp, const char *file)
{
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_EXCHANGE)) {
		struct stat st;

		if (!lstat(tmp, &st) && !S_ISDIR(st.st_mode)) {
			unlink(tmp);
			return 0;
		}
		/* A directory took the file's place meanwhile: put it back. */
		renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_EXCHANGE);
		errno = EISDIR;
		return -1;
	}
	if (errno != EINVAL && errno != ENOSYS && errno != ENOENT)
		return -1;
	return rename(tmp, file);
}

/*
 * Replace the work tree file `file` with the object's bytes through a temp
 * file in the same directory and rename(); stat the result into `st`. The
 * temp file is locked while it is written, so that a later run can tell
 * the leftovers of a killed one (remove_stale_temps(), which the caller
 * runs first). Safe to run in several threads at once.
 */
static int write_weights(struct checkout *co, const struct pointer *p,
			 const char *file, unsigned mode, struct stat *st)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *slash = strrchr(file, '/');
	int in = -1, out = -1, ret = -1;

	in = store_open(&co->store, p->oid, p->size);
	if (in < 0)
		goto cleanup;
	if (slash)
		strbuf_add(&tmp, file, slash + 1 - file);
	strbuf_addf(&tmp, ".%s" TEMP_TAIL, slash ? slash + 1 : file);
	out = mkostemp(tmp.buf, O_CLOEXEC);
	if (out < 0) {
		error_errno("cannot create a temp file beside '%s'", file);
		strbuf_reset(&tmp);
		goto cleanup;
	}
	flock(out, LOCK_EX);
	if (copy_fd(in, out, p->size) < 0 ||
	    fchmod(out, (mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) &
				~co->umask) < 0 ||
	    backdate(out) < 0 || close(out) < 0) {
		out = -1;
		error_errno("cannot write '%s'", tmp.buf);
		goto cleanup;
	}
	out = -1;
	if (replace_file(tmp.buf, file) < 0) {
		error_errno("cannot replace '%s'", file);
		goto cleanup;
	}
	strbuf_reset(&tmp);
	if (lstat(file, st) < 0) {
		error_errno("cannot stat '%s'", file);
		goto cleanup;
	}
	ret = 0;
cleanup:
	close_quietly(in);
	close_quietly(out);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}

static void entry_set_stat(git_index_entry *e, const struct stat *st)
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
	if (git_repository_index(&co->index, r->git) < 0 ||
	    git_index_read(co->index, 0) < 0) {
		git2_error("cannot read the index");
		git_index_free(co->index);
		co->index = NULL;
		store_release(&co->store);
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
 * The file holds weights already, but its index entry has other stat
 * data: we wrote it and could not write the index then (a lock, a full
 * disk), or git wrote an index over ours (a rebase). git, seeing another
 * size, would call the file modified for good. When the file's bytes are
 * the object's (hashed: only files of the object's size whose stat data
 * differ), refresh the entry.
 */
static int refresh_entry(struct checkout *co, const git_index_entry *e,
			 const struct pointer *p, const char *file)
{
	char oid[HASH_HEXSZ + 1];
	uint64_t size;
	struct stat st;
	int fd, same;

	if (lstat(file, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != p->size ||
	    (e->file_size == (uint32_t)st.st_size &&
	     e->mtime.seconds == (int32_t)st.st_mtim.tv_sec &&
	     e->mtime.nanoseconds == (uint32_t)st.st_mtim.tv_nsec &&
	     e->ino == (uint32_t)st.st_ino))
		return 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	same = !hash_fd(fd, oid, &size) && size == p->size &&
	       !strcmp(oid, p->oid) && !fstat(fd, &st);
	close(fd);
	return same ? add_entry(co, e, &st) : 0;
}

/*
 * Queue the weights of `p` for run_jobs() to write into `file` (absolute,
 * taken over; `path` is relative, for messages and the index), once they
 * are known to be local. `e` is the stage-0 entry to refresh afterwards,
 * or NULL. 1 when queued, -1 when the weights are missing (reported).
 */
static int queue_write(struct checkout *co, const char *path,
		       struct strbuf *file, const struct pointer *p,
		       const git_index_entry *e, unsigned mode)
{
	struct write_job *job;

	if (!store_has(&co->store, p->oid, p->size)) {
		warning("'%s': weights %.12s are not in the local store "
			"(run 'git model fetch')",
			path, p->oid);
		co->missing++;
		return -1;
	}
	remove_stale_temps(co, file->buf);
	ALLOC_GROW(co->jobs, co->jobs_nr + 1, co->jobs_alloc);
	job = &co->jobs[co->jobs_nr++];
	memset(job, 0, sizeof(*job));
	job->path = xstrdup(path);
	if (e) {
		job->refresh = 1;
		git_oid_cpy(&job->entry_id, &e->id);
	}
	memcpy(job->oid, p->oid, sizeof(job->oid));
	job->size = p->size;
	job->file = strbuf_detach(file, NULL);
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
	if (!worktree_holds_pointer(co->repo, file.buf, &e->id)) {
		ret = refresh_entry(co, e, &p, file.buf);
		goto cleanup;
	}
	ret = queue_write(co, e->path, &file, &p, e, e->mode);
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

	memcpy(p.oid, job->oid, sizeof(p.oid));
	p.size = job->size;
	job->ok = !write_weights(co, &p, job->file, job->mode, &job->st);
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
		free(job->file);
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
	git_index_free(co->index);
	co->index = NULL;
	store_release(&co->store);
	oidset_release(&co->swept);
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

/* True when `file` holds a pointer to p's object; its lstat in `st`. */
static int file_holds_pointer(const char *file, const struct pointer *p,
			      struct stat *st)
{
	struct strbuf buf = STRBUF_INIT;
	struct pointer held = POINTER_INIT;
	int fd, ret = 0;

	if (lstat(file, st) < 0 || !S_ISREG(st->st_mode) ||
	    st->st_size > POINTER_MAX)
		return 0;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (strbuf_read_capped(&buf, fd, POINTER_MAX) >= 0 &&
	    !pointer_parse(&held, buf.buf, buf.len, NULL) &&
	    !strcmp(held.oid, p->oid) && held.size == p->size)
		ret = 1;
	close(fd);
	pointer_release(&held);
	strbuf_release(&buf);
	return ret;
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
	struct strbuf file = STRBUF_INIT;
	struct pointer staged = POINTER_INIT;
	const git_index_entry *e;
	struct stat st;
	int ret = 0;

	strbuf_addf(&file, "%s/%s", co->repo->workdir, path);
	e = git_index_get_bypath(co->index, path, 0);
	if (e && (blob_pointer(co->repo, &e->id, &staged) <= 0 ||
		  strcmp(staged.oid, p->oid) || staged.size != p->size))
		e = NULL;
	if (!file_holds_pointer(file.buf, p, &st)) {
		if (e)
			ret = refresh_entry(co, e, p, file.buf);
		goto cleanup;
	}
	ret = queue_write(co, path, &file, p, e,
			  (st.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE
						 : GIT_FILEMODE_BLOB);
cleanup:
	pointer_release(&staged);
	strbuf_release(&file);
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
