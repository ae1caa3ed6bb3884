/*
 * env / version: what git-model is and what it sees. env never prints a
 * credential: userinfo in any URL value is masked.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <git2.h>
#include <openssl/crypto.h>
#include <zstd.h>

#include "builtin.h"
#include "config.h"
#include "run-command.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

void version_string(struct strbuf *out)
{
	int major, minor, rev;

	git_libgit2_version(&major, &minor, &rev);
	strbuf_addf(out, "git-model/%s (libgit2 %d.%d.%d; libcurl %s; "
			 "OpenSSL %s; zstd %s%s)",
		    PACKAGE_VERSION, major, minor, rev,
		    curl_version_info(CURLVERSION_NOW)->version,
		    OpenSSL_version(OPENSSL_VERSION_STRING),
		    ZSTD_versionString(),
#ifdef HAVE_LIBS3
		    "; libs3"
#else
		    ""
#endif
		    );
}

int cmd_version(int argc, const char **argv, struct repo *repo)
{
	struct strbuf v = STRBUF_INIT;

	(void)argv;
	(void)repo;
	if (argc > 1)
		usage_cmd(NULL);
	version_string(&v);
	printf("%s\n", v.buf);
	strbuf_release(&v);
	return 0;
}

/* Mask the userinfo of a URL value (user and password become three stars). */
static void mask_userinfo(const char *value, struct strbuf *out)
{
	const char *auth = strstr(value, "://");
	const char *end, *at;

	if (!auth) {
		strbuf_addstr(out, value);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', end - auth);
	if (!at) {
		strbuf_addstr(out, value);
		return;
	}
	strbuf_add(out, value, auth - value);
	strbuf_addstr(out, "***");
	strbuf_addstr(out, at);
}

static void print_value(const char *name, const char *value)
{
	struct strbuf masked = STRBUF_INIT;

	mask_userinfo(value, &masked);
	printf("%s=%s\n", name, masked.buf);
	strbuf_release(&masked);
}

static int print_model_key(const char *name, const char *value, void *data)
{
	const char *colon;

	if (!strcasecmp(name, "model.storage"))
		return 0;
	/* A header is usually a token: show its name only, or nothing. */
	if (!strcasecmp(name, "model.http.extraheader")) {
		colon = strchr(value, ':');
		if (colon)
			printf("%s=%.*s: ***\n", name, (int)(colon - value),
			       value);
		else
			printf("%s=***\n", name);
		return 0;
	}
	print_value(name, value);
	return 0;
}

/*
 * The filter driver, then every model.* key in effect, from the command
 * line, git config and .gitmodel (config.h has the precedence).
 */
static void print_config(struct repo *repo)
{
	static const char *const keys[] = {
		"filter.model.clean", "filter.model.smudge",
		"filter.model.process", "filter.model.required",
		"model.storage",
	};
	struct strbuf val = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		strbuf_reset(&val);
		config_get(repo, keys[i], &val);
		print_value(keys[i], val.buf);
	}
	config_each(repo, "model.", print_model_key, NULL);
	strbuf_release(&val);
}

int cmd_env(int argc, const char **argv, struct repo *repo)
{
	const char *git_version[] = { "git", "version", NULL };
	struct strbuf v = STRBUF_INIT;

	(void)argv;
	if (argc > 1)
		usage_cmd(NULL);
	version_string(&v);
	printf("%s\n", v.buf);
	strbuf_reset(&v);
	fflush(stdout);
	if (run_command(git_version, &v, 4096) == 0)
		fputs(v.buf, stdout);
	printf("\n");
	if (repo) {
		printf("repository=%s\n", repo->workdir ? repo->workdir :
							    repo->gitdir);
		printf("gitdir=%s\n", repo->gitdir);
		strbuf_reset(&v);
		repo_model_dir(repo, &v);
		printf("store=%s\n", v.buf);
	} else {
		printf("repository=\n");
	}
	printf("\n");
	print_config(repo);
	strbuf_release(&v);
	return 0;
}
