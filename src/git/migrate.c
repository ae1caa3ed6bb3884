#include "migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr-file.h"
#include "checkout.h"
#include "hash.h"
#include "human.h"
#include "lfs-pointer.h"
#include "pointer.h"
#include "scan.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* How many missing objects a failed from-lfs names. */
#define MISSING_LIST_MAX 10

static const char gitattributes[] = ".gitattributes";

/* Patterns: gitattributes(5) matching of a top-level pattern. */

/*
 * `pat` (with a '/' somewhere, leading '/' removed) against the whole
 * `path`: '*' and '?' stop at '/', "**" between slashes or at an end
 * matches any number of directories.
 */
static int match_path(const char *pat, const char *path)
{
	const char *dd = strstr(pat, "**"), *rest, *p;
	char *head;
	size_t hlen;
	int ok = 0;

	if (!dd)
		return !fnmatch(pat, path, FNM_PATHNAME);
	hlen = dd - pat;
	rest = dd + 2;
	/* "**" not alone between slashes is two '*'s. */
	if ((hlen && pat[hlen - 1] != '/') || (*rest && *rest != '/'))
		return !fnmatch(pat, path, FNM_PATHNAME);
	head = xstrndup(pat, hlen);
	/* `head` ("" or "a/b/") matches a prefix of `path` ending at a '/'. */
	for (p = path; !ok; p++) {
		if (p == path ? !hlen : p[-1] == '/') {
			char *pre = xstrndup(path, p - path);

			if (!hlen || !fnmatch(head, pre, FNM_PATHNAME)) {
				if (!*rest) {
					ok = !!*p; /* "dir/" + "**": anything inside */
				} else {
					const char *q;

					/* "**" + "/rest": rest after 0..n dirs */
					for (q = p; !ok && q; ) {
						ok = match_path(rest + 1, q);
						q = strchr(q, '/');
						if (q)
							q++;
					}
				}
			}
			free(pre);
		}
		if (!*p)
			break;
	}
	free(head);
	return ok;
}

static int pattern_matches(const char *pat, const char *path,
			   const char *name)
{
	size_t len = strlen(pat);

	if (len && pat[len - 1] == '/')
		return 0; /* directories only */
	if (!strchr(pat, '/'))
		return !fnmatch(pat, name, 0);
	return match_path(pat[0] == '/' ? pat + 1 : pat, path);
}

/* The pointer that clean writes for (`oid`, `size`), as a blob. */
static int pointer_blob(struct migrate *m, const char *oid, uint64_t size,
			git_oid *out)
{
	struct pointer p = POINTER_INIT;
	struct strbuf text = STRBUF_INIT, url = STRBUF_INIT;
	int ret = 0;

	memcpy(p.oid, oid, OID_HEXSZ + 1);
	p.size = size;
	if (m->storage_url) {
		storage_object_url(m->storage_url, oid, &url);
		pointer_set_url(&p, url.buf);
	}
	pointer_format(&p, &text);
	if (git_blob_create_from_buffer(out, m->repo->git, text.buf,
					text.len) < 0)
		ret = git2_error("cannot write a pointer blob");
	pointer_release(&p);
	strbuf_release(&text);
	strbuf_release(&url);
	return ret;
}

static void count(struct migrate *m, const char *path, uint64_t size,
		  const char *note)
{
	m->files++;
	m->bytes += size;
	if (m->verbose) {
		struct strbuf h = STRBUF_INIT;

		human_size(size, &h);
		printf("  %-10s %s%s\n", h.buf, path, note);
		strbuf_release(&h);
	}
}

/* import: the raw bytes of blob `id` into the store and a pointer. */
static int import_blob(struct migrate *m, const char *path, const git_oid *id,
		       git_oid *out)
{
	git_blob *blob = NULL;
	struct store_writer w = STORE_WRITER_INIT;
	struct pointer p = POINTER_INIT;
	char oid[OID_HEXSZ + 1];
	const char *data;
	uint64_t size;
	int ret = -1;

	if (git_blob_lookup(&blob, m->repo->git, id) < 0)
		return git2_error(path);
	data = git_blob_rawcontent(blob);
	size = git_blob_rawsize(blob);
	/* Empty files and pointers stay, as in clean. */
	if (!size || (pointer_maybe(data, size) &&
		      !pointer_parse(&p, data, size, NULL))) {
		git_oid_cpy(out, id);
		ret = 0;
		goto cleanup;
	}
	if (m->dry_run) {
		struct hash h = HASH_INIT;

		hash_start(&h);
		hash_update(&h, data, size);
		hash_finish(&h, oid);
	} else if (store_writer_start(&w, &m->store) < 0 ||
		   store_writer_write(&w, data, size) < 0 ||
		   store_writer_commit(&w, NULL, oid, NULL) < 0) {
		error("cannot store '%s'", path);
		goto cleanup;
	}
	if (pointer_blob(m, oid, size, out) < 0)
		goto cleanup;
	count(m, path, size, "");
	ret = 0;
cleanup:
	store_writer_abort(&w);
	pointer_release(&p);
	git_blob_free(blob);
	return ret;
}

