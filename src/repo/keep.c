#include "keep.h"

#include <stdlib.h>
#include <string.h>

#include "pointer.h"
#include "scan.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct ctx {
	struct keep *k;
	const struct repo *r;
	git_oid *heads; /* commits the worktrees' HEADs name */
	size_t nr_heads, alloc_heads;
	int stash_err; /* a stash entry could not be read (reported) */
};

void keep_release(struct keep *k)
{
	oidset_release(&k->oids);
	oidset_release(&k->trees);
	oidset_release(&k->blobs);
	k->worktrees = k->indexes = k->stashes = k->recent_commits = 0;
}

int keep_has(const struct keep *k, const char *oid)
{
	return oidset_contains_hex(&k->oids, oid);
}

static int add_blob(struct ctx *c, const git_oid *id)
{
	struct pointer p = POINTER_INIT;
	int ret;

	if (!oidset_insert_git(&c->k->blobs, id))
		return 0;
	ret = blob_pointer(c->r, id, &p);
	if (ret > 0)
		oidset_insert_hex(&c->k->oids, p.oid);
	pointer_release(&p);
	return ret < 0 ? -1 : 0;
}

static int tree_cb(const char *path, const git_oid *id, void *data)
{
	(void)path;
	return add_blob(data, id);
}

static int add_tree(struct ctx *c, const git_oid *id)
{
	git_tree *tree = NULL;
	int ret = -1;

	if (!oidset_insert_git(&c->k->trees, id))
		return 0;
	if (git_tree_lookup(&tree, c->r->git, id) < 0) {
		git2_error("cannot read a tree");
		goto cleanup;
	}
	ret = tree_files(tree, &c->k->trees, tree_cb, c);
cleanup:
	git_tree_free(tree);
	return ret;
}

static int add_commit(struct ctx *c, const git_oid *id)
{
	git_commit *commit = NULL;
	int ret;

	if (git_commit_lookup(&commit, c->r->git, id) < 0)
		return git2_error("cannot read a commit");
	ret = add_tree(c, git_commit_tree_id(commit));
	git_commit_free(commit);
	return ret;
}

static int add_index(struct ctx *c, git_index *index)
{
	size_t i, n = git_index_entrycount(index);

	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);

		if ((e->mode == GIT_FILEMODE_BLOB ||
		     e->mode == GIT_FILEMODE_BLOB_EXECUTABLE) &&
		    add_blob(c, &e->id) < 0)
			return -1;
	}
	c->k->indexes++;
	return 0;
}

/* The HEAD and the index of the worktree whose git dir is `gitdir`. */
static int add_worktree(struct ctx *c, const char *gitdir)
{
	git_repository *wt = NULL;
	git_reference *head = NULL;
	git_object *commit = NULL;
	git_index *index = NULL;
	int err, ret = -1;

	if (git_repository_open_ext(&wt, gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		error("cannot open the worktree of '%s': %s", gitdir,
		      git_error_last() ? git_error_last()->message : "?");
		goto cleanup;
	}
	err = git_repository_head(&head, wt);
	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND) {
		git_error_clear(); /* no commit yet */
	} else if (err < 0 ||
		   git_reference_peel(&commit, head, GIT_OBJECT_COMMIT) < 0) {
		error("cannot read the HEAD of '%s': %s", gitdir,
		      git_error_last() ? git_error_last()->message : "?");
		goto cleanup;
	} else {
		ALLOC_GROW(c->heads, c->nr_heads + 1, c->alloc_heads);
		c->heads[c->nr_heads++] = *git_object_id(commit);
		if (add_tree(c, git_commit_tree_id((git_commit *)commit)) < 0)
			goto cleanup;
	}
	if (!git_repository_is_bare(wt)) {
		if (git_repository_index(&index, wt) < 0) {
			error("cannot read the index of '%s': %s", gitdir,
			      git_error_last() ? git_error_last()->message :
						 "?");
			goto cleanup;
		}
		if (add_index(c, index) < 0)
			goto cleanup;
	}
	c->k->worktrees++;
	ret = 0;
cleanup:
	git_index_free(index);
	git_object_free(commit);
	git_reference_free(head);
	git_repository_free(wt);
	return ret;
}

