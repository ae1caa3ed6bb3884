#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run-command.h"
#include "url.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define GITMODEL_MAX (64 * 1024)
#define GIT_CONFIG_MAX (4 * 1024 * 1024)

/*
 * The security policy: the model.* keys a committed .gitmodel may set.
 * Each says where the repository's objects are or how that storage
 * behaves, which is the repository's to say; nothing here decides what
 * is sent to the storage. git-model-config(5), SECURITY, gives the reason
 * for each key, and for each key left out (the user's credentials,
 * trust, and the limits that protect the user's machine).
 */
static const char *const gitmodel_keys[] = {
	"model.storage",     /* no userinfo; headers only if the user names it */
	"model.s3.endpoint", /* AWS keys only to AWS: config_s3_endpoint() */
	"model.s3.region",
	"model.s3.pathStyle",
	"model.s3.signature",
	"model.s3.multipartThreshold",
	"model.s3.partSize",
	"model.fetchInclude",
	"model.fetchExclude",
	"model.smudgeInlineMax",
	"model.compression", /* not .level: the CPU time is the pusher's */
};

struct config_entry {
	char *key;
	char *value;
	enum config_origin origin;
};

struct config_set {
	struct config_entry *v; /* lowest precedence first */
	size_t nr, alloc;
	int loaded;
	pthread_mutex_t lock;
};

static const char *const origin_names[] = {
	[CONFIG_ORIGIN_DEFAULT] = "default",
	[CONFIG_ORIGIN_GITMODEL] = ".gitmodel",
	[CONFIG_ORIGIN_SYSTEM] = "system",
	[CONFIG_ORIGIN_GLOBAL] = "global",
	[CONFIG_ORIGIN_LOCAL] = "local",
	[CONFIG_ORIGIN_WORKTREE] = "worktree",
	[CONFIG_ORIGIN_COMMAND] = "command",
};

const char *config_origin_name(enum config_origin o)
{
	return origin_names[o];
}

static int origin_from_scope(const char *scope, enum config_origin *o)
{
	size_t i;

	for (i = CONFIG_ORIGIN_SYSTEM; i < ARRAY_SIZE(origin_names); i++)
		if (!strcmp(scope, origin_names[i])) {
			*o = i;
			return 0;
		}
	return -1;
}

struct config_set *config_set_new(void)
{
	struct config_set *set = xcalloc(1, sizeof(*set));

	pthread_mutex_init(&set->lock, NULL);
	return set;
}

static void set_clear(struct config_set *set)
{
	size_t i;

	for (i = 0; i < set->nr; i++) {
		free(set->v[i].key);
		explicit_bzero(set->v[i].value, strlen(set->v[i].value));
		free(set->v[i].value);
	}
	free(set->v);
	set->v = NULL;
	set->nr = set->alloc = 0;
	set->loaded = 0;
}

