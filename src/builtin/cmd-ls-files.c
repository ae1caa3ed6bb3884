/*
 * ls-files / status: what pointers a revision holds, what is not yet
 * where it should be (in storage, or in the work tree), and what the
 * weights take on disk.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builtin.h"
#include "human.h"
#include "scan.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/*
 * --size: ask storage for every object at once (a check), so that each
 * line can say what storage holds. 0, or -1 (reported).
 */
static int check_storage(struct repo *r, struct store *store,
			 const struct found_set *set, struct storage *s,
			 struct transfer *t)
{
	struct strbuf why = STRBUF_INIT;
	size_t j;
	int ret = storage_for_repo(s, r, NULL, &why);

	if (ret > 0)
		error("no storage to ask for --size: %s", why.buf);
	strbuf_release(&why);
	if (ret)
		return -1;
	if (transfer_init(t, TRANSFER_CHECK, s, store, r, 0, 1) < 0)
		return -1;
	for (j = 0; j < set->nr; j++)
		transfer_add(t, set->v[j].oid, set->v[j].size, set->v[j].path);
	transfer_run(t);
	return 0;
}

/*
 * The stored column of object `i`, a space and 14 columns right-aligned:
 * the bytes storage holds and the form, "-" when storage lacks it, "?"
 * when that could not be found out.
 */
static void stored_column(const struct transfer *t, size_t i,
			  struct strbuf *column)
{
	struct strbuf col = STRBUF_INIT, *out = &col;
	uint64_t stored;
	enum transfer_form form;

	switch (transfer_has(t, i)) {
	case 1:
		form = transfer_found(t, i, &stored);
		if (stored)
			human_size(stored, out);
		else
			strbuf_addch(out, '?');
		strbuf_addstr(out, form == TRANSFER_FORM_COMPRESSED ? " gmz" :
								     " raw");
		break;
	case 0:
		strbuf_addstr(out, "-    ");
		break;
	default:
		strbuf_addstr(out, "?    ");
		break;
	}
	strbuf_addf(column, " %14s", col.buf);
	strbuf_release(&col);
}

int cmd_ls_files(int argc, const char **argv, struct repo *repo)
{
	struct found_set set = FOUND_SET_INIT;
	struct store store = STORE_INIT;
	struct storage s = STORAGE_INIT;
	struct transfer t = { 0 };
	struct strbuf hs = STRBUF_INIT, ss = STRBUF_INIT;
	const char *rev = NULL;
	int all = 0, full = 0, size = 0, ret;
	static const char *const usage[] = {
		"git model ls-files [-l | --long] [-s | --size] [<rev>]",
		"git model ls-files [-l | --long] [-s | --size] (-a | --all)",
		NULL
	};
	const struct option options[] = {
		OPT_BOOL('a', "all", &all,
			 "every pointer of history, one line per object"),
		OPT_BOOL('l', "long", &full, "the full 64-digit oids"),
		OPT_BOOL('s', "size", &size,
			 "ask storage what it holds of each: bytes and form"),
		OPT_END(),
	};
	size_t j;

	argc = parse_options(argc, argv, options, usage, 0);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	if (argc == 1)
		rev = argv[0];
	if (all && rev)
		usage_msg_opt("--all takes no revision", usage, options);
	/* --all: every pointer of history, one line per object. */
	ret = all ? scan_refs_added(repo, 0, &set) :
		    scan_tree(repo, rev ? rev : "HEAD", &set);
	if (ret < 0)
		return 128;
	repo_store(repo, &store);
	if (size && check_storage(repo, &store, &set, &s, &t) < 0) {
		ret = 128;
		goto cleanup;
	}
	for (j = 0; j < set.nr; j++) {
		const struct found *f = &set.v[j];

		strbuf_reset(&hs);
		human_size(f->size, &hs);
		strbuf_reset(&ss);
		if (size)
			stored_column(&t, j, &ss);
		printf("%.*s %c %10s%s  %s\n", full ? OID_HEXSZ : 10, f->oid,
		       store_has(&store, f->oid, f->size) ? '*' : '-', hs.buf,
		       ss.buf, f->path);
	}
	ret = 0;
cleanup:
	transfer_release(&t);
	storage_close(&s);
	found_set_release(&set);
	store_release(&store);
	strbuf_release(&hs);
	strbuf_release(&ss);
	return ret;
}

