#ifndef TRANSFER_INTERNAL_H
#define TRANSFER_INTERNAL_H

/*
 * What the parts of the engine share, and nothing else includes:
 *
 *	transfer.c        the queue, retries with backoff, results, progress
 *	transfer-http.c   HTTP backends: requests on libcurl's multi
 *	                  interface, resumed and verified downloads,
 *	                  multipart uploads as the backend describes them
 *	transfer-sync.c   other backends: their synchronous calls on worker
 *	                  threads
 *
 * Threads: transfer-http.c runs every item in the thread that called
 * transfer_run(). transfer-sync.c runs each item on one worker thread; an
 * item's stage and progress and the queue's counters then change only
 * under t->results_lock (item_done(), item_fail()), which
 * transfer_draw_progress() is called under too.
 */

#include <curl/curl.h>
#include <pthread.h>

#include "hash.h"
#include "pointer.h"
#include "transfer.h"
#include "zcontainer.h"

enum stage {
	ST_QUEUED,  /* waiting for a slot (and for not_before) */
	ST_RUNNING, /* a request is in flight */
	ST_WAITING, /* a multipart upload waiting for its parts */
	ST_COMPRESSING, /* an upload in the compression stage (transfer-zc.c) */
	ST_DECODING, /* a compressed download's bytes all came: its last
			blocks are decoding (transfer-http.c) */
	ST_DONE,
	ST_SKIPPED, /* upload: storage had it already */
	ST_FAILED,
};

enum request {
	REQ_HEAD,
	REQ_PUT,
	REQ_GET,
	/* multipart uploads: steps the backend describes */
	REQ_MP_INIT,
	REQ_PART,
	REQ_MP_COMPLETE,
	REQ_MP_ABORT,
	/*
	 * A HEAD that failed has no body to explain it; S3 puts the reason
	 * (SignatureDoesNotMatch, AccessDenied...) in one: ask again with a
	 * one-byte GET to read it.
	 */
	REQ_PROBE,
	/* after a PUT, the request that confirms it (storage_http_ops.verify) */
	REQ_VERIFY,
};

struct transfer_item {
	struct transfer *t;
	char oid[OID_HEXSZ + 1];
	uint64_t size;
	char *path;
	enum stage stage;
	enum request req;
	int attempts;        /* failed attempts so far */
	int mismatches;      /* downloads whose bytes did not match */
	char *mismatch_why;  /* the first form's were wrong: why (the other
				form is asked, transfer-http.c) */
	int mismatch_gmz;    /* that first form: 1 the compressed one */
	enum item_failure {
		FAIL_OTHER,
		FAIL_ABSENT,   /* not in storage */
		FAIL_MISMATCH, /* wrong bytes in storage */
	} fail_kind;         /* what item_fail() counts it as */
	int quiet_fail;      /* item_fail() counts it without a line: the
				cause (refused credentials) was said once */
	uint64_t not_before; /* ms clock: backoff */
	int auth_gen;        /* credentials generation the request used */
	int misdirected;     /* sent again after storage moved elsewhere */
	int relocated;       /* storage was asked anew where it goes, after
				a refusal (storage_http_ops.locate) */

	CURL *easy;
	struct curl_slist *headers;
	struct storage_request rq;
	char errbuf[CURL_ERROR_SIZE];
	long retry_after;   /* seconds, from the response */
	char *etag;         /* from the response */
	char *checksum;     /* storage_http_ops.checksum_header's value */
	char *where;        /* storage_http_ops.where_header's value */
	enum transfer_wrong wrong; /* what HEAD found under its name */
	struct strbuf body; /* a response that is not content, capped */

	/* downloads */
	int fd;
	struct strbuf incomplete;
	struct hash hash;
	uint64_t have;  /* bytes in the incomplete file */
	int status_checked;
	int wrong_bytes;
	int write_errno; /* writing the partial file failed */
	/*
	 * Tensor hashes (tensor-tap.h) of the object's bytes as they
	 * arrive, from its first byte: cached when the item is done,
	 * dropped when it fails or starts over. NULL: none.
	 */
	struct store_tap *tap;

	/* uploads */
	int in_fd;
	int zc_undecided; /* waits for transfer_zc_choose() (ZC_WAIT) */
	int zc_metered;   /* a raw upload request the upload meter counts */
	int zc_conn;      /* its connection in t->tcp_acked, -1 not found
			     yet, or ZC_CONN_WROTE (meter_upload()) */
	uint64_t zc_sampled; /* ms clock: the meter's last sample of it */
	uint64_t zc_acked;   /* its bytes the meter counted: acknowledged by
				the peer, or else written (meter_upload()) */
	int zc_switched;  /* its raw upload was given up for the compressed
			     form (transfer_zc_switch()) */
	int zc_abandon;   /* its raw multipart upload is being aborted, for
			     the compressed form to follow */

