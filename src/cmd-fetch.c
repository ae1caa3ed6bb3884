/*
 * fetch / checkout / pull: bring weights into the local store, and put them
 * into the work tree where a file still holds its pointer text.
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"
#include "human.h"
#include "scan.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define COPY_BLOCK (1024 * 1024)

/* A comma-separated list of globs, as model.fetchInclude holds. */
static int glob_list_match(const char *list, const char *path)
{
	const char *base = strrchr(path, '/');
	char *copy, *p, *next;
	int hit = 0;

	base = base ? base + 1 : path;
	copy = xstrdup(list);
	for (p = copy; p && !hit; p = next) {
		size_t len;

		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '/'))
			p[--len] = '\0';
		if (!len)
			continue;
		hit = !fnmatch(p, path, 0) ||
		      (!strchr(p, '/') && !fnmatch(p, base, 0)) ||
		      (!strncmp(path, p, len) && path[len] == '/');
	}
	free(copy);
	return hit;
}

struct filters {
	struct strbuf include, exclude;
};

static void filters_load(struct repo *r, struct filters *f)
{
	strbuf_init(&f->include, 0);
	strbuf_init(&f->exclude, 0);
	if (config_get(r, "model.fetchinclude", &f->include) < 0 ||
	    config_get(r, "model.fetchexclude", &f->exclude) < 0)
		exit(128);
}

static int filters_want(const struct filters *f, const char *path)
{
	if (f->include.len && !glob_list_match(f->include.buf, path))
		return 0;
	if (f->exclude.len && glob_list_match(f->exclude.buf, path))
		return 0;
	return 1;
}

static void filters_release(struct filters *f)
{
	strbuf_release(&f->include);
	strbuf_release(&f->exclude);
}

struct fetch_args {
	const char *remote; /* NULL: the default remote */
	const char **refs;
	int nrefs;
	struct filters filters;
	int quiet;
	int progress;
};

static int parse_fetch_args(struct repo *r, int argc, const char **argv,
			    struct fetch_args *a)
{
	int i;
	git_remote *rem = NULL;

	memset(a, 0, sizeof(*a));
	a->progress = -1;
	filters_load(r, &a->filters);
	a->refs = xcalloc(argc + 1, sizeof(*a->refs));
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-I") || !strcmp(argv[i], "--include")) &&
		    i + 1 < argc) {
			strbuf_reset(&a->filters.include);
			strbuf_addstr(&a->filters.include, argv[++i]);
		} else if ((!strcmp(argv[i], "-X") ||
			    !strcmp(argv[i], "--exclude")) &&
			   i + 1 < argc) {
			strbuf_reset(&a->filters.exclude);
			strbuf_addstr(&a->filters.exclude, argv[++i]);
		} else if (!strcmp(argv[i], "-q") ||
			   !strcmp(argv[i], "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(argv[i], "--progress")) {
			a->progress = 1;
		} else if (argv[i][0] == '-') {
			usage_cmd(NULL);
		} else if (!a->remote && !a->nrefs &&
			   !git_remote_lookup(&rem, r->git, argv[i])) {
			a->remote = argv[i];
			git_remote_free(rem);
		} else {
			a->refs[a->nrefs++] = argv[i];
		}
	}
	git_error_clear();
	if (!a->nrefs)
		a->refs[a->nrefs++] = "HEAD";
	return 0;
}

static int do_fetch(struct repo *r, struct fetch_args *a)
{
	struct found_set set = FOUND_SET_INIT;
	struct storage s = STORAGE_INIT;
	struct store store = STORE_INIT;
	struct strbuf why = STRBUF_INIT, hs = STRBUF_INIT;
	struct transfer t = { 0 };
	size_t i;
	int have_storage = 0, ret = 1;

	for (i = 0; i < (size_t)a->nrefs; i++)
		if (scan_tree(r, a->refs[i], &set) < 0)
			goto cleanup;
	found_set_finish(&set);
	repo_store(r, &store);
	for (i = 0; i < set.nr; i++) {
		const struct found *f = &set.v[i];

		if (!filters_want(&a->filters, f->path) ||
		    store_has(&store, f->oid, f->size))
			continue;
		if (!have_storage) {
			int res = storage_for_repo(&s, r, a->remote, &why);

			if (res > 0)
				error("cannot download weights: %s", why.buf);
			if (res)
				goto cleanup;
			have_storage = 1;
			if (transfer_init(&t, TRANSFER_DOWNLOAD, &s, &store, r,
					  a->progress, a->quiet) < 0)
				goto cleanup;
		}
		transfer_add(&t, f->oid, f->size, f->path);
	}
	if (have_storage && transfer_run(&t)) {
		error("%zu file(s) could not be downloaded; run 'git model "
		      "fetch' again once the storage is reachable",
		      t.failed);
		goto cleanup;
	}
	if (!a->quiet && t.done) {
		human_size(t.bytes_done, &hs);
		fprintf(stderr, "git-model: downloaded %zu object(s) (%s)\n",
			t.done, hs.buf);
	}
	ret = 0;
cleanup:
	found_set_release(&set);
	transfer_release(&t);
	if (have_storage)
		storage_close(&s);
	store_release(&store);
	strbuf_release(&why);
	strbuf_release(&hs);
	return ret;
}

