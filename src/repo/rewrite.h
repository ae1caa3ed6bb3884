#ifndef REWRITE_H
#define REWRITE_H

/*
 * Rewriting history through libgit2's object writes (git_treebuilder,
 * git_commit_create), for git model migrate: every commit reachable from
 * a set of refs gets new trees where a callback says a blob changes, and
 * new parents where its parents changed; then the refs move, once, at the
 * end.
 *
 *	struct rewrite rw = REWRITE_INIT;
 *	rewrite_init(&rw, git, &ops, dry_run);
 *	rewrite_add_ref(&rw, "refs/heads/main"); ...
 *	rewrite_run(&rw);            new objects; no ref has moved yet
 *	rewrite_update_refs(&rw, "git model migrate import");
 *	rewrite_release(&rw);
 *
 * Work is linear in the size of the history: each commit is visited once
 * (parents first), and a tree is rewritten once per (tree id, path), or
 * once per tree id when the callbacks do not look at paths; the callbacks
 * memoize their own work per blob. A commit whose tree and parents come
 * out the same keeps its id (and its signature); a rewritten one keeps
 * its author, committer, encoding and message byte for byte, and loses a
 * signature (it would no longer match). An annotated tag on a rewritten
 * commit gets a new tag object with the same name, tagger and message.
 *
 * Dry run: the new objects go to an in-memory object database (libgit2's
 * mempack) that is dropped at release, so nothing is written to the
 * repository; the callbacks are told, and rewrite_update_refs() refuses.
 *
 * Not thread-safe: one rewrite per repository at a time, one thread.
 */

#include <stddef.h>

#include <git2.h>

#include "strbuf.h"

/*
 * A map from git object ids, optionally with a path, to git object ids:
 * what a rewrite has done already. OID_MEMO_INIT is empty and valid;
 * oid_memo_release() empties it (releasing twice is harmless).
 */
struct oid_memo {
	struct oid_memo_entry *v;
	size_t nr, alloc; /* alloc: 0 or a power of two */
};

#define OID_MEMO_INIT { .v = NULL, .nr = 0, .alloc = 0 }

/* 1 and the value in `out` when (`key`, `path`) is there, else 0. */
int oid_memo_get(const struct oid_memo *m, const git_oid *key,
		 const char *path, git_oid *out);
/* Set (`key`, `path`) to `val`; `path` (may be NULL) is copied. */
void oid_memo_put(struct oid_memo *m, const git_oid *key, const char *path,
		  const git_oid *val);
void oid_memo_release(struct oid_memo *m);

struct rewrite_ops {
	/*
	 * A regular or executable file's blob `id` at `path` (from the top
	 * of the tree, '/'-separated; `name` is its last component): put
	 * into `out` the blob that takes its place (`id` itself to keep
	 * it). 0, or -1 (reported) to stop the rewrite.
	 */
	int (*blob)(void *data, const char *path, const char *name,
		    const git_oid *id, git_oid *out);
	/*
	 * Optional: the top tree of each commit after its entries were
	 * rewritten, to insert or replace entries (a .gitattributes).
	 * `tree` is the original top tree. 0 or -1 (reported).
	 */
	int (*top)(void *data, const git_tree *tree, git_treebuilder *tb);
	/*
	 * Whether blob() looks at `path` beyond `name`. If it does, trees
	 * are memoized by id and path; if not, by id alone.
	 */
	int by_path;
	void *data;
};

struct rewrite_ref {
	char *name;   /* full ref name, owned */
	git_oid old;  /* its target: a commit, or an annotated tag */
	git_oid tip;  /* the commit it peels to */
	git_oid new;  /* its new target, after rewrite_run() */
	int is_tag;   /* an annotated tag: `old` is the tag object */
};

struct rewrite {
	git_repository *git;
	const struct rewrite_ops *ops;
	int dry_run;
	git_odb_backend *mempack; /* dry run: where new objects go */
	struct rewrite_ref *refs;
	size_t refs_nr, refs_alloc;
	struct oid_memo trees, commits;
	size_t commits_nr;       /* visited by rewrite_run() */
	size_t commits_changed;  /* of which got new ids */
	char *backup;            /* "refs/model/migrate/<n>", after update */
};

#define REWRITE_INIT { .git = NULL, .refs = NULL, .backup = NULL }

/*
 * Prepare to rewrite with `ops` (kept by pointer, not copied). With
 * `dry_run`, new objects stay in memory. 0 or -1 (reported).
 */
int rewrite_init(struct rewrite *rw, git_repository *git,
		 const struct rewrite_ops *ops, int dry_run);

/*
 * Rewrite the ref `name` (a full name, "refs/heads/main"), which must
 * point at a commit or at an annotated tag of a commit. Adding one twice
 * is harmless. 0 or -1 (reported).
 */
int rewrite_add_ref(struct rewrite *rw, const char *name);

/*
 * Every local branch and tag (refs/heads/, refs/tags/); a tag of
 * something else than a commit is left out, with a warning.
 */
int rewrite_add_everything(struct rewrite *rw);

/*
 * Rewrite the history of the refs: write the new trees, commits and tag
 * objects (in memory in a dry run) and set each ref's `new`. No ref
 * moves. 0 or -1 (reported).
 */
int rewrite_run(struct rewrite *rw);

/* Does ref `i` get a new target? */
int rewrite_ref_changed(const struct rewrite *rw, size_t i);

/*
 * Move the refs that changed, each only if it still points where it did
 * (else -1, reported, and the refs already moved stay moved, their old
 * targets kept). Before the first moves, every changed ref's old target
 * is kept as refs/model/migrate/<n>/<full ref name>, with the smallest
 * <n> from 1 that is not in use yet (set in `backup`). `msg` goes to the
 * reflogs. 0 or -1 (reported).
 */
int rewrite_update_refs(struct rewrite *rw, const char *msg);

/*
 * The new id of a commit that rewrite_run() visited, into `out`. 0, or
 * -1 when it was not visited.
 */
int rewrite_commit_map(const struct rewrite *rw, const git_oid *old,
		       git_oid *out);

void rewrite_release(struct rewrite *rw);

#endif
