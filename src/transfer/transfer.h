#ifndef TRANSFER_H
#define TRANSFER_H

/*
 * The transfer engine: every upload and download of every backend goes
 * through one queue.
 *
 * Backends that speak HTTP (storage.h: s->http) are driven on libcurl's
 * multi interface (transfer-http.c): up to model.concurrency transfers at
 * once over reused connections, each set up by the one HTTP transport
 * (http.h), retried on transient failures (connection errors, timeouts,
 * HTTP 408, 429, 500, 502, 503, 504) up to model.retries times with
 * exponential backoff and jitter, honouring Retry-After. A 401 asks the
 * backend for credentials once for the whole queue. Other backends (s->sync:
 * a directory, S3 through libs3) run their synchronous calls on worker
 * threads when they allow it, else one after the other (transfer-sync.c).
 *
 * Downloads are written to <store>/incomplete/<oid>, resumed with a Range
 * request when a previous attempt (or run) left part of it, hashed as they
 * arrive and renamed into the store only when the sha256 matches; bytes
 * that do not match are deleted and reported, never stored.
 *
 * Uploads first ask whether the object exists (HEAD) and skip it when it
 * has the right size; a PUT streams from the store with Content-Length.
 * Storage that keeps compressed objects (storage.h) is asked for both
 * forms, <object> and <object>.gmz, the second on a 404 for the first
 * (and, for a download, on wrong bytes in the first): either counts as
 * there (a .gmz only with a length a container of the object can
 * have), a download of the compressed one streams
 * through the decoder (zcontainer.h) into the incomplete file, verified
 * the same way and resumed at the block where its raw bytes end (a range
 * request for the container's header and table, then one for the stored
 * bytes from that block on), and an upload with model.compression sends the object
 * compressed into a spool first.
 * A check (push -n, status, fsck --remote, prune) is that HEAD alone, with
 * the same parallelism, retries and credentials; transfer_has() gives each
 * answer. Every "does storage have it?" is asked this way.
 *
 * Failures are reported one line each, naming the file, the URL without
 * credentials and the reason; transfer_run() returns how many failed.
 */

#include <stdint.h>

#include "repo.h"
#include "storage.h"
#include "store.h"

enum transfer_dir {
	TRANSFER_DOWNLOAD,
	TRANSFER_UPLOAD,
	TRANSFER_CHECK, /* only ask whether storage has each object */
};

struct transfer_item;
struct tcp_acked;

/*
 * model.compression: how uploads to a storage that model.storage names
 * are compressed (git-model-compression(5)): AUTO, the default, while
 * compressing outruns uploading; ZSTD always; NONE sends them raw.
 * Downloads read either form whatever it is.
 */
enum transfer_compression {
	TRANSFER_COMPRESS_NONE,
	TRANSFER_COMPRESS_AUTO,
	TRANSFER_COMPRESS_ZSTD,
};

struct transfer {
	enum transfer_dir dir;
	struct storage *storage;
	struct store *store;
	int concurrency;
	int retries;
	/*
	 * The storage is a pointer's url, not one of the repository's: what
	 * it had is not marked as in storage (loan.h), so never lent.
	 */
	int foreign;
	int progress; /* draw a progress line on stderr */
	int quiet;    /* no summary line either */
	enum transfer_compression compression;
	int compression_level;
	/*
	 * Downloads ask for the compressed form first: set from the start
	 * when `compression` is ZSTD, and whenever a download finds
	 * that form (0 when one finds the raw form after a 404 of the
	 * compressed one; storage that keeps both, storage.h).
	 */
	int prefer_compressed;
	/* transfer-http.c: uploads compressed ahead (transfer-internal.h) */
	struct transfer_zc_stage *zc_stage;
	/* what `auto` decides uploads by, while transfer_run() runs */
	struct transfer_zc_adapt *zc_adapt;
	/* transfer-http.c: its libcurl multi handle, while it runs */
	void *multi;
	/* transfer-http.c: its connections (tcp-acked.h), while it runs */
	struct tcp_acked *tcp_acked;
	struct transfer_item **items; /* objects, then parts of uploads */
	size_t nr, alloc;
	size_t top; /* how many objects (the rest are parts) */
	int auth_gen;    /* bumped when new credentials arrive */
	int auth_failed; /* credentials were refused: 401 fails fast */
	/*
	 * results; of the `failed`, `failed_absent` were not in storage
	 * (404) and `failed_mismatch` had wrong bytes there; the rest could
	 * not be had for another reason (unreachable, refused...)
	 */
	size_t done, skipped, failed;
	size_t failed_absent, failed_mismatch;
	uint64_t bytes_done, bytes_total;
	/* Held around the results while threads run (transfer.c), or NULL. */
	void *results_lock;
};

