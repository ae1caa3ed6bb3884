/*
 * pre-push / push: upload the weights that the commits being pushed add,
 * before git sends the commits. A failed upload fails the push, so a
 * remote never gets commits whose weights are missing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "human.h"
#include "scan.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define REF_LINE_MAX 4096

struct push_opts {
	const char *remote;     /* name, or URL when pushing to a URL */
	const char *url;        /* where git pushes (pre-push's second arg) */
	int dry_run;
	int quiet;
	int progress; /* -1: when stderr is a terminal */
	int all;      /* every pointer of history, whatever the remote has */
	int explicit; /* `git model push`, not the hook: say when no upload */
};

struct oid_list {
	git_oid *v;
	size_t nr, alloc;
};

static void oid_add(struct oid_list *l, const git_oid *id)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = *id;
}

static int is_remote_name(const struct repo *r, const char *name)
{
	git_remote *rem = NULL;
	int ok = name && !git_remote_lookup(&rem, r->git, name);

	git_remote_free(rem);
	git_error_clear();
	return ok;
}

static int upload(struct repo *r, struct push_opts *o, struct oid_list *want,
		  struct oid_list *have)
{
	struct found_set set = FOUND_SET_INIT;
	struct storage s = STORAGE_INIT;
	struct store store = STORE_INIT;
	struct strbuf glob = STRBUF_INIT, why = STRBUF_INIT, hs = STRBUF_INIT;
	struct transfer t = { 0 };
	size_t i;
	int ret = 1;

	/*
	 * What the remote's tracking refs hold is taken as uploaded, except
	 * with --all: storage is asked about every object (fsck --remote's
	 * way back for weights lost from storage).
	 */
	if (!o->all && is_remote_name(r, o->remote))
		strbuf_addf(&glob, "refs/remotes/%s/*", o->remote);
	if (scan_added(r, want->v, want->nr, have->v, have->nr,
		       glob.len ? glob.buf : NULL, &set) < 0)
		goto cleanup;
	if (!set.nr) {
		if (o->explicit && summary_wanted(o->quiet, o->progress))
			fprintf(stderr, "git-model: no weights to push: the "
					"commits add none that '%s' lacks\n",
				o->remote);
		ret = 0;
		goto cleanup;
	}
	config_warn_pushed_gitmodel(r, want->v, want->nr);
	switch (storage_for_repo(&s, r, o->url ? o->url : o->remote, &why)) {
	case 0:
		break;
	case 1:
		error("cannot upload weights: %s", why.buf);
		goto cleanup;
	default:
		goto cleanup;
	}
	repo_store(r, &store);
	if (transfer_init(&t, o->dry_run ? TRANSFER_CHECK : TRANSFER_UPLOAD,
			  &s, &store, r, o->dry_run ? 0 : o->progress,
			  o->quiet) < 0)
		goto cleanup;
	for (i = 0; i < set.nr; i++)
		transfer_add(&t, set.v[i].oid, set.v[i].size, set.v[i].path);
	if (o->dry_run) {
		transfer_run(&t);
		for (i = 0; i < set.nr; i++) {
			const struct found *f = &set.v[i];

			if (transfer_has(&t, i))
				continue; /* there, or reported */
			strbuf_reset(&hs);
			human_size(f->size, &hs);
			printf("would upload %.10s %s (%s)\n", f->oid, f->path,
			       hs.buf);
		}
		if (t.skipped && summary_wanted(o->quiet, o->progress))
			fprintf(stderr, "git-model: %zu object(s) already in "
					"'%s'\n", t.skipped, s.display);
		if (!t.failed)
			ret = 0;
		goto cleanup;
	}
	if (transfer_run(&t)) {
		error("%zu of %zu file(s) could not be uploaded to '%s'; the "
		      "push is refused so that the remote never gets commits "
		      "without their weights",
		      t.failed, set.nr, s.display);
		goto cleanup;
	}
	if (summary_wanted(o->quiet, o->progress))
		fprintf(stderr, "git-model: uploaded %zu object(s) to '%s', "
				"%zu already there\n",
			t.done, s.display, t.skipped);
	ret = 0;
cleanup:
	found_set_release(&set);
	transfer_release(&t);
	storage_close(&s);
	store_release(&store);
	strbuf_release(&glob);
	strbuf_release(&why);
	strbuf_release(&hs);
	return ret;
}