/* Copy the file at `src` into the store as `oid`, hashing it. */
static int copy_in(struct migrate *m, const char *oid, uint64_t size,
		   const char *src)
{
	struct store_writer w = STORE_WRITER_INIT;
	char got[OID_HEXSZ + 1];
	uint64_t got_size;
	int fd, ret = -1;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("cannot open '%s'", src);
	if (store_writer_start(&w, &m->store) < 0)
		goto cleanup;
	for (;;) {
		char *dst;
		size_t room = store_writer_room(&w, &dst);
		ssize_t n = xread(fd, dst, room);

		if (n < 0) {
			error_errno("cannot read '%s'", src);
			goto cleanup;
		}
		if (!n)
			break;
		if (store_writer_advance(&w, n) < 0)
			goto cleanup;
	}
	if (store_writer_commit(&w, oid, got, &got_size) < 0)
		goto cleanup;
	if (got_size != size) {
		error("'%s' has %llu bytes, its pointer says %llu", src,
		      (unsigned long long)got_size, (unsigned long long)size);
		goto cleanup;
	}
	ret = 0;
cleanup:
	store_writer_abort(&w);
	close(fd);
	return ret;
}

/* from-lfs: the object of a git-lfs pointer into the store. */
static int bring_object(struct migrate *m, const char *path, const char *oid,
			uint64_t size, const char **note)
{
	struct strbuf src = STRBUF_INIT;
	struct stat st;
	int ret = 0, r;

	*note = "";
	if (store_has(&m->store, oid, size))
		return 0;
	strbuf_addf(&src, "%s/lfs/objects/%.2s/%.2s/%s", m->repo->commondir,
		    oid, oid + 2, oid);
	if (stat(src.buf, &st) < 0) {
		*note = " (missing)";
		m->missing++;
		if (m->missing <= MISSING_LIST_MAX)
			strbuf_addf(&m->missing_list, "  %s %s\n", oid, path);
		goto cleanup;
	}
	if (m->dry_run)
		goto cleanup;
	r = store_link(&m->store, oid, size, src.buf, NULL);
	if (r > 0) {
		m->linked++;
	} else if (!r && !copy_in(m, oid, size, src.buf)) {
		m->copied++;
	} else {
		ret = error("cannot take '%s' from git-lfs's objects", path);
	}
cleanup:
	strbuf_release(&src);
	return ret;
}

/* from-lfs: a git-lfs pointer becomes git-model's. */
static int lfs_blob(struct migrate *m, const char *path, const git_oid *id,
		    git_oid *out)
{
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	char oid[OID_HEXSZ + 1];
	const char *note;
	size_t len;
	uint64_t size;
	int ret = -1;

	git_oid_cpy(out, id);
	if (git_repository_odb(&odb, m->repo->git) < 0 ||
	    git_odb_read_header(&len, &type, odb, id) < 0) {
		git2_error(path);
		goto cleanup;
	}
	ret = 0;
	if (len > LFS_POINTER_MAX)
		goto cleanup;
	ret = -1;
	if (git_blob_lookup(&blob, m->repo->git, id) < 0) {
		git2_error(path);
		goto cleanup;
	}
	ret = 0;
	if (lfs_pointer_parse(git_blob_rawcontent(blob), git_blob_rawsize(blob),
			      oid, &size) < 0)
		goto cleanup;
	ret = -1;
	if (bring_object(m, path, oid, size, &note) < 0 ||
	    pointer_blob(m, oid, size, out) < 0)
		goto cleanup;
	count(m, path, size, note);
	ret = 0;
cleanup:
	git_blob_free(blob);
	git_odb_free(odb);
	return ret;
}

/* from-lfs: the lfs attributes of a .gitattributes line become model's. */
static void convert_attr_line(const char *line, struct strbuf *out)
{
	static const char *const from[] = { "filter=lfs", "diff=lfs",
					    "merge=lfs" };
	static const char *const to[] = { "filter=model", "diff=model",
					  "merge=model" };
	const char *p = line;
	size_t i;

	while (*p) {
		size_t ws = strspn(p, " \t"), n;

		strbuf_add(out, p, ws);
		p += ws;
		n = strcspn(p, " \t");
		for (i = 0; i < ARRAY_SIZE(from); i++)
			if (n == strlen(from[i]) && !memcmp(p, from[i], n))
				break;
		if (i < ARRAY_SIZE(from))
			strbuf_addstr(out, to[i]);
		else
			strbuf_add(out, p, n);
		p += n;
	}
}

