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
	{ "merge.model.driver", "git-model merge-driver -- %O %A %B %P", NULL },
};

/* The sections install writes, removed by uninstall. */
static const char *const sections[] = { "filter.model", "diff.model",
					"merge.model" };

/* git config's option for each level, as OPT_LEVELS() numbers them. */
static const char *const levels[] = { "--global", "--local", "--system" };

#define OPT_LEVELS(v)                                                       \
	OPT_SET_INT(0, "global", (v),                                       \
		    "in ~/.gitconfig, for every repository (default)", 0), \
	OPT_SET_INT(0, "local", (v), "in this repository's config", 1),    \
	OPT_SET_INT(0, "system", (v), "in the system's git config", 2)

static const char *level_of(int at, struct repo *repo)
{
	const char *level = levels[at];

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
	static const char *const usage[] = {
		"git model install [--global | --local | --system] "
		"[--skip-smudge]",
		NULL
	};
	int at = 0, skip_smudge = 0;
	const struct option options[] = {
		OPT_LEVELS(&at),
		OPT_BOOL_F(0, "skip-smudge", &skip_smudge,
			   "checkouts keep pointers, for 'git model pull' later",
			   PARSE_OPT_NONEG),
		OPT_END(),
	};
	const char *level;
	size_t i;

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	level = level_of(at, repo);

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
	static const char *const usage[] = {
		"git model uninstall [--global | --local | --system]", NULL
	};
	int at = 0, had_hooks, hooks_ret, removed = 0;
	const struct option options[] = { OPT_LEVELS(&at), OPT_END() };
	const char *level;
	struct strbuf re = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	level = level_of(at, repo);
	had_hooks = repo && hooks_installed(repo);
	hooks_ret = repo ? hooks_uninstall(repo) : 0;

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
	if (had_hooks && !hooks_ret)
		printf("hooks removed: pre-push, post-checkout, post-merge, "
		       "post-rewrite\n");
	if (!removed) {
		printf("git-model filter is not in the %s git config\n",
		       level_name(level));
		return hooks_ret < 0;
	}
	printf("git-model filter removed from the %s git config\n",
	       level_name(level));
	return hooks_ret < 0;
}
