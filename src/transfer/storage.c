#include "storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static const struct storage_ops *const backends[] = {
	&storage_file_ops,
	&storage_http_ops,
	&storage_https_ops,
	&storage_s3_ops,
	&storage_lfs_http_ops,
	&storage_lfs_https_ops,
	&storage_lfs_ssh_ops,
};

static const struct storage_ops *find_backend(const char *url)
{
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		len = strlen(backends[i]->scheme);
		if (!strncmp(url, backends[i]->scheme, len) &&
		    !strncmp(url + len, "://", 3))
			return backends[i];
	}
	return NULL;
}

int storage_url_valid(const char *url, struct strbuf *why)
{
	char *shown;

	if (find_backend(url))
		return 1;
	if (why) {
		shown = url_without_userinfo(url);
		strbuf_addf(why, "unsupported storage URL '%s' (use "
				 "file:///absolute/path, http://, https://, "
				 "s3://bucket/prefix, lfs+https:// or lfs)",
			    shown);
		free(shown);
	}
	return 0;
}

static int open_storage(struct storage *s, const char *url,
			const struct repo *r, int anonymous)
{
	struct strbuf why = STRBUF_INIT;
	size_t len = strlen(url);

	memset(s, 0, sizeof(*s));
	s->anonymous = anonymous;
	while (len && url[len - 1] == '/')
		len--;
	s->url = xstrndup(url, len);
	s->display = url_without_userinfo(s->url);
	s->repo = r;
	s->ops = find_backend(s->url);
	if (!s->ops) {
		storage_url_valid(s->display, &why);
		error("%s", why.buf);
		strbuf_release(&why);
		storage_close(s);
		return -1;
	}
	if (s->ops->open(s) < 0) {
		storage_close(s);
		return -1;
	}
	if (!s->sync == !s->http)
		BUG("the %s backend set %s of sync and http", s->ops->scheme,
		    s->sync ? "both" : "neither");
	if (s->http && !s->transport)
		BUG("the %s backend has no HTTP transport", s->ops->scheme);
	return 0;
}

int storage_open(struct storage *s, const char *url, const struct repo *r)
{
	return open_storage(s, url, r, 0);
}

int storage_open_anonymous(struct storage *s, const char *url,
			   const struct repo *r)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return error("'%s': only HTTP storage can be used without "
			     "credentials", url);
	return open_storage(s, url, r, 1);
}

void storage_close(struct storage *s)
{
	if (s->ops)
		s->ops->close(s);
	if (s->transport) {
		http_transport_release(s->transport);
		free(s->transport);
	}
	free(s->url);
	free(s->display);
	memset(s, 0, sizeof(*s));
}

void storage_object_url(const char *base, const char *oid,
			struct strbuf *out)
{
	size_t len = strlen(base);

	if (!oid_hex_valid(oid))
		BUG("storage_object_url() with invalid oid");
	while (len && base[len - 1] == '/')
		len--;
	strbuf_add(out, base, len);
	strbuf_addf(out, "/sha256/%.2s/%.2s/%s", oid, oid + 2, oid);
}

static int remote_url(const struct repo *r, const char *remote,
		      struct strbuf *url, struct strbuf *why);

/*
 * The LFS storage of the remote: remote.<name>.lfsurl, else lfs.url, as
 * git-lfs reads them (from git's config, never .gitmodel), else the one
 * lfs_remote_storage() derives from its URL. 0, or 1 with `why` set.
 */
static int remote_lfs_storage(const struct repo *r, const char *remote,
			      struct strbuf *out, struct strbuf *why)
{
	struct strbuf url = STRBUF_INIT, key = STRBUF_INIT;
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	int ret;