static int lfs_attributes(struct migrate *m, const git_oid *id, git_oid *out)
{
	git_blob *blob = NULL;
	struct attr_file f = ATTR_FILE_INIT;
	struct strbuf text = STRBUF_INIT;
	size_t i;
	int ret = 0;

	if (oid_memo_get(&m->attrs, id, NULL, out))
		return 0;
	if (git_blob_lookup(&blob, m->repo->git, id) < 0)
		return git2_error("cannot read a .gitattributes");
	if (git_blob_rawsize(blob) > ATTR_FILE_MAX) {
		git_oid_cpy(out, id);
		goto cleanup;
	}
	attr_file_parse(&f, git_blob_rawcontent(blob), git_blob_rawsize(blob));
	for (i = 0; i < f.nr; i++) {
		convert_attr_line(f.lines[i].text, &text);
		strbuf_addch(&text, '\n');
	}
	/* A last line without LF keeps lacking it. */
	if (git_blob_rawsize(blob) &&
	    ((const char *)git_blob_rawcontent(blob))
		    [git_blob_rawsize(blob) - 1] != '\n')
		strbuf_setlen(&text, text.len - 1);
	if (git_blob_create_from_buffer(out, m->repo->git, text.buf,
					text.len) < 0)
		ret = git2_error("cannot write a .gitattributes");
	else
		oid_memo_put(&m->attrs, id, NULL, out);
cleanup:
	attr_file_release(&f);
	strbuf_release(&text);
	git_blob_free(blob);
	return ret;
}

static int migrate_blob(void *data, const char *path, const char *name,
			const git_oid *id, git_oid *out)
{
	struct migrate *m = data;
	size_t i;
	int ret;

	if (m->mode == MIGRATE_FROM_LFS && !strcmp(name, gitattributes))
		return lfs_attributes(m, id, out);
	if (m->mode == MIGRATE_IMPORT) {
		/* The top one is top()'s; the others stay. */
		if (!strcmp(name, gitattributes)) {
			git_oid_cpy(out, id);
			return 0;
		}
		for (i = 0; i < m->patterns_nr; i++)
			if (pattern_matches(m->patterns[i], path, name))
				break;
		if (i == m->patterns_nr) {
			git_oid_cpy(out, id);
			return 0;
		}
	}
	if (oid_memo_get(&m->blobs, id, NULL, out))
		return 0;
	if (m->mode == MIGRATE_IMPORT)
		ret = import_blob(m, path, id, out);
	else
		ret = lfs_blob(m, path, id, out);
	if (!ret)
		oid_memo_put(&m->blobs, id, NULL, out);
	return ret;
}

