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
#include "range-source.h"
#include "storage.h"
#include "tensor-data.h"
#include "transfer.h"
#include "parse-options.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define SHOW_HASH_HEX 16

/* What reading a header from storage may transfer at the most. */
#define REMOTE_HEADER_CAP ((uint64_t)1 << 20)

struct dtype_total {
	char dtype[16];
	uint64_t bytes, numel;
};

static int by_dtype(const void *a, const void *b)
{
	return strcmp(((const struct dtype_total *)a)->dtype,
		      ((const struct dtype_total *)b)->dtype);
}

/*
 * The summary and the tensor lines of `info`, with the tensors' hashes
 * when `hashes` is not NULL.
 */
static void describe_model(const struct model_info *info,
			   char (*hashes)[OID_HEXSZ + 1], struct strbuf *out)
{
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
		if (hashes)
			strbuf_addf(out, " %.*s", SHOW_HASH_HEX,
				    hashes[order[i]]);
		strbuf_addch(out, '\n');
	}
	free(order);
	free(tot);
}

/*
 * Whether a header is read from storage's compressed form first, as
 * downloads read objects (model.compression, by transfer_init()'s
 * parser): 1 or 0, or -1 when the download settings are invalid
 * (reported).
 */
static int compressed_first(const struct repo *repo)
{
	struct transfer t;
	int ret = -1;

	if (!transfer_init(&t, TRANSFER_DOWNLOAD, NULL, NULL, repo, 0, 1))
		ret = t.compression == TRANSFER_COMPRESS_ZSTD;
	transfer_release(&t);
	return ret;
}

/*
 * The tensors of a pointer whose weights are not local, from the header
 * of its object in storage (Range requests; never the weights) into
 * mf->info, asking for the compressed form first when `gmz_first`
 * (compressed_first()). 0, or -1 with the reason in `why`.
 */
static int read_remote(const struct repo *repo, struct model_file *mf,
		       int gmz_first, struct strbuf *why)
{
	struct storage s = STORAGE_INIT;
	struct range_source rs = RANGE_SOURCE_INIT;
	int ret = storage_for_repo(&s, repo, NULL, why);

	if (ret < 0)
		strbuf_addstr(why, "no storage");
	if (ret)
		return -1;
	ret = range_source_open(&rs, &s, mf->ptr.oid, mf->ptr.size,
				REMOTE_HEADER_CAP);
	rs.gmz_first = gmz_first;
	if (ret > 0)
		strbuf_addf(why, "'%s' is not HTTP storage", s.display);
	else if (!ret && model_read(&rs.src, &mf->info, why) < 0)
		ret = -1;
	range_source_release(&rs);
	storage_close(&s);
	return ret ? -1 : 0;
}

/*
 * What textconv prints for a pointer whose weights are not local. 0, or
 * -1 when the download settings are invalid (reported).
 */
static int describe_not_local(const struct repo *repo, struct model_file *mf,
			      struct strbuf *out)
{
	struct strbuf hs = STRBUF_INIT, why = STRBUF_INIT;
	int gmz_first = compressed_first(repo);

	if (gmz_first < 0)
		return -1;
	human_size(mf->ptr.size, &hs);
	strbuf_addf(out, "pointer: sha256:%s (%s)\n", mf->ptr.oid, hs.buf);
	if (!read_remote(repo, mf, gmz_first, &why)) {
		strbuf_addstr(out, "weights not in the local store: header read "
				   "from storage, bytes not compared (run 'git "
				   "model fetch')\n");
		describe_model(&mf->info, NULL, out);
	} else {
		strbuf_addf(out, "weights not in the local store: tensors not "
				 "read (%s), bytes not compared (run 'git model "
				 "fetch')\n", why.len ? why.buf : "no storage");
	}
	strbuf_release(&hs);
	strbuf_release(&why);
	return 0;
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
	static const char *const usage[] = { "git model show [<rev>:]<path>",
					     NULL };
	const struct option options[] = { OPT_END() };
	const char *spec = NULL;
	int gmz_first, ret = 128;

	argc = parse_options(argc, argv, options, usage, 0);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	if (!argc)
		usage_msg_opt("no file given", usage, options);
	spec = argv[0];
	repo_store(repo, &s);
	switch (model_file_open_spec(&mf, repo, &s, spec)) {
	case MODEL_FILE_OPEN:
		break;
	case MODEL_FILE_NOT_LOCAL:
		gmz_first = compressed_first(repo);
		if (gmz_first < 0)
			goto cleanup;
		if (read_remote(repo, &mf, gmz_first, &err) < 0) {
			error("the weights of '%s' (sha256:%.10s) are not in "
			      "the local store, and its header cannot be read "
			      "from storage: %s (run 'git model fetch')",
			      spec, mf.ptr.oid, err.len ? err.buf : "no storage");
			goto cleanup;
		}
		strbuf_addf(&out, "%s\n", spec);
		describe_model(&mf.info, NULL, &out);
		strbuf_addstr(&out, "(weights not in the local store: header "
				    "read from storage, no hashes)\n");
		ret = 0;
		goto cleanup;
	default:
		goto cleanup;
	}
	if (load(&mf, &s, &err) < 0) {
		error("cannot read '%s' as a model: %s", spec, err.buf);
		goto cleanup;
	}
	strbuf_addf(&out, "%s\n", spec);
	describe_model(&mf.info, mf.hashes, &out);
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
	static const char *const usage[] = {
		"git model textconv (<file> | -)", NULL
	};
	const struct option options[] = { OPT_END() };
	int fd, ret = 128;

	argc = parse_options(argc, argv, options, usage, 0);
	if (argc != 1)
		usage_msg_opt("one file, or - for stdin", usage, options);
	repo_store(repo, &s);
	fd = strcmp(argv[0], "-") ? open(argv[0], O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		error_errno("cannot open '%s'", argv[0]);
		goto cleanup;
	}
	switch (model_file_open_fd(&mf, &s, fd, argv[0])) {
	case MODEL_FILE_OPEN:
		if (!load(&mf, &s, &err))
			describe_model(&mf.info, mf.hashes, &out);
		else if (describe_other(&mf, err.buf, &out) < 0)
			goto cleanup;
		break;
	case MODEL_FILE_NOT_LOCAL:
		if (describe_not_local(repo, &mf, &out) < 0)
			goto cleanup;
		break;
	default:
		goto cleanup;
	}
	ret = 0;
cleanup:
	return finish(ret, &mf, &s, &out, &err);
}