	/*
	 * The compressed form <object>.gmz (git-model-compression(5)), with
	 * storage_http_ops.compressed: `gmz` says the item's requests name
	 * it; `form` which of the
	 * two is being asked. A download of it streams through `zc`
	 * into the incomplete file and its hash, as a raw one would; an
	 * upload sends `zc_fd`, the object compressed into a spool, of
	 * `zc_size` bytes whose sha256 is `zc_sha`.
	 */
	int gmz;
	uint64_t stored; /* a check found it: the bytes storage holds, or 0 */
	enum item_form {
		FORM_UNASKED, /* no request yet */
		FORM_FIRST,   /* asking the form chosen first */
		FORM_OTHER,   /* that was absent: asking the other */
	} form;
	int zc_active;          /* `zc` is initialised */
	struct zc_decoder zc;
	struct strbuf zc_err;   /* why the decoder stopped */
	/*
	 * The engine's thread never waits for the decoder's threads
	 * (zc_decoder_feed_some()): bytes it had no room for yet are held
	 * here (at most one write of libcurl's) and the transfer is paused
	 * (`zc_paused`) until the decoder takes them.
	 */
	struct strbuf zc_held;
	int zc_paused;
	/*
	 * A compressed download resumed after the raw bytes of its first
	 * blocks (the incomplete file holds them, from either form):
	 * ZC_RESUME_HEADER asks the container's header and table with a
	 * range request (zc_head_want bytes, into zc_head), then
	 * ZC_RESUME_BLOCKS its stored bytes from zc_from on, where the block
	 * holding the first raw byte missing starts, into a decoder started
	 * at that block. ZC_RESUME_NONE decodes it all into an empty file.
	 */
	enum zc_resume {
		ZC_RESUME_NONE,
		ZC_RESUME_HEADER,
		ZC_RESUME_BLOCKS,
	} zc_resume;
	struct strbuf zc_head;
	uint64_t zc_head_want;
	uint64_t zc_from;
	/* a 206 answer's Content-Range: its first byte, the whole length */
	int64_t range_first, range_total; /* -1: not given */
	int zc_fd;
	uint64_t zc_size;
	char zc_sha[HASH_HEXSZ + 1];

	/*
	 * Multipart uploads: the object's item waits (ST_WAITING) while its
	 * parts, items of their own, run; then it completes or aborts.
	 */
	struct transfer_item *parent; /* set on parts */
	void *mp;                     /* the backend's state, on the object */
	int part_no;
	uint64_t offset, length, sent;
	char part_sha[HASH_HEXSZ + 1];
	struct transfer_item **parts;
	size_t nparts, parts_done, parts_failed;
	struct strbuf failure; /* why the upload failed, for the message */

	uint64_t progress_now; /* bytes of the current request */
};

uint64_t transfer_now_ms(void);

/* A new item, not queued. */
struct transfer_item *transfer_item_new(struct transfer *t, const char *oid,
					uint64_t size, const char *path);
void transfer_item_queue(struct transfer *t, struct transfer_item *it);

