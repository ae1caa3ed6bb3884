#ifndef STORAGE_H
#define STORAGE_H

/*
 * Remote storage for objects: one function table per backend, chosen by the
 * scheme of the base URL (as curl's lib/vtls picks a TLS backend):
 *
 *	file:///abs/dir          storage-file.c
 *	http://, https://        storage-http.c
 *	s3://bucket/prefix       storage-s3.c
 *	lfs+https://, lfs+http://, lfs+ssh://
 *	                         storage-lfs.c (a Git LFS server's batch API)
 *
 * Every backend fills struct storage_ops (open, close). Its open() then
 * says how the engine (transfer.h) drives it: synchronous calls
 * (struct storage_sync_ops) or HTTP requests that the engine sends itself
 * (struct storage_http_ops, with the transport of http.h and, for S3,
 * multipart uploads). No slot of either is a stub: a backend fills the
 * table it speaks. Callers outside the engine ask storage nothing
 * directly ("does storage have it?" is a TRANSFER_CHECK queue) but for
 * the uploads left open in it (storage_list_uploads()).
 *
 * An object lives at <base>/sha256/<oid[0:2]>/<oid[2:4]>/<oid>, and its
 * compressed form, where a backend keeps one, at that name plus ".gmz"
 * (git-model-compression(5)): file:// (storage_sync_ops'
 * open_compressed), http(s):// and s3:// with SigV4
 * (storage_http_ops.compressed). A Git LFS server never holds one: its
 * batch API is keyed by the raw oid and size, and git-lfs clients read
 * its objects, so LFS storage is raw whatever model.compression says;
 * so is S3 with model.s3.signature=v2 (libs3). Backends
 * never trust what they read: what they get goes into a store writer or
 * an incomplete file that is verified against the sha256 before the
 * object enters the local store.
 *
 * Which storage a repository uses (storage_for_repo()): model.storage when
 * set ("lfs": the Git LFS server of the remote, lfs_remote_storage());
 * otherwise, when the git remote is a local path or a file:// URL, the
 * remote's own store, <its git dir>/model/objects, so a local bare remote
 * needs no configuration at all, and when it is an http(s) URL, the
 * remote's Git LFS server, as for "lfs".
 */

#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "repo.h"
#include "store.h"
#include "strbuf.h"
#include "url.h"

struct storage;

/*
 * One HTTP request, as the engine is about to send it. The engine sets
 * method and payload_sha256 for the requests it knows (HEAD, GET, PUT); a
 * backend's multipart steps fill all of it.
 */
struct storage_request {
	const char *oid;            /* the object's, set by the engine */
	const char *method;         /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *payload_sha256; /* hex; NULL for an empty body */
	struct strbuf query;        /* canonical, without '?'; may be empty */
	struct strbuf body;         /* what a POST sends */
	const char *content_type;   /* of the body, or NULL */
	char body_sha256[65];       /* room for the body's hash, hex */
	const char *url;            /* where it goes, set before prepare(),
				       or NULL when not known */
};

#define STORAGE_REQUEST_INIT \
	{ NULL, NULL, NULL, STRBUF_INIT, STRBUF_INIT, NULL, "", NULL }

void storage_request_release(struct storage_request *rq);

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* What every backend does: find its storage from a URL, and let it go. */
struct storage_ops {
	const char *scheme;
	/*
	 * Set up for s->url, and set exactly one of s->sync and s->http:
	 * how the engine is to drive this storage (a backend may choose by
	 * its settings, as S3 does by model.s3.signature). 0 or -1
	 * (reported).
	 */
	int (*open)(struct storage *s);
	/* Release s->data; called after a failed open() too. */
	void (*close)(struct storage *s);
};

/*
 * Backends the engine calls one object at a time (a directory; S3 through
 * libs3). Each call is synchronous and reports its own errors.
 */
struct storage_sync_ops {
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
	 * (store_link()), `tap` (may be NULL) seeing its bytes as they
	 * are verified. 1 done, 0 not possible here (get() it instead), -1
	 * error (reported).
	 */
	int (*clone_get)(struct storage *s, const char *oid, uint64_t size,
			 const struct store *store, struct store_tap *tap);
	/*
	 * Optional, together: the object's compressed form
	 * (git-model-compression(5)), kept beside it as <object>.gmz.
	 * open_compressed() returns an fd reading it from its start, or -1:
	 * errno ENOENT when storage has none, else reported.
	 * put_compressed() uploads `size` bytes from `fd` as the compressed
	 * form: 0, or -1 (reported).
	 */
	int (*open_compressed)(struct storage *s, const char *oid);
	int (*put_compressed)(struct storage *s, const char *oid, uint64_t size,
			      int fd);
	/*
	 * Optional, for a backend that writes a file: put the compressed
	 * form as fill(ctx, fd) writes it into a new, empty, seekable fd
	 * (0, or -1 reported, and then nothing is stored), so that blocks
	 * are written as they are compressed, with no spool. 0, or -1
	 * (reported).
	 */
	int (*put_compressed_by)(struct storage *s, const char *oid,
				 int (*fill)(void *ctx, int fd), void *ctx);
	/*
	 * Set when get, put, exists and clone_get may run in several threads
	 * at once on one storage (each on its own object).
	 */
	int threads_ok;
};

