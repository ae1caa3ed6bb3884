#include "rewrite.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "repo.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/*
 * The memo: old id (and, for trees rewritten by path, the path) to new id.
 * Open addressing; ids are uniform already, so their first bytes hash.
 */
struct oid_memo_entry {
	git_oid key;
	char *path; /* owned; NULL when keyed by id alone */
	git_oid val;
	int used;
};

static uint64_t memo_hash(const git_oid *key, const char *path)
{
	uint64_t h;

	memcpy(&h, key->id, sizeof(h));
	if (path) {
		/* FNV-1a over the path, mixed in */
		uint64_t f = 1469598103934665603ULL;

		for (; *path; path++)
			f = (f ^ (unsigned char)*path) * 1099511628211ULL;
		h ^= f + 1;
	}
	return h;
}

static int memo_same(const struct oid_memo_entry *e, const git_oid *key,
		     const char *path)
{
	if (!git_oid_equal(&e->key, key))
		return 0;
	if (!e->path || !path)
		return !e->path && !path;
	return !strcmp(e->path, path);
}

static struct oid_memo_entry *memo_slot(const struct oid_memo *m,
					const git_oid *key, const char *path)
{
	size_t mask = m->alloc - 1, i = memo_hash(key, path) & mask;

	while (m->v[i].used && !memo_same(&m->v[i], key, path))
		i = (i + 1) & mask;
	return &m->v[i];
}

int oid_memo_get(const struct oid_memo *m, const git_oid *key,
		 const char *path, git_oid *out)
{
	struct oid_memo_entry *e;

	if (!m->alloc)
		return 0;
	e = memo_slot(m, key, path);
	if (!e->used)
		return 0;
	git_oid_cpy(out, &e->val);
	return 1;
}

void oid_memo_put(struct oid_memo *m, const git_oid *key, const char *path,
		  const git_oid *val)
{
	struct oid_memo_entry *e;

	if ((m->nr + 1) * 2 > m->alloc) {
		struct oid_memo old = *m;
		size_t i;

		m->alloc = old.alloc ? old.alloc * 2 : 1024;
		m->v = xcalloc(m->alloc, sizeof(*m->v));
		for (i = 0; i < old.alloc; i++)
			if (old.v[i].used)
				*memo_slot(m, &old.v[i].key, old.v[i].path) =
					old.v[i];
		free(old.v);
	}
	e = memo_slot(m, key, path);
	if (!e->used) {
		e->used = 1;
		git_oid_cpy(&e->key, key);
		e->path = path ? xstrdup(path) : NULL;
		m->nr++;
	}
	git_oid_cpy(&e->val, val);
}

