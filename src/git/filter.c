#include "filter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clean-cache.h"
#include "pkt-line.h"
#include "storage.h"
#include "tensor-tap.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define PIPE_GROW_SIZE (1024 * 1024)

static ssize_t fd_src_read(struct filter_src *src, void *buf, size_t len)
{
	struct fd_src *s = (struct fd_src *)src;
	ssize_t n = xread(s->fd, buf, len);

	if (n < 0)
		error_errno("cannot read content");
	return n;
}

void fd_src_init(struct fd_src *src, int fd)
{
	src->base.read = fd_src_read;
	src->fd = fd;
}

static int fd_sink_write(struct filter_sink *sink, const void *buf,
			 size_t len)
{
	struct fd_sink *s = (struct fd_sink *)sink;

	if (write_in_full(s->fd, buf, len) < 0)
		return error_errno("cannot write content");
	return 0;
}

void fd_sink_init(struct fd_sink *sink, int fd)
{
	sink->base.write = fd_sink_write;
	sink->fd = fd;
}

/* Read until `len` bytes or the end; returns the count or -1. */
static ssize_t read_upto(struct filter_src *in, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = in->read(in, buf + got, len - got);

		if (n < 0)
			return -1;
		if (!n)
			break;
		got += n;
	}
	return got;
}

/*
 * The work tree file that git is cleaning, as clean-cache.h uses it: its
 * stat when the clean began, to find its record and to know at the end
 * that it did not change meanwhile.
 */
struct wt_file {
	int fd; /* -1: none */
	struct stat st;
};

#define WT_FILE_INIT { .fd = -1 }

/* Below this size a clean costs less than its record. */
#define CLEAN_RECORD_MIN ((uint64_t)1 << 20)

/*
 * Open `path` when it names a regular file big enough to have a record.
 * Never a FIFO's open that waits, never through a symbolic link.
 */
static void wt_open(struct wt_file *wt, const char *path)
{
	wt->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (wt->fd < 0)
		return;
	if (fstat(wt->fd, &wt->st) < 0 || !S_ISREG(wt->st.st_mode) ||
	    (uint64_t)wt->st.st_size < CLEAN_RECORD_MIN)
		wt->fd = close_quietly(wt->fd);
}

/* The file's stat is still the one it had when the clean began. */
static int wt_unchanged(struct wt_file *wt)
{
	struct file_stamp fs;
	struct stat now;

	if (wt->fd < 0 || fstat(wt->fd, &now) < 0)
		return 0;
	file_stamp_set(&fs, &wt->st);
	return file_stamp_same(&fs, &now);
}

/* The pointer of `oid`, `size` bytes, into `out`. */
static void clean_answer(struct filter *f, const char *oid, uint64_t size,
			 struct strbuf *out)
{
	struct pointer p = POINTER_INIT;
	struct strbuf url = STRBUF_INIT;

	pointer_init(&p);
	memcpy(p.oid, oid, HASH_HEXSZ + 1);
	p.size = size;
	if (f->storage_url) {
		storage_object_url(f->storage_url, p.oid, &url);
		pointer_set_url(&p, url.buf);
	}
	pointer_format(&p, out);
	pointer_release(&p);
	strbuf_release(&url);
}

/*
 * Are the next `len` bytes git sent, `data`, the object's (open as `obj`)
 * from offset `*same`? When they are, they count in `*same`. A read error
 * counts as a difference.
 */
static int same_as_stored(int obj, char *buf, uint64_t *same,
			  const char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < COPY_BLOCK ? len - done : COPY_BLOCK;
		ssize_t got = pread(obj, buf, n, *same + done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || memcmp(buf, data + done, got))
			return 0;
		done += got;
	}
	*same += len;
	return 1;
}

