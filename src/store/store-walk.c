#include "store-walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* sha256/aa/bb/<oid> is depth 4; anything this deep is not ours. */
#define MAX_DEPTH 16

struct walk {
	store_entry_fn fn;
	void *data;
	size_t base_len; /* of "<dir>/objects/" */
	int err;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What a regular file at `rel` is: an object, the temp file of an upload
 * into this store, or a stray. Fills `oid` for the first two.
 */
static enum store_entry_kind classify(const char *rel, const char *name,
				      char *oid)
{
	const char *p = rel;

	oid[0] = '\0';
	if (strncmp(p, "sha256/", 7))
		return STORE_STRAY;
	p += 7;
	if (strncmp(p, name, 2) || p[2] != '/' || strncmp(p + 3, name + 2, 2) ||
	    p[5] != '/' || strcmp(p + 6, name))
		return STORE_STRAY;
	if (strlen(name) < OID_HEXSZ)
		return STORE_STRAY;
	memcpy(oid, name, OID_HEXSZ);
	oid[OID_HEXSZ] = '\0';
	if (!oid_hex_valid(oid)) {
		oid[0] = '\0';
		return STORE_STRAY;
	}
	if (!name[OID_HEXSZ])
		return STORE_OBJECT;
	/* storage-file.c's put: "<oid>.tmp-XXXXXX" beside the object */
	if (!strncmp(name + OID_HEXSZ, ".tmp-", 5) &&
	    strlen(name + OID_HEXSZ + 5) == 6)
		return STORE_TEMP;
	oid[0] = '\0';
	return STORE_STRAY;
}

static int walk_dir(struct walk *w, struct strbuf *path, int depth)
{
	char **names = NULL;
	size_t nr = 0, alloc = 0, i, len = path->len;
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = opendir(path->buf);
	if (!dir) {
		/* no store yet, or gone meanwhile (prune, another fsck) */
		if (errno == ENOENT)
			return 0;
		w->err = error_errno("cannot read the directory '%s'",
				     path->buf);
		return 0;
	}
	while ((errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (errno)
		w->err = error_errno("cannot read the directory '%s'",
				     path->buf);
	closedir(dir);
	if (nr)
		qsort(names, nr, sizeof(*names), by_name);

	for (i = 0; i < nr && !ret; i++) {
		struct store_entry e;

		strbuf_setlen(path, len);
		strbuf_addf(path, "/%s", names[i]);
		if (lstat(path->buf, &e.st) < 0) {
			if (errno != ENOENT)
				w->err = error_errno("cannot stat '%s'",
						     path->buf);
			continue;
		}
		if (S_ISDIR(e.st.st_mode) && depth < MAX_DEPTH) {
			ret = walk_dir(w, path, depth + 1);
			continue;
		}
		e.path = path->buf;
		e.rel = path->buf + w->base_len;
		e.name = names[i];
		if (S_ISREG(e.st.st_mode))
			e.kind = classify(e.rel, e.name, e.oid);
		else {
			e.kind = STORE_STRAY;
			e.oid[0] = '\0';
		}
		ret = w->fn(&e, w->data);
	}
	strbuf_setlen(path, len);
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return ret;
}

int store_walk(const struct store *s, store_entry_fn fn, void *data)
{
	struct strbuf path = STRBUF_INIT;
	struct walk w = { fn, data, 0, 0 };
	int ret;

	strbuf_addf(&path, "%s/objects", s->dir);
	w.base_len = path.len + 1;
	ret = walk_dir(&w, &path, 0);
	strbuf_release(&path);
	return ret ? ret : w.err;
}
