/*
 * The Git LFS backend: the objects live on a Git LFS server (what GitHub,
 * GitLab, Gitea, Bitbucket and Hugging Face run beside every repository),
 * found through its batch API (git-lfs's docs/api/batch.md) with the
 * "basic" transfer adapter (docs/api/basic-transfers.md). Both tools name
 * an object by the sha256 of its content, so an object either pushed is
 * the other's too. That is why objects here are always raw, whatever
 * model.compression says (storage_http_ops.compressed is not set): the
 * batch API is keyed by the raw oid and size, and git-lfs clients read
 * what is stored.
 *
 *	lfs+https://host/repo.git/info/lfs    the endpoint, https (lfs+http
 *	                                      for tests and intranets)
 *	lfs+ssh://[user@]host[:port]/path     `ssh [-p port] [user@]host
 *	                                      git-lfs-authenticate path
 *	                                      upload|download` gives the
 *	                                      endpoint and its header
 *
 * The engine asks locate() where objects go: this file POSTs
 * <endpoint>/objects/batch for up to LFS_BATCH_MAX objects at a time and
 * keeps each object's actions (href, header, expiry) until they expire;
 * prepare() then points the engine's GET, PUT and verify POST at the
 * action's href with its headers. An action that expires within
 * LFS_EXPIRY_MARGIN seconds, or whose request was refused, is asked for
 * anew. The engine sends, retries, resumes and verifies the bytes.
 *
 * Credentials go only to the batch endpoint (an action's requests carry
 * the action's own headers): the user's git credential helpers, asked on
 * a 401, or what git-lfs-authenticate hands out over ssh. Both only when
 * the user's own configuration names that server: model.storage set
 * outside .gitmodel, or a git remote of the repository, its
 * remote.<name>.lfsurl or lfs.url on the same host (config.h has the
 * policy; a .gitmodel is a stranger's).
 */

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "credential.h"
#include "http.h"
#include "pointer.h"
#include "run-command.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define LFS_MEDIA_TYPE "application/vnd.git-lfs+json"
#define LFS_BATCH_MAX 100            /* objects in one batch request */
#define LFS_ANSWER_MAX (16 << 20)    /* bytes of a batch answer */
#define LFS_SSH_ANSWER_MAX (64 << 10) /* bytes from git-lfs-authenticate */
#define LFS_EXPIRY_MARGIN 5          /* seconds an action must still live */
#define LFS_HEADERS_MAX 64           /* headers of one action */
#define LFS_ROUNDS 3                 /* batches for one object in a row */

/* An href and the headers to send with it, valid until `expires`. */
struct lfs_action {
	char *href;
	char **headers; /* "Name: value" */
	size_t headers_nr;
	time_t expires; /* 0: does not expire */
};

/* What the server said of one object for one operation. */
struct lfs_entry {
	char oid[OID_HEXSZ + 1];
	int upload; /* the batch's operation */
	enum lfs_answer {
		LFS_ACTIONS,    /* `act` (and perhaps `verify`) */
		LFS_NO_ACTIONS, /* an upload the server does not need */
		LFS_ERROR,      /* code and message */
	} answer;
	long code;
	char *message;
	struct lfs_action act, verify;
	struct lfs_entry *next; /* in its hash bucket */
};

#define LFS_BUCKETS 1024

struct lfs_storage {
	char *endpoint; /* http(s) URL, no userinfo, no trailing slash */
	int trusted;    /* credentials may be sent to it */
	struct credential cred;
	int have_cred, tried_fill, approved;
	struct http_settings hs;
	long retries;
	/* lfs+ssh */
	char *ssh_host, *ssh_port, *ssh_path; /* host may be user@host */
	char *ssh_command; /* GIT_SSH_COMMAND or core.sshCommand, or NULL */
	struct lfs_action ssh_auth[2];        /* download, upload */
	struct lfs_entry *buckets[LFS_BUCKETS];
};

static const struct storage_http_ops lfs_http_ops;

static void action_release(struct lfs_action *a)
{
	size_t i;

	free(a->href);
	for (i = 0; i < a->headers_nr; i++) {
		explicit_bzero(a->headers[i], strlen(a->headers[i]));
		free(a->headers[i]);
	}
	free(a->headers);
	memset(a, 0, sizeof(*a));
}

static int action_fresh(const struct lfs_action *a)
{
	return a->href &&
	       (!a->expires || a->expires - LFS_EXPIRY_MARGIN > time(NULL));
}

