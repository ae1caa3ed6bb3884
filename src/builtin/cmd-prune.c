/*
 * prune: delete from the local store the weights that nothing here uses
 * any more and that storage is confirmed to have.
 *
 * "In use" is keep.h's business (HEAD and index of every worktree, the
 * stash, recent commits). Everything else is deleted only when the storage
 * of the default remote answers that it has the object with its size; an
 * object it lacks, or that cannot be asked about, stays. So a prune never
 * loses the only copy of anything, whatever git-lfs users lost to theirs.
 *
 * With --storage-uploads it does something else: it aborts the uploads
 * left open in storage (S3's multipart uploads of killed pushes) that
 * began --older-than ago or more.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "checkout.h"
#include "clean-cache.h"
#include "config.h"
#include "human.h"
#include "keep.h"
#include "loan.h"
#include "model-file.h"
#include "storage.h"
#include "store-walk.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define DAY (24L * 60 * 60)
/*
 * A temp file that no process holds a lock on, unchanged for this long,
 * belongs to a writer that died. The age covers the instant between a
 * writer's creating its file and locking it, and writers that lock
 * nothing (older versions).
 */
#define STALE_AGE (60L * 60)
/*
 * --storage-uploads: an upload that began a day ago is a dead push's,
 * as for the temp files of a file:// storage (collect_storage_stale()).
 */
#define UPLOAD_AGE DAY

enum state {
	UNCONFIRMED, /* storage was not asked, or did not answer */
	ABSENT,      /* storage answered that it lacks it */
	PRESENT,     /* storage has it: may go */
};

struct candidate {
	char oid[OID_HEXSZ + 1];
	uint64_t size;
	char *path;
	dev_t dev;
	ino_t ino;
	enum state state;
};

struct stale {
	char *path;
	uint64_t size;
	int locked; /* a partial download: only when no process holds it */
};

struct prune {
	int dry_run, verbose;
	long days;
	time_t now;
	struct keep keep;
	struct store store;
	struct candidate *v;
	size_t nr, alloc;
	size_t in_use;
	uint64_t in_use_bytes;
	struct stale *stale; /* temp files to remove */
	size_t nr_stale, alloc_stale;
};

static void add_stale(struct prune *p, const char *path, uint64_t size,
		      int locked)
{
	ALLOC_GROW(p->stale, p->nr_stale + 1, p->alloc_stale);
	p->stale[p->nr_stale].path = xstrdup(path);
	p->stale[p->nr_stale].size = size;
	p->stale[p->nr_stale].locked = locked;
	p->nr_stale++;
}

/* Is a process downloading into `path` (transfer.c locks it)? */
static int in_use_by_download(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), busy;

	if (fd < 0)
		return 1; /* gone, or not ours to judge */
	busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd);
	return busy;
}

/*
 * Remove a stale temp file; a partial download only under its lock, so
 * that a download starting now never writes into an unlinked file.
 * Returns 0 when removed, 1 when it is in use now, -1 on error (reported).
 */
