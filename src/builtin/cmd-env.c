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
#include "url.h"
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
	static const char *const usage[] = { "git model version", NULL };
	const struct option options[] = { OPT_END() };

	(void)repo;
	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	version_string(&v);
	printf("%s\n", v.buf);
	strbuf_release(&v);
	return 0;
}

/*
 * The settings env always shows, with what applies when they are not set
 * (NULL: nothing). The defaults are those the code passes to config_get*().
 */
static const struct {
	const char *key, *def;
} known[] = {
	{ "filter.model.clean", NULL },
	{ "filter.model.smudge", NULL },
	{ "filter.model.process", NULL },
	{ "filter.model.required", NULL },
	{ "model.storage", NULL },
	{ "model.concurrency", "8" },
	{ "model.retries", "5" },
	{ "model.http.lowSpeedLimit", "1000" },
	{ "model.http.lowSpeedTime", "30" },
	{ "model.smudgeInlineMax", "256k" },
	{ "model.checkout", "auto" },
	{ "model.pruneRecentDays", "7" },
	{ "model.file.hardLinks", "true" },
	{ "model.s3.multipartThreshold", "64m" },
	{ "model.s3.partSize", "16m" },
};

/*
 * One line: origin, tab, key=value. No credential: userinfo in a URL is
 * "***", a header shows its name only.
 */
static void print_setting(const char *name, const char *value,
			  enum config_origin origin)
{
	struct strbuf shown = STRBUF_INIT;
	const char *colon;

	if (strcasestr(name, "extraheader")) {
		colon = strchr(value, ':');
		if (colon)
			strbuf_addf(&shown, "%.*s: ***", (int)(colon - value),
				    value);
		else if (*value)
			strbuf_addstr(&shown, "***");
	} else {
		url_mask_userinfo(value, "***", &shown);
	}
	printf("%s\t%s=%s\n", config_origin_name(origin), name, shown.buf);
	strbuf_release(&shown);
}

static int is_known(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcasecmp(name, known[i].key))
			return 1;
	return 0;
}

static int print_other(const char *name, const char *value, void *data)
{
	struct repo *repo = data;
	struct strbuf v = STRBUF_INIT;
	enum config_origin origin;

	(void)value;
	if (!is_known(name) &&
	    !config_get_origin(repo, name, &v, &origin))
		print_setting(name, v.buf, origin);
	strbuf_release(&v);
	return 0;
}

/*
 * The filter driver and the known settings, set or not, then every other
 * model.* and http.*extraHeader key in effect (config.h has the origins).
 */
static void print_config(struct repo *repo)
{
	struct strbuf val = STRBUF_INIT;
	enum config_origin origin;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		strbuf_reset(&val);
		if (config_get_origin(repo, known[i].key, &val, &origin))
			strbuf_addstr(&val, known[i].def ? known[i].def : "");
		print_setting(known[i].key, val.buf, origin);
	}
	config_each(repo, "model.", print_other, repo);
	config_each(repo, "http.", print_other, repo);
	strbuf_release(&val);
}

int cmd_env(int argc, const char **argv, struct repo *repo)
{
	const char *git_version[] = { "git", "version", NULL };
	struct strbuf v = STRBUF_INIT;
	static const char *const usage[] = { "git model env", NULL };
	const struct option options[] = { OPT_END() };

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
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
