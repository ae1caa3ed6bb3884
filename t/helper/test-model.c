/*
 * test-tool model-read FILE: what model_read() (model-format.h) finds in
 * FILE, one line per tensor:
 *
 *	<name> <dtype> [<dims>] <contiguous|strided> <sha256 of its bytes>
 *
 * after a "format <name>" line, then "meta <key>=<value>" lines. A file
 * refused prints the reason on stderr and exits 1.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "model-format.h"
#include "parse-options.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

int cmd_model_read(int argc, const char **argv);

static void print_tensor(int fd, const struct model_tensor *t)
{
	static char buf[65536];
	struct hash h;
	char hex[HASH_HEXSZ + 1];
	uint64_t off = t->offset, left = t->length;
	unsigned i;

	hash_start(&h);
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		if (pread(fd, buf, n, off) != (ssize_t)n)
			die_errno("cannot read tensor '%s'", t->name);
		hash_update(&h, buf, n);
		off += n;
		left -= n;
	}
	hash_finish(&h, hex);
	hash_release(&h);
	printf("%s %s [", t->name, t->dtype);
	for (i = 0; i < t->ndim; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)t->shape[i]);
	printf("] %s %s\n", t->contiguous ? "contiguous" : "strided", hex);
}

int cmd_model_read(int argc, const char **argv)
{
	struct model_info info = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT;
	struct model_source src;
	struct stat st;
	const char *p, *end;
	size_t i;
	int fd;

	static const char *const model_read_usage[] = {
		"test-tool model-read <file>", NULL
	};
	static const struct option no_options[] = { OPT_END() };

	if (parse_options(argc, argv, no_options, model_read_usage, 0) != 1)
		usage_msg_opt(NULL, model_read_usage, no_options);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die_errno("cannot open '%s'", argv[0]);
	model_source_fd(&src, fd, st.st_size);
	if (model_read(&src, &info, &err)) {
		fprintf(stderr, "%s\n", err.buf);
		strbuf_release(&err);
		close(fd);
		return 1;
	}
	printf("format %s\n", model_format_name(info.format));
	for (i = 0; i < info.nr; i++)
		print_tensor(fd, &info.tensors[i]);
	for (p = info.metadata.buf; *p; p = end + 1) {
		end = strchr(p, '\n');
		printf("meta %.*s\n", (int)(end - p), p);
	}
	model_info_release(&info);
	close(fd);
	return 0;
}
