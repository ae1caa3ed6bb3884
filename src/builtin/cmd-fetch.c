/*
 * fetch / checkout / pull: bring weights into the local store, and put them
 * into the work tree where a file still holds its pointer text.
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "checkout.h"
#include "config.h"
#include "human.h"
#include "pointer-url.h"
#include "scan.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* A comma-separated list of globs, as model.fetchInclude holds. */
static int glob_list_match(const char *list, const char *path)
{
	const char *base = strrchr(path, '/');
	char *copy, *p, *next;
	int hit = 0;

	base = base ? base + 1 : path;
	copy = xstrdup(list);
	for (p = copy; p && !hit; p = next) {
		size_t len;

		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '/'))
			p[--len] = '\0';
		if (!len)
			continue;
		hit = !fnmatch(p, path, 0) ||
		      (!strchr(p, '/') && !fnmatch(p, base, 0)) ||
		      (!strncmp(path, p, len) && path[len] == '/');
	}
	free(copy);
	return hit;
}

struct filters {
	struct strbuf include, exclude;
};

static void filters_load(struct repo *r, struct filters *f)
{
	strbuf_init(&f->include, 0);
	strbuf_init(&f->exclude, 0);
	if (config_get(r, "model.fetchInclude", &f->include) < 0 ||
	    config_get(r, "model.fetchExclude", &f->exclude) < 0)
		exit(128);
}

static int filters_want(const struct filters *f, const char *path)
{
	if (f->include.len && !glob_list_match(f->include.buf, path))
		return 0;
	if (f->exclude.len && glob_list_match(f->exclude.buf, path))
		return 0;
	return 1;
}

static void filters_release(struct filters *f)
{
	strbuf_release(&f->include);
	strbuf_release(&f->exclude);
}

struct fetch_args {
	const char *remote; /* NULL: the default remote */
	const char **refs;
	int nrefs;
	struct filters filters;
	int quiet;
	int progress;
	int all;    /* every object of history */
	int recent; /* also refs and commits of the last fetchRecentDays */
};

static const char *const fetch_usage[] = {
	"git model fetch [-I | --include <globs>] [-X | --exclude <globs>]\n"
	"                       [--all] [--recent] [-q | --quiet] [--progress]\n"
	"                       [<remote>] [<ref>...]",
	NULL
};

static const char *const pull_usage[] = {
	"git model pull [-I | --include <globs>] [-X | --exclude <globs>]\n"
	"                      [--all] [--recent] [-q | --quiet] [--progress]\n"
	"                      [<remote>] [<ref>...]",
	NULL
};

static void parse_fetch_args(struct repo *r, int argc, const char **argv,
			     const char *const *usage, struct fetch_args *a)
{
	const char *include = NULL, *exclude = NULL;
	const struct option options[] = {
		OPT_STRING('I', "include", &include, "<globs>",
			   "fetch only paths matching these globs"),
		OPT_STRING('X', "exclude", &exclude, "<globs>",
			   "do not fetch paths matching these globs"),
		OPT__QUIET(&a->quiet, "report nothing but errors"),
		OPT_BOOL(0, "progress", &a->progress,
			 "show progress (default: when stderr is a terminal)"),
		OPT_BOOL(0, "all", &a->all,
			 "fetch every object of every ref's history"),
		OPT_BOOL(0, "recent", &a->recent,
			 "also fetch refs and commits of the last "
			 "model.fetchRecentDays days"),
		OPT_END(),
	};
	git_remote *rem = NULL;
	int i;

	memset(a, 0, sizeof(*a));
	a->progress = -1;
	argc = parse_options(argc, argv, options, usage, 0);
	filters_load(r, &a->filters);
	if (include) {
		strbuf_reset(&a->filters.include);
		strbuf_addstr(&a->filters.include, include);
	}
	if (exclude) {
		strbuf_reset(&a->filters.exclude);
		strbuf_addstr(&a->filters.exclude, exclude);
	}
	a->refs = xcalloc(argc + 1, sizeof(*a->refs));
	i = 0;
	if (argc && !git_remote_lookup(&rem, r->git, argv[0])) {
		a->remote = argv[i++];
		git_remote_free(rem);
	}
	git_error_clear();
	for (; i < argc; i++)
		a->refs[a->nrefs++] = argv[i];
	if (!a->nrefs)
		a->refs[a->nrefs++] = "HEAD";
}

/*
 * No storage for the repository: the pointers' urls, as far as
 * model.allowPointerUrls lets them be followed (pointer-url.h).
 */
static int fetch_by_urls(struct repo *r, struct store *store,
			 const struct found_set *set,
			 const struct filters *filters, int progress)
{
	struct pointer *ptrs = xcalloc(set->nr + 1, sizeof(*ptrs));
	const struct pointer **pp = xcalloc(set->nr + 1, sizeof(*pp));
	const char **paths = xcalloc(set->nr + 1, sizeof(*paths));
	size_t i, n = 0, missing;

	for (i = 0; i < set->nr; i++) {
		const struct found *f = &set->v[i];

		if (!filters_want(filters, f->path) ||
		    store_has(store, f->oid, f->size))
			continue;
		memcpy(ptrs[n].oid, f->oid, sizeof(f->oid));
		ptrs[n].size = f->size;
		ptrs[n].url = f->url; /* borrowed, not released */
		pp[n] = &ptrs[n];
		paths[n++] = f->path;
	}
	missing = pointer_url_fetch(r, store, pp, paths, n, progress);
	free(ptrs);
	free(pp);
	free(paths);
	return missing ? 1 : 0;
}

/*
 * The pointers to fetch: those of the refs' trees; with --all those of
 * every commit; with --recent also those of each ref changed in the last
 * model.fetchRecentDays days and of the commits made in that time.
 */