static int remove_stale(const struct stale *s)
{
	int fd = -1, ret = 0;

	if (s->locked) {
		fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 1 :
						 error_errno("cannot open '%s'",
							     s->path);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return 1;
		}
	}
	if (unlink(s->path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", s->path);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int collect_cb(const struct store_entry *e, void *data)
{
	struct prune *p = data;
	struct candidate *c;

	switch (e->kind) {
	case STORE_OBJECT:
		if (keep_has(&p->keep, e->oid)) {
			p->in_use++;
			p->in_use_bytes += e->st.st_size;
			break;
		}
		ALLOC_GROW(p->v, p->nr + 1, p->alloc);
		c = &p->v[p->nr++];
		memcpy(c->oid, e->oid, sizeof(c->oid));
		c->size = e->st.st_size;
		c->path = xstrdup(e->path);
		c->dev = e->st.st_dev;
		c->ino = e->st.st_ino;
		c->state = UNCONFIRMED;
		break;
	case STORE_TEMP:
		/* an upload into this store (a local remote's) in progress? */
		if (e->st.st_mtime < p->now - DAY)
			add_stale(p, e->path, e->st.st_size, 0);
		break;
	case STORE_STRAY:
		break; /* fsck's business */
	}
	return 0;
}

/*
 * Temp files in tmp/ and partial downloads in incomplete/ that no process
 * holds a lock on (store.h, transfer.c), unchanged for STALE_AGE; a
 * partial download of an object in use only once it is older than the
 * recent days (at least one): until then it may be resumed.
 */
static void collect_stale(struct prune *p, const char *sub)
{
	struct strbuf path = STRBUF_INIT;
	int incomplete = !strcmp(sub, "incomplete");
	time_t before = p->now - STALE_AGE,
	       resumable = p->now - (p->days > 1 ? p->days : 1) * DAY;
	struct dirent *de;
	DIR *dir;
	size_t len;

	strbuf_addf(&path, "%s/%s", p->store.dir, sub);
	dir = opendir(path.buf);
	if (!dir)
		goto cleanup;
	len = path.len;
	while ((de = readdir(dir))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		strbuf_setlen(&path, len);
		strbuf_addf(&path, "/%s", de->d_name);
		/*
		 * A link in tmp/ (store_link()) has its object's old mtime;
		 * its ctime says when it was made.
		 */
		if (lstat(path.buf, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= before ||
		    (st.st_nlink > 1 && st.st_ctime >= before))
			continue;
		if (incomplete && st.st_mtime >= resumable &&
		    keep_has(&p->keep, de->d_name))
			continue;
		if (in_use_by_download(path.buf))
			continue;
		add_stale(p, path.buf, st.st_size, 1);
	}
	closedir(dir);
cleanup:
	strbuf_release(&path);
}

/*
 * The temp files of copies into a file:// storage (storage-file.c:
 * sha256/<aa>/<bb>/<oid>.tmp-XXXXXX) that nothing has written to for a
 * day: pushes that were killed. A day, not STALE_AGE: the storage is
 * shared, and its writers lock nothing.
 */
static void collect_storage_stale(struct prune *p, const struct repo *r)
{
	struct strbuf url = STRBUF_INIT, dir = STRBUF_INIT;
	glob_t g = { 0 };
	size_t i;

	if (storage_configured_url(r, &url) || file_url_path(url.buf, &dir))
		goto cleanup;
	strbuf_addstr(&dir, "/sha256/[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/"
			    "*.tmp-??????");
	if (glob(dir.buf, GLOB_NOSORT, NULL, &g))
		goto cleanup;
	for (i = 0; i < g.gl_pathc; i++) {
		struct stat st;

		if (!lstat(g.gl_pathv[i], &st) && S_ISREG(st.st_mode) &&
		    st.st_mtime < p->now - DAY)
			add_stale(p, g.gl_pathv[i], st.st_size, 0);
	}
	globfree(&g);
cleanup:
	strbuf_release(&url);
	strbuf_release(&dir);
}

struct worktree_stale {
	struct prune *p;
	const struct repo *r;
};

static void add_worktree_temp(const char *path, void *data)
{
	struct worktree_stale *w = data;
	struct strbuf abs = STRBUF_INIT;
	struct stat st;

	strbuf_addstr(&abs, w->r->workdir);
	if (abs.len && abs.buf[abs.len - 1] != '/')
		strbuf_addch(&abs, '/');
	strbuf_addstr(&abs, path);
	if (!lstat(abs.buf, &st) && S_ISREG(st.st_mode) &&
	    st.st_mtime < w->p->now - STALE_AGE &&
	    !in_use_by_download(abs.buf))
		add_stale(w->p, abs.buf, st.st_size, 1);
	strbuf_release(&abs);
}

/*
 * The temp files a killed checkout left beside work tree files when the
 * store's tmp/ is on another file system (checkout_each_temp()), unlocked
 * and unchanged for STALE_AGE.
 */
static void collect_worktree_stale(struct prune *p, struct repo *r)
{
	struct worktree_stale w = { p, r };

	checkout_each_temp(r, add_worktree_temp, &w);
}

/* Is the storage a directory that is this very store's objects/? */
static int storage_is_own_store(const struct storage *s,
				const struct store *store)
{
	struct strbuf dir = STRBUF_INIT, own = STRBUF_INIT;
	struct stat a, b;
	int ret = 0;

	if (s->ops != &storage_file_ops || file_url_path(s->url, &dir) < 0)
		goto cleanup;
	strbuf_addf(&own, "%s/objects", store->dir);
	ret = !stat(dir.buf, &a) && !stat(own.buf, &b) &&
	      a.st_dev == b.st_dev && a.st_ino == b.st_ino;
cleanup:
	strbuf_release(&dir);
	strbuf_release(&own);
	return ret;
}

/*
 * Ask the storage about candidates [from, to). Returns 0 when it answered
 * for each (some may have failed: they stay UNCONFIRMED), -1 when it
 * answered for none.
 */
static int ask(struct prune *p, struct storage *s, const struct repo *r,
	       size_t from, size_t to)
{
	struct transfer t = { 0 };
	size_t i, answered = 0;

	if (transfer_init(&t, TRANSFER_CHECK, s, &p->store, r, -1, 0) < 0)
		return -1;
	for (i = from; i < to; i++)
		transfer_add(&t, p->v[i].oid, p->v[i].size, p->v[i].oid);
	transfer_run(&t);
	for (i = from; i < to; i++) {
		switch (transfer_has(&t, i - from)) {
		case 1:
			p->v[i].state = PRESENT;
			answered++;
			break;
		case 0:
			p->v[i].state = ABSENT;
			answered++;
			break;
		default:
			break;
		}
	}
	transfer_release(&t);
	return answered ? 0 : -1;
}

/*
 * Find out which candidates storage has. Returns 0 when it was asked
 * (candidates it did not answer for stay UNCONFIRMED, reported; `why`
 * gets its name), 1 when there is no storage to ask, -1 when it could not
 * be asked; for 1 and -1 `why` says why.
 */
static int confirm(struct prune *p, const struct repo *r, struct strbuf *why)
{
	struct storage s = STORAGE_INIT;
	int ret = -1;

	switch (storage_for_repo(&s, r, NULL, why)) {
	case 0:
		break;
	case 1:
		return 1; /* no storage: `why` says so */
	default:
		strbuf_addstr(why, "the storage could not be opened");
		return -1;
	}
	if (storage_is_own_store(&s, &p->store)) {
		strbuf_addf(why, "the storage '%s' is this repository's own "
				 "store",
			    s.display);
		ret = 1;
		goto cleanup;
	}
	/*
	 * One object first: when the storage is down, that is one error
	 * line, not one per object.
	 */
	if (ask(p, &s, r, 0, 1) < 0) {
		strbuf_addf(why, "'%s' could not be asked", s.display);
		goto cleanup;
	}
	if (p->nr > 1)
		ask(p, &s, r, 1, p->nr);
	strbuf_addf(why, "'%s'", s.display);
	ret = 0;
cleanup:
	storage_close(&s);
	return ret;
}

/* Delete one object, unless it was replaced since it was looked at. */
static int delete_object(const struct candidate *c)
{
	struct stat st;

	if (lstat(c->path, &st) < 0)
		return errno == ENOENT ? 0 : error_errno("cannot stat '%s'",
							 c->path);
	if (st.st_dev != c->dev || st.st_ino != c->ino)
		return 1; /* a new copy arrived: leave it */
	if (unlink(c->path) < 0 && errno != ENOENT)
		return error_errno("cannot delete '%s'", c->path);
	return 0;
}

static void print_in_use(const struct prune *p)
{
	struct strbuf hs = STRBUF_INIT;

	human_size(p->in_use_bytes, &hs);
	fprintf(stderr,
		"git-model: %zu object(s) in use (%s): HEAD and index of %zu "
		"worktree(s), %zu stash entr%s, %zu commit(s) of the last %ld "
		"day(s)\n",
		p->in_use, hs.buf, p->keep.worktrees, p->keep.stashes,
		p->keep.stashes == 1 ? "y" : "ies", p->keep.recent_commits,
		p->days);
	strbuf_release(&hs);
}

static void release(struct prune *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		free(p->v[i].path);
	free(p->v);
	for (i = 0; i < p->nr_stale; i++)
		free(p->stale[i].path);
	free(p->stale);
	keep_release(&p->keep);
	store_release(&p->store);
}

/*
 * "<n>" seconds, or "<n>s", "<n>m", "<n>h", "<n>d", "<n>w": `*out`
 * seconds. 0, or -1 when `arg` is none of these.
 */
static int parse_age(const char *arg, long *out)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = { { '\0', 1 }, { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
		      { 'd', DAY }, { 'w', 7 * DAY } };
	char *end;
	long n;
	size_t i;

	if (!arg || !isdigit((unsigned char)*arg))
		return -1;
	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (*end == units[i].unit && (!*end || !end[1])) {
			/* up to 100,000 days: forever, in range */
			if (n > 100000L * DAY / units[i].seconds)
				return -1;
			*out = n * units[i].seconds;
			return 0;
		}
	return -1;
}

/*
 * prune --storage-uploads: abort the uploads left open under the storage
 * of the default remote that began `age` seconds ago or more.
 */
static int prune_uploads(struct repo *repo, long age, int dry_run,
			 int verbose)
{
	struct storage s = STORAGE_INIT;
	struct storage_upload *v = NULL;
	struct strbuf why = STRBUF_INIT;
	size_t i, nr = 0, aborted = 0, younger = 0, gone = 0;
	time_t now = time(NULL);
	int ret = 0, res;

	switch (storage_for_repo(&s, repo, NULL, &why)) {
	case 0:
		break;
	case 1:
		error("no storage to look in: %s", why.buf);
		strbuf_release(&why);
		return 1;
	default:
		strbuf_release(&why);
		return 1;
	}
	res = storage_list_uploads(&s, &v, &nr);
	if (res > 0) {
		error("storage '%s' keeps no multipart uploads "
		      "(--storage-uploads is for s3:// storage)",
		      s.display);
		ret = 1;
		goto cleanup;
	}
	if (res < 0) {
		ret = 1;
		goto cleanup;
	}
	for (i = 0; i < nr; i++) {
		char when[32];
		struct tm tm;

		if (v[i].initiated > now - age) {
			younger++;
			continue;
		}
		gmtime_r(&v[i].initiated, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (dry_run) {
			printf("would abort upload %s of '%s' (begun %s)\n",
			       v[i].id, v[i].key, when);
			aborted++;
			continue;
		}
		res = storage_abort_upload(&s, &v[i]);
		if (res < 0) {
			ret = 1;
			continue;
		}
		if (res > 0) {
			gone++;
			continue;
		}
		if (verbose)
			printf("aborted upload %s of '%s' (begun %s)\n",
			       v[i].id, v[i].key, when);
		aborted++;
	}
	if (aborted || dry_run || verbose || summary_wanted(0, -1)) {
		fprintf(stderr, "git-model: %s %zu multipart upload(s) in '%s'",
			dry_run ? "would abort" : "aborted", aborted,
			s.display);
		if (younger)
			fprintf(stderr, ", kept %zu younger than %ld s",
				younger, age);
		if (gone)
			fprintf(stderr, ", %zu gone meanwhile", gone);
		fputc('\n', stderr);
	}
cleanup:
	storage_uploads_release(v, nr);
	storage_close(&s);
	strbuf_release(&why);
	return ret;
}

int cmd_prune(int argc, const char **argv, struct repo *repo)
{
	struct prune p = { 0 };
	struct strbuf why = STRBUF_INIT, hs = STRBUF_INIT;
	size_t i, deleted = 0, unconfirmed = 0, failed = 0, stale_done = 0;
	size_t leftovers = 0, records = 0;
	uint64_t deleted_bytes = 0, unconfirmed_bytes = 0, stale_bytes = 0;
	int asked = 1, ret = 0, uploads = 0;
	const char *older_than = NULL;
	long age = UPLOAD_AGE;
	static const char *const usage[] = {
		"git model prune [-n | --dry-run] [-v | --verbose]",
		"git model prune --storage-uploads [--older-than <age>] "
		"[-n | --dry-run] [-v | --verbose]",
		NULL
	};
	const struct option options[] = {
		OPT__DRY_RUN(&p.dry_run, "list what would be deleted"),
		OPT__VERBOSE(&p.verbose, "name each object"),
		OPT_BOOL_F(0, "storage-uploads", &uploads,
			   "abort the multipart uploads left open in storage",
			   PARSE_OPT_NONEG),
		OPT_STRING(0, "older-than", &older_than, "<age>",
			   "only those begun this long ago (default 24h)"),
		OPT_END(),
	};

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	if (older_than && !uploads)
		usage_msg_opt("--older-than goes with --storage-uploads",
			      usage, options);
	if (older_than && parse_age(older_than, &age) < 0)
		usage_msg_opt("--older-than wants an age such as 24h, 7d or "
			      "3600",
			      usage, options);
	if (uploads)
		return prune_uploads(repo, age, p.dry_run, p.verbose);
	if (config_get_int(repo, "model.pruneRecentDays", 7, &p.days) < 0)
		exit(128);
	if (p.days < 0)
		die("model.pruneRecentDays must be 0 or more, not %ld", p.days);
	if (p.days > 100000)
		p.days = 100000; /* keeps the arithmetic in range: forever */
	p.now = time(NULL);
	p.keep = (struct keep)KEEP_INIT;
	repo_store(repo, &p.store);

	if (keep_collect(&p.keep, repo, p.days, p.now) < 0)
		die("cannot tell which weights are in use; nothing was "
		    "deleted");
	if (store_walk(&p.store, collect_cb, &p) < 0)
		die("cannot list the local store '%s/objects'; nothing was "
		    "deleted",
		    p.store.dir);
	collect_stale(&p, "tmp");
	collect_stale(&p, "incomplete");
	collect_storage_stale(&p, repo);
	collect_worktree_stale(&p, repo);
	if (p.verbose)
		print_in_use(&p);

	if (p.nr)
		asked = confirm(&p, repo, &why);

	for (i = 0; i < p.nr; i++) {
		const struct candidate *c = &p.v[i];

		strbuf_reset(&hs);
		human_size(c->size, &hs);
		if (c->state != PRESENT) {
			if (c->state == UNCONFIRMED && asked <= 0)
				failed++; /* storage errors, reported */
			unconfirmed++;
			unconfirmed_bytes += c->size;
			if (p.verbose)
				printf("keep %s (%s): %s\n", c->oid, hs.buf,
				       c->state == ABSENT ?
					       "not in storage" :
					       "not confirmed in storage");
			continue;
		}
		if (p.dry_run) {
			printf("would delete %s (%s)\n", c->oid, hs.buf);
		} else {
			int res = delete_object(c);

			if (res < 0) {
				failed++;
				continue;
			}
			if (res > 0)
				continue;
			if (model_file_forget(&p.store, c->oid) < 0)
				failed++;
			if (p.verbose)
				printf("deleted %s (%s)\n", c->oid, hs.buf);
		}
		deleted++;
		deleted_bytes += c->size;
	}
	for (i = 0; i < p.nr_stale; i++) {
		const struct stale *s = &p.stale[i];

		if (p.dry_run) {
			printf("would remove stale temp file '%s'\n", s->path);
		} else {
			int res = remove_stale(s);

			if (res < 0)
				failed++;
			if (res)
				continue;
			if (p.verbose)
				printf("removed stale temp file '%s'\n",
				       s->path);
		}
		stale_done++;
		stale_bytes += s->size;
	}

	/* After the objects: the markers of those deleted go too. */
	if (loan_prune_leftovers(&p.store, p.dry_run, &leftovers) < 0)
		failed++;
	if (leftovers && (p.verbose || p.dry_run))
		printf("%s %zu marker(s) and loan record temp file(s) of "
		       "objects no longer here\n",
		       p.dry_run ? "would remove" : "removed", leftovers);
	if (clean_cache_prune(&p.store, p.dry_run, &records) < 0)
		failed++;
	if (records && (p.verbose || p.dry_run))
		printf("%s %zu clean record(s) of files changed or gone\n",
		       p.dry_run ? "would remove" : "removed", records);

	/*
	 * What was deleted is always said; a prune with nothing to do says
	 * nothing off a terminal (scripts, logs), unless -n or -v ask.
	 */
	if (deleted || stale_done || p.dry_run || p.verbose ||
	    summary_wanted(0, -1)) {
		strbuf_reset(&hs);
		human_size(deleted_bytes, &hs);
		fprintf(stderr, "git-model: %s %zu object(s) (%s)",
			p.dry_run ? "would delete" : "deleted", deleted,
			hs.buf);
		strbuf_reset(&hs);
		human_size(p.in_use_bytes, &hs);
		fprintf(stderr, ", kept %zu in use (%s)", p.in_use, hs.buf);
		if (stale_done) {
			strbuf_reset(&hs);
			human_size(stale_bytes, &hs);
			fprintf(stderr, ", %s %zu stale temp file(s) (%s)",
				p.dry_run ? "would remove" : "removed",
				stale_done, hs.buf);
		}
		fputc('\n', stderr);
	}
	if (unconfirmed) {
		strbuf_reset(&hs);
		human_size(unconfirmed_bytes, &hs);
		if (!asked)
			fprintf(stderr,
				"git-model: kept %zu object(s) (%s) not "
				"confirmed in storage %s; run 'git model "
				"push'\n",
				unconfirmed, hs.buf, why.buf);
		else
			fprintf(stderr,
				"git-model: kept %zu object(s) (%s) not "
				"confirmed in storage: %s\n",
				unconfirmed, hs.buf, why.buf);
	}
	if (failed)
		ret = 1;
	strbuf_release(&why);
	strbuf_release(&hs);
	release(&p);
	return ret;
}
