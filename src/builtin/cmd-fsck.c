/*
 * fsck: check the local store and the pointers of revisions.
 *
 * Objects: every file under objects/ is hashed (streaming) and must be
 * sha256/<aa>/<bb>/<oid> with content that hashes to <oid>. Anything else
 * is moved, never deleted, into <model dir>/bad/, keeping its name, so a
 * reader can no longer be handed wrong bytes and nothing is lost.
 *
 * Pointers: every blob of the revisions' trees that is, or tries to be, a
 * pointer must be one in canonical form, and its object must be local or,
 * with --remote, in storage; with --remote, what storage holds under an
 * object's name must also be that object, as far as its size and the
 * checksum it states (S3) tell: a listing of the storage answers where
 * it can (storage_http_ops.list_objects), a HEAD per object where not.
 * A blob that the attributes send through the filter but that is not a
 * pointer was committed raw: that is reported too.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "hash.h"
#include "human.h"
#include "lfs-pointer.h"
#include "loan.h"
#include "pointer.h"
#include "scan.h"
#include "storage.h"
#include "store-walk.h"
#include "transfer.h"
#include "zcontainer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define BAD_NAME_TRIES 100

struct fsck {
	struct repo *r;
	struct store store;
	int progress;
	size_t problems;
	/* objects */
	size_t objects;
	uint64_t object_bytes;
	/* pointers */
	size_t pointers;
	struct found_set missing; /* not in the local store; path is rev:path */
	int remote;               /* --remote: storage is asked too */
	struct found_set local;   /* with remote: the objects that are local */
};

