#ifndef HOOKS_H
#define HOOKS_H

/*
 * The repository's hooks: pre-push runs `git model pre-push "$@"`, which
 * uploads weights; post-checkout, post-merge and post-rewrite run the
 * command of their name, which writes the weights that the filter left to
 * them (checkout.h).
 *
 * A hook the user already has is never overwritten: it is renamed to
 * <hook>.git-model-chained and our hook runs it after itself, with the
 * same arguments and the same ref lines on stdin. hooks_uninstall() puts it
 * back. The hooks directory is core.hooksPath when set, else
 * <common git dir>/hooks.
 *
 * A core.hooksPath outside the repository's git dir (the user's global
 * ~/.githooks, or a directory in the work tree) is shared with other
 * repositories or is the project's own: only 'git model install', which
 * the user runs knowing it, writes there (git-model-install(1)); the
 * filter, which runs on every clone, never does (hooks_dir_shared()).
 */

#include "repo.h"
#include "strbuf.h"

/*
 * Install (or update) our hooks. Returns 1 when something was written,
 * 0 when all was in place already, -1 on error (reported).
 */
int hooks_install(const struct repo *r);

/*
 * 1 when the hooks directory is core.hooksPath and lies outside this
 * repository's git dir, with its path in `dir`; else 0.
 */
int hooks_dir_shared(const struct repo *r, struct strbuf *dir);

/* True when our hooks are in place (one stat per hook). */
int hooks_installed(const struct repo *r);

/* Remove our hooks, restoring chained ones. 0 or -1 (reported). */
int hooks_uninstall(const struct repo *r);

#endif
