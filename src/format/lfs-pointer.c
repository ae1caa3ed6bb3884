#include "lfs-pointer.h"

#include <string.h>

#include "banned.h"

static const char *const versions[] = {
	"version https://git-lfs.github.com/spec/v1\n",
	"version https://hawser.github.com/spec/v1\n",
};

/* Skip `prefix` at *p (within end); 0 when it is not there. */
static int skip(const char **p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	if ((size_t)(end - *p) < n || memcmp(*p, prefix, n))
		return 0;
	*p += n;
	return 1;
}

int lfs_pointer_parse(const char *buf, size_t len,
		      char oid[OID_HEXSZ + 1], uint64_t *size)
{
	const char *p = buf, *end = buf + len, *nl;
	uint64_t n = 0;
	size_t i;

	if (!len || len > LFS_POINTER_MAX || buf[len - 1] != '\n')
		return -1;
	for (i = 0; i < sizeof(versions) / sizeof(*versions); i++)
		if (skip(&p, end, versions[i]))
			break;
	if (i == sizeof(versions) / sizeof(*versions))
		return -1;
	if (!skip(&p, end, "oid sha256:") || end - p < OID_HEXSZ + 1 ||
	    p[OID_HEXSZ] != '\n')
		return -1;
	memcpy(oid, p, OID_HEXSZ);
	oid[OID_HEXSZ] = '\0';
	if (!oid_hex_valid(oid))
		return -1;
	p += OID_HEXSZ + 1;
	if (!skip(&p, end, "size "))
		return -1;
	nl = memchr(p, '\n', end - p);
	if (nl != end - 1 || nl == p || (*p == '0' && nl - p > 1))
		return -1;
	for (; p < nl; p++) {
		if (*p < '0' || *p > '9' ||
		    n > ((uint64_t)POINTER_SIZE_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*size = n;
	return 0;
}
