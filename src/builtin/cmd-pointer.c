/*
 * pointer: print the pointer a file would be cleaned into, or check that a
 * file is a canonical pointer.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "hash.h"
#include "pointer.h"
#include "storage.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static int open_arg(const char *path)
{
	int fd;

	if (!strcmp(path, "-"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("cannot open '%s'", path);
	return fd;
}

/* The pointer clean would write, url line included when storage is set. */
static int print_pointer(const char *path, struct repo *repo)
{
	struct pointer p = POINTER_INIT;
	struct strbuf out = STRBUF_INIT, base = STRBUF_INIT;
	int fd = open_arg(path);

	if (hash_fd(fd, p.oid, &p.size) < 0)
		die("cannot read '%s'", path);
	if (fd)
		close(fd);
	if (repo && !storage_pointer_url(repo, &base)) {
		char *bare = url_without_userinfo(base.buf);

		strbuf_reset(&out);
		storage_object_url(bare, p.oid, &out);
		pointer_set_url(&p, out.buf);
		strbuf_reset(&out);
		free(bare);
	}
	strbuf_release(&base);
	pointer_format(&p, &out);
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	pointer_release(&p);
	return 0;
}

static int check_pointer(const char *path, int quiet)
{
	struct pointer p = POINTER_INIT;
	struct strbuf buf = STRBUF_INIT, why = STRBUF_INIT;
	int fd = open_arg(path), ret = 0;
	ssize_t n = strbuf_read_capped(&buf, fd, POINTER_MAX);

	if (n == -1)
		die_errno("cannot read '%s'", path);
	if (fd)
		close(fd);
	if (n == -2)
		strbuf_addf(&why, "larger than %d bytes", POINTER_MAX);
	else
		pointer_parse(&p, buf.buf, buf.len, &why);
	if (why.len) {
		if (!quiet)
			error("'%s' is not a git-model pointer: %s", path,
			      why.buf);
		ret = 1;
	}
	pointer_release(&p);
	strbuf_release(&buf);
	strbuf_release(&why);
	return ret;
}

int cmd_pointer(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = {
		"git model pointer --file <file>",
		"git model pointer --check [-q | --quiet] (<file> | -)",
		NULL
	};
	int file = 0, check = 0, quiet = 0;
	const struct option options[] = {
		OPT_BOOL_F(0, "file", &file, "print the pointer for <file>",
			   PARSE_OPT_NONEG),
		OPT_BOOL_F(0, "check", &check,
			   "exit 0 if <file> is a pointer, 1 if not",
			   PARSE_OPT_NONEG),
		OPT__QUIET(&quiet, "with --check: say nothing"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, options, usage, 0);
	if (file == check)
		usage_msg_opt("give exactly one of --file and --check", usage,
			      options);
	if (!argc)
		usage_msg_opt("no file given", usage, options);
	if (argc > 1)
		usage_msg_opt("too many arguments", usage, options);
	return file ? print_pointer(argv[0], repo) :
		      check_pointer(argv[0], quiet);
}
