/*
 * Unit tests for pkt-line.c: framing, limits, hostile lengths, batching.
 * Packets are fed through a pipe, as git would send them.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkt-line.h"
#include "usage.h"
#include "wrapper.h"
#include "unit-test.h"

static struct pkt_reader reader;

/* A reader over `len` bytes of `data` (through a temp file: no size cap). */
static struct pkt_reader *reader_over(const char *data, size_t len)
{
	FILE *fp = tmpfile();
	int fd;

	if (!fp || fwrite(data, 1, len, fp) != len)
		exit(1);
	fflush(fp);
	fd = dup(fileno(fp));
	fclose(fp);
	lseek(fd, 0, SEEK_SET);
	if (reader.fd > 2)
		close(reader.fd);
	pkt_reader_init(&reader, fd);
	return &reader;
}

static struct pkt_reader *reader_str(const char *s)
{
	return reader_over(s, strlen(s));
}

static void test_read(void)
{
	struct pkt_reader *r;

	r = reader_str("0009hello0000");
	ok(pkt_read(r) == PKT_DATA && r->len == 5 && !memcmp(r->buf, "hello", 5),
	   "a data packet");
	ok(pkt_read(r) == PKT_FLUSH, "a flush packet");
	ok(pkt_read(r) == PKT_EOF, "end of file at a packet boundary");

	r = reader_str("000ahello\n");
	ok(pkt_read_line(r) == PKT_DATA && !strcmp(r->buf, "hello"),
	   "a text line loses its LF");

	r = reader_str("0004");
	ok(pkt_read(r) == PKT_DATA && r->len == 0, "an empty data packet");

	r = reader_str("000AHELLO\n");
	ok(pkt_read(r) == PKT_DATA && r->len == 6, "uppercase hex length");
}

static void test_hostile(void)
{
	static const char *const bad[] = {
		"0001", "0002", "0003", "fff1", "ffff", "00g0", "-001", "0 10",
	};
	char *big;
	size_t i;

	set_error_quiet(1);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ok(pkt_read(reader_str(bad[i])) == PKT_ERROR,
		   "length '%s' is rejected", bad[i]);
	ok(pkt_read(reader_str("00")) == PKT_ERROR, "stream cut in a header");
	ok(pkt_read(reader_str("0010abc")) == PKT_ERROR,
	   "stream cut in a payload");
	ok(pkt_read_line(reader_over("0007a\0b", 7)) == PKT_ERROR,
	   "NUL in a text line");

	/* The largest legal packet is fine. */
	big = xmalloc(LARGE_PACKET_MAX);
	memcpy(big, "fff0", 4);
	memset(big + 4, 'x', LARGE_PACKET_MAX - 4);
	ok(pkt_read(reader_over(big, LARGE_PACKET_MAX)) == PKT_DATA &&
		   reader.len == LARGE_PACKET_DATA_MAX,
	   "a packet of 65520 bytes is accepted");
	free(big);
	set_error_quiet(0);
}

/* Write through a pkt_writer into a temp file and read it back. */
static void test_write(void)
{
	FILE *fp = tmpfile();
	struct pkt_writer w;
	struct pkt_reader *r = &reader;
	size_t size = 3 * LARGE_PACKET_DATA_MAX + 10, got = 0;
	char *data = xmalloc(size);
	int packets = 0, fd;
	enum pkt_status st;
	size_t i;

	for (i = 0; i < size; i++)
		data[i] = (char)(i * 7);
	fd = fileno(fp);
	pkt_writer_init(&w, fd);
	ok(!pkt_write_linef(&w, "status=%s", "success"), "queue a line");
	ok(!pkt_write_flush(&w), "flush");
	ok(!pkt_write_data(&w, data, size), "queue data over several packets");
	ok(!pkt_write_flush(&w), "flush data");
	pkt_writer_release(&w);

	lseek(fd, 0, SEEK_SET);
	pkt_reader_init(r, fd);
	ok(pkt_read_line(r) == PKT_DATA && !strcmp(r->buf, "status=success"),
	   "the line reads back");
	ok(pkt_read(r) == PKT_FLUSH, "then a flush");
	while ((st = pkt_read(r)) == PKT_DATA) {
		if (got + r->len > size || memcmp(data + got, r->buf, r->len))
			break;
		ok(r->len <= LARGE_PACKET_DATA_MAX, "packet %d within the limit",
		   packets);
		got += r->len;
		packets++;
	}
	ok(st == PKT_FLUSH && got == size, "the data reads back whole");
	is_int(packets, 4, "split into the fewest packets");
	fclose(fp);
	free(data);
}

int main(void)
{
	test_read();
	test_hostile();
	test_write();
	return done_testing();
}
