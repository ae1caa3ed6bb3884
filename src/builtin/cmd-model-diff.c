/*
 * diff: how the tensors of model files changed between two versions, with
 * numbers: for each tensor changed in place (same shape, numeric dtypes),
 * the largest and mean absolute change, the change relative to the old
 * tensor in L2 norm and the share of elements changed. Each changed
 * tensor's bytes are read once from each side; tensors whose hashes are
 * cached equal on both sides (model-file.h) are not read at all.
 *
 *	git model diff                  the index and the work tree
 *	git model diff <rev>            <rev> and the work tree
 *	git model diff <rev1> <rev2>    two revisions
 */

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "human.h"
#include "model-file.h"
#include "scan.h"
#include "tensor-data.h"
#include "parse-options.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* One side of the diff: a revision's tree, the index, or the work tree. */
struct side {
	const char *rev;	/* NULL for the index or the work tree */
	int worktree;
	struct found_set set;	/* its pointers (not for the work tree) */
};

/* What the diff found, and its text, printed at the end. */
struct totals {
	uint64_t tensors, changed, params, changed_params;
	size_t files, not_compared;
	struct strbuf out;
};

static int index_pointers(struct repo *r, struct found_set *out)
{
	git_index *index = NULL;
	size_t i, n;

	if (git_repository_index(&index, r->git) < 0 ||
	    git_index_read(index, 0) < 0) {
		git_index_free(index);
		return git2_error("cannot read the index");
	}
	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		struct pointer p = POINTER_INIT;
		int is = git_index_entry_stage(e) ? 0 :
						     blob_pointer(r, &e->id, &p);

		if (is < 0) {
			git_index_free(index);
			return -1;
		}
		if (is) {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			memset(&out->v[out->nr], 0, sizeof(out->v[0]));
			memcpy(out->v[out->nr].oid, p.oid, sizeof(p.oid));
			out->v[out->nr].size = p.size;
			out->v[out->nr].path = xstrdup(e->path);
			out->nr++;
		}
		pointer_release(&p);
	}
	git_index_free(index);
	return 0;
}

static const struct found *find_path(const struct found_set *set,
				     const char *path)
{
	size_t i;

	for (i = 0; i < set->nr; i++)
		if (!strcmp(set->v[i].path, path))
			return &set->v[i];
	return NULL;
}

/* Is `path` (from the top) under one of the pathspecs (from the top)? */
static int wanted(const char *path, const char **specs, int nr)
{
	int i;

	if (!nr)
		return 1;
	for (i = 0; i < nr; i++) {
		size_t len = strlen(specs[i]);

		while (len && specs[i][len - 1] == '/')
			len--;
		if (!len || (!strncmp(path, specs[i], len) &&
			     (!path[len] || path[len] == '/')))
			return 1;
	}
	return 0;
}

/* Open `path` on side `sd`: 0 open, 1 absent there, 2 not local, -1. */
static int open_side(struct repo *r, const struct store *s,
		     const struct side *sd, const char *path,
		     struct model_file *mf)
{
	const struct found *f;
	struct pointer p = POINTER_INIT;
	int ret;

	if (sd->worktree) {
		struct strbuf file = STRBUF_INIT;
		int fd;

		strbuf_addf(&file, "%s/%s", r->workdir, path);
		fd = open(file.buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			strbuf_release(&file);
			return 1;
		}
		ret = model_file_open_fd(mf, s, fd, file.buf);
		strbuf_release(&file);
	} else {
		f = find_path(&sd->set, path);
		if (!f)
			return 1;
		memcpy(p.oid, f->oid, sizeof(p.oid));
		p.size = f->size;
		ret = model_file_open_pointer(mf, s, &p);
		pointer_release(&p);
	}
	return ret == MODEL_FILE_NOT_LOCAL ? 2 : ret;
}

static void print_delta(const struct tensor_delta *d, struct strbuf *out)
{
	strbuf_addf(out, ": max abs %.6e, mean abs %.6e, rel L2 %.6e, %" PRIu64
	       " of %" PRIu64 " elements (%.2f%%)\n",
	       d->max_abs, d->mean_abs, d->rel_l2, d->changed, d->numel,
	       d->numel ? 100.0 * d->changed / d->numel : 0.0);
}

static int same_shape(const struct model_tensor *a,
		      const struct model_tensor *b)
{
	return a->ndim == b->ndim &&
	       !memcmp(a->shape, b->shape, a->ndim * sizeof(a->shape[0]));
}

