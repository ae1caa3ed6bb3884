/*
 * install / uninstall: the filter, diff and merge drivers in git's
 * configuration.
 *
 * The values are written by git itself (`git config`, run without a shell),
 * so --global and --system mean exactly what they mean to git, including
 * GIT_CONFIG_GLOBAL, XDG files and the system config's location.
 */

#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "hooks.h"
#include "run-command.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct config_value {
	const char *key;
	const char *value;
	const char *skip_value; /* with --skip-smudge */
};

static const struct config_value filter_config[] = {
	{ "filter.model.clean", "git-model clean -- %f", NULL },
	{ "filter.model.smudge", "git-model smudge -- %f",
	  "git-model smudge --skip -- %f" },
	{ "filter.model.process", "git-model filter-process",
	  "git-model filter-process --skip" },
	{ "filter.model.required", "true", NULL },
	/* What diff=model and merge=model in .gitattributes name. */
	{ "diff.model.textconv", "git-model textconv", NULL },
	{ "merge.model.name", "git-model tensor merge", NULL },
	{ "merge.model.driver", "git-model merge-driver %O %A %B %P", NULL },
};

/* The sections install writes, removed by uninstall. */
static const char *const sections[] = { "filter.model", "diff.model",
					"merge.model" };

static const char *parse_level(int argc, const char **argv, int *skip_smudge,
			       struct repo *repo)
{
	const char *level = "--global";
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--global") ||
		    !strcmp(argv[i], "--local") ||
		    !strcmp(argv[i], "--system"))
			level = argv[i];
		else if (skip_smudge && !strcmp(argv[i], "--skip-smudge"))
			*skip_smudge = 1;
		else
			usage_cmd(NULL);
	}
	if (!strcmp(level, "--local") && !repo)
		die("--local needs a repository (run it inside one, or use "
		    "--global)");
	return level;
}

static const char *level_name(const char *level)
{
	return level + 2;
}

static int set_config(const char *level, const char *a, const char *b,
		      const char *c)
{
	const char *argv[] = { "git", "config", level, a, b, c, NULL };

	return run_command(argv, NULL, 0);
}

int cmd_install(int argc, const char **argv, struct repo *repo)
{
	int skip_smudge = 0;
	const char *level = parse_level(argc, argv, &skip_smudge, repo);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(filter_config); i++) {
		const struct config_value *cv = &filter_config[i];
		const char *value = skip_smudge && cv->skip_value ?
					    cv->skip_value : cv->value;

		if (set_config(level, "--replace-all", cv->key, value))
			die("cannot set '%s' in the %s git config", cv->key,
			    level_name(level));
	}
	printf("git-model filter installed in the %s git config%s\n",
	       level_name(level),
	       skip_smudge ? " (smudge skipped: checkouts keep pointers)" :
			     "");
	/* Clones get the hooks from the filter's first run. */
	if (repo && repo->workdir) {
		int ret = hooks_install(repo);

		if (ret < 0)
			return 1;
		if (ret > 0)
			printf("hooks installed: pre-push, post-checkout, "
			       "post-merge, post-rewrite\n");
	}
	return 0;
}

int cmd_uninstall(int argc, const char **argv, struct repo *repo)
{
	const char *level = parse_level(argc, argv, NULL, repo);
	int hooks_ret = repo ? hooks_uninstall(repo) : 0, removed = 0;
	struct strbuf re = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sections); i++) {
		const char *get[] = { "git", "config", level, "--get-regexp",
				      NULL, NULL };
		int ret;

		strbuf_reset(&re);
		strbuf_addf(&re, "^%.*s\\.model\\.",
			    (int)(strchr(sections[i], '.') - sections[i]),
			    sections[i]);
		get[4] = re.buf;
		strbuf_reset(&out);
		ret = run_command(get, &out, 1 << 20);
		if (ret == 1)
			continue;
		if (ret || set_config(level, "--remove-section", sections[i],
				      NULL))
			die("cannot remove '%s' from the %s git config",
			    sections[i], level_name(level));
		/* The filter is what the messages name. */
		removed |= !i;
	}
	strbuf_release(&re);
	strbuf_release(&out);
	if (!removed) {
		printf("git-model filter is not in the %s git config\n",
		       level_name(level));
		return hooks_ret < 0;
	}
	printf("git-model filter removed from the %s git config\n",
	       level_name(level));
	return hooks_ret < 0;
}