static void fetch_args_release(struct fetch_args *a)
{
	free(a->refs);
	filters_release(&a->filters);
}

int cmd_fetch(int argc, const char **argv, struct repo *repo)
{
	struct fetch_args a;
	int ret;

	parse_fetch_args(repo, argc, argv, &a);
	ret = do_fetch(repo, &a);
	fetch_args_release(&a);
	return ret;
}

/* Checkout. */

static int path_selected(const char *path, const char **specs, int nspecs)
{
	int i;

	if (!nspecs)
		return 1;
	for (i = 0; i < nspecs; i++) {
		size_t len = strlen(specs[i]);

		while (len && specs[i][len - 1] == '/')
			len--;
		if (!len || !fnmatch(specs[i], path, 0) ||
		    (!strncmp(path, specs[i], len) &&
		     (path[len] == '/' || !path[len])))
			return 1;
	}
	return 0;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

static int copy_fd(int in, int out, uint64_t size)
{
	uint64_t left = size;
	char *buf = NULL;
	int ret = -1;

	while (left) {
		ssize_t n = copy_file_range(in, NULL, out, NULL,
					    left > (1 << 30) ? (1 << 30) : left,
					    0);

		if (n <= 0)
			break;
		left -= n;
	}
	if (left) {
		/* Not supported across these file systems: plain copies. */
		buf = xmalloc(COPY_BLOCK);
		if (lseek(in, size - left, SEEK_SET) < 0)
			goto cleanup;
		while (left) {
			ssize_t n = xread(in, buf, COPY_BLOCK);

			if (n <= 0 || write_in_full(out, buf, n) < 0)
				goto cleanup;
			left -= n;
		}
	}
	ret = 0;
cleanup:
	free(buf);
	return ret;
}

/*
 * Replace the work tree file `file` with the object's bytes through a temp
 * file in the same directory and rename(); stat the result into `st`.
 */
static int write_weights(struct store *store, const struct pointer *p,
			 const char *file, unsigned mode, struct stat *st)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *slash = strrchr(file, '/');
	int in = -1, out = -1, ret = -1;

	in = store_open(store, p->oid, p->size);
	if (in < 0)
		goto cleanup;
	if (slash)
		strbuf_add(&tmp, file, slash + 1 - file);
	strbuf_addf(&tmp, ".%s.git-model-XXXXXX", slash ? slash + 1 : file);
	out = mkostemp(tmp.buf, O_CLOEXEC);
	if (out < 0) {
		error_errno("cannot create a temp file beside '%s'", file);
		strbuf_reset(&tmp);
		goto cleanup;
	}
	if (copy_fd(in, out, p->size) < 0 ||
	    fchmod(out, (mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) &
				~current_umask()) < 0 ||
	    close(out) < 0) {
		out = -1;
		error_errno("cannot write '%s'", tmp.buf);
		goto cleanup;
	}
	out = -1;
	if (rename(tmp.buf, file) < 0) {
		error_errno("cannot replace '%s'", file);
		goto cleanup;
	}
	strbuf_reset(&tmp);
	if (lstat(file, st) < 0) {
		error_errno("cannot stat '%s'", file);
		goto cleanup;
	}
	ret = 0;
cleanup:
	close_quietly(in);
	close_quietly(out);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}

