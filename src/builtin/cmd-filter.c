/*
 * clean, smudge, filter-process: the filter driver's commands, as git runs
 * them (see cmd-install.c for the configuration that names them).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "checkout.h"
#include "config.h"
#include "dir-sync.h"
#include "filter.h"
#include "hooks.h"
#include "pointer-url.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define OPT_SKIP(v)                                                  \
	OPT_BOOL_F(0, "skip", (v), "leave pointers as they are (for " \
		   "'git model install --skip-smudge')",               \
		   PARSE_OPT_NONEG)

/* The path given after the options, "<stdin>" if none. */
static const char *path_arg(int argc, const char **argv,
			    const char *const *usage,
			    const struct option *options)
{
	argc = parse_options(argc, argv, options, usage, 0);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	return argc ? argv[0] : "<stdin>";
}

/* A process's parent, from /proc/<pid>/stat; 0 when it cannot be read. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	const char *close_paren;
	ssize_t n;
	long ppid;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read_in_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	close_paren = strrchr(buf, ')');
	if (!close_paren || sscanf(close_paren + 1, " %*c %ld", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/*
 * The git command a git process runs ("diff" for `git -C x diff`), from
 * its /proc/<pid>/cmdline, into `cmd`; 0, or -1 when the process is not
 * git or its command line cannot be read.
 */
static int git_command_of(pid_t pid, char *cmd, size_t cmdsz)
{
	char path[64], buf[4096];
	const char *arg, *end, *base;
	ssize_t n;
	int fd, takes_value = 0;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read_in_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	end = buf + n;
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strcmp(base, "git"))
		return -1;
	for (arg = buf + strlen(buf) + 1; arg < end; arg += strlen(arg) + 1) {
		if (takes_value) {
			takes_value = 0;
			continue;
		}
		if (!strcmp(arg, "-C") || !strcmp(arg, "-c") ||
		    !strcmp(arg, "--git-dir") || !strcmp(arg, "--work-tree") ||
		    !strcmp(arg, "--namespace") ||
		    !strcmp(arg, "--super-prefix")) {
			takes_value = 1;
			continue;
		}
		if (*arg == '-')
			continue;
		if (strlen(arg) >= cmdsz)
			return -1;
		memcpy(cmd, arg, strlen(arg) + 1);
		return 0;
	}
	return -1;
}

/*
 * Is this filter-process run by a git command that only reads history
 * (diff, log, show, blame, grep…)? Such a command smudges a blob only to
 * hand it to a textconv driver in a temp file, and `git model textconv`
 * reads a pointer's weights (or just their header) itself: smudging
 * gigabytes there is waste, and for weights not in the store a full
 * download where a Range request for the header would do. Not when an
 * external diff may run (GIT_EXTERNAL_DIFF, diff.external,
 * diff.model.command), which is shown files as a checkout has them.
 * The git process is the parent, or a grandparent through a wrapper
 * (sh -c, time); Linux's /proc.
 */
static int run_for_textconv(struct repo *repo)
{
	static const char *const readers[] = {
		"diff", "log", "show", "whatchanged", "blame", "annotate",
		"grep", "diff-tree", "diff-index", "diff-files", "range-diff",
	};
	struct strbuf v = STRBUF_INIT;
	char cmd[64];
	pid_t pid = getppid();
	size_t i;
	int depth, ext;

	if (getenv("GIT_EXTERNAL_DIFF"))
		return 0;
	ext = config_get(repo, "diff.external", &v);
	if (ext > 0)
		ext = config_get(repo, "diff.model.command", &v);
	strbuf_release(&v);
	if (ext <= 0)
		return 0; /* set, or unreadable */
	for (depth = 0; depth < 3 && pid > 1; depth++) {
		if (!git_command_of(pid, cmd, sizeof(cmd))) {
			for (i = 0; i < ARRAY_SIZE(readers); i++)
				if (!strcmp(cmd, readers[i]))
					return 1;
			return 0;
		}
		pid = parent_of(pid);
	}
	return 0;
}

/* Storage is opened on the first missing object, once per process. */
struct fetch_ctx {
	struct repo *repo;
	struct storage storage;
	int state; /* 0 not tried, 1 open, 2 none configured, -1 error */
	struct strbuf why; /* why there is none */
	int warned;
	size_t deferred; /* paths left to checkout_deferred() */
	struct strbuf no_hooks; /* why the hooks are not installed, or "" */
};

/* One object through the transfer engine (the speed issue makes many). */
static int download_one(struct fetch_ctx *c, struct store *store,
			const char *oid, uint64_t size, const char *path)
{
	struct transfer t;
	int ret = -1;

	if (transfer_init(&t, TRANSFER_DOWNLOAD, &c->storage, store, c->repo,
			  0, 1) < 0)
		return -1;
	transfer_add(&t, oid, size, path);
	if (!transfer_run(&t))
		ret = 0;
	else
		transfer_download_advice(&t, c->storage.display,
					 "git model pull");
	transfer_release(&t);
	return ret;
}