/*
 * The store has `oid`, of `size` bytes, which a record names for the
 * file: read what git sends, `first` (`len` bytes) and the rest,
 * comparing it with the object (`obj`), neither hashing nor storing it.
 * 1 when it was the object's bytes, all of them (then `oid` is the
 * answer: the store's objects hold what their oid says); 0 when not,
 * with the part that differs (or is past the object's end) in `rest`
 * and the `*same` bytes before it equal to the object's; -1 when it
 * could not be read.
 */
static int read_as_stored(int obj, uint64_t size, struct filter_src *in,
			  const char *first, size_t len, struct strbuf *rest,
			  uint64_t *same)
{
	char *buf = xmalloc(COPY_BLOCK);
	ssize_t n;
	int ret = 0;

	if (!same_as_stored(obj, buf, same, first, len)) {
		strbuf_add(rest, first, len);
		goto out;
	}
	strbuf_grow(rest, COPY_BLOCK);
	for (;;) {
		n = read_upto(in, rest->buf, COPY_BLOCK);
		if (n < 0) {
			ret = -1;
			goto out;
		}
		strbuf_setlen(rest, n);
		if (!n) {
			ret = *same == size;
			goto out;
		}
		if (!same_as_stored(obj, buf, same, rest->buf, n))
			goto out;
	}
out:
	free(buf);
	return ret;
}

/*
 * The first `same` bytes git sent, which were the object's, into the
 * writer from the object (`obj`), which does not change.
 */
