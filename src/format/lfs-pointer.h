#ifndef LFS_POINTER_H
#define LFS_POINTER_H

/*
 * git-lfs's pointer files (git-lfs's docs/spec.md), read so that a
 * repository can move from git-lfs to git-model (git model migrate
 * from-lfs) and so that status and fsck recognise them in a work tree:
 *
 *	version https://git-lfs.github.com/spec/v1
 *	oid sha256:<64 lowercase hex>
 *	size <decimal bytes>
 *
 * Three lines, each ended by LF, in this order, at most LFS_POINTER_MAX
 * bytes; the version may also be the pre-release
 * https://hawser.github.com/spec/v1. Pointers with extension lines
 * ("ext-0-<name> sha256:<oid>", for content that git-lfs transformed
 * before it stored it) are not accepted: their oid is not that of the
 * file. Any other key, a missing LF, a size with a sign or leading zeros
 * make the bytes not a pointer.
 *
 * This module only parses. It does no I/O.
 */

#include <stddef.h>
#include <stdint.h>

#include "pointer.h"

#define LFS_POINTER_MAX 1024

/*
 * Parse `len` bytes at `buf`. Returns 0 and fills `oid` (64 hex digits
 * and a NUL) and `size` when they are a git-lfs pointer, -1 otherwise.
 */
int lfs_pointer_parse(const char *buf, size_t len,
		      char oid[OID_HEXSZ + 1], uint64_t *size);

#endif
