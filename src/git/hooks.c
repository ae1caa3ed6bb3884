#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define MARKER "# git-model hook"
#define CHAINED ".git-model-chained"

/*
 * pre-push uploads weights. The others write the weights that the filter
 * left to them (checkout.h): post-checkout runs after checkout, switch,
 * clone and worktree add, post-merge after merge and pull, post-rewrite
 * after rebase.
 */
static const struct hook {
	const char *name;
	const char *without; /* what goes wrong without git-model */
} hooks[] = {
	{ "pre-push", "the weights cannot be uploaded" },
	{ "post-checkout", "big files keep their pointer text" },
	{ "post-merge", "big files keep their pointer text" },
	{ "post-rewrite", "big files keep their pointer text" },
};

static const char hook_template[] =
	"#!/bin/sh\n"
	MARKER ": installed by 'git model install'; removed by 'git model\n"
	"# uninstall'. A hook that was here before runs after this one, from\n"
	"# %s" CHAINED ".\n"
	"command -v git-model >/dev/null 2>&1 || {\n"
	"\techo >&2 \"git-model is not on PATH: %s"
	" (install git-model, or run 'git model uninstall --local')\"\n"
	"\texit 2\n"
	"}\n"
	"case $0 in */*) chained=${0%%/*} ;; *) chained=. ;; esac\n"
	"chained=\"$chained/%s" CHAINED "\"\n"
	"if test -x \"$chained\"\n"
	"then\n"
	"\trefs=$(cat)\n"
	"\t{ test -z \"$refs\" || printf '%%s\\n' \"$refs\"; } |\n"
	"\tgit-model %s \"$@\" || exit $?\n"
	"\t{ test -z \"$refs\" || printf '%%s\\n' \"$refs\"; } |\n"
	"\texec \"$chained\" \"$@\"\n"
	"fi\n"
	"exec git-model %s \"$@\"\n";

/* The hooks directory; 1 when core.hooksPath names it, else 0. */
static int hooks_dir(const struct repo *r, struct strbuf *out)
{
	struct strbuf cfg = STRBUF_INIT;
	const char *home = getenv("HOME");
	int configured = 0;

	if (!config_get(r, "core.hooksPath", &cfg) && cfg.len) {
		configured = 1;
		/* A pathname to git: "~/" is the home directory. */
		if (!strncmp(cfg.buf, "~/", 2) && home)
			strbuf_addf(out, "%s%s", home, cfg.buf + 1);
		else if (cfg.buf[0] != '/')
			strbuf_addf(out, "%s/%s",
				    r->workdir ? r->workdir : r->gitdir,
				    cfg.buf);
		else
			strbuf_addstr(out, cfg.buf);
	} else {
		strbuf_addf(out, "%s/hooks", r->commondir);
	}
	strbuf_release(&cfg);
	return configured;
}

/* True when `path`, resolved, is `dir` or below it. */
static int path_within(const char *path, const char *dir)
{
	char *p = realpath(path, NULL), *d = realpath(dir, NULL);
	size_t len = d ? strlen(d) : 0;
	int within = p && d && !strncmp(p, d, len) &&
		     (p[len] == '/' || !p[len]);

	free(p);
	free(d);
	return within;
}

int hooks_dir_shared(const struct repo *r, struct strbuf *dir)
{
	struct strbuf parent = STRBUF_INIT;
	const char *slash;
	int shared;

	if (!hooks_dir(r, dir))
		return 0;
	/* A directory still to be made is judged by where it would be. */
	strbuf_add(&parent, dir->buf, dir->len);
	while (access(parent.buf, F_OK) && (slash = strrchr(parent.buf, '/')) &&
	       slash != parent.buf)
		strbuf_setlen(&parent, slash - parent.buf);
	shared = !path_within(parent.buf, r->commondir) &&
		 !path_within(parent.buf, r->gitdir);
	strbuf_release(&parent);
	return shared;
}

/* 1 when `path` is one of our hooks, 0 when not, -1 when absent. */
static int is_ours(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read_in_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, MARKER) != NULL;
}

static void format_hook(const struct hook *h, struct strbuf *out)
{
	strbuf_addf(out, hook_template, h->name, h->without, h->name, h->name,
		    h->name);
}

static int write_hook(const char *path, const struct hook *h)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	format_hook(h, &text);
	ret = write_file_atomically(path, text.buf, text.len, 0755, 0);
	strbuf_release(&text);
	return ret;
}

static int same_content(const char *path, const struct hook *h)
{
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC), same = 0;

	if (fd >= 0) {
		format_hook(h, &want);
		same = strbuf_read_capped(&have, fd, 65536) >= 0 &&
		       have.len == want.len &&
		       !memcmp(have.buf, want.buf, want.len);
		close(fd);
	}
	strbuf_release(&want);
	strbuf_release(&have);
	return same;
}

int hooks_installed(const struct repo *r)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ok = 1;

	for (i = 0; i < ARRAY_SIZE(hooks) && ok; i++) {
		strbuf_reset(&path);
		hooks_dir(r, &path);
		strbuf_addf(&path, "/%s", hooks[i].name);
		ok = same_content(path.buf, &hooks[i]);
	}
	strbuf_release(&path);
	return ok;
}

int hooks_install(const struct repo *r)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT,
		      chained = STRBUF_INIT;
	size_t i;
	int ret = 0;

	hooks_dir(r, &dir);
	for (i = 0; i < ARRAY_SIZE(hooks) && ret >= 0; i++) {
		const char *name = hooks[i].name;

		strbuf_reset(&path);
		strbuf_reset(&chained);
		strbuf_addf(&path, "%s/%s", dir.buf, name);
		strbuf_addf(&chained, "%s" CHAINED, path.buf);
		if (same_content(path.buf, &hooks[i]))
			continue;
		if (mkdir_leading(path.buf) < 0) {
			ret = error_errno("cannot create '%s'", dir.buf);
			break;
		}
		/* The user's own hook (not absent, not ours) is kept. */
		if (is_ours(path.buf) == 0) {
			if (!access(chained.buf, F_OK)) {
				ret = error("cannot install the %s hook: both "
					    "'%s' and '%s' exist; merge them by "
					    "hand",
					    name, path.buf, chained.buf);
				break;
			}
			if (rename(path.buf, chained.buf) < 0) {
				ret = error_errno("cannot keep the existing "
						  "hook '%s'",
						  path.buf);
				break;
			}
		}
		if (write_hook(path.buf, &hooks[i]) < 0)
			ret = -1;
		else
			ret = 1;
	}
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&chained);
	return ret;
}

int hooks_uninstall(const struct repo *r)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT,
		      chained = STRBUF_INIT;
	size_t i;
	int ret = 0;

	hooks_dir(r, &dir);
	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		strbuf_reset(&path);
		strbuf_reset(&chained);
		strbuf_addf(&path, "%s/%s", dir.buf, hooks[i].name);
		strbuf_addf(&chained, "%s" CHAINED, path.buf);
		if (is_ours(path.buf) != 1)
			continue;
		if (!access(chained.buf, F_OK)) {
			if (rename(chained.buf, path.buf) < 0)
				ret = error_errno("cannot restore '%s'",
						  chained.buf);
		} else if (unlink(path.buf) < 0) {
			ret = error_errno("cannot remove '%s'", path.buf);
		}
	}
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&chained);
	return ret;
}
