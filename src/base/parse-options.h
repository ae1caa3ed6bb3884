#ifndef PARSE_OPTIONS_H
#define PARSE_OPTIONS_H

/*
 * Command-line options parsed from one table per command, in the manner of
 * git's parse-options.h. The table is also what the usage text is made of,
 * so "-h" can never disagree with what is accepted.
 *
 * Accepted forms (as git accepts them):
 *
 *   --name            a flag; "--no-name" clears it unless PARSE_OPT_NONEG
 *   --name=value      an option that takes a value
 *   --name value
 *   -x value, -xvalue
 *   -abc              short flags bundled; the last may take a value
 *                     ("-qIglob", "-qI glob")
 *   --                ends the options; what follows is arguments
 *   -                 an argument (stdin, by convention)
 *
 * Options and arguments may be interleaved unless PARSE_OPT_STOP_AT_NON_OPTION
 * is given. "-h" prints the usage and the options on stdout and exits 129;
 * "--help" does the same and exits 0 (git-model.c opens the man page for
 * "git model <cmd> --help" before the command runs). A table that defines
 * 'h' or "help" itself takes them over.
 *
 * An unknown option, a missing value or a value given to a flag is reported
 * with error() ("unknown option 'bogus'", "switch 'I' requires a value"),
 * then the usage goes to stderr and the process exits 129. parse_options()
 * therefore belongs in cmd_*() and git-model.c only.
 *
 * "--git-completion-helper" prints the table's long options on one line and
 * exits 0: contrib/completion offers them, so completion follows the table.
 *
 * Tables are not modified and may be static const; the value pointers are
 * written from the calling thread only.
 */

#include <stdio.h>

#include "usage.h"

enum parse_opt_type {
	OPTION_END = 0,
	OPTION_BOOL,    /* int *: 1, or 0 with --no- */
	OPTION_SET_INT, /* int *: defval, or 0 with --no- */
	OPTION_STRING,  /* const char **: the value, borrowed from argv */
};

/* option flags */
#define PARSE_OPT_NONEG (1 << 0) /* no "--no-<name>" form */
#define PARSE_OPT_HIDDEN (1 << 1) /* not in the usage text */

struct option {
	enum parse_opt_type type;
	int short_name;        /* 0: none */
	const char *long_name; /* NULL: none */
	void *value;
	const char *argh; /* the value's name in usage text: "<globs>" */
	const char *help; /* one line, lowercase, no full stop */
	unsigned flags;
	int defval; /* OPTION_SET_INT */
};

#define OPT_END() { OPTION_END }
#define OPT_BOOL(s, l, v, h) { OPTION_BOOL, (s), (l), (v), NULL, (h), 0, 1 }
#define OPT_BOOL_F(s, l, v, h, f) \
	{ OPTION_BOOL, (s), (l), (v), NULL, (h), (f), 1 }
#define OPT_SET_INT(s, l, v, h, i) \
	{ OPTION_SET_INT, (s), (l), (v), NULL, (h), PARSE_OPT_NONEG, (i) }
#define OPT_STRING(s, l, v, a, h) \
	{ OPTION_STRING, (s), (l), (v), (a), (h), PARSE_OPT_NONEG, 0 }
#define OPT__QUIET(v, h) OPT_BOOL('q', "quiet", (v), (h))
#define OPT__DRY_RUN(v, h) OPT_BOOL('n', "dry-run", (v), (h))
#define OPT__VERBOSE(v, h) OPT_BOOL('v', "verbose", (v), (h))

/* parse_options() flags */
#define PARSE_OPT_KEEP_DASHDASH (1 << 0) /* leave "--" among the arguments */
#define PARSE_OPT_STOP_AT_NON_OPTION (1 << 1) /* the first argument ends */

/*
 * Parse argv[1..argc-1] (argv[0] is the command's name) against `options`,
 * storing what is given through the value pointers. The arguments that are
 * not options are moved to argv[0..n-1], in order, argv[n] set to NULL, and
 * n is returned. Never returns on a usage error (see above).
 *
 * `usagestr` is NULL-terminated: the synopsis lines, printed "usage: " for
 * the first and "   or: " for the others.
 */
int parse_options(int argc, const char **argv, const struct option *options,
		  const char *const *usagestr, unsigned flags);

/* The usage text, then the options, to `fp`. */
void usage_with_options_fp(FILE *fp, const char *const *usagestr,
			   const struct option *options);

/*
 * Report `msg` (when not NULL) with error(), print the usage to stderr and
 * exit 129, git's status for a usage error.
 */
void NORETURN usage_msg_opt(const char *msg, const char *const *usagestr,
			    const struct option *options);

#endif