/* The first 10 bits of the oid (valid hex: oid_hex_valid()). */
static unsigned bucket_of(const char *oid)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 3; i++)
		v = v * 16 + (oid[i] <= '9' ? oid[i] - '0' : oid[i] - 'a' + 10);
	return v % LFS_BUCKETS;
}

static struct lfs_entry **entry_slot(struct lfs_storage *l, const char *oid,
				     int upload)
{
	struct lfs_entry **e = &l->buckets[bucket_of(oid)];

	while (*e && ((*e)->upload != upload || strcmp((*e)->oid, oid)))
		e = &(*e)->next;
	return e;
}

static void entry_free(struct lfs_entry *e)
{
	action_release(&e->act);
	action_release(&e->verify);
	free(e->message);
	free(e);
}

static void entry_drop(struct lfs_storage *l, const char *oid, int upload)
{
	struct lfs_entry **e = entry_slot(l, oid, upload), *dead = *e;

	if (dead) {
		*e = dead->next;
		entry_free(dead);
	}
}

/* A cached answer that may still be used, or NULL. */
static struct lfs_entry *entry_usable(struct lfs_storage *l, const char *oid,
				      int upload)
{
	struct lfs_entry *e = *entry_slot(l, oid, upload);

	if (e && e->answer == LFS_ACTIONS && !action_fresh(&e->act))
		return NULL;
	return e;
}

/*
 * The endpoint of an http(s) remote, git-lfs's rule:
 * <url>[.git]/info/lfs, without userinfo, query or fragment.
 */
static void http_endpoint(const char *url, struct strbuf *out)
{
	char *bare = url_without_userinfo(url);
	size_t len = strcspn(bare, "?#");

	while (len && bare[len - 1] == '/')
		len--;
	strbuf_add(out, bare, len);
	if (len < 4 || strncmp(bare + len - 4, ".git", 4))
		strbuf_addstr(out, ".git");
	strbuf_addstr(out, "/info/lfs");
	free(bare);
}

int lfs_remote_storage(const char *url, struct strbuf *out)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	const char *rest;

	if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) {
		strbuf_addstr(out, "lfs+");
		http_endpoint(url, out);
		return 0;
	}
	if (!strncmp(url, "ssh://", 6))
		rest = url + 6;
	else if (!strncmp(url, "git+ssh://", 10))
		rest = url + 10;
	else if (!strncmp(url, "ssh+git://", 10))
		rest = url + 10;
	else
		rest = NULL;
	if (rest) {
		size_t len = strlen(rest);

		while (len && rest[len - 1] == '/')
			len--;
		strbuf_addstr(out, "lfs+ssh://");
		strbuf_add(out, rest, len);
		return 0;
	}
	/* scp-like [user@]host:path, as git reads it */
	if (colon && colon != url && !strstr(url, "://") &&
	    (!slash || colon < slash)) {
		const char *path = colon + 1;
		size_t len;

		while (*path == '/')
			path++;
		len = strlen(path);
		while (len && path[len - 1] == '/')
			len--;
		if (!len)
			return 1;
		strbuf_addstr(out, "lfs+ssh://");
		strbuf_add(out, url, colon - url);
		strbuf_addch(out, '/');
		strbuf_add(out, path, len);
		return 0;
	}
	return 1;
}

/* Is `url` (an lfs+ URL, or an LFS endpoint with `plain`) on `host`? */
static int url_on_host(const char *url, int plain, const char *host)
{
	struct url u = URL_INIT;
	struct strbuf h = STRBUF_INIT;
	int ret = 0;

	if (!url_parse(&u, plain ? url : url + 4)) {
		strbuf_addstr(&h, u.host);
		if (u.port)
			strbuf_addf(&h, ":%s", u.port);
		ret = !strcmp(h.buf, host);
	}
	url_release(&u);
	strbuf_release(&h);
	return ret;
}

/*
 * Does the user's git config name the server at `host`: a git remote of
 * the repository, its remote.<name>.lfsurl or lfs.url?
 */
