#ifndef BUILTIN_H
#define BUILTIN_H

/*
 * The subcommands. Each cmd_*() gets its arguments with argv[0] the command
 * name, and the repository when its row in git-model.c's table asks for
 * one (NULL otherwise, or when there is none and the command runs without).
 * A cmd_*() returns the process exit code and may die().
 *
 * Each cmd_*() parses its options with parse_options() from one table
 * before it touches the repository: "git model <cmd> -h" runs it with
 * `repo` NULL, and it leaves from parse_options() with the usage.
 */

#include "parse-options.h"
#include "repo.h"
#include "store.h"
#include "usage.h"

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv, struct repo *repo);
	unsigned flags;
	const char *summary;
};

/* flags */
#define NEED_REPO (1 << 0)      /* die outside a repository */
#define NEED_WORK_TREE (1 << 1) /* die in a bare repository */
#define USE_REPO (1 << 2)       /* open one when there is one */
#define PLUMBING (1 << 3)       /* listed apart in usage */

int cmd_install(int argc, const char **argv, struct repo *repo);
int cmd_uninstall(int argc, const char **argv, struct repo *repo);
int cmd_track(int argc, const char **argv, struct repo *repo);
int cmd_untrack(int argc, const char **argv, struct repo *repo);
int cmd_clean(int argc, const char **argv, struct repo *repo);
int cmd_smudge(int argc, const char **argv, struct repo *repo);
int cmd_filter_process(int argc, const char **argv, struct repo *repo);
int cmd_pointer(int argc, const char **argv, struct repo *repo);
int cmd_pre_push(int argc, const char **argv, struct repo *repo);
int cmd_post_checkout(int argc, const char **argv, struct repo *repo);
int cmd_push(int argc, const char **argv, struct repo *repo);
int cmd_fetch(int argc, const char **argv, struct repo *repo);
int cmd_checkout(int argc, const char **argv, struct repo *repo);
int cmd_pull(int argc, const char **argv, struct repo *repo);
int cmd_ls_files(int argc, const char **argv, struct repo *repo);
int cmd_status(int argc, const char **argv, struct repo *repo);
int cmd_fsck(int argc, const char **argv, struct repo *repo);
int cmd_prune(int argc, const char **argv, struct repo *repo);
int cmd_migrate(int argc, const char **argv, struct repo *repo);
int cmd_url(int argc, const char **argv, struct repo *repo);
int cmd_show(int argc, const char **argv, struct repo *repo);
int cmd_textconv(int argc, const char **argv, struct repo *repo);
int cmd_model_diff(int argc, const char **argv, struct repo *repo);
int cmd_merge_driver(int argc, const char **argv, struct repo *repo);
int cmd_env(int argc, const char **argv, struct repo *repo);
int cmd_version(int argc, const char **argv, struct repo *repo);
int cmd_help(int argc, const char **argv, struct repo *repo);

/* "git-model/<version> (libgit2 x; libcurl y; OpenSSL z; zstd w)" */
void version_string(struct strbuf *out);

/*
 * What the weights take on disk (git-model-env(1)), on standard output,
 * each line after `indent`: "disk.store=<bytes> (<size>, <n> object(s))"
 * for the store's objects, "disk.lent=" for those lent to work trees,
 * and, in a repository with a work tree, "disk.checkout=" for what a
 * checkout of the files that hold their pointer would write.
 */
void print_disk_use(struct repo *repo, const char *indent);

#endif