/*
 * Read model.concurrency, model.retries and model.compression (with
 * model.compression.level) from `r`. `progress` is 1 to
 * force the progress line, 0 to never draw it, -1 to draw it when stderr is
 * a terminal.
 */
int transfer_init(struct transfer *t, enum transfer_dir dir,
		  struct storage *s, struct store *store, const struct repo *r,
		  int progress, int quiet);

/* Queue one object; `path` is copied and only used in messages. */
void transfer_add(struct transfer *t, const char *oid, uint64_t size,
		  const char *path);

/*
 * Run the queue to the end. Returns the number of failed items; when the
 * engine cannot run at all, every item has failed.
 *
 * For the test suite only: GIT_MODEL_TEST_MULTI_INIT_FAILS=1 in the
 * environment makes libcurl's multi handle seem impossible to create.
 */
size_t transfer_run(struct transfer *t);

/*
 * After transfer_run() of a TRANSFER_CHECK queue, for the `i`-th object
 * queued: 1 when storage has it with its size, 0 when it has not (or with
 * another size), -1 when that could not be found out (reported). For a
 * check, `skipped` counts the objects storage has and `done` those it
 * lacks.
 */
int transfer_has(const struct transfer *t, size_t i);

/*
 * After transfer_run() of a TRANSFER_CHECK queue, for the `i`-th object
 * queued that transfer_has() says storage has not: whether storage holds
 * something else under its name (an HTTP backend's HEAD answered 200),
 * and how it differs.
 */
enum transfer_wrong {
	TRANSFER_NOT_WRONG,      /* nothing there, or not known */
	TRANSFER_WRONG_SIZE,     /* there with another size */
	TRANSFER_WRONG_CHECKSUM, /* the size, but the checksum the storage
				    states (S3's x-amz-checksum-sha256) is
				    not the object's */
};
enum transfer_wrong transfer_wrong(const struct transfer *t, size_t i);

/*
 * After transfer_run() of a TRANSFER_CHECK queue that found the `i`-th
 * object (transfer_has() is 1): the form storage holds it in (the form
 * asked for first when it holds both: raw, unless model.compression
 * compresses), and in `stored` the bytes storage said it holds, or 0
 * when it did not say (an HTTP answer without Content-Length).
 */
enum transfer_form {
	TRANSFER_FORM_RAW,
	TRANSFER_FORM_COMPRESSED, /* <object>.gmz, git-model-compression(5) */
};

enum transfer_form transfer_found(const struct transfer *t, size_t i,
				  uint64_t *stored);

/*
 * After transfer_run() of a download with failures: one error line for
 * each kind, with its own advice. Objects not in storage (404) and wrong
 * bytes there are to be uploaded again from a clone that has them; the
 * rest (unreachable, refused...) are for `again` ("git model fetch", a
 * command to run again later). `where` names the storage.
 */
void transfer_download_advice(const struct transfer *t, const char *where,
			      const char *again);

void transfer_release(struct transfer *t);

/*
 * The wait before attempt `attempt` + 1 after `attempt` failed ones (from
 * 1): 250 ms doubled for each, up to 10 s, times 0.5 to 1.5 from `rnd`; a
 * Retry-After of `retry_after` seconds (> 0) instead, up to 60 s. Defined
 * for every `attempt`; exposed for its unit test.
 */
uint64_t transfer_backoff_ms(int attempt, long retry_after,
			     unsigned long rnd);

#endif