/*
 * One multipart upload's steps (S3's CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload). The engine schedules
 * them (the parts in parallel, each retried on its own); the backend
 * says what each request is and what its answer means.
 */
enum storage_mp_step {
	STORAGE_MP_INIT,
	STORAGE_MP_PART,
	STORAGE_MP_COMPLETE,
	STORAGE_MP_ABORT,
};

enum storage_mp_answer {
	STORAGE_MP_OK,
	STORAGE_MP_RETRY, /* a passing fault: send the same step again */
	STORAGE_MP_FAIL,  /* `why` says why */
};

struct storage_multipart_ops {
	/* The part size for an object of `size` bytes, or 0: one PUT. */
	uint64_t (*part_size)(struct storage *s, uint64_t size);
	/* The state of one upload of `nparts` parts (freed by end()). */
	void *(*begin)(struct storage *s, size_t nparts);
	/*
	 * Describe the request of `step` into `rq` (a part: `part`, from 1;
	 * the engine has set rq->payload_sha256 to the part's hash and
	 * sends the part's bytes itself).
	 */
	int (*request)(struct storage *s, void *mp, enum storage_mp_step step,
		       int part, struct storage_request *rq);
	/*
	 * What the answer to `step` means: `status`, the start of the body
	 * (NUL-terminated, capped) and the ETag header (NULL if none). For
	 * STORAGE_MP_ABORT, OK means storage keeps none of the upload's
	 * parts; FAIL, that they may stay (the engine says so).
	 */
	enum storage_mp_answer (*answer)(struct storage *s, void *mp,
					 enum storage_mp_step step, int part,
					 long status, const char *body,
					 const char *etag, struct strbuf *why);
	void (*end)(void *mp);
};

/*
 * Storage that says, per object and per operation, where its requests go
 * (the Git LFS batch API hands out an URL and headers for each object):
 * storage_http_ops.locate. The engine asks before an object's first
 * request and again before each later one.
 */
enum storage_op {
	STORAGE_OP_DOWNLOAD,
	STORAGE_OP_UPLOAD,
	STORAGE_OP_CHECK,
};

enum storage_where {
	STORAGE_SEND,    /* send the request; prepare() knows where */
	STORAGE_HAS,     /* storage has it: no upload; a check: there */
	STORAGE_LACKS,   /* storage has not got it: a download is absent */
	STORAGE_REFUSED, /* `why` says why */
};

struct storage_locate {
	const char *oid;
	uint64_t size;
	int refused;              /* in: a request sent where the last
				     answer said was refused: ask anew */
	enum storage_where where; /* out */
	struct strbuf why;        /* out; the caller releases it */
};

/*
 * Backends that speak HTTP: the engine (transfer.c) sends their requests
 * on libcurl's multi interface, each handle set up by the transport
 * (http.h, s->transport), then by prepare().
 */
