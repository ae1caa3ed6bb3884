/*
 * git-model: version large model files with plain git commits and tags.
 *
 * This file is the entry point: global options and the command table.
 * Adding a command is a cmd-<name>.c, a row below, a man page and a test.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "builtin.h"
#include "dir-sync.h"
#include "parse-options.h"
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static const struct command commands[] = {
	{ "install", cmd_install, USE_REPO,
	  "Configure the filter (and hooks) for git-model" },
	{ "uninstall", cmd_uninstall, USE_REPO,
	  "Remove the filter configuration" },
	{ "track", cmd_track, NEED_REPO | NEED_WORK_TREE,
	  "Track files matching patterns, or list tracked patterns" },
	{ "untrack", cmd_untrack, NEED_REPO | NEED_WORK_TREE,
	  "Stop tracking patterns" },
	{ "push", cmd_push, NEED_REPO,
	  "Upload the weights that commits add, as pre-push does" },
	{ "fetch", cmd_fetch, NEED_REPO,
	  "Download the weights of refs into the local store" },
	{ "checkout", cmd_checkout, NEED_REPO | NEED_WORK_TREE,
	  "Put local weights into work tree files that hold pointers" },
	{ "pull", cmd_pull, NEED_REPO | NEED_WORK_TREE,
	  "fetch, then checkout" },
	{ "ls-files", cmd_ls_files, NEED_REPO,
	  "List the pointers of a revision (* weights local, - not)" },
	{ "status", cmd_status, NEED_REPO | NEED_WORK_TREE,
	  "Show weights not yet pushed, files still holding pointers, disk use" },
	{ "fsck", cmd_fsck, NEED_REPO,
	  "Check the local store and the pointers of revisions" },
	{ "prune", cmd_prune, NEED_REPO,
	  "Delete local weights that are not in use and are in storage" },
	{ "migrate", cmd_migrate, NEED_REPO,
	  "Rewrite history: raw files or git-lfs pointers become git-model's" },
	{ "url", cmd_url, NEED_REPO,
	  "Print the storage URL of a file's weights" },
	{ "show", cmd_show, NEED_REPO,
	  "Show a model file's format and tensors" },
	{ "diff", cmd_model_diff, NEED_REPO,
	  "Show how the tensors of model files changed, with numbers" },
	{ "pointer", cmd_pointer, USE_REPO,
	  "Print the pointer for a file, or check that a file is one" },
	{ "env", cmd_env, USE_REPO,
	  "Show the version, repository, store and configuration in effect" },
	{ "version", cmd_version, 0,
	  "Show the version" },
	{ "help", cmd_help, 0,
	  "List the commands, or open a command's manual" },
	{ "clean", cmd_clean, NEED_REPO | PLUMBING,
	  "Filter: turn content on stdin into a pointer on stdout" },
	{ "smudge", cmd_smudge, NEED_REPO | PLUMBING,
	  "Filter: turn a pointer on stdin into content on stdout" },
	{ "pre-push", cmd_pre_push, NEED_REPO | PLUMBING,
	  "Hook: upload weights before git pushes commits" },
	{ "post-checkout", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: write big files' weights after git checks them out" },
	{ "post-merge", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: the same after a merge or pull" },
	{ "post-rewrite", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: the same after a rebase" },
	{ "textconv", cmd_textconv, NEED_REPO | PLUMBING,
	  "Diff driver: print a model file's tensors, one a line" },
	{ "merge-driver", cmd_merge_driver, NEED_REPO | PLUMBING,
	  "Merge driver: merge a model file's tensors, or leave ours" },
	{ "filter-process", cmd_filter_process, NEED_REPO | PLUMBING,
	  "Filter: serve git's long-running filter protocol" },
};

static void list_commands(FILE *fp)
{
	size_t i;
	int plumbing;

	for (plumbing = 0; plumbing <= 1; plumbing++) {
		fprintf(fp, "\n%s\n", plumbing ? "Plumbing commands:" :
						 "Commands:");
		for (i = 0; i < ARRAY_SIZE(commands); i++)
			if (!!(commands[i].flags & PLUMBING) == plumbing)
				fprintf(fp, "   %-16s %s\n", commands[i].name,
					commands[i].summary);
	}
}

/*
 * --help opens the command's man page when man can find it (installed, or
 * on MANPATH); otherwise it prints the summary and usage.
 */
