#include "pointer-url.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "storage.h"
#include "transfer.h"
#include "url.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* Does `url` start with `prefix`, ending at a path boundary? */
static int under_prefix(const char *url, const char *prefix, size_t len)
{
	while (len && prefix[len - 1] == '/')
		len--;
	if (!len || strncmp(url, prefix, len))
		return 0;
	return url[len] == '/' || !url[len];
}

/*
 * Would a server read the path as something other than it looks, and so
 * leave the prefix it seems to be under? Dot segments, encoded dots,
 * slashes or backslashes.
 */
static int path_tricky(const char *path)
{
	const char *p;

	if (strchr(path, '\\') || strcasestr(path, "%2e") ||
	    strcasestr(path, "%2f") || strcasestr(path, "%5c"))
		return 1;
	for (p = path; (p = strchr(p, '/')); p++) {
		size_t len = strcspn(p + 1, "/");

		if ((len == 1 && p[1] == '.') ||
		    (len == 2 && p[1] == '.' && p[2] == '.'))
			return 1;
	}
	return 0;
}

static int listed(const char *list, const char *url)
{
	const char *p = list;

	while (*p) {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 1 && *p == '*')
			return 1;
		if (len && under_prefix(url, p, len))
			return 1;
		p += len;
	}
	return 0;
}

int pointer_url_allowed(const struct repo *r, const struct pointer *p,
			struct strbuf *base, struct strbuf *why)
{
	struct strbuf want = STRBUF_INIT, allow = STRBUF_INIT;
	struct url u = URL_INIT;
	const char *url = p->url;
	size_t len;
	int ok = 0;

	strbuf_reset(base);
	if (!url) {
		strbuf_addstr(why, "the pointer has no url");
		goto cleanup;
	}
	if (url_parse(&u, url) < 0 ||
	    (strcmp(u.scheme, "https") && strcmp(u.scheme, "http"))) {
		strbuf_addstr(why, "only http:// and https:// urls are "
				   "followed");
		goto cleanup;
	}
	if (u.user || strpbrk(url, "?#")) {
		strbuf_addstr(why, "a url with credentials, a query or a "
				   "fragment is not followed");
		goto cleanup;
	}
	if (path_tricky(u.path)) {
		strbuf_addstr(why, "a url with dot segments or encoded "
				   "separators is not followed");
		goto cleanup;
	}
	/* url ends with u.path: the object's path may not reach the host */
	storage_object_url("", p->oid, &want);
	len = strlen(u.path);
	if (len < want.len || strcmp(u.path + len - want.len, want.buf)) {
		strbuf_addstr(why, "the url does not end in the object's own "
				   "path, /sha256/aa/bb/<oid>");
		goto cleanup;
	}
	strbuf_add(base, url, strlen(url) - want.len);
	if (config_get(r, "model.allowPointerUrls", &allow) < 0) {
		strbuf_addstr(why, "model.allowPointerUrls cannot be read");
		goto cleanup;
	}
	if (!allow.len || !listed(allow.buf, url)) {
		strbuf_addstr(why, "it is not under model.allowPointerUrls");
		goto cleanup;
	}
	ok = 1;
cleanup:
	if (!ok)
		strbuf_reset(base);
	url_release(&u);
	strbuf_release(&want);
	strbuf_release(&allow);
	return ok;
}

/* One storage base and the objects wanted from it. */
static size_t fetch_from(const struct repo *r, struct store *store,
			 const char *base, const struct pointer *const *ptrs,
			 const char *const *paths, const char **bases,
			 size_t nr, int progress)
{
	struct storage s = STORAGE_INIT;
	struct transfer t;
	size_t i, want = 0, failed;

	for (i = 0; i < nr; i++)
		if (bases[i] && !strcmp(bases[i], base))
			want++;
	if (storage_open_anonymous(&s, base, r) < 0)
		return want;
	if (transfer_init(&t, TRANSFER_DOWNLOAD, &s, store, r, progress,
			  0) < 0) {
		storage_close(&s);
		return want;
	}
	t.foreign = 1;
	for (i = 0; i < nr; i++) {
		if (!bases[i] || strcmp(bases[i], base))
			continue;
		transfer_add(&t, ptrs[i]->oid, ptrs[i]->size, paths[i]);
	}
	failed = transfer_run(&t);
	transfer_release(&t);
	storage_close(&s);
	return failed;
}

size_t pointer_url_fetch(const struct repo *r, struct store *store,
			 const struct pointer *const *ptrs,
			 const char *const *paths, size_t nr, int progress)
{
	const char **bases;
	struct strbuf base = STRBUF_INIT, why = STRBUF_INIT;
	size_t i, j, missing = 0;

	/* Not set: nothing is followed, and nothing to explain per file. */
	if (config_get(r, "model.allowPointerUrls", &base)) {
		for (i = 0; i < nr; i++)
			if (!store_has(store, ptrs[i]->oid, ptrs[i]->size))
				missing++;
		strbuf_release(&base);
		return missing;
	}
	bases = xcalloc(nr + 1, sizeof(*bases));
	for (i = 0; i < nr; i++) {
		if (store_has(store, ptrs[i]->oid, ptrs[i]->size))
			continue;
		strbuf_reset(&why);
		if (!pointer_url_allowed(r, ptrs[i], &base, &why)) {
			warning("'%s': no storage is configured and its url "
				"is not followed: %s (set model.storage, or "
				"list the url's prefix in "
				"model.allowPointerUrls)",
				paths[i], why.buf);
			missing++;
			continue;
		}
		bases[i] = strbuf_detach(&base, NULL);
	}
	/* Usually one base: each base's objects go in one transfer. */
	for (i = 0; i < nr; i++) {
		if (!bases[i])
			continue;
		for (j = 0; j < i; j++)
			if (bases[j] && !strcmp(bases[j], bases[i]))
				break;
		if (j == i)
			missing += fetch_from(r, store, bases[i], ptrs, paths,
					      bases, nr, progress);
	}
	for (i = 0; i < nr; i++)
		free((char *)bases[i]);
	free(bases);
	strbuf_release(&base);
	strbuf_release(&why);
	return missing;
}