void config_set_free(struct config_set *set)
{
	if (!set)
		return;
	set_clear(set);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

/*
 * git's rule: section and name case-insensitive, the subsection (between
 * the first and the last dot) exact.
 */
static int key_eq(const char *a, const char *b)
{
	const char *a1 = strchr(a, '.'), *b1 = strchr(b, '.');
	const char *a2 = strrchr(a, '.'), *b2 = strrchr(b, '.');

	if (!a1 || !b1)
		return !strcasecmp(a, b);
	if (a1 - a != b1 - b || strncasecmp(a, b, a1 - a) ||
	    a2 - a1 != b2 - b1 || strncmp(a1, b1, a2 - a1))
		return 0;
	return !strcasecmp(a2, b2);
}

static void set_add(struct config_set *set, const char *key, size_t klen,
		    const char *value, enum config_origin origin)
{
	ALLOC_GROW(set->v, set->nr + 1, set->alloc);
	set->v[set->nr].key = xstrndup(key, klen);
	set->v[set->nr].value = xstrdup(value);
	set->v[set->nr].origin = origin;
	set->nr++;
}

/* The entry that wins for `key` (the last one), or NULL. */
static const struct config_entry *set_find(const struct config_set *set,
					   const char *key)
{
	size_t i = set->nr;

	while (i--)
		if (key_eq(set->v[i].key, key))
			return &set->v[i];
	return NULL;
}

/*
 * Parse `git config -z --list` output, with "--show-scope" when
 * `origin` is DEFAULT (each entry then starts with its scope): entries
 * are "key\nvalue\0", or "key\0" for a key without a value (true).
 */
static int parse_list(struct config_set *set, const struct strbuf *out,
		      enum config_origin origin)
{
	const char *p = out->buf, *end = out->buf + out->len;

	while (p < end) {
		enum config_origin o = origin;
		const char *entry, *nl, *z;

		if (origin == CONFIG_ORIGIN_DEFAULT) {
			z = memchr(p, '\0', end - p);
			if (!z || origin_from_scope(p, &o) < 0)
				o = CONFIG_ORIGIN_SYSTEM; /* "unknown": lowest */
			if (!z)
				return error("cannot parse git config --list");
			p = z + 1;
		}
		entry = p;
		z = memchr(p, '\0', end - p);
		if (!z)
			return error("cannot parse git config --list");
		nl = memchr(entry, '\n', z - entry);
		set_add(set, entry, (nl ? nl : z) - entry, nl ? nl + 1 : "true",
			o);
		p = z + 1;
	}
	return 0;
}

/* git [--git-dir=<r's>] config <args>; stderr to /dev/null when `quiet`. */
static int run_git_config(const struct repo *r, const char *const *args,
			  size_t cap, int quiet, struct strbuf *out)
{
	const char *argv[16];
	struct strbuf gitdir = STRBUF_INIT;
	size_t n = 0;
	int ret;

	argv[n++] = "git";
	if (r && r->gitdir) {
		strbuf_addf(&gitdir, "--git-dir=%s", r->gitdir);
		argv[n++] = gitdir.buf;
	}
	argv[n++] = "config";
	while (*args && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	ret = quiet ? run_command_quiet(argv, out) :
		      run_command(argv, out, cap);
	strbuf_release(&gitdir);
	return ret;
}

static int gitmodel_key_allowed(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gitmodel_keys); i++)
		if (key_eq(key, gitmodel_keys[i]))
			return 1;
	return 0;
}

/* The blob of .gitmodel in the index, else in HEAD; 0 found, 1 not. */
static int gitmodel_blob(const struct repo *r, git_oid *oid, size_t *size)
{
	git_index *index = NULL;
	const git_index_entry *e;
	git_object *obj = NULL;
	int ret = 1;

	if (!git_repository_index(&index, r->git) &&
	    (e = git_index_get_bypath(index, ".gitmodel", 0))) {
		git_oid_cpy(oid, &e->id);
		*size = e->file_size;
		ret = 0;
	} else if (!git_revparse_single(&obj, r->git, "HEAD:.gitmodel") &&
		   git_object_type(obj) == GIT_OBJECT_BLOB) {
		git_oid_cpy(oid, git_object_id(obj));
		*size = git_blob_rawsize((git_blob *)obj);
		ret = 0;
	}
	git_error_clear();
	git_object_free(obj);
	git_index_free(index);
	return ret;
}

/*
 * .gitmodel's allowed keys into `set`, as GITMODEL. Other keys are
 * ignored, each named once in a warning.
 */
static int load_gitmodel(struct config_set *set, const struct repo *r)
{
	const char *args[] = { "--no-includes", "--list", "-z", NULL, NULL,
			       NULL };
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	struct config_set raw = { NULL, 0, 0, 0 };
	char hex[GIT_OID_HEXSZ + 1];
	struct stat st;
	git_oid oid;
	size_t size, i;
	int ret = 0;

	if (!r || !r->workdir)
		return 0;
	strbuf_addf(&path, "%s/.gitmodel", r->workdir);
	if (!lstat(path.buf, &st)) {
		if (!S_ISREG(st.st_mode) || st.st_size > GITMODEL_MAX)
			goto too_big;
		args[3] = "--file";
		args[4] = path.buf;
	} else if (!gitmodel_blob(r, &oid, &size)) {
		if (size > GITMODEL_MAX)
			goto too_big;
		git_oid_tostr(hex, sizeof(hex), &oid);
		args[3] = "--blob";
		args[4] = hex;
	} else {
		goto cleanup;
	}
	if (run_git_config(r, args, 4 * GITMODEL_MAX, 0, &out)) {
		warning("cannot read .gitmodel; ignoring it");
		goto cleanup;
	}
	if (parse_list(&raw, &out, CONFIG_ORIGIN_GITMODEL) < 0)
		goto cleanup;
	for (i = 0; i < raw.nr; i++) {
		const char *key = raw.v[i].key;

		if (strncasecmp(key, "model.", 6))
			continue;
		if (gitmodel_key_allowed(key))
			set_add(set, key, strlen(key), raw.v[i].value,
				CONFIG_ORIGIN_GITMODEL);
		else if (!set_find(&raw, key) ||
			 set_find(&raw, key) == &raw.v[i])
			warning("ignoring '%s' in .gitmodel: only your own git "
				"config may set it (git-model-config(5), "
				"SECURITY)", key);
	}
	goto cleanup;
too_big:
	warning(".gitmodel is not a file of at most %d bytes; ignoring it",
		GITMODEL_MAX);
cleanup:
	set_clear(&raw);
	strbuf_release(&path);
	strbuf_release(&out);
	return ret;
}