static int remote_names_host(const struct repo *r, const char *host)
{
	git_strarray names = { 0 };
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	size_t i;
	int found = 0;

	if (!r || !r->git || git_remote_list(&names, r->git) < 0)
		return 0;
	if (git_repository_config_snapshot(&cfg, r->git) < 0)
		cfg = NULL;
	if (cfg && !git_config_get_string_buf(&v, cfg, "lfs.url"))
		found = url_on_host(v.ptr, 1, host);
	for (i = 0; i < names.count && !found; i++) {
		struct strbuf lfs = STRBUF_INIT, key = STRBUF_INIT;
		git_remote *rem = NULL;

		if (!git_remote_lookup(&rem, r->git, names.strings[i]) &&
		    git_remote_url(rem) &&
		    !lfs_remote_storage(git_remote_url(rem), &lfs))
			found = url_on_host(lfs.buf, 0, host);
		strbuf_addf(&key, "remote.%s.lfsurl", names.strings[i]);
		git_buf_dispose(&v);
		if (!found && cfg &&
		    !git_config_get_string_buf(&v, cfg, key.buf))
			found = url_on_host(v.ptr, 1, host);
		git_remote_free(rem);
		strbuf_release(&lfs);
		strbuf_release(&key);
	}
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_strarray_dispose(&names);
	return found;
}

/*
 * The ssh command line the user chose, as git picks it: GIT_SSH_COMMAND,
 * else core.sshCommand (the user's git config; .gitmodel cannot set it),
 * else NULL (then GIT_SSH names a program, or "ssh"). 0 or -1.
 */
static int ssh_command(const struct repo *r, char **out)
{
	const char *env = getenv("GIT_SSH_COMMAND");
	struct strbuf v = STRBUF_INIT;
	int ret;

	*out = NULL;
	if (env && *env) {
		*out = xstrdup(env);
		return 0;
	}
	if (!r)
		return 0;
	ret = config_get(r, "core.sshCommand", &v);
	if (!ret && v.len)
		*out = strbuf_detach(&v, NULL);
	strbuf_release(&v);
	return ret < 0 ? -1 : 0;
}

