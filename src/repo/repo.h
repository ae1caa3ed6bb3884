#ifndef REPO_H
#define REPO_H

/*
 * The repository, through libgit2: where it is, where its store is, and
 * its configuration.
 *
 * repo_open() finds the repository the way git does for a command run here:
 * GIT_DIR, GIT_WORK_TREE and friends first, then discovery upwards from the
 * current directory. A filter started by git inherits git's environment, so
 * it sees the same repository as the git process that started it.
 *
 * Paths are absolute, without a trailing slash, owned by the struct.
 */

#include <git2.h>

#include "store.h"
#include "strbuf.h"

struct repo {
	git_repository *git;
	char *gitdir;    /* this worktree's git dir */
	char *commondir; /* shared by all worktrees: holds the store */
	char *workdir;   /* NULL in a bare repository */
	char *prefix;    /* cwd relative to workdir, "" or "sub/dir/" */
	/* Settings, loaded on first use by config.h; owned. */
	struct config_set *config;
};

#define REPO_INIT { .git = NULL }

/*
 * Open the repository of the current directory. Returns 0, or -1 when there
 * is none (not reported: the caller knows whether that is an error) or when
 * libgit2 fails (reported).
 */
int repo_open(struct repo *r);
void repo_release(struct repo *r);

/* <commondir>/model, the local store's directory. */
void repo_model_dir(const struct repo *r, struct strbuf *out);

/* The store of `repo` (in <commondir>/model), initialised in `s`. */
void repo_store(const struct repo *repo, struct store *s);

/*
 * Look up a value of git's own configuration (`git -c` and the files, with
 * git's precedence; never .gitmodel), from the settings config.h loads.
 * `r` may be NULL outside a repository. Returns 0 when found (value
 * appended to `out`), 1 when not set, -1 on error (reported).
 */
int repo_config_get(const struct repo *r, const char *key,
		    struct strbuf *out);

/* A walk over settings (config.h); non-zero stops it and is returned. */
typedef int (*config_fn)(const char *name, const char *value, void *data);

/*
 * The remote a command uses when none is named, as git push and git fetch
 * choose it: branch.<current branch>.remote, looked up as config.h does
 * (so `git -c` counts), else "origin". Appends the name to `out`; returns
 * 0, or -1 when the configuration cannot be read (reported).
 */
int repo_default_remote(const struct repo *r, struct strbuf *out);

/* Report the last libgit2 error with `what` as the subject. Returns -1. */
int git2_error(const char *what);

#endif
