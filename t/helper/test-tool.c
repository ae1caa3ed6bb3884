/*
 * test-tool: the helpers the test scripts need, one binary with
 * subcommands, as in git's t/helper.
 *
 *   test-tool pkt-line pack      text lines on stdin -> pkt-lines on stdout
 *                                 "0000" is a flush packet; "raw:X" writes X
 *                                 unframed; "file:PATH" sends PATH's bytes as
 *                                 data packets; any other line is a packet
 *                                 holding the line and LF
 *   test-tool pkt-line unpack    pkt-lines on stdin -> one line per packet,
 *                                 "0000" for flush (payloads printed raw)
 *   test-tool genrandom SEED SIZE   SIZE pseudo-random bytes, the same for
 *                                 the same SEED (sizes take k, m, g suffixes)
 *   test-tool fault-proxy ...    an HTTP proxy that injects faults
 *                                 (test-fault-proxy.c has the usage)
 *   test-tool model-read FILE    the tensors model_read() finds in FILE
 *                                 (test-model.c has the output format)
 *   test-tool zcontainer ...    encode, decode and list compressed
 *                                 objects (test-zcontainer.c)
 *   test-tool url-match PATTERN URL   "match" or "no match": does the
 *                                 <url> of http.<url>.* match URL (url.h)
 *   test-tool http-settings      the HTTP transport's settings as git-model
 *                                 reads them here (git config, environment),
 *                                 one "name=value" a line
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "http.h"
#include "pkt-line.h"
#include "strbuf.h"
#include "parse-options.h"
#include "url.h"
#include "usage.h"
#include "wrapper.h"

int cmd_fault_proxy(int argc, const char **argv);
int cmd_model_read(int argc, const char **argv);
int cmd_zcontainer(int argc, const char **argv);

static int pkt_pack(void)
{
	struct pkt_writer w = PKT_WRITER_INIT(1);
	char line[70000];

	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strlen(line);

		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!strcmp(line, "0000")) {
			if (pkt_write_flush(&w) < 0)
				return 1;
		} else if (!strncmp(line, "raw:", 4)) {
			if (pkt_writer_push(&w) < 0 ||
			    write_in_full(1, line + 4, len - 4) < 0)
				return 1;
		} else if (!strncmp(line, "file:", 5)) {
			char buf[65536];
			ssize_t n;
			int fd = open(line + 5, O_RDONLY);

			if (fd < 0)
				die_errno("cannot open '%s'", line + 5);
			while ((n = xread(fd, buf, sizeof(buf))) > 0)
				if (pkt_write_data(&w, buf, n) < 0)
					return 1;
			close(fd);
		} else if (pkt_write_linef(&w, "%s", line) < 0) {
			return 1;
		}
	}
	if (pkt_writer_push(&w) < 0)
		return 1;
	pkt_writer_release(&w);
	return 0;
}

static int pkt_unpack(void)
{
	static struct pkt_reader r;

	pkt_reader_init(&r, 0);
	for (;;) {
		switch (pkt_read(&r)) {
		case PKT_EOF:
			return 0;
		case PKT_FLUSH:
			printf("0000\n");
			break;
		case PKT_DATA:
			fwrite(r.buf, 1, r.len, stdout);
			if (!r.len || r.buf[r.len - 1] != '\n')
				putchar('\n');
			break;
		default:
			return 1;
		}
	}
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t n = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': n <<= 10; break;
	case 'm': n <<= 20; break;
	case 'g': n <<= 30; break;
	case '\0': break;
	default: die("bad size '%s'", s);
	}
	return n;
}

static int genrandom(const char *seed_arg, const char *size_arg)
{
	uint64_t state = 0x9e3779b97f4a7c15ULL, left = parse_size(size_arg);
	const char *c;
	size_t bufsz = 1 << 20;
	uint64_t *buf = xmalloc(bufsz);

	for (c = seed_arg; *c; c++)
		state = (state ^ (unsigned char)*c) * 0x100000001b3ULL;
	while (left) {
		size_t i, n = left < bufsz ? left : bufsz;

		for (i = 0; i < bufsz / 8; i++) {
			/* xorshift64*: fast, and plenty random for test data */
			state ^= state >> 12;
			state ^= state << 25;
			state ^= state >> 27;
			buf[i] = state * 0x2545f4914f6cdd1dULL;
		}
		if (write_in_full(1, buf, n) < 0)
			die_errno("write error");
		left -= n;
	}
	free(buf);
	return 0;
}

static int http_settings(void)
{
	struct http_transport h = HTTP_TRANSPORT_INIT;

	git_libgit2_init();
	if (http_transport_init(&h, NULL, NULL) < 0)
		return 1;
	printf("ssl_verify=%d\n", h.ssl_verify);
	printf("ca_info=%s\n", h.ca_info ? h.ca_info : "");
	printf("proxy=%s\n", h.proxy ? h.proxy : "");
	printf("low_speed_limit=%ld\n", h.low_speed_limit);
	printf("low_speed_time=%ld\n", h.low_speed_time);
	printf("connect_timeout=%d\n", HTTP_CONNECT_TIMEOUT);
	http_transport_release(&h);
	git_libgit2_shutdown();
	return 0;
}
static const char *const tool_usage[] = {
	"test-tool (pkt-line (pack | unpack) | genrandom <seed> <size> |\n"
	"       fault-proxy <options> | model-read <file> |\n"
	"       url-match <pattern> <url> | http-settings |\n"
	"       zcontainer (encode | decode | table) ...)",
	NULL
};
static const struct option no_options[] = { OPT_END() };

int main(int argc, const char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "url-match")) {
		puts(url_match(argv[2], argv[3]) < 0 ? "no match" : "match");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "pkt-line") &&
	    !strcmp(argv[2], "pack"))
		return pkt_pack();
	if (argc == 3 && !strcmp(argv[1], "pkt-line") &&
	    !strcmp(argv[2], "unpack"))
		return pkt_unpack();
	if (argc == 4 && !strcmp(argv[1], "genrandom"))
		return genrandom(argv[2], argv[3]);
	if (argc >= 2 && !strcmp(argv[1], "fault-proxy"))
		return cmd_fault_proxy(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "model-read"))
		return cmd_model_read(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "zcontainer"))
		return cmd_zcontainer(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "http-settings"))
		return http_settings();
	usage_msg_opt(NULL, tool_usage, no_options);
}