static int lfs_open(struct storage *s)
{
	struct lfs_storage *l = xcalloc(1, sizeof(*l));
	struct strbuf endpoint = STRBUF_INIT, host = STRBUF_INIT;
	struct url u = URL_INIT;
	const char *inner = s->url + 4; /* after "lfs+" */
	int ret = -1;

	s->data = l;
	s->http = &lfs_http_ops;
	if (url_parse(&u, inner) < 0 || !*u.host) {
		error("storage URL '%s' has no host", s->display);
		goto cleanup;
	}
	strbuf_addstr(&host, u.host);
	if (u.port)
		strbuf_addf(&host, ":%s", u.port);
	if (!strcmp(u.scheme, "ssh")) {
		const char *path = u.path + strspn(u.path, "/");

		if (!*path) {
			error("storage URL '%s' has no repository path",
			      s->display);
			goto cleanup;
		}
		if (u.user)
			strbuf_addf(&endpoint, "%s@", u.user);
		strbuf_addstr(&endpoint, u.host);
		l->ssh_host = strbuf_detach(&endpoint, NULL);
		l->ssh_port = u.port ? xstrdup(u.port) : NULL;
		l->ssh_path = xstrdup(path);
		if (ssh_command(s->repo, &l->ssh_command) < 0)
			goto cleanup;
		strbuf_addf(&endpoint, "https://%s/", u.host);
		http_endpoint(path, &endpoint);
	} else {
		char *bare = url_without_userinfo(inner);

		strbuf_addstr(&endpoint, bare);
		free(bare);
	}
	l->endpoint = strbuf_detach(&endpoint, NULL);
	if (storage_open_transport(s, l->endpoint) < 0)
		goto cleanup;
	l->trusted = !s->anonymous &&
		     (!s->repo || config_storage_named_by_user(s->repo, s->url) ||
		      remote_names_host(s->repo, host.buf));
	if (l->trusted && !l->ssh_host) {
		credential_from_url(&l->cred, inner);
		l->have_cred = l->cred.username && l->cred.password;
	}
	if (config_http_settings(s->repo, l->endpoint, !l->trusted,
				 &l->hs) < 0)
		goto cleanup;
	if (config_get_int(s->repo, "model.retries", 5, &l->retries) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	url_release(&u);
	strbuf_release(&host);
	return ret;
}

static void lfs_close(struct storage *s)
{
	struct lfs_storage *l = s->data;
	size_t i;

	if (!l)
		return;
	for (i = 0; i < LFS_BUCKETS; i++)
		while (l->buckets[i]) {
			struct lfs_entry *e = l->buckets[i];

			l->buckets[i] = e->next;
			entry_free(e);
		}
	action_release(&l->ssh_auth[0]);
	action_release(&l->ssh_auth[1]);
	free(l->ssh_host);
	free(l->ssh_port);
	free(l->ssh_path);
	free(l->ssh_command);
	free(l->endpoint);
	credential_release(&l->cred);
	http_settings_release(&l->hs);
	free(l);
	s->data = NULL;
}

/* Seconds from now, or an RFC 3339 UTC time, to an absolute time. */
static time_t parse_expiry(struct json_object *action)
{
	struct json_object *v;
	time_t in = 0, at = 0;

	if (json_object_object_get_ex(action, "expires_in", &v) &&
	    json_object_is_type(v, json_type_int))
		in = time(NULL) + json_object_get_int64(v);
	if (json_object_object_get_ex(action, "expires_at", &v) &&
	    json_object_is_type(v, json_type_string)) {
		struct tm tm = { 0 };
		const char *end = strptime(json_object_get_string(v),
					   "%Y-%m-%dT%H:%M:%S", &tm);

		if (end)
			at = timegm(&tm);
	}
	/* both: the earlier */
	if (in && at)
		return in < at ? in : at;
	return in ? in : at;
}

/*
 * An action object: {"href", "header": {name: value}, "expires_in",
 * "expires_at"}. 0, or -1 with `why` set.
 */
static int parse_action(struct json_object *obj, struct lfs_action *a,
			struct strbuf *why)
{
	struct json_object *href, *header;
	struct strbuf line = STRBUF_INIT;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "href", &href) ||
	    !json_object_is_type(href, json_type_string) ||
	    (strncmp(json_object_get_string(href), "https://", 8) &&
	     strncmp(json_object_get_string(href), "http://", 7))) {
		strbuf_addstr(why, "the server sent an action without an "
				   "http(s) href");
		return -1;
	}
	a->href = xstrdup(json_object_get_string(href));
	a->expires = parse_expiry(obj);
	if (json_object_object_get_ex(obj, "header", &header) &&
	    json_object_is_type(header, json_type_object)) {
		json_object_object_foreach(header, name, val)
		{
			const char *v = json_object_get_string(val);

			if (a->headers_nr >= LFS_HEADERS_MAX ||
			    strpbrk(name, "\r\n:") || !v ||
			    strpbrk(v, "\r\n")) {
				strbuf_addstr(why, "the server sent an action "
						   "with a malformed header");
				return -1;
			}
			a->headers = xrealloc(a->headers,
					      (a->headers_nr + 1) *
						      sizeof(*a->headers));
			strbuf_addf(&line, "%s: %s", name, v);
			a->headers[a->headers_nr++] =
				strbuf_detach(&line, NULL);
		}
	}
	return 0;
}

/* The "message" of a JSON error body, or NULL. */
static const char *json_message(struct json_object *root)
{
	struct json_object *m;

	if (root && json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	return NULL;
}

static void describe_answer(long status, const char *body,
			    struct strbuf *out)
{
	struct json_object *root = body ? json_tokener_parse(body) : NULL;
	const char *msg = json_message(root);

	strbuf_addf(out, "%ld %s", status, http_reason_phrase(status));
	if (msg && *msg && strlen(msg) < 300 && !strpbrk(msg, "\r\n"))
		strbuf_addf(out, " (%s)", msg);
	json_object_put(root);
}

static size_t body_cb(char *buf, size_t size, size_t n, void *data)
{
	struct strbuf *body = data;
	size_t len = size * n;

	if (body->len + len > LFS_ANSWER_MAX)
		return 0;
	strbuf_add(body, buf, len);
	return len;
}

static size_t retry_after_cb(char *buf, size_t size, size_t n, void *data)
{
	long *retry_after = data;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(buf, "Retry-After:", 12))
		*retry_after = strtol(buf + 12, NULL, 10);
	return len;
}

static void sleep_ms(uint64_t ms)
{
	poll(NULL, 0, ms > 60000 ? 60000 : (int)ms);
}

/*
 * Over ssh: `ssh [-p port] [user@]host git-lfs-authenticate path op`,
 * run without a shell (GIT_SSH names another program), answers
 * {"href", "header", "expires_in"}: the endpoint and its credentials for
 * `op`. Kept until it expires. 0, or -1 with `why` set.
 */
