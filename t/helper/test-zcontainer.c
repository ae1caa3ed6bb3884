/*
 * test-tool zcontainer: drive zcontainer.h (the compressed-object
 * container) on files.
 *
 *	encode [--mode=auto|zstd] [--level=N] [--block-size=N] [--hint]
 *	       <in> <out>     write the container of <in> to <out>; --hint
 *	                      reads <in>'s tensors with model_read() first
 *	decode [--size=N] <in> <out>
 *	                      stream <in> through the decoder in pieces of
 *	                      varying size; <out> is written only when the
 *	                      whole container decoded (else the one-line
 *	                      reason on stderr, exit 1)
 *	table <in>            the block table, one line per block:
 *	                      "<codec> <transform> <raw> <stored>"
 *	speed <in>            decode every block of <in> in memory on this
 *	                      thread, three times: "<MB/s> MB/s" of raw
 *	                      bytes, the best run (for t/perf)
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model-format.h"
#include "parse-options.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include "zcontainer.h"

int cmd_zcontainer(int argc, const char **argv);

static const char *const zc_usage[] = {
	"test-tool zcontainer encode [<options>] <in> <out>",
	"test-tool zcontainer decode [--size=<n>] <in> <out>",
	"test-tool zcontainer table <in>",
	"test-tool zcontainer speed <in>",
	NULL
};

static int open_in(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, st))
		die_errno("cannot open '%s'", path);
	return fd;
}

static int encode(int argc, const char **argv)
{
	struct zc_options opts = ZC_OPTIONS_INIT;
	struct model_info info = MODEL_INFO_INIT;
	const char *mode = "auto", *level = NULL, *bs = NULL;
	int hint = 0, in, out;
	struct stat st;
	uint64_t stored;
	const struct option options[] = {
		OPT_STRING(0, "mode", &mode, "auto|zstd", "how blocks are chosen"),
		OPT_STRING(0, "level", &level, "n", "zstd level"),
		OPT_STRING(0, "block-size", &bs, "n", "raw bytes per block"),
		OPT_BOOL(0, "hint", &hint, "use the model file's header"),
		OPT_END()
	};

	if (parse_options(argc, argv, options, zc_usage, 0) != 2)
		usage_msg_opt(NULL, zc_usage, options);
	if (!strcmp(mode, "zstd"))
		opts.mode = ZC_ZSTD;
	else if (strcmp(mode, "auto"))
		die("unknown mode '%s'", mode);
	if (level)
		opts.level = atoi(level);
	if (bs)
		opts.block_size = strtoul(bs, NULL, 10);
	in = open_in(argv[0], &st);
	if (hint) {
		struct model_source src;
		struct strbuf err = STRBUF_INIT;

		model_source_fd(&src, in, st.st_size);
		if (!model_read(&src, &info, &err))
			opts.hint = &info;
		strbuf_release(&err);
	}
	out = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		die_errno("cannot create '%s'", argv[1]);
	if (zc_encode_fd(in, st.st_size, out, &opts, &stored) < 0)
		return 1;
	if (close(out))
		die_errno("cannot close '%s'", argv[1]);
	close(in);
	model_info_release(&info);
	return 0;
}

static int emit_to_fd(void *ctx, const void *buf, size_t len)
{
	if (write_in_full(*(int *)ctx, buf, len) < 0)
		return error_errno("cannot write the decoded object");
	return 0;
}

static int decode(int argc, const char **argv)
{
	struct zc_decoder d;
	struct strbuf err = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *size = NULL;
	unsigned char buf[65536];
	size_t piece = 1;
	struct stat st;
	int in, out, ret = 1;
	const struct option options[] = {
		OPT_STRING(0, "size", &size, "n", "the raw size expected"),
		OPT_END()
	};

	if (parse_options(argc, argv, options, zc_usage, 0) != 2)
		usage_msg_opt(NULL, zc_usage, options);
	zc_decoder_init(&d, size ? strtoull(size, NULL, 10) : ZC_SIZE_ANY);
	in = open_in(argv[0], &st);
	strbuf_addf(&tmp, "%s.tmp", argv[1]);
	out = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (out < 0)
		die_errno("cannot create '%s'", tmp.buf);
	for (;;) {
		ssize_t n = xread(in, buf, piece);

		if (n < 0)
			die_errno("cannot read '%s'", argv[0]);
		if (!n)
			break;
		if (zc_decoder_feed(&d, buf, n, emit_to_fd, &out, &err) < 0)
			goto out;
		/* pieces of 1, 3, 9, ... bytes up to the buffer's size */
		piece = piece * 3 > sizeof(buf) ? sizeof(buf) : piece * 3;
	}
	if (zc_decoder_finish(&d, &err) < 0)
		goto out;
	if (close(out))
		die_errno("cannot close '%s'", tmp.buf);
	out = -1;
	if (rename(tmp.buf, argv[1]))
		die_errno("cannot rename '%s'", tmp.buf);
	ret = 0;