static int wanted_pointers(struct repo *r, struct fetch_args *a,
			   struct found_set *set)
{
	size_t i;

	for (i = 0; i < (size_t)a->nrefs; i++)
		if (scan_tree(r, a->refs[i], set) < 0)
			return -1;
	if (a->all && scan_refs_added(r, 0, set) < 0)
		return -1;
	if (a->recent) {
		long days;
		git_time_t since;

		if (config_get_int(r, "model.fetchrecentdays", 7, &days) < 0)
			return -1;
		if (days < 0)
			return error("bad value '%ld' for "
				     "'model.fetchrecentdays': not a number "
				     "of days",
				     days);
		since = (git_time_t)time(NULL) - (git_time_t)days * 86400;
		if (scan_recent_refs(r, since, set) < 0 ||
		    scan_refs_added(r, since, set) < 0)
			return -1;
	}
	found_set_finish(set);
	return 0;
}

/* What to do about the downloads that failed, by why they failed. */
static int do_fetch(struct repo *r, struct fetch_args *a)
{
	struct found_set set = FOUND_SET_INIT;
	struct storage s = STORAGE_INIT;
	struct store store = STORE_INIT;
	struct strbuf why = STRBUF_INIT, hs = STRBUF_INIT;
	struct transfer t = { 0 };
	size_t i;
	int have_storage = 0, ret = 1;

	if (wanted_pointers(r, a, &set) < 0)
		goto cleanup;
	repo_store(r, &store);
	for (i = 0; i < set.nr; i++) {
		const struct found *f = &set.v[i];

		if (!filters_want(&a->filters, f->path) ||
		    store_has(&store, f->oid, f->size))
			continue;
		if (!have_storage) {
			int res = storage_for_repo(&s, r, a->remote, &why);

			if (res > 0) {
				ret = fetch_by_urls(r, &store, &set,
						    &a->filters, a->progress);
				if (ret)
					error("cannot download weights: %s",
					      why.buf);
				goto cleanup;
			}
			if (res)
				goto cleanup;
			have_storage = 1;
			if (transfer_init(&t, TRANSFER_DOWNLOAD, &s, &store, r,
					  a->progress, a->quiet) < 0)
				goto cleanup;
		}
		transfer_add(&t, f->oid, f->size, f->path);
	}
	if (have_storage && transfer_run(&t)) {
		transfer_download_advice(&t, s.display, "git model fetch");
		goto cleanup;
	}
	if (t.done && summary_wanted(a->quiet, a->progress)) {
		human_size(t.bytes_done, &hs);
		fprintf(stderr, "git-model: downloaded %zu object(s) (%s)\n",
			t.done, hs.buf);
	}
	ret = 0;
cleanup:
	found_set_release(&set);
	transfer_release(&t);
	if (have_storage)
		storage_close(&s);
	store_release(&store);
	strbuf_release(&why);
	strbuf_release(&hs);
	return ret;
}

static void fetch_args_release(struct fetch_args *a)
{
	free(a->refs);
	filters_release(&a->filters);
}

int cmd_fetch(int argc, const char **argv, struct repo *repo)
{
	struct fetch_args a;
	int ret;

	parse_fetch_args(repo, argc, argv, fetch_usage, &a);
	ret = do_fetch(repo, &a);
	fetch_args_release(&a);
	return ret;
}

/* Checkout. */

static int path_selected(const char *path, const char **specs, int nspecs)
{
	int i;

	if (!nspecs)
		return 1;
	for (i = 0; i < nspecs; i++) {
		size_t len = strlen(specs[i]);

		while (len && specs[i][len - 1] == '/')
			len--;
		if (!len || !fnmatch(specs[i], path, 0) ||
		    (!strncmp(path, specs[i], len) &&
		     (path[len] == '/' || !path[len])))
			return 1;
	}
	return 0;
}

static int checkout_pointers(struct repo *r, const char **specs, int nspecs,
			     const struct filters *filters, int quiet,
			     int progress)
{
	struct checkout co;
	size_t i, n;

	if (checkout_begin(&co, r, !summary_wanted(quiet, progress)) < 0)
		return 1;
	n = git_index_entrycount(co.index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(co.index, i);

		if (path_selected(e->path, specs, nspecs) &&
		    (!filters || filters_want(filters, e->path)))
			checkout_entry(&co, e);
	}
	return checkout_finish(&co) ? 1 : 0;
}

int cmd_checkout(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = {
		"git model checkout [-q | --quiet] [--] [<path>...]", NULL
	};
	int quiet = 0, i, ret;
	const struct option options[] = {
		OPT__QUIET(&quiet, "report nothing but errors"),
		OPT_END(),
	};
	const char **specs;

	argc = parse_options(argc, argv, options, usage, 0);
	specs = xcalloc(argc + 1, sizeof(*specs));
	for (i = 0; i < argc; i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s%s", repo->prefix,
			    strcmp(argv[i], ".") ? argv[i] : "");
		specs[i] = strbuf_detach(&sb, NULL);
	}
	ret = checkout_pointers(repo, specs, argc, NULL, quiet, -1);
	for (i = 0; i < argc; i++)
		free((char *)specs[i]);
	free(specs);
	return ret;
}

int cmd_pull(int argc, const char **argv, struct repo *repo)
{
	struct fetch_args a;
	int ret;

	parse_fetch_args(repo, argc, argv, pull_usage, &a);
	ret = do_fetch(repo, &a);
	if (checkout_pointers(repo, NULL, 0, &a.filters, a.quiet, a.progress))
		ret = 1;
	fetch_args_release(&a);
	return ret;
}
