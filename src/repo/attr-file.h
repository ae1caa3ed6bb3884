#ifndef ATTR_FILE_H
#define ATTR_FILE_H

/*
 * Reading and rewriting a .gitattributes file, for track and untrack.
 *
 * A file is a list of lines kept byte for byte, so rewriting it changes only
 * the lines a command adds or removes. A line "tracks" a pattern when its
 * attributes include filter=model. Patterns are written the way git reads
 * them: a space becomes [[:space:]] and a leading '#' is escaped, as git-lfs
 * does, so older gits read them too.
 */

#include <stddef.h>

#include "strbuf.h"

#define ATTR_FILE_MAX (16 * 1024 * 1024)

/* What a tracking line gives its pattern. */
#define ATTR_MODEL "filter=model diff=model merge=model -text"

struct attr_line {
	char *text;    /* without its LF */
	char *pattern; /* first field, NULL for blank and comment lines */
	int tracked;   /* has filter=model */
};

struct attr_file {
	char *path;
	struct attr_line *lines;
	size_t nr, alloc;
};

#define ATTR_FILE_INIT { .path = NULL, .lines = NULL }

/* Read `path`; a missing file reads as empty. Returns 0 or -1 (reported). */
int attr_file_read(struct attr_file *f, const char *path);

/*
 * Append the lines of `len` bytes at `buf` (a .gitattributes blob); a NUL
 * in a line ends it.
 */
void attr_file_parse(struct attr_file *f, const char *buf, size_t len);

/* Append the file's text to `out`: each line and its LF. */
void attr_file_format(const struct attr_file *f, struct strbuf *out);

/* Write the lines back atomically (temp file + rename). */
int attr_file_write(struct attr_file *f);

void attr_file_release(struct attr_file *f);

/* Append a line; the file takes ownership of nothing, `text` is copied. */
void attr_file_append(struct attr_file *f, const char *text);

/* Remove line `i`. */
void attr_file_remove(struct attr_file *f, size_t i);

/* Escape a user's pattern into the form written in .gitattributes. */
void attr_escape_pattern(const char *pattern, struct strbuf *out);

#endif
