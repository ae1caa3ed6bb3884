#ifndef CONFIG_H
#define CONFIG_H

/*
 * git-model's settings, and the policy of whom they are trusted from.
 *
 * Where a value comes from (its origin), highest precedence first:
 *
 *	command    `git -c model.x=y ...` (GIT_CONFIG_PARAMETERS, which git
 *	           hands to filters and hooks)
 *	worktree, local, global, system
 *	           git config, as git itself reads it (includes, includeIf,
 *	           GIT_CONFIG_GLOBAL, ...): the set is read from `git config
 *	           --list --show-scope`, so it is git's own answer and
 *	           scope names (global covers the XDG file too)
 *	.gitmodel  the committed file at the top of the work tree, read from
 *	           the work tree, else the index, else HEAD (a clone finds
 *	           its storage before .gitmodel is checked out); read with
 *	           `git config --no-includes`, so include.path there is
 *	           ignored; only the keys the policy below allows
 *	default    not set anywhere
 *
 * A repository is someone else's: .gitmodel may say where the objects are
 * and how that storage behaves, never what to send it. config.c holds the
 * one table of which model.* keys .gitmodel may set (git-model-config(5),
 * SECURITY has it with the reasons); the others are ignored with a
 * warning, and a URL with user:password@ in .gitmodel is refused
 * (config_get() fails for it). The request policy built on the origins is
 * config_http_settings() and config_s3_endpoint() below.
 *
 * Settings are loaded once per repository, on first use (repo_open()
 * makes room for them in struct repo; a later change to a config file is
 * not seen by a running process, as with git), and without a repository
 * (`r` NULL) read afresh at each call. Loading is serialised, so the
 * functions here may be called from several threads.
 *
 * Keys: section and name compare case-insensitively, the subsection
 * (http.<url>.x) exactly, as in git. Code and documentation spell keys in
 * camelCase as git does (model.smudgeInlineMax).
 */

#include <stdint.h>

#include "repo.h"
#include "strbuf.h"

enum config_origin {
	CONFIG_ORIGIN_DEFAULT = 0,
	CONFIG_ORIGIN_GITMODEL,
	CONFIG_ORIGIN_SYSTEM,
	CONFIG_ORIGIN_GLOBAL,
	CONFIG_ORIGIN_LOCAL,
	CONFIG_ORIGIN_WORKTREE,
	CONFIG_ORIGIN_COMMAND,
};

/* "default", ".gitmodel", "system", "global", "local", "worktree", "command" */
const char *config_origin_name(enum config_origin o);

/* The loaded settings of one repository (opaque; repo.h holds a pointer). */
struct config_set;
struct config_set *config_set_new(void);
void config_set_free(struct config_set *set);

/*
 * Look up `key`. `r` may be NULL outside a repository. Returns 0 when found
 * (value appended to `out`), 1 when not set, -1 on error (reported; also
 * for a URL with userinfo that only .gitmodel gives).
 */
int config_get(const struct repo *r, const char *key, struct strbuf *out);

/* The same, with where the value came from (DEFAULT when not set). */
int config_get_origin(const struct repo *r, const char *key,
		      struct strbuf *out, enum config_origin *origin);

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
 * in any of the places above, with its effective value, each name once, in
 * the spelling of the setting that wins.
 */
int config_each(const struct repo *r, const char *prefix, config_fn fn,
		void *data);

/*
 * What an HTTP request to `url` (a storage base URL; userinfo ignored)
 * may carry, from the user's own config only (never .gitmodel):
 *
 *  - headers: every http.<url>.extraHeader whose <url> matches (git's
 *    urlmatch rules, url.h), in config order; and the unscoped
 *    http.extraHeader and model.http.extraHeader only when the user's own
 *    config names this storage (model.storage set outside .gitmodel to
 *    this URL). An empty value clears the headers before it, as in git.
 *  - TLS: http.sslVerify and http.sslCAInfo, the best <url> match winning
 *    over the unscoped key, as git picks them.
 *
 * With `anonymous`, no headers at all (pointer-url.h). Returns 0, or -1
 * (reported) for a header that is not one line.
 */
struct http_settings {
	char **headers; /* "Name: value", owned */
	size_t headers_nr, headers_alloc;
	int auth_header; /* a header is Authorization: credentials are ours */
	int withheld;    /* unscoped headers were set but not sent here */
	int ssl_verify;
	char *ca_info; /* NULL: libcurl's default */
};

#define HTTP_SETTINGS_INIT { NULL, 0, 0, 0, 0, 1, NULL }

int config_http_settings(const struct repo *r, const char *url,
			 int anonymous, struct http_settings *hs);
/* Frees and wipes the headers (explicit_bzero). */
void http_settings_release(struct http_settings *hs);

/*
 * The TLS settings of config_http_settings() alone, for `url` (NULL: the
 * unscoped keys only): `*ssl_verify` (default 1) and `*ca_info` (NULL, or
 * allocated for the caller). 0, or -1 (reported).
 */
int config_http_tls(const struct repo *r, const char *url, int *ssl_verify,
		    char **ca_info);

/*
 * The hint for a refused request whose unscoped headers were withheld
 * (hs->withheld): how to trust `url`. Appended to `out`.
 */
void config_http_trust_hint(const char *url, struct strbuf *out);

/*
 * The S3 endpoint that may receive the user's AWS credentials, in
 * `out` ("" for AWS's own, which the caller builds from the region):
 * model.s3.endpoint from the user's own config, else `aws_endpoint` (the
 * one the user's AWS environment or profile names, aws-config.h; may be
 * NULL), else model.s3.endpoint from .gitmodel when
 * it is an https:// AWS endpoint (*.amazonaws.com). An endpoint that only
 * .gitmodel names otherwise is refused: -1, with a one-line error that
 * says how to trust it. Returns 0 or -1.
 */
int config_s3_endpoint(const struct repo *r, const char *aws_endpoint,
		       struct strbuf *out);

/*
 * True when the user's own config (not .gitmodel) names `url` as
 * model.storage (userinfo and trailing slashes ignored).
 */
int config_storage_named_by_user(const struct repo *r, const char *url);

/*
 * Which .gitmodel a push uses: the work tree's, the one the settings
 * were loaded from. One push uploads the objects of every pushed commit to
 * one storage, the pushed commits need not agree with each other, and the
 * work tree's file is the one the user sees and edits. When the storage
 * comes from that .gitmodel and the .gitmodel of one of the `nr` pushed
 * commits `tips` names another, say so once (a warning; the push goes on).
 */
void config_warn_pushed_gitmodel(const struct repo *r, const git_oid *tips,
				 size_t nr);

#endif
