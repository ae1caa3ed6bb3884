/*
 * show / textconv: what a model file holds, one line per tensor.
 *
 * textconv is git's diff driver (diff.model.textconv, cmd-install.c): git
 * gives it a file holding a pointer (or, for the work tree, the weights)
 * and line-diffs what it prints, so `git diff`, `git log -p` and `git
 * show` name the tensors added, removed and changed. The text is sorted
 * by tensor name and holds nothing that depends on where the bytes were
 * read from, so two versions diff line by line.
 */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "hash.h"
#include "human.h"
#include "model-file.h"
#include "tensor-data.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define SHOW_HASH_HEX 16

struct dtype_total {
	char dtype[16];
	uint64_t bytes, numel;
};

static int by_dtype(const void *a, const void *b)
{
	return strcmp(((const struct dtype_total *)a)->dtype,
		      ((const struct dtype_total *)b)->dtype);
}

/* The summary and the tensor lines of `mf`, read and hashed. */
static void describe_model(const struct model_file *mf, struct strbuf *out)
{
	const struct model_info *info = &mf->info;
	struct dtype_total *tot = NULL;
	size_t nr_tot = 0, alloc_tot = 0, i, j, *order;
	uint64_t params = 0;

	for (i = 0; i < info->nr; i++) {
		const struct model_tensor *t = &info->tensors[i];

		params += tensor_numel(t);
		for (j = 0; j < nr_tot; j++)
			if (!strcmp(tot[j].dtype, t->dtype))
				break;
		if (j == nr_tot) {
			ALLOC_GROW(tot, nr_tot + 1, alloc_tot);
			memset(&tot[j], 0, sizeof(tot[j]));
			memcpy(tot[j].dtype, t->dtype, sizeof(t->dtype));
			nr_tot++;
		}
		tot[j].bytes += t->length;
		tot[j].numel += tensor_numel(t);
	}
	strbuf_addf(out, "format: %s\n", model_format_name(info->format));
	strbuf_addf(out, "tensors: %zu\n", info->nr);
	strbuf_addf(out, "parameters: %" PRIu64, params);
	if (params >= 1000) {
		strbuf_addstr(out, " (");
		human_count(params, out);
		strbuf_addch(out, ')');
	}
	strbuf_addch(out, '\n');
	if (nr_tot)
		qsort(tot, nr_tot, sizeof(*tot), by_dtype);
	for (j = 0; j < nr_tot; j++) {
		strbuf_addf(out, "bytes %s: %" PRIu64 " (", tot[j].dtype,
			    tot[j].bytes);
		human_size(tot[j].bytes, out);
		strbuf_addstr(out, ")\n");
	}
	if (info->metadata.len) {
		const char *p = info->metadata.buf, *end = p + info->metadata.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

			strbuf_addstr(out, "metadata ");
			strbuf_add(out, p, len);
			strbuf_addch(out, '\n');
			p += len + 1;
		}
	}
	order = model_sorted_tensors(info);
	for (i = 0; i < info->nr; i++) {
		tensor_describe(&info->tensors[order[i]], out);
		strbuf_addf(out, " %.*s\n", SHOW_HASH_HEX,
			    mf->hashes[order[i]]);
	}
	free(order);
	free(tot);
}

static void describe_not_local(const struct model_file *mf, struct strbuf *out)
{
	struct strbuf hs = STRBUF_INIT;

	human_size(mf->ptr.size, &hs);
	strbuf_addf(out,
		    "pointer: sha256:%s (%s)\n"
		    "weights not in the local store: tensors not read, bytes "
		    "not compared (run 'git model fetch')\n",
		    mf->ptr.oid, hs.buf);
	strbuf_release(&hs);
}

/* Read and hash `mf`; on failure, `err` says why. */
static int load(struct model_file *mf, const struct store *s,
		struct strbuf *err)
{
	if (model_file_read(mf, err) < 0)
		return -1;
	if (model_file_hash(mf, s) < 0) {
		strbuf_addstr(err, "cannot read the tensors' bytes");
		return -1;
	}
	return 0;
}

/* Print `out` when all went well (`ret` 0), release everything. */
static int finish(int ret, struct model_file *mf, struct store *s,
		  struct strbuf *out, struct strbuf *err)
{
	if (!ret && write_in_full(1, out->buf, out->len) < 0)
		die_errno("cannot write to standard output");
	model_file_release(mf);
	store_release(s);
	strbuf_release(out);
	strbuf_release(err);
	return ret;
}

int cmd_show(int argc, const char **argv, struct repo *repo)
{
	struct model_file mf = MODEL_FILE_INIT;
	struct store s = STORE_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	const char *spec = NULL;
	int i, ret = 128;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--") && i + 2 == argc)
			spec = argv[++i];
		else if (argv[i][0] == '-')
			usage_cmd(NULL);
		else if (!spec)
			spec = argv[i];
		else
			usage_cmd("too many arguments");
	}
	if (!spec)
		usage_cmd("no file given");
	repo_store(repo, &s);
	switch (model_file_open_spec(&mf, repo, &s, spec)) {
	case MODEL_FILE_OPEN:
		break;
	case MODEL_FILE_NOT_LOCAL:
		error("the weights of '%s' (sha256:%.10s) are not in the "
		      "local store (run 'git model fetch')", spec, mf.ptr.oid);
		goto cleanup;
	default:
		goto cleanup;
	}
	if (load(&mf, &s, &err) < 0) {
		error("cannot read '%s' as a model: %s", spec, err.buf);
		goto cleanup;
	}
	strbuf_addf(&out, "%s\n", spec);
	describe_model(&mf, &out);
	ret = 0;
cleanup:
	return finish(ret, &mf, &s, &out, &err);
}

/* A file that is no model: its size and hash, so a diff still shows it. */
static int describe_other(const struct model_file *mf, const char *why,
			  struct strbuf *out)
{
	char hex[HASH_HEXSZ + 1];
	uint64_t size;

	if (lseek(mf->fd, 0, SEEK_SET) < 0 || hash_fd(mf->fd, hex, &size) < 0)
		return -1;
	strbuf_addf(out, "not read as a model: %s\nsize: %" PRIu64
			 "\nsha256: %s\n", why, size, hex);
	return 0;
}

int cmd_textconv(int argc, const char **argv, struct repo *repo)
{
	struct model_file mf = MODEL_FILE_INIT;
	struct store s = STORE_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int fd, ret = 128;

	if (argc != 2 || (argv[1][0] == '-' && argv[1][1]))
		usage_cmd(NULL);
	repo_store(repo, &s);
	fd = strcmp(argv[1], "-") ? open(argv[1], O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		error_errno("cannot open '%s'", argv[1]);
		goto cleanup;
	}
	switch (model_file_open_fd(&mf, &s, fd, argv[1])) {
	case MODEL_FILE_OPEN:
		if (!load(&mf, &s, &err))
			describe_model(&mf, &out);
		else if (describe_other(&mf, err.buf, &out) < 0)
			goto cleanup;
		break;
	case MODEL_FILE_NOT_LOCAL:
		describe_not_local(&mf, &out);
		break;
	default:
		goto cleanup;
	}
	ret = 0;
cleanup:
	return finish(ret, &mf, &s, &out, &err);
}
