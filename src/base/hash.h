#ifndef HASH_H
#define HASH_H

/*
 * Streaming sha256 through OpenSSL's EVP interface, which picks the CPU's
 * SHA extensions (SHA-NI, ARMv8 SHA2) when present. Content is fed in
 * pieces, so no caller ever needs a whole file in memory.
 *
 *	struct hash h = HASH_INIT;
 *	hash_start(&h);  hash_update(&h, buf, n) ...;  hash_finish(&h, hex);
 *
 * hash_finish() writes 64 lowercase hex digits and a NUL into `hex` and
 * releases the context; hash_release() alone abandons a running hash.
 */

#include <stddef.h>
#include <stdint.h>

#define HASH_HEXSZ 64

struct hash {
	void *ctx; /* EVP_MD_CTX, kept opaque so callers need no OpenSSL headers */
};

#define HASH_INIT { .ctx = NULL }

void hash_start(struct hash *h);
void hash_update(struct hash *h, const void *data, size_t len);
void hash_finish(struct hash *h, char hex[HASH_HEXSZ + 1]);
void hash_release(struct hash *h);

/*
 * Hash everything readable from `fd` until end of file. Stores the digest
 * in `hex` and the byte count in `size`. Returns 0, or -1 on a read error
 * (reported with error()).
 */
int hash_fd(int fd, char hex[HASH_HEXSZ + 1], uint64_t *size);

/*
 * The same, and each run of bytes read is also handed to `each(ctx, buf,
 * len)`, in order, before the next read (it must not keep `buf`). `each`
 * may be NULL.
 */
int hash_fd_each(int fd, char hex[HASH_HEXSZ + 1], uint64_t *size,
		 void (*each)(void *ctx, const void *buf, size_t len),
		 void *ctx);

#endif