static int write_same_part(int obj, uint64_t same, struct store_writer *w)
{
	uint64_t off = 0;

	while (off < same) {
		char *dst;
		size_t room = store_writer_room(w, &dst);
		ssize_t got;

		if (room > same - off)
			room = same - off;
		got = pread(obj, dst, room, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return error_errno("cannot read an object of the store again");
		if (store_writer_advance(w, got) < 0)
			return -1;
		off += got;
	}
	return 0;
}

/* The absolute path of `path`, for a record. */
static void abs_path(const char *path, struct strbuf *out)
{
	char cwd[PATH_MAX];

	if (*path != '/' && getcwd(cwd, sizeof(cwd)))
		strbuf_addf(out, "%s/", cwd);
	strbuf_addstr(out, path);
}

/*
 * Commit the record begun as `rec` (if any): the file `wt`, at `path`,
 * holds `oid`, when its stat did not change while it was cleaned.
 */
static void commit_record(struct clean_record *rec, struct wt_file *wt,
			  const char *path, const char *oid)
{
	struct strbuf where = STRBUF_INIT;

	if (rec->fd >= 0 && wt_unchanged(wt)) {
		abs_path(path, &where);
		clean_record_commit(rec, &wt->st, oid, where.buf);
	}
	strbuf_release(&where);
}

int filter_clean(struct filter *f, struct filter_src *in, const char *path,
		 struct strbuf *out)
{
	struct store_writer w = STORE_WRITER_INIT;
	struct pointer p = POINTER_INIT;
	struct strbuf rest = STRBUF_INIT;
	struct clean_record rec = CLEAN_RECORD_INIT;
	struct wt_file wt = WT_FILE_INIT;
	struct store_tap *tap = NULL;
	char oid[HASH_HEXSZ + 1];
	uint64_t size, same = 0;
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int ret = -1, as_stored, current = 1, obj = -1;

	buf = xmalloc(POINTER_MAX + 1);
	n = read_upto(in, buf, POINTER_MAX + 1);
	if (n < 0)
		goto cleanup;
	if (n <= POINTER_MAX) {
		/* Empty files and pointers stay as they are. */
		if (!n || (pointer_maybe(buf, n) &&
			   !pointer_parse(&p, buf, n, NULL))) {
			strbuf_add(out, buf, n);
			ret = 0;
			goto cleanup;
		}
	}

	if (path)
		wt_open(&wt, path);
	if (wt.fd >= 0 && clean_cache_hint(f->store, &wt.st, oid, &current) &&
	    (obj = store_open(f->store, oid, wt.st.st_size)) >= 0) {
		/* Begun before the bytes come, as for any record. */
		if (!current)
			clean_record_begin(&rec, f->store);
		as_stored = read_as_stored(obj, wt.st.st_size, in, buf, n,
					   &rest, &same);
		if (as_stored < 0)
			goto cleanup;
		if (as_stored) {
			commit_record(&rec, &wt, path, oid);
			clean_answer(f, oid, wt.st.st_size, out);
			ret = 0;
			goto cleanup;
		}
	}
	if (wt.fd >= 0 && rec.fd < 0 && clean_record_begin(&rec, f->store) < 0)
		wt.fd = close_quietly(wt.fd);

	if (store_writer_start(&w, f->store) < 0)
		goto cleanup;
	/*
	 * The tensors' hashes, for the first diff: the work tree file's size
	 * is the size the content is expected to have.
	 */
	if (path && !stat(path, &st) && S_ISREG(st.st_mode))
		w.tap = tap = tensor_tap_new(st.st_size);
	if (obj >= 0) {
		/* Not the object after all: what was, then what was not. */
		if (write_same_part(obj, same, &w) < 0 ||
		    store_writer_write(&w, rest.buf, rest.len) < 0)
			goto cleanup;
		obj = close_quietly(obj);
	} else if (store_writer_write(&w, buf, n) < 0) {
		goto cleanup;
	}
	/* The rest is read into the writer's block, where it is hashed. */
	for (;;) {
		char *dst;
		size_t room = store_writer_room(&w, &dst);

		n = in->read(in, dst, room);
		if (n <= 0)
			break;
		if (store_writer_advance(&w, n) < 0)
			goto cleanup;
	}
	if (n < 0)
		goto cleanup;
	if (store_writer_commit(&w, NULL, oid, &size) < 0)
		goto cleanup;
	tensor_tap_finish(tap, f->store, oid);
	tap = NULL;
	if (size == (uint64_t)wt.st.st_size)
		commit_record(&rec, &wt, path, oid);
	clean_answer(f, oid, size, out);
	ret = 0;
cleanup:
	if (ret < 0)
		error("cannot clean '%s'", path);
	store_writer_abort(&w);
	tensor_tap_finish(tap, f->store, NULL);
	clean_record_release(&rec);
	close_quietly(obj);
	close_quietly(wt.fd);
	pointer_release(&p);
	strbuf_release(&rest);
	free(buf);
	return ret;
}

/*
 * Content that is not a pointer must be given back unchanged. The process
 * protocol only lets us answer after git has sent everything, so anything
 * larger than a pointer is spooled to an unlinked temp file rather than
 * held in memory.
 */
static int spool_rest(struct filter *f, struct filter_src *in,
		      struct smudge *sm)
{
	char *buf = xmalloc(COPY_BLOCK);
	ssize_t n;
	int ret = -1;

	sm->fd = store_spool(f->store);
	if (sm->fd < 0)
		goto cleanup;
	if (write_in_full(sm->fd, sm->text.buf, sm->text.len) < 0)
		goto write_error;
	strbuf_release(&sm->text);
	while ((n = in->read(in, buf, COPY_BLOCK)) > 0)
		if (write_in_full(sm->fd, buf, n) < 0)
			goto write_error;
	if (n < 0)
		goto cleanup;
	if (lseek(sm->fd, 0, SEEK_SET) < 0)
		goto write_error;
	ret = 0;
	goto cleanup;
write_error:
	error_errno("cannot write a spool file in '%s/tmp'", f->store->dir);
cleanup:
	free(buf);
	return ret;
}

/*
 * An object too big to pass through git (which holds a smudge's whole
 * output in memory) is written by the hook instead: give git the pointer.
 */
static int maybe_defer(struct filter *f, const char *path, struct smudge *sm)
{
	if (!f->defer || !f->may_defer || sm->fd < 0 ||
	    sm->ptr.size <= f->inline_max)
		return 0;
	if (f->defer(f, path, &sm->ptr) < 0)
		return error("cannot smudge '%s'", path);
	close(sm->fd);
	sm->fd = -1;
	if (!sm->text.len)
		pointer_format(&sm->ptr, &sm->text);
	return 0;
}

/*
 * The weights of `path` could not be had: its pointer text is what git
 * gets. In a checkout the path is recorded for the hook too, which counts
 * such files, reports them and fails (checkout.h), so that a clone ends
 * with one summary and a non-zero exit; elsewhere it is reported here.
 */
static int leave_pointer(struct filter *f, const char *path,
			 struct smudge *sm)
{
	sm->missing = 1;
	if (f->defer && f->may_defer) {
		if (f->defer(f, path, &sm->ptr) < 0)
			return error("cannot smudge '%s'", path);
		return 0;
	}
	warning("'%s': weights %.12s are not in the local store; the pointer "
		"was left in the file (run 'git model pull' to fetch them)",
		path, sm->ptr.oid);
	return 0;
}

int filter_smudge_prepare(struct filter *f, struct filter_src *in,
			  const char *path, struct smudge *sm)
{
	struct strbuf why = STRBUF_INIT;
	ssize_t n;

	strbuf_grow(&sm->text, POINTER_MAX + 1);
	n = read_upto(in, sm->text.buf, POINTER_MAX + 1);
	if (n < 0)
		return error("cannot smudge '%s'", path);
	strbuf_setlen(&sm->text, n);
	if (n > POINTER_MAX) {
		if (spool_rest(f, in, sm) < 0)
			return error("cannot smudge '%s'", path);
		return 0;
	}
	if (f->skip_smudge || !pointer_maybe(sm->text.buf, n))
		return 0;
	if (pointer_parse(&sm->ptr, sm->text.buf, n, &why)) {
		/* Someone's broken pointer: say so, and leave it as it is. */
		warning("'%s' looks like a git-model pointer but is not one "
			"(%s); it was checked out as it is",
			path, why.buf);
		strbuf_release(&why);
		return 0;
	}

	sm->is_pointer = 1;
	sm->fd = store_open(f->store, sm->ptr.oid, sm->ptr.size);
	if (sm->fd >= 0)
		return maybe_defer(f, path, sm);
	if (errno != ENOENT)
		return error("cannot smudge '%s'", path);
	if (f->defer_missing) {
		sm->missing = 1;
		return 0;
	}
	if (f->fetch && !f->fetch(f, &sm->ptr, path)) {
		sm->fd = store_open(f->store, sm->ptr.oid, sm->ptr.size);
		if (sm->fd >= 0)
			return maybe_defer(f, path, sm);
	}
	return leave_pointer(f, path, sm);
}

int filter_smudge_write(struct smudge *sm, struct filter_sink *out,
			const char *path)
{
	char *buf;
	uint64_t total = 0;
	ssize_t n;
	int ret = -1;

	if (sm->fd < 0)
		return out->write(out, sm->text.buf, sm->text.len);

	buf = xmalloc(COPY_BLOCK);
	while ((n = xread(sm->fd, buf, COPY_BLOCK)) > 0) {
		if (out->write(out, buf, n) < 0)
			goto cleanup;
		total += n;
	}
	if (n < 0) {
		error_errno("cannot read the content of '%s'", path);
		goto cleanup;
	}
	if (sm->is_pointer && total != sm->ptr.size) {
		error("the stored object for '%s' changed while being read; "
		      "delete it from .git/model/objects and run 'git model "
		      "pull'", path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(buf);
	return ret;
}

void smudge_release(struct smudge *sm)
{
	if (sm->fd >= 0)
		close(sm->fd);
	sm->fd = -1;
	strbuf_release(&sm->text);
	pointer_release(&sm->ptr);
	sm->is_pointer = sm->missing = 0;
}

/* The process protocol. */

/* Content packets of one request, up to its flush. */
struct pkt_src {
	struct filter_src base;
	struct pkt_reader *reader;
	size_t off;
	int done;   /* the flush was read */
	int broken; /* the stream broke: the conversation cannot go on */
};

/*
 * The next packet's payload: straight into `buf` when it fits in `len`
 * (returns its size), else into the reader's buffer (returns 0, s->off
 * and r->len set). Returns -1 at the flush with s->done set, -2 when the
 * stream broke (reported).
 */
static ssize_t pkt_src_next_packet(struct pkt_src *s, char *buf, size_t len)
{
	struct pkt_reader *r = s->reader;
	enum pkt_status st;
	size_t plen;

	do {
		plen = 0;
		st = pkt_read_header(r, &plen);
	} while (st == PKT_DATA && !plen); /* an empty packet adds nothing */
	s->off = 0;
	if (st == PKT_FLUSH) {
		s->done = 1;
		return -1;
	}
	if (st == PKT_DATA && plen <= len) {
		if (pkt_read_payload(r, buf, plen) == PKT_DATA)
			return plen;
	} else if (st == PKT_DATA) {
		if (pkt_read_payload(r, r->buf, plen) == PKT_DATA) {
			r->buf[plen] = '\0';
			r->len = plen;
			return 0;
		}
	} else if (st == PKT_EOF) {
		error("protocol error: git closed the stream in the middle "
		      "of a file");
	}
	s->broken = 1;
	return -2;
}

/*
 * Content, up to the flush. A payload that fits goes straight into `buf`
 * (for a clean, that is the store writer's block: no copy of our own).
 */
static ssize_t pkt_src_read(struct filter_src *src, void *buf, size_t len)
{
	struct pkt_src *s = (struct pkt_src *)src;
	struct pkt_reader *r = s->reader;

	if (s->done)
		return 0;
	if (s->broken)
		return -1;
	if (s->off == r->len) {
		ssize_t n = pkt_src_next_packet(s, buf, len);

		if (n == -1)
			return 0;
		if (n < 0)
			return -1;
		if (n > 0)
			return n;
	}
	if (len > r->len - s->off)
		len = r->len - s->off;
	memcpy(buf, r->buf + s->off, len);
	s->off += len;
	return len;
}

static void pkt_src_init(struct pkt_src *s, struct pkt_reader *r)
{
	s->base.read = pkt_src_read;
	s->reader = r;
	s->off = r->len = 0;
	s->done = s->broken = 0;
}

/* Consume what is left of the content, so the next request lines up. */
static int pkt_src_drain(struct pkt_src *s)
{
	char buf[4096];

	while (!s->done) {
		if (s->broken || pkt_src_read(&s->base, buf, sizeof(buf)) < 0)
			return -1;
	}
	return 0;
}

struct pkt_sink {
	struct filter_sink base;
	struct pkt_writer *writer;
};

static int pkt_sink_write(struct filter_sink *sink, const void *buf,
			  size_t len)
{
	return pkt_write_data(((struct pkt_sink *)sink)->writer, buf, len);
}

struct request {
	char command[32];
	struct strbuf pathname;
	int can_delay;
};

struct conversation {
	struct filter *filter;
	struct pkt_reader *reader;
	struct pkt_writer writer;
	int delay; /* git and we agreed on the "delay" capability */
	struct delayed_blob **delayed;
	size_t delayed_nr, delayed_alloc;
};

/* A broken packet was reported by pkt-line.c: do not report it again. */
static int cut_short(enum pkt_status st)
{
	return st == PKT_ERROR ? -1 :
				 error("protocol error: handshake cut short");
}

static int expect_line(struct pkt_reader *r, const char *want)
{
	enum pkt_status st = pkt_read_line(r);

	if (st == PKT_ERROR)
		return -1;
	if (st != PKT_DATA || strcmp(r->buf, want))
		return error("protocol error: expected '%s' from git, got "
			     "'%.80s'", want, st == PKT_DATA ? r->buf : "");
	return 0;
}

static int handshake(struct conversation *c)
{
	struct pkt_reader *r = c->reader;
	int v2 = 0, clean = 0, smudge = 0, delay = 0;
	enum pkt_status st;

	if (expect_line(r, "git-filter-client") < 0)
		return -1;
	while ((st = pkt_read_line(r)) == PKT_DATA) {
		if (strncmp(r->buf, "version=", 8))
			return error("protocol error: expected a version, got "
				     "'%.80s'", r->buf);
		if (!strcmp(r->buf, "version=2"))
			v2 = 1;
	}
	if (st != PKT_FLUSH)
		return cut_short(st);
	if (!v2)
		return error("git does not offer filter protocol version 2 "
			     "(git 2.11 or newer is needed)");
	if (pkt_write_linef(&c->writer, "git-filter-server") < 0 ||
	    pkt_write_linef(&c->writer, "version=2") < 0 ||
	    pkt_write_flush(&c->writer) < 0)
		return -1;

	/* Capabilities we do not know are ignored, as the protocol says. */
	while ((st = pkt_read_line(r)) == PKT_DATA) {
		if (!strcmp(r->buf, "capability=clean"))
			clean = 1;
		else if (!strcmp(r->buf, "capability=smudge"))
			smudge = 1;
		else if (!strcmp(r->buf, "capability=delay"))
			delay = 1;
		else if (strncmp(r->buf, "capability=", 11))
			return error("protocol error: expected a capability, "
				     "got '%.80s'", r->buf);
	}
	if (st != PKT_FLUSH)
		return cut_short(st);
	if ((clean && pkt_write_linef(&c->writer, "capability=clean") < 0) ||
	    (smudge && pkt_write_linef(&c->writer, "capability=smudge") < 0))
		return -1;
	c->delay = delay && smudge && c->filter->fetch_many &&
		   !c->filter->skip_smudge;
	if ((c->delay && pkt_write_linef(&c->writer, "capability=delay") < 0) ||
	    pkt_write_flush(&c->writer) < 0)
		return -1;
	return 0;
}

/*
 * Read one request's header lines. Returns PKT_DATA for a request,
 * PKT_EOF when git ended the conversation, PKT_ERROR otherwise.
 */
static enum pkt_status read_request(struct pkt_reader *r, struct request *req)
{
	enum pkt_status st;
	int first = 1;

	req->command[0] = '\0';
	strbuf_reset(&req->pathname);
	req->can_delay = 0;
	while ((st = pkt_read_line(r)) == PKT_DATA) {
		const char *eq = strchr(r->buf, '=');

		first = 0;
		if (!eq)
			return error("protocol error: expected key=value, got "
				     "'%.80s'", r->buf);
		if (!strncmp(r->buf, "command=", 8)) {
			if (strlen(eq + 1) >= sizeof(req->command))
				return error("protocol error: unknown command "
					     "'%.80s'", eq + 1);
			memcpy(req->command, eq + 1, strlen(eq + 1) + 1);
		} else if (!strncmp(r->buf, "pathname=", 9)) {
			/* Once, and short enough to be named back to git. */
			if (req->pathname.len || !eq[1] ||
			    strlen(eq + 1) > PATH_MAX)
				return error("protocol error: a request needs "
					     "one pathname of 1 to %d bytes",
					     PATH_MAX);
			strbuf_addstr(&req->pathname, eq + 1);
		} else if (!strcmp(r->buf, "can-delay=1")) {
			req->can_delay = 1;
		}
		/* ref=, treeish=, blob= and future keys: not needed */
	}
	if (st == PKT_EOF && first)
		return PKT_EOF;
	if (st != PKT_FLUSH)
		return st == PKT_EOF ? error("protocol error: request cut "
					     "short") :
				       PKT_ERROR;
	if (!req->command[0])
		return error("protocol error: request without a command");
	return PKT_DATA;
}

/*
 * The status that starts a response with content: queued only, to go to
 * git with the content (one write() for a pointer, not three).
 */
static int queue_status(struct conversation *c, const char *status)
{
	if (pkt_write_linef(&c->writer, "status=%s", status) < 0)
		return -1;
	pkt_queue_flush(&c->writer);
	return 0;
}

static int send_status(struct conversation *c, const char *status)
{
	if (queue_status(c, status) < 0)
		return -1;
	return pkt_writer_push(&c->writer);
}

/* Finish a response whose content was sent: flush, then status list. */
static int end_content(struct conversation *c, int failed)
{
	pkt_queue_flush(&c->writer);
	if (failed)
		return send_status(c, "error");
	return pkt_write_flush(&c->writer); /* empty list: keep "success" */
}

static int do_clean(struct conversation *c, struct request *req)
{
	struct strbuf out = STRBUF_INIT;
	struct pkt_src src;
	int ok, ret = -1;

	pkt_src_init(&src, c->reader);
	ok = !filter_clean(c->filter, &src.base, req->pathname.buf, &out);
	if (pkt_src_drain(&src) < 0)
		goto cleanup;
	if (!ok) {
		ret = send_status(c, "error");
		goto cleanup;
	}
	if (queue_status(c, "success") < 0 ||
	    pkt_write_data(&c->writer, out.buf, out.len) < 0)
		goto cleanup;
	ret = end_content(c, 0);
cleanup:
	strbuf_release(&out);
	return ret;
}

static struct delayed_blob *find_delayed(struct conversation *c,
					 const char *pathname, size_t *at)
{
	size_t i;

	for (i = 0; i < c->delayed_nr; i++)
		if (!strcmp(c->delayed[i]->pathname, pathname)) {
			if (at)
				*at = i;
			return c->delayed[i];
		}
	return NULL;
}

static void free_delayed(struct delayed_blob *d)
{
	free(d->pathname);
	pointer_release(&d->ptr);
	free(d);
}

/* Answer "delayed" and remember the pointer for list_available_blobs. */
static int delay_smudge(struct conversation *c, struct request *req,
			struct smudge *sm)
{
	struct delayed_blob *d = xcalloc(1, sizeof(*d));

	d->pathname = xstrdup(req->pathname.buf);
	d->ptr = sm->ptr;
	pointer_init(&sm->ptr);
	ALLOC_GROW(c->delayed, c->delayed_nr + 1, c->delayed_alloc);
	c->delayed[c->delayed_nr++] = d;
	return send_status(c, "delayed");
}

/*
 * git asks again for a delayed path, with empty content: serve the object
 * if it came, else the pointer text (the download failure was reported).
 */
static int prepare_delayed(struct conversation *c, struct delayed_blob *d,
			   struct smudge *sm)
{
	sm->ptr = d->ptr;
	pointer_init(&d->ptr);
	int ret;

	sm->is_pointer = 1;
	sm->fd = store_open(c->filter->store, sm->ptr.oid, sm->ptr.size);
	if (sm->fd < 0 && errno != ENOENT)
		return error("cannot smudge '%s'", d->pathname);
	/* It was delayed: git asked with can-delay, in a checkout. */
	c->filter->may_defer = 1;
	if (sm->fd >= 0) {
		ret = maybe_defer(c->filter, d->pathname, sm);
	} else {
		pointer_format(&sm->ptr, &sm->text);
		ret = leave_pointer(c->filter, d->pathname, sm);
	}
	c->filter->may_defer = 0;
	return ret;
}

static int do_smudge(struct conversation *c, struct request *req)
{
	struct smudge sm = SMUDGE_INIT;
	struct pkt_sink sink = { { pkt_sink_write }, &c->writer };
	struct delayed_blob *d;
	struct pkt_src src;
	size_t at;
	int ok, ret = -1;

	pkt_src_init(&src, c->reader);
	d = find_delayed(c, req->pathname.buf, &at);
	if (d && d->reported) {
		ok = pkt_src_drain(&src) == 0 && !prepare_delayed(c, d, &sm);
		c->delayed[at] = c->delayed[--c->delayed_nr];
		free_delayed(d);
		if (src.broken)
			goto cleanup;
	} else {
		/* With delay, a missing object is fetched later, together. */
		c->filter->defer_missing = c->delay && req->can_delay;
		c->filter->may_defer = req->can_delay;
		ok = !filter_smudge_prepare(c->filter, &src.base,
					    req->pathname.buf, &sm);
		c->filter->defer_missing = c->filter->may_defer = 0;
		if (pkt_src_drain(&src) < 0)
			goto cleanup;
		if (ok && sm.missing && c->delay && req->can_delay) {
			ret = delay_smudge(c, req, &sm);
			goto cleanup;
		}
	}
	if (!ok) {
		ret = send_status(c, "error");
		goto cleanup;
	}
	if (queue_status(c, "success") < 0)
		goto cleanup;
	ok = !filter_smudge_write(&sm, &sink.base, req->pathname.buf);
	ret = end_content(c, !ok);
cleanup:
	smudge_release(&sm);
	return ret;
}

/*
 * Fetch every delayed object not fetched yet, all at once (this is where
 * a clone's downloads run in parallel), then name the paths git has not
 * heard of. An empty list tells git there is nothing more to wait for.
 */
static int do_list_available(struct conversation *c, struct request *req)
{
	struct delayed_blob **todo;
	size_t i, n = 0;

	todo = xcalloc(c->delayed_nr + 1, sizeof(*todo));
	for (i = 0; i < c->delayed_nr; i++)
		if (!c->delayed[i]->fetched)
			todo[n++] = c->delayed[i];
	if (n)
		c->filter->fetch_many(c->filter, todo, n);
	free(todo);
	for (i = 0; i < c->delayed_nr; i++) {
		struct delayed_blob *d = c->delayed[i];

		d->fetched = 1;
		if (d->reported)
			continue;
		d->reported = 1;
		if (pkt_write_linef(&c->writer, "pathname=%s", d->pathname) < 0)
			return -1;
	}
	if (pkt_write_flush(&c->writer) < 0)
		return -1;
	return send_status(c, "success");
}

static const struct {
	const char *name;
	int (*fn)(struct conversation *c, struct request *req);
} commands[] = {
	{ "clean", do_clean },
	{ "smudge", do_smudge },
	{ "list_available_blobs", do_list_available },
};

/*
 * git writes a file to the filter in packets of 64 KiB, and a pipe holds
 * 64 KiB: git waits while we hash each packet and we wait while it writes
 * the next. A pipe of 1 MiB (the default pipe-max-size) lets git run
 * ahead (t/perf/p0001-add-big.sh measures it). Where the pipe cannot grow (not a pipe, a lower limit) it stays as it is.
 */
static void grow_pipe(int fd)
{
	fcntl(fd, F_SETPIPE_SZ, PIPE_GROW_SIZE);
}

int filter_process(struct filter *f, int in, int out)
{
	struct pkt_reader *reader = xmalloc(sizeof(*reader));
	struct conversation c = { f, reader, PKT_WRITER_INIT(out), 0, NULL, 0, 0 };
	struct request req = { "", STRBUF_INIT, 0 };
	enum pkt_status st;
	int ret = -1;

	grow_pipe(in);
	grow_pipe(out);
	pkt_reader_init(reader, in);
	if (handshake(&c) < 0)
		goto cleanup;
	while ((st = read_request(reader, &req)) == PKT_DATA) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(commands); i++)
			if (!strcmp(req.command, commands[i].name))
				break;
		if (i == ARRAY_SIZE(commands)) {
			error("protocol error: unknown command '%s'",
			      req.command);
			goto cleanup;
		}
		if (commands[i].fn(&c, &req) < 0)
			goto cleanup;
	}
	if (st == PKT_EOF)
		ret = 0;
cleanup:
	while (c.delayed_nr)
		free_delayed(c.delayed[--c.delayed_nr]);
	free(c.delayed);
	strbuf_release(&req.pathname);
	pkt_writer_release(&c.writer);
	free(reader);
	return ret;
}