/* One line: "error: cannot upload 'x' to 'url': reason". */
void item_fail(struct transfer_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void item_done(struct transfer_item *it, enum stage how);
/* Queue a retry after backoff, or fail when out of attempts. */
void item_retry(struct transfer_item *it, const char *why);
/*
 * Downloaded bytes did not match the object id: retried once (a transfer
 * may have garbled them), then failed as a mismatch, since bytes wrong in
 * storage come back wrong however often they are asked for.
 */
void item_mismatch(struct transfer_item *it, const char *why);
/*
 * Close the item's files of the local store (`fd`, `in_fd`) before a
 * request is sent again; the spool of a compressed upload (`zc_fd`)
 * stays, for the requests that send it again, until the object's item
 * ends (item_done(), item_fail()). The item's tap is dropped.
 */
void item_close_files(struct transfer_item *it);
/*
 * A download's tap, before its first byte is written (dropping any
 * earlier one): only for downloads into the user's own store. The tap
 * must then see every byte of the object, in order.
 */
void item_tap_start(struct transfer_item *it);

/* A part of a multipart upload ended (transfer-http.c). */
void transfer_part_ended(struct transfer_item *part);

void transfer_draw_progress(struct transfer *t, uint64_t start, int last);

/*
 * Run the queue. transfer_run_http() returns -1 when it could not run at
 * all (reported); the items it did not finish are then failed.
 */
int transfer_run_http(struct transfer *t, uint64_t start);
void transfer_run_sync(struct transfer *t, uint64_t start);

/*
 * transfer-zc.c: compressed objects (git-model-compression(5)) for the
 * backends with open_compressed (storage.h).
 *
 * transfer_compression_config() reads the settings into `t` (0, or -1
 * reported). transfer_zc_upload(), for an upload or a check of an object
 * storage has no raw copy of: skips it when storage has the compressed
 * form, else (an upload, when `t` compresses and the backend can)
 * compresses and uploads it. 1 when it finished the item (done, skipped
 * or failed), 0 when the raw upload or check result is to follow. transfer_zc_download() decodes the compressed form into the
 * store, verified: 1 when it finished the item, 0 when storage has no
 * compressed form, or has the raw one and it->mismatch_why is not set
 * (set, the raw copy's bytes were wrong: that reason is warned of).
 */
int transfer_compression_config(struct transfer *t, const struct repo *r);
/*
 * Compress object `oid` of the local store as `t` says (model.compression)
 * into an anonymous spool: its fd, at offset 0, with its length in
 * `stored`; or -1 (reported).
 */
int transfer_zc_compress(struct transfer *t, const char *oid, uint64_t size,
			 uint64_t *stored);
/*
 * The same for an upload's item: sets it->zc_fd (at offset 0), zc_size
 * and zc_sha, the sha256 of the compressed bytes. 0, or -1 (reported;
 * zc_fd is then -1). Safe on a worker thread: it touches only `it`.
 */
int transfer_zc_spool(struct transfer *t, struct transfer_item *it);
int transfer_zc_upload(struct transfer *t, struct transfer_item *it);
int transfer_zc_download(struct transfer *t, struct transfer_item *it);

/*
 * How model.compression=auto chooses each upload's form: by two rates
 * measured in this run (git-model-compression(5)). The compression rate
 * is the bytes of objects compressed over the time at least one
 * compression ran, whatever thread; the upload rate is the bytes raw
 * uploads sent, from their first byte, over the later part of the time
 * at least one ran (meter_add()'s marks: the start, when buffers take
 * bytes faster than the link, weighs less). Over HTTP, an upload's bytes
 * sent are those its connection's peer acknowledged (tcp-acked.h), not
 * those libcurl wrote into the socket's send buffer. An object is compressed
 * while the first beats the second. The first upload to choose goes
 * raw (it measures the link) and starts the trial: a thread compresses
 * up to ZC_SAMPLE_BYTES from the start of the objects of the run, as an
 * upload's blocks are, on one core, and throws the bytes away. The
 * uploads after wait (ZC_WAIT) until the trial has ended and raw uploads
 * have sent bytes for as long as it ran (or one has ended); then they
 * choose by the rates so far. A trial that compressed nothing leaves
 * them raw. `zstd` compresses every object, `none` none.
 *
 * A meter's calls may come from any thread (it has its own lock):
 * _begin() when an operation starts, _add() bytes it has done (any
 * number of calls), _end() when it ends, `ok` when it ended well.
 * transfer_zc_choose() answers for the next upload. A caller that
 * cannot wait (or has nothing under way that would end the wait) takes
 * ZC_WAIT as ZC_RAW. t->zc_adapt NULL: nothing is measured, and `auto`
 * compresses.
 *
 * transfer_zc_adapt_init() notes the run's first objects for the trial
 * (call it before the run, from the thread that owns `t`);
 * transfer_zc_adapt_release() waits for the trial's thread.
 *
 * For the test suite only: GIT_MODEL_TEST_ZC_RATES=<compress>:<upload>
 * (bytes per second) stands for both rates, measured or not (no trial
 * runs); GIT_MODEL_TEST_ZC_TRIAL=<file> appends to <file> the bytes each
 * trial compressed, a line each; GIT_MODEL_TEST_ZC_METER=<file>, for each
 * choice by measured rates, the bytes the upload meter had counted and
 * the microseconds since its first.
 */
#define ZC_SAMPLE_BYTES (1u << 20)
/* A push remembers its upload rate once it measured this much. */
#define ZC_REMEMBER_BYTES (1u << 20)
#define ZC_REMEMBER_US 20000

/* transfer_item.zc_conn: its bytes are counted as libcurl wrote them */
#define ZC_CONN_WROTE (-2)

enum transfer_zc_meter_kind {
	ZC_METER_COMPRESS,
	ZC_METER_UPLOAD,
};

enum transfer_zc_choice {
	ZC_RAW,
	ZC_COMPRESS,
	ZC_WAIT,
};

struct transfer_zc_meter {
	uint64_t bytes;
	uint64_t busy_us;  /* the ended spans when any was active */
	uint64_t since_us; /* when `active` last left 0 */
	unsigned active;
	unsigned ended_ok;
	unsigned probing;  /* chosen to measure it, not begun: as active */
	uint64_t first_us; /* active time when the first bytes came */
	/* active time and bytes then: [0] starts the recent rate's window */
	uint64_t mark_us[2], mark_bytes[2];
};

struct transfer_zc_adapt {
	pthread_mutex_t lock;
	struct transfer_zc_meter meter[2]; /* by enum transfer_zc_meter_kind */
	uint64_t forced[2];                /* the test's rates; 0: measured */
	struct transfer *t;
	/* the trial: its objects, its thread, whether it has ended */
	struct {
		char oid[OID_HEXSZ + 1];
		uint64_t size;
	} *sample;
	size_t nr_sample, alloc_sample;
	pthread_t sampler;
	int sampling, sampled;
	uint64_t trial_raw, trial_stored; /* what the trial took and made */
	double remembered; /* the last push's upload rate (link-rate.h), 0 */
	int remembered_used; /* the first choice was made by it */
};

void transfer_zc_adapt_init(struct transfer_zc_adapt *a, struct transfer *t);
void transfer_zc_adapt_release(struct transfer_zc_adapt *a);
void transfer_zc_meter_begin(struct transfer *t,
			     enum transfer_zc_meter_kind kind);
void transfer_zc_meter_add(struct transfer *t, enum transfer_zc_meter_kind kind,
			   uint64_t bytes);
void transfer_zc_meter_end(struct transfer *t, enum transfer_zc_meter_kind kind,
			   int ok);
enum transfer_zc_choice transfer_zc_choose(struct transfer *t);
/* 1 while the trial runs: a choice that waits is settled at its end. */
int transfer_zc_trial_running(struct transfer *t);

/*
 * The raw upload of an object that went first, measuring the link, is
 * given up for the compressed form (1) when, by the rates and the
 * trial's ratio so far, compressing the whole `size` bytes and sending
 * them would end sooner than sending the rest raw, `sent` of them gone
 * (as the upload meter counts: what the peer acknowledged; of a multipart
 * upload, its parts done and under way), by ZC_SWITCH_MARGIN: a push of
 * one object (or of one big one first) over a slow link. 0 while not
 * measured, for `zstd` and `none`, and when rates are stood for.
 */
#define ZC_SWITCH_MARGIN 0.8
int transfer_zc_switch(struct transfer *t, uint64_t size, uint64_t sent);

/*
 * The compression stage of HTTP (and S3) uploads. An upload needs its
 * length (Content-Length, or its parts' lengths) and the sha256 of its
 * bytes before its first request, so an object is compressed whole into
 * a spool (transfer_zc_compress()) and hashed before its PUT or its
 * multipart upload starts. That happens here, on up to
 * TRANSFER_ZC_STAGE_THREADS worker threads (each object's blocks on all
 * cores, zcontainer.h), while the engine's thread keeps every other
 * request going: the engine submits an item (ST_COMPRESSING) and
 * collects it once compressed, with it->zc_fd, zc_size and zc_sha set, or
 * zc_fd -1 when that failed (reported); then it sends it. Items
 * submitted and not collected count against model.concurrency, which so
 * bounds the spools on disk too.
 *
 * Threads: transfer_zc_stage_start(), _submit(), _busy(), _collect()
 * and _stop() are called from the engine's thread only. A worker touches
 * only the item it compresses (its zc_* fields, and it->oid and size,
 * which it reads), and calls `wake` (from the worker's thread, with
 * `wake_data`) when one is done, so that the engine stops waiting in
 * curl_multi_poll(). _start() returns NULL when `t` does not compress
 * uploads or no thread could start (then the engine compresses in its
 * own thread, as before). _stop() waits for the compressions under way;
 * the items it had not handed back are ST_QUEUED again, unsent.
 */
#define TRANSFER_ZC_STAGE_THREADS 4

struct transfer_zc_stage;

struct transfer_zc_stage *transfer_zc_stage_start(struct transfer *t,
						  void (*wake)(void *data),
						  void *wake_data);
void transfer_zc_stage_submit(struct transfer_zc_stage *st,
			      struct transfer_item *it);
/* Items submitted and not yet collected; 0 for a NULL stage. */
size_t transfer_zc_stage_busy(const struct transfer_zc_stage *st);
/* An item whose compression ended, in the order they ended, or NULL. */
struct transfer_item *transfer_zc_stage_collect(struct transfer_zc_stage *st);
void transfer_zc_stage_stop(struct transfer_zc_stage *st);

#endif