static int ssh_authenticate(struct storage *s, int upload,
			    struct strbuf *why)
{
	struct lfs_storage *l = s->data;
	struct lfs_action *a = &l->ssh_auth[upload];
	const char *ssh = getenv("GIT_SSH");
	const char **argv = NULL;
	char **words = NULL;
	size_t nwords = 0, i;
	struct strbuf out = STRBUF_INIT;
	struct json_object *root = NULL;
	int argc = 0, ret = -1, code;

	if (action_fresh(a))
		return 0;
	action_release(a);
	if (!l->trusted) {
		strbuf_addf(why, "only .gitmodel names '%s': to run ssh "
				 "git-lfs-authenticate there, name it in your "
				 "git config (git config model.storage '%s')",
			    s->display, s->display);
		return -1;
	}
	if (l->ssh_host[0] == '-' || l->ssh_path[0] == '-') {
		strbuf_addstr(why, "an ssh host or path may not start with "
				   "'-'");
		return -1;
	}
	/* GIT_SSH_COMMAND and core.sshCommand: words, never a shell */
	if (l->ssh_command &&
	    (split_command(l->ssh_command, &words, &nwords) < 0 || !nwords)) {
		strbuf_addstr(why, "cannot read the ssh command line of "
				   "GIT_SSH_COMMAND or core.sshCommand (an "
				   "unterminated quote?)");
		goto cleanup;
	}
	argv = xcalloc(nwords + 9, sizeof(*argv));
	for (i = 0; i < nwords; i++)
		argv[argc++] = words[i];
	if (!nwords)
		argv[argc++] = ssh && *ssh ? ssh : "ssh";
	if (l->ssh_port) {
		argv[argc++] = "-p";
		argv[argc++] = l->ssh_port;
	}
	argv[argc++] = "--";
	argv[argc++] = l->ssh_host;
	argv[argc++] = "git-lfs-authenticate";
	argv[argc++] = l->ssh_path;
	argv[argc++] = upload ? "upload" : "download";
	argv[argc] = NULL;
	code = run_command(argv, &out, LFS_SSH_ANSWER_MAX);
	if (code) {
		strbuf_addf(why, "ssh git-lfs-authenticate failed (exit "
				 "code %d)", code);
		goto cleanup;
	}
	root = json_tokener_parse(out.buf);
	if (!root || parse_action(root, a, why) < 0) {
		action_release(a);
		strbuf_reset(why);
		strbuf_addstr(why, "ssh git-lfs-authenticate did not answer "
				   "an href in JSON");
		goto cleanup;
	}
	ret = 0;
cleanup:
	json_object_put(root);
	explicit_bzero(out.buf, out.len);
	strbuf_release(&out);
	for (i = 0; i < nwords; i++)
		free(words[i]);
	free(words);
	free(argv);
	return ret;
}

