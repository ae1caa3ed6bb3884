/*
 * env / version: what git-model is and what it sees. env never prints a
 * credential: userinfo in any URL value is masked.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <git2.h>
#include <openssl/crypto.h>
#include <zstd.h>

#include "builtin.h"
#include "run-command.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

void version_string(struct strbuf *out)
{
	int major, minor, rev;

	git_libgit2_version(&major, &minor, &rev);
	strbuf_addf(out, "git-model/%s (libgit2 %d.%d.%d; libcurl %s; "
			 "OpenSSL %s; zstd %s)",
		    PACKAGE_VERSION, major, minor, rev,
		    curl_version_info(CURLVERSION_NOW)->version,
		    OpenSSL_version(OPENSSL_VERSION_STRING),
		    ZSTD_versionString());
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
	at = memchr(auth, '@', end - auth);
	if (!at) {
		strbuf_addstr(out, value);
		return;
	}
	strbuf_add(out, value, auth - value);
	strbuf_addstr(out, "***");
	strbuf_addstr(out, at);
}

struct names {
	char **v;
	size_t nr, alloc;
};

static int collect(const char *name, const char *value, void *data)
{
	struct names *n = data;
	size_t i;

	(void)value;
	for (i = 0; i < n->nr; i++)
		if (!strcmp(n->v[i], name))
			return 0;
	ALLOC_GROW(n->v, n->nr + 1, n->alloc);
	n->v[n->nr++] = xstrdup(name);
	return 0;
}

static void print_config(struct repo *repo)
{
	static const char *const always[] = {
		"filter.model.clean", "filter.model.smudge",
		"filter.model.process", "filter.model.required",
		"model.storage",
	};
	struct names n = { NULL, 0, 0 };
	struct strbuf val = STRBUF_INIT, masked = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(always); i++)
		collect(always[i], NULL, &n);
	repo_config_each(repo, "^(filter\\.model|model)\\.", collect, &n);
	for (i = 0; i < n.nr; i++) {
		strbuf_reset(&val);
		strbuf_reset(&masked);
		if (repo_config_get(repo, n.v[i], &val) == 0)
			mask_userinfo(val.buf, &masked);
		printf("%s=%s\n", n.v[i], masked.buf);
		free(n.v[i]);
	}
	free(n.v);
	strbuf_release(&val);
	strbuf_release(&masked);
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
