/*
 * env / version: what git-model is and what it sees. env never prints a
 * credential: userinfo in any URL value is masked.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <git2.h>
#include <openssl/crypto.h>
#include <zstd.h>

#include "builtin.h"
#include "checkout.h"
#include "config.h"
#include "human.h"
#include "loan.h"
#include "run-command.h"
#include "scan.h"
#include "store-walk.h"
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
	{ "model.compression", "auto" },
	{ "model.compression.level", "3" },
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

struct disk_use {
	struct store store;
	enum checkout_how how;
	dev_t dev; /* of the work tree */
	size_t objects, files;
	uint64_t object_bytes, need_bytes;
};

static int count_object(const struct store_entry *e, void *data)
{
	struct disk_use *u = data;

	if (e->kind == STORE_OBJECT) {
		u->objects++;
		u->object_bytes += e->st.st_size;
	}
	return 0;
}

/* A file that holds its pointer: a checkout writes it unless it lends. */
static int count_need(const char *path, const struct pointer *p, void *data)
{
	struct disk_use *u = data;

	(void)path;
	u->files++;
	if (u->how == CHECKOUT_COPY ||
	    !loan_can_lend(&u->store, p->oid, p->size, u->dev))
		u->need_bytes += p->size;
	return 0;
}

static void print_size_line(const char *indent, const char *key,
			    uint64_t bytes, size_t n, const char *what)
{
	struct strbuf hs = STRBUF_INIT;

	human_size(bytes, &hs);
	printf("%s%s=%" PRIu64 " (%s, %zu %s)\n", indent, key, bytes, hs.buf,
	       n, what);
	strbuf_release(&hs);
}

void print_disk_use(struct repo *repo, const char *indent)
{
	struct disk_use u = { STORE_INIT };
	struct loan_stats loans = LOAN_STATS_INIT;
	struct stat st;

	repo_store(repo, &u.store);
	store_walk(&u.store, count_object, &u);
	loan_count(&u.store, &loans);
	print_size_line(indent, "disk.store", u.object_bytes, u.objects,
			"object(s)");
	print_size_line(indent, "disk.lent", loans.out_bytes, loans.out,
			"object(s)");
	if (repo->workdir && !stat(repo->workdir, &st) &&
	    checkout_read_how(repo, &u.how) >= 0) {
		u.dev = st.st_dev;
		if (worktree_pointers(repo, count_need, &u) >= 0)
			print_size_line(indent, "disk.checkout", u.need_bytes,
					u.files, "file(s) hold their pointer");
	}
	store_release(&u.store);
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
		print_disk_use(repo, "");
	} else {
		printf("repository=\n");
	}
	printf("\n");
	print_config(repo);
	strbuf_release(&v);
	return 0;
}