	ret = remote_url(r, remote, &url, why);
	if (ret)
		goto cleanup;
	if (!git_repository_config_snapshot(&cfg, r->git)) {
		struct strbuf name = STRBUF_INIT;

		if (remote && !strchr(remote, '/') && !strchr(remote, ':'))
			strbuf_addstr(&name, remote);
		else if (!remote && repo_default_remote(r, &name) < 0)
			strbuf_reset(&name);
		if (name.len)
			strbuf_addf(&key, "remote.%s.lfsurl", name.buf);
		strbuf_release(&name);
		if ((key.len && !git_config_get_string_buf(&v, cfg, key.buf)) ||
		    !git_config_get_string_buf(&v, cfg, "lfs.url")) {
			strbuf_addf(out, "lfs+%s", v.ptr);
			goto cleanup;
		}
	}
	if (lfs_remote_storage(url.buf, out)) {
		char *shown = url_without_userinfo(url.buf);

		strbuf_addf(why, "model.storage is lfs, but the remote '%s' "
				 "is not an http(s) or ssh URL",
			    shown);
		free(shown);
		ret = 1;
	}
cleanup:
	git_buf_dispose(&v);
	git_config_free(cfg);
	strbuf_release(&key);
	strbuf_release(&url);
	return ret;
}

int storage_configured_url(const struct repo *r, struct strbuf *out)
{
	struct strbuf why = STRBUF_INIT;
	int ret = config_get(r, "model.storage", out);

	/* "lfs": the remote's Git LFS server, when there is one yet */
	if (!ret && !strcmp(out->buf, "lfs")) {
		strbuf_reset(out);
		ret = remote_lfs_storage(r, NULL, out, &why);
		if (ret)
			strbuf_reset(out);
	}
	strbuf_release(&why);
	return ret;
}

int storage_pointer_url(const struct repo *r, struct strbuf *out)
{
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
	int ret = storage_configured_url(r, out);

	if (ret != 1)
		return ret;
	strbuf_reset(out);
	ret = remote_url(r, NULL, &url, &why);
	if (!ret && (!strncmp(url.buf, "https://", 8) ||
		     !strncmp(url.buf, "http://", 7)))
		ret = remote_lfs_storage(r, NULL, out, &why);
	else if (!ret)
		ret = 1;
	if (ret)
		strbuf_reset(out);
	strbuf_release(&url);
	strbuf_release(&why);
	return ret;
}

/* The remote's URL, for a remote name (or the default remote). */
static int remote_url(const struct repo *r, const char *remote,
		      struct strbuf *url, struct strbuf *why)
{
	struct strbuf name = STRBUF_INIT;
	git_remote *rem = NULL;
	int ret = 1;

	if (remote && (strchr(remote, '/') || strchr(remote, ':'))) {
		strbuf_addstr(url, remote);
		return 0;
	}
	if (remote) {
		strbuf_addstr(&name, remote);
	} else if (repo_default_remote(r, &name) < 0) {
		ret = -1; /* reported */
		goto cleanup;
	}
	if (git_remote_lookup(&rem, r->git, name.buf) < 0) {
		struct stat st;

		/* As git does: not a remote's name, so maybe a path. */
		if (remote && !stat(remote, &st) && S_ISDIR(st.st_mode)) {
			strbuf_addstr(url, remote);
			ret = 0;
			goto cleanup;
		}
		strbuf_addf(why, "no model.storage is set and there is no "
				 "remote '%s'", name.buf);
		goto cleanup;
	}
	if (!git_remote_url(rem)) {
		strbuf_addf(why, "remote '%s' has no URL", name.buf);
		goto cleanup;
	}
	strbuf_addstr(url, git_remote_url(rem));
	ret = 0;
cleanup:
	git_remote_free(rem);
	strbuf_release(&name);
	return ret;
}

/*
 * A remote URL that is a local path or file:// URL gives that repository's
 * store as storage. Returns 0 with `base` set, 1 when the URL is not local.
 */
