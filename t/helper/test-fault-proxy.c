/*
 * test-tool fault-proxy: an HTTP/1.1 reverse proxy that injects faults.
 *
 *   test-tool fault-proxy --port-file FILE --upstream PORT --mode MODE
 *                         [--count N] [--method METHOD] [--log FILE]
 *
 * It sits between git-model (libcurl) and a real web server on 127.0.0.1
 * so that tests can check that a download or an upload ends in the right
 * bytes or in a clear error, never in a corrupt object. It listens on a
 * free port of 127.0.0.1 and writes that port to FILE (through a temporary
 * name and rename(), so a test can poll for FILE), then serves until it is
 * killed. It never writes to stdout; errors go to stderr.
 *
 * Each client connection is served by a forked child, which handles
 * sequential (keep-alive) requests. Each request goes to its own upstream
 * connection with "Connection: close"; nothing else in the request is
 * rewritten. The response goes back unchanged except for its Connection
 * and Keep-Alive headers, which belong to the upstream hop: we add
 * "Connection: close" when we are going to close the client connection.
 * Bodies stream through a fixed buffer; chunked bodies are relayed byte
 * for byte.
 *
 * MODE is one of:
 *
 *   pass       no faults
 *   cut        send the headers and the first half of the body, then close
 *   status503  answer "503 Service Unavailable" with "Retry-After: 1"
 *              without asking upstream (any method)
 *   corrupt    flip (XOR 0xff) every 4096th byte of the body, same length
 *   stall      send the headers and the first 64 KiB of the body (half of
 *              a shorter one), then nothing until the client goes away or
 *              120 seconds pass
 *   status500  answer "500 Internal Server Error" (no Retry-After) without
 *              asking upstream (any method)
 *   reset      send the headers and the first half of the body, then reset
 *              the connection (SO_LINGER 0: the client sees ECONNRESET, not
 *              an orderly end of file as with "cut")
 *   endless    answer a GET with "200 OK" without asking upstream and with
 *              no Content-Length, then zeros without end, until the
 *              client goes away: a storage that would fill the disk
 *   trickle    send the headers, then the body TRICKLE_BYTES at a time
 *              every TRICKLE_MS (256 bytes a second), until it is done or
 *              the client goes away: only a low-speed limit catches it,
 *              not an idle timeout
 *   silent     read the request (any method) and never answer: no status
 *              line, nothing, until the client goes away or 120 seconds
 *              pass (logged with status 0)
 *   slowup     relay request bodies (any method with a body) at --rate
 *              bytes a second each, as behind a slow uplink; the listening
 *              socket's receive buffer is cut to SLOWUP_RCVBUF, so what
 *              the proxy has not read waits in the client's own socket
 *              (a big buffer here would take a body at memory speed)
 *
 * cut, corrupt, stall, reset and trickle apply to GET responses with
 * status 200 or 206 only, but corrupt with --method METHOD, for any METHOD
 * but GET, flips the bytes of the request bodies of METHOD instead: a PUT
 * upload or a POST (S3's CompleteMultipartUpload) garbled on its way; a
 * request of METHOD without a body is not a candidate. --method METHOD
 * makes only requests with that method candidates (e.g. status500 for PUT
 * alone, so that a push's HEAD requests pass); METHOD may be a list
 * (PUT,DELETE). Only the first N
 * candidates (--count, default 1) are faulted, counted across all
 * connections in FILE.count under flock(); after that everything passes
 * through. Bodies without Content-Length are cut, reset or stalled after
 * 32 KiB (64 KiB), or just before their end if shorter.
 *
 * --log FILE appends one line per request:
 *
 *   <method> <target> <status-sent> range=<Range or -> fault=<mode or none>
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "strbuf.h"
#include "parse-options.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

#define HEAD_MAX (64 * 1024)		/* a request or response head */
#define LINE_MAX_CHUNKED 4096		/* chunk-size and trailer lines */
#define IO_TIMEOUT_MS (300 * 1000)	/* any single read or write */
#define STALL_BYTES (64 * 1024)
#define STALL_SECONDS 120
#define CUT_UNKNOWN_BYTES (32 * 1024)
#define LINGER_MS 2000
#define TRICKLE_BYTES 64
#define TRICKLE_MS 250
#define SLOWUP_RCVBUF (64 * 1024)
#define SLOWUP_BYTES (16 * 1024)

static const char *const fault_proxy_usage[] = {
	"test-tool fault-proxy --port-file <file> --upstream <port> "
	"--mode (pass | cut | status503 | corrupt | stall | status500 | reset |\n"
	"        trickle | endless | silent | slowup) [--count <n>]\n"
	"        [--method <method>] [--rate <bytes-per-second>] [--log <file>]",
	NULL
};