/* import: the top .gitattributes with every pattern tracked. */
static int import_top(void *data, const git_tree *tree, git_treebuilder *tb)
{
	struct migrate *m = data;
	const git_tree_entry *e = git_tree_entry_byname(tree, gitattributes);
	static const git_oid none; /* the key of "no .gitattributes" */
	const git_oid *id = e ? git_tree_entry_id(e) : &none;
	struct attr_file f = ATTR_FILE_INIT;
	struct strbuf text = STRBUF_INIT, line = STRBUF_INIT;
	git_blob *blob = NULL;
	git_oid new;
	size_t i, j;
	int ret = -1;

	if (e && git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE)
		return error("the top '%s' is not a file", gitattributes);
	if (!oid_memo_get(&m->attrs, id, NULL, &new)) {
		if (e) {
			if (git_blob_lookup(&blob, m->repo->git, id) < 0) {
				git2_error("cannot read a .gitattributes");
				goto cleanup;
			}
			strbuf_add(&text, git_blob_rawcontent(blob),
				   git_blob_rawsize(blob));
			attr_file_parse(&f, text.buf, text.len);
			if (text.len && text.buf[text.len - 1] != '\n')
				strbuf_addch(&text, '\n');
		}
		for (i = 0; i < m->patterns_nr; i++) {
			for (j = 0; j < f.nr; j++)
				if (f.lines[j].tracked &&
				    !strcmp(f.lines[j].pattern, m->patterns[i]))
					break;
			if (j < f.nr)
				continue;
			strbuf_reset(&line);
			strbuf_addf(&line, "%s %s", m->patterns[i], ATTR_MODEL);
			attr_file_append(&f, line.buf);
			strbuf_addf(&text, "%s\n", line.buf);
		}
		if (git_blob_create_from_buffer(&new, m->repo->git, text.buf,
						text.len) < 0) {
			git2_error("cannot write a .gitattributes");
			goto cleanup;
		}
		oid_memo_put(&m->attrs, id, NULL, &new);
	}
	if ((!e || !git_oid_equal(&new, id)) &&
	    git_treebuilder_insert(NULL, tb, gitattributes, &new,
				   e ? git_tree_entry_filemode(e) :
				       GIT_FILEMODE_BLOB) < 0) {
		git2_error("cannot build a tree");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_blob_free(blob);
	attr_file_release(&f);
	strbuf_release(&text);
	strbuf_release(&line);
	return ret;
}

void migrate_init(struct migrate *m, struct repo *repo,
		  enum migrate_mode mode, const char *storage_url,
		  int dry_run)
{
	memset(m, 0, sizeof(*m));
	m->repo = repo;
	m->mode = mode;
	m->dry_run = dry_run;
	m->storage_url = storage_url ? xstrdup(storage_url) : NULL;
	repo_store(repo, &m->store);
	strbuf_init(&m->missing_list, 0);
	m->ops.blob = migrate_blob;
	m->ops.top = mode == MIGRATE_IMPORT ? import_top : NULL;
	m->ops.by_path = mode == MIGRATE_IMPORT;
	m->ops.data = m;
}

int migrate_add_pattern(struct migrate *m, const char *pattern)
{
	struct strbuf pat = STRBUF_INIT;

	if (!*pattern || strchr(pattern, '\n'))
		return error("invalid pattern '%s'", pattern);
	attr_escape_pattern(pattern, &pat);
	ALLOC_GROW(m->patterns, m->patterns_nr + 1, m->patterns_alloc);
	m->patterns[m->patterns_nr++] = strbuf_detach(&pat, NULL);
	return 0;
}

const struct rewrite_ops *migrate_ops(struct migrate *m)
{
	return &m->ops;
}

/* Write blob `id` as the work tree file `file` and stat it. */
static int write_blob_file(struct migrate *m, const char *file,
			   const git_oid *id, unsigned mode, struct stat *st)
{
	git_blob *blob = NULL;
	int ret = -1;

	if (git_blob_lookup(&blob, m->repo->git, id) < 0)
		return git2_error(file);
	if (mkdir_leading(file) < 0) {
		error_errno("cannot create the directory of '%s'", file);
		goto cleanup;
	}
	if (write_file_atomically(file, git_blob_rawcontent(blob),
				  git_blob_rawsize(blob),
				  mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 :
									 0666,
				  WRITE_FILE_UMASK) < 0)
		goto cleanup;
	if (lstat(file, st) < 0) {
		error_errno("cannot stat '%s'", file);
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_blob_free(blob);
	return ret;
}

struct worktree_update {
	struct migrate *m;
	git_index *index;
	char **pointers; /* files now holding git-model pointers */
	size_t pointers_nr, pointers_alloc;
	int err;
};


/*
 * Does the work tree file `file` hold exactly the content of the blob `id`
 * (git-lfs's pointer text, a few hundred bytes)? A symbolic link does not.
 */
static int file_holds_blob(const struct repo *r, const char *file,
			   const git_oid *id)
{
	struct strbuf held = STRBUF_INIT;
	git_blob *blob = NULL;
	int fd, ret = 0;

	if (git_blob_lookup(&blob, r->git, id) < 0) {
		git_error_clear();
		return 0;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && strbuf_read_capped(&held, fd, LFS_POINTER_MAX) >= 0 &&
	    held.len == git_blob_rawsize(blob) &&
	    !memcmp(held.buf, git_blob_rawcontent(blob), held.len))
		ret = 1;
	if (fd >= 0)
		close(fd);
	git_blob_free(blob);
	strbuf_release(&held);
	return ret;
}

static int update_one(struct worktree_update *u, const git_diff_delta *d)
{
	struct migrate *m = u->m;
	const char *path = d->new_file.path;
	const git_index_entry *old = git_index_get_bypath(u->index, path, 0);
	const char *name = strrchr(path, '/');
	struct strbuf file = STRBUF_INIT;
	git_index_entry e;
	struct stat st;
	int ret = -1;

	name = name ? name + 1 : path;
	if (d->status != GIT_DELTA_MODIFIED && d->status != GIT_DELTA_ADDED)
		return 0;
	if (!(d->new_file.mode == GIT_FILEMODE_BLOB ||
	      d->new_file.mode == GIT_FILEMODE_BLOB_EXECUTABLE))
		return 0;
	/* An entry that is not the old commit's is the user's business. */
	if (old && !git_oid_equal(&old->id, &d->old_file.id))
		return 0;
	strbuf_addf(&file, "%s/%s", m->repo->workdir, path);
	memset(&e, 0, sizeof(e));
	if (old)
		e = *old;
	e.path = path;
	e.mode = d->new_file.mode;
	git_oid_cpy(&e.id, &d->new_file.id);
	if (!old || !strcmp(name, gitattributes)) {
		if (write_blob_file(m, file.buf, &d->new_file.id, e.mode,
				    &st) < 0)
			goto cleanup;
		entry_set_stat(&e, &st);
	} else if (m->mode == MIGRATE_FROM_LFS &&
		   old->file_size <= LFS_POINTER_MAX &&
		   file_holds_blob(m->repo, file.buf, &d->old_file.id)) {
		/* git-lfs's pointer text: ours, then the weights. */
		if (write_blob_file(m, file.buf, &d->new_file.id, e.mode,
				    &st) < 0)
			goto cleanup;
		entry_set_stat(&e, &st);
		ALLOC_GROW(u->pointers, u->pointers_nr + 1, u->pointers_alloc);
		u->pointers[u->pointers_nr++] = xstrdup(path);
	} else {
		/* The file holds what the new blob smudges to: keep it. */
		e.flags_extended |= GIT_INDEX_ENTRY_UPTODATE;
	}
	if (git_index_add(u->index, &e) < 0) {
		git2_error(path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	strbuf_release(&file);
	return ret;
}

static int update_cb(const git_diff_delta *d, float progress, void *data)
{
	struct worktree_update *u = data;

	(void)progress;
	if (update_one(u, d) < 0) {
		u->err = -1;
		return -1;
	}
	return 0;
}

/* Put the weights into the files that now hold git-model pointers. */
static int checkout_pointers(struct migrate *m, struct worktree_update *u)
{
	struct checkout co;
	size_t i;

	if (!u->pointers_nr)
		return 0;
	if (checkout_begin(&co, m->repo, 1) < 0)
		return -1;
	for (i = 0; i < u->pointers_nr; i++) {
		const git_index_entry *e =
			git_index_get_bypath(co.index, u->pointers[i], 0);

		if (e)
			checkout_entry(&co, e);
	}
	return checkout_finish(&co);
}

int migrate_update_worktree(struct migrate *m, const git_oid *old,
			    const git_oid *new)
{
	git_commit *oc = NULL, *nc = NULL;
	git_tree *ot = NULL, *nt = NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	struct worktree_update u = { .m = m };
	size_t i;
	int ret = -1;

	if (!m->repo->workdir)
		return 0;
	/* Only our entries are added: their blobs exist, we wrote them. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	if (git_commit_lookup(&oc, m->repo->git, old) < 0 ||
	    git_commit_lookup(&nc, m->repo->git, new) < 0 ||
	    git_commit_tree(&ot, oc) < 0 || git_commit_tree(&nt, nc) < 0 ||
	    git_diff_tree_to_tree(&diff, m->repo->git, ot, nt, &opts) < 0 ||
	    git_repository_index(&u.index, m->repo->git) < 0 ||
	    git_index_read(u.index, 1) < 0) {
		git2_error("cannot update the index");
		goto cleanup;
	}
	if (git_diff_foreach(diff, update_cb, NULL, NULL, NULL, &u) < 0 &&
	    !u.err) {
		git2_error("cannot update the index");
		goto cleanup;
	}
	if (u.err)
		goto cleanup;
	if (git_index_write(u.index) < 0) {
		git2_error("cannot write the index");
		goto cleanup;
	}
	git_index_free(u.index);
	u.index = NULL;
	ret = checkout_pointers(m, &u);
cleanup:
	for (i = 0; i < u.pointers_nr; i++)
		free(u.pointers[i]);
	free(u.pointers);
	git_index_free(u.index);
	git_diff_free(diff);
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(oc);
	git_commit_free(nc);
	return ret;
}

void migrate_release(struct migrate *m)
{
	size_t i;

	for (i = 0; i < m->patterns_nr; i++)
		free(m->patterns[i]);
	free(m->patterns);
	m->patterns = NULL;
	m->patterns_nr = m->patterns_alloc = 0;
	store_release(&m->store);
	free(m->storage_url);
	m->storage_url = NULL;
	oid_memo_release(&m->blobs);
	oid_memo_release(&m->attrs);
	strbuf_release(&m->missing_list);
}
