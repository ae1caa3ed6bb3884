#ifndef CONFIG_H
#define CONFIG_H

/*
 * git-model's settings, with their precedence:
 *
 *	1. the command line: `git -c model.x=y ...`, which git hands to
 *	   filters and hooks in GIT_CONFIG_PARAMETERS (and GIT_CONFIG_COUNT)
 *	2. git config: repository, global, XDG, system (read with libgit2)
 *	3. the committed .gitmodel file at the top of the work tree; only
 *	   model.* keys are honoured from it, as git-lfs does with .lfsconfig,
 *	   except model.allowPointerUrls (pointer-url.h).
 *	   It is read from the work tree, else the index, else HEAD, so a clone
 *	   finds its storage while .gitmodel itself is not checked out yet.
 *
 * Values are looked up by full key name ("model.storage"). Section and key
 * names compare case-insensitively, as in git.
 */

#include <stdint.h>

#include "repo.h"
#include "strbuf.h"

/*
 * Look up `key`. `r` may be NULL outside a repository. Returns 0 when found
 * (value appended to `out`), 1 when not set, -1 on error (reported).
 */
int config_get(const struct repo *r, const char *key, struct strbuf *out);

/* An integer setting, `def` when not set; -1 when set but not an integer. */
int config_get_int(const struct repo *r, const char *key, long def,
		   long *out);

/*
 * A size setting: bytes, or a number with k, m or g (powers of 1024);
 * `def` when not set; -1 (reported) when set but not a size.
 */
int config_get_size(const struct repo *r, const char *key, uint64_t def,
		    uint64_t *out);

/* A boolean setting (true/yes/on/1, false/no/off/0/empty). */
int config_get_bool(const struct repo *r, const char *key, int def,
		    int *out);

/*
 * Call fn(name, value) for each key matching `prefix` ("model.") that is set
 * in any of the three places, with its effective value, each name once.
 */
int config_each(const struct repo *r, const char *prefix, config_fn fn,
		void *data);

#endif
