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

/*
 * Split a command line that a user wrote (GIT_SSH_COMMAND, an AWS
 * credential_process) into words by POSIX shell quoting rules, as
 * Python's shlex does: blanks separate words; '...' is literal; in
 * "..." a backslash escapes only " \ $ `; elsewhere a backslash escapes
 * the next character. Nothing is expanded: no variables, globs or
 * redirections, and the words are run without a shell. 0, or -1 for an
 * unterminated quote. `argv` gets xstrdup()ed words and a NULL; free
 * each word and the array.
 */
int split_command(const char *line, char ***argv, size_t *argc);

#endif