static void entry_set_stat(git_index_entry *e, const struct stat *st)
{
	e->ctime.seconds = st->st_ctim.tv_sec;
	e->ctime.nanoseconds = st->st_ctim.tv_nsec;
	e->mtime.seconds = st->st_mtim.tv_sec;
	e->mtime.nanoseconds = st->st_mtim.tv_nsec;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->file_size = (uint32_t)st->st_size;
	/*
	 * We know the file matches the entry: tell libgit2 not to re-check
	 * it as racily clean (it would hash the weights without our filter).
	 */
	e->flags_extended |= GIT_INDEX_ENTRY_UPTODATE;
}

static int checkout_pointers(struct repo *r, const char **specs, int nspecs,
			     const struct filters *filters, int quiet)
{
	git_index *index = NULL;
	struct store store = STORE_INIT;
	struct strbuf file = STRBUF_INIT;
	size_t i, n, written = 0, missing = 0, failed = 0;
	time_t newest = 0;
	int ret = 1;

	repo_store(r, &store);
	if (git_repository_index(&index, r->git) < 0 ||
	    git_index_read(index, 0) < 0) {
		git2_error("cannot read the index");
		goto cleanup;
	}
	n = git_index_entrycount(index);
	for (i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		struct pointer p = POINTER_INIT;
		git_index_entry copy;
		struct stat st;

		if (git_index_entry_stage(e) ||
		    (e->mode != GIT_FILEMODE_BLOB &&
		     e->mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
		    !path_selected(e->path, specs, nspecs) ||
		    (filters && !filters_want(filters, e->path)))
			continue;
		if (blob_pointer(r, &e->id, &p) <= 0)
			continue;
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/%s", r->workdir, e->path);
		if (!worktree_holds_pointer(r, file.buf, &e->id)) {
			pointer_release(&p);
			continue;
		}
		if (!store_has(&store, p.oid, p.size)) {
			warning("'%s': weights %.12s are not in the local store "
				"(run 'git model fetch')",
				e->path, p.oid);
			missing++;
		} else if (write_weights(&store, &p, file.buf, e->mode, &st) <
			   0) {
			failed++;
		} else {
			copy = *e;
			entry_set_stat(&copy, &st);
			if (git_index_add(index, &copy) < 0) {
				git2_error("cannot update the index");
				failed++;
			} else {
				written++;
				if (st.st_mtim.tv_sec > newest)
					newest = st.st_mtim.tv_sec;
			}
		}
		pointer_release(&p);
	}
	if (written) {
		/*
		 * git treats an entry as racily clean, and re-reads the file,
		 * when it is not older than the index: write the index in a
		 * later second than any file we wrote.
		 */
		while (time(NULL) <= newest)
			usleep(50 * 1000);
		if (git_index_write(index) < 0) {
			git2_error("cannot write the index");
			goto cleanup;
		}
	}
	if (!quiet && written)
		fprintf(stderr, "git-model: checked out %zu file(s)\n",
			written);
	ret = (missing || failed) ? 1 : 0;
cleanup:
	git_index_free(index);
	store_release(&store);
	strbuf_release(&file);
	return ret;
}

static const char **relative_specs(struct repo *r, int argc, const char **argv,
				   int *n, int *quiet)
{
	const char **specs = xcalloc(argc + 1, sizeof(*specs));
	int i;

	*n = 0;
	for (i = 1; i < argc; i++) {
		struct strbuf sb = STRBUF_INIT;

		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			*quiet = 1;
			continue;
		}
		if (!strcmp(argv[i], "--"))
			continue;
		if (argv[i][0] == '-')
			usage_cmd(NULL);
		strbuf_addf(&sb, "%s%s", r->prefix,
			    strcmp(argv[i], ".") ? argv[i] : "");
		specs[(*n)++] = strbuf_detach(&sb, NULL);
	}
	return specs;
}

int cmd_checkout(int argc, const char **argv, struct repo *repo)
{
	int n, quiet = 0, i, ret;
	const char **specs = relative_specs(repo, argc, argv, &n, &quiet);

	ret = checkout_pointers(repo, specs, n, NULL, quiet);
	for (i = 0; i < n; i++)
		free((char *)specs[i]);
	free(specs);
	return ret;
}

int cmd_pull(int argc, const char **argv, struct repo *repo)
{
	struct fetch_args a;
	int ret;

	parse_fetch_args(repo, argc, argv, &a);
	ret = do_fetch(repo, &a);
	if (checkout_pointers(repo, NULL, 0, &a.filters, a.quiet))
		ret = 1;
	fetch_args_release(&a);
	return ret;
}
