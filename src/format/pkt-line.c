#include "pkt-line.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

void pkt_reader_init(struct pkt_reader *r, int fd)
{
	r->fd = fd;
	r->len = 0;
	r->buf[0] = '\0';
}

enum pkt_status pkt_read_header(struct pkt_reader *r, size_t *len_out)
{
	char hdr[4];
	ssize_t n;
	int len = 0, i;

	r->len = 0;
	r->buf[0] = '\0';
	n = read_in_full(r->fd, hdr, 4);
	if (n < 0)
		return error_errno("cannot read packet header");
	if (n == 0)
		return PKT_EOF;
	if (n < 4)
		return error("protocol error: stream ends inside a packet "
			     "header");
	for (i = 0; i < 4; i++) {
		int v = hexval((unsigned char)hdr[i]);

		if (v < 0)
			return error("protocol error: bad packet length "
				     "'%.4s'", hdr);
		len = len * 16 + v;
	}
	if (len == 0)
		return PKT_FLUSH;
	if (len < 4)
		return error("protocol error: packet length %04x is reserved "
			     "and not used by the filter protocol", len);
	if (len > LARGE_PACKET_MAX)
		return error("protocol error: packet length %d exceeds %d",
			     len, LARGE_PACKET_MAX);
	*len_out = len - 4;
	return PKT_DATA;
}

enum pkt_status pkt_read_payload(struct pkt_reader *r, char *dst, size_t len)
{
	ssize_t n = read_in_full(r->fd, dst, len);

	if (n < 0)
		return error_errno("cannot read packet");
	if ((size_t)n < len)
		return error("protocol error: stream ends inside a packet "
			     "(%zd of %zu bytes)", n, len);
	return PKT_DATA;
}

enum pkt_status pkt_read(struct pkt_reader *r)
{
	size_t len = 0;
	enum pkt_status st = pkt_read_header(r, &len);

	if (st != PKT_DATA)
		return st;
	st = pkt_read_payload(r, r->buf, len);
	if (st != PKT_DATA)
		return st;
	r->buf[len] = '\0';
	r->len = len;
	return PKT_DATA;
}

enum pkt_status pkt_read_line(struct pkt_reader *r)
{
	enum pkt_status st = pkt_read(r);

	if (st != PKT_DATA)
		return st;
	if (r->len && r->buf[r->len - 1] == '\n')
		r->buf[--r->len] = '\0';
	if (memchr(r->buf, '\0', r->len))
		return error("protocol error: NUL byte in a text packet");
	return st;
}

void pkt_writer_init(struct pkt_writer *w, int fd)
{
	w->fd = fd;
	strbuf_init(&w->buf, 0);
}

void pkt_writer_release(struct pkt_writer *w)
{
	strbuf_release(&w->buf);
}

static void add_header(struct pkt_writer *w, size_t payload)
{
	char hdr[5];

	xsnprintf(hdr, sizeof(hdr), "%04zx", payload + 4);
	strbuf_add(&w->buf, hdr, 4);
}

int pkt_writer_push(struct pkt_writer *w)
{
	if (!w->buf.len)
		return 0;
	if (write_in_full(w->fd, w->buf.buf, w->buf.len) < 0) {
		strbuf_reset(&w->buf);
		return error_errno("cannot write to git");
	}
	strbuf_reset(&w->buf);
	return 0;
}

int pkt_write_data(struct pkt_writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		size_t n = len < LARGE_PACKET_DATA_MAX ? len :
							 LARGE_PACKET_DATA_MAX;

		if (w->buf.len + n + 4 > PKT_WRITE_BATCH &&
		    pkt_writer_push(w) < 0)
			return -1;
		add_header(w, n);
		strbuf_add(&w->buf, p, n);
		p += n;
		len -= n;
	}
	return 0;
}

int pkt_write_linef(struct pkt_writer *w, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	strbuf_addch(&line, '\n');
	if (line.len > LARGE_PACKET_DATA_MAX)
		BUG("text packet too long");
	ret = pkt_write_data(w, line.buf, line.len);
	strbuf_release(&line);
	return ret;
}

void pkt_queue_flush(struct pkt_writer *w)
{
	strbuf_add(&w->buf, "0000", 4);
}

int pkt_write_flush(struct pkt_writer *w)
{
	pkt_queue_flush(w);
	return pkt_writer_push(w);
}