/* The upstream of the current branch ("origin/main"), and its remote. */
static int upstream(struct repo *r, struct strbuf *ref, struct strbuf *remote)
{
	git_reference *head = NULL, *up = NULL;
	git_buf name = { NULL, 0, 0 };
	int ret = -1;

	if (git_repository_head(&head, r->git) < 0 ||
	    !git_reference_is_branch(head))
		goto cleanup;
	if (git_branch_upstream(&up, head) < 0)
		goto cleanup;
	strbuf_addstr(ref, git_reference_name(up));
	if (!git_branch_remote_name(&name, r->git, git_reference_name(up)))
		strbuf_addstr(remote, name.ptr);
	ret = 0;
cleanup:
	git_buf_dispose(&name);
	git_reference_free(up);
	git_reference_free(head);
	git_error_clear();
	return ret;
}

static void print_unpushed(struct repo *r)
{
	struct strbuf up = STRBUF_INIT, remote = STRBUF_INIT, why = STRBUF_INIT,
		      glob = STRBUF_INIT, hs = STRBUF_INIT;
	struct found_set set = FOUND_SET_INIT;
	struct storage s = STORAGE_INIT;
	struct store store = STORE_INIT;
	struct transfer t = { 0 };
	git_object *head = NULL, *base = NULL;
	git_oid want, have;
	int have_storage, nhave = 0;
	size_t i, shown = 0;

	if (git_revparse_single(&head, r->git, "HEAD") < 0)
		goto cleanup;
	want = *git_object_id(head);
	if (!upstream(r, &up, &remote)) {
		if (!git_revparse_single(&base, r->git, up.buf)) {
			have = *git_object_id(base);
			nhave = 1;
		}
		printf("Weights to push to %s:\n", up.buf + strlen("refs/remotes/"));
	} else {
		if (repo_default_remote(r, &remote) < 0)
			goto cleanup;
		strbuf_addf(&glob, "refs/remotes/%s/*", remote.buf);
		printf("Weights to push (no upstream; compared with %s):\n",
		       remote.buf);
	}
	if (scan_added(r, &want, 1, &have, nhave, glob.len ? glob.buf : NULL,
		       &set) < 0)
		goto cleanup;
	have_storage = !storage_for_repo(&s, r, remote.buf, &why);
	if (have_storage) {
		repo_store(r, &store);
		if (transfer_init(&t, TRANSFER_CHECK, &s, &store, r, 0, 1) < 0)
			have_storage = 0;
	}
	if (have_storage) {
		for (i = 0; i < set.nr; i++)
			transfer_add(&t, set.v[i].oid, set.v[i].size,
				     set.v[i].path);
		transfer_run(&t);
	}
	for (i = 0; i < set.nr; i++) {
		const struct found *f = &set.v[i];

		if (have_storage && transfer_has(&t, i) > 0)
			continue;
		strbuf_reset(&hs);
		human_size(f->size, &hs);
		printf("\t%.10s %s (%s)\n", f->oid, f->path, hs.buf);
		shown++;
	}
	if (!shown)
		printf("\t(none)\n");
	if (!have_storage && why.len)
		printf("\t(storage not checked: %s)\n", why.buf);
cleanup:
	transfer_release(&t);
	storage_close(&s);
	store_release(&store);
	git_error_clear();
	git_object_free(head);
	git_object_free(base);
	found_set_release(&set);
	strbuf_release(&up);
	strbuf_release(&remote);
	strbuf_release(&why);
	strbuf_release(&glob);
	strbuf_release(&hs);
}

