#include "loan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "file-stamp.h"
#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define STORED_NAME "stored"
#define RECORD_CAP 8192
#define LOAN_SUFFIX ".loan"

/* <dir>/stored/<oid[0:2]>/<oid>, for a valid `oid`. */
static void stored_path(const struct store *s, const char *oid,
			struct strbuf *out)
{
	strbuf_addf(out, "%s/" STORED_NAME "/%.2s/%s", s->dir, oid, oid);
}

int store_mark_stored(const struct store *s, const char *const *oids,
		      size_t nr)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; i < nr; i++) {
		int fd;

		if (!oid_hex_valid(oids[i]))
			continue;
		strbuf_reset(&path);
		stored_path(s, oids[i], &path);
		if (!access(path.buf, F_OK))
			continue;
		fd = open(path.buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
		if (fd < 0 && errno == ENOENT && !mkdir_leading(path.buf))
			fd = open(path.buf, O_WRONLY | O_CREAT | O_CLOEXEC,
				  0444);
		if (fd < 0)
			ret = error_errno("cannot create '%s'", path.buf);
		close_quietly(fd);
	}
	strbuf_release(&path);
	return ret;
}

int store_is_stored(const struct store *s, const char *oid)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	if (!oid_hex_valid(oid))
		return 0;
	stored_path(s, oid, &path);
	ret = !access(path.buf, F_OK);
	strbuf_release(&path);
	return ret;
}

/* For the test suite only: die by SIGKILL at the step named in the env. */
static void test_kill_at(const char *step)
{
	const char *at = getenv("GIT_MODEL_TEST_LEND_KILL");

	if (at && !strcmp(at, step))
		raise(SIGKILL);
}

/*
 * For the test suite only: a hard link to the object made by "another
 * process" (a push to file:// storage) while it is being lent.
 */
static void test_race_link(const char *obj)
{
	const char *to = getenv("GIT_MODEL_TEST_LEND_RACE_LINK");

	if (to && link(obj, to) < 0)
		warning("cannot link '%s' to '%s': %s", obj, to,
			strerror(errno));
}

struct loan {
	int pending; /* the move may not have happened yet */
	char *path;  /* absolute, owned */
	struct file_stamp st;
};

static void loan_release(struct loan *l)
{
	free(l->path);
	l->path = NULL;
}

static void loan_paths(const struct store *s, const char *oid,
		       struct strbuf *anchor, struct strbuf *record)
{
	strbuf_addf(anchor, "%s/lent/%s", s->dir, oid);
	strbuf_addf(record, "%s/lent/%s" LOAN_SUFFIX, s->dir, oid);
}

/*
 * "lent|pending <dev> <ino> <size> <ms> <mns> <cs> <cns> <path>", through
 * a temp file <file>.tmp-XXXXXX and a rename, so a reader sees a whole
 * record. Not synced: a crash may leave none, an older one or an empty
 * one, and settle_locked() repairs each as it repairs a kill (an
 * unreadable record counts as none); two syncs per loan made lending 100
 * small files measurably slower.
 */
static int write_record(const char *file, const struct loan *l)
{
	struct strbuf rec = STRBUF_INIT, tmp = STRBUF_INIT;
	int fd, ret = -1;

	strbuf_addf(&rec,
		    "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
		    " %ld %" PRId64 " %ld %s",
		    l->pending ? "pending" : "lent", l->st.dev, l->st.ino,
		    l->st.size, l->st.mtime_s, l->st.mtime_ns, l->st.ctime_s,
		    l->st.ctime_ns,
		    l->path);
	strbuf_addf(&tmp, "%s.tmp-XXXXXX", file);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		goto cleanup;
	}
	if (write_in_full(fd, rec.buf, rec.len) < 0 || fchmod(fd, 0444) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		close(fd);
		unlink(tmp.buf);
		goto cleanup;
	}
	if (close(fd) < 0 || rename(tmp.buf, file) < 0) {
		error_errno("cannot write '%s'", file);
		unlink(tmp.buf);
		goto cleanup;
	}
	ret = 0;
