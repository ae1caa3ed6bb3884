/*
 * migrate: move a repository's history to git-model (import raw files,
 * or from git-lfs), rewriting commits with rewrite.h and migrate.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "human.h"
#include "migrate.h"
#include "parse-options.h"
#include "rewrite.h"
#include "run-command.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

struct migrate_opts {
	enum migrate_mode mode;
	const char *include;
	int everything, dry_run, quiet, verbose;
	const char **refs;
	size_t refs_nr;
};

static const char *const migrate_usage[] = {
	"git model migrate import --include=<patterns> [-n | --dry-run]\n"
	"                         [-v | --verbose] [-q | --quiet]\n"
	"                         [--everything | <ref>...]",
	"git model migrate from-lfs [-n | --dry-run] [-v | --verbose]\n"
	"                         [-q | --quiet] [--everything | <ref>...]",
	NULL
};

static void parse(int argc, const char **argv, struct migrate_opts *o)
{
	const struct option options[] = {
		OPT_STRING('I', "include", &o->include, "<patterns>",
			   "import: the files to turn into pointers"),
		OPT_BOOL(0, "everything", &o->everything,
			 "every branch and tag, not only HEAD's branch"),
		OPT__DRY_RUN(&o->dry_run, "say what would change, change nothing"),
		OPT__QUIET(&o->quiet, "report nothing but errors"),
		OPT__VERBOSE(&o->verbose, "name each rewritten commit"),
		OPT_END(),
	};
	int i;

	argc = parse_options(argc, argv, options, migrate_usage, 0);
	if (argc < 1)
		usage_msg_opt("what to migrate: import or from-lfs",
			      migrate_usage, options);
	if (!strcmp(argv[0], "import"))
		o->mode = MIGRATE_IMPORT;
	else if (!strcmp(argv[0], "from-lfs"))
		o->mode = MIGRATE_FROM_LFS;
	else
		usage_msg_opt("what to migrate: import or from-lfs",
			      migrate_usage, options);
	o->refs = xcalloc(argc + 1, sizeof(*o->refs));
	for (i = 1; i < argc; i++)
		o->refs[o->refs_nr++] = argv[i];
	if (o->everything && o->refs_nr)
		usage_msg_opt("--everything and refs cannot go together",
			      migrate_usage, options);
	if (o->mode == MIGRATE_IMPORT && (!o->include || !*o->include))
		usage_msg_opt("import needs --include=<patterns>",
			      migrate_usage, options);
	if (o->mode == MIGRATE_FROM_LFS && o->include)
		usage_msg_opt("from-lfs takes no --include", migrate_usage,
			      options);
}

/* The full name of the ref the user named (a branch or a tag). */
static void add_ref(struct repo *repo, struct rewrite *rw, const char *name)
{
	git_reference *ref = NULL;

	if (git_reference_dwim(&ref, repo->git, name) < 0)
		die("'%s' is not a branch or tag", name);
	if (rewrite_add_ref(rw, git_reference_name(ref)) < 0)
		exit(128);
	git_reference_free(ref);
}

/* HEAD's branch, the default. */
static void add_head(struct repo *repo, struct rewrite *rw)
{
	git_reference *head = NULL;

	if (git_reference_lookup(&head, repo->git, "HEAD") < 0)
		die("cannot read HEAD");
	if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC)
		die("HEAD is detached: name the branches and tags to migrate, "
		    "or use --everything");
	if (rewrite_add_ref(rw, git_reference_symbolic_target(head)) < 0)
		exit(128);
	git_reference_free(head);
}

/* Refuse a work tree with changes: they would be left on the old side. */
static void require_clean(struct repo *repo)
{
	const char *argv[] = { "git", "status", "--porcelain",
			       "--untracked-files=no", "--ignore-submodules",
			       NULL };
	struct strbuf out = STRBUF_INIT;

	if (!repo->workdir)
		return;
	if (run_command(argv, &out, 64 << 10) != 0)
		die("cannot run 'git status'");
	if (out.len)
		die("the work tree has changes; commit or stash them first");
	strbuf_release(&out);
}

/* The configured storage's URL for the pointers, as clean writes it. */
static char *pointer_storage_url(struct repo *repo)
{
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
	char *bare;
	int ret = storage_pointer_url(repo, &url);

	if (ret < 0)
		exit(128);
	if (ret) {
		strbuf_release(&url);
		return NULL;
	}
	if (!storage_url_valid(url.buf, &why))
		die("%s in model.storage", why.buf);
	bare = url_without_userinfo(url.buf);
	strbuf_release(&url);
	strbuf_release(&why);
	return bare;
}

