#ifndef FUZZ_H
#define FUZZ_H

/*
 * Shared by the libFuzzer targets t/fuzz/fuzz-*.c (configure
 * --enable-fuzzers; t/t0095-fuzz.sh runs them). Each target defines
 * LLVMFuzzerTestOneInput() and checks the invariants of the module it
 * drives with fuzz_assert(): a broken invariant aborts, and libFuzzer
 * saves the input as a crash, like an ASan or UBSan report.
 *
 * The targets are built with ASan and UBSan, so reading one byte past an
 * input is a crash: inputs are handed to the code under test in buffers of
 * exactly their size, never with a spare NUL unless the API wants a string.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define fuzz_assert(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", \
				__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A NUL-terminated copy of the input, for APIs that take strings. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	fuzz_assert(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * An fd reading the input from its start: a memfd holds it all, so the
 * reader sees end of file where the input ends, as from a closed pipe.
 * The caller closes it.
 */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t off = 0;

	fuzz_assert(fd >= 0);
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		fuzz_assert(n > 0);
		off += n;
	}
	fuzz_assert(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

#endif
