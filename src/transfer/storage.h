#ifndef STORAGE_H
#define STORAGE_H

/*
 * Remote storage for objects: one function table per backend, chosen by the
 * scheme of the base URL (as curl's lib/vtls picks a TLS backend):
 *
 *	file:///abs/dir          storage-file.c
 *	http://, https://        storage-http.c
 *	s3://bucket/prefix       storage-s3.c
 *
 * An object lives at <base>/sha256/<oid[0:2]>/<oid[2:4]>/<oid>. Backends
 * never trust what they read: storage_fetch() streams into a store writer
 * that verifies the sha256 before the object enters the local store.
 *
 * Which storage a repository uses (storage_for_repo()): model.storage when
 * set; otherwise, when the git remote is a local path or a file:// URL, the
 * remote's own store, <its git dir>/model/objects, so a local bare remote
 * needs no configuration at all.
 */

#include <stdint.h>

#include <curl/curl.h>

#include "repo.h"
#include "store.h"
#include "strbuf.h"

struct storage;

/* What one HTTP request is, for backends that sign requests. */
struct storage_request {
	const char *method;         /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *payload_sha256; /* hex; NULL for an empty body */
};

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct storage_ops {
	const char *scheme;
	/* Set up for s->url; 0 or -1 (reported). */
	int (*open)(struct storage *s);
	/* 1 when the object exists with `size` bytes, 0 when not, -1 error. */
	int (*exists)(struct storage *s, const char *oid, uint64_t size);
	/* Stream the object into `w` (already started). 0, or -1 (reported). */
	int (*get)(struct storage *s, const char *oid, uint64_t size,
		   struct store_writer *w);
	/* Upload `size` bytes from `fd` as the object. 0, or -1 (reported). */
	int (*put)(struct storage *s, const char *oid, uint64_t size, int fd);
	/*
	 * Optional: put the object into `store` without copying its bytes,
	 * as a copy-on-write clone (store_clone()) or a hard link
	 * (store_link()). 1 done, 0 not possible here (get() it instead),
	 * -1 error (reported).
	 */
	int (*clone_get)(struct storage *s, const char *oid, uint64_t size,
			 const struct store *store);
	void (*close)(struct storage *s);
	/*
	 * Set when get, put, exists and clone_get may run in several threads
	 * at once on one storage (each on its own object).
	 */
	int threads_ok;

	/*
	 * Backends that speak HTTP set these, and transfer.c drives them on
	 * libcurl's multi interface instead of calling get and put.
	 */
	/* The object's URL, with `query` (canonical form) when not NULL. */
	void (*object_url)(struct storage *s, const char *oid,
			   const char *query, struct strbuf *out);
	/* Auth, headers and TLS settings for one request. 0 or -1. */
	int (*prepare)(struct storage *s, CURL *easy,
		       struct curl_slist **headers,
		       const struct storage_request *rq);
	/* Optional: turn an error response into a message (e.g. S3 XML). */
	void (*describe_error)(struct storage *s, long status,
			       const char *body, struct strbuf *out);
	/*
	 * Optional: the part size for a multipart upload of `size` bytes,
	 * or 0 to upload in one request.
	 */
	uint64_t (*part_size)(struct storage *s, uint64_t size);
	/* A 401: get credentials. 0 to retry, -1 to give up (reported). */
	int (*unauthorized)(struct storage *s);
	/* A request with the current credentials succeeded. */
	void (*authorized)(struct storage *s);
};

struct storage {
	const struct storage_ops *ops;
	char *url;     /* base URL, no trailing slash */
	char *display; /* the same without credentials, for messages */
	void *data;    /* the backend's */
	const struct repo *repo; /* settings; may be NULL */
	/*
	 * No credentials of any kind: no credential helper, no configured
	 * headers (pointer-url.h: urls from pointers are strangers' hosts).
	 */
	int anonymous;
};

#define STORAGE_INIT { .ops = NULL, .url = NULL, .display = NULL }

/*
 * Open storage at `url`. Unknown schemes and malformed URLs are errors
 * that say what is wrong. Returns 0 or -1 (reported).
 */
int storage_open(struct storage *s, const char *url, const struct repo *r);
void storage_close(struct storage *s);

/* The same, for anonymous requests only (HTTP backends). */
int storage_open_anonymous(struct storage *s, const char *url,
			   const struct repo *r);

/* True when `url` has a scheme some backend serves (no I/O). */
int storage_url_valid(const char *url, struct strbuf *why);

/* <base>/sha256/aa/bb/<oid>; `oid` must be valid (BUG otherwise). */
void storage_object_url(const char *base, const char *oid,
			struct strbuf *out);

/*
 * The storage of the repository, for `remote` (a remote name or URL, NULL
 * for the default remote: the current branch's, else "origin"). Returns 0,
 * 1 when none is configured and the remote is not local (`why` says so),
 * or -1 (reported).
 */
int storage_for_repo(struct storage *s, const struct repo *r,
		     const char *remote, struct strbuf *why);

/* The configured model.storage only (what clean writes into pointers). */
int storage_configured_url(const struct repo *r, struct strbuf *out);

/*
 * Decode %XX escapes of a URL path into `out`. Returns -1 for a bad escape
 * or an encoded NUL or '/'.
 */
int url_decode_path(const char *in, struct strbuf *out);

/* Encode a local path for a file:// URL. */
void url_encode_path(const char *in, struct strbuf *out);

/*
 * For HTTP-speaking backends' exists(): one HEAD request. 1 when the object
 * is there with `size` bytes, 0 when not, -1 on error (reported).
 */
int storage_head(struct storage *s, const char *oid, uint64_t size);

/* The URL with any user:password@ removed, for messages (caller frees). */
char *url_without_userinfo(const char *url);

extern const struct storage_ops storage_file_ops;
extern const struct storage_ops storage_http_ops;
extern const struct storage_ops storage_https_ops;
extern const struct storage_ops storage_s3_ops;

#endif
