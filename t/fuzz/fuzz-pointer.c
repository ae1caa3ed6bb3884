/*
 * Fuzz pointer_parse() (src/format/pointer.h). Invariants: a pointer that parses
 * formats back to the very same bytes (the spec has one canonical form);
 * pointer_maybe() says yes to every pointer; a rejection gives a one-line
 * reason and leaves the pointer released; the answer does not depend on
 * whether a reason is asked for.
 */

#include "fuzz.h"

#include "pointer.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct pointer p = POINTER_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int ret = pointer_parse(&p, buf, size, &err);

	if (!ret) {
		fuzz_assert(!err.len);
		fuzz_assert(pointer_maybe(buf, size));
		fuzz_assert(oid_hex_valid(p.oid));
		fuzz_assert(p.size <= POINTER_SIZE_MAX);
		pointer_format(&p, &out);
		fuzz_assert(out.len == size);
		fuzz_assert(!memcmp(out.buf, buf, size));
	} else {
		fuzz_assert(ret == -1);
		fuzz_assert(err.len);
		fuzz_assert(!memchr(err.buf, '\n', err.len));
		fuzz_assert(!p.url && !p.ext && !p.ext_nr);
	}
	pointer_release(&p);
	fuzz_assert(pointer_parse(&p, buf, size, NULL) == ret);
	pointer_release(&p);
	pointer_release(&p); /* twice is harmless */
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