cleanup:
	strbuf_release(&rec);
	strbuf_release(&tmp);
	return ret;
}

/* 1 when read, 0 when there is none, -1 when unreadable (reported). */
static int read_record(const char *file, struct loan *l)
{
	struct strbuf rec = STRBUF_INIT;
	char kind[8];
	int fd, n = 0, ret = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno("cannot open '%s'", file);
	}
	if (strbuf_read_capped(&rec, fd, RECORD_CAP) < 0 ||
	    sscanf(rec.buf,
		   "%7s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64
		   " %ld %" SCNd64 " %ld %n",
		   kind, &l->st.dev, &l->st.ino, &l->st.size,
		   &l->st.mtime_s, &l->st.mtime_ns, &l->st.ctime_s,
		   &l->st.ctime_ns, &n) != 8 ||
	    !n || rec.buf[n] != '/' ||
	    (strcmp(kind, "lent") && strcmp(kind, "pending"))) {
		error("cannot read the loan record '%s'", file);
		goto cleanup;
	}
	l->pending = !strcmp(kind, "pending");
	l->path = xstrdup(rec.buf + n);
	ret = 1;
cleanup:
	close(fd);
	strbuf_release(&rec);
	return ret;
}

static int same_inode(const struct loan *l, const struct stat *st)
{
	return file_stamp_same_inode(&l->st, st);
}

static int unchanged(const struct loan *l, const struct stat *st)
{
	return !l->pending && file_stamp_same(&l->st, st);
}

/* Hold lent/ (made when missing) locked; the fd, or -1 (reported). */
static int lock_loans(const struct store *s)
{
	struct strbuf dir = STRBUF_INIT;
	int fd;

	strbuf_addf(&dir, "%s/lent", s->dir);
	if (mkdir(dir.buf, 0777) < 0 && errno != EEXIST) {
		error_errno("cannot create '%s'", dir.buf);
		fd = -1;
	} else {
		fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX) < 0) {
			error_errno("cannot lock '%s'", dir.buf);
			fd = close_quietly(fd);
		}
	}
	strbuf_release(&dir);
	return fd;
}

/*
 * A second back (checkout.h), with the clock's nanoseconds: a timestamp
 * put back to the second (touch -d, tar, cp -p from a coarser file
 * system) does not match the record.
 */
static void backdate_times(struct timespec times[2])
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	times[0].tv_sec = 0;
	times[0].tv_nsec = UTIME_OMIT;
	times[1].tv_sec = now.tv_sec - 1;
	times[1].tv_nsec = now.tv_nsec ? now.tv_nsec : 1;
}

/* The object in objects/ as `st`, when it may be lent to device `dev`. */
static int can_lend(const struct store *s, const char *oid, uint64_t size,
		    dev_t dev, struct stat *st)
{
	struct strbuf obj = STRBUF_INIT;
	int ok;

	ok = !store_object_path(s, oid, &obj) && !lstat(obj.buf, st) &&
	     S_ISREG(st->st_mode) && (st->st_mode & 07777) == 0444 &&
	     st->st_nlink == 1 && (uint64_t)st->st_size == size &&
	     st->st_dev == dev && store_is_stored(s, oid);
	strbuf_release(&obj);
	return ok;
}

int loan_can_lend(const struct store *s, const char *oid, uint64_t size,
		  dev_t dev)
{
	struct stat st;

	return can_lend(s, oid, size, dev, &st);
}

int loan_lend(const struct store *s, const char *oid, uint64_t size,
	      int dir, const char *base, const char *abs_path, mode_t mode,
	      struct stat *st)
{
	struct strbuf obj = STRBUF_INIT, anchor = STRBUF_INIT,
		      record = STRBUF_INIT;
	struct loan l = { 0 };
	struct timespec times[2];
	struct stat ost, dst, now;
	int lock = -1, ofd = -1, fd = -1, ret = 0;