static int load(struct config_set *set, const struct repo *r)
{
	const char *args[] = { "--list", "--show-scope", "-z", NULL };
	struct strbuf out = STRBUF_INIT;
	int ret = 0;

	load_gitmodel(set, r);
	if (run_git_config(r, args, GIT_CONFIG_MAX, 0, &out))
		ret = error("cannot read git config (git config --list)");
	else
		ret = parse_list(set, &out, CONFIG_ORIGIN_DEFAULT);
	explicit_bzero(out.buf, out.len);
	strbuf_release(&out);
	set->loaded = 1;
	return ret;
}

/*
 * Run fn on the settings of `r`: its loaded set, or, without one, a
 * set read for this call only.
 */
static int with_set(const struct repo *r,
		    int (*fn)(const struct config_set *, void *), void *data)
{
	struct config_set *set = r ? r->config : NULL;
	int ret;

	if (!set) {
		struct config_set *tmp = config_set_new();

		ret = load(tmp, r);
		if (!ret)
			ret = fn(tmp, data);
		config_set_free(tmp);
		return ret;
	}
	pthread_mutex_lock(&set->lock);
	ret = set->loaded ? 0 : load(set, r);
	pthread_mutex_unlock(&set->lock);
	return ret < 0 ? ret : fn(set, data);
}

struct get_ctx {
	const char *key;
	struct strbuf *out;
	enum config_origin origin;
	int user_only;
};

static int get_fn(const struct config_set *set, void *data)
{
	struct get_ctx *c = data;
	const struct config_entry *e = NULL;
	size_t i = set->nr;

	while (i--)
		if (key_eq(set->v[i].key, c->key) &&
		    (!c->user_only ||
		     set->v[i].origin != CONFIG_ORIGIN_GITMODEL)) {
			e = &set->v[i];
			break;
		}
	if (!e)
		return 1;
	if (e->origin == CONFIG_ORIGIN_GITMODEL && url_has_userinfo(e->value))
		return error("'%s' in .gitmodel has a user name or password in "
			     "its URL; remove it and use a credential helper "
			     "(see gitcredentials(7))", e->key);
	c->origin = e->origin;
	strbuf_addstr(c->out, e->value);
	return 0;
}

int config_get_origin(const struct repo *r, const char *key,
		      struct strbuf *out, enum config_origin *origin)
{
	struct get_ctx c = { key, out, CONFIG_ORIGIN_DEFAULT, 0 };
	int ret = with_set(r, get_fn, &c);

	if (origin)
		*origin = c.origin;
	return ret;
}

int config_get(const struct repo *r, const char *key, struct strbuf *out)
{
	return config_get_origin(r, key, out, NULL);
}

int repo_config_get(const struct repo *r, const char *key,
		    struct strbuf *out)
{
	struct get_ctx c = { key, out, CONFIG_ORIGIN_DEFAULT, 1 };

