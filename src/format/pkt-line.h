#ifndef PKT_LINE_H
#define PKT_LINE_H

/*
 * pkt-line framing, as git's long-running filter protocol uses it
 * (gitprotocol-common(5)): four hex digits giving the packet's length
 * including themselves, then the payload. "0000" is a flush packet. The
 * lengths 0001-0003 and anything over 65520 are invalid here.
 *
 * The reader keeps one packet in its own buffer; nothing is ever read past
 * the current packet, so the fd can be handed to other code between
 * packets. The writer batches packets into one buffer of at most
 * PKT_WRITE_BATCH bytes and writes it with one write(), so a large smudge
 * costs few system calls while memory stays bounded.
 */

#include <stddef.h>

#include "strbuf.h"

#define LARGE_PACKET_MAX 65520
#define LARGE_PACKET_DATA_MAX (LARGE_PACKET_MAX - 4)
#define PKT_WRITE_BATCH (1024 * 1024)

enum pkt_status {
	PKT_ERROR = -1, /* reported with error() */
	PKT_EOF = 0,    /* end of file at a packet boundary */
	PKT_DATA,
	PKT_FLUSH,
};

struct pkt_reader {
	int fd;
	size_t len;                      /* payload length of the last packet */
	char buf[LARGE_PACKET_MAX + 1];  /* payload, NUL-terminated */
};

void pkt_reader_init(struct pkt_reader *r, int fd);

/* Read one packet. A stream cut inside a packet is PKT_ERROR. */
enum pkt_status pkt_read(struct pkt_reader *r);

/*
 * The same in two steps, for a payload that goes straight to the caller's
 * buffer: pkt_read_header() checks the length and gives the payload's in
 * `*len` (r->buf is left empty); pkt_read_payload() then reads exactly
 * those `len` bytes into `dst`. Same errors and statuses as pkt_read().
 */
enum pkt_status pkt_read_header(struct pkt_reader *r, size_t *len);
enum pkt_status pkt_read_payload(struct pkt_reader *r, char *dst, size_t len);

/*
 * Read one packet holding a text line: the trailing LF, if any, is removed
 * and the line is NUL-terminated in r->buf. A line with a NUL inside is
 * PKT_ERROR.
 */
enum pkt_status pkt_read_line(struct pkt_reader *r);

struct pkt_writer {
	int fd;
	struct strbuf buf;
};

#define PKT_WRITER_INIT(out_fd) { .fd = (out_fd), .buf = STRBUF_INIT }

void pkt_writer_init(struct pkt_writer *w, int fd);
void pkt_writer_release(struct pkt_writer *w);

/* Queue `len` bytes of content, split into as many packets as needed. */
int pkt_write_data(struct pkt_writer *w, const void *data, size_t len);

/* Queue one text packet: the formatted line plus LF. */
int pkt_write_linef(struct pkt_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queue a flush packet and write everything queued. */
int pkt_write_flush(struct pkt_writer *w);
/*
 * Queue a flush packet only: for a response that goes on, so that all of
 * it reaches git in one write() (each write wakes git up).
 */
void pkt_queue_flush(struct pkt_writer *w);

/* Write everything queued. Returns 0 or -1 (reported). */
int pkt_writer_push(struct pkt_writer *w);

#endif