static int parse_oid(const char *hex, git_oid *id)
{
	return git_oid_fromstrn(id, hex, strlen(hex)) < 0 ||
	       strlen(hex) != GIT_OID_HEXSZ;
}

int cmd_pre_push(int argc, const char **argv, struct repo *repo)
{
	struct push_opts o = { NULL, NULL, 0, 0, -1, 0, 0 };
	struct oid_list want = { NULL }, have = { NULL };
	char line[REF_LINE_MAX];
	static const char *const usage[] = {
		"git model pre-push <remote> <url> <ref-lines", NULL
	};
	const struct option options[] = { OPT_END() };
	int ret;

	argc = parse_options(argc, argv, options, usage,
			     PARSE_OPT_STOP_AT_NON_OPTION);
	if (argc != 2)
		usage_msg_opt(NULL, usage, options);
	o.remote = argv[0];
	o.url = argv[1];
	while (fgets(line, sizeof(line), stdin)) {
		char lref[REF_LINE_MAX], lsha[REF_LINE_MAX];
		char rref[REF_LINE_MAX], rsha[REF_LINE_MAX];
		git_oid l, rm;

		if (!strchr(line, '\n') && !feof(stdin))
			die("ref line from git is too long");
		if (line[0] == '\n')
			continue;
		if (sscanf(line, "%4095s %4095s %4095s %4095s", lref, lsha, rref,
			   rsha) != 4 ||
		    parse_oid(lsha, &l) || parse_oid(rsha, &rm))
			die("cannot parse the ref line '%.200s' from git",
			    line);
		if (!git_oid_is_zero(&l))
			oid_add(&want, &l);
		if (!git_oid_is_zero(&rm))
			oid_add(&have, &rm);
	}
	ret = want.nr ? upload(repo, &o, &want, &have) : 0;
	free(want.v);
	free(have.v);
	return ret;
}

static int add_ref(struct repo *r, const char *name, struct oid_list *want)
{
	git_object *obj = NULL;
	git_oid id;

	if (git_revparse_single(&obj, r->git, name) < 0)
		return error("'%s' is not a ref or revision", name);
	id = *git_object_id(obj);
	git_object_free(obj);
	oid_add(want, &id);
	return 0;
}

static int want_commit(git_commit *commit, void *data)
{
	oid_add(data, git_commit_id(commit));
	return 0;
}

int cmd_push(int argc, const char **argv, struct repo *repo)
{
	struct push_opts o = { NULL, NULL, 0, 0, -1, 0, 1 };
	struct oid_list want = { NULL }, have = { NULL };
	struct strbuf remote = STRBUF_INIT;
	int i, all = 0, nrefs = 0, ret;
	static const char *const usage[] = {
		"git model push [-n | --dry-run] [--all] [-q | --quiet] "
		"[--progress]\n"
		"                      [<remote>] [<ref>...]",
		NULL
	};
	const struct option options[] = {
		OPT__DRY_RUN(&o.dry_run, "list what would be uploaded"),
		OPT_BOOL(0, "all", &all, "the weights of every branch and tag"),
		OPT__QUIET(&o.quiet, "report nothing but errors"),
		OPT_BOOL(0, "progress", &o.progress,
			 "show progress (default: when stderr is a terminal)"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, options, usage, 0);
	for (i = 0; i < argc; i++) {
		if (!remote.len && is_remote_name(repo, argv[i]))
			strbuf_addstr(&remote, argv[i]);
		else {
			if (add_ref(repo, argv[i], &want) < 0)
				exit(128);
			nrefs++;
		}
	}
	if (!remote.len && repo_default_remote(repo, &remote) < 0)
		exit(128);
	o.remote = remote.buf;
	o.all = all;
	if (all && scan_each_ref_commit(repo, SCAN_REFS_BRANCHES_TAGS,
					 want_commit, &want) < 0)
		exit(128);
	if (!all && !nrefs && add_ref(repo, "HEAD", &want) < 0)
		exit(128);
	ret = upload(repo, &o, &want, &have);
	free(want.v);
	free(have.v);
	strbuf_release(&remote);
	return ret;
}
