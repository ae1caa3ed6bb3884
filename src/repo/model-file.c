#include "model-file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"
#include "tensor-data.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define CACHE_HEADER "git-model tensor-hashes 1\n"

void model_file_release(struct model_file *mf)
{
	if (mf->fd >= 0)
		close(mf->fd);
	pointer_release(&mf->ptr);
	model_info_release(&mf->info);
	free(mf->hashes);
	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
	pointer_init(&mf->ptr);
	strbuf_init(&mf->info.metadata, 0);
}

static int use_fd(struct model_file *mf, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		close(fd);
		return error_errno("cannot stat the model file");
	}
	mf->fd = fd;
	model_source_fd(&mf->src, fd, st.st_size);
	return MODEL_FILE_OPEN;
}

/* Content already read (`head`) and the rest of `fd`, into a spool. */
static int spool(struct model_file *mf, const struct store *s,
		 const char *head, size_t len, int fd)
{
	char *buf = NULL;
	int out = store_spool(s);
	ssize_t n;

	if (out < 0 || write_in_full(out, head, len) < 0)
		goto fail;
	buf = xmalloc(TENSOR_BLOCK);
	while (fd >= 0 && (n = xread(fd, buf, TENSOR_BLOCK)) > 0)
		if (write_in_full(out, buf, n) < 0)
			goto fail;
	if (fd >= 0 && n < 0)
		goto fail;
	free(buf);
	if (fd >= 0)
		close(fd);
	return use_fd(mf, out);
fail:
	error_errno("cannot spool the model file");
	free(buf);
	if (out >= 0)
		close(out);
	if (fd >= 0)
		close(fd);
	return -1;
}

#define NOT_A_POINTER 2

/*
 * When `buf` is a pointer, open its object: MODEL_FILE_OPEN,
 * MODEL_FILE_NOT_LOCAL or -1. NOT_A_POINTER otherwise.
 */
static int open_object(struct model_file *mf, const struct store *s,
		       const char *buf, size_t len)
{
	int fd;

	if (!pointer_maybe(buf, len) || pointer_parse(&mf->ptr, buf, len, NULL))
		return NOT_A_POINTER;
	mf->is_pointer = 1;
	fd = store_open(s, mf->ptr.oid, mf->ptr.size);
	if (fd < 0)
		return errno == ENOENT ? MODEL_FILE_NOT_LOCAL : -1;
	memcpy(mf->oid, mf->ptr.oid, sizeof(mf->oid));
	return use_fd(mf, fd);
}

int model_file_open_fd(struct model_file *mf, const struct store *s, int fd,
		       const char *what)
{
	char head[POINTER_MAX + 1];
	ssize_t n = read_in_full(fd, head, sizeof(head));
	struct stat st;
	int ret;

	if (n < 0) {
		close(fd);
		return error_errno("cannot read '%s'", what);
	}
	ret = open_object(mf, s, head, n);
	if (ret != NOT_A_POINTER) {
		close(fd);
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return spool(mf, s, head, n, fd);
	return use_fd(mf, fd);
}

int model_file_open_pointer(struct model_file *mf, const struct store *s,
			    const struct pointer *p)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	pointer_format(p, &text);
	ret = open_object(mf, s, text.buf, text.len);
	strbuf_release(&text);
	if (ret == NOT_A_POINTER)
		BUG("a pointer that does not parse");
	return ret;
}

int model_file_open_blob(struct model_file *mf, const struct repo *r,
			 const struct store *s, const git_oid *id,
			 const char *what)
{
	git_blob *blob = NULL;
	int ret = blob_pointer(r, id, &mf->ptr);

	if (ret < 0)
		return -1;
	if (ret > 0) {
		struct pointer p = mf->ptr;

		pointer_init(&mf->ptr);
		ret = model_file_open_pointer(mf, s, &p);
		pointer_release(&p);
		return ret;
	}
	if (git_blob_lookup(&blob, r->git, id) < 0)
		return git2_error(what);
	ret = spool(mf, s, git_blob_rawcontent(blob),
		    (size_t)git_blob_rawsize(blob), -1);
	git_blob_free(blob);
	return ret;
}

