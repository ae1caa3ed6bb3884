#include "hash.h"

#include <stdlib.h>

#include <openssl/evp.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

void hash_start(struct hash *h)
{
	hash_release(h);
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL))
		die("cannot initialise sha256 (OpenSSL)");
}

void hash_update(struct hash *h, const void *data, size_t len)
{
	if (!h->ctx)
		BUG("hash_update() before hash_start()");
	if (!EVP_DigestUpdate(h->ctx, data, len))
		die("sha256 update failed (OpenSSL)");
}

void hash_finish(struct hash *h, char hex[HASH_HEXSZ + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (!h->ctx)
		BUG("hash_finish() before hash_start()");
	if (!EVP_DigestFinal_ex(h->ctx, md, &len) || len != HASH_HEXSZ / 2)
		die("sha256 final failed (OpenSSL)");
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[HASH_HEXSZ] = '\0';
	hash_release(h);
}

void hash_release(struct hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int hash_fd(int fd, char hex[HASH_HEXSZ + 1], uint64_t *size)
{
	return hash_fd_each(fd, hex, size, NULL, NULL);
}

int hash_fd_each(int fd, char hex[HASH_HEXSZ + 1], uint64_t *size,
		 void (*each)(void *ctx, const void *buf, size_t len),
		 void *ctx)
{
	struct hash h = HASH_INIT;
	size_t bufsz = 1 << 20;
	char *buf = xmalloc(bufsz);
	uint64_t total = 0;
	int ret = -1;

	hash_start(&h);
	for (;;) {
		ssize_t n = xread(fd, buf, bufsz);

		if (n < 0) {
			error_errno("read error while hashing");
			goto cleanup;
		}
		if (!n)
			break;
		hash_update(&h, buf, n);
		if (each)
			each(ctx, buf, n);
		total += n;
	}
	hash_finish(&h, hex);
	*size = total;
	ret = 0;
cleanup:
	hash_release(&h);
	free(buf);
	return ret;
}