/* A line on stdout per problem; the count decides the exit status. */
static void problem(struct fsck *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	if (f->progress)
		fputc('\n', stderr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	f->problems++;
}

/*
 * Move `path` to <model dir>/bad/<name>, or <name>.1, .2... when that is
 * taken: a rename that never replaces anything. Returns 0 with the new
 * path in `dest`, or -1 (reported).
 */
static int move_to_bad(struct fsck *f, const char *path, const char *name,
		       struct strbuf *dest)
{
	int i;

	strbuf_reset(dest);
	strbuf_addf(dest, "%s/bad/", f->store.dir);
	if (mkdir_leading(dest->buf) < 0)
		return error_errno("cannot create '%s'", dest->buf);
	for (i = 0; i < BAD_NAME_TRIES; i++) {
		strbuf_reset(dest);
		strbuf_addf(dest, "%s/bad/%s", f->store.dir, name);
		if (i)
			strbuf_addf(dest, ".%d", i);
		if (!renameat2(AT_FDCWD, path, AT_FDCWD, dest->buf,
			       RENAME_NOREPLACE))
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			break;
		/* no RENAME_NOREPLACE here: link, then drop the old name */
		if (!link(path, dest->buf)) {
			if (unlink(path) < 0)
				return error_errno("cannot remove '%s'", path);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	return error_errno("cannot move '%s' to '%s/bad'", path,
			   f->store.dir);
}

static void draw_progress(struct fsck *f, int last)
{
	struct strbuf hs = STRBUF_INIT;

	if (!f->progress)
		return;
	human_size(f->object_bytes, &hs);
	fprintf(stderr, "\rChecking objects: %zu, %s%s", f->objects, hs.buf,
		last ? ", done.\n" : "   ");
	strbuf_release(&hs);
}

/* Hash one object. 1 when it is right, 0 when not (`got` says what), -1. */
static int object_ok(struct fsck *f, const struct store_entry *e, char *got,
		     struct stat *st)
{
	uint64_t size;
	int fd, ret;

	fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1; /* pruned meanwhile: nothing to judge */
		return error_errno("cannot open '%s'", e->path);
	}
	if (fstat(fd, st) < 0) {
		ret = error_errno("cannot stat '%s'", e->path);
	} else if (hash_fd(fd, got, &size) < 0) {
		ret = error("cannot read '%s'", e->path);
	} else {
		f->objects++;
		f->object_bytes += size;
		ret = !strcmp(got, e->oid);
	}
	close(fd);
	return ret;
}

/*
 * A bad object with other names (a file:// storage hard-links objects,
 * storage-file.c) is bad under those names too: say so.
 */
static const char *linked_note(const struct stat *st)
{
	return st->st_nlink > 1 ?
	       " (it is hard-linked: its other names, e.g. in a file:// "
	       "storage, hold the same bad bytes)" : "";
}

static int object_cb(const struct store_entry *e, void *data)
{
	struct fsck *f = data;
	struct strbuf dest = STRBUF_INIT;
	char got[HASH_HEXSZ + 1];
	struct stat st, now;
	int ok;

	switch (e->kind) {
	case STORE_TEMP:
		return 0; /* an upload into this store, or its leftover */
	case STORE_OBJECT:
		ok = object_ok(f, e, got, &st);
		draw_progress(f, 0);
		if (ok < 0) {
			problem(f, "unreadable object %s: see the error above",
				e->oid);
			return 0;
		}
		if (ok)
			return 0;
		/* replaced by a good copy while we read? leave that one */
		if (lstat(e->path, &now) < 0 || now.st_ino != st.st_ino ||
		    now.st_dev != st.st_dev)
			return 0;
		if (move_to_bad(f, e->path, e->name, &dest) < 0)
			problem(f, "bad object %s: its content hashes to %s; "
				   "it could not be moved away%s",
				e->oid, got, linked_note(&st));
		else
			problem(f, "bad object %s: its content hashes to %s; "
				   "moved to '%s'%s",
				e->oid, got, dest.buf, linked_note(&st));
		break;
	case STORE_STRAY:
		if (move_to_bad(f, e->path, e->name, &dest) < 0)
			problem(f, "stray file 'objects/%s' is not an object "
				   "in its place; it could not be moved away",
				e->rel);
		else
			problem(f, "stray file 'objects/%s' is not an object "
				   "in its place; moved to '%s'",
				e->rel, dest.buf);
		break;
	}
	strbuf_release(&dest);
	return 0;
}

static void check_objects(struct fsck *f)
{
	if (store_walk(&f->store, object_cb, f) < 0)
		problem(f, "the local store '%s/objects' could not be read in "
			   "full: see the errors above",
			f->store.dir);
	draw_progress(f, 1);
}

struct rev_walk {
	struct fsck *f;
	const char *rev;
	git_odb *odb;
	git_attr_options attr;
	int err;
};

/* Does `path` go through the model filter, by the attributes of the rev? */
static int tracked(struct rev_walk *w, const char *path)
{
	const char *value = NULL;

	if (git_attr_get_ext(&value, w->f->r->git, &w->attr, path, "filter") <
	    0) {
		git_error_clear();
		return 0;
	}
	return git_attr_value(value) == GIT_ATTR_VALUE_STRING &&
	       !strcmp(value, "model");
}

static int is_lfs_pointer(const char *buf, size_t len)
{
	char oid[OID_HEXSZ + 1];
	uint64_t size;

	return !lfs_pointer_parse(buf, len, oid, &size);
}

static void check_pointer(struct rev_walk *w, const char *path,
			  const char *buf, size_t len)
{
	struct fsck *f = w->f;
	struct pointer p = POINTER_INIT;
	struct strbuf err = STRBUF_INIT, canon = STRBUF_INIT;
	int local;

	if (pointer_parse(&p, buf, len, &err) < 0) {
		problem(f, "invalid pointer %s:%s: %s", w->rev, path, err.buf);
		goto cleanup;
	}
	pointer_format(&p, &canon);
	if (canon.len != len || memcmp(canon.buf, buf, len)) {
		problem(f, "non-canonical pointer %s:%s (git model pointer "
			   "--check says why)",
			w->rev, path);
		goto cleanup;
	}
	f->pointers++;
	local = store_has(&f->store, p.oid, p.size);
	if (!local || f->remote) {
		struct found_set *set = local ? &f->local : &f->missing;
		struct strbuf where = STRBUF_INIT;
		struct found *m;

		strbuf_addf(&where, "%s:%s", w->rev, path);
		ALLOC_GROW(set->v, set->nr + 1, set->alloc);
		m = &set->v[set->nr++];
		/* fields scan.h may add are NULL, as found_set_release() wants */
		memset(m, 0, sizeof(*m));
		memcpy(m->oid, p.oid, sizeof(p.oid));
		m->size = p.size;
		m->path = strbuf_detach(&where, NULL);
	}
cleanup:
	pointer_release(&p);
	strbuf_release(&err);
	strbuf_release(&canon);
}

static int blob_cb(const char *path, const git_oid *id, void *data)
{
	static const char prefix[] = "version git-model/";
	struct rev_walk *w = data;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;

	if (git_odb_read_header(&size, &type, w->odb, id) < 0) {
		/* a blob this clone does not have (partial clone) */
		git_error_clear();
		goto cleanup;
	}
	if (size <= POINTER_MAX && size >= sizeof(prefix) - 1) {
		const char *buf;

		if (git_blob_lookup(&blob, w->f->r->git, id) < 0) {
			git2_error("cannot read a blob");
			w->err = -1;
			goto cleanup;
		}
		buf = git_blob_rawcontent(blob);
		if (!memcmp(buf, prefix, sizeof(prefix) - 1)) {
			check_pointer(w, path, buf, git_blob_rawsize(blob));
			goto cleanup;
		}
		if (is_lfs_pointer(buf, git_blob_rawsize(blob))) {
			if (tracked(w, path))
				problem(w->f, "git-lfs pointer %s:%s: tracked "
					"by git-model (run 'git model migrate "
					"from-lfs')", w->rev, path);
			goto cleanup;
		}
	}
	/* git-model leaves empty files alone */
	if (size && tracked(w, path))
		problem(w->f,
			"raw file %s:%s: tracked by git-model, but committed "
			"as content, not as a pointer (run 'git add "
			"--renormalize -- %s' and commit)",
			w->rev, path, path);
cleanup:
	git_blob_free(blob);
	return w->err;
}

static void check_rev(struct fsck *f, const char *rev)
{
	git_object *obj = NULL, *commit = NULL;
	git_tree *tree = NULL;
	struct rev_walk w = { f, rev, NULL, GIT_ATTR_OPTIONS_INIT, 0 };

	if (git_revparse_single(&obj, f->r->git, rev) < 0)
		die("'%s' is not a revision in this repository", rev);
	if (git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0)
		die("'%s' has no tree", rev);
	/*
	 * The attributes of the revision's own .gitattributes files, and of
	 * the index's (which are those of the next commit).
	 */
	w.attr.flags = GIT_ATTR_CHECK_INDEX_ONLY;
	if (!git_object_peel(&commit, obj, GIT_OBJECT_COMMIT)) {
		w.attr.flags |= GIT_ATTR_CHECK_INCLUDE_COMMIT;
		git_oid_cpy(&w.attr.attr_commit_id, git_object_id(commit));
	}
	git_error_clear();
	if (git_repository_odb(&w.odb, f->r->git) < 0)
		die("cannot open the object database");
	if (tree_files(tree, NULL, blob_cb, &w) < 0)
		die("cannot check the pointers of '%s'", rev);
	git_odb_free(w.odb);
	git_object_free(commit);
	git_tree_free(tree);
	git_object_free(obj);
}

/*
 * Work tree files that hold exactly their index entry's pointer text: a
 * checkout whose download failed (or was skipped) left them so.
 */
static int report_pointer_file(const char *path, const struct pointer *p,
			       void *data)
{
	(void)p;
	problem(data, "pointer text in the work tree: %s (its weights were "
		      "never put in place; run 'git model pull')",
		path);
	return 0;
}

static void check_worktree(struct fsck *f)
{
	git_index *index = NULL;
	struct strbuf file = STRBUF_INIT, held = STRBUF_INIT;
	size_t i, n;

	if (worktree_pointers(f->r, report_pointer_file, f) < 0)
		exit(128);
	/* git-lfs pointers that a checkout left as they are committed. */
	if (git_repository_index(&index, f->r->git) < 0)
		die("cannot read the index: %s",
		    git_error_last() ? git_error_last()->message : "?");
	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		git_blob *blob = NULL;
		int fd;

		if (git_index_entry_stage(e) ||
		    blob_lfs_pointer(f->r, &e->id) <= 0 ||
		    git_blob_lookup(&blob, f->r->git, &e->id) < 0)
			continue;
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/%s", f->r->workdir, e->path);
		strbuf_reset(&held);
		fd = open(file.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 &&
		    strbuf_read_capped(&held, fd, LFS_POINTER_MAX) >= 0 &&
		    held.len == git_blob_rawsize(blob) &&
		    !memcmp(held.buf, git_blob_rawcontent(blob), held.len))
			problem(f, "git-lfs pointer text in the work tree: %s "
				   "(run 'git model migrate from-lfs')",
				e->path);
		if (fd >= 0)
			close(fd);
		git_blob_free(blob);
	}
	git_error_clear();
	git_index_free(index);
	strbuf_release(&file);
	strbuf_release(&held);
}

/*
 * "wrong object" when storage holds another object under `m`'s name:
 * 1 reported, 0 not wrong. `local`: we have the object, to upload again.
 */
static int report_wrong(struct fsck *f, enum transfer_wrong w,
			const struct found *m, const struct storage *s,
			int local)
{
	if (w == TRANSFER_NOT_WRONG)
		return 0;
	problem(f, "wrong object %s for %s in storage '%s': it has another "
		   "%s (run 'git model push --all' %s)",
		m->oid, m->path, s->display,
		w == TRANSFER_WRONG_SIZE ? "size" : "checksum",
		local ? "to upload it again" : "in a clone that has it");
	return 1;
}

/*
 * What storage holds under one object's name, as far as a listing tells
 * (storage_http_ops.list_objects), and then the answer about it: from
 * the listing where that settles it, else from a HEAD (`ask`).
 */
struct remote_object {
	const struct found *m;
	uint64_t raw_size, gmz_size;
	unsigned raw : 1, gmz : 1;
	unsigned ask : 1;   /* the listing cannot tell: HEAD it */
	size_t queued;      /* with `ask`: its index in the transfer */
	int has;            /* without `ask`: as transfer_has() */
	enum transfer_wrong wrong; /* without `ask`: as transfer_wrong() */
};

static int remote_object_cmp(const void *a, const void *b)
{
	const struct remote_object *x = *(const struct remote_object *const *)a;
	const struct remote_object *y = *(const struct remote_object *const *)b;

	return strcmp(x->m->oid, y->m->oid);
}

static int remote_oid_cmp(const void *key, const void *elem)
{
	const struct remote_object *o =
		*(const struct remote_object *const *)elem;

	return strcmp(key, o->m->oid);
}

/* The objects by oid, for list_objects()' calls. */
struct listed_objects {
	struct remote_object **by_oid;
	size_t nr;
};

static void listed(void *ctx, const char *oid, int gmz, uint64_t size)
{
	struct listed_objects *l = ctx;
	struct remote_object **p =
		bsearch(oid, l->by_oid, l->nr, sizeof(*l->by_oid),
			remote_oid_cmp);

	if (!p)
		return;
	if (gmz) {
		(*p)->gmz = 1;
		(*p)->gmz_size = size;
	} else {
		(*p)->raw = 1;
		(*p)->raw_size = size;
	}
}

/*
 * Answer from the listing what the engine's HEADs would (transfer.h):
 * either form counts as there, the raw one with its size and the
 * checksum S3 states, which a listing lacks (a HEAD tells), the
 * compressed one with a length a container of the object can have.
 * Where both forms are there, the one asked first decides: a HEAD.
 */
static void answer_from_listing(struct remote_object *o, int compressed)
{
	uint64_t size = o->m->size;

	o->has = 0;
	o->wrong = TRANSFER_NOT_WRONG;
	if (!compressed)
		o->gmz = 0;
	if (!o->raw && !o->gmz)
		; /* neither form: not there */
	else if (!o->raw && zc_stored_size_possible(size, o->gmz_size))
		o->has = 1;
	else if (!o->raw)
		o->wrong = TRANSFER_WRONG_SIZE;
	else if (!o->gmz && o->raw_size != size)
		o->wrong = TRANSFER_WRONG_SIZE;
	else
		o->ask = 1;
}

/*
 * Whether storage has each of the `n` objects `o`: a listing where the
 * storage gives one, then a HEAD for what it does not settle, queued in
 * `t` (`*queued` set when it was). 0 when every object has an answer, -1
 * when the HEADs could not be sent (those objects have none).
 */
static int ask_storage(struct fsck *f, struct storage *s,
		       struct remote_object *o, size_t n, struct transfer *t,
		       int *queued)
{
	struct listed_objects l = { NULL, n };
	size_t i, nask = 0;
	int listing = 0;

	if (s->http && s->http->list_objects) {
		l.by_oid = xcalloc(n, sizeof(*l.by_oid));
		for (i = 0; i < n; i++)
			l.by_oid[i] = &o[i];
		qsort(l.by_oid, n, sizeof(*l.by_oid), remote_object_cmp);
		/* no more requests than a HEAD for each */
		listing = s->http->list_objects(s, n, listed, &l) ==
			  STORAGE_LISTED;
		free(l.by_oid);
	}
	for (i = 0; i < n; i++) {
		if (listing)
			answer_from_listing(&o[i], s->http->compressed);
		else
			o[i].ask = 1;
		nask += o[i].ask;
	}
	if (!nask)
		return 0;
	if (transfer_init(t, TRANSFER_CHECK, s, &f->store, f->r, -1, 0))
		return -1;
	*queued = 1;
	for (i = 0, nask = 0; i < n; i++)
		if (o[i].ask) {
			o[i].queued = nask++;
			transfer_add(t, o[i].m->oid, o[i].m->size,
				     o[i].m->path);
		}
	transfer_run(t);
	return 0;
}

/* As transfer_has(): 1 there with its size, 0 not, -1 not known. */
static int remote_has(const struct remote_object *o, const struct transfer *t)
{
	return o->ask ? transfer_has(t, o->queued) : o->has;
}

static enum transfer_wrong remote_wrong(const struct remote_object *o,
					const struct transfer *t)
{
	return o->ask ? transfer_wrong(t, o->queued) : o->wrong;
}

/*
 * The objects that are not local: in storage, with --remote? And with
 * --remote, is what storage holds under each object's name that object?
 */
static void check_missing(struct fsck *f, int remote)
{
	struct storage s = STORAGE_INIT;
	struct strbuf why = STRBUF_INIT;
	struct transfer t = { 0 };
	struct remote_object *o = NULL;
	size_t i, nm;
	int have_storage = 0, checked = 0, queued = 0;

	found_set_finish(&f->missing);
	found_set_finish(&f->local);
	nm = f->missing.nr;
	if (!nm && !f->local.nr)
		return;
	if (remote) {
		switch (storage_for_repo(&s, f->r, NULL, &why)) {
		case 0:
			have_storage = 1;
			break;
		case 1:
			break;
		default:
			strbuf_addstr(&why, "the storage could not be opened");
		}
	}
	if (have_storage) {
		/* the missing first, then the local */
		o = xcalloc(nm + f->local.nr, sizeof(*o));
		for (i = 0; i < nm; i++)
			o[i].m = &f->missing.v[i];
		for (i = 0; i < f->local.nr; i++)
			o[nm + i].m = &f->local.v[i];
		checked = !ask_storage(f, &s, o, nm + f->local.nr, &t,
				       &queued);
	}
	for (i = 0; i < nm; i++) {
		const struct found *m = &f->missing.v[i];

		if (!remote)
			problem(f, "missing object %s for %s: not in the local "
				   "store (run 'git model fetch', or "
				   "'git model fsck --remote' to look in "
				   "storage)",
				m->oid, m->path);
		else if (!have_storage)
			problem(f, "missing object %s for %s: not in the local "
				   "store, and no storage to look in (%s)",
				m->oid, m->path, why.buf);
		else if ((!checked && o[i].ask) || remote_has(&o[i], &t) < 0)
			problem(f, "missing object %s for %s: not in the local "
				   "store, and storage '%s' could not be asked",
				m->oid, m->path, s.display);
		else if (!remote_has(&o[i], &t) &&
			 !report_wrong(f, remote_wrong(&o[i], &t), m, &s, 0))
			problem(f, "missing object %s for %s: neither in the "
				   "local store nor in storage '%s' (run 'git "
				   "model push --all' in a clone that has it)",
				m->oid, m->path, s.display);
	}
	/* a local object storage lacks is fine: not pushed yet */
	for (i = 0; have_storage && i < f->local.nr; i++) {
		const struct found *m = &f->local.v[i];
		const struct remote_object *l = &o[nm + i];

		if (!checked && l->ask)
			continue;
		if (remote_has(l, &t) < 0)
			problem(f, "storage '%s' could not be asked about "
				   "object %s for %s",
				s.display, m->oid, m->path);
		else if (!remote_has(l, &t))
			report_wrong(f, remote_wrong(l, &t), m, &s, 1);
	}
	if (queued)
		transfer_release(&t);
	if (have_storage)
		storage_close(&s);
	free(o);
	strbuf_release(&why);
}

static void bad_loan(void *ctx, const char *oid, const char *path)
{
	problem(ctx,
		"bad object %s lent to '%s': the file does not hold its bytes "
		"(written, and its mtime put back?); the file is yours now, "
		"the version is in storage (remove the file and run 'git "
		"checkout -- <path>')",
		oid, path);
}

int cmd_fsck(int argc, const char **argv, struct repo *repo)
{
	struct fsck f = { 0 };
	struct loan_stats loans = LOAN_STATS_INIT;
	const char **revs = xcalloc(argc + 1, sizeof(*revs));
	struct strbuf hs = STRBUF_INIT;
	int i, nrevs = 0, objects = 0, pointers = 0, remote = 0;
	int check_files;
	static const char *const usage[] = {
		"git model fsck [--objects] [--pointers] [--remote] [<rev>...]",
		NULL
	};
	const struct option options[] = {
		OPT_BOOL_F(0, "objects", &objects,
			   "check the objects of the local store",
			   PARSE_OPT_NONEG),
		OPT_BOOL_F(0, "pointers", &pointers,
			   "check the pointers of revisions and the work tree",
			   PARSE_OPT_NONEG),
		OPT_BOOL_F(0, "remote", &remote,
			   "ask storage for the weights, and check what it holds",
			   PARSE_OPT_NONEG),
		OPT_END(),
	};

	argc = parse_options(argc, argv, options, usage, 0);
	for (i = 0; i < argc; i++)
		revs[nrevs++] = argv[i];
	if (!objects && !pointers)
		objects = pointers = 1;
	if (!pointers && (nrevs || remote))
		usage_msg_opt("revisions and --remote are for the pointer "
			      "check; they cannot go with --objects alone",
			      usage, options);
	check_files = pointers && !nrevs && repo->workdir;
	if (pointers && !nrevs && !git_repository_head_unborn(repo->git))
		revs[nrevs++] = "HEAD"; /* none yet in a new repository */

	f.r = repo;
	f.remote = remote;
	f.progress = isatty(2);
	repo_store(repo, &f.store);
	/*
	 * Loans first. A lent object is checked where it lives, as one in
	 * objects/ (a bad one's loan ends, so it is not counted below). A
	 * file git removed goes back into the store (and is checked with
	 * it), a record a kill left half done is repaired.
	 */
	if (objects && loan_verify_all(&f.store, bad_loan, &f) < 0)
		f.problems++;
	if (objects && loan_settle_all(&f.store, 0, &loans) < 0)
		f.problems++;
	if (objects)
		check_objects(&f);
	if (pointers) {
		for (i = 0; i < nrevs; i++)
			check_rev(&f, revs[i]);
		if (check_files)
			check_worktree(&f);
		check_missing(&f, remote);
	}

	/*
	 * Problems are reported whatever stderr is; the summary of a
	 * clean check, like git's progress, only on a terminal.
	 */
	if (!f.problems && !summary_wanted(0, -1))
		goto cleanup;
	if (loans.out) {
		human_size(loans.out_bytes, &hs);
		fprintf(stderr, "git-model: %zu object(s) lent to work trees "
				"(%s)\n", loans.out, hs.buf);
		strbuf_reset(&hs);
	}
	human_size(f.object_bytes, &hs);
	fprintf(stderr, "git-model: checked ");
	if (objects)
		fprintf(stderr, "%zu object(s) (%s)%s", f.objects, hs.buf,
			pointers ? " and " : "");
	if (pointers)
		fprintf(stderr, "%zu pointer(s) in %d revision(s)", f.pointers,
			nrevs);
	if (f.problems)
		fprintf(stderr, ": %zu problem(s)\n", f.problems);
	else
		fprintf(stderr, ": no problems\n");

cleanup:
	found_set_release(&f.missing);
	found_set_release(&f.local);
	store_release(&f.store);
	strbuf_release(&hs);
	free(revs);
	return f.problems ? 1 : 0;
}