int model_file_open_spec(struct model_file *mf, const struct repo *r,
			 const struct store *s, const char *spec)
{
	const char *colon = strchr(spec, ':');
	git_object *obj = NULL;
	struct stat st;
	int fd, ret;

	if (!colon || !stat(spec, &st)) {
		fd = open(spec, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return error_errno("cannot open '%s'", spec);
		return model_file_open_fd(mf, s, fd, spec);
	}
	if (git_revparse_single(&obj, r->git, spec) < 0 ||
	    git_object_type(obj) != GIT_OBJECT_BLOB) {
		git_object_free(obj);
		git_error_clear();
		return error("'%.*s' is not a file at '%.*s'",
			     (int)strlen(colon + 1), colon + 1,
			     (int)(colon - spec), spec);
	}
	ret = model_file_open_blob(mf, r, s, git_object_id(obj), spec);
	git_object_free(obj);
	return ret;
}

int model_file_read(struct model_file *mf, struct strbuf *err)
{
	if (mf->fd < 0)
		BUG("model_file_read() of a file not open");
	return model_read(&mf->src, &mf->info, err);
}

static int cache_path(const struct store *s, const char *oid,
		      struct strbuf *out)
{
	if (!oid_hex_valid(oid))
		return -1;
	strbuf_addf(out, "%s/tensor-hashes/%.2s/%s", s->dir, oid, oid);
	return 0;
}

int model_file_forget(const struct store *s, const char *oid)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	if (cache_path(s, oid, &path) < 0)
		return error("not an object id: '%s'", oid);
	if (unlink(path.buf) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", path.buf);
	strbuf_release(&path);
	return ret;
}

/* The hash cached for [offset, offset+length), or NULL. */
static const char *cached(const char *text, uint64_t offset, uint64_t length)
{
	char key[48];
	const char *p;
	size_t klen;

	xsnprintf(key, sizeof(key), "\n%" PRIu64 " %" PRIu64 " ", offset,
		  length);
	klen = strlen(key);
	p = strstr(text, key);
	if (!p || strlen(p + klen) < OID_HEXSZ + 1 ||
	    p[klen + OID_HEXSZ] != '\n')
		return NULL;
	return p + klen;
}

static void load_cache(const struct store *s, const char *oid,
		       struct strbuf *text)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	if (cache_path(s, oid, &path) < 0)
		goto cleanup;
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto cleanup;
	/* ~100 bytes a tensor at most */
	if (strbuf_read_capped(text, fd, (size_t)MODEL_MAX_TENSORS * 100) < 0 ||
	    text->len < strlen(CACHE_HEADER) ||
	    memcmp(text->buf, CACHE_HEADER, strlen(CACHE_HEADER)))
		strbuf_reset(text);
	close(fd);
cleanup:
	strbuf_release(&path);
}

void model_file_cache_hashes(const struct store *s, const char *oid,
			     const struct model_info *info,
			     char (*hashes)[OID_HEXSZ + 1])
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	size_t i;
	int quiet;

	if (cache_path(s, oid, &path) < 0 || mkdir_leading(path.buf) < 0)
		goto cleanup;
	strbuf_addstr(&text, CACHE_HEADER);
	/* keyed by offset and length: views (of other strides) are not */
	for (i = 0; i < info->nr; i++)
		if (info->tensors[i].contiguous)
			strbuf_addf(&text, "%" PRIu64 " %" PRIu64 " %s\n",
				    info->tensors[i].offset,
				    info->tensors[i].length, hashes[i]);
	/* Only a speed-up: a cache that cannot be written is no error. */
	quiet = set_error_quiet(1);
	write_file_atomically(path.buf, text.buf, text.len, 0444,
			      WRITE_FILE_UMASK | WRITE_FILE_NO_SYNC);
	set_error_quiet(quiet);
cleanup:
	strbuf_release(&path);
	strbuf_release(&text);
}

static int hash_tensors(struct model_file *mf, const struct store *s,
			int cached_only)
{
	struct strbuf text = STRBUF_INIT;
	size_t i, hashed = 0;
	int ret = 0;

	if (mf->hashes)
		return 0;
	mf->hashes = xcalloc(mf->info.nr + 1, sizeof(*mf->hashes));
	if (*mf->oid)
		load_cache(s, mf->oid, &text);
	for (i = 0; i < mf->info.nr; i++) {
		const struct model_tensor *t = &mf->info.tensors[i];
		const char *hit = text.len && t->contiguous ?
					  cached(text.buf, t->offset,
						 t->length) :
					  NULL;

		if (hit) {
			memcpy(mf->hashes[i], hit, OID_HEXSZ);
			mf->hashes[i][OID_HEXSZ] = '\0';
			if (oid_hex_valid(mf->hashes[i]))
				continue;
		}
		if (cached_only) {
			ret = 1;
			break;
		}
		if (tensor_hash(&mf->src, t, mf->hashes[i]) < 0) {
			ret = -1;
			break;
		}
		hashed++;
	}
	if (!ret && hashed && *mf->oid)
		model_file_cache_hashes(s, mf->oid, &mf->info, mf->hashes);
	if (ret) {
		free(mf->hashes);
		mf->hashes = NULL;
	}
	strbuf_release(&text);
	return ret;
}

int model_file_hash(struct model_file *mf, const struct store *s)
{
	return hash_tensors(mf, s, 0);
}

int model_file_hash_cached(struct model_file *mf, const struct store *s)
{
	return hash_tensors(mf, s, 1);
}