struct storage_http_ops {
	/* The object's URL, with `query` (canonical form) when not NULL. */
	void (*object_url)(struct storage *s, const char *oid,
			   const char *query, struct strbuf *out);
	/* Auth and the backend's own headers for one request. 0 or -1. */
	int (*prepare)(struct storage *s, CURL *easy,
		       struct curl_slist **headers,
		       const struct storage_request *rq);
	/* Optional: turn an error response into a message (e.g. S3 XML). */
	void (*describe_error)(struct storage *s, long status,
			       const char *body, struct strbuf *out);
	/*
	 * Optional: 1 when an error answer (`status` 400-499 and the start
	 * of its body, NUL-terminated) says the same request may succeed if
	 * sent again, such as S3's BadDigest: the engine retries it as it
	 * does a 503; 0 otherwise.
	 */
	int (*transient)(struct storage *s, long status, const char *body);
	/*
	 * Optional: an error answer (`status`, the start of its body,
	 * NUL-terminated, "" for none, and the value of the response header
	 * named by where_header, or NULL) that says the request went to the
	 * wrong place, such as S3's "the bucket is in another region": 1
	 * when the backend has moved there, and the engine sends the request
	 * again, once; 0 when the answer says no such thing.
	 */
	int (*misdirected)(struct storage *s, long status, const char *body,
			   const char *where);
	/*
	 * Optional: the response header in which the storage says where it
	 * is (S3's x-amz-bucket-region), for misdirected(): an answer to
	 * HEAD has no body to say it.
	 */
	const char *where_header;
	/*
	 * Optional: the response header (its name) in which the storage
	 * states an object's checksum on HEAD, and whether that value is
	 * `oid`'s (1) or not (0). An object whose stated checksum is not its
	 * oid's is not "already there" whatever its size; without the
	 * header the size decides.
	 */
	const char *checksum_header;
	int (*checksum_matches)(struct storage *s, const char *oid,
				const char *value);
	/* Optional: a 401: get credentials. 0 to retry, -1 to give up. */
	int (*unauthorized)(struct storage *s);
	/* Optional: a request with the current credentials succeeded. */
	void (*authorized)(struct storage *s);
	/* Optional: multipart uploads. */
	const struct storage_multipart_ops *multipart;
	/*
	 * Set when the storage may keep an object's compressed form
	 * (git-model-compression(5)) at its URL plus ".gmz", before any
	 * query, read and written with the same requests as the object.
	 * The engine then asks for either form, and uploads compressed
	 * when model.compression says so.
	 */
	int compressed;
	/*
	 * Optional: where the `n` objects of `op` are (enum
	 * storage_where). The engine calls it once with every object of a
	 * queue, then with one object before each request of it: an answer
	 * still fresh costs no request. Each object gets an answer; the
	 * backend reports nothing itself. It may block (the requests that
	 * ask, with their retries): the engine sends nothing meanwhile.
	 */
	void (*locate)(struct storage *s, enum storage_op op,
		       struct storage_locate *objs, size_t n);
	/*
	 * Optional: after an upload succeeded, describe in `rq` (method,
	 * body, content_type) the request that confirms it and return 1,
	 * or return 0 when there is none for this object. A 2xx answer to
	 * it means the upload is done.
	 */
	int (*verify)(struct storage *s, const char *oid, uint64_t size,
		      struct storage_request *rq);
	/* Optional: uploads left open (storage_list_uploads()). */
	const struct storage_uploads_ops *uploads;
	/*
	 * Optional: list what storage holds under the objects' names, every
	 * page, calling fn(ctx, oid, gmz, size) for each: the object's
	 * oid, whether that is its compressed form (<object>.gmz, with
	 * `compressed` above), and the bytes stored; names that are not an
	 * object's are skipped. A listing states no checksum. It asks for
	 * at most `max_pages` pages (a caller that would ask one request
	 * per object passes their number: a longer listing costs more
	 * requests, and storage cannot page it forever). Returns
	 * STORAGE_LISTED, STORAGE_LIST_UNANSWERED when the storage answered
	 * with an error (no permission to list, not implemented: nothing is
	 * reported, and the caller asks each object as before),
	 * STORAGE_LIST_TOO_LONG when there were more pages (nothing is
	 * reported), or -1 when no answer came or it made no sense
	 * (reported). Unless it returns STORAGE_LISTED, what fn was told is
	 * not the whole listing.
	 */
	int (*list_objects)(struct storage *s, size_t max_pages,
			    void (*fn)(void *ctx, const char *oid, int gmz,
				       uint64_t size),
			    void *ctx);
};

/* What list_objects() of struct storage_http_ops returns, but -1. */
enum storage_list_result {
	STORAGE_LISTED = 0,
	STORAGE_LIST_UNANSWERED = 1,
	STORAGE_LIST_TOO_LONG = 2,
};

/*
 * An upload begun in storage and neither completed nor aborted (S3's
 * multipart uploads): where it goes, its id, when it began.
 */
struct storage_upload {
	char *key;
	char *id;
	time_t initiated;
};

/*
 * Optional slots of struct storage_http_ops, for storage_list_uploads()
 * and storage_abort_upload().
 */
struct storage_uploads_ops {
	int (*list)(struct storage *s, struct storage_upload **out,
		    size_t *nr);
	int (*abort)(struct storage *s, const struct storage_upload *u);
};

struct http_transport;

