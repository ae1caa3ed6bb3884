#ifndef USAGE_H
#define USAGE_H

/*
 * Reporting, in git's manner.
 *
 * Library code reports with error() and returns its value (-1), so a caller
 * can write `return error("cannot open '%s'", path);`. Only cmd_*() functions
 * may die(). BUG() marks a broken invariant of our own, never bad input.
 *
 * Every message goes to stderr, prefixed "error: ", "warning: ", "fatal: "
 * or "BUG: ". Nothing here ever writes to stdout: the filter protocol owns it.
 */

#include <stdarg.h>

#define NORETURN __attribute__((__noreturn__))
#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

int error(const char *fmt, ...) PRINTF(1, 2);
int error_errno(const char *fmt, ...) PRINTF(1, 2);
void warning(const char *fmt, ...) PRINTF(1, 2);
void NORETURN die(const char *fmt, ...) PRINTF(1, 2);
void NORETURN die_errno(const char *fmt, ...) PRINTF(1, 2);
void NORETURN BUG_fl(const char *file, int line, const char *fmt, ...)
	PRINTF(3, 4);
#define BUG(...) BUG_fl(__FILE__, __LINE__, __VA_ARGS__)

/*
 * When set, error() and warning() are silent (a caller probing input that may
 * legitimately be invalid, e.g. "is this content a pointer?"). Returns the
 * previous value. The setting is the calling thread's own: other threads
 * keep reporting.
 */
int set_error_quiet(int quiet);

/*
 * Does a command print its summary lines ("downloaded 3 object(s)"),
 * like git's progress? Never with -q (`quiet`); with --progress
 * (`progress` 1) always; by default (`progress` -1) only when stderr is
 * a terminal. Scripts and logs get nothing on success.
 */
int summary_wanted(int quiet, int progress);

#endif