/*
 * Open the storage on first use. 0 when open; 1 when none is configured
 * (then pointers' urls may serve, pointer-url.h); -1 on error.
 */
static int open_storage(struct fetch_ctx *c)
{
	if (!c->state) {
		int ret = storage_for_repo(&c->storage, c->repo, NULL,
					   &c->why);

		c->state = ret < 0 ? -1 : ret > 0 ? 2 : 1;
	}
	return c->state == 1 ? 0 : c->state == 2 ? 1 : -1;
}

/* No storage: the pointers' urls; the reason when they do not serve. */
static void fetch_by_urls(struct fetch_ctx *c, struct store *store,
			  const struct pointer *const *ptrs,
			  const char *const *paths, size_t nr)
{
	if (pointer_url_fetch(c->repo, store, ptrs, paths, nr, -1) &&
	    !c->warned) {
		warning("%s", c->why.buf);
		c->warned = 1;
	}
}

static int fetch_missing(struct filter *f, const struct pointer *p,
			 const char *path)
{
	struct fetch_ctx *c = f->fetch_data;
	int ret = open_storage(c);

	if (ret > 0) {
		fetch_by_urls(c, f->store, &p, &path, 1);
		return store_has(f->store, p->oid, p->size) ? 0 : -1;
	}
	if (ret < 0)
		return -1;
	return download_one(c, f->store, p->oid, p->size, path);
}

/* The delayed objects of a checkout, downloaded together. */
static void download_many(struct filter *f, struct delayed_blob **blobs,
			  size_t nr)
{
	struct fetch_ctx *c = f->fetch_data;
	struct transfer t;
	size_t i;
	int ret = open_storage(c);

	if (ret > 0) {
		const struct pointer **ptrs = xcalloc(nr + 1, sizeof(*ptrs));
		const char **paths = xcalloc(nr + 1, sizeof(*paths));

		for (i = 0; i < nr; i++) {
			ptrs[i] = &blobs[i]->ptr;
			paths[i] = blobs[i]->pathname;
		}
		fetch_by_urls(c, f->store, ptrs, paths, nr);
		free(ptrs);
		free(paths);
		return;
	}
	if (ret < 0 ||
	    transfer_init(&t, TRANSFER_DOWNLOAD, &c->storage, f->store,
			  c->repo, -1, 0) < 0)
		return;
	for (i = 0; i < nr; i++)
		if (!store_has(f->store, blobs[i]->ptr.oid, blobs[i]->ptr.size))
			transfer_add(&t, blobs[i]->ptr.oid, blobs[i]->ptr.size,
				     blobs[i]->pathname);
	if (transfer_run(&t))
		transfer_download_advice(&t, c->storage.display,
					 "git model pull");
	transfer_release(&t);
}

/*
 * The same, and the objects on the disk before git hears of them: else
 * the post-checkout hook, another process, would find them still 0400
 * and hash them all again (store.h).
 */
static void fetch_many(struct filter *f, struct delayed_blob **blobs,
		       size_t nr)
{
	download_many(f, blobs, nr);
	dir_sync_drain();
}

/* Big objects: the hooks write them (checkout.h). */
static int defer_to_hook(struct filter *f, const char *path,
			 const struct pointer *p)
{
	struct fetch_ctx *c = f->fetch_data;

	/* Once per process, where it matters: a file is left to us. */
	if (c->no_hooks.len && !c->deferred)
		fprintf(stderr, "git-model: %s\n", c->no_hooks.buf);
	c->deferred++;
	return checkout_defer(c->repo, path, p);
}

/*
 * Our hooks, installed here when missing, or why not in `why`. A clone
 * runs the filter before anyone runs 'git model install' in it: this is
 * where it gets its hooks, before git looks for the post-checkout hook.
 * Never in a hooks directory shared with other repositories (hooks.h).
 */
static int setup_hooks(struct repo *repo, struct strbuf *why)
{
	struct strbuf dir = STRBUF_INIT;
	int ok = 1;

	if (hooks_installed(repo))
		goto cleanup;
	ok = 0;
	if (hooks_dir_shared(repo, &dir))
		strbuf_addf(why, "hooks not installed in core.hooksPath '%s' "
				 "(outside this repository): big files are "
				 "written as git exits, and a push does not "
				 "upload weights; 'git model install --local' "
				 "installs them there",
			    dir.buf);
	else if (hooks_install(repo) < 0)
		strbuf_addstr(why, "hooks not installed: big files are "
				   "written as git exits, and a push does not "
				   "upload weights (run 'git model install "
				   "--local')");
	else
		ok = 1;
cleanup:
	strbuf_release(&dir);
	return ok;
}

/*
 * `at_exit`: this process outlives git's writing of the files (the
 * long-running filter-process), so it can write big files itself when
 * no hook will.
 */
