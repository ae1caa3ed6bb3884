#include "repo.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

int git2_error(const char *what)
{
	const git_error *e = git_error_last();

	return error("%s: %s", what, e && e->message ? e->message :
							 "unknown libgit2 error");
}

static char *dup_path(const char *p)
{
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		len--;
	return xstrndup(p, len);
}

static char *compute_prefix(const char *workdir)
{
	char cwd[PATH_MAX];
	char *real_wd;
	size_t len;
	char *prefix = NULL;

	if (!getcwd(cwd, sizeof(cwd)))
		return xstrdup("");
	real_wd = realpath(workdir, NULL);
	if (!real_wd)
		return xstrdup("");
	len = strlen(real_wd);
	if (!strncmp(cwd, real_wd, len) && cwd[len] == '/') {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, cwd + len + 1);
		strbuf_addch(&sb, '/');
		prefix = strbuf_detach(&sb, NULL);
	}
	free(real_wd);
	return prefix ? prefix : xstrdup("");
}

/* Does `repo`'s config set core.worktree? */
static int has_core_worktree(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	int set;

	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		git_error_clear();
		return 0;
	}
	set = !git_config_get_string_buf(&v, cfg, "core.worktree");
	git_error_clear();
	git_buf_dispose(&v);
	git_config_free(cfg);
	return set;
}

/* Is `dir` (no trailing slash) the work tree libgit2 gave `repo`? */
static int same_workdir(git_repository *repo, const char *dir)
{
	const char *wd = git_repository_workdir(repo);
	size_t len = strlen(dir);

	return wd && !strncmp(wd, dir, len) &&
	       (!strcmp(wd + len, "/") || !wd[len]);
}

/*
 * libgit2 1.5 refuses GIT_WORK_TREE ("unimplemented"), which git sets for
 * the commands it runs in `git worktree add` and users set by hand: open
 * the repository without it, then give it that work tree. With GIT_DIR
 * and neither GIT_WORK_TREE nor core.worktree, the work tree is the
 * current directory, as for git (git-config(1), core.worktree): libgit2
 * would take the git dir's parent, which for a clone made with
 * --separate-git-dir is not the work tree (git runs its hooks so).
 */
static int open_from_env(git_repository **repo)
{
	const char *env = getenv("GIT_WORK_TREE"), *gitdir = getenv("GIT_DIR");
	char *worktree = NULL, *saved = NULL;
	int err;

	if (env && *env) {
		worktree = realpath(env, NULL);
		if (!worktree)
			return error_errno("GIT_WORK_TREE '%s'", env);
		saved = xstrdup(env);
		unsetenv("GIT_WORK_TREE");
	}
	err = git_repository_open_ext(repo, NULL,
				      GIT_REPOSITORY_OPEN_FROM_ENV, NULL);
	if (saved)
		setenv("GIT_WORK_TREE", saved, 1);
	if (!err && !worktree && gitdir && *gitdir &&
	    !git_repository_is_bare(*repo) && !has_core_worktree(*repo)) {
		worktree = realpath(".", NULL);
		if (!worktree) {
			git_repository_free(*repo);
			*repo = NULL;
			return error_errno("cannot resolve the current directory");
		}
	}
	/*
	 * libgit2 1.5's set_workdir() leaks its path when the work tree is
	 * already the one it has: call it only for a different one.
	 */
	if (!err && worktree && same_workdir(*repo, worktree)) {
		free(worktree);
		worktree = NULL;
	}
	if (!err && worktree &&
	    git_repository_set_workdir(*repo, worktree, 0) < 0) {
		git_repository_free(*repo);
		*repo = NULL;
		err = -1;
	}
	free(worktree);
	free(saved);
	return err;
}

int repo_open(struct repo *r)
{
	int err;
	const char *wd;

	memset(r, 0, sizeof(*r));
	err = open_from_env(&r->git);
	if (err == GIT_ENOTFOUND) {
		r->git = NULL;
		return -1;
	}
	if (err < 0)
		return git2_error("cannot open the repository");
	r->gitdir = dup_path(git_repository_path(r->git));
	r->commondir = dup_path(git_repository_commondir(r->git));
	r->config = config_set_new();
	wd = git_repository_workdir(r->git);
	if (wd) {
		r->workdir = dup_path(wd);
		r->prefix = compute_prefix(r->workdir);
	} else {
		r->prefix = xstrdup("");
	}
	return 0;
}

void repo_release(struct repo *r)
{
	git_repository_free(r->git);
	free(r->gitdir);
	free(r->commondir);
	free(r->workdir);
	free(r->prefix);
	config_set_free(r->config);
	memset(r, 0, sizeof(*r));
}

void repo_model_dir(const struct repo *r, struct strbuf *out)
{
	strbuf_addf(out, "%s/model", r->commondir);
}

void repo_store(const struct repo *repo, struct store *s)
{
	struct strbuf dir = STRBUF_INIT;

	repo_model_dir(repo, &dir);
	store_init(s, dir.buf);
	strbuf_release(&dir);
}

int repo_default_remote(const struct repo *r, struct strbuf *out)
{
	git_reference *head = NULL;
	struct strbuf key = STRBUF_INIT;
	size_t len = out->len;
	int ret = 0;

	if (!git_repository_head(&head, r->git) &&
	    git_reference_is_branch(head)) {
		strbuf_addf(&key, "branch.%s.remote",
			    git_reference_shorthand(head));
		ret = config_get(r, key.buf, out) < 0 ? -1 : 0;
	}
	git_error_clear();
	git_reference_free(head);
	strbuf_release(&key);
	if (!ret && out->len == len)
		strbuf_addstr(out, "origin");
	return ret;
}
