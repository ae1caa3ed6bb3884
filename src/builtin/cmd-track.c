/*
 * track / untrack: the filter=model lines of the top-level .gitattributes.
 */

#include <stdio.h>
#include <string.h>

#include "attr-file.h"
#include "builtin.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static void attributes_path(const struct repo *repo, struct strbuf *out)
{
	strbuf_addf(out, "%s/.gitattributes", repo->workdir);
}

/* The pattern as written in the top-level file, for a user's argument. */
static void file_pattern(const struct repo *repo, const char *arg,
			 struct strbuf *out)
{
	struct strbuf full = STRBUF_INIT;

	/* From a subdirectory, a pattern means files under it. */
	if (*repo->prefix && arg[0] != '/')
		strbuf_addstr(&full, repo->prefix);
	strbuf_addstr(&full, arg);
	attr_escape_pattern(full.buf, out);
	strbuf_release(&full);
}

static int list_file(const char *path, const char *label)
{
	struct attr_file f = ATTR_FILE_INIT;
	size_t i;

	if (attr_file_read(&f, path) < 0)
		return -1;
	for (i = 0; i < f.nr; i++)
		if (f.lines[i].tracked)
			printf("    %s (%s)\n", f.lines[i].pattern, label);
	attr_file_release(&f);
	return 0;
}

static int list_tracked(struct repo *repo)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	printf("Listing tracked patterns\n");
	attributes_path(repo, &path);
	if (list_file(path.buf, ".gitattributes") < 0)
		ret = 1;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/info/attributes", repo->commondir);
	if (list_file(path.buf, ".git/info/attributes") < 0)
		ret = 1;
	strbuf_release(&path);
	return ret;
}

static ssize_t find_tracked(struct attr_file *f, const char *pattern)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		if (f->lines[i].tracked && !strcmp(f->lines[i].pattern, pattern))
			return i;
	return -1;
}

/*
 * Without the filter in git's configuration a tracked file would be
 * committed raw, silently: install it (in the global config, as `git model
 * install` does) and say so.
 */
static void ensure_filter(struct repo *repo)
{
	static const char *install[] = { "install", NULL };
	struct strbuf v = STRBUF_INIT;
	int clean = repo_config_get(repo, "filter.model.clean", &v);
	int process = repo_config_get(repo, "filter.model.process", &v);

	strbuf_release(&v);
	if (clean != 1 || process != 1)
		return;
	printf("The git-model filter is not configured: running "
	       "'git model install'\n");
	if (cmd_install(1, install, repo))
		die("cannot install the git-model filter (run 'git model "
		    "install')");
}

static void load(struct repo *repo, struct attr_file *f)
{
	struct strbuf path = STRBUF_INIT;

	attributes_path(repo, &path);
	if (attr_file_read(f, path.buf) < 0)
		die("cannot read '%s'", path.buf);
	strbuf_release(&path);
}

int cmd_track(int argc, const char **argv, struct repo *repo)
{
	struct attr_file f = ATTR_FILE_INIT;
	struct strbuf pat = STRBUF_INIT, line = STRBUF_INIT;
	int i, changed = 0;
	static const char *const usage[] = { "git model track [<pattern>...]",
					     NULL };
	const struct option options[] = { OPT_END() };

	argc = parse_options(argc, argv, options, usage, 0);
	if (!argc)
		return list_tracked(repo);

	load(repo, &f);
	for (i = 0; i < argc; i++) {
		if (!*argv[i] || strchr(argv[i], '\n'))
			die("invalid pattern '%s'", argv[i]);
		strbuf_reset(&pat);
		file_pattern(repo, argv[i], &pat);
		if (find_tracked(&f, pat.buf) >= 0) {
			printf("'%s' already tracked\n", pat.buf);
			continue;
		}
		strbuf_reset(&line);
		strbuf_addf(&line, "%s %s", pat.buf, ATTR_MODEL);
		attr_file_append(&f, line.buf);
		printf("Tracking '%s'\n", pat.buf);
		changed = 1;
	}
	if (changed && attr_file_write(&f) < 0)
		die("cannot update '%s'", f.path);
	ensure_filter(repo);
	attr_file_release(&f);
	strbuf_release(&pat);
	strbuf_release(&line);
	return 0;
}

int cmd_untrack(int argc, const char **argv, struct repo *repo)
{
	struct attr_file f = ATTR_FILE_INIT;
	struct strbuf pat = STRBUF_INIT;
	int i, changed = 0, missing = 0;
	static const char *const usage[] = { "git model untrack <pattern>...",
					     NULL };
	const struct option options[] = { OPT_END() };

	argc = parse_options(argc, argv, options, usage, 0);
	if (!argc)
		usage_msg_opt("no pattern given", usage, options);
	load(repo, &f);
	for (i = 0; i < argc; i++) {
		ssize_t at;

		strbuf_reset(&pat);
		file_pattern(repo, argv[i], &pat);
		at = find_tracked(&f, pat.buf);
		if (at < 0) {
			error("'%s' is not tracked", pat.buf);
			missing = 1;
			continue;
		}
		while (at >= 0) {
			attr_file_remove(&f, at);
			at = find_tracked(&f, pat.buf);
		}
		printf("Untracking '%s'\n", pat.buf);
		changed = 1;
	}
	if (changed && attr_file_write(&f) < 0)
		die("cannot update '%s'", f.path);
	attr_file_release(&f);
	strbuf_release(&pat);
	return missing;
}
