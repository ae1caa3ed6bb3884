#include "scan.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lfs-pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static void found_release(struct found *f)
{
	free(f->path);
	free(f->url);
}

void found_set_release(struct found_set *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		found_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void found_add(struct found_set *s, const struct pointer *p,
		      const char *path)
{
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	memcpy(s->v[s->nr].oid, p->oid, sizeof(p->oid));
	s->v[s->nr].size = p->size;
	s->v[s->nr].path = xstrdup(path);
	s->v[s->nr].url = p->url ? xstrdup(p->url) : NULL;
	s->nr++;
}

static int by_oid(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(x->oid, y->oid);

	return c ? c : strcmp(x->path, y->path);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->path,
		      ((const struct found *)b)->path);
}

void found_set_finish(struct found_set *s)
{
	size_t i, j = 0;

	if (!s->nr)
		return; /* qsort() wants a valid pointer, even for nothing */

	qsort(s->v, s->nr, sizeof(*s->v), by_oid);
	for (i = 0; i < s->nr; i++) {
		if (j && !strcmp(s->v[j - 1].oid, s->v[i].oid)) {
			found_release(&s->v[i]);
			continue;
		}
		s->v[j++] = s->v[i];
	}
	s->nr = j;
	qsort(s->v, s->nr, sizeof(*s->v), by_path);
}

int blob_pointer(const struct repo *r, const git_oid *id, struct pointer *p)
{
	git_odb *odb = NULL;
	git_object_t type;
	git_blob *blob = NULL;
	size_t size;
	int ret = 0;

	if (git_repository_odb(&odb, r->git) < 0)
		return git2_error("cannot open the object database");
	if (git_odb_read_header(&size, &type, odb, id) < 0) {
		/* a missing blob (partial clone, shallow): not ours to judge */
		goto cleanup;
	}
	if (type != GIT_OBJECT_BLOB || size > POINTER_MAX || !size)
		goto cleanup;
	if (git_blob_lookup(&blob, r->git, id) < 0) {
		ret = git2_error("cannot read a blob");
		goto cleanup;
	}
	if (pointer_maybe(git_blob_rawcontent(blob), git_blob_rawsize(blob)) &&
	    !pointer_parse(p, git_blob_rawcontent(blob),
			   git_blob_rawsize(blob), NULL))
		ret = 1;
cleanup:
	git_blob_free(blob);
	git_odb_free(odb);
	return ret;
}

int blob_lfs_pointer(const struct repo *r, const git_oid *id)
{
	git_odb *odb = NULL;
	git_object_t type;
	git_blob *blob = NULL;
	char oid[OID_HEXSZ + 1];
	uint64_t lfs_size;
	size_t size;
	int ret = 0;

	if (git_repository_odb(&odb, r->git) < 0)
		return git2_error("cannot open the object database");
	if (git_odb_read_header(&size, &type, odb, id) < 0 ||
	    type != GIT_OBJECT_BLOB || size > LFS_POINTER_MAX || !size) {
		git_error_clear();
		goto cleanup;
	}
	if (git_blob_lookup(&blob, r->git, id) < 0) {
		ret = git2_error("cannot read a blob");
		goto cleanup;
	}
	ret = !lfs_pointer_parse(git_blob_rawcontent(blob),
				 git_blob_rawsize(blob), oid, &lfs_size);
cleanup:
	git_blob_free(blob);
	git_odb_free(odb);
	return ret;
}

struct tree_files_walk {
	struct oidset *seen;
	tree_file_fn fn;
	void *data;
	struct strbuf path;
	int err;
};

static int tree_files_cb(const char *root, const git_tree_entry *e,
			 void *data)
{
	struct tree_files_walk *w = data;
	git_filemode_t mode = git_tree_entry_filemode(e);

	if (mode == GIT_FILEMODE_TREE)
		/* a positive return skips the subtree */
		return w->seen &&
		       !oidset_insert_git(w->seen, git_tree_entry_id(e));
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	strbuf_reset(&w->path);
	strbuf_addf(&w->path, "%s%s", root, git_tree_entry_name(e));
	if (w->fn(w->path.buf, git_tree_entry_id(e), w->data) < 0) {
		w->err = -1;
		return -1;
	}
	return 0;
}

int tree_files(git_tree *tree, struct oidset *seen, tree_file_fn fn,
	       void *data)
{
	struct tree_files_walk w = { seen, fn, data, STRBUF_INIT, 0 };
	int ret = 0;

	if (git_tree_walk(tree, GIT_TREEWALK_PRE, tree_files_cb, &w) < 0 ||
	    w.err) {
		if (!w.err)
			git2_error("cannot walk a tree");
		ret = -1;
	}
	strbuf_release(&w.path);
	return ret;
}

