#include "run-command.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

int run_command(const char *const *argv, struct strbuf *out, size_t cap)
{
	return run_command_io(argv, NULL, 0, out, cap);
}

static int run(const char *const *argv, const char *in, size_t in_len,
	       struct strbuf *out, size_t cap, int quiet);

int run_command_quiet(const char *const *argv, struct strbuf *out)
{
	return run(argv, NULL, 0, out, 65536, 1);
}

int run_command_io(const char *const *argv, const char *in, size_t in_len,
		   struct strbuf *out, size_t cap)
{
	return run(argv, in, in_len, out, cap, 0);
}

static int run(const char *const *argv, const char *in, size_t in_len,
	       struct strbuf *out, size_t cap, int quiet)
{
	int pipefd[2] = { -1, -1 }, infd[2] = { -1, -1 };
	int status, ret = -1;
	ssize_t got = 0;
	pid_t pid;

	if ((out && pipe(pipefd) < 0) || (in && pipe(infd) < 0)) {
		close_quietly(pipefd[0]);
		close_quietly(pipefd[1]);
		return error_errno("cannot create a pipe for '%s'", argv[0]);
	}
	pid = fork();
	if (pid < 0) {
		close_quietly(pipefd[0]);
		close_quietly(pipefd[1]);
		close_quietly(infd[0]);
		close_quietly(infd[1]);
		return error_errno("cannot run '%s'", argv[0]);
	}
	if (!pid) {
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 2);
		}
		if (in) {
			dup2(infd[0], 0);
			close(infd[0]);
			close(infd[1]);
		}
		if (out) {
			dup2(pipefd[1], 1);
			close(pipefd[0]);
			close(pipefd[1]);
		}
		execvp(argv[0], (char *const *)argv);
		error_errno("cannot run '%s'", argv[0]);
		_exit(127);
	}
	if (in) {
		close(infd[0]);
		if (write_in_full(infd[1], in, in_len) < 0)
			error_errno("cannot write to '%s'", argv[0]);
		close(infd[1]);
	}
	if (out) {
		close(pipefd[1]);
		got = strbuf_read_capped(out, pipefd[0], cap);
		if (got == -2) {
			/* let the child finish rather than block on a full pipe */
			char sink[4096];

			while (xread(pipefd[0], sink, sizeof(sink)) > 0)
				;
		}
		close(pipefd[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_errno("cannot wait for '%s'", argv[0]);
	if (got == -1)
		return error_errno("cannot read the output of '%s'", argv[0]);
	if (got == -2)
		return error("output of '%s' exceeds %zu bytes", argv[0], cap);
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else
		error("'%s' died of signal %d", argv[0], WTERMSIG(status));
	return ret;
}

int split_command(const char *line, char ***argv, size_t *argc)
{
	struct strbuf word = STRBUF_INIT;
	char **v = NULL;
	size_t nr = 0, alloc = 0;
	const char *p = line;
	int in_word = 0;

	for (;;) {
		char ch = *p;

		if (!ch || isspace((unsigned char)ch)) {
			if (in_word) {
				ALLOC_GROW(v, nr + 2, alloc);
				v[nr++] = strbuf_detach(&word, NULL);
				in_word = 0;
			}
			if (!ch)
				break;
			p++;
		} else if (ch == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (!q)
				goto unterminated;
			strbuf_add(&word, p + 1, q - p - 1);
			in_word = 1;
			p = q + 1;
		} else if (ch == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' ||
						   p[1] == '$' || p[1] == '`'))
					p++;
				strbuf_addch(&word, *p);
			}
			if (!*p)
				goto unterminated;
			in_word = 1;
			p++;
		} else if (ch == '\\' && p[1]) {
			strbuf_addch(&word, p[1]);
			in_word = 1;
			p += 2;
		} else {
			strbuf_addch(&word, ch);
			in_word = 1;
			p++;
		}
	}
	ALLOC_GROW(v, nr + 1, alloc);
	v[nr] = NULL;
	*argv = v;
	*argc = nr;
	strbuf_release(&word);
	return 0;
unterminated:
	while (nr)
		free(v[--nr]);
	free(v);
	strbuf_release(&word);
	return -1;
}