	if (store_object_path(s, oid, &obj) < 0)
		return -1;
	if (fstat(dir, &dst) < 0 || !can_lend(s, oid, size, dst.st_dev, &ost))
		goto cleanup;
	lock = lock_loans(s);
	if (lock < 0)
		goto cleanup; /* reported: copy instead */
	/*
	 * Nobody may mark it synced once it is lent (store.h): its writer
	 * or a checker still holding it has a lock on it (copy then), and
	 * none can take one until it is out of objects/.
	 */
	ofd = open(obj.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (ofd < 0 || flock(ofd, LOCK_EX | LOCK_NB) < 0 ||
	    fstat(ofd, &now) < 0 || now.st_ino != ost.st_ino ||
	    now.st_dev != ost.st_dev || now.st_mode != ost.st_mode ||
	    now.st_nlink != 1)
		goto cleanup;
	loan_paths(s, oid, &anchor, &record);
	/* Lent already (elsewhere), or a loan left to settle: copy. */
	if (link(obj.buf, anchor.buf) < 0)
		goto cleanup;
	test_kill_at("link");
	test_race_link(obj.buf);
	l.pending = 1;
	file_stamp_set(&l.st, &ost);
	l.path = xstrdup(abs_path);
	if (write_record(record.buf, &l) < 0) {
		unlink(anchor.buf);
		goto cleanup;
	}
	/*
	 * Writable from now on, so that nothing takes it for an object to
	 * hard-link (storage-file.c links read-only files only).
	 */
	if (chmod(obj.buf, mode) < 0 ||
	    renameat(AT_FDCWD, obj.buf, dir, base) < 0) {
		chmod(obj.buf, 0444);
		unlink(anchor.buf);
		unlink(record.buf);
		goto cleanup;
	}
	test_kill_at("lend");
	/* From here on the loan is out: errors leave it recorded. */
	ret = -1;
	backdate_times(times);
	fd = open(anchor.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || futimens(fd, times) < 0 || fstat(fd, st) < 0) {
		error_errno("cannot set up the lent file '%s'", abs_path);
		goto cleanup;
	}
	if (st->st_nlink != 2) {
		/*
		 * Someone linked the object before it left the store (a
		 * push to file:// storage): it is storage's too, and must
		 * not be the user's to write. Put it back; copy instead.
		 */
		if (renameat(dir, base, AT_FDCWD, obj.buf) < 0 ||
		    fchmod(fd, 0444) < 0) {
			error_errno("cannot put '%s' back into the store",
				    abs_path);
			goto cleanup;
		}
		unlink(anchor.buf);
		unlink(record.buf);
		ret = 0;
		goto cleanup;
	}
	l.pending = 0;
	file_stamp_set(&l.st, st);
	if (write_record(record.buf, &l) < 0)
		goto cleanup;
	ret = 1;
cleanup:
	close_quietly(fd);
	close_quietly(ofd);
	if (lock >= 0)
		close(lock);
	loan_release(&l);
	strbuf_release(&obj);
	strbuf_release(&anchor);
	strbuf_release(&record);
	return ret;
}

/*
 * The anchor, which no work tree name shares any more, back into
 * objects/: as a synced object (0444) when `trusted`, else as UNSYNCED
 * (0400), hashed before it is first trusted (store.h).
 */
static int take_back(const struct store *s, const char *oid,
		     const char *anchor, int trusted)
{
	struct strbuf obj = STRBUF_INIT;
	struct stat st;
	int ret = -1;

	if (store_object_path(s, oid, &obj) < 0)
		goto cleanup;
	if (!lstat(obj.buf, &st)) {
		ret = unlink(anchor); /* the store has it already */
		goto cleanup;
	}
	if (chmod(anchor, trusted ? 0444 : 0400) < 0 ||
	    (rename(anchor, obj.buf) < 0 &&
	     (errno != ENOENT || mkdir_leading(obj.buf) < 0 ||
	      rename(anchor, obj.buf) < 0))) {
		error_errno("cannot move '%s' back into the store", anchor);
		goto cleanup;
	}
	ret = 0;
cleanup:
	strbuf_release(&obj);
	return ret;
}

/* How the anchor of a loan whose work tree name is gone ends. */
enum return_how {
	RETURN_DROP,    /* the user may have written it: dropped */
	RETURN_CHECKED, /* back as UNSYNCED: hashed before it is trusted */
	RETURN_TRUSTED, /* back as it is: synced, unchanged */
};

/*
 * 1 when no process has the file open as `fd` open for writing (only then
 * does the kernel grant a read lease, fcntl(2)), 0 when one has, -1 when
 * it cannot be told (leases disabled, a file of another owner, a file
 * system without leases). The lease is let go at once.
 */
static int no_writers(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
		return errno == EAGAIN ? 0 : -1;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return 1;
}

/*
 * git unlinked the lent file, which changed its ctime, so the anchor
 * `ast` is judged by the rest of the rule git trusts for its index: the
 * inode, the size and the mtime to the nanosecond, and no other name.
 * Any write moves the mtime to the clock's time, a second or more past
 * the recorded one (backdate_times()), unless the writer sets it back
 * afterwards (loan.h). A file some process still has open for writing
 * could be written after it is back: dropped. `why` gets a message for
 * a drop.
 */
static enum return_how judge_return(const struct loan *l,
				    const struct stat *ast, const char *anchor,
				    const char **why)
{
	int fd, ok;

	*why = "was changed after it was checked out: the file is yours";
	if (ast->st_nlink != 1 || !same_inode(l, ast) ||
	    l->st.size != (uint64_t)ast->st_size)
		return RETURN_DROP;
	/* Killed before its stat was recorded: only a hash can tell. */
	if (l->pending)
		return RETURN_CHECKED;
	if (l->st.mtime_s != ast->st_mtim.tv_sec ||
	    l->st.mtime_ns != ast->st_mtim.tv_nsec)
		return RETURN_DROP;
	fd = open(anchor, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return RETURN_CHECKED;
	ok = no_writers(fd);
	close(fd);
	if (!ok)
		*why = "was removed while a process still had it open for "
		       "writing: its bytes are that process's";
	return ok < 0 ? RETURN_CHECKED : ok ? RETURN_TRUSTED : RETURN_DROP;
}

/*
 * A loan whose file was moved into the work tree by a process killed
 * before it recorded the file's stat (its mode was set before the move):
 * when the file still hashes to the object, the loan is recorded as out,
 * with its stat now; else it stays pending (and is then the user's file).
 */
static int finish_pending(const char *oid, struct loan *l, const char *record)
{
	char got[HASH_HEXSZ + 1];
	uint64_t size;
	struct stat st;
	int fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret = 0;

	if (fd < 0)
		return 0;
	if (!hash_fd(fd, got, &size) && size == l->st.size &&
	    !strcmp(got, oid) && !fstat(fd, &st) && same_inode(l, &st)) {
		l->pending = 0;
		file_stamp_set(&l->st, &st);
		ret = write_record(record, l);
	}
	close(fd);
	return ret;
}

/* loan_settle() under the lock. */
static int settle_locked(const struct store *s, const char *oid, int quiet,
			 struct loan_stats *stats)
{
	struct strbuf anchor = STRBUF_INIT, record = STRBUF_INIT,
		      obj = STRBUF_INIT;
	struct loan l = { 0 };
	struct stat ast, pst, ost;
	enum return_how how;
	const char *why;
	int has_anchor, at_path, ret = -1, rec;

	loan_paths(s, oid, &anchor, &record);
	if (store_object_path(s, oid, &obj) < 0)
		goto cleanup;
	rec = read_record(record.buf, &l);
	if (rec < 0) {
		/* Reported; a crash cut it short: as if there were none. */
		unlink(record.buf);
		loan_release(&l);
		memset(&l, 0, sizeof(l));
		rec = 0;
	}
	has_anchor = !lstat(anchor.buf, &ast) && S_ISREG(ast.st_mode);
	if (!rec) {
		/* Killed between the link and the record: never moved. */
		if (has_anchor) {
			if (!lstat(obj.buf, &ost) && ost.st_ino == ast.st_ino &&
			    ost.st_dev == ast.st_dev)
				unlink(anchor.buf);
			else if (ast.st_nlink == 1 &&
				 !take_back(s, oid, anchor.buf, 0))
				stats->returned++;
			else if (!unlink(anchor.buf))
				stats->dropped++;
		}
		ret = LOAN_NONE;
		goto cleanup;
	}
	if (!has_anchor || (!lstat(obj.buf, &ost) && ost.st_ino == ast.st_ino &&
			    ost.st_dev == ast.st_dev)) {
		/* Taken back, or never moved: the record alone is left. */
		if (has_anchor) {
			chmod(obj.buf, 0444); /* loan_lend() may have begun */
			unlink(anchor.buf);
		}
		unlink(record.buf);
		ret = LOAN_NONE;
		goto cleanup;
	}
	at_path = !lstat(l.path, &pst) && same_inode(&l, &pst) &&
		  same_inode(&l, &ast);
	if (at_path && l.pending &&
	    (finish_pending(oid, &l, record.buf) < 0 || lstat(l.path, &pst) < 0))
		goto cleanup;
	if (at_path && unchanged(&l, &pst)) {
		stats->out++;
		stats->out_bytes += l.st.size;
		ret = LOAN_OUT;
		goto cleanup;
	}
	how = at_path ? RETURN_DROP : judge_return(&l, &ast, anchor.buf, &why);
	if (at_path)
		why = "was changed after it was checked out: the file is yours";
	if (how != RETURN_DROP) {
		if (take_back(s, oid, anchor.buf, how == RETURN_TRUSTED) < 0)
			goto cleanup;
		test_kill_at("return");
		stats->returned++;
	} else {
		/* The user wrote to it, or it has a name we did not give. */
		if (!quiet)
			warning("'%s' %s; the weights %.12s will come from "
				"storage when needed",
				l.path, why, oid);
		unlink(anchor.buf);
		stats->dropped++;
	}
	unlink(record.buf);
	ret = LOAN_NONE;
cleanup:
	loan_release(&l);
	strbuf_release(&anchor);
	strbuf_release(&record);
	strbuf_release(&obj);
	return ret;
}

int loan_settle(const struct store *s, const char *oid, int quiet)
{
	struct loan_stats stats = LOAN_STATS_INIT;
	struct strbuf record = STRBUF_INIT;
	int lock, ret;

	if (!oid_hex_valid(oid))
		return LOAN_NONE;
	/* The common case, an object never lent: no lock, no lent/. */
	strbuf_addf(&record, "%s/lent/%s" LOAN_SUFFIX, s->dir, oid);
	ret = access(record.buf, F_OK);
	strbuf_release(&record);
	if (ret < 0 && errno == ENOENT) {
		strbuf_addf(&record, "%s/lent/%s", s->dir, oid);
		ret = access(record.buf, F_OK);
		strbuf_release(&record);
		if (ret < 0 && errno == ENOENT)
			return LOAN_NONE;
	}
	lock = lock_loans(s);
	if (lock < 0)
		return -1;
	ret = settle_locked(s, oid, quiet, &stats);
	close(lock);
	return ret;
}

int loan_open(const struct store *s, const char *oid, uint64_t size)
{
	struct strbuf anchor = STRBUF_INIT, record = STRBUF_INIT;
	struct loan l = { 0 };
	struct stat st;
	int fd = -1;

	if (loan_settle(s, oid, 0) != LOAN_OUT)
		goto cleanup;
	loan_paths(s, oid, &anchor, &record);
	if (read_record(record.buf, &l) <= 0 || l.st.size != size)
		goto cleanup;
	fd = open(anchor.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !unchanged(&l, &st)))
		fd = close_quietly(fd);
cleanup:
	loan_release(&l);
	strbuf_release(&anchor);
	strbuf_release(&record);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

int loan_settle_all(const struct store *s, int quiet,
		    struct loan_stats *stats)
{
	struct loan_stats mine = LOAN_STATS_INIT;
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int lock = -1, ret = 0;

	if (!stats)
		stats = &mine;
	strbuf_addf(&dir, "%s/lent", s->dir);
	d = opendir(dir.buf);
	if (!d)
		goto cleanup;
	lock = lock_loans(s);
	if (lock < 0) {
		ret = -1;
		goto cleanup;
	}
	while ((de = readdir(d))) {
		char oid[HASH_HEXSZ + 1];

		/* <oid> and <oid>.loan: each loan once, by its oid. */
		if (strlen(de->d_name) < HASH_HEXSZ)
			continue;
		memcpy(oid, de->d_name, HASH_HEXSZ);
		oid[HASH_HEXSZ] = '\0';
		if (!oid_hex_valid(oid) ||
		    (de->d_name[HASH_HEXSZ] &&
		     strcmp(de->d_name + HASH_HEXSZ, LOAN_SUFFIX)))
			continue;
		if (!de->d_name[HASH_HEXSZ]) {
			/* the anchor: counted through its record if any */
			struct strbuf rec = STRBUF_INIT;
			int has_rec;

			strbuf_addf(&rec, "%s/%s" LOAN_SUFFIX, dir.buf, oid);
			has_rec = !access(rec.buf, F_OK);
			strbuf_release(&rec);
			if (has_rec)
				continue;
		}
		if (settle_locked(s, oid, quiet, stats) < 0)
			ret = -1;
	}
cleanup:
	if (d)
		closedir(d);
	if (lock >= 0)
		close(lock);
	strbuf_release(&dir);
	return ret;
}

int loan_count(const struct store *s, struct loan_stats *stats)
{
	struct strbuf dir = STRBUF_INIT, file = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "%s/lent", s->dir);
	d = opendir(dir.buf);
	while (d && (de = readdir(d))) {
		struct loan l = { 0 };
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len != HASH_HEXSZ + strlen(LOAN_SUFFIX) ||
		    strcmp(de->d_name + HASH_HEXSZ, LOAN_SUFFIX))
			continue;
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/%s", dir.buf, de->d_name);
		if (read_record(file.buf, &l) > 0 && !lstat(l.path, &st) &&
		    unchanged(&l, &st)) {
			stats->out++;
			stats->out_bytes += l.st.size;
		}
		loan_release(&l);
	}
	if (d)
		closedir(d);
	strbuf_release(&dir);
	strbuf_release(&file);
	return 0;
}