struct tree_walk {
	const struct repo *r;
	struct found_set *out;
};

static int tree_cb(const char *path, const git_oid *id, void *data)
{
	struct tree_walk *w = data;
	struct pointer p = POINTER_INIT;
	int ret = blob_pointer(w->r, id, &p);

	if (ret > 0)
		found_add(w->out, &p, path);
	pointer_release(&p);
	return ret < 0 ? -1 : 0;
}

int scan_tree(const struct repo *r, const char *rev, struct found_set *out)
{
	git_object *obj = NULL;
	git_tree *tree = NULL;
	struct tree_walk w = { r, out };
	int ret = -1;

	if (git_revparse_single(&obj, r->git, rev) < 0) {
		error("'%s' is not a revision in this repository", rev);
		goto cleanup;
	}
	if (git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
		error("'%s' has no tree", rev);
		goto cleanup;
	}
	ret = tree_files(tree, NULL, tree_cb, &w);
cleanup:
	git_tree_free(tree);
	git_object_free(obj);
	return ret;
}

/* Pointers in `tree` that differ from `parent_tree` (NULL: empty tree). */
static int diff_pointers(const struct repo *r, git_tree *parent_tree,
			 git_tree *tree, struct found_set *out)
{
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	git_diff *diff = NULL;
	size_t i, n;
	int ret = -1;

	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_IGNORE_SUBMODULES;
	if (git_diff_tree_to_tree(&diff, r->git, parent_tree, tree, &opts) <
	    0) {
		git2_error("cannot diff commits");
		goto cleanup;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		struct pointer p = POINTER_INIT;
		int is;

		if (d->status == GIT_DELTA_DELETED ||
		    (d->new_file.mode != GIT_FILEMODE_BLOB &&
		     d->new_file.mode != GIT_FILEMODE_BLOB_EXECUTABLE))
			continue;
		is = blob_pointer(r, &d->new_file.id, &p);
		if (is < 0)
			goto cleanup;
		if (is)
			found_add(out, &p, d->new_file.path);
		pointer_release(&p);
	}
	ret = 0;
cleanup:
	git_diff_free(diff);
	return ret;
}

/* Keep the entries of `a` that are in `b` too (same path and oid). */
static void intersect(struct found_set *a, const struct found_set *b)
{
	size_t i, j, k = 0;

	for (i = 0; i < a->nr; i++) {
		for (j = 0; j < b->nr; j++)
			if (!strcmp(a->v[i].oid, b->v[j].oid) &&
			    !strcmp(a->v[i].path, b->v[j].path))
				break;
		if (j < b->nr)
			a->v[k++] = a->v[i];
		else
			found_release(&a->v[i]);
	}
	a->nr = k;
}

static int commit_pointers(const struct repo *r, git_commit *c,
			   struct found_set *out)
{
	struct found_set mine = FOUND_SET_INIT, other = FOUND_SET_INIT;
	git_tree *tree = NULL, *ptree = NULL;
	unsigned i, np = git_commit_parentcount(c);
	int ret = -1;

	if (git_commit_tree(&tree, c) < 0) {
		git2_error("cannot read a commit's tree");
		goto cleanup;
	}
	for (i = 0; i < (np ? np : 1); i++) {
		git_commit *parent = NULL;
		struct found_set *into = i ? &other : &mine;

		if (np) {
			if (git_commit_parent(&parent, c, i) < 0 ||
			    git_commit_tree(&ptree, parent) < 0) {
				git_commit_free(parent);
				git2_error("cannot read a parent commit");
				goto cleanup;
			}
			git_commit_free(parent);
		}
		found_set_release(&other);
		if (diff_pointers(r, ptree, tree, into) < 0)
			goto cleanup;
		git_tree_free(ptree);
		ptree = NULL;
		if (i) {
			/* what differs from each parent, one at a time */
			intersect(&mine, &other);
			found_set_release(&other);
		}
	}
	for (i = 0; i < mine.nr; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = mine.v[i];
	}
	mine.nr = 0;
	ret = 0;
cleanup:
	found_set_release(&mine);
	found_set_release(&other);
	git_tree_free(tree);
	git_tree_free(ptree);
	return ret;
}

/*
 * The pointers that the commits of `walk` add, for commits whose committer
 * date is after `since` (0: every commit); with `since`, the walk must be
 * sorted by time, and stops at the first older commit.
 */
static int walk_added(const struct repo *r, git_revwalk *walk,
		      git_time_t since, struct found_set *out)
{
	git_oid id;
	int err;

	while (!(err = git_revwalk_next(&id, walk))) {
		git_commit *c = NULL;
		int bad, old;

		if (git_commit_lookup(&c, r->git, &id) < 0)
			return git2_error("cannot read a commit");
		old = since && git_commit_time(c) <= since;
		bad = !old && commit_pointers(r, c, out) < 0;
		git_commit_free(c);
		if (bad)
			return -1;
		if (old)
			break;
	}
	if (err && err != GIT_ITEROVER)
		return git2_error("cannot walk history");
	found_set_finish(out);
	return 0;
}