	return with_set(r, get_fn, &c);
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

/* git's booleans; -1 (reported) for anything else. */
static int parse_bool(const char *key, const char *v, int *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off") || !strcmp(v, "0") || !*v)
		*out = 0;
	else
		return error("bad value '%s' for '%s': not a boolean", v, key);
	return 0;
}

int config_get_bool(const struct repo *r, const char *key, int def, int *out)
{
	struct strbuf v = STRBUF_INIT;
	int ret = config_get(r, key, &v);

	*out = def;
	if (ret == 0)
		ret = parse_bool(key, v.buf, out);
	strbuf_release(&v);
	return ret < 0 ? -1 : 0;
}

struct each_ctx {
	const char *prefix;
	config_fn fn;
	void *data;
};

static int each_fn(const struct config_set *set, void *data)
{
	struct each_ctx *c = data;
	size_t i, len = strlen(c->prefix);
	int ret = 0;

	for (i = 0; i < set->nr && !ret; i++) {
		const struct config_entry *e = &set->v[i];

		/* each name once: where its winning entry is */
		if (strncasecmp(e->key, c->prefix, len) ||
		    set_find(set, e->key) != e)
			continue;
		/* config_get() refuses it, and says so */
		if (e->origin == CONFIG_ORIGIN_GITMODEL &&
		    url_has_userinfo(e->value))
			continue;
		ret = c->fn(e->key, e->value, c->data);
	}
	return ret;
}

int config_each(const struct repo *r, const char *prefix, config_fn fn,
		void *data)
{
	struct each_ctx c = { prefix, fn, data };

	return with_set(r, each_fn, &c);
}

/* The <url> of "http.<url>.<name>" when the name is `name`, else NULL. */
static char *http_subsection(const char *key, const char *name)
{
	const char *last = strrchr(key, '.');

	if (strncasecmp(key, "http.", 5) || !last || last < key + 5 ||
	    strcasecmp(last + 1, name))
		return NULL;
	return xstrndup(key + 5, last - key - 5);
}

static int is_key(const char *key, const char *want)
{
	return key_eq(key, want);
}

/* http.<name>, or http.<url>.<name> when `scoped` (url_match()ed). */
static int http_key(const char *key, int scoped, const char *name)
{
	const char *last = strrchr(key, '.');

	if (!scoped)
		return !strncasecmp(key, "http.", 5) && last == key + 4 &&
		       !strcasecmp(last + 1, name);
	return !strcasecmp(last + 1, name);
}

static int storage_named_fn(const struct config_set *set, void *data)
{
	const char *url = data;
	char *want = url_without_userinfo(url), *have;
	size_t i, wlen = strlen(want), hlen;
	int found = 0;

	while (wlen && want[wlen - 1] == '/')
		wlen--;
	for (i = 0; i < set->nr && !found; i++) {
		if (set->v[i].origin == CONFIG_ORIGIN_GITMODEL ||
		    !is_key(set->v[i].key, "model.storage"))
			continue;
		have = url_without_userinfo(set->v[i].value);
		hlen = strlen(have);
		while (hlen && have[hlen - 1] == '/')
			hlen--;
		found = hlen == wlen && !strncmp(have, want, wlen);
		free(have);
	}
	free(want);
	return found;
}

int config_storage_named_by_user(const struct repo *r, const char *url)
{
	return with_set(r, storage_named_fn, (void *)url) > 0;
}

struct http_ctx {
	const struct repo *r;
	const char *url;
	int anonymous;
	struct http_settings *hs;
};

static void headers_clear(struct http_settings *hs)
{
	size_t i;

	for (i = 0; i < hs->headers_nr; i++) {
		explicit_bzero(hs->headers[i], strlen(hs->headers[i]));
		free(hs->headers[i]);
	}
	hs->headers_nr = 0;
	hs->auth_header = 0;
}

static int http_fn(const struct config_set *set, void *data)
{
	struct http_ctx *c = data;
	struct http_settings *hs = c->hs;
	int trusted = -1, best_verify = -2, best_ca = -2;
	size_t i;

	for (i = 0; i < set->nr; i++) {
		const struct config_entry *e = &set->v[i];
		char *pattern;
		int score = -1, scoped = 0;

		if (e->origin == CONFIG_ORIGIN_GITMODEL)
			continue;
		if ((pattern = http_subsection(e->key, "extraHeader")) ||
		    (pattern = http_subsection(e->key, "sslVerify")) ||
		    (pattern = http_subsection(e->key, "sslCAInfo"))) {
			score = url_match(pattern, c->url);
			free(pattern);
			if (score < 0)
				continue;
			scoped = 1;
		}
		if (is_key(e->key, "model.http.extraHeader") ||
		    http_key(e->key, scoped, "extraHeader")) {
			if (c->anonymous)
				continue;
			if (!*e->value) {
				headers_clear(hs);
				continue;
			}
			if (!scoped) {
				if (trusted < 0)
					trusted = storage_named_fn(
						set, (void *)c->url);
				if (!trusted) {
					hs->withheld = 1;
					continue;
				}
			}
			if (strpbrk(e->value, "\r\n"))
				return error("'%s' must be one line", e->key);
			ALLOC_GROW(hs->headers, hs->headers_nr + 1,
				   hs->headers_alloc);
			hs->headers[hs->headers_nr++] = xstrdup(e->value);
			if (!strncasecmp(e->value, "Authorization:", 14))
				hs->auth_header = 1;
		} else if (http_key(e->key, scoped, "sslVerify") &&
			   score >= best_verify) {
			best_verify = score;
			if (parse_bool(e->key, e->value, &hs->ssl_verify) < 0)
				return -1;
		} else if (http_key(e->key, scoped, "sslCAInfo") &&
			   score >= best_ca) {
			best_ca = score;
			free(hs->ca_info);
			hs->ca_info = *e->value ? xstrdup(e->value) : NULL;
		}
	}
	return 0;
}

int config_http_settings(const struct repo *r, const char *url,
			 int anonymous, struct http_settings *hs)
{
	struct http_ctx c = { r, url, anonymous, hs };
	int ret;

	memset(hs, 0, sizeof(*hs));
	hs->ssl_verify = 1;
	ret = with_set(r, http_fn, &c);
	if (ret < 0)
		http_settings_release(hs);
	return ret;
}

int config_http_tls(const struct repo *r, const char *url, int *ssl_verify,
		    char **ca_info)
{
	struct http_settings hs;

	if (config_http_settings(r, url ? url : "", 1, &hs) < 0)
		return -1;
	*ssl_verify = hs.ssl_verify;
	*ca_info = hs.ca_info;
	hs.ca_info = NULL;
	http_settings_release(&hs);
	return 0;
}

void http_settings_release(struct http_settings *hs)
{
	headers_clear(hs);
	free(hs->headers);
	free(hs->ca_info);
	memset(hs, 0, sizeof(*hs));
	hs->ssl_verify = 1;
}

void config_http_trust_hint(const char *url, struct strbuf *out)
{
	char *shown = url_without_userinfo(url);

	strbuf_addf(out, "headers without a URL scope go only to storage "
			 "your git config names (git config model.storage "
			 "'%s', or scope the header: git config "
			 "'http.%s.extraHeader' ...)",
		    shown, shown);
	free(shown);
}

static int is_aws_endpoint(const char *endpoint)
{
	struct url u = URL_INIT;
	size_t len;
	int ok = 0;

	if (!url_parse(&u, endpoint) && !strcmp(u.scheme, "https") &&
	    !u.user && (len = strlen(u.host)) > 14)
		ok = !strcmp(u.host + len - 14, ".amazonaws.com");
	url_release(&u);
	return ok;
}

int config_s3_endpoint(const struct repo *r, const char *aws_endpoint,
		       struct strbuf *out)
{
	struct strbuf v = STRBUF_INIT;
	enum config_origin origin;
	int ret;

