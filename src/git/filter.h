#ifndef FILTER_H
#define FILTER_H

/*
 * The clean and smudge filters, and git's long-running filter protocol.
 *
 * Everything here works on file descriptors and on the small source/sink
 * interfaces below, never on git itself, so the protocol can be driven by
 * a test over a pipe. Content is streamed in blocks: memory use does not
 * depend on the size of the file.
 *
 * clean:  content -> pointer. The content goes through sha256 into a temp
 *         file in the store, which is renamed into place (store.h). Empty
 *         content stays empty; content that already is a valid pointer is
 *         passed through unchanged. When the path names a work tree file
 *         with a record (clean-cache.h) whose object the store has, the
 *         content is compared with the file instead, and when it is the
 *         file's the record's oid is the answer: nothing is hashed or
 *         stored. The content is also compared with the file as it is
 *         hashed, for the record.
 * smudge: pointer -> content. A pointer whose object is in the store gives
 *         the object's bytes; one whose object is missing gives the pointer
 *         text back, with a warning naming the file and the fix; content
 *         that is not a pointer passes through unchanged. An object
 *         bigger than `inline_max` can be left to a later step (defer).
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pointer.h"
#include "store.h"
#include "strbuf.h"

/* A source of content. read() returns bytes read, 0 at the end, -1 on error. */
struct filter_src {
	ssize_t (*read)(struct filter_src *src, void *buf, size_t len);
};

/* A sink for content. write() returns 0 or -1 (reported). */
struct filter_sink {
	int (*write)(struct filter_sink *sink, const void *buf, size_t len);
};

struct fd_src {
	struct filter_src base;
	int fd;
};

struct fd_sink {
	struct filter_sink base;
	int fd;
};

void fd_src_init(struct fd_src *src, int fd);
void fd_sink_init(struct fd_sink *sink, int fd);

struct delayed_blob;

struct filter {
	struct store *store;
	/*
	 * Base URL of the configured storage, or NULL. When set, clean
	 * writes the object's full URL into the pointer.
	 */
	const char *storage_url;
	/* Smudge passes pointers through (git model install --skip-smudge). */
	int skip_smudge;
	/*
	 * Bring a missing object into the store (download it), or NULL.
	 * Returns 0 when the object is now local, -1 (reported) otherwise.
	 */
	int (*fetch)(struct filter *f, const struct pointer *p,
		     const char *path);
	/*
	 * Bring many missing objects at once (in parallel), or NULL. With
	 * it, filter_process() offers git the "delay" capability: a smudge
	 * whose object is missing answers "delayed", and the downloads run
	 * together when git asks which blobs are available. Failures are
	 * reported by the callee; the files then get their pointer text.
	 */
	void (*fetch_many)(struct filter *f, struct delayed_blob **blobs,
			   size_t nr);
	void *fetch_data;
	/*
	 * Deferred checkout (checkout.h), or NULL: a pointer whose object is
	 * bigger than `inline_max` bytes is answered with the pointer text,
	 * and defer() records the path for the hook that writes the weights
	 * into the work tree afterwards. 0, or -1 (reported).
	 *
	 * Only while `may_defer` is set: filter_process() sets it for
	 * requests that git sent with "can-delay=1", which it does only in a
	 * checkout that writes the result into the work tree. git archive,
	 * git cat-file --filters and 'git model smudge' must get the
	 * weights themselves.
	 */
	int (*defer)(struct filter *f, const char *path,
		     const struct pointer *p);
	uint64_t inline_max;
	int may_defer;
	/* Set by filter_process(): leave a missing object for fetch_many(). */
	int defer_missing;
};

/* A smudge answered "delayed": its pointer waits for fetch_many(). */
struct delayed_blob {
	char *pathname;
	struct pointer ptr;
	int fetched;  /* fetch_many() has run for it */
	int reported; /* named to git by list_available_blobs */
};

#define FILTER_INIT { .store = NULL, .storage_url = NULL, .skip_smudge = 0, \
		      .fetch = NULL, .fetch_many = NULL, .fetch_data = NULL, \
		      .defer = NULL, .inline_max = 0, .may_defer = 0, \
		      .defer_missing = 0 }

/*
 * Clean everything `in` gives into `out` (appended). `path` names the file
 * in messages. Returns 0 or -1 (reported); on failure nothing is stored.
 */
int filter_clean(struct filter *f, struct filter_src *in, const char *path,
		 struct strbuf *out);

/*
 * A smudge happens in two steps so that the process protocol can answer
 * with a status before any content (and, later, answer "delayed"): first
 * the input is read and the source of the output decided, then the output
 * is written.
 */
struct smudge {
	int fd;              /* object or spool file to copy out, or -1 */
	struct strbuf text;  /* the output itself, when fd is -1 */
	struct pointer ptr;
	int is_pointer;
	int missing;         /* a pointer whose object is not local */
};

#define SMUDGE_INIT { .fd = -1, .text = STRBUF_INIT, .ptr = POINTER_INIT }

int filter_smudge_prepare(struct filter *f, struct filter_src *in,
			  const char *path, struct smudge *sm);
int filter_smudge_write(struct smudge *sm, struct filter_sink *out,
			const char *path);
void smudge_release(struct smudge *sm);

/*
 * Serve git's long-running filter protocol (version 2) on `in`/`out` until
 * git closes the pipe. One file's failure is answered with status=error and
 * the process keeps serving. Returns 0 at a clean end of the conversation,
 * -1 (reported) when the peer breaks the protocol.
 */
int filter_process(struct filter *f, int in, int out);

#endif
