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

int cmd_url(int argc, const char **argv, struct repo *repo)
{
	struct pointer p = POINTER_INIT;
	struct strbuf base = STRBUF_INIT, out = STRBUF_INIT;
	const char *rev = "HEAD", *path;
	int https = 0, ret = 1;
	static const char *const usage[] = {
		"git model url [--rev <rev>] [--https] <path>", NULL
	};
	const struct option options[] = {
		OPT_STRING(0, "rev", &rev, "<rev>",
			   "the file as in <rev> (default: HEAD)"),
		OPT_BOOL_F(0, "https", &https,
			   "an https:// URL for s3:// and gs:// storage",
			   PARSE_OPT_NONEG),
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
	} else if (storage_configured_url(repo, &base)) {
		error("'%s' has no url and no model.storage is set (with the "
		      "default storage of a local remote, there is no URL)",
		      path);
		goto cleanup;
	} else {
		char *bare = url_without_userinfo(base.buf);

		strbuf_reset(&base);
		strbuf_addstr(&base, bare);
		free(bare);
	}
	if (https) {
		if (https_form(repo, base.buf, p.oid, &out) < 0)
			goto cleanup;
	} else {
		storage_object_url(base.buf, p.oid, &out);
	}
	printf("%s\n", out.buf);
	ret = 0;
cleanup:
	pointer_release(&p);
	strbuf_release(&base);
	strbuf_release(&out);
	return ret;
}