/*
 * The loan of `oid` ended because its file does not hash to it, when the
 * record still names the inode `ino` (under the lock).
 */
static void end_bad_loan(const struct store *s, const char *oid,
			 uint64_t ino)
{
	struct strbuf anchor = STRBUF_INIT, record = STRBUF_INIT;
	struct loan l = { 0 };
	int lock = lock_loans(s);

	loan_paths(s, oid, &anchor, &record);
	if (lock >= 0 && read_record(record.buf, &l) > 0 && l.st.ino == ino) {
		unlink(anchor.buf);
		unlink(record.buf);
	}
	if (lock >= 0)
		close(lock);
	loan_release(&l);
	strbuf_release(&anchor);
	strbuf_release(&record);
}

int loan_verify_all(const struct store *s, loan_bad_fn bad, void *ctx)
{
	struct strbuf dir = STRBUF_INIT, file = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	strbuf_addf(&dir, "%s/lent", s->dir);
	d = opendir(dir.buf);
	while (d && (de = readdir(d))) {
		struct loan l = { 0 };
		char oid[HASH_HEXSZ + 1], got[HASH_HEXSZ + 1];
		uint64_t size;
		struct stat st;
		int fd;

		if (strlen(de->d_name) != HASH_HEXSZ + strlen(LOAN_SUFFIX) ||
		    strcmp(de->d_name + HASH_HEXSZ, LOAN_SUFFIX))
			continue;
		memcpy(oid, de->d_name, HASH_HEXSZ);
		oid[HASH_HEXSZ] = '\0';
		if (!oid_hex_valid(oid))
			continue;
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/%s" LOAN_SUFFIX, dir.buf, oid);
		if (read_record(file.buf, &l) <= 0) {
			loan_release(&l);
			continue;
		}
		/* Hashed without the lock: the loan may end meanwhile. */
		strbuf_setlen(&file, file.len - strlen(LOAN_SUFFIX));
		fd = open(file.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && !fstat(fd, &st) && unchanged(&l, &st)) {
			if (hash_fd(fd, got, &size) < 0) {
				ret = -1;
			} else if (size != l.st.size || strcmp(got, oid)) {
				end_bad_loan(s, oid, l.st.ino);
				bad(ctx, oid, l.path);
			}
		}
		close_quietly(fd);
		loan_release(&l);
	}
	if (d)
		closedir(d);
	strbuf_release(&dir);
	strbuf_release(&file);
	return ret;
}