struct storage {
	const struct storage_ops *ops; /* the scheme's backend */
	const struct storage_sync_ops *sync; /* set by open(), or NULL */
	const struct storage_http_ops *http; /* set by open(), or NULL */
	/* With `http`: the transport, owned by the storage. */
	struct http_transport *transport;
	char *url;     /* base URL, no trailing slash */
	char *display; /* the same without credentials, for messages */
	void *data;    /* the backend's */
	const struct repo *repo; /* settings; may be NULL */
	/*
	 * No credentials of any kind: no credential helper, no configured
	 * headers (pointer-url.h: urls from pointers are strangers' hosts).
	 */
	int anonymous;
	/*
	 * The authentication schemes the server offered in its first 401
	 * (libcurl's CURLAUTH_* bits), 0 before one: with Basic among them
	 * a backend sends its credentials up front on every later request,
	 * rather than each request first going without and getting a 401.
	 */
	long auth_offered;
};

#define STORAGE_INIT { .ops = NULL, .sync = NULL, .http = NULL }

/*
 * Open storage at `url`. Unknown schemes and malformed URLs are errors
 * that say what is wrong. Returns 0 or -1 (reported).
 */
int storage_open(struct storage *s, const char *url, const struct repo *r);
void storage_close(struct storage *s);

/* The same, for anonymous requests only (HTTP backends). */
int storage_open_anonymous(struct storage *s, const char *url,
			   const struct repo *r);

/*
 * The uploads begun and never completed nor aborted under the objects of
 * `s` (S3: ListMultipartUploads with the prefix <prefix>/sha256/, every
 * page), in the order the storage lists them, into a new array `*out` of
 * `*nr` (release it with storage_uploads_release()). 0, 1 when this
 * storage keeps no such uploads (nothing listed), -1 (reported).
 */
int storage_list_uploads(struct storage *s, struct storage_upload **out,
			 size_t *nr);

/*
 * Abort one upload that storage_list_uploads() listed: 0 aborted, 1 it was
 * gone already (completed or aborted since), -1 (reported).
 */
int storage_abort_upload(struct storage *s, const struct storage_upload *u);

void storage_uploads_release(struct storage_upload *v, size_t nr);

/* True when `url` has a scheme some backend serves (no I/O). */
int storage_url_valid(const char *url, struct strbuf *why);

/* <base>/sha256/aa/bb/<oid>; `oid` must be valid (BUG otherwise). */
void storage_object_url(const char *base, const char *oid,
			struct strbuf *out);

/*
 * The storage of the repository, for `remote` (a remote name or URL, NULL
 * for the default remote, repo_default_remote()). Returns 0,
 * 1 when none is configured and the remote is not local (`why` says so),
 * or -1 (reported).
 */
int storage_for_repo(struct storage *s, const struct repo *r,
		     const char *remote, struct strbuf *why);

/*
 * The configured model.storage only (model.storage = lfs resolved to the
 * remote's LFS server). 0, 1 when not set, -1 (reported).
 */
int storage_configured_url(const struct repo *r, struct strbuf *out);

/*
 * The storage whose URL pointers record (clean, git model pointer, the
 * merge driver, migrate): the configured one, else, for an http(s)
 * default remote, the Git LFS server storage_for_repo() uses for it, so
 * that torch.hub can resolve the pointer. A local remote's store has no
 * URL worth recording. 0, 1 when none, -1 (reported). `out` may hold
 * userinfo: strip it (url_without_userinfo()) before it reaches a pointer.
 */
int storage_pointer_url(const struct repo *r, struct strbuf *out);

/*
 * Where the object is, for messages and for users (`git model url`): an
 * HTTP backend's request URL, else <display>/sha256/aa/bb/<oid>.
 */
void storage_object_location(struct storage *s, const char *oid,
			     struct strbuf *out);

/*
 * For an HTTP backend's open(): set up s->transport from the repository's
 * settings, with the TLS settings for `url`, where requests go (the
 * storage URL, an S3 endpoint). 0 or -1 (reported).
 */
int storage_open_transport(struct storage *s, const char *url);

extern const struct storage_ops storage_file_ops;
extern const struct storage_ops storage_http_ops;
extern const struct storage_ops storage_https_ops;
extern const struct storage_ops storage_s3_ops;
extern const struct storage_ops storage_lfs_http_ops;
extern const struct storage_ops storage_lfs_https_ops;
extern const struct storage_ops storage_lfs_ssh_ops;

/*
 * The Git LFS storage of a git remote URL, as git-lfs finds it, in `out`:
 * an http(s) URL gives lfs+<url>[.git]/info/lfs, an ssh one (ssh://,
 * [user@]host:path) lfs+ssh://[user@]host[:port]/path. 0, or 1 when the
 * URL is neither (not reported).
 */
int lfs_remote_storage(const char *remote_url, struct strbuf *out);

#endif