enum fault_mode {
	MODE_PASS,
	MODE_CUT,
	MODE_STATUS503,
	MODE_CORRUPT,
	MODE_STALL,
	MODE_STATUS500,
	MODE_RESET,
	MODE_TRICKLE,
	MODE_ENDLESS,
	MODE_SILENT,
	MODE_SLOWUP,
};

static const char *mode_names[] = {
	[MODE_PASS] = "pass",
	[MODE_CUT] = "cut",
	[MODE_STATUS503] = "status503",
	[MODE_CORRUPT] = "corrupt",
	[MODE_STALL] = "stall",
	[MODE_STATUS500] = "status500",
	[MODE_RESET] = "reset",
	[MODE_TRICKLE] = "trickle",
	[MODE_ENDLESS] = "endless",
	[MODE_SILENT] = "silent",
	[MODE_SLOWUP] = "slowup",
};

/* Set once by cmd_fault_proxy(), read by every child. */
static struct {
	enum fault_mode mode;
	long count;
	int upstream_port;
	int log_fd;
	char *counter_path;
	const char *method; /* only requests with this method, or NULL */
	long rate;          /* slowup's bytes a second */
} cfg = { .log_fd = -1 };

/*
 * A read buffer on a socket. Reads wait at most IO_TIMEOUT_MS. The buffer
 * is also the cap on a header block, so it is exactly HEAD_MAX.
 */
struct rbuf {
	int fd;
	size_t start, end;
	char buf[HEAD_MAX];
};

enum fill_result {
	FILL_ERROR = -1,
	FILL_EOF = 0,
	FILL_DATA = 1,
	FILL_WATCH = 2,		/* the watched descriptor spoke first */
};

/*
 * Read more into `rb`, after moving what is buffered to the front. When
 * `watch_fd` is not negative, wait on it as well and report FILL_WATCH if
 * it becomes readable (or hangs up) before `rb->fd` does.
 */
static enum fill_result rbuf_fill(struct rbuf *rb, int watch_fd)
{
	struct pollfd pfd[2];
	int nfds = 1, r;
	ssize_t n;

	if (rb->start) {
		memmove(rb->buf, rb->buf + rb->start, rb->end - rb->start);
		rb->end -= rb->start;
		rb->start = 0;
	}
	if (rb->end == sizeof(rb->buf)) {
		errno = EMSGSIZE;
		return FILL_ERROR;
	}
	pfd[0].fd = rb->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = watch_fd;
	pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	if (watch_fd >= 0)
		nfds = 2;
	do {
		r = poll(pfd, nfds, IO_TIMEOUT_MS);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return FILL_ERROR;
	if (!r) {
		errno = ETIMEDOUT;
		return FILL_ERROR;
	}
	if (nfds == 2 && pfd[1].revents)
		return FILL_WATCH;
	n = xread(rb->fd, rb->buf + rb->end, sizeof(rb->buf) - rb->end);
	if (n < 0)
		return FILL_ERROR;
	if (!n)
		return FILL_EOF;
	rb->end += n;
	return FILL_DATA;
}

/* Length of the header block at the front of `rb` with its blank line. */
static size_t head_end(const struct rbuf *rb)
{
	const char *p = rb->buf + rb->start, *end = rb->buf + rb->end;

	while ((p = memchr(p, '\n', end - p))) {
		p++;
		if (p < end && *p == '\n')
			return p + 1 - (rb->buf + rb->start);
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return p + 2 - (rb->buf + rb->start);
	}
	return 0;
}

/*
 * Take a header block off `rb` into `*out` (NUL-terminated, caller frees).
 * Returns 1, 0 at end of file before any byte, -1 on an error or end of
 * file inside the block, -2 when the block exceeds HEAD_MAX.
 */
static int rbuf_read_head(struct rbuf *rb, char **out)
{
	size_t len;

	while (!(len = head_end(rb))) {
		if (rb->end - rb->start == sizeof(rb->buf))
			return -2;
		switch (rbuf_fill(rb, -1)) {
		case FILL_DATA:
			break;
		case FILL_EOF:
			return rb->end == rb->start ? 0 : -1;
		default:
			return -1;
		}
	}
	*out = xstrndup(rb->buf + rb->start, len);
	rb->start += len;
	return 1;
}

/*
 * Make sure a whole line (up to LINE_MAX_CHUNKED) is buffered and say how
 * long it is, without consuming it. Returns FILL_DATA, FILL_WATCH or
 * FILL_ERROR (end of file counts as an error: the body is incomplete).
 */
static enum fill_result rbuf_peek_line(struct rbuf *rb, int watch_fd,
				       size_t *len)
{
	for (;;) {
		char *nl = memchr(rb->buf + rb->start, '\n',
				  rb->end - rb->start);
		enum fill_result r;

		if (nl) {
			*len = nl + 1 - (rb->buf + rb->start);
			return FILL_DATA;
		}
		if (rb->end - rb->start >= LINE_MAX_CHUNKED) {
			errno = EMSGSIZE;
			return FILL_ERROR;
		}
		r = rbuf_fill(rb, watch_fd);
		if (r == FILL_EOF) {
			errno = EPIPE;
			return FILL_ERROR;
		}
		if (r != FILL_DATA)
			return r;
	}
}

struct header {
	const char *name;
	const char *value;
};

/*
 * A parsed header block. `buf` owns the text; `start_line` and the
 * headers point into it.
 */
struct http_head {
	char *buf;
	char *start_line;
	struct header *hdr;
	size_t nr, alloc;
};

#define HTTP_HEAD_INIT { 0 }

static void http_head_release(struct http_head *h)
{
	free(h->buf);
	free(h->hdr);
	memset(h, 0, sizeof(*h));
}

static char *trim_ows(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Split the block `buf` (handed over to `h`) into lines and headers. */
static int http_head_parse(struct http_head *h, char *buf)
{
	char *line = buf, *nl;

	h->buf = buf;
	while ((nl = strchr(line, '\n'))) {
		char *colon, *p;

		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!h->start_line) {
			h->start_line = line;
		} else if (!*line) {
			return 0;
		} else {
			if (*line == ' ' || *line == '\t')
				return -1; /* obsolete line folding */
			colon = strchr(line, ':');
			if (!colon || colon == line)
				return -1;
			*colon = '\0';
			for (p = line; *p; p++)
				if (*p <= ' ' || *p >= 127)
					return -1;
			ALLOC_GROW(h->hdr, h->nr + 1, h->alloc);
			h->hdr[h->nr].name = line;
			h->hdr[h->nr].value = trim_ows(colon + 1);
			h->nr++;
		}
		line = nl + 1;
	}
	return -1;
}

static const char *http_head_get(const struct http_head *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nr; i++)
		if (!strcasecmp(h->hdr[i].name, name))
			return h->hdr[i].value;
	return NULL;
}

