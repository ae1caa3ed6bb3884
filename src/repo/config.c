#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define GITMODEL_MAX (64 * 1024)

struct kv {
	char *key;
	char *value;
};

struct kv_list {
	struct kv *v;
	size_t nr, alloc;
	int loaded;
};

static struct kv_list cmdline, gitmodel;

static void kv_add(struct kv_list *l, const char *key, size_t klen,
		   const char *value)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].key = xstrndup(key, klen);
	l->v[l->nr].value = xstrdup(value ? value : "");
	l->nr++;
}

/* The last entry wins, as in git. */
static const char *kv_find(const struct kv_list *l, const char *key)
{
	size_t i = l->nr;

	while (i--)
		if (!strcasecmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

/* One 'shell-quoted' token as git's sq_quote() writes it; NULL if bad. */
static const char *sq_dequote(const char *p, struct strbuf *out)
{
	if (*p != '\'')
		return NULL;
	p++;
	for (;;) {
		const char *q = strchr(p, '\'');

		if (!q)
			return NULL;
		strbuf_add(out, p, q - p);
		p = q + 1;
		if (p[0] == '\\' && p[1] == '\'' && p[2] == '\'') {
			strbuf_addch(out, '\'');
			p += 3;
			continue;
		}
		return p;
	}
}

static void load_cmdline(void)
{
	const char *p = getenv("GIT_CONFIG_PARAMETERS");
	const char *count = getenv("GIT_CONFIG_COUNT");
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;

	cmdline.loaded = 1;
	while (p && *p) {
		const char *eq;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		strbuf_reset(&key);
		strbuf_reset(&val);
		if (!(p = sq_dequote(p, &key))) {
			warning("cannot parse GIT_CONFIG_PARAMETERS; ignoring it");
			break;
		}
		if (*p == '=') {
			/* git >= 2.31: 'key'='value' ('key'= for no value) */
			p++;
			if (*p == '\'' && !(p = sq_dequote(p, &val))) {
				warning("cannot parse GIT_CONFIG_PARAMETERS");
				break;
			}
			kv_add(&cmdline, key.buf, key.len, val.buf);
		} else if ((eq = strchr(key.buf, '='))) {
			kv_add(&cmdline, key.buf, eq - key.buf, eq + 1);
		} else {
			kv_add(&cmdline, key.buf, key.len, "true");
		}
	}
	if (count) {
		long i, n = strtol(count, NULL, 10);

		for (i = 0; i < n && i < 10000; i++) {
			char kname[64], vname[64];
			const char *k, *v;

			xsnprintf(kname, sizeof(kname), "GIT_CONFIG_KEY_%ld", i);
			xsnprintf(vname, sizeof(vname), "GIT_CONFIG_VALUE_%ld",
				  i);
			k = getenv(kname);
			v = getenv(vname);
			if (k && v)
				kv_add(&cmdline, k, strlen(k), v);
		}
	}
	strbuf_release(&key);
	strbuf_release(&val);
}

static int collect_model(const char *name, const char *value, void *data)
{
	if (!strncasecmp(name, "model.", 6))
		kv_add(data, name, strlen(name), value);
	return 0;
}

static int read_config_file(const char *path)
{
	git_config *cfg;
	git_config_iterator *it;
	git_config_entry *e;
	int err;

	if (git_config_open_ondisk(&cfg, path) < 0)
		return git2_error(".gitmodel");
	if (git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return git2_error(".gitmodel");
	}
	while (!(err = git_config_next(&e, it)))
		collect_model(e->name, e->value, &gitmodel);
	git_config_iterator_free(it);
	git_config_free(cfg);
	if (err != GIT_ITEROVER)
		return git2_error(".gitmodel");
	return 0;
}

/* The blob of .gitmodel in the index, else in HEAD; 0 found, 1 not. */
static int gitmodel_blob(const struct repo *r, git_blob **blob)
{
	git_index *index = NULL;
	const git_index_entry *e;
	git_object *obj = NULL;
	int ret = 1;

	if (!git_repository_index(&index, r->git) &&
	    (e = git_index_get_bypath(index, ".gitmodel", 0)) &&
	    !git_blob_lookup(blob, r->git, &e->id))
		ret = 0;
	else if (!git_revparse_single(&obj, r->git, "HEAD:.gitmodel") &&
		 git_object_type(obj) == GIT_OBJECT_BLOB) {
		*blob = (git_blob *)obj;
		obj = NULL;
		ret = 0;
	}
	git_object_free(obj);
	git_index_free(index);
	return ret;
}

static void load_gitmodel(const struct repo *r)
{
	struct strbuf path = STRBUF_INIT;
	git_blob *blob = NULL;
	int fd = -1;

	gitmodel.loaded = 1;
	if (!r || !r->workdir)
		return;
	strbuf_addf(&path, "%s/.gitmodel", r->workdir);
	if (!access(path.buf, F_OK)) {
		read_config_file(path.buf);
		goto cleanup;
	}
	if (gitmodel_blob(r, &blob))
		goto cleanup;
	if (git_blob_rawsize(blob) > GITMODEL_MAX) {
		warning("committed .gitmodel is larger than %d bytes; ignoring "
			"it", GITMODEL_MAX);
		goto cleanup;
	}
	/* libgit2 reads config from files only: parse a private copy. */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/model/tmp/", r->commondir);
	if (mkdir_leading(path.buf) < 0)
		goto cleanup;
	strbuf_addstr(&path, "gitmodel-XXXXXX");
	fd = mkostemp(path.buf, O_CLOEXEC);
	if (fd < 0)
		goto cleanup;
	if (write_in_full(fd, git_blob_rawcontent(blob),
			  git_blob_rawsize(blob)) >= 0)
		read_config_file(path.buf);
	close(fd);
	unlink(path.buf);
cleanup:
	git_blob_free(blob);
	strbuf_release(&path);
}

int config_get(const struct repo *r, const char *key, struct strbuf *out)
{
	const char *v;
	int ret;

	if (!cmdline.loaded)
		load_cmdline();
	if ((v = kv_find(&cmdline, key))) {
		strbuf_addstr(out, v);
		return 0;
	}
	ret = repo_config_get(r, key, out);
	if (ret <= 0 || strncasecmp(key, "model.", 6))
		return ret;
	/* Trust in strangers' urls is yours to give, not a repository's. */
	if (!strcasecmp(key, "model.allowpointerurls"))
		return 1;
	if (!gitmodel.loaded)
		load_gitmodel(r);
	if ((v = kv_find(&gitmodel, key))) {
		strbuf_addstr(out, v);
		return 0;
	}
	return 1;
}

int config_get_int(const struct repo *r, const char *key, long def,
		   long *out)
{
	struct strbuf v = STRBUF_INIT;
	char *end;
	int ret = config_get(r, key, &v);

	*out = def;
	if (ret == 0) {
		errno = 0;
		*out = strtol(v.buf, &end, 10);
		if (errno || end == v.buf || *end)
			ret = error("bad value '%s' for '%s': not an integer",
				    v.buf, key);
	}
	strbuf_release(&v);
	return ret < 0 ? -1 : 0;
}

int config_get_size(const struct repo *r, const char *key, uint64_t def,
		    uint64_t *out)
{
	struct strbuf v = STRBUF_INIT;
	unsigned long long n = 0;
	char *end = NULL;
	int shift = 0, ret = config_get(r, key, &v);

	*out = def;
	if (ret == 0) {
		errno = 0;
		if (isdigit((unsigned char)v.buf[0]))
			n = strtoull(v.buf, &end, 10);
		switch (end ? tolower((unsigned char)*end) : 0) {
		case 'k': shift = 10; end++; break;
		case 'm': shift = 20; end++; break;
		case 'g': shift = 30; end++; break;
		}
		if (!end || errno || *end || n > (UINT64_MAX >> shift))
			ret = error("bad value '%s' for '%s': a size such as "
				    "64m", v.buf, key);
		else
			*out = (uint64_t)n << shift;
	}
	strbuf_release(&v);
	return ret < 0 ? -1 : 0;
}

int config_get_bool(const struct repo *r, const char *key, int def, int *out)
{
	struct strbuf v = STRBUF_INIT;
	int ret = config_get(r, key, &v);

	*out = def;
	if (ret == 0) {
		if (!strcasecmp(v.buf, "true") || !strcasecmp(v.buf, "yes") ||
		    !strcasecmp(v.buf, "on") || !strcmp(v.buf, "1"))
			*out = 1;
		else if (!strcasecmp(v.buf, "false") ||
			 !strcasecmp(v.buf, "no") ||
			 !strcasecmp(v.buf, "off") || !strcmp(v.buf, "0") ||
			 !*v.buf)
			*out = 0;
		else
			ret = error("bad value '%s' for '%s': not a boolean",
				    v.buf, key);
	}
	strbuf_release(&v);
	return ret < 0 ? -1 : 0;
}

struct each_ctx {
	struct kv_list names;
	const char *prefix;
};

static int add_name(const char *name, const char *value, void *data)
{
	struct each_ctx *c = data;

	(void)value;
	if (!strncasecmp(name, c->prefix, strlen(c->prefix)) &&
	    !kv_find(&c->names, name))
		kv_add(&c->names, name, strlen(name), NULL);
	return 0;
}

int config_each(const struct repo *r, const char *prefix, config_fn fn,
		void *data)
{
	struct each_ctx c = { { NULL, 0, 0, 0 }, prefix };
	struct strbuf val = STRBUF_INIT;
	size_t i;
	int ret = 0;

	if (!cmdline.loaded)
		load_cmdline();
	if (!gitmodel.loaded)
		load_gitmodel(r);
	for (i = 0; i < cmdline.nr; i++)
		add_name(cmdline.v[i].key, NULL, &c);
	repo_config_each(r, ".*", add_name, &c);
	for (i = 0; i < gitmodel.nr; i++)
		add_name(gitmodel.v[i].key, NULL, &c);
	for (i = 0; i < c.names.nr && !ret; i++) {
		strbuf_reset(&val);
		if (!config_get(r, c.names.v[i].key, &val))
			ret = fn(c.names.v[i].key, val.buf, data);
	}
	for (i = 0; i < c.names.nr; i++) {
		free(c.names.v[i].key);
		free(c.names.v[i].value);
	}
	free(c.names.v);
	strbuf_release(&val);
	return ret;
}
