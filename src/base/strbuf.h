#ifndef STRBUF_H
#define STRBUF_H

/*
 * A growable, NUL-terminated byte buffer, after git's strbuf.h.
 *
 * `buf` is never NULL: a released or fresh strbuf points at a shared empty
 * string, so `sb.buf` can always be printed. `len` excludes the NUL, which is
 * always present, so binary content (with NULs inside) is fine as long as the
 * caller uses `len`. strbuf_detach() hands the buffer to the caller, who
 * must free() it; strbuf_release() frees it and leaves a valid empty strbuf,
 * so releasing twice is harmless.
 */

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

extern char strbuf_slopbuf[];

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

#define STRBUF_INIT { .alloc = 0, .len = 0, .buf = strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Remove trailing whitespace (space, tab, CR, LF). */
void strbuf_rtrim(struct strbuf *sb);

/*
 * Append what can be read from `fd` up to end of file, but at most `cap`
 * bytes. Returns the number of bytes appended, -1 on a read error, or -2
 * when the input is longer than `cap` (then `cap` bytes were appended and
 * one more byte was consumed from `fd`).
 */
ssize_t strbuf_read_capped(struct strbuf *sb, int fd, size_t cap);

#endif