static void setup_filter(struct repo *repo, struct filter *f,
			 struct store *s, struct strbuf *url,
			 struct fetch_ctx *fetch, int at_exit)
{
	struct strbuf why = STRBUF_INIT, no_hooks = STRBUF_INIT;
	const char *skip = getenv("GIT_MODEL_SKIP_SMUDGE");
	int ret, hooks_ok = 0;

	repo_store(repo, s);
	f->store = s;
	if (repo->workdir)
		hooks_ok = setup_hooks(repo, &no_hooks);
	ret = storage_pointer_url(repo, url);
	if (ret < 0)
		exit(128);
	if (!ret) {
		if (!storage_url_valid(url->buf, &why))
			die("%s in model.storage", why.buf);
		/* A pointer is public: never a password in its url line. */
		char *bare = url_without_userinfo(url->buf);

		strbuf_reset(url);
		strbuf_addstr(url, bare);
		free(bare);
		f->storage_url = url->buf;
	}
	/* Like GIT_LFS_SKIP_SMUDGE: check pointers out, fetch nothing. */
	if (skip && strcmp(skip, "0"))
		f->skip_smudge = 1;
	if (fetch) {
		fetch->repo = repo;
		strbuf_init(&fetch->why, 0);
		f->fetch = fetch_missing;
		f->fetch_many = fetch_many;
		f->fetch_data = fetch;
		/* Without the hooks, only a filter that outlives git can. */
		if (hooks_ok || at_exit) {
			if (config_get_size(repo, "model.smudgeInlineMax",
					    SMUDGE_INLINE_MAX_DEFAULT,
					    &f->inline_max) < 0)
				exit(128);
			f->defer = defer_to_hook;
		}
		strbuf_init(&fetch->no_hooks, 0);
		strbuf_add(&fetch->no_hooks, no_hooks.buf, no_hooks.len);
	}
	strbuf_release(&no_hooks);
	strbuf_release(&why);
}

static void release_filter(struct store *s, struct strbuf *url,
			   struct fetch_ctx *fetch)
{
	store_release(s);
	strbuf_release(url);
	if (fetch && fetch->state == 1)
		storage_close(&fetch->storage);
	if (fetch) {
		strbuf_release(&fetch->why);
		strbuf_release(&fetch->no_hooks);
	}
}

int cmd_clean(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = { "git model clean [-- <path>]",
					     NULL };
	const struct option options[] = { OPT_END() };
	const char *path = path_arg(argc, argv, usage, options);
	struct filter f = FILTER_INIT;
	struct store s = STORE_INIT;
	struct strbuf out = STRBUF_INIT, url = STRBUF_INIT;
	struct fd_src in;
	int ret = 0;

	setup_filter(repo, &f, &s, &url, NULL, 0);
	fd_src_init(&in, 0);
	if (filter_clean(&f, &in.base, path, &out) < 0 ||
	    write_in_full(1, out.buf, out.len) < 0)
		ret = 1;
	strbuf_release(&out);
	release_filter(&s, &url, NULL);
	return ret;
}

int cmd_smudge(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = {
		"git model smudge [--skip] [-- <path>]", NULL
	};
	struct filter f = FILTER_INIT;
	const struct option options[] = { OPT_SKIP(&f.skip_smudge),
					  OPT_END() };
	const char *path = path_arg(argc, argv, usage, options);
	struct store s = STORE_INIT;
	struct smudge sm = SMUDGE_INIT;
	struct fd_src in;
	struct fd_sink out;
	struct strbuf url = STRBUF_INIT;
	struct fetch_ctx fetch = { NULL };
	int ret = 0;

	setup_filter(repo, &f, &s, &url, &fetch, 0);
	fd_src_init(&in, 0);
	fd_sink_init(&out, 1);
	if (filter_smudge_prepare(&f, &in.base, path, &sm) < 0 ||
	    filter_smudge_write(&sm, &out.base, path) < 0)
		ret = 1;
	smudge_release(&sm);
	release_filter(&s, &url, &fetch);
	return ret;
}

int cmd_filter_process(int argc, const char **argv, struct repo *repo)
{
	struct filter f = FILTER_INIT;
	struct store s = STORE_INIT;
	struct strbuf url = STRBUF_INIT;
	struct fetch_ctx fetch = { NULL };
	int ret;
	static const char *const usage[] = {
		"git model filter-process [--skip]", NULL
	};
	const struct option options[] = { OPT_SKIP(&f.skip_smudge),
					  OPT_END() };

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	setup_filter(repo, &f, &s, &url, &fetch, 1);
	if (run_for_textconv(repo))
		f.skip_smudge = 1;
	ret = filter_process(&f, 0, 1) < 0;
	/*
	 * git closes the pipe as it exits, with the index written, and waits
	 * for us. Files that no hook wrote (git reset --hard, git stash run
	 * no hook) are written now.
	 */
	if (!ret && fetch.deferred && checkout_deferred(repo, !isatty(2)) < 0)
		ret = 1;
	release_filter(&s, &url, &fetch);
	return ret;
}
