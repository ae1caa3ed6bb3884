#include "attr-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static void parse_line(struct attr_line *l)
{
	const char *p = l->text, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	l->pattern = NULL;
	l->tracked = 0;
	if (!*p || *p == '#')
		return;
	end = p + strcspn(p, " \t");
	l->pattern = xstrndup(p, end - p);
	p = end;
	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n == 12 && !memcmp(p, "filter=model", 12))
			l->tracked = 1;
		p += n;
	}
}

void attr_file_append(struct attr_file *f, const char *text)
{
	struct attr_line *l;

	ALLOC_GROW(f->lines, f->nr + 1, f->alloc);
	l = &f->lines[f->nr++];
	l->text = xstrdup(text);
	parse_line(l);
}

void attr_file_remove(struct attr_file *f, size_t i)
{
	free(f->lines[i].text);
	free(f->lines[i].pattern);
	memmove(f->lines + i, f->lines + i + 1,
		(f->nr - i - 1) * sizeof(*f->lines));
	f->nr--;
}

void attr_file_parse(struct attr_file *f, const char *buf, size_t len)
{
	const char *p, *nl, *end = buf + len;
	struct strbuf line = STRBUF_INIT;

	for (p = buf; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		strbuf_reset(&line);
		strbuf_add(&line, p, nl - p);
		attr_file_append(f, line.buf);
	}
	strbuf_release(&line);
}

int attr_file_read(struct attr_file *f, const char *path)
{
	struct strbuf buf = STRBUF_INIT;
	ssize_t n;
	int fd, ret = -1;

	f->path = xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno("cannot open '%s'", path);
	}
	n = strbuf_read_capped(&buf, fd, ATTR_FILE_MAX);
	close(fd);
	if (n == -1) {
		error_errno("cannot read '%s'", path);
		goto cleanup;
	}
	if (n == -2) {
		error("'%s' is larger than %d bytes", path, ATTR_FILE_MAX);
		goto cleanup;
	}
	attr_file_parse(f, buf.buf, buf.len);
	ret = 0;
cleanup:
	strbuf_release(&buf);
	return ret;
}

void attr_file_format(const struct attr_file *f, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < f->nr; i++) {
		strbuf_addstr(out, f->lines[i].text);
		strbuf_addch(out, '\n');
	}
}

int attr_file_write(struct attr_file *f)
{
	struct strbuf content = STRBUF_INIT;
	int ret;

	attr_file_format(f, &content);
	ret = write_file_atomically(f->path, content.buf, content.len, 0666,
				    WRITE_FILE_UMASK);
	strbuf_release(&content);
	return ret;
}

void attr_file_release(struct attr_file *f)
{
	while (f->nr)
		attr_file_remove(f, f->nr - 1);
	free(f->lines);
	free(f->path);
	f->lines = NULL;
	f->path = NULL;
	f->alloc = 0;
}

void attr_escape_pattern(const char *pattern, struct strbuf *out)
{
	const char *p;

	if (*pattern == '#')
		strbuf_addch(out, '\\');
	for (p = pattern; *p; p++) {
		if (*p == ' ')
			strbuf_addstr(out, "[[:space:]]");
		else
			strbuf_addch(out, *p);
	}
}
