/*
 * clean, smudge, filter-process: the filter driver's commands, as git runs
 * them (see cmd-install.c for the configuration that names them).
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "filter.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* Parse "[--skip] [--] [<path>]"; returns the path, "<stdin>" if none. */
static const char *parse_args(int argc, const char **argv, int *skip)
{
	const char *path = NULL;
	int i, dashdash = 0;

	for (i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--"))
			dashdash = 1;
		else if (!dashdash && skip && !strcmp(argv[i], "--skip"))
			*skip = 1;
		else if (!dashdash && argv[i][0] == '-')
			usage_cmd(NULL);
		else if (!path)
			path = argv[i];
		else
			usage_cmd("too many arguments");
	}
	return path ? path : "<stdin>";
}

static void setup_filter(struct repo *repo, struct filter *f,
			 struct store *s)
{
	repo_store(repo, s);
	f->store = s;
}

int cmd_clean(int argc, const char **argv, struct repo *repo)
{
	const char *path = parse_args(argc, argv, NULL);
	struct filter f = FILTER_INIT;
	struct store s = STORE_INIT;
	struct strbuf out = STRBUF_INIT;
	struct fd_src in;
	int ret = 0;

	setup_filter(repo, &f, &s);
	fd_src_init(&in, 0);
	if (filter_clean(&f, &in.base, path, &out) < 0 ||
	    write_in_full(1, out.buf, out.len) < 0)
		ret = 1;
	strbuf_release(&out);
	store_release(&s);
	return ret;
}

int cmd_smudge(int argc, const char **argv, struct repo *repo)
{
	struct filter f = FILTER_INIT;
	const char *path = parse_args(argc, argv, &f.skip_smudge);
	struct store s = STORE_INIT;
	struct smudge sm = SMUDGE_INIT;
	struct fd_src in;
	struct fd_sink out;
	int ret = 0;

	setup_filter(repo, &f, &s);
	fd_src_init(&in, 0);
	fd_sink_init(&out, 1);
	if (filter_smudge_prepare(&f, &in.base, path, &sm) < 0 ||
	    filter_smudge_write(&sm, &out.base, path) < 0)
		ret = 1;
	smudge_release(&sm);
	store_release(&s);
	return ret;
}

int cmd_filter_process(int argc, const char **argv, struct repo *repo)
{
	struct filter f = FILTER_INIT;
	struct store s = STORE_INIT;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--skip"))
			f.skip_smudge = 1;
		else
			usage_cmd(NULL);
	}
	setup_filter(repo, &f, &s);
	ret = filter_process(&f, 0, 1) < 0;
	store_release(&s);
	return ret;
}
