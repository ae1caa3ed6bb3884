#ifndef MODEL_FILE_H
#define MODEL_FILE_H

/*
 * A model file to read tensors from, wherever it is: a file in the work
 * tree, a blob at a revision, or a file git hands a textconv driver. When
 * the content is a pointer, the file read is the pointer's object in the
 * local store; otherwise it is the content itself (a blob's content is
 * spooled to an unlinked temp file in the store first).
 *
 * Tensor hashes (sha256 of each tensor's bytes) of a store object are
 * kept in <model dir>/tensor-hashes/<oid[0:2]>/<oid>, one line per tensor
 * "<offset> <length> <sha256>", written atomically: an object never
 * changes, so each of its tensors is hashed once; later diffs and shows
 * read only its header. A damaged cache file is ignored and rewritten.
 *
 * A struct model_file owns its fd, pointer, info and hashes;
 * model_file_release() frees them and leaves a valid empty struct.
 * Not thread-safe; one model_file per thread.
 */

#include <git2.h>

#include "model-format.h"
#include "pointer.h"
#include "repo.h"
#include "store.h"

struct model_file {
	struct model_source src;
	int fd;		     /* the bytes read, owned; -1 when none */
	char oid[OID_HEXSZ + 1]; /* the store object read, "" otherwise */
	int is_pointer;	     /* the content was a pointer, in `ptr` */
	struct pointer ptr;
	struct model_info info;
	char (*hashes)[OID_HEXSZ + 1]; /* per tensor, after model_file_hash() */
};

#define MODEL_FILE_INIT { .fd = -1, .oid = "", .ptr = POINTER_INIT, \
			  .info = MODEL_INFO_INIT, .hashes = NULL }

void model_file_release(struct model_file *mf);

/* What the open functions return besides -1 (reported). */
#define MODEL_FILE_OPEN 0
#define MODEL_FILE_NOT_LOCAL 1 /* a pointer whose object is not in the store */

/*
 * Open the content readable from `fd` (taken over in every case): a
 * pointer gives its store object; other content is read where it is when
 * `fd` is a regular file, else spooled. `what` names it in messages.
 */
int model_file_open_fd(struct model_file *mf, const struct store *s, int fd,
		       const char *what);

/* The object of the pointer `p`. */
int model_file_open_pointer(struct model_file *mf, const struct store *s,
			    const struct pointer *p);

/* The content of the blob `id` (a pointer or not). */
int model_file_open_blob(struct model_file *mf, const struct repo *r,
			 const struct store *s, const git_oid *id,
			 const char *what);

/*
 * `spec` as a user writes it: "<rev>:<path>" (path from the top, as git
 * reads it) or a path of the work tree relative to the current directory.
 * A work tree file wins over a revision when both could be meant.
 */
int model_file_open_spec(struct model_file *mf, const struct repo *r,
			 const struct store *s, const char *spec);

/*
 * Read the tensors (model_read()). Returns 0, or -1 with the reason
 * appended to `err`.
 */
int model_file_read(struct model_file *mf, struct strbuf *err);

/*
 * Fill mf->hashes for every tensor of mf->info, from the cache when the
 * file is a store object, hashing (and caching) the rest. 0 or -1.
 */
int model_file_hash(struct model_file *mf, const struct store *s);

/*
 * The same from the cache alone: 0 when every hash was there, 1 (and
 * mf->hashes NULL) when not; nothing is hashed.
 */
int model_file_hash_cached(struct model_file *mf, const struct store *s);

/*
 * Cache `hashes` (one per tensor of `info`, in its order) as the tensor
 * hashes of the store object `oid`. Quiet: a cache that cannot be written
 * is no error. Not synced: after a crash the cache may be empty or cut
 * short, and only whole records are read from it.
 */
void model_file_cache_hashes(const struct store *s, const char *oid,
			     const struct model_info *info,
			     char (*hashes)[OID_HEXSZ + 1]);

/*
 * Drop the tensor hashes cached for the store object `oid` (prune calls
 * it for each object it deletes). 0 (also when none were cached) or -1.
 */
int model_file_forget(const struct store *s, const char *oid);

#endif