/* The request body of a batch. */
static void batch_body(int upload, struct storage_locate **objs, size_t n,
		       struct strbuf *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *list = json_object_new_array();
	struct json_object *transfers = json_object_new_array();
	size_t i;

	json_object_object_add(root, "operation",
			       json_object_new_string(upload ? "upload" :
							       "download"));
	json_object_array_add(transfers, json_object_new_string("basic"));
	json_object_object_add(root, "transfers", transfers);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "oid",
				       json_object_new_string(objs[i]->oid));
		json_object_object_add(o, "size",
				       json_object_new_int64(objs[i]->size));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "objects", list);
	json_object_object_add(root, "hash_algo",
			       json_object_new_string("sha256"));
	strbuf_addstr(out, json_object_to_json_string_ext(root,
							  JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/*
 * Keep what the answer says of each object asked about. 0, or -1 with
 * `why` set when the answer is not a batch answer.
 */
static int take_answer(struct lfs_storage *l, int upload, const char *body,
		       size_t len, struct strbuf *why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *objects, *transfer;
	size_t i, n;
	int ret = -1;

	root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	if (!root || !json_object_object_get_ex(root, "objects", &objects) ||
	    !json_object_is_type(objects, json_type_array)) {
		strbuf_addstr(why, "the server's batch answer is not JSON with "
				   "\"objects\"");
		goto cleanup;
	}
	if (json_object_object_get_ex(root, "transfer", &transfer) &&
	    (!json_object_is_type(transfer, json_type_string) ||
	     strcmp(json_object_get_string(transfer), "basic"))) {
		strbuf_addstr(why, "the server chose a transfer adapter other "
				   "than basic");
		goto cleanup;
	}
	n = json_object_array_length(objects);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(objects, i);
		struct json_object *oid, *err, *actions, *act, *v;
		struct lfs_entry *e;
		struct strbuf bad = STRBUF_INIT;

		if (!json_object_object_get_ex(o, "oid", &oid) ||
		    !json_object_is_type(oid, json_type_string) ||
		    !oid_hex_valid(json_object_get_string(oid)))
			continue; /* not one of ours */
		e = xcalloc(1, sizeof(*e));
		memcpy(e->oid, json_object_get_string(oid), OID_HEXSZ);
		e->upload = upload;
		if (json_object_object_get_ex(o, "error", &err)) {
			e->answer = LFS_ERROR;
			e->code = json_object_object_get_ex(err, "code", &v) ?
					  json_object_get_int(v) :
					  0;
			e->message = xstrdup(json_message(err) ?
						     json_message(err) :
						     "no message");
		} else if (!json_object_object_get_ex(o, "actions", &actions) ||
			   !json_object_object_get_ex(actions,
						      upload ? "upload" :
							       "download",
						      &act)) {
			e->answer = LFS_NO_ACTIONS;
		} else if (parse_action(act, &e->act, &bad) < 0 ||
			   (json_object_object_get_ex(actions, "verify", &v) &&
			    upload && parse_action(v, &e->verify, &bad) < 0)) {
			action_release(&e->act);
			action_release(&e->verify);
			e->answer = LFS_ERROR;
			e->message = strbuf_detach(&bad, NULL);
		} else {
			e->answer = LFS_ACTIONS;
		}
		strbuf_release(&bad);
		entry_drop(l, e->oid, upload);
		e->next = l->buckets[bucket_of(e->oid)];
		l->buckets[bucket_of(e->oid)] = e;
	}
	ret = 0;
cleanup:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return ret;
}

/*
 * POST one batch of `n` objects (at most LFS_BATCH_MAX), with retries
 * and credentials, and keep the answers. 0, or -1 with `why` set.
 */
static int batch(struct storage *s, int upload, struct storage_locate **objs,
		 size_t n, struct strbuf *why)
{
	struct lfs_storage *l = s->data;
	struct strbuf body = STRBUF_INIT, answer = STRBUF_INIT;
	struct strbuf url = STRBUF_INIT;
	int attempt = 0, ret = -1, ssh_again = 1;

	batch_body(upload, objs, n, &body);
	for (;;) {
		struct curl_slist *headers = NULL;
		const struct lfs_action *auth = NULL;
		CURL *easy;
		CURLcode rc;
		long status = 0, retry_after = 0;
		size_t i;

		if (l->ssh_host) {
			if (ssh_authenticate(s, upload, why) < 0)
				break;
			auth = &l->ssh_auth[upload];
		}
		strbuf_reset(&url);
		strbuf_addf(&url, "%s/objects/batch",
			    auth ? auth->href : l->endpoint);
		easy = curl_easy_init();
		if (!easy) {
			strbuf_addstr(why, "cannot start libcurl");
			break;
		}
		http_transport_setup(s->transport, easy);
		strbuf_reset(&answer);
		curl_easy_setopt(easy, CURLOPT_URL, url.buf);
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.buf);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)body.len);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
		curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, retry_after_cb);
		curl_easy_setopt(easy, CURLOPT_HEADERDATA, &retry_after);
		headers = curl_slist_append(headers,
					    "Accept: " LFS_MEDIA_TYPE);
		headers = curl_slist_append(headers,
					    "Content-Type: " LFS_MEDIA_TYPE);
		for (i = 0; auth && i < auth->headers_nr; i++)
			headers = curl_slist_append(headers, auth->headers[i]);
		for (i = 0; i < l->hs.headers_nr; i++)
			headers = curl_slist_append(headers, l->hs.headers[i]);
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		if (l->have_cred) {
			curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(easy, CURLOPT_USERNAME,
					 l->cred.username);
			curl_easy_setopt(easy, CURLOPT_PASSWORD,
					 l->cred.password);
		}
		rc = curl_easy_perform(easy);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(easy);
		curl_slist_free_all(headers);

		if (rc != CURLE_OK || http_transient_status(status)) {
			strbuf_reset(why);
			if (rc != CURLE_OK)
				strbuf_addstr(why, curl_easy_strerror(rc));
			else
				describe_answer(status, answer.buf, why);
			if ((rc != CURLE_OK && !http_transient_curl(rc)) ||
			    attempt >= l->retries)
				break;
			attempt++;
			sleep_ms(transfer_backoff_ms(attempt, retry_after,
						     (unsigned long)rand()));
			strbuf_reset(why);
			continue;
		}
		if (status == 200) {
			if (l->tried_fill && !l->approved) {
				credential_approve(&l->cred);
				l->approved = 1;
			}
			ret = take_answer(l, upload, answer.buf, answer.len,
					  why);
			break;
		}
		if (status == 401 && l->ssh_host && ssh_again) {
			/* the header may have expired early: once more */
			ssh_again = 0;
			action_release(&l->ssh_auth[upload]);
			continue;
		}
		if (status == 401 && !l->trusted) {
			strbuf_addf(why, "'%s' wants credentials, and only "
					 ".gitmodel names it (to send yours "
					 "there: git config model.storage '%s')",
				    s->display, s->display);
			break;
		}
		if (status == 401 && !l->tried_fill && !l->have_cred &&
		    !l->ssh_host && !l->hs.auth_header) {
			l->tried_fill = 1;
			if (credential_fill(&l->cred) < 0) {
				strbuf_addstr(why, "no credentials");
				break;
			}
			l->have_cred = 1;
			continue;
		}
		if ((status == 401 || status == 403) && l->tried_fill) {
			credential_reject(&l->cred);
			l->tried_fill = 0;
			l->have_cred = 0;
		}
		describe_answer(status, answer.buf, why);
		if (status == 401 || status == 403)
			strbuf_addf(why, ": '%s' refused the credentials "
					 "(check them, or your credential "
					 "helper)",
				    s->display);
		else if (status == 404)
			strbuf_addf(why, ": is '%s' a Git LFS server?",
				    l->endpoint);
		break;
	}
	explicit_bzero(body.buf, body.len);
	strbuf_release(&body);
	strbuf_release(&answer);
	strbuf_release(&url);
	return ret;
}

