#ifndef TRANSFER_H
#define TRANSFER_H

/*
 * The transfer engine: every upload and download of every backend goes
 * through one queue.
 *
 * Backends that speak HTTP (storage_ops.object_url set) are driven here on
 * libcurl's multi interface: up to model.concurrency transfers at once over
 * reused connections, each retried on transient failures (connection
 * errors, timeouts, HTTP 408, 429, 500, 502, 503, 504) up to model.retries
 * times with exponential backoff and jitter, honouring Retry-After. A 401
 * asks `git credential fill` once for the whole queue. Other backends (a
 * directory) run their synchronous operations one after the other.
 *
 * Downloads are written to <store>/incomplete/<oid>, resumed with a Range
 * request when a previous attempt (or run) left part of it, hashed as they
 * arrive and renamed into the store only when the sha256 matches; bytes
 * that do not match are deleted and reported, never stored.
 *
 * Uploads first ask whether the object exists (HEAD) and skip it when it
 * has the right size; a PUT streams from the store with Content-Length.
 * A check (fsck --remote, prune) is that HEAD alone, with the same
 * parallelism, retries and credentials; transfer_has() gives each answer.
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

struct transfer {
	enum transfer_dir dir;
	struct storage *storage;
	struct store *store;
	int concurrency;
	int retries;
	int progress; /* draw a progress line on stderr */
	int quiet;    /* no summary line either */
	struct transfer_item **items; /* objects, then parts of uploads */
	size_t nr, alloc;
	size_t top; /* how many objects (the rest are parts) */
	int auth_gen;    /* bumped when new credentials arrive */
	int auth_failed; /* credentials were refused: 401 fails fast */
	/* results */
	size_t done, skipped, failed;
	uint64_t bytes_done, bytes_total;
	/* Held around the results while threads run (transfer.c), or NULL. */
	void *results_lock;
};

/*
 * Read model.concurrency and model.retries from `r`. `progress` is 1 to
 * force the progress line, 0 to never draw it, -1 to draw it when stderr is
 * a terminal.
 */
int transfer_init(struct transfer *t, enum transfer_dir dir,
		  struct storage *s, struct store *store, const struct repo *r,
		  int progress, int quiet);

/* Queue one object; `path` is copied and only used in messages. */
void transfer_add(struct transfer *t, const char *oid, uint64_t size,
		  const char *path);

/* Run the queue to the end. Returns the number of failed items. */
size_t transfer_run(struct transfer *t);

/*
 * After transfer_run() of a TRANSFER_CHECK queue, for the `i`-th object
 * queued: 1 when storage has it with its size, 0 when it has not (or with
 * another size), -1 when that could not be found out (reported). For a
 * check, `skipped` counts the objects storage has and `done` those it
 * lacks.
 */
int transfer_has(const struct transfer *t, size_t i);

void transfer_release(struct transfer *t);

#endif