out:
	if (ret) {
		fprintf(stderr, "error: %s\n", err.buf);
		close(out);
		unlink(tmp.buf);
	}
	close(in);
	zc_decoder_release(&d);
	strbuf_release(&err);
	strbuf_release(&tmp);
	return ret;
}

static int table(int argc, const char **argv)
{
	struct zc_header h = ZC_HEADER_INIT;
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	const struct option options[] = { OPT_END() };
	uint32_t i;
	int fd;

	if (parse_options(argc, argv, options, zc_usage, 0) != 1)
		usage_msg_opt(NULL, zc_usage, options);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		die_errno("cannot open '%s'", argv[0]);
	if (strbuf_read_capped(&buf, fd, ZC_HEADER_SIZE +
			       (size_t)ZC_BLOCKS_MAX * ZC_ENTRY_SIZE) < 0)
		die_errno("cannot read '%s'", argv[0]);
	close(fd);
	if (zc_header_parse(&h, buf.buf, buf.len, &err) <= 0) {
		fprintf(stderr, "error: %s\n", err.len ? err.buf :
			"compressed object: truncated in its header");
		return 1;
	}
	for (i = 0; i < h.nr; i++)
		printf("%s %s %u %u\n",
		       h.blocks[i].codec == ZC_CODEC_ZSTD ? "zstd" : "raw",
		       zc_transform_name(h.blocks[i].transform),
		       h.blocks[i].raw_len, h.blocks[i].stored_len);
	zc_header_release(&h);
	strbuf_release(&buf);
	strbuf_release(&err);
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int speed(int argc, const char **argv)
{
	struct zc_header h = ZC_HEADER_INIT;
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	const struct option options[] = { OPT_END() };
	unsigned char *raw;
	uint32_t i, max = 0;
	double best = 0;
	struct stat st;
	long n;
	int fd, r;

	if (parse_options(argc, argv, options, zc_usage, 0) != 1)
		usage_msg_opt(NULL, zc_usage, options);
	fd = open_in(argv[0], &st);
	if (strbuf_read_capped(&buf, fd, st.st_size) < 0)
		die_errno("cannot read '%s'", argv[0]);
	close(fd);
	n = zc_header_parse(&h, buf.buf, buf.len, &err);
	if (n <= 0 || h.stored_size != buf.len)
		die("'%s' is not a whole compressed object %s", argv[0],
		    err.buf);
	for (i = 0; i < h.nr; i++)
		if (h.blocks[i].raw_len > max)
			max = h.blocks[i].raw_len;
	raw = xmalloc(max ? max : 1);
	for (r = 0; r < 3; r++) {
		double start = seconds(), t;
		uint64_t off = n;

		for (i = 0; i < h.nr; i++) {
			if (zc_block_decode(&h.blocks[i], i, buf.buf + off, raw,
					    &err) < 0)
				die("%s", err.buf);
			off += h.blocks[i].stored_len;
		}
		t = seconds() - start;
		if (!r || t < best)
			best = t;
	}
	printf("%.0f MB/s\n", best > 0 ? h.raw_size / best / 1e6 : 0.0);
	free(raw);
	zc_header_release(&h);
	strbuf_release(&buf);
	strbuf_release(&err);
	return 0;
}

int cmd_zcontainer(int argc, const char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "encode"))
		return encode(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "decode"))
		return decode(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "table"))
		return table(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "speed"))
		return speed(argc - 1, argv + 1);
	{
		static const struct option no_options[] = { OPT_END() };

		usage_msg_opt(NULL, zc_usage, no_options);
	}
}