void oid_memo_release(struct oid_memo *m)
{
	size_t i;

	for (i = 0; i < m->alloc; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->nr = m->alloc = 0;
}

int rewrite_init(struct rewrite *rw, git_repository *git,
		 const struct rewrite_ops *ops, int dry_run)
{
	git_odb *odb = NULL;
	int ret = 0;

	memset(rw, 0, sizeof(*rw));
	rw->git = git;
	rw->ops = ops;
	rw->dry_run = dry_run;
	if (!dry_run)
		return 0;
	/*
	 * Before every other backend, so every write lands here; the
	 * object database owns it from now on (it is emptied at release).
	 */
	if (git_repository_odb(&odb, git) < 0 ||
	    git_mempack_new(&rw->mempack) < 0)
		ret = git2_error("cannot set up an in-memory object database");
	else if (git_odb_add_backend(odb, rw->mempack, 1000) < 0) {
		rw->mempack->free(rw->mempack);
		rw->mempack = NULL;
		ret = git2_error("cannot set up an in-memory object database");
	}
	git_odb_free(odb);
	return ret;
}

static struct rewrite_ref *find_ref(struct rewrite *rw, const char *name)
{
	size_t i;

	for (i = 0; i < rw->refs_nr; i++)
		if (!strcmp(rw->refs[i].name, name))
			return &rw->refs[i];
	return NULL;
}

/*
 * 0 when added, 1 when `name` does not point (through at most one tag)
 * at a commit, with the reason in `why`; -1 on error (reported).
 */
static int add_ref(struct rewrite *rw, const char *name, struct strbuf *why)
{
	git_reference *ref = NULL, *resolved = NULL;
	git_object *obj = NULL, *target = NULL;
	struct rewrite_ref r;
	int ret = -1;

	if (find_ref(rw, name))
		return 0;
	memset(&r, 0, sizeof(r));
	if (git_reference_lookup(&ref, rw->git, name) < 0 ||
	    git_reference_resolve(&resolved, ref) < 0) {
		ret = git2_error(name);
		goto cleanup;
	}
	git_oid_cpy(&r.old, git_reference_target(resolved));
	if (git_object_lookup(&obj, rw->git, &r.old, GIT_OBJECT_ANY) < 0) {
		ret = git2_error(name);
		goto cleanup;
	}
	if (git_object_type(obj) == GIT_OBJECT_TAG) {
		r.is_tag = 1;
		if (git_tag_target(&target, (git_tag *)obj) < 0) {
			ret = git2_error(name);
			goto cleanup;
		}
		if (git_object_type(target) != GIT_OBJECT_COMMIT) {
			strbuf_addf(why, "'%s' is a tag of a %s, not of a "
				    "commit", name,
				    git_object_type2string(
					    git_object_type(target)));
			ret = 1;
			goto cleanup;
		}
		git_oid_cpy(&r.tip, git_object_id(target));
	} else if (git_object_type(obj) == GIT_OBJECT_COMMIT) {
		git_oid_cpy(&r.tip, &r.old);
	} else {
		strbuf_addf(why, "'%s' points at a %s, not at a commit", name,
			    git_object_type2string(git_object_type(obj)));
		ret = 1;
		goto cleanup;
	}
	git_oid_cpy(&r.new, &r.old);
	r.name = xstrdup(git_reference_name(resolved));
	if (!find_ref(rw, r.name)) {
		ALLOC_GROW(rw->refs, rw->refs_nr + 1, rw->refs_alloc);
		rw->refs[rw->refs_nr++] = r;
	} else {
		free(r.name);
	}
	ret = 0;
cleanup:
	git_object_free(target);
	git_object_free(obj);
	git_reference_free(resolved);
	git_reference_free(ref);
	return ret;
}

int rewrite_add_ref(struct rewrite *rw, const char *name)
{
	struct strbuf why = STRBUF_INIT;
	int ret = add_ref(rw, name, &why);

	if (ret > 0)
		ret = error("%s", why.buf);
	strbuf_release(&why);
	return ret;
}

int rewrite_add_everything(struct rewrite *rw)
{
	static const char *const globs[] = { "refs/heads/*", "refs/tags/*" };
	struct strbuf why = STRBUF_INIT;
	size_t g;
	int ret = 0;

	for (g = 0; !ret && g < ARRAY_SIZE(globs); g++) {
		git_reference_iterator *it = NULL;
		git_reference *ref;

		if (git_reference_iterator_glob_new(&it, rw->git, globs[g]) < 0)
			return git2_error("cannot list the refs");
		while (!ret && !git_reference_next(&ref, it)) {
			if (git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
				strbuf_reset(&why);
				ret = add_ref(rw, git_reference_name(ref), &why);
				if (ret > 0) {
					warning("%s: left alone", why.buf);
					ret = 0;
				}
			}
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	strbuf_release(&why);
	return ret;
}

static int is_file_mode(git_filemode_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/*
 * The tree `id` at `path` ("" at the top, else "dir/sub/") rewritten into
 * `out`. `path` is restored before returning.
 */
static int rewrite_tree(struct rewrite *rw, const git_oid *id,
			struct strbuf *path, int top, git_oid *out)
{
	const struct rewrite_ops *ops = rw->ops;
	/* By id alone, the top tree still differs: top() edits it. */
	const char *key = ops->by_path ? path->buf : top ? "" : NULL;
	git_tree *tree = NULL;
	git_treebuilder *tb = NULL;
	size_t i, n, len = path->len;
	int changed = 0, ret = -1;

	if (oid_memo_get(&rw->trees, id, key, out))
		return 0;
	if (git_tree_lookup(&tree, rw->git, id) < 0 ||
	    git_treebuilder_new(&tb, rw->git, tree) < 0) {
		git2_error("cannot read a tree");
		goto cleanup;
	}
	n = git_tree_entrycount(tree);
	for (i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode(e);
		git_oid new;
		int r = 0;

		strbuf_setlen(path, len);
		strbuf_addstr(path, name);
		if (mode == GIT_FILEMODE_TREE) {
			strbuf_addch(path, '/');
			r = rewrite_tree(rw, git_tree_entry_id(e), path, 0,
					 &new);
		} else if (is_file_mode(mode)) {
			r = ops->blob(ops->data, path->buf, name,
				      git_tree_entry_id(e), &new);
		} else {
			continue; /* symlinks, submodules */
		}
		if (r < 0)
			goto cleanup;
		if (git_oid_equal(&new, git_tree_entry_id(e)))
			continue;
		if (git_treebuilder_insert(NULL, tb, name, &new, mode) < 0) {
			git2_error("cannot build a tree");
			goto cleanup;
		}
		changed = 1;
	}
	strbuf_setlen(path, len);
	if (top && ops->top) {
		if (ops->top(ops->data, tree, tb) < 0)
			goto cleanup;
		changed = 1;
	}
	if (!changed)
		git_oid_cpy(out, id);
	else if (git_treebuilder_write(out, tb) < 0) {
		git2_error("cannot write a tree");
		goto cleanup;
	}
	oid_memo_put(&rw->trees, id, key, out);
	ret = 0;
cleanup:
	strbuf_setlen(path, len);
	git_treebuilder_free(tb);
	git_tree_free(tree);
	return ret;
}

static int rewrite_commit(struct rewrite *rw, const git_oid *id,
			  struct strbuf *path)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	const git_commit **parents = NULL;
	git_oid new_tree, new;
	size_t i, n;
	int changed, ret = -1;

	if (git_commit_lookup(&c, rw->git, id) < 0)
		return git2_error("cannot read a commit");
	strbuf_reset(path);
	if (rewrite_tree(rw, git_commit_tree_id(c), path, 1, &new_tree) < 0)
		goto cleanup;
	changed = !git_oid_equal(&new_tree, git_commit_tree_id(c));
	n = git_commit_parentcount(c);
	parents = xcalloc(n + 1, sizeof(*parents));
	for (i = 0; i < n; i++) {
		git_oid p;

		/* A parent outside the walk (a shallow clone's) stays. */
		if (!oid_memo_get(&rw->commits, git_commit_parent_id(c, i), NULL,
			      &p))
			git_oid_cpy(&p, git_commit_parent_id(c, i));
		if (!git_oid_equal(&p, git_commit_parent_id(c, i)))
			changed = 1;
		if (git_commit_lookup((git_commit **)&parents[i], rw->git,
				      &p) < 0) {
			git2_error("cannot read a parent commit");
			goto cleanup;
		}
	}
	if (!changed) {
		git_oid_cpy(&new, id);
	} else {
		if (git_tree_lookup(&tree, rw->git, &new_tree) < 0 ||
		    git_commit_create(&new, rw->git, NULL,
				      git_commit_author(c),
				      git_commit_committer(c),
				      git_commit_message_encoding(c),
				      git_commit_message_raw(c), tree, n,
				      parents) < 0) {
			git2_error("cannot write a commit");
			goto cleanup;
		}
		rw->commits_changed++;
	}
	oid_memo_put(&rw->commits, id, NULL, &new);
	rw->commits_nr++;
	ret = 0;
cleanup:
	for (i = 0; parents && i < n; i++)
		git_commit_free((git_commit *)parents[i]);
	free(parents);
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

/* The length of a tag message without its signature, if it has one. */
static size_t unsigned_len(const char *msg)
{
	static const char *const starts[] = {
		"-----BEGIN PGP SIGNATURE-----",
		"-----BEGIN SSH SIGNATURE-----",
		"-----BEGIN SIGNED MESSAGE-----",
	};
	size_t i, len = strlen(msg);

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		const char *p = strstr(msg, starts[i]);

		if (p && (p == msg || p[-1] == '\n') && (size_t)(p - msg) < len)
			len = p - msg;
	}
	return len;
}

/* A new annotated tag like `r`'s, on `commit`. */
static int retag(struct rewrite *rw, struct rewrite_ref *r,
		 const git_oid *commit)
{
	git_tag *tag = NULL;
	git_object *target = NULL;
	git_commit *c = NULL;
	const git_signature *tagger;
	char *msg = NULL;
	int ret = -1;

	if (git_tag_lookup(&tag, rw->git, &r->old) < 0 ||
	    git_object_lookup(&target, rw->git, commit, GIT_OBJECT_COMMIT) < 0 ||
	    git_commit_lookup(&c, rw->git, commit) < 0) {
		git2_error(r->name);
		goto cleanup;
	}
	tagger = git_tag_tagger(tag);
	if (!tagger)
		tagger = git_commit_committer(c);
	msg = xstrndup(git_tag_message(tag), unsigned_len(git_tag_message(tag)));
	if (git_tag_annotation_create(&r->new, rw->git, git_tag_name(tag),
				      target, tagger, msg) < 0) {
		git2_error(r->name);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(msg);
	git_commit_free(c);
	git_object_free(target);
	git_tag_free(tag);
	return ret;
}

int rewrite_run(struct rewrite *rw)
{
	git_revwalk *walk = NULL;
	struct strbuf path = STRBUF_INIT;
	git_oid id;
	size_t i;
	int r, ret = -1;

	if (git_revwalk_new(&walk, rw->git) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL |
				      GIT_SORT_REVERSE) < 0) {
		git2_error("cannot walk the history");
		goto cleanup;
	}
	for (i = 0; i < rw->refs_nr; i++)
		if (git_revwalk_push(walk, &rw->refs[i].tip) < 0) {
			git2_error(rw->refs[i].name);
			goto cleanup;
		}
	while (!(r = git_revwalk_next(&id, walk)))
		if (rewrite_commit(rw, &id, &path) < 0)
			goto cleanup;
	if (r != GIT_ITEROVER) {
		git2_error("cannot walk the history");
		goto cleanup;
	}
	for (i = 0; i < rw->refs_nr; i++) {
		struct rewrite_ref *ref = &rw->refs[i];
		git_oid tip;

		if (oid_memo_get(&rw->commits, &ref->tip, NULL, &tip) != 1)
			BUG("commit of '%s' not walked", ref->name);
		if (git_oid_equal(&tip, &ref->tip))
			git_oid_cpy(&ref->new, &ref->old);
		else if (!ref->is_tag)
			git_oid_cpy(&ref->new, &tip);
		else if (retag(rw, ref, &tip) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	strbuf_release(&path);
	git_revwalk_free(walk);
	return ret;
}

int rewrite_ref_changed(const struct rewrite *rw, size_t i)
{
	return !git_oid_equal(&rw->refs[i].old, &rw->refs[i].new);
}

int rewrite_commit_map(const struct rewrite *rw, const git_oid *old,
		       git_oid *out)
{
	return oid_memo_get(&rw->commits, old, NULL, out) ? 0 : -1;
}

/* Is anything under `prefix` ("refs/model/migrate/1/")? 1, 0 or -1. */
static int refs_under(git_repository *git, const char *prefix)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	struct strbuf glob = STRBUF_INIT;
	int ret;

	strbuf_addf(&glob, "%s*", prefix);
	if (git_reference_iterator_glob_new(&it, git, glob.buf) < 0) {
		strbuf_release(&glob);
		return git2_error("cannot list the refs");
	}
	ret = !git_reference_next(&ref, it);
	if (ret)
		git_reference_free(ref);
	git_reference_iterator_free(it);
	strbuf_release(&glob);
	return ret;
}

int rewrite_update_refs(struct rewrite *rw, const char *msg)
{
	struct strbuf name = STRBUF_INIT;
	unsigned n;
	size_t i;
	int ret = -1;

	if (rw->dry_run)
		BUG("rewrite_update_refs() in a dry run");
	for (n = 1;; n++) {
		int r;

		strbuf_reset(&name);
		strbuf_addf(&name, "refs/model/migrate/%u/", n);
		r = refs_under(rw->git, name.buf);
		if (r < 0)
			goto cleanup;
		if (!r)
			break;
	}
	strbuf_setlen(&name, name.len - 1);
	rw->backup = strbuf_detach(&name, NULL);
	for (i = 0; i < rw->refs_nr; i++) {
		git_reference *ref = NULL;

		if (!rewrite_ref_changed(rw, i))
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "%s/%s", rw->backup, rw->refs[i].name);
		if (git_reference_create(&ref, rw->git, name.buf,
					 &rw->refs[i].old, 0, msg) < 0) {
			git2_error(name.buf);
			goto cleanup;
		}
		git_reference_free(ref);
	}
	for (i = 0; i < rw->refs_nr; i++) {
		git_reference *ref = NULL;

		if (!rewrite_ref_changed(rw, i))
			continue;
		if (git_reference_create_matching(&ref, rw->git,
						  rw->refs[i].name,
						  &rw->refs[i].new, 1,
						  &rw->refs[i].old, msg) < 0) {
			git2_error(rw->refs[i].name);
			goto cleanup;
		}
		git_reference_free(ref);
	}
	ret = 0;
cleanup:
	strbuf_release(&name);
	return ret;
}

void rewrite_release(struct rewrite *rw)
{
	size_t i;

	for (i = 0; i < rw->refs_nr; i++)
		free(rw->refs[i].name);
	free(rw->refs);
	rw->refs = NULL;
	rw->refs_nr = rw->refs_alloc = 0;
	oid_memo_release(&rw->trees);
	oid_memo_release(&rw->commits);
	if (rw->mempack)
		git_mempack_reset(rw->mempack);
	rw->mempack = NULL;
	free(rw->backup);
	rw->backup = NULL;
}