/* Does any `name` header list `token` (comma-separated, any case)? */
static int http_head_has_token(const struct http_head *h, const char *name,
			       const char *token)
{
	size_t i, tlen = strlen(token);

	for (i = 0; i < h->nr; i++) {
		const char *p = h->hdr[i].value;

		if (strcasecmp(h->hdr[i].name, name))
			continue;
		while (*p) {
			size_t n;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			n = strcspn(p, ", \t");
			if (n == tlen && !strncasecmp(p, token, n))
				return 1;
			p += n;
		}
	}
	return 0;
}

/*
 * Send `start_line` and the headers of `h` to `fd`, leaving out Connection
 * (and Keep-Alive too when `drop_keep_alive`), then `extra` and the blank
 * line.
 */
static int send_head(int fd, const char *start_line,
		     const struct http_head *h, int drop_keep_alive,
		     const char *extra)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int ret = 0;

	strbuf_addf(&sb, "%s\r\n", start_line);
	for (i = 0; i < h->nr; i++) {
		if (!strcasecmp(h->hdr[i].name, "connection") ||
		    (drop_keep_alive &&
		     !strcasecmp(h->hdr[i].name, "keep-alive")))
			continue;
		strbuf_addf(&sb, "%s: %s\r\n", h->hdr[i].name,
			    h->hdr[i].value);
	}
	strbuf_addf(&sb, "%s\r\n", extra);
	if (write_in_full(fd, sb.buf, sb.len) < 0)
		ret = -1;
	strbuf_release(&sb);
	return ret;
}

enum body_kind {
	BODY_NONE,
	BODY_LENGTH,
	BODY_CHUNKED,
	BODY_CLOSE,	/* ends when the sender closes */
};

enum chunk_phase {
	CHUNK_SIZE,
	CHUNK_DATA,
	CHUNK_DATA_END,
	CHUNK_TRAILER,
};

/* Where we are in relaying a body; resumable after RELAY_WATCH. */
struct body {
	enum body_kind kind;
	enum chunk_phase phase;
	uint64_t left;		/* in the body (LENGTH) or the chunk */
	uint64_t offset;	/* payload bytes relayed so far */
};

/* What to do to a response body. */
struct fault {
	enum fault_mode mode;	/* MODE_PASS for none */
	uint64_t limit;		/* payload bytes to relay, then stop */
	uint64_t start_us;	/* slowup: when the body began */
};

#define FAULT_NONE { MODE_PASS, UINT64_MAX, 0 }