static int add_worktrees(struct ctx *c)
{
	git_strarray names = { NULL, 0 };
	git_index *index = NULL;
	struct strbuf gitdir = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (add_worktree(c, c->r->commondir) < 0)
		goto cleanup;
	if (git_worktree_list(&names, c->r->git) < 0) {
		git2_error("cannot list the worktrees");
		goto cleanup;
	}
	for (i = 0; i < names.count; i++) {
		const char *name = names.strings[i];

		if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, "..")) {
			error("strange worktree name '%s'", name);
			goto cleanup;
		}
		strbuf_reset(&gitdir);
		strbuf_addf(&gitdir, "%s/worktrees/%s", c->r->commondir, name);
		if (add_worktree(c, gitdir.buf) < 0)
			goto cleanup;
	}
	/* This process's own index too: GIT_INDEX_FILE may name another. */
	if (c->r->workdir) {
		if (git_repository_index(&index, c->r->git) < 0) {
			git2_error("cannot read the index");
			goto cleanup;
		}
		if (add_index(c, index) < 0)
			goto cleanup;
		c->k->indexes--; /* counted with its worktree already */
	}
	ret = 0;
cleanup:
	git_index_free(index);
	git_strarray_dispose(&names);
	strbuf_release(&gitdir);
	return ret;
}

/* A stash entry: its commit and every parent (base, index, untracked). */
static int add_stash_commit(struct ctx *c, const git_oid *id)
{
	git_commit *commit = NULL;
	unsigned i, n;
	int ret = -1;

	if (git_commit_lookup(&commit, c->r->git, id) < 0) {
		git2_error("cannot read a stash entry");
		goto cleanup;
	}
	if (add_tree(c, git_commit_tree_id(commit)) < 0)
		goto cleanup;
	n = git_commit_parentcount(commit);
	for (i = 0; i < n; i++)
		if (add_commit(c, git_commit_parent_id(commit, i)) < 0)
			goto cleanup;
	ret = 0;
cleanup:
	git_commit_free(commit);
	return ret;
}

static int stash_cb(size_t index, const char *message, const git_oid *id,
		    void *data)
{
	struct ctx *c = data;

	(void)index;
	(void)message;
	if (add_stash_commit(c, id) < 0) {
		c->stash_err = 1;
		return -1;
	}
	c->k->stashes++;
	return 0;
}

static int add_stashes(struct ctx *c)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int err, ret = -1;

	/* refs/stash itself, in case its reflog is gone */
	err = git_reference_lookup(&ref, c->r->git, "refs/stash");
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		ret = 0;
		goto cleanup;
	}
	if (err < 0 || git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
		git2_error("cannot read refs/stash");
		goto cleanup;
	}
	if (add_stash_commit(c, git_object_id(obj)) < 0)
		goto cleanup;
	/* then every entry of its reflog: stash@{0}, stash@{1}... */
	if (git_stash_foreach(c->r->git, stash_cb, c) < 0) {
		if (!c->stash_err)
			git2_error("cannot read the stash");
		goto cleanup;
	}
	if (!c->k->stashes)
		c->k->stashes = 1; /* no reflog: refs/stash alone */
	ret = 0;
cleanup:
	git_object_free(obj);
	git_reference_free(ref);
	return ret;
}

static int add_recent(struct ctx *c, long days, time_t now)
{
	git_revwalk *walk = NULL;
	git_time_t cutoff = (git_time_t)now - (git_time_t)days * 86400;
	git_oid id;
	size_t i;
	int err, ret = -1;

	if (git_revwalk_new(&walk, c->r->git) < 0 ||
	    git_revwalk_push_glob(walk, "refs/*") < 0) {
		git2_error("cannot walk history");
		goto cleanup;
	}
	for (i = 0; i < c->nr_heads; i++)
		if (git_revwalk_push(walk, &c->heads[i]) < 0) {
			git2_error("cannot walk history from a HEAD");
			goto cleanup;
		}
	while (!(err = git_revwalk_next(&id, walk))) {
		git_commit *commit = NULL;
		int bad = 0;

		if (git_commit_lookup(&commit, c->r->git, &id) < 0) {
			git2_error("cannot read a commit");
			goto cleanup;
		}
		if (git_commit_time(commit) > cutoff) {
			c->k->recent_commits++;
			bad = add_tree(c, git_commit_tree_id(commit)) < 0;
		}
		git_commit_free(commit);
		if (bad)
			goto cleanup;
	}
	if (err != GIT_ITEROVER) {
		git2_error("cannot walk history");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_revwalk_free(walk);
	return ret;
}

int keep_collect(struct keep *k, const struct repo *r, long recent_days,
		 time_t now)
{
	struct ctx c = { k, r, NULL, 0, 0, 0 };
	int ret = -1;

	if (add_worktrees(&c) < 0 || add_stashes(&c) < 0)
		goto cleanup;
	if (recent_days > 0 && add_recent(&c, recent_days, now) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(c.heads);
	return ret;
}
