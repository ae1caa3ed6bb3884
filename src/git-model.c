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
#include "run-command.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static const struct command commands[] = {
	{ "install", cmd_install, USE_REPO,
	  "Configure the filter (and hooks) for git-model",
	  "git model install [--global | --local | --system] [--skip-smudge]" },
	{ "uninstall", cmd_uninstall, USE_REPO,
	  "Remove the filter configuration",
	  "git model uninstall [--global | --local | --system]" },
	{ "track", cmd_track, NEED_REPO | NEED_WORK_TREE,
	  "Track files matching patterns, or list tracked patterns",
	  "git model track [<pattern>...]" },
	{ "untrack", cmd_untrack, NEED_REPO | NEED_WORK_TREE,
	  "Stop tracking patterns",
	  "git model untrack <pattern>..." },
	{ "push", cmd_push, NEED_REPO,
	  "Upload the weights that commits add, as pre-push does",
	  "git model push [-n | --dry-run] [--all] [-q | --quiet] [--progress]\n"
	  "                      [<remote>] [<ref>...]" },
	{ "fetch", cmd_fetch, NEED_REPO,
	  "Download the weights of refs into the local store",
	  "git model fetch [-I | --include <globs>] [-X | --exclude <globs>]\n"
	  "                       [-q | --quiet] [--progress] [<remote>] [<ref>...]" },
	{ "checkout", cmd_checkout, NEED_REPO | NEED_WORK_TREE,
	  "Put local weights into work tree files that hold pointers",
	  "git model checkout [-q | --quiet] [--] [<path>...]" },
	{ "pull", cmd_pull, NEED_REPO | NEED_WORK_TREE,
	  "fetch, then checkout",
	  "git model pull [-I | --include <globs>] [-X | --exclude <globs>]\n"
	  "                      [-q | --quiet] [--progress] [<remote>] [<ref>...]" },
	{ "ls-files", cmd_ls_files, NEED_REPO,
	  "List the pointers of a revision (* weights local, - not)",
	  "git model ls-files [<rev>]" },
	{ "status", cmd_status, NEED_REPO | NEED_WORK_TREE,
	  "Show weights not yet pushed and files still holding pointers",
	  "git model status" },
	{ "fsck", cmd_fsck, NEED_REPO,
	  "Check the local store and the pointers of revisions",
	  "git model fsck [--objects] [--pointers] [--remote] [<rev>...]" },
	{ "prune", cmd_prune, NEED_REPO,
	  "Delete local weights that are not in use and are in storage",
	  "git model prune [-n | --dry-run] [-v | --verbose]" },
	{ "migrate", cmd_migrate, NEED_REPO,
	  "Rewrite history: raw files or git-lfs pointers become git-model's",
	  "git model migrate import --include=<patterns> [-n | --dry-run]\n"
	  "                         [-v | --verbose] [-q | --quiet]\n"
	  "                         [--everything | <ref>...]\n"
	  "   or: git model migrate from-lfs [-n | --dry-run] [-v | --verbose]\n"
	  "                         [-q | --quiet] [--everything | <ref>...]" },
	{ "url", cmd_url, NEED_REPO,
	  "Print the storage URL of a file's weights",
	  "git model url [--rev <rev>] [--https] <path>" },
	{ "pointer", cmd_pointer, USE_REPO,
	  "Print the pointer for a file, or check that a file is one",
	  "git model pointer --file <file>\n"
	  "   or: git model pointer --check [-q | --quiet] (<file> | -)" },
	{ "env", cmd_env, USE_REPO,
	  "Show the version, repository, store and configuration in effect",
	  "git model env" },
	{ "version", cmd_version, 0,
	  "Show the version",
	  "git model version" },
	{ "help", cmd_help, 0,
	  "List the commands",
	  "git model help" },
	{ "clean", cmd_clean, NEED_REPO | PLUMBING,
	  "Filter: turn content on stdin into a pointer on stdout",
	  "git model clean [-- <path>]" },
	{ "smudge", cmd_smudge, NEED_REPO | PLUMBING,
	  "Filter: turn a pointer on stdin into content on stdout",
	  "git model smudge [--skip] [-- <path>]" },
	{ "pre-push", cmd_pre_push, NEED_REPO | PLUMBING,
	  "Hook: upload weights before git pushes commits",
	  "git model pre-push <remote> <url> <ref-lines" },
	{ "post-checkout", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: write big files' weights after git checks them out",
	  "git model post-checkout [<hook-args>...]" },
	{ "post-merge", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: the same after a merge or pull",
	  "git model post-merge [<hook-args>...]" },
	{ "post-rewrite", cmd_post_checkout,
	  NEED_REPO | NEED_WORK_TREE | PLUMBING,
	  "Hook: the same after a rebase",
	  "git model post-rewrite [<hook-args>...]" },
	{ "filter-process", cmd_filter_process, NEED_REPO | PLUMBING,
	  "Filter: serve git's long-running filter protocol",
	  "git model filter-process [--skip]" },
};

static const struct command *running;

const struct command *current_command(void)
{
	return running;
}

static void print_usage_lines(FILE *fp, const char *text)
{
	fprintf(fp, "usage: %s\n", text);
}

void usage_cmd(const char *msg)
{
	if (msg)
		error("%s", msg);
	if (!running)
		BUG("usage_cmd() outside a command");
	print_usage_lines(stderr, running->usage);
	exit(129);
}

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

static const char main_usage[] =
	"git model [--version] [-h | --help] <command> [<args>]";

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

static void NORETURN main_help(FILE *fp, int code)
{
	fprintf(fp, "usage: %s\n", main_usage);
	list_commands(fp);
	fprintf(fp, "\n'git model <command> -h' shows a command's options.\n");
	exit(code);
}

int cmd_help(int argc, const char **argv, struct repo *repo)
{
	(void)argc;
	(void)argv;
	(void)repo;
	main_help(stdout, 0);
}

static int run(const struct command *cmd, int argc, const char **argv)
{
	struct repo repo = REPO_INIT;
	int have_repo = 0, ret;

	running = cmd;
	if (argc == 2 && !strcmp(argv[1], "-h")) {
		print_usage_lines(stdout, cmd->usage);
		exit(129);
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		show_man_page(cmd->name);
		printf("git model %s: %s\n\n", cmd->name, cmd->summary);
		print_usage_lines(stdout, cmd->usage);
		return 0;
	}
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
	const char *name;
	size_t i;
	int ret;

	/* A closed pipe is an error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* Over `ulimit -f`, write(2) fails with EFBIG, which we report. */
	signal(SIGXFSZ, SIG_IGN);
	git_libgit2_init();

	argv++;
	argc--;
	if (argc < 1)
		main_help(stderr, 1);
	name = argv[0];
	if (!strcmp(name, "-h"))
		main_help(stdout, 0);
	if (!strcmp(name, "--help")) {
		show_man_page("help");
		main_help(stdout, 0);
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-v"))
		name = "version";

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		ret = run(&commands[i], argc, argv);
		/* What the command put in the store survives a crash. */
		if (dir_sync_wait() < 0 && !ret)
			ret = 1;
		git_libgit2_shutdown();
		if (fflush(stdout) || ferror(stdout))
			die_errno("cannot write to standard output");
		return ret;
	}
	if (name[0] == '-')
		error("unknown option '%s'", name);
	else
		error("'%s' is not a git-model command", name);
	main_help(stderr, 1);
}