/* HEAD's commit, when HEAD is on a branch that `rw` rewrites. */
static int head_ref(struct repo *repo, const struct rewrite *rw, size_t *at)
{
	git_reference *head = NULL;
	size_t i;
	int found = 0;

	if (!repo->workdir || git_reference_lookup(&head, repo->git, "HEAD") < 0)
		return 0;
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		for (i = 0; i < rw->refs_nr; i++)
			if (!strcmp(rw->refs[i].name,
				    git_reference_symbolic_target(head))) {
				*at = i;
				found = 1;
			}
	git_reference_free(head);
	return found;
}

static void report(const struct migrate_opts *o, const struct migrate *m,
		   const struct rewrite *rw)
{
	struct strbuf h = STRBUF_INIT;
	size_t i, changed = 0;

	human_size(m->bytes, &h);
	printf("%s %zu of %zu commits, %zu %s (%s) into git-model "
	       "pointers\n", o->dry_run ? "Would rewrite" : "Rewrote",
	       rw->commits_changed, rw->commits_nr, m->files,
	       m->files == 1 ? "file" : "files", h.buf);
	for (i = 0; i < rw->refs_nr; i++) {
		if (!rewrite_ref_changed(rw, i))
			continue;
		printf("  %s %s\n", o->dry_run ? "would update" : "updated",
		       rw->refs[i].name);
		changed++;
	}
	if (!changed)
		printf("  no ref changes\n");
	if (!o->dry_run && changed)
		printf("The old refs are kept under %s/ (git update-ref "
		       "<ref> %s/<ref> undoes it); a remote needs a forced "
		       "push of the new history.\n", rw->backup, rw->backup);
	strbuf_release(&h);
}

int cmd_migrate(int argc, const char **argv, struct repo *repo)
{
	struct migrate_opts o = { .mode = MIGRATE_IMPORT };
	struct migrate m = MIGRATE_INIT;
	struct rewrite rw = REWRITE_INIT;
	char *url = NULL;
	size_t i, head_at = 0;
	int head_moves, ret = 0;

	parse(argc, argv, &o);
	if (!o.dry_run)
		require_clean(repo);
	url = pointer_storage_url(repo);
	migrate_init(&m, repo, o.mode, url, o.dry_run);
	m.verbose = o.dry_run ? !o.quiet : o.verbose;
	if (o.include) {
		char *list = xstrdup(o.include), *p = list, *comma;

		do {
			comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			if (migrate_add_pattern(&m, p) < 0)
				exit(128);
			p = comma + 1;
		} while (comma);
		free(list);
	}
	if (rewrite_init(&rw, repo->git, migrate_ops(&m), o.dry_run) < 0)
		exit(128);
	if (o.everything) {
		if (rewrite_add_everything(&rw) < 0)
			exit(128);
	} else if (o.refs_nr) {
		for (i = 0; i < o.refs_nr; i++)
			add_ref(repo, &rw, o.refs[i]);
	} else {
		add_head(repo, &rw);
	}
	if (m.verbose && !o.quiet)
		printf("%s:\n", o.dry_run ? "Would convert" : "Converting");
	if (rewrite_run(&rw) < 0)
		die("nothing was changed");
	if (m.missing && !o.dry_run)
		die("%zu git-lfs %s neither in .git/lfs/objects nor in the "
		    "store:\n%s%snothing was changed (run 'git lfs fetch "
		    "--all' first)", m.missing,
		    m.missing == 1 ? "object is" : "objects are",
		    m.missing_list.buf, m.missing > 10 ? "  ...\n" : "");
	head_moves = head_ref(repo, &rw, &head_at) &&
		     rewrite_ref_changed(&rw, head_at);
	if (!o.dry_run) {
		if (rewrite_update_refs(&rw, o.mode == MIGRATE_IMPORT ?
						     "git model migrate import" :
						     "git model migrate from-lfs") <
		    0)
			die("the migration stopped half way: see refs/model/"
			    "migrate/ for the old refs");
		if (head_moves &&
		    migrate_update_worktree(&m, &rw.refs[head_at].tip,
					    &rw.refs[head_at].new) < 0)
			ret = 1;
	}
	if (!o.quiet)
		report(&o, &m, &rw);
	if (m.missing && o.dry_run)
		printf("%zu git-lfs %s missing: run 'git lfs fetch --all' "
		       "first\n", m.missing,
		       m.missing == 1 ? "object is" : "objects are");
	rewrite_release(&rw);
	migrate_release(&m);
	free(url);
	free(o.refs);
	return ret;
}