/* Compare the tensor `ta` of `a` with `tb` of `b`; print when changed. */
static int diff_tensor(struct model_file *a, size_t ia, struct model_file *b,
		       size_t ib, struct totals *tot)
{
	const struct model_tensor *ta = &a->info.tensors[ia],
				  *tb = &b->info.tensors[ib];
	struct strbuf line = STRBUF_INIT;
	struct tensor_delta d;
	int same_dtype = !strcmp(ta->dtype, tb->dtype);

	tot->tensors++;
	tot->params += tensor_numel(tb);
	if (same_dtype && same_shape(ta, tb) && a->hashes && b->hashes &&
	    !strcmp(a->hashes[ia], b->hashes[ib]))
		return 0;
	tensor_quote_name(tb->name, &line);
	if (same_dtype)
		strbuf_addf(&line, " %s", tb->dtype);
	else
		strbuf_addf(&line, " %s -> %s", ta->dtype, tb->dtype);
	if (!same_shape(ta, tb) || !ta->contiguous || !tb->contiguous ||
	    !tensor_numeric(ta->dtype) || !tensor_numeric(tb->dtype)) {
		char ha[65], hb[65];

		if (same_dtype && same_shape(ta, tb)) {
			if (tensor_hash(&a->src, ta, ha) < 0 ||
			    tensor_hash(&b->src, tb, hb) < 0)
				goto fail;
			if (!strcmp(ha, hb))
				goto unchanged;
		}
		tot->changed++;
		tot->changed_params += tensor_numel(tb);
		strbuf_addf(&tot->out, "  changed %s%s\n", line.buf,
		       same_shape(ta, tb) ? " (bytes)" : " (shape)");
		goto unchanged;
	}
	if (tensor_compare(&a->src, ta, &b->src, tb, &d) < 0)
		goto fail;
	if (d.bytes_equal)
		goto unchanged;
	tot->changed++;
	tot->changed_params += tensor_numel(tb);
	strbuf_addf(&tot->out, "  changed %s", line.buf);
	print_delta(&d, &tot->out);
unchanged:
	strbuf_release(&line);
	return 0;
fail:
	strbuf_release(&line);
	return -1;
}

/* A tensor in one version only: added or removed. */
static void print_one(const char *what, const struct model_tensor *t,
		      struct totals *tot)
{
	struct strbuf line = STRBUF_INIT;

	tensor_describe(t, &line);
	strbuf_addf(&tot->out, "  %-7s %s\n", what, line.buf);
	strbuf_release(&line);
	tot->tensors++;
	tot->changed++;
	tot->params += tensor_numel(t);
	tot->changed_params += tensor_numel(t);
}

/* The tensors of two versions of one file, matched by name. */
static int diff_models(struct model_file *a, struct model_file *b,
		       struct totals *tot)
{
	size_t *oa = model_sorted_tensors(&a->info),
	       *ob = model_sorted_tensors(&b->info), i = 0, j = 0;
	uint64_t before = tot->tensors, changed = tot->changed;
	int ret = 0;

	while (!ret && (i < a->info.nr || j < b->info.nr)) {
		const struct model_tensor *ta = i < a->info.nr ?
				&a->info.tensors[oa[i]] : NULL,
			*tb = j < b->info.nr ? &b->info.tensors[ob[j]] : NULL;
		int c = !ta ? 1 : !tb ? -1 : strcmp(ta->name, tb->name);

		if (c < 0) {
			print_one("removed", ta, tot);
			i++;
		} else if (c > 0) {
			print_one("added", tb, tot);
			j++;
		} else {
			ret = diff_tensor(a, oa[i++], b, ob[j++], tot);
		}
	}
	if (!ret)
		strbuf_addf(&tot->out, "  %" PRIu64 " unchanged\n",
		       (tot->tensors - before) - (tot->changed - changed));
	free(oa);
	free(ob);
	return ret;
}

static int read_side(struct model_file *mf, const struct store *s,
		     const char *path)
{
	struct strbuf err = STRBUF_INIT;

	if (model_file_read(mf, &err) < 0) {
		error("cannot read '%s' as a model: %s", path, err.buf);
		strbuf_release(&err);
		return -1;
	}
	model_file_hash_cached(mf, s);
	strbuf_release(&err);
	return 0;
}

static void flush(struct strbuf *out)
{
	if (write_in_full(1, out->buf, out->len) < 0)
		die_errno("cannot write to standard output");
	strbuf_reset(out);
}

static int diff_path(struct repo *r, const struct store *s,
		     const struct side *a, const struct side *b,
		     const char *path, struct totals *tot)
{
	struct model_file ma = MODEL_FILE_INIT, mb = MODEL_FILE_INIT;
	size_t start = tot->out.len;
	uint64_t changed = tot->changed;
	int ra, rb, ret = -1;

	ra = open_side(r, s, a, path, &ma);
	if (ra < 0)
		goto cleanup;
	rb = open_side(r, s, b, path, &mb);
	if (rb < 0)
		goto cleanup;
	ret = 0;
	if (ra == 0 && rb == 0 && *ma.oid && !strcmp(ma.oid, mb.oid))
		goto cleanup; /* the same object */
	tot->files++;
	if (ra == 2 || rb == 2) {
		strbuf_addf(&tot->out,
			    "%s: not compared: the weights of %s are not in "
			    "the local store (run 'git model fetch')\n",
		       path, ra == 2 ? "the old version" : "the new version");
		tot->not_compared++;
		goto cleanup;
	}
	if (ra == 1 || rb == 1) {
		strbuf_addf(&tot->out, "%s: %s\n", path,
			    ra == 1 ? "new file" : "deleted");
		goto cleanup;
	}
	if (read_side(&ma, s, path) < 0 || read_side(&mb, s, path) < 0) {
		ret = -1;
		goto cleanup;
	}
	strbuf_addf(&tot->out, "%s (%s)\n", path,
		    model_format_name(mb.info.format));
	ret = diff_models(&ma, &mb, tot);
	/* The same tensors in other bytes (a work tree file): not shown. */
	if (!ret && tot->changed == changed) {
		strbuf_setlen(&tot->out, start);
		tot->files--;
	}
cleanup:
	flush(&tot->out);
	model_file_release(&ma);
	model_file_release(&mb);
	return ret;
}