int scan_added(const struct repo *r, const git_oid *want, size_t nwant,
	       const git_oid *have, size_t nhave, const char *hide_glob,
	       struct found_set *out)
{
	git_revwalk *walk = NULL;
	size_t i;
	int ret = -1;

	if (git_revwalk_new(&walk, r->git) < 0) {
		git2_error("cannot walk history");
		goto cleanup;
	}
	for (i = 0; i < nwant; i++)
		if (git_revwalk_push(walk, &want[i]) < 0) {
			git2_error("cannot walk from a pushed commit");
			goto cleanup;
		}
	/* What the remote has may be unknown here: then it hides nothing. */
	for (i = 0; i < nhave; i++)
		git_revwalk_hide(walk, &have[i]);
	if (hide_glob)
		git_revwalk_hide_glob(walk, hide_glob);
	git_error_clear();
	ret = walk_added(r, walk, 0, out);
cleanup:
	git_revwalk_free(walk);
	return ret;
}

int scan_refs_added(const struct repo *r, git_time_t since,
		    struct found_set *out)
{
	git_revwalk *walk = NULL;
	int ret = -1;

	if (git_revwalk_new(&walk, r->git) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
	    git_revwalk_push_glob(walk, "refs/*") < 0) {
		git2_error("cannot walk history");
		goto cleanup;
	}
	/* A detached HEAD counts; an unborn one has nothing to list. */
	if (git_revwalk_push_head(walk) < 0)
		git_error_clear();
	ret = walk_added(r, walk, since, out);
cleanup:
	git_revwalk_free(walk);
	return ret;
}

int scan_each_ref_commit(const struct repo *r, unsigned flags,
			 int (*fn)(git_commit *commit, void *data), void *data)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	int err, ret = 0;

	if (git_reference_iterator_glob_new(&it, r->git, "refs/*") < 0)
		return git2_error("cannot list refs");
	while (!ret && !(err = git_reference_next(&ref, it))) {
		const char *name = git_reference_name(ref);
		git_object *obj = NULL;

		if (!(flags & SCAN_REFS_BRANCHES_TAGS) ||
		    !strncmp(name, "refs/heads/", 11) ||
		    !strncmp(name, "refs/tags/", 10)) {
			err = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
			if (!err)
				ret = fn((git_commit *)obj, data);
			else if (err != GIT_EPEEL && err != GIT_EINVALIDSPEC)
				ret = error("cannot read '%s': %s", name,
					    git_error_last() ?
						    git_error_last()->message :
						    "unknown error");
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	if (!ret && err != GIT_ITEROVER)
		ret = git2_error("cannot list refs");
	git_reference_iterator_free(it);
	git_error_clear();
	return ret;
}

struct recent_refs {
	const struct repo *r;
	git_time_t since;
	struct found_set *out;
};

static int add_recent_tree(git_commit *commit, void *data)
{
	struct recent_refs *rr = data;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_commit_time(commit) <= rr->since)
		return 0;
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	return scan_tree(rr->r, hex, rr->out);
}

int scan_recent_refs(const struct repo *r, git_time_t since,
		     struct found_set *out)
{
	struct recent_refs rr = { r, since, out };

	return scan_each_ref_commit(r, 0, add_recent_tree, &rr);
}

int file_holds_pointer(int dir, const char *name, const struct pointer *p,
		       struct stat *st)
{
	struct strbuf buf = STRBUF_INIT;
	struct pointer held = POINTER_INIT;
	struct stat own;
	int fd, ret = 0;

	if (!st)
		st = &own;
	if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st->st_mode) || st->st_size > POINTER_MAX)
		return 0;
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

int worktree_pointers(const struct repo *r, worktree_pointer_fn fn,
		      void *data)
{
	git_index *index = NULL;
	struct strbuf file = STRBUF_INIT;
	size_t i, n;
	int ret = 0;

	if (git_repository_index(&index, r->git) < 0)
		return git2_error("cannot read the index");
	n = git_index_entrycount(index);
	for (i = 0; i < n && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		struct pointer p = POINTER_INIT;

		if (git_index_entry_stage(e) || !S_ISREG(e->mode) ||
		    blob_pointer(r, &e->id, &p) <= 0)
			continue;
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/%s", r->workdir, e->path);
		if (file_holds_pointer(AT_FDCWD, file.buf, &p, NULL))
			ret = fn(e->path, &p, data);
		pointer_release(&p);
	}
	git_index_free(index);
	strbuf_release(&file);
	return ret;
}