/* What a kept answer means for `op`. */
static void answer_for(struct storage_locate *loc, enum storage_op op,
		       const struct lfs_entry *e)
{
	if (!e) {
		loc->where = STORAGE_REFUSED;
		strbuf_addstr(&loc->why, "the server's batch answer left "
					 "the object out");
		return;
	}
	switch (e->answer) {
	case LFS_ACTIONS:
		loc->where = op == STORAGE_OP_CHECK ? STORAGE_HAS :
						      STORAGE_SEND;
		return;
	case LFS_NO_ACTIONS:
		if (op == STORAGE_OP_UPLOAD) {
			loc->where = STORAGE_HAS;
			return;
		}
		loc->where = STORAGE_REFUSED;
		strbuf_addstr(&loc->why, "the server sent no download action");
		return;
	case LFS_ERROR:
		break;
	}
	loc->where = STORAGE_REFUSED;
	if (e->code == 404 && op != STORAGE_OP_UPLOAD)
		loc->where = STORAGE_LACKS;
	if (!e->code) {
		strbuf_addstr(&loc->why, e->message);
		return;
	}
	strbuf_addf(&loc->why, "the server says %ld", e->code);
	if (*http_reason_phrase(e->code))
		strbuf_addf(&loc->why, " %s", http_reason_phrase(e->code));
	strbuf_addf(&loc->why, " (%s)",
		    strpbrk(e->message, "\r\n") || strlen(e->message) > 300 ?
			    "a malformed message" :
			    e->message);
	if (e->code == 410)
		strbuf_addstr(&loc->why, ": the object was removed there");
	else if (e->code == 422)
		strbuf_addstr(&loc->why, ": the server refuses the object");
}

static void lfs_locate(struct storage *s, enum storage_op op,
		       struct storage_locate *objs, size_t n)
{
	struct lfs_storage *l = s->data;
	int upload = op == STORAGE_OP_UPLOAD;
	struct storage_locate **ask = xcalloc(n, sizeof(*ask));
	struct strbuf why = STRBUF_INIT;
	size_t i, nr = 0, done;
	int failed = 0, round;