	ret = config_get_origin(r, "model.s3.endpoint", &v, &origin);
	if (ret < 0)
		goto cleanup;
	ret = 0;
	if (v.len && origin != CONFIG_ORIGIN_GITMODEL)
		strbuf_add(out, v.buf, v.len);
	else if (aws_endpoint && *aws_endpoint)
		strbuf_addstr(out, aws_endpoint);
	else if (v.len && is_aws_endpoint(v.buf))
		strbuf_add(out, v.buf, v.len);
	else if (v.len)
		ret = error("S3 endpoint '%s' is named only by .gitmodel; AWS "
			    "credentials go only to AWS or to an endpoint you "
			    "name (git config model.s3.endpoint '%s', or "
			    "AWS_ENDPOINT_URL)",
			    v.buf, v.buf);
cleanup:
	strbuf_release(&v);
	return ret;
}

void config_warn_pushed_gitmodel(const struct repo *r, const git_oid *tips,
				 size_t nr)
{
	struct strbuf ours = STRBUF_INIT, theirs = STRBUF_INIT;
	struct strbuf blob = STRBUF_INIT;
	enum config_origin origin;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;

	if (config_get_origin(r, "model.storage", &ours, &origin) ||
	    origin != CONFIG_ORIGIN_GITMODEL)
		goto cleanup;
	for (i = 0; i < nr; i++) {
		const char *args[] = { "--no-includes", "--blob", NULL,
				       "--get", "model.storage", NULL };

		git_oid_tostr(hex, sizeof(hex), &tips[i]);
		strbuf_reset(&blob);
		strbuf_addf(&blob, "%s:.gitmodel", hex);
		args[2] = blob.buf;
		strbuf_reset(&theirs);
		if (run_git_config(r, args, GITMODEL_MAX, 1, &theirs) ||
		    !theirs.len)
			continue;
		strbuf_rtrim(&theirs);
		if (!strcmp(theirs.buf, ours.buf))
			continue;
		warning("the .gitmodel of the pushed commit %.12s names "
			"storage '%s'; uploading to the work tree's '%s' "
			"(git-model-config(5), SECURITY)",
			hex, url_has_userinfo(theirs.buf) ? "(with userinfo)" :
							    theirs.buf,
			ours.buf);
		break;
	}
cleanup:
	strbuf_release(&ours);
	strbuf_release(&theirs);
	strbuf_release(&blob);
}
