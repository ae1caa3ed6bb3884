/*
 * merge-driver: git's merge driver for files with merge=model
 * (merge.model.driver, cmd-install.c), run as
 *
 *	git-model merge-driver %O %A %B %P
 *
 * with the base, ours and theirs as files holding pointers. The result
 * goes into %A; exit 0 means merged, 1 a conflict. A conflict leaves
 * ours in %A untouched, a valid pointer, never conflict markers, so the
 * work tree gets our weights and `git checkout --ours/--theirs` work as
 * for any binary file.
 *
 * When both sides changed a .safetensors file, but different tensors
 * (two fine-tunes of different layers), the result is a new file with
 * each side's tensors: written to the store as a new object in the
 * canonical layout of safetensors-write.h, its pointer the result.
 * model.merge = conflict turns that off.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"
#include "model-file.h"
#include "safetensors-write.h"
#include "storage.h"
#include "tensor-data.h"
#include "parse-options.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* The pointer held by the file `path`: 1, 0 when it holds none, -1. */
static int read_pointer(const char *path, struct pointer *p)
{
	char buf[POINTER_MAX + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open '%s'", path);
	n = read_in_full(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return error_errno("cannot read '%s'", path);
	return pointer_maybe(buf, n) && !pointer_parse(p, buf, n, NULL);
}

static int write_text(const char *path, const struct strbuf *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open '%s'", path);
	if (write_in_full(fd, text->buf, text->len) < 0) {
		close(fd);
		return error_errno("cannot write '%s'", path);
	}
	return close(fd) ? error_errno("cannot write '%s'", path) : 0;
}

/* One version of a tensor: the file it is in and its index there. */
struct pick {
	struct model_file *mf;
	size_t i;
};

/* Do the two versions of a tensor hold the same (both absent counts)? */
static int same(const struct model_file *x, int hx, size_t ix,
		const struct model_file *y, int hy, size_t iy)
{
	const struct model_tensor *a = &x->info.tensors[ix],
				  *b = &y->info.tensors[iy];

	if (!hx || !hy)
		return hx == hy;
	return !strcmp(a->dtype, b->dtype) && a->ndim == b->ndim &&
	       !memcmp(a->shape, b->shape, a->ndim * sizeof(a->shape[0])) &&
	       !strcmp(x->hashes[ix], y->hashes[iy]);
}

/*
 * The merged tensors of `mf[0..2]` (base, ours, theirs), in name order,
 * into `picks`. Returns 0, or -1 with the tensors changed on both sides
 * named in `why`. `changed[1..2]` count each side's changes.
 */
static int plan(struct model_file *mf, struct pick **picks, size_t *nr,
		size_t changed[3], struct strbuf *why)
{
	size_t k, alloc = 0, *order[3], pos[3] = { 0, 0, 0 };
	int ret = 0;

	*picks = NULL;
	*nr = 0;
	for (k = 0; k < 3; k++)
		order[k] = model_sorted_tensors(&mf[k].info);
	/* Every name of any side once: walk the three sorted lists. */
	for (;;) {
		const char *name = NULL;
		size_t at[3] = { 0, 0, 0 };
		int has[3], a_changed, b_changed, take;

		for (k = 0; k < 3; k++)
			if (pos[k] < mf[k].info.nr) {
				const char *c =
					mf[k].info.tensors[order[k][pos[k]]].name;

				if (!name || strcmp(c, name) < 0)
					name = c;
			}
		if (!name)
			break;
		for (k = 0; k < 3; k++) {
			has[k] = pos[k] < mf[k].info.nr &&
				 !strcmp(mf[k].info.tensors[order[k][pos[k]]]
						 .name,
					 name);
			if (has[k])
				at[k] = order[k][pos[k]++];
		}
		a_changed = !same(&mf[0], has[0], at[0], &mf[1], has[1], at[1]);
		b_changed = !same(&mf[0], has[0], at[0], &mf[2], has[2], at[2]);
		changed[1] += a_changed;
		changed[2] += b_changed;
		if (a_changed && b_changed &&
		    !same(&mf[1], has[1], at[1], &mf[2], has[2], at[2])) {
			strbuf_addf(why, "%s", why->len ? ", " : "");
			tensor_quote_name(name, why);
			ret = -1;
			continue;
		}
		take = a_changed ? 1 : b_changed ? 2 : 1;
		if (!has[take])
			continue;
		ALLOC_GROW(*picks, *nr + 1, alloc);
		(*picks)[*nr].mf = &mf[take];
		(*picks)[(*nr)++].i = at[take];
	}
	for (k = 0; k < 3; k++)
		free(order[k]);
	return ret;
}

/*
 * The metadata of the result, as JSON: the side's that changed it, when
 * the other kept the base's.
 */
static int merged_metadata(struct model_file *mf, struct strbuf *json,
			   struct strbuf *why)
{
	struct strbuf meta[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	int k, take = -1;

	for (k = 0; k < 3; k++)
		if (safetensors_metadata_json(&mf[k].src, &meta[k], why) < 0)
			goto cleanup;
	if (!strcmp(meta[1].buf, meta[2].buf) ||
	    !strcmp(meta[0].buf, meta[2].buf))
		take = 1;
	else if (!strcmp(meta[0].buf, meta[1].buf))
		take = 2;
	else
		strbuf_addstr(why, "changed on both: __metadata__");
	if (take > 0)
		strbuf_add(json, meta[take].buf, meta[take].len);
cleanup:
	for (k = 0; k < 3; k++)
		strbuf_release(&meta[k]);
	return take > 0 ? 0 : -1;
}

/* The url line clean would write for `oid` (storage_pointer_url()). */
static int pointer_url(const struct repo *repo, struct pointer *p)
{
	struct strbuf base = STRBUF_INIT, url = STRBUF_INIT;
	int ret = storage_pointer_url(repo, &base);

	if (!ret && storage_url_valid(base.buf, &url)) {
		char *bare = url_without_userinfo(base.buf);

		strbuf_reset(&url);
		storage_object_url(bare, p->oid, &url);
		pointer_set_url(p, url.buf);
		free(bare);
	}
	strbuf_release(&base);
	strbuf_release(&url);
	return ret < 0 ? -1 : 0;
}

/* Write the merged file into the store; its pointer into `out`. */
static int write_merged(const struct repo *repo, const struct store *s,
			const struct pick *picks, size_t nr,
			const char *metadata, struct pointer *out)
{
	const struct model_tensor **ts = xcalloc(nr + 1, sizeof(*ts));
	struct store_writer w = STORE_WRITER_INIT;
	struct strbuf head = STRBUF_INIT;
	char *buf = xmalloc(TENSOR_BLOCK);
	size_t i;
	int ret = -1;

	for (i = 0; i < nr; i++)
		ts[i] = &picks[i].mf->info.tensors[picks[i].i];
	safetensors_header(ts, nr, metadata, &head);
	if (store_writer_start(&w, s) < 0 ||
	    store_writer_write(&w, head.buf, head.len) < 0)
		goto cleanup;
	for (i = 0; i < nr; i++) {
		const struct model_source *src = &picks[i].mf->src;
		uint64_t done = 0;

		while (done < ts[i]->length) {
			size_t n = ts[i]->length - done < TENSOR_BLOCK ?
					   (size_t)(ts[i]->length - done) :
					   TENSOR_BLOCK;

			if (src->read_at(src->ctx, ts[i]->offset + done, buf,
					 n) < 0 ||
			    store_writer_write(&w, buf, n) < 0)
				goto cleanup;
			done += n;
		}
	}
	if (store_writer_commit(&w, NULL, out->oid, &out->size) < 0)
		goto cleanup;
	ret = pointer_url(repo, out);
cleanup:
	store_writer_abort(&w);
	strbuf_release(&head);
	free(buf);
	free(ts);
	return ret;
}

/*
 * Try to merge the tensors of `p[0..2]`. 0 when merged (the pointer in
 * `result`), 1 when they cannot be (`why` says why), -1 on error.
 */
static int merge_tensors(const struct repo *repo, const struct store *s,
			 const struct pointer *p, struct pointer *result,
			 size_t changed[3], struct strbuf *why)
{
	struct model_file mf[3] = { MODEL_FILE_INIT, MODEL_FILE_INIT,
				    MODEL_FILE_INIT };
	struct strbuf err = STRBUF_INIT, meta = STRBUF_INIT;
	struct pick *picks = NULL;
	size_t nr = 0;
	int k, ret = 1;

	for (k = 0; k < 3; k++) {
		int r = model_file_open_pointer(&mf[k], s, &p[k]);

		if (r < 0) {
			ret = -1;
			goto cleanup;
		}
		if (r == MODEL_FILE_NOT_LOCAL) {
			strbuf_addf(why, "the weights of %s are not in the "
				    "local store",
				    k == 0 ? "the base" : k == 1 ? "ours" :
								   "theirs");
			goto cleanup;
		}
		if (model_file_read(&mf[k], &err) < 0 ||
		    mf[k].info.format != MODEL_FORMAT_SAFETENSORS) {
			strbuf_addstr(why, "tensors are merged in .safetensors "
					   "files only");
			goto cleanup;
		}
		if (model_file_hash(&mf[k], s) < 0) {
			ret = -1;
			goto cleanup;
		}
	}
	if (plan(mf, &picks, &nr, changed, &err) < 0) {
		strbuf_addf(why, "tensors changed on both: %s", err.buf);
		goto cleanup;
	}
	if (merged_metadata(mf, &meta, why) < 0)
		goto cleanup;
	ret = write_merged(repo, s, picks, nr, meta.buf, result);
cleanup:
	for (k = 0; k < 3; k++)
		model_file_release(&mf[k]);
	free(picks);
	strbuf_release(&err);
	strbuf_release(&meta);
	return ret;
}

int cmd_merge_driver(int argc, const char **argv, struct repo *repo)
{
	struct pointer p[3] = { POINTER_INIT, POINTER_INIT, POINTER_INIT },
		       result = POINTER_INIT;
	struct strbuf why = STRBUF_INIT, mode = STRBUF_INIT,
		      text = STRBUF_INIT;
	struct store s = STORE_INIT;
	size_t changed[3] = { 0, 0, 0 };
	const char *path;
	int k, is[3], ret = 1;
	static const char *const usage[] = {
		"git model merge-driver [--] <base> <ours> <theirs> <path>", NULL
	};
	const struct option options[] = { OPT_END() };

	argc = parse_options(argc, argv, options, usage, 0);
	if (argc != 4)
		usage_msg_opt("four arguments are needed", usage, options);
	argv--; /* argv[1..4] as git passes them: %O %A %B %P */
	path = argv[4];
	for (k = 0; k < 3; k++) {
		is[k] = read_pointer(argv[k + 1], &p[k]);
		if (is[k] < 0)
			return 2;
	}
	repo_store(repo, &s);
	if (!is[1] || !is[2]) {
		strbuf_addstr(&why, "one side is not a git-model pointer");
		goto conflict;
	}
	if (!strcmp(p[1].oid, p[2].oid)) {
		ret = 0; /* the same weights on both sides */
		goto cleanup;
	}
	if (is[0] && !strcmp(p[0].oid, p[2].oid)) {
		ret = 0; /* only ours changed */
		goto cleanup;
	}
	if (is[0] && !strcmp(p[0].oid, p[1].oid)) {
		pointer_format(&p[2], &text); /* only theirs changed */
		ret = write_text(argv[2], &text) < 0 ? 2 : 0;
		goto cleanup;
	}
	if (!is[0]) {
		strbuf_addstr(&why, "both sides added it");
		goto conflict;
	}
	if (config_get(repo, "model.merge", &mode) < 0)
		goto cleanup;
	if (!strcmp(mode.buf, "conflict")) {
		strbuf_addstr(&why, "model.merge is 'conflict'");
		goto conflict;
	}
	switch (merge_tensors(repo, &s, p, &result, changed, &why)) {
	case 0:
		pointer_format(&result, &text);
		if (write_text(argv[2], &text) < 0) {
			ret = 2;
			goto cleanup;
		}
		fprintf(stderr,
			"git-model: merged the tensors of '%s': %zu changed "
			"in ours, %zu in theirs; the result is a new file, "
			"sha256:%.10s (see 'git model diff HEAD -- %s')\n",
			path, changed[1], changed[2], result.oid, path);
		ret = 0;
		goto cleanup;
	case 1:
		break;
	default:
		ret = 2;
		goto cleanup;
	}
conflict:
	fprintf(stderr,
		"CONFLICT (model): '%s' changed on both sides (%s); the work "
		"tree keeps ours.\n"
		"Compare with 'git model diff HEAD MERGE_HEAD -- %s', then "
		"'git checkout --ours -- %s' or '--theirs', and 'git add'.\n",
		path, why.buf, path, path);
	ret = 1;
cleanup:
	for (k = 0; k < 3; k++)
		pointer_release(&p[k]);
	pointer_release(&result);
	store_release(&s);
	strbuf_release(&why);
	strbuf_release(&mode);
	strbuf_release(&text);
	return ret;
}
