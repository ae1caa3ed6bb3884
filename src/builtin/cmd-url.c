/*
 * url: where the weights of a file are, as a URL anything can download
 * (torch.hub, curl, a browser).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "scan.h"
#include "storage.h"
#include "transfer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* The pointer of PATH at REV ("REV:PATH"), from the prefix's view. */
static int pointer_at(struct repo *r, const char *rev, const char *path,
		      struct pointer *p)
{
	struct strbuf spec = STRBUF_INIT;
	git_object *obj = NULL;
	int ret;

	strbuf_addf(&spec, "%s:%s%s", rev, r->prefix, path);
	if (git_revparse_single(&obj, r->git, spec.buf) < 0 ||
	    git_object_type(obj) != GIT_OBJECT_BLOB) {
		ret = error("'%s' is not a file at '%s'", path, rev);
		goto cleanup;
	}
	ret = blob_pointer(r, git_object_id(obj), p);
	if (!ret)
		ret = error("'%s' at '%s' is not a git-model pointer", path,
			    rev);
cleanup:
	git_object_free(obj);
	strbuf_release(&spec);
	return ret < 0 ? -1 : 0;
}

/*
 * The https form of an object in S3 (public buckets): the backend's own
 * request URL, for the bucket's endpoint and addressing style.
 */
static int https_form(struct repo *r, const char *base, const char *oid,
		      struct strbuf *out)
{
	struct storage s = STORAGE_INIT;

	if (strncmp(base, "s3://", 5)) {
		storage_object_url(base, oid, out);
		return 0;
	}
	if (storage_open(&s, base, r) < 0)
		return -1;
	storage_object_location(&s, oid, out);
	storage_close(&s);
	return 0;
}

/*
 * --check: ask storage at `base` (the configured storage when
 * `configured`, else a pointer's url, anonymously) which form it holds:
 * 0 raw, 1 compressed only, -1 neither or no answer (reported).
 */
static int stored_form(struct repo *r, const char *base, int configured,
		       const struct pointer *p, const char *path)
{
	struct storage s = STORAGE_INIT;
	struct store store = STORE_INIT;
	struct transfer t = { 0 };
	uint64_t stored;
	int ret = -1;

	if ((configured ? storage_open(&s, base, r) :
			  storage_open_anonymous(&s, base, r)) < 0)
		goto cleanup;
	repo_store(r, &store);
	if (transfer_init(&t, TRANSFER_CHECK, &s, &store, r, 0, 1) < 0)
		goto cleanup;
	/* the raw form asked first: anything can download it */
	t.compression = TRANSFER_COMPRESS_NONE;
	t.foreign = !configured;
	transfer_add(&t, p->oid, p->size, path);
	transfer_run(&t);
	switch (transfer_has(&t, 0)) {
	case 1:
		ret = transfer_found(&t, 0, &stored) == TRANSFER_FORM_COMPRESSED;
		break;
	case 0:
		error("'%s' is in neither form in storage '%s'", path,
		      s.display);
		break;
	}
cleanup:
	transfer_release(&t);
	storage_close(&s);
	store_release(&store);
	return ret;
}

int cmd_url(int argc, const char **argv, struct repo *repo)
{
	struct pointer p = POINTER_INIT;
	struct strbuf base = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf configured = STRBUF_INIT;
	const char *rev = "HEAD", *path;
	int https = 0, check = 0, compressed = 0, ret = 1;
	static const char *const usage[] = {
		"git model url [--rev <rev>] [--https] [--check] <path>", NULL
	};
	const struct option options[] = {
		OPT_STRING(0, "rev", &rev, "<rev>",
			   "the file as in <rev> (default: HEAD)"),
		OPT_BOOL_F(0, "https", &https,
			   "an https:// URL for s3:// and gs:// storage",
			   PARSE_OPT_NONEG),
		OPT_BOOL(0, "check", &check,
			 "ask storage which form it holds; <url>.gmz names "
			 "the compressed one"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, options, usage, 0);
	if (!argc)
		usage_msg_opt("no path given", usage, options);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	path = argv[0];
	if (pointer_at(repo, rev, path, &p) < 0)
		goto cleanup;

	/* The base: the one the pointer's url names, else the configured. */
	if (p.url) {
		size_t len = strlen(p.url), tail = strlen("/sha256/aa/bb/") +
						   OID_HEXSZ;

		if (len <= tail || strcmp(p.url + len - OID_HEXSZ, p.oid)) {
			error("the url of '%s' does not end in its oid", path);
			goto cleanup;
		}
		strbuf_add(&base, p.url, len - tail);
	} else if (storage_configured_url(repo, &configured)) {
		error("'%s' has no url and no model.storage is set (with the "
		      "default storage of a local remote, there is no URL)",
		      path);
		goto cleanup;
	} else {
		char *bare = url_without_userinfo(configured.buf);

		strbuf_addstr(&base, bare);
		free(bare);
	}
	if (check) {
		/* credentials only for the storage your config names */
		int mine = !p.url;

		if (p.url && !storage_configured_url(repo, &configured)) {
			char *bare = url_without_userinfo(configured.buf);

			mine = !strcmp(bare, base.buf);
			free(bare);
		}
		compressed = stored_form(repo, mine ? configured.buf : base.buf,
					 mine, &p, path);
		if (compressed < 0)
			goto cleanup;
	}
	if (https) {
		if (https_form(repo, base.buf, p.oid, &out) < 0)
			goto cleanup;
	} else {
		storage_object_url(base.buf, p.oid, &out);
	}
	if (compressed)
		strbuf_addstr(&out, ".gmz");
	printf("%s\n", out.buf);
	ret = 0;
cleanup:
	pointer_release(&p);
	strbuf_release(&base);
	strbuf_release(&configured);
	strbuf_release(&out);
	return ret;
}