static int print_pointer_file(const char *path, const struct pointer *p,
			      void *data)
{
	(void)p;
	printf("\t%s\n", path);
	(*(size_t *)data)++;
	return 0;
}

static void print_pointer_files(struct repo *r)
{
	size_t shown = 0;

	printf("Files holding pointer text (run 'git model pull'):\n");
	if (worktree_pointers(r, print_pointer_file, &shown) < 0)
		return;
	if (!shown)
		printf("\t(none)\n");
}

/*
 * Pointers staged in the index that HEAD does not have (all of them before
 * the first commit). Prints nothing when there are none.
 */
static void print_staged(struct repo *r, git_index *index)
{
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_diff *diff = NULL;
	struct strbuf hs = STRBUF_INIT;
	size_t i, n, shown = 0;

	if (!git_revparse_single(&head, r->git, "HEAD^{tree}"))
		tree = (git_tree *)head;
	git_error_clear();
	if (git_diff_tree_to_index(&diff, r->git, tree, index, NULL) < 0) {
		git2_error("cannot compare the index with HEAD");
		goto cleanup;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		struct pointer p = POINTER_INIT;

		if (d->status == GIT_DELTA_DELETED ||
		    blob_pointer(r, &d->new_file.id, &p) <= 0)
			continue;
		if (!shown++)
			printf("Weights staged for commit:\n");
		strbuf_reset(&hs);
		human_size(p.size, &hs);
		printf("\t%.10s %s (%s)\n", p.oid, d->new_file.path, hs.buf);
		pointer_release(&p);
	}
cleanup:
	git_diff_free(diff);
	git_object_free(head);
	strbuf_release(&hs);
}

/*
 * Files whose attributes say filter=model but whose blob in the index is
 * not a pointer: committed (or staged) raw, typically because the filter
 * was not configured when they were added. Prints nothing when none.
 */
static void print_raw_files(struct repo *r, git_index *index)
{
	size_t i, n, shown = 0;

	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		struct pointer p = POINTER_INIT;
		const char *filter = NULL;
		int is_pointer;

		if (git_index_entry_stage(e) || !S_ISREG(e->mode) ||
		    git_attr_get(&filter, r->git, GIT_ATTR_CHECK_INDEX_THEN_FILE,
				 e->path, "filter") < 0 ||
		    !filter || strcmp(filter, "model"))
			continue;
		is_pointer = blob_pointer(r, &e->id, &p);
		pointer_release(&p);
		if (is_pointer || blob_lfs_pointer(r, &e->id) > 0)
			continue;
		if (!shown++)
			printf("Tracked files stored raw in git, not as pointers "
			       "(run 'git add --renormalize .' and commit):\n");
		printf("\t%s\n", e->path);
	}
	git_error_clear();
}

/*
 * Files whose blob in the index is a git-lfs pointer: a repository that
 * has not moved from git-lfs yet, or half way. Prints nothing when none.
 */
static void print_lfs_pointers(struct repo *r, git_index *index)
{
	size_t i, n, shown = 0;

	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);

		if (git_index_entry_stage(e) || !S_ISREG(e->mode) ||
		    blob_lfs_pointer(r, &e->id) <= 0)
			continue;
		if (!shown++)
			printf("git-lfs pointers, not git-model's (run 'git "
			       "model migrate from-lfs'):\n");
		printf("\t%s\n", e->path);
	}
}

int cmd_status(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = { "git model status", NULL };
	const struct option options[] = { OPT_END() };
	git_index *index = NULL;

	if (parse_options(argc, argv, options, usage, 0))
		usage_msg_opt("too many arguments", usage, options);
	if (git_repository_index(&index, repo->git) < 0) {
		git2_error("cannot read the index");
		return 128;
	}
	print_staged(repo, index);
	print_unpushed(repo);
	print_pointer_files(repo);
	printf("Disk use:\n");
	print_disk_use(repo, "\t");
	print_raw_files(repo, index);
	print_lfs_pointers(repo, index);
	git_index_free(index);
	return 0;
}
