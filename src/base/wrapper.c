#include "wrapper.h"

#include <linux/fs.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usage.h"
#include "banned.h"

static void NORETURN die_oom(size_t size)
{
	die("out of memory, tried to allocate %zu bytes", size);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die_oom(size);
	return p;
}

void *xmalloc_aligned(size_t align, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, align, size ? size : 1))
		die_oom(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die_oom(nmemb * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die_oom(size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_oom(strlen(s) + 1);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		die_oom(n + 1);
	return p;
}

void free_secret(char **p)
{
	if (!*p)
		return;
	explicit_bzero(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

int xsnprintf(char *dst, size_t max, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(dst, max, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= max)
		BUG("xsnprintf: output truncated for format '%s'", fmt);
	return len;
}

ssize_t xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

ssize_t read_in_full(int fd, void *buf, size_t count)
{
	char *p = buf;
	ssize_t total = 0;

	while (count > 0) {
		ssize_t n = xread(fd, p, count);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		p += n;
		count -= n;
		total += n;
	}
	return total;
}

ssize_t write_in_full(int fd, const void *buf, size_t count)
{
	const char *p = buf;
	ssize_t total = 0;

	while (count > 0) {
		ssize_t n = write(fd, p, count);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		count -= n;
		total += n;
	}
	return total;
}

int close_quietly(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

/*
 * mkdir `dir` (a modifiable copy) and, only when that says ENOENT, its
 * parents first: where the parents exist, as they nearly always do, this
 * is one system call.
 */
static int mkdir_parents(char *dir)
{
	char *slash;
	int ret;

	if (!mkdir(dir, 0777) || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = '\0';
	ret = mkdir_parents(dir);
	*slash = '/';
	if (ret < 0)
		return -1;
	return (!mkdir(dir, 0777) || errno == EEXIST) ? 0 : -1;
}

int mkdir_leading(const char *path)
{
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	int ret = 0;

	if (slash && slash != copy) {
		*slash = '\0';
		ret = mkdir_parents(copy);
	}
	free(copy);
	return ret;
}

int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int write_file_atomically(const char *path, const void *data, size_t len,
			  unsigned mode, unsigned flags)
{
	size_t tlen = strlen(path) + 16;
	char *tmp = xmalloc(tlen);
	int fd, ret = -1;

	if (flags & WRITE_FILE_UMASK) {
		mode_t mask = umask(0);

		umask(mask);
		mode &= ~mask;
	}
	xsnprintf(tmp, tlen, "%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error_errno("cannot create a temp file for '%s'", path);
		free(tmp);
		return -1;
	}
	if (write_in_full(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    (!(flags & WRITE_FILE_NO_SYNC) && fsync(fd) < 0)) {
		error_errno("cannot write '%s'", tmp);
		close(fd);
		goto cleanup;
	}
	if (close(fd) < 0) {
		error_errno("cannot write '%s'", tmp);
		goto cleanup;
	}
	if (rename(tmp, path) < 0) {
		error_errno("cannot rename '%s' to '%s'", tmp, path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

int clone_fd(int in, int out)
{
	return ioctl(out, FICLONE, in);
}

int link_fd(int fd, const char *path)
{
	char proc[64];

	xsnprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}