static int local_remote_store(const struct repo *r, const char *url,
			      struct strbuf *base, struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	git_repository *remote = NULL;
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	int ret = 1;

	if (!strncmp(url, "file://", 7)) {
		if (file_url_path(url, &path) < 0) {
			strbuf_addf(why, "bad file:// URL '%s'", url);
			goto cleanup;
		}
	} else if (strstr(url, "://") || (colon && (!slash || colon < slash))) {
		char *shown = url_without_userinfo(url);

		strbuf_addf(why, "no model.storage is set and the remote "
				 "'%s' is not a local repository; set "
				 "model.storage (git model env shows it)",
			    shown);
		free(shown);
		goto cleanup;
	} else {
		if (url[0] != '/')
			strbuf_addf(&path, "%s/",
				    r->workdir ? r->workdir : r->gitdir);
		strbuf_addstr(&path, url);
	}
	if (git_repository_open_ext(&remote, path.buf,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		strbuf_addf(why, "remote '%s' is not a git repository", url);
		goto cleanup;
	}
	strbuf_addstr(base, "file://");
	url_encode_path(git_repository_commondir(remote), base);
	while (base->len && base->buf[base->len - 1] == '/')
		strbuf_setlen(base, base->len - 1);
	strbuf_addstr(base, "/model/objects");
	ret = 0;
cleanup:
	git_repository_free(remote);
	strbuf_release(&path);
	return ret;
}

int storage_for_repo(struct storage *s, const struct repo *r,
		     const char *remote, struct strbuf *why)
{
	struct strbuf url = STRBUF_INIT, base = STRBUF_INIT;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = config_get(r, "model.storage", &url);
	if (ret < 0)
		goto cleanup;
	if (!ret && strcmp(url.buf, "lfs")) {
		ret = storage_open(s, url.buf, r);
		goto cleanup;
	}
	if (!ret) {
		/* model.storage = lfs: the Git LFS server of this remote */
		strbuf_reset(&url);
		ret = remote_lfs_storage(r, remote, &base, why);
		if (!ret)
			ret = storage_open(s, base.buf, r);
		goto cleanup;
	}
	ret = remote_url(r, remote, &url, why);
	if (!ret && (!strncmp(url.buf, "https://", 8) ||
		     !strncmp(url.buf, "http://", 7))) {
		/* a git host: its Git LFS server */
		ret = remote_lfs_storage(r, remote, &base, why);
		if (!ret)
			ret = storage_open(s, base.buf, r);
		goto cleanup;
	}
	if (!ret)
		ret = local_remote_store(r, url.buf, &base, why);
	if (!ret)
		ret = storage_open(s, base.buf, r);
	/* config.h: .gitmodel is read from a work tree only. */
	if (ret > 0 && !r->workdir)
		strbuf_addstr(why, " (a bare repository does not read "
				   ".gitmodel: set it with 'git config "
				   "model.storage <url>')");
cleanup:
	strbuf_release(&url);
	strbuf_release(&base);
	return ret;
}

void storage_object_location(struct storage *s, const char *oid,
			     struct strbuf *out)
{
	if (s->http)
		s->http->object_url(s, oid, NULL, out);
	else
		storage_object_url(s->display, oid, out);
}

int storage_open_transport(struct storage *s, const char *url)
{
	if (s->transport)
		BUG("storage_open_transport() twice");
	s->transport = xmalloc(sizeof(*s->transport));
	return http_transport_init(s->transport, s->repo, url);
}

int storage_list_uploads(struct storage *s, struct storage_upload **out,
			 size_t *nr)
{
	*out = NULL;
	*nr = 0;
	if (!s->http || !s->http->uploads)
		return 1;
	return s->http->uploads->list(s, out, nr);
}

int storage_abort_upload(struct storage *s, const struct storage_upload *u)
{
	if (!s->http || !s->http->uploads)
		BUG("storage_abort_upload() on storage without uploads");
	return s->http->uploads->abort(s, u);
}

void storage_uploads_release(struct storage_upload *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(v[i].key);
		free(v[i].id);
	}
	free(v);
}

void storage_request_release(struct storage_request *rq)
{
	strbuf_release(&rq->query);
	strbuf_release(&rq->body);
}