enum relay_result {
	RELAY_ERROR = -1,
	RELAY_DONE = 0,
	RELAY_LIMIT = 1,	/* stopped at fault->limit */
	RELAY_WATCH = 2,	/* the watched descriptor spoke; call again */
};

static int parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Parse the size at the start of a chunk-size line (extensions allowed). */
static int parse_chunk_size(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		int d;

		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX >> 4))
			return -1;
		v = (v << 4) | d;
	}
	if (!i || (i < len && !strchr(";\r\n \t", p[i])))
		return -1;
	*out = v;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep until `bytes` since `start_us` are no faster than cfg.rate. */
static void pace(uint64_t start_us, uint64_t bytes)
{
	uint64_t due = start_us + bytes * 1000000 / cfg.rate, now = now_us();

	if (due > now)
		poll(NULL, 0, (int)((due - now + 999) / 1000));
}

/*
 * Relay up to `left` payload bytes from `in` to `out`, applying `f`.
 * `*left` is reduced by what was relayed.
 */
static enum relay_result relay_data(struct rbuf *in, int out, struct body *b,
				    uint64_t *left, const struct fault *f,
				    int watch_fd, int eof_ends)
{
	while (*left) {
		size_t n = in->end - in->start, i;
		char *p;

		if (b->offset >= f->limit)
			return RELAY_LIMIT;
		if (!n) {
			enum fill_result r = rbuf_fill(in, watch_fd);

			if (r == FILL_WATCH)
				return RELAY_WATCH;
			if (r == FILL_EOF && eof_ends)
				return f->limit == UINT64_MAX ? RELAY_DONE :
								RELAY_LIMIT;
			if (r != FILL_DATA)
				return RELAY_ERROR;
			continue;
		}
		if (n > *left)
			n = *left;
		if (n > f->limit - b->offset)
			n = f->limit - b->offset;
		p = in->buf + in->start;
		if (f->mode == MODE_CORRUPT)
			for (i = (4096 - b->offset % 4096) % 4096; i < n;
			     i += 4096)
				p[i] ^= 0xff;
		if (f->mode == MODE_TRICKLE && n > TRICKLE_BYTES)
			n = TRICKLE_BYTES;
		if (f->mode == MODE_SLOWUP && n > SLOWUP_BYTES)
			n = SLOWUP_BYTES;
		if (write_in_full(out, p, n) < 0)
			return RELAY_ERROR;
		in->start += n;
		*left -= n;
		b->offset += n;
		if (f->mode == MODE_TRICKLE)
			poll(NULL, 0, TRICKLE_MS);
		if (f->mode == MODE_SLOWUP)
			pace(f->start_us, b->offset);
	}
	return RELAY_DONE;
}

/*
 * Relay the body `b` from `in` to `out`, framing and all. A fault with a
 * limit never lets the end of a body through, so the receiver cannot
 * mistake a shortened body for a whole one.
 */
static enum relay_result relay_body(struct rbuf *in, int out, struct body *b,
				    const struct fault *f, int watch_fd)
{
	uint64_t unbounded = UINT64_MAX;
	enum relay_result rr;

	switch (b->kind) {
	case BODY_NONE:
		return RELAY_DONE;
	case BODY_LENGTH:
		return relay_data(in, out, b, &b->left, f, watch_fd, 0);
	case BODY_CLOSE:
		return relay_data(in, out, b, &unbounded, f, watch_fd, 1);
	case BODY_CHUNKED:
		break;
	}
	for (;;) {
		enum fill_result r;
		enum chunk_phase next;
		size_t len;
		const char *line;
		int blank;

		if (b->phase == CHUNK_DATA) {
			rr = relay_data(in, out, b, &b->left, f, watch_fd, 0);
			if (rr != RELAY_DONE)
				return rr;
			b->phase = CHUNK_DATA_END;
			continue;
		}
		r = rbuf_peek_line(in, watch_fd, &len);
		if (r == FILL_WATCH)
			return RELAY_WATCH;
		if (r != FILL_DATA)
			return RELAY_ERROR;
		line = in->buf + in->start;
		blank = len == 1 || (len == 2 && line[0] == '\r');
		switch (b->phase) {
		case CHUNK_SIZE:
			if (parse_chunk_size(line, len, &b->left) < 0)
				return RELAY_ERROR;
			if (f->limit != UINT64_MAX &&
			    (!b->left || b->offset >= f->limit))
				return RELAY_LIMIT;
			next = b->left ? CHUNK_DATA : CHUNK_TRAILER;
			break;
		case CHUNK_DATA_END:
			if (!blank)
				return RELAY_ERROR;
			next = CHUNK_SIZE;
			break;
		case CHUNK_TRAILER:
			next = CHUNK_TRAILER;
			break;
		default:
			BUG("bad chunk phase %d", b->phase);
		}
		if (write_in_full(out, line, len) < 0)
			return RELAY_ERROR;
		in->start += len;
		/* the blank line after the last chunk and its trailers */
		if (b->phase == CHUNK_TRAILER && blank)
			return RELAY_DONE;
		b->phase = next;
	}
}