	for (i = 0; i < n; i++)
		if (objs[i].refused)
			entry_drop(l, objs[i].oid, upload);
	/* An answer whose actions expired already is asked for again. */
	for (round = 0; round < LFS_ROUNDS && !failed; round++) {
		for (i = nr = 0; i < n; i++)
			if (!entry_usable(l, objs[i].oid, upload))
				ask[nr++] = &objs[i];
		for (done = 0; done < nr && !failed; done += LFS_BATCH_MAX) {
			size_t k = nr - done < LFS_BATCH_MAX ? nr - done :
							       LFS_BATCH_MAX;

			failed = batch(s, upload, ask + done, k, &why) < 0;
		}
	}
	for (i = 0; i < n; i++) {
		const struct lfs_entry *e = entry_usable(l, objs[i].oid,
							 upload);

		if (!e && *entry_slot(l, objs[i].oid, upload)) {
			objs[i].where = STORAGE_REFUSED;
			strbuf_addstr(&objs[i].why,
				      "the server's actions for it had "
				      "expired each time (check the clocks)");
			continue;
		}
		if (!e && failed) {
			objs[i].where = STORAGE_REFUSED;
			strbuf_addf(&objs[i].why, "batch request to '%s': %s",
				    s->display, why.buf);
			continue;
		}
		answer_for(&objs[i], op, e);
	}
	strbuf_release(&why);
	free(ask);
}

static void lfs_object_url(struct storage *s, const char *oid,
			   const char *query, struct strbuf *out)
{
	(void)query;
	storage_object_url(s->display, oid, out);
}

static int lfs_prepare(struct storage *s, CURL *easy,
		       struct curl_slist **headers,
		       const struct storage_request *rq)
{
	struct lfs_storage *l = s->data;
	int upload = !strcmp(rq->method, "PUT") || !strcmp(rq->method, "POST");
	struct lfs_entry *e = *entry_slot(l, rq->oid, upload);
	const struct lfs_action *a;
	size_t i;

	if (!e || e->answer != LFS_ACTIONS)
		return error("no Git LFS action for '%s'", rq->oid);
	a = !strcmp(rq->method, "POST") ? &e->verify : &e->act;
	if (!a->href)
		return error("no Git LFS action for '%s'", rq->oid);
	curl_easy_setopt(easy, CURLOPT_URL, a->href);
	for (i = 0; i < a->headers_nr; i++)
		*headers = curl_slist_append(*headers, a->headers[i]);
	if (!strcmp(rq->method, "POST")) {
		*headers = curl_slist_append(*headers,
					     "Accept: " LFS_MEDIA_TYPE);
		*headers = curl_slist_append(*headers,
					     "Content-Type: " LFS_MEDIA_TYPE);
	} else if (!strcmp(rq->method, "PUT")) {
		*headers = curl_slist_append(*headers,
					     "Content-Type: application/"
					     "octet-stream");
	}
	if (!*headers)
		return error("out of memory for HTTP headers");
	return 0;
}

static int lfs_verify(struct storage *s, const char *oid, uint64_t size,
		      struct storage_request *rq)
{
	struct lfs_storage *l = s->data;
	struct lfs_entry *e = *entry_slot(l, oid, 1);

	if (!e || e->answer != LFS_ACTIONS || !e->verify.href)
		return 0;
	rq->method = "POST";
	rq->payload_sha256 = NULL;
	rq->content_type = LFS_MEDIA_TYPE;
	strbuf_reset(&rq->query);
	strbuf_reset(&rq->body);
	strbuf_addf(&rq->body, "{\"oid\":\"%s\",\"size\":%llu}", oid,
		    (unsigned long long)size);
	return 1;
}

static void lfs_describe_error(struct storage *s, long status,
			       const char *body, struct strbuf *out)
{
	(void)s;
	describe_answer(status, body, out);
}

static const struct storage_http_ops lfs_http_ops = {
	.object_url = lfs_object_url,
	.prepare = lfs_prepare,
	.describe_error = lfs_describe_error,
	.locate = lfs_locate,
	.verify = lfs_verify,
};

const struct storage_ops storage_lfs_http_ops = {
	.scheme = "lfs+http",
	.open = lfs_open,
	.close = lfs_close,
};

const struct storage_ops storage_lfs_https_ops = {
	.scheme = "lfs+https",
	.open = lfs_open,
	.close = lfs_close,
};

const struct storage_ops storage_lfs_ssh_ops = {
	.scheme = "lfs+ssh",
	.open = lfs_open,
	.close = lfs_close,
};