/* True when `oid` is in objects/ or lent (its anchor or record). */
static int is_local(const struct store *s, const char *oid)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret;

	ret = !store_object_path(s, oid, &path) && !lstat(path.buf, &st);
	if (!ret) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/lent/%s", s->dir, oid);
		ret = !lstat(path.buf, &st);
		strbuf_addstr(&path, LOAN_SUFFIX);
		ret = ret || !lstat(path.buf, &st);
	}
	strbuf_release(&path);
	return ret;
}

/* lent/'s temp files (under the lock: none is being written). */
static void prune_lent_temps(const struct store *s, int dry_run,
			     size_t *nr)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&path, "%s/lent", s->dir);
	d = opendir(path.buf);
	while (d && (de = readdir(d))) {
		const char *t = strstr(de->d_name, LOAN_SUFFIX ".tmp-");

		if (!t || t != de->d_name + HASH_HEXSZ)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/lent/%s", s->dir, de->d_name);
		if (dry_run || !unlink(path.buf))
			(*nr)++;
	}
	if (d)
		closedir(d);
	strbuf_release(&path);
}

int loan_prune_leftovers(const struct store *s, int dry_run, size_t *nr)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	struct dirent *de;
	DIR *top;
	int lock, ret = 0;

	strbuf_addf(&dir, "%s/" STORED_NAME, s->dir);
	top = opendir(dir.buf);
	if (!top && errno == ENOENT)
		goto cleanup;
	if (!top) {
		ret = error_errno("cannot open '%s'", dir.buf);
		goto cleanup;
	}
	/* No loan begins or ends meanwhile: is_local() holds. */
	lock = lock_loans(s);
	if (lock < 0) {
		ret = -1;
		goto cleanup;
	}
	prune_lent_temps(s, dry_run, nr);
	while ((de = readdir(top))) {
		struct dirent *me;
		DIR *sub;

		if (strlen(de->d_name) != 2 || !isxdigit(de->d_name[0]) ||
		    !isxdigit(de->d_name[1]))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		sub = opendir(path.buf);
		while (sub && (me = readdir(sub))) {
			if (!oid_hex_valid(me->d_name) ||
			    strncmp(me->d_name, de->d_name, 2) ||
			    is_local(s, me->d_name))
				continue;
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s/%s", dir.buf, de->d_name,
				    me->d_name);
			if (dry_run || !unlink(path.buf))
				(*nr)++;
			else
				ret = error_errno("cannot remove '%s'",
						  path.buf);
		}
		if (sub)
			closedir(sub);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		if (!dry_run)
			rmdir(path.buf); /* when empty */
	}
	close(lock);
cleanup:
	if (top)
		closedir(top);
	strbuf_release(&dir);
	strbuf_release(&path);
	return ret;
}