static int show_man_page(const char *name)
{
	char page[64];
	const char *where[] = { "man", "-w", page, NULL };
	struct strbuf out = STRBUF_INIT;
	int found;

	if (!strcmp(name, "clean") || !strcmp(name, "smudge"))
		name = "filter-process";
	if (!strcmp(name, "post-merge") || !strcmp(name, "post-rewrite"))
		name = "post-checkout";
	if (!strcmp(name, "textconv"))
		name = "show";
	if (!strcmp(name, "help"))
		xsnprintf(page, sizeof(page), "git-model");
	else
		xsnprintf(page, sizeof(page), "git-model-%s", name);
	found = !run_command_quiet(where, &out);
	strbuf_release(&out);
	if (!found)
		return -1;
	fflush(stdout);
	execlp("man", "man", page, (char *)NULL);
	return -1;
}

static const char *const main_usage[] = {
	"git model [--version] [-h | --help] <command> [<args>]",
	NULL
};

static void NORETURN main_help(FILE *fp, int code)
{
	fprintf(fp, "usage: %s\n", main_usage[0]);
	list_commands(fp);
	fprintf(fp, "\n'git model <command> -h' shows a command's options; "
		    "'git model help <command>' its manual.\n");
	exit(code);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/*
 * The command's manual; without one, its summary and its "--help" output,
 * which its option table makes (the command runs without a repository and
 * leaves from parse_options()).
 */
static void NORETURN command_help(const struct command *cmd)
{
	const char *argv[] = { cmd->name, "--help", NULL };

	show_man_page(cmd->name);
	printf("git model %s: %s\n\n", cmd->name, cmd->summary);
	fflush(stdout);
	cmd->fn(2, argv, NULL);
	BUG("'git model %s --help' returned", cmd->name);
}

int cmd_help(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = { "git model help [<command>]",
					     NULL };
	const struct option options[] = { OPT_END() };
	const struct command *cmd;

	(void)repo;
	argc = parse_options(argc, argv, options, usage, 0);
	if (!argc)
		main_help(stdout, 0);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	cmd = find_command(argv[0]);
	if (!cmd) {
		error("'%s' is not a git-model command", argv[0]);
		main_help(stderr, 1);
	}
	command_help(cmd);
}

static int run(const struct command *cmd, int argc, const char **argv)
{
	struct repo repo = REPO_INIT;
	int have_repo = 0, ret;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		command_help(cmd);
	/* These work anywhere: the command leaves from parse_options(). */
	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--git-completion-helper")))
		return cmd->fn(argc, argv, NULL);
	if (cmd->flags & (NEED_REPO | USE_REPO)) {
		have_repo = !repo_open(&repo);
		if (!have_repo && (cmd->flags & NEED_REPO))
			die("not in a git repository (run 'git model %s' inside "
			    "one)", cmd->name);
		if (have_repo && (cmd->flags & NEED_WORK_TREE) &&
		    !repo.workdir)
			die("'git model %s' needs a work tree; this repository "
			    "is bare", cmd->name);
	}
	ret = cmd->fn(argc, argv, have_repo ? &repo : NULL);
	repo_release(&repo);
	return ret;
}

int main(int argc, const char **argv)
{
	int short_help = 0, long_help = 0, version = 0, ret;
	const struct option options[] = {
		OPT_BOOL('h', NULL, &short_help, "list the commands"),
		OPT_BOOL(0, "help", &long_help, "open git-model(1)"),
		OPT_BOOL('v', "version", &version, "show the version"),
		OPT_END(),
	};
	const struct command *cmd;

	/* A closed pipe is an error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* Over `ulimit -f`, write(2) fails with EFBIG, which we report. */
	signal(SIGXFSZ, SIG_IGN);

	argc = parse_options(argc, argv, options, main_usage,
			     PARSE_OPT_STOP_AT_NON_OPTION);
	if (long_help)
		show_man_page("help");
	if (short_help || long_help)
		main_help(stdout, 0);
	if (version) {
		argv[0] = "version";
		argv[1] = NULL;
		argc = 1;
	}
	if (argc < 1)
		main_help(stderr, 1);
	cmd = find_command(argv[0]);
	if (!cmd) {
		error("'%s' is not a git-model command", argv[0]);
		main_help(stderr, 1);
	}

	git_libgit2_init();
	ret = run(cmd, argc, argv);
	/* What the command put in the store survives a crash. */
	if (dir_sync_wait() < 0 && !ret)
		ret = 1;
	git_libgit2_shutdown();
	if (fflush(stdout) || ferror(stdout))
		die_errno("cannot write to standard output");
	return ret;
}
