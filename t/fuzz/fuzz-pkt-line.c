/*
 * Fuzz the pkt-line reader (src/format/pkt-line.h) on a stream of the input's
 * bytes, read once as packets and once as text lines. Invariants: a packet
 * is exactly what its header frames, NUL-terminated, never longer than
 * LARGE_PACKET_DATA_MAX; the reader never reads past the current packet
 * (the fd offset is at its end); end of file comes only at a packet
 * boundary; a text line has no NUL; and the writer frames what was read
 * back into the same bytes (lowercase hex), lines included.
 */

#include "fuzz.h"

#include <ctype.h>

#include "pkt-line.h"
#include "strbuf.h"
#include "usage.h"

static int header_len(const uint8_t *p)
{
	int i, len = 0;

	for (i = 0; i < 4; i++) {
		int c = tolower(p[i]);

		len = len * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
	}
	return len;
}

static void read_back(int fd, struct strbuf *out)
{
	off_t end = lseek(fd, 0, SEEK_CUR);

	fuzz_assert(end >= 0);
	strbuf_grow(out, end);
	fuzz_assert(pread(fd, out->buf, end, 0) == end);
	strbuf_setlen(out, end);
}

static void packets(const uint8_t *data, size_t size,
		    struct pkt_reader *r)
{
	int in = fuzz_memfd(data, size);
	int out = memfd_create("fuzz-output", MFD_CLOEXEC);
	struct pkt_writer w = PKT_WRITER_INIT(out);
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	enum pkt_status st;
	size_t off = 0;
	size_t i;

	fuzz_assert(out >= 0);
	pkt_reader_init(r, in);
	while ((st = pkt_read(r)) == PKT_DATA || st == PKT_FLUSH) {
		fuzz_assert(off + 4 <= size);
		if (st == PKT_FLUSH) {
			fuzz_assert(!memcmp(data + off, "0000", 4));
			fuzz_assert(!r->len);
			fuzz_assert(!pkt_write_flush(&w));
			strbuf_add(&want, "0000", 4);
			off += 4;
		} else {
			fuzz_assert(r->len <= LARGE_PACKET_DATA_MAX);
			fuzz_assert((size_t)header_len(data + off) == r->len + 4);
			fuzz_assert(off + 4 + r->len <= size);
			fuzz_assert(!memcmp(r->buf, data + off + 4, r->len));
			fuzz_assert(r->buf[r->len] == '\0');
			fuzz_assert(!pkt_write_data(&w, r->buf, r->len));
			/* an empty data packet is written as nothing */
			if (r->len) {
				for (i = 0; i < 4; i++)
					strbuf_addch(&want, tolower(data[off + i]));
				strbuf_add(&want, r->buf, r->len);
			}
			off += 4 + r->len;
		}
		fuzz_assert(lseek(in, 0, SEEK_CUR) == (off_t)off);
	}
	if (st == PKT_EOF)
		fuzz_assert(off == size);
	else
		fuzz_assert(st == PKT_ERROR && off < size);
	fuzz_assert(!pkt_writer_push(&w));
	read_back(out, &got);
	fuzz_assert(got.len == want.len);
	fuzz_assert(!memcmp(got.buf, want.buf, got.len));
	pkt_writer_release(&w);
	strbuf_release(&want);
	strbuf_release(&got);
	close(in);
	close(out);
}

static void lines(const uint8_t *data, size_t size, struct pkt_reader *r)
{
	int in = fuzz_memfd(data, size);
	int out = memfd_create("fuzz-output", MFD_CLOEXEC);
	struct pkt_writer w = PKT_WRITER_INIT(out);
	struct pkt_reader back;
	struct strbuf text = STRBUF_INIT;
	enum pkt_status st;
	size_t n = 0;

	fuzz_assert(out >= 0);
	pkt_reader_init(r, in);
	while ((st = pkt_read_line(r)) == PKT_DATA || st == PKT_FLUSH) {
		if (st == PKT_FLUSH)
			continue;
		fuzz_assert(strlen(r->buf) == r->len);
		/* a line written with pkt_write_linef() reads back the same */
		if (r->len + 1 <= LARGE_PACKET_DATA_MAX) {
			fuzz_assert(!pkt_write_linef(&w, "%s", r->buf));
			strbuf_addstr(&text, r->buf);
			strbuf_addch(&text, '\0');
			n++;
		}
	}
	fuzz_assert(!pkt_write_flush(&w));
	fuzz_assert(lseek(out, 0, SEEK_SET) == 0);
	pkt_reader_init(&back, out);
	{
		const char *want = text.buf;

		while (n--) {
			fuzz_assert(pkt_read_line(&back) == PKT_DATA);
			fuzz_assert(!strcmp(back.buf, want));
			want += strlen(want) + 1;
		}
	}
	fuzz_assert(pkt_read_line(&back) == PKT_FLUSH);
	fuzz_assert(pkt_read_line(&back) == PKT_EOF);
	pkt_writer_release(&w);
	strbuf_release(&text);
	close(in);
	close(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_reader *r;

	if (!r)
		r = malloc(sizeof(*r));
	fuzz_assert(r);
	packets(data, size, r);
	lines(data, size, r);
	return 0;
}