static long counter_bump(void)
{
	char buf[32];
	ssize_t n;
	long v = 0;
	int len, fd = open(cfg.counter_path, O_RDWR | O_CREAT, 0666);

	if (fd < 0)
		return error_errno("cannot open '%s'", cfg.counter_path);
	if (flock(fd, LOCK_EX) < 0) {
		error_errno("cannot lock '%s'", cfg.counter_path);
		goto fail;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		error_errno("cannot read '%s'", cfg.counter_path);
		goto fail;
	}
	buf[n] = '\0';
	v = strtol(buf, NULL, 10) + 1;
	len = xsnprintf(buf, sizeof(buf), "%ld\n", v);
	if (pwrite(fd, buf, len, 0) != len || ftruncate(fd, len) < 0) {
		error_errno("cannot write '%s'", cfg.counter_path);
		goto fail;
	}
	close(fd); /* drops the lock */
	return v;
fail:
	close(fd);
	return -1;
}

/* Is `method` one of --method's (a comma-separated list)? */
static int method_listed(const char *method)
{
	size_t len = strlen(method);
	const char *p = cfg.method;

	while (p) {
		if (!strncmp(p, method, len) && (p[len] == ',' || !p[len]))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/*
 * Is this request one of the first N candidates for a fault? Only
 * requests with --method's methods are candidates, when it was given.
 */
static int take_fault(const char *method)
{
	long n;

	if (cfg.method && !method_listed(method))
		return 0;
	n = counter_bump();

	return n > 0 && n <= cfg.count;
}

static void log_request(const char *method, const char *target, int status,
			const char *range, const char *fault)
{
	struct strbuf sb = STRBUF_INIT;

	if (cfg.log_fd < 0)
		return;
	strbuf_addf(&sb, "%s %s %d range=%s fault=%s\n", method, target,
		    status, range ? range : "-", fault);
	/* one write(2) on an O_APPEND file: lines from children don't mix */
	if (write_in_full(cfg.log_fd, sb.buf, sb.len) < 0)
		error_errno("cannot write log");
	strbuf_release(&sb);
}

static int send_simple(int fd, int status, const char *reason,
		       const char *extra, int with_body, int keep)
{
	struct strbuf sb = STRBUF_INIT, body = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&body, "fault-proxy: %d %s\n", status, reason);
	strbuf_addf(&sb,
		    "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n"
		    "%s%s\r\n",
		    status, reason, body.len, extra,
		    keep ? "" : "Connection: close\r\n");
	if (with_body)
		strbuf_add(&sb, body.buf, body.len);
	if (write_in_full(fd, sb.buf, sb.len) < 0)
		ret = -1;
	strbuf_release(&sb);
	strbuf_release(&body);
	return ret;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_upstream(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return error_errno("cannot create socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(cfg.upstream_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error_errno("cannot connect to upstream 127.0.0.1:%d",
			    cfg.upstream_port);
		return close_quietly(fd);
	}
	set_timeouts(fd);
	return fd;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * Read and throw away what `fd` sends until it closes or `ms` pass. Used
 * to stall, and to close without a reset that could destroy a response
 * the client has not read yet.
 */
static void drain(int fd, long ms)
{
	struct timespec start;
	char buf[8192];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = ms - elapsed_ms(&start);
		int r;

		if (left <= 0)
			return;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || xread(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

static int request_line_ok(char *line, const char **method,
			   const char **target, const char **version)
{
	char *sp1 = strchr(line, ' '), *sp2;

	if (!sp1 || sp1 == line)
		return 0;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
		return 0;
	*sp1 = *sp2 = '\0';
	*method = line;
	*target = sp1 + 1;
	*version = sp2 + 1;
	return !strcmp(*version, "HTTP/1.1") || !strcmp(*version, "HTTP/1.0");
}

/* "HTTP/1.x NNN reason" */
static int parse_status_line(const char *line, int *status)
{
	const char *p = line + 9;

	if (strncmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ' || p[0] < '1' || p[0] > '5' ||
	    p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    (p[3] && p[3] != ' '))
		return -1;
	*status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return 0;
}

/* Work out how a request or response body is delimited. */
static int body_framing(const struct http_head *h, struct body *b,
			int is_request)
{
	const char *cl = NULL;
	size_t i;

	memset(b, 0, sizeof(*b));
	if (http_head_get(h, "transfer-encoding")) {
		if (http_head_has_token(h, "transfer-encoding", "chunked"))
			b->kind = BODY_CHUNKED;
		else if (is_request)
			return -1;
		else
			b->kind = BODY_CLOSE;
		return 0;
	}
	for (i = 0; i < h->nr; i++) {
		if (strcasecmp(h->hdr[i].name, "content-length"))
			continue;
		if (cl && strcmp(cl, h->hdr[i].value))
			return -1;
		cl = h->hdr[i].value;
	}
	if (cl) {
		if (parse_length(cl, &b->left) < 0)
			return -1;
		b->kind = b->left ? BODY_LENGTH : BODY_NONE;
		return 0;
	}
	b->kind = is_request ? BODY_NONE : BODY_CLOSE;
	return 0;
}

static uint64_t fault_limit(enum fault_mode mode, const struct body *b)
{
	int known = b->kind == BODY_LENGTH || b->kind == BODY_NONE;

	switch (mode) {
	case MODE_CUT:
	case MODE_RESET:
		return known ? b->left / 2 : CUT_UNKNOWN_BYTES;
	case MODE_STALL:
		if (!known)
			return STALL_BYTES;
		return b->left > STALL_BYTES ? STALL_BYTES : b->left / 2;
	default:
		return UINT64_MAX;
	}
}

/*
 * Serve one request from the client connection `cl`. Returns 1 when the
 * connection can carry another request, 0 when it must be closed.
 */
static int serve_request(struct rbuf *cl)
{
	struct http_head req = HTTP_HEAD_INIT, resp = HTTP_HEAD_INIT;
	struct fault fault = FAULT_NONE, req_fault = FAULT_NONE;
	struct body reqb, respb;
	struct rbuf *up = NULL;
	struct strbuf line = STRBUF_INIT;
	const char *method = "-", *target = "-", *version, *range = NULL;
	const char *fault_name = "none";
	char *raw = NULL;
	int upfd = -1, keep = 0, client_keep, status, r;
	enum relay_result rr = RELAY_DONE;

	r = rbuf_read_head(cl, &raw);
	if (r == 0 || r == -1)
		goto out;
	if (r == -2) {
		log_request(method, target, 431, NULL, fault_name);
		send_simple(cl->fd, 431, "Request Header Fields Too Large",
			    "", 1, 0);
		goto out;
	}
	if (http_head_parse(&req, raw) < 0 ||
	    !request_line_ok(req.start_line, &method, &target, &version) ||
	    body_framing(&req, &reqb, 1) < 0) {
		log_request(method, target, 400, NULL, fault_name);
		send_simple(cl->fd, 400, "Bad Request", "", 1, 0);
		goto out;
	}
	range = http_head_get(&req, "range");
	client_keep = !strcmp(version, "HTTP/1.1") &&
		      !http_head_has_token(&req, "connection", "close");

	if (cfg.mode == MODE_STATUS503 && take_fault(method)) {
		keep = client_keep && reqb.kind == BODY_NONE;
		log_request(method, target, 503, range, "status503");
		if (send_simple(cl->fd, 503, "Service Unavailable",
				"Retry-After: 1\r\n", strcmp(method, "HEAD"),
				keep) < 0)
			keep = 0;
		goto out;
	}
	if (cfg.mode == MODE_SILENT && take_fault(method)) {
		log_request(method, target, 0, range, "silent");
		drain(cl->fd, STALL_SECONDS * 1000L);
		goto out;
	}
	if (cfg.mode == MODE_STATUS500 && take_fault(method)) {
		/* a request body we did not read: the connection must go */
		keep = client_keep && reqb.kind == BODY_NONE;
		log_request(method, target, 500, range, "status500");
		if (send_simple(cl->fd, 500, "Internal Server Error", "",
				strcmp(method, "HEAD"), keep) < 0)
			keep = 0;
		goto out;
	}

	if (cfg.mode == MODE_ENDLESS && !strcmp(method, "GET") &&
	    take_fault(method)) {
		static const char head[] = "HTTP/1.1 200 OK\r\n"
					   "Content-Type: application/octet-stream\r\n"
					   "Connection: close\r\n\r\n";
		static char zeros[65536];

		log_request(method, target, 200, range, "endless");
		if (write_in_full(cl->fd, head, sizeof(head) - 1) < 0)
			goto out;
		while (write_in_full(cl->fd, zeros, sizeof(zeros)) >= 0)
			;
		goto out;
	}

	upfd = connect_upstream();
	strbuf_addf(&line, "%s %s %s", method, target, version);
	if (upfd < 0 ||
	    send_head(upfd, line.buf, &req, 0, "Connection: close\r\n") < 0) {
		log_request(method, target, 502, range, fault_name);
		send_simple(cl->fd, 502, "Bad Gateway", "", 1, 0);
		goto out;
	}

	if (cfg.mode == MODE_CORRUPT && cfg.method &&
	    strcmp(cfg.method, "GET") && reqb.kind != BODY_NONE &&
	    take_fault(method)) {
		req_fault.mode = MODE_CORRUPT;
		fault_name = mode_names[MODE_CORRUPT];
	}
	if (cfg.mode == MODE_SLOWUP && reqb.kind != BODY_NONE &&
	    take_fault(method)) {
		req_fault.mode = MODE_SLOWUP;
		req_fault.start_us = now_us();
		fault_name = mode_names[MODE_SLOWUP];
	}
	up = xcalloc(1, sizeof(*up));
	up->fd = upfd;
	for (;;) {
		/*
		 * Stream the request body until upstream answers: that is
		 * "100 Continue" for a client that sent "Expect:", or an early
		 * final response such as 413.
		 */
		if (reqb.kind != BODY_NONE) {
			rr = relay_body(cl, upfd, &reqb, &req_fault, upfd);
			if (rr == RELAY_DONE)
				reqb.kind = BODY_NONE;
			else if (rr != RELAY_WATCH)
				goto out;
		}
		http_head_release(&resp);
		raw = NULL;
		r = rbuf_read_head(up, &raw);
		if (r == 1 && http_head_parse(&resp, raw) < 0)
			r = -1;
		else if (r != 1)
			free(raw);
		if (r == 1 && parse_status_line(resp.start_line, &status) < 0)
			r = -1;
		if (r != 1) {
			error("bad response from upstream for '%s %s'",
			      method, target);
			log_request(method, target, 502, range, fault_name);
			send_simple(cl->fd, 502, "Bad Gateway", "", 1, 0);
			goto out;
		}
		if (status < 100 || status > 199)
			break;
		if (status == 101) {
			log_request(method, target, 502, range, fault_name);
			send_simple(cl->fd, 502, "Bad Gateway", "", 1, 0);
			goto out;
		}
		if (!strcmp(version, "HTTP/1.1") &&
		    send_head(cl->fd, resp.start_line, &resp, 0, "") < 0)
			goto out;
	}

	if (!strcmp(method, "HEAD") || status == 204 || status == 304)
		memset(&respb, 0, sizeof(respb));
	else if (body_framing(&resp, &respb, 0) < 0) {
		log_request(method, target, 502, range, fault_name);
		send_simple(cl->fd, 502, "Bad Gateway", "", 1, 0);
		goto out;
	}

	if ((cfg.mode == MODE_CUT || cfg.mode == MODE_CORRUPT ||
	     cfg.mode == MODE_STALL || cfg.mode == MODE_RESET ||
	     cfg.mode == MODE_TRICKLE) &&
	    !strcmp(method, "GET") && (status == 200 || status == 206) &&
	    take_fault(method)) {
		fault.mode = cfg.mode;
		fault.limit = fault_limit(cfg.mode, &respb);
		fault_name = mode_names[cfg.mode];
	}

	keep = client_keep && reqb.kind == BODY_NONE &&
	       respb.kind != BODY_CLOSE && fault.limit == UINT64_MAX;
	log_request(method, target, status, range, fault_name);
	/* a cut or stalled response keeps its headers as they were */
	if (send_head(cl->fd, resp.start_line, &resp, 1,
		      keep || fault.limit != UINT64_MAX ?
		      "" : "Connection: close\r\n") < 0) {
		keep = 0;
		goto out;
	}
	rr = relay_body(up, cl->fd, &respb, &fault, -1);
	if (rr != RELAY_DONE)
		keep = 0;
	if (rr == RELAY_LIMIT && fault.mode == MODE_STALL) {
		close(upfd);
		upfd = -1;
		drain(cl->fd, STALL_SECONDS * 1000L);
	}
	if (rr == RELAY_LIMIT && fault.mode == MODE_RESET) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		/* close() now sends RST instead of FIN */
		setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(cl->fd);
		cl->fd = -1;
	}

out:
	close_quietly(upfd);
	free(up);
	strbuf_release(&line);
	http_head_release(&req);
	http_head_release(&resp);
	return keep;
}

static void serve_client(int fd)
{
	struct rbuf *cl = xcalloc(1, sizeof(*cl));

	cl->fd = fd;
	set_timeouts(fd);
	while (serve_request(cl))
		;
	if (cl->fd >= 0) { /* not reset by a fault */
		shutdown(fd, SHUT_WR);
		drain(fd, LINGER_MS);
		close(fd);
	}
	free(cl);
}

static void reap_children(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return error_errno("cannot create socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* accepted sockets inherit it; the window is set before listen() */
	if (cfg.mode == MODE_SLOWUP) {
		int rcvbuf = SLOWUP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			       sizeof(rcvbuf)) < 0) {
			error_errno("cannot set the receive buffer");
			return close_quietly(fd);
		}
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		error_errno("cannot listen on 127.0.0.1");
		return close_quietly(fd);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Write `content` to `path` so that readers see all of it or no file. */
static int write_port_file(const char *path, const char *content)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, ret = -1;

	strbuf_addf(&tmp, "%s.tmp%d", path, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		goto cleanup;
	}
	if (write_in_full(fd, content, strlen(content)) < 0 || close(fd) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		goto cleanup;
	}
	if (rename(tmp.buf, path) < 0) {
		error_errno("cannot rename '%s' to '%s'", tmp.buf, path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}

static long parse_number(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		die("bad value '%s' for %s (want %ld..%ld)", arg, opt, min,
		    max);
	return v;
}

/* argv[0] is the subcommand name, as git passes it to cmd_*(). */
int cmd_fault_proxy(int argc, const char **argv)
{
	const char *port_file = NULL, *mode = NULL, *log_file = NULL;
	const char *upstream = NULL, *count = NULL, *rate = NULL;
	const struct option options[] = {
		OPT_STRING(0, "port-file", &port_file, "<file>",
			   "write the port listened on to <file>"),
		OPT_STRING(0, "upstream", &upstream, "<port>",
			   "forward to 127.0.0.1:<port>"),
		OPT_STRING(0, "mode", &mode, "<mode>", "the fault to inject"),
		OPT_STRING(0, "count", &count, "<n>",
			   "inject it into the first <n> requests (default 1)"),
		OPT_STRING(0, "method", &cfg.method, "<method>",
			   "only into requests of <method> (corrupt: into "
			   "their bodies, unless <method> is GET)"),
		OPT_STRING(0, "rate", &rate, "<bytes-per-second>",
			   "slowup's rate (default 1048576)"),
		OPT_STRING(0, "log", &log_file, "<file>",
			   "append a line per request to <file>"),
		OPT_END(),
	};
	struct sigaction sa;
	struct strbuf sb = STRBUF_INIT;
	pid_t parent = getpid();
	int i, lfd, port = 0, nullfd;
	size_t m;

	if (parse_options(argc, argv, options, fault_proxy_usage, 0))
		usage_msg_opt("too many arguments", fault_proxy_usage, options);
	if (!port_file || !mode || !upstream)
		usage_msg_opt("--port-file, --upstream and --mode are needed",
			      fault_proxy_usage, options);
	cfg.upstream_port = parse_number("--upstream", upstream, 1, 65535);
	cfg.count = count ? parse_number("--count", count, 0, 1000000000) : 1;
	cfg.rate = rate ? parse_number("--rate", rate, 1, 1L << 40) : 1048576;
	for (m = 0; m < ARRAY_SIZE(mode_names); m++)
		if (!strcmp(mode, mode_names[m]))
			break;
	if (m == ARRAY_SIZE(mode_names))
		die("unknown mode '%s' (want pass, cut, status503, corrupt, "
		    "stall, status500, reset, trickle, endless, silent or slowup)",
		    mode);
	cfg.mode = m;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = reap_children;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	if (log_file) {
		cfg.log_fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND,
				  0666);
		if (cfg.log_fd < 0)
			die_errno("cannot open log '%s'", log_file);
	}
	strbuf_addf(&sb, "%s.count", port_file);
	cfg.counter_path = strbuf_detach(&sb, NULL);
	i = open(cfg.counter_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (i < 0)
		die_errno("cannot create '%s'", cfg.counter_path);
	close(i);

	lfd = listen_loopback(&port);
	if (lfd < 0)
		exit(1);
	strbuf_addf(&sb, "%d\n", port);
	if (write_port_file(port_file, sb.buf) < 0)
		exit(1);
	strbuf_release(&sb);

	/* we run in the background: hold no test's stdin or stdout open */
	nullfd = open("/dev/null", O_RDWR);
	if (nullfd >= 0) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		if (nullfd > 2)
			close(nullfd);
	}

	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				sleep(1);
				continue;
			}
			die_errno("accept failed");
		}
		pid = fork();
		if (pid < 0) {
			error_errno("cannot fork");
			close(cfd);
			continue;
		}
		if (!pid) {
			sa.sa_handler = SIG_DFL;
			sa.sa_flags = 0;
			sigaction(SIGCHLD, &sa, NULL);
#ifdef __linux__
			/* die with the proxy, even in the middle of a stall */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				exit(0);
#endif
			close(lfd);
			serve_client(cfd);
			exit(0);
		}
		close(cfd);
	}
}
