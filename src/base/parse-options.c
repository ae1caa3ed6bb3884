#include "parse-options.h"

#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "banned.h"

/* Where the help column starts, and the gap before it (git's). */
#define USAGE_OPTS_WIDTH 26
#define USAGE_GAP 2

void usage_with_options_fp(FILE *fp, const char *const *usagestr,
			   const struct option *options)
{
	const struct option *o;
	int i;

	for (i = 0; usagestr[i]; i++)
		fprintf(fp, "%s%s\n", i ? "   or: " : "usage: ", usagestr[i]);
	if (options->type != OPTION_END)
		fputc('\n', fp);
	for (o = options; o->type != OPTION_END; o++) {
		int pos = 4;

		if (o->flags & PARSE_OPT_HIDDEN)
			continue;
		fputs("    ", fp);
		if (o->short_name)
			pos += fprintf(fp, "-%c", o->short_name);
		if (o->short_name && o->long_name)
			pos += fprintf(fp, ", ");
		if (o->long_name)
			pos += fprintf(fp, "--%s", o->long_name);
		if (o->argh)
			pos += fprintf(fp, " %s", o->argh);
		if (pos <= USAGE_OPTS_WIDTH) {
			fprintf(fp, "%*s%s\n", USAGE_OPTS_WIDTH - pos + USAGE_GAP,
				"", o->help);
		} else {
			fprintf(fp, "\n%*s%s\n", USAGE_OPTS_WIDTH + USAGE_GAP, "",
				o->help);
		}
	}
	fputc('\n', fp);
}

void usage_msg_opt(const char *msg, const char *const *usagestr,
		   const struct option *options)
{
	if (msg)
		error("%s", msg);
	usage_with_options_fp(stderr, usagestr, options);
	exit(129);
}

struct parse_ctx {
	const char **argv; /* what is left to parse */
	int argc;
	const struct option *options;
	const char *const *usagestr;
};

static void NORETURN fail(struct parse_ctx *c, const char *fmt,
			  const char *what)
{
	error(fmt, what);
	usage_msg_opt(NULL, c->usagestr, c->options);
}

static void NORETURN fail_short(struct parse_ctx *c, const char *fmt, int ch)
{
	char name[2] = { (char)ch, '\0' };

	fail(c, fmt, name);
}

/*
 * Store option `o`'s value. `arg` is the value glued to it ("--x=v", "-xv")
 * or NULL; `neg` is the --no- form. A value not glued is taken from the next
 * argument.
 */
static void get_value(struct parse_ctx *c, const struct option *o,
		      const char *arg, int neg, int is_short)
{
	switch (o->type) {
	case OPTION_BOOL:
	case OPTION_SET_INT:
		if (arg) {
			if (is_short)
				BUG("a flag's bundle reached get_value()");
			fail(c, "option '%s' takes no value", o->long_name);
		}
		*(int *)o->value = neg ? 0 : o->defval;
		return;
	case OPTION_STRING:
		if (!arg) {
			if (c->argc < 1) {
				if (is_short)
					fail_short(c, "switch '%s' requires a "
						   "value", o->short_name);
				fail(c, "option '%s' requires a value",
				     o->long_name);
			}
			arg = *c->argv++;
			c->argc--;
		}
		*(const char **)o->value = arg;
		return;
	case OPTION_END:
		break;
	}
	BUG("option type %d", (int)o->type);
}

static int has_short(const struct option *options, int ch)
{
	for (; options->type != OPTION_END; options++)
		if (options->short_name == ch)
			return 1;
	return 0;
}

static int has_long(const struct option *options, const char *name)
{
	for (; options->type != OPTION_END; options++)
		if (options->long_name && !strcmp(options->long_name, name))
			return 1;
	return 0;
}

static void NORETURN show_help(struct parse_ctx *c, int code)
{
	usage_with_options_fp(stdout, c->usagestr, c->options);
	fflush(stdout);
	exit(code);
}

static void NORETURN completion_helper(struct parse_ctx *c)
{
	const struct option *o;
	const char *sep = "";

	for (o = c->options; o->type != OPTION_END; o++) {
		if (!o->long_name || (o->flags & PARSE_OPT_HIDDEN))
			continue;
		printf("%s--%s%s", sep, o->long_name,
		       o->type == OPTION_STRING ? "=" : "");
		sep = " ";
	}
	putchar('\n');
	fflush(stdout);
	exit(0);
}

/* "--name", "--name=value", "--no-name"; `arg` is past the dashes. */
static void parse_long(struct parse_ctx *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct option *o;
	int pass;

	/* Pass 0: the name as given; pass 1: "no-<name>" negates <name>. */
	for (pass = 0; pass < 2; pass++) {
		const char *name = arg;
		size_t nlen = len;

		if (pass) {
			if (len < 3 || strncmp(arg, "no-", 3))
				break;
			name += 3;
			nlen -= 3;
		}
		for (o = c->options; o->type != OPTION_END; o++) {
			if (!o->long_name || strlen(o->long_name) != nlen ||
			    strncmp(o->long_name, name, nlen))
				continue;
			if (pass && (o->flags & PARSE_OPT_NONEG))
				continue;
			get_value(c, o, eq ? eq + 1 : NULL, pass, 0);
			return;
		}
	}
	if (!strcmp(arg, "help") && !has_long(c->options, "help"))
		show_help(c, 0);
	if (!strcmp(arg, "git-completion-helper"))
		completion_helper(c);
	error("unknown option '%.*s'", (int)len, arg);
	usage_msg_opt(NULL, c->usagestr, c->options);
}

/* "-abc", "-Ivalue"; `arg` is past the dash. */
static void parse_short(struct parse_ctx *c, const char *arg)
{
	for (; *arg; arg++) {
		const struct option *o;

		for (o = c->options; o->type != OPTION_END; o++)
			if (o->short_name == *arg)
				break;
		if (o->type == OPTION_END) {
			if (*arg == 'h' && !has_short(c->options, 'h'))
				show_help(c, 129);
			fail_short(c, "unknown switch '%s'", *arg);
		}
		if (o->type == OPTION_STRING) {
			get_value(c, o, arg[1] ? arg + 1 : NULL, 0, 1);
			return;
		}
		get_value(c, o, NULL, 0, 1);
	}
}

int parse_options(int argc, const char **argv, const struct option *options,
		  const char *const *usagestr, unsigned flags)
{
	struct parse_ctx c = { argv + 1, argc > 0 ? argc - 1 : 0, options,
			       usagestr };
	int nr = 0;

	while (c.argc > 0) {
		const char *arg = *c.argv++;

		c.argc--;
		if (arg[0] != '-' || !arg[1]) {
			argv[nr++] = arg;
			if (flags & PARSE_OPT_STOP_AT_NON_OPTION)
				break;
			continue;
		}
		if (!strcmp(arg, "--")) {
			if (flags & PARSE_OPT_KEEP_DASHDASH)
				argv[nr++] = arg;
			break;
		}
		if (arg[1] == '-')
			parse_long(&c, arg + 2);
		else
			parse_short(&c, arg + 1);
	}
	while (c.argc-- > 0)
		argv[nr++] = *c.argv++;
	argv[nr] = NULL;
	return nr;
}
