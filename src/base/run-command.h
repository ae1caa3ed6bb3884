#ifndef RUN_COMMAND_H
#define RUN_COMMAND_H

/*
 * Running other programs (git itself, mostly) without a shell: argv is
 * passed to execvp() as is, so no argument is ever interpreted by a shell.
 */

#include <stddef.h>

#include "strbuf.h"

/*
 * Run argv[0] with arguments argv (NULL-terminated). When `out` is not NULL
 * the child's stdout is captured into it, at most `cap` bytes (more is an
 * error). The child's stderr is the caller's. Returns the exit code (0-255),
 * or -1 (reported) when it could not run or died of a signal.
 */
int run_command(const char *const *argv, struct strbuf *out, size_t cap);

/*
 * The same, with `in_len` bytes of `in` written to the child's stdin (then
 * closed). The input must be small (it is written before the output is
 * read): credential requests, not content.
 */
int run_command_io(const char *const *argv, const char *in, size_t in_len,
		   struct strbuf *out, size_t cap);

/* run_command() with the child's stderr sent to /dev/null. */
int run_command_quiet(const char *const *argv, struct strbuf *out);

#endif