/*
 * `prefix` + `path` with "." and ".." resolved, into `out`: a path from
 * the top. -1 when it leaves the work tree.
 */
static int top_path(const char *prefix, const char *path, struct strbuf *out)
{
	struct strbuf in = STRBUF_INIT;
	char *p, *next;
	int ret = 0;

	strbuf_addf(&in, "%s%s", prefix, path);
	for (p = in.buf; p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (!*p || !strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			char *slash;

			if (!out->len) {
				ret = -1;
				break;
			}
			slash = strrchr(out->buf, '/');
			strbuf_setlen(out, slash ? (size_t)(slash - out->buf) : 0);
			continue;
		}
		if (out->len)
			strbuf_addch(out, '/');
		strbuf_addstr(out, p);
	}
	strbuf_release(&in);
	return ret;
}

static int load_side(struct repo *r, struct side *sd)
{
	if (sd->rev)
		return scan_tree(r, sd->rev, &sd->set);
	if (!sd->worktree)
		return index_pointers(r, &sd->set);
	return 0;
}

int cmd_model_diff(int argc, const char **argv, struct repo *repo)
{
	struct side a = { NULL, 0, FOUND_SET_INIT },
		    b = { NULL, 1, FOUND_SET_INIT };
	struct store s = STORE_INIT;
	struct totals tot = { .out = STRBUF_INIT };
	const char **specs = xcalloc(argc + 1, sizeof(*specs));
	const char *revs[2];
	int i, nrev = 0, nspec = 0, ret = 128;
	size_t k;
	static const char *const usage[] = {
		"git model diff [<rev> [<rev>]] [-- <path>...]", NULL
	};
	const struct option options[] = { OPT_END() };

	argc = parse_options(argc, argv, options, usage,
			     PARSE_OPT_KEEP_DASHDASH);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			for (i++; i < argc; i++) {
				struct strbuf sp = STRBUF_INIT;

				if (top_path(repo->prefix, argv[i], &sp) < 0)
					die("'%s' is outside the repository",
					    argv[i]);
				specs[nspec++] = strbuf_detach(&sp, NULL);
			}
		} else if (nrev < 2) {
			revs[nrev++] = argv[i];
		} else {
			usage_msg_opt("too many revisions", usage, options);
		}
	}
	if (nrev >= 1)
		a.rev = revs[0];
	if (nrev == 2) {
		b.rev = revs[1];
		b.worktree = 0;
	}
	if (b.worktree && !repo->workdir)
		die("'git model diff' with fewer than two revisions needs a "
		    "work tree");
	if (load_side(repo, &a) < 0 || load_side(repo, &b) < 0)
		goto cleanup;
	repo_store(repo, &s);
	/* Every path of the old side, then the new side's new paths. */
	for (k = 0; k < a.set.nr; k++)
		if (wanted(a.set.v[k].path, specs, nspec) &&
		    diff_path(repo, &s, &a, &b, a.set.v[k].path, &tot) < 0)
			goto cleanup;
	for (k = 0; k < b.set.nr; k++)
		if (!find_path(&a.set, b.set.v[k].path) &&
		    wanted(b.set.v[k].path, specs, nspec) &&
		    diff_path(repo, &s, &a, &b, b.set.v[k].path, &tot) < 0)
			goto cleanup;
	if (tot.files) {
		strbuf_addf(&tot.out, "%" PRIu64 " of %" PRIu64
				      " tensors changed; ",
			    tot.changed, tot.tensors);
		human_count(tot.changed_params, &tot.out);
		strbuf_addstr(&tot.out, " of ");
		human_count(tot.params, &tot.out);
		strbuf_addstr(&tot.out, " parameters");
		if (tot.not_compared)
			strbuf_addf(&tot.out, "; %zu file%s not compared",
				    tot.not_compared,
				    tot.not_compared == 1 ? "" : "s");
		strbuf_addch(&tot.out, '\n');
	}
	flush(&tot.out);
	ret = 0;
cleanup:
	for (i = 0; i < nspec; i++)
		free((char *)specs[i]);
	free(specs);
	found_set_release(&a.set);
	found_set_release(&b.set);
	store_release(&s);
	strbuf_release(&tot.out);
	return ret;
}
