/*
 * Unit tests for pointer.c: every rule of git-model-pointer(5), accepted
 * and rejected, and the canonical round trip.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointer.h"
#include "strbuf.h"
#include "wrapper.h"
#include "unit-test.h"

#define OID "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define V "version git-model/1\n"
#define O "oid sha256:" OID "\n"
#define S "size 6\n"

/* Accept `text`, and check that formatting it gives it back byte for byte. */
static void accept(const char *text, const char *what)
{
	struct pointer p = POINTER_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int ret = pointer_parse(&p, text, strlen(text), &err);

	if (!ok(ret == 0, "accepts %s", what))
		printf("# error: %s\n", err.buf);
	if (!ret) {
		pointer_format(&p, &out);
		is_str(out.buf, text, "round trip of %s", what);
	}
	pointer_release(&p);
	strbuf_release(&err);
	strbuf_release(&out);
}

/* Reject `len` bytes of `text` with a message containing `word`. */
static void reject_len(const char *text, size_t len, const char *word,
		       const char *what)
{
	struct pointer p = POINTER_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret = pointer_parse(&p, text, len, &err);

	ok(ret == -1, "rejects %s", what);
	if (!ok(strstr(err.buf, word) != NULL, "  and says '%s'", word))
		printf("# message: %s\n", err.buf);
	ok(!p.url && !p.ext_nr, "  and leaves the pointer released");
	pointer_release(&p);
	strbuf_release(&err);
}

static void reject(const char *text, const char *word, const char *what)
{
	reject_len(text, strlen(text), word, what);
}

static void test_accept(void)
{
	struct pointer p = POINTER_INIT;
	const char *text;

	accept(V O S, "a minimal pointer");
	accept(V O S "url s3://bucket/prefix/sha256/58/91/" OID "\n",
	       "a pointer with url");
	accept(V O "size 0\n", "size 0");
	accept(V O "size 9223372036854775807\n", "size 2^63-1");
	accept(V "ext-a x\n" O S, "an unknown key before oid");
	accept(V O "p.x 1\n" S, "an unknown key between oid and size");
	accept(V O S "url https://h/x\nzz.9-a value with spaces\n",
	       "an unknown key after url, value with inner spaces");

	text = V "a1 first\n" O S "url http://127.0.0.1:8080/m\nz last\n";
	ok(!pointer_parse(&p, text, strlen(text), NULL), "parse all fields");
	is_str(p.oid, OID, "oid");
	is_int(p.size, 6, "size");
	is_str(p.url, "http://127.0.0.1:8080/m", "url");
	is_int(p.ext_nr, 2, "two unknown keys kept");
	is_str(p.ext[0].key, "a1", "first unknown key");
	is_str(p.ext[1].value, "last", "second unknown value");
	pointer_release(&p);
	pointer_release(&p);
	ok(!p.url && !p.ext, "releasing twice is harmless");
}

static void test_reject(void)
{
	char big[POINTER_MAX + 2];
	size_t fixed;

	reject("version https://git-lfs.github.com/spec/v1\n" O S,
	       "version", "a git-lfs pointer");
	reject("version git-model/2\n" O S, "version", "version 2");
	reject(O S, "version", "a missing version line");
	reject(O V S, "version", "version not first");
	reject(V "oid sha256:5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03\n" S,
	       "lowercase hex", "an uppercase oid");
	reject(V "oid sha256:" "891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n" S,
	       "64 lowercase hex", "63 hex digits");
	reject(V "oid sha256:0" OID "\n" S, "64 lowercase hex", "65 hex digits");
	reject(V "oid sha256:x891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n" S,
	       "64 lowercase hex", "a non-hex digit");
	reject(V "oid " OID "\n" S, "sha256:", "an oid without 'sha256:'");
	reject(V "oid sha256:../../../../tmp/x\n" S, "64 lowercase hex",
	       "an oid that is a path");
	reject(V O "size +5\n", "size", "size +5");
	reject(V O "size -5\n", "size", "size -5");
	reject(V O "size 05\n", "size", "size 05");
	reject(V O "size 00\n", "size", "size 00");
	reject(V O "size \n", "empty value", "an empty size");
	reject(V O "size 1.0\n", "size", "size 1.0");
	reject(V O "size 99999999999999999999\n", "size", "an overflowing size");
	reject(V O "size 9223372036854775808\n", "size", "size 2^63");
	reject("version git-model/1\r\n" O S, "CR", "CRLF line ends");
	reject(V O "size 6\r\n", "CR", "CRLF on the last line");
	reject(V S O, "byte order", "size before oid");
	reject(V O "url http://h/x\n" S, "byte order", "url before size");
	reject(V O O S, "duplicate", "a duplicate oid");
	reject(V "a x\na y\n" O S, "duplicate", "a duplicate unknown key");
	reject(V S, "missing key 'oid'", "a missing oid");
	reject(V O, "missing key 'size'", "a missing size");
	reject(V O S "zz x \n", "space", "a trailing space");
	reject(V O "size  6\n", "space", "two spaces after the key");
	reject(V "\n" O S, "empty line", "an empty line");
	reject(V O "size 6", "LF", "no final LF");
	reject_len(V O "size 6\0\n", sizeof(V O "size 6\0\n") - 1, "NUL",
		   "a NUL byte");
	reject(V "Ext x\n" O S, "[a-z0-9.-]", "an uppercase key");
	reject(V "e_x x\n" O S, "[a-z0-9.-]", "a key with '_'");
	reject(V O S "x\n", "space", "a key without value");
	reject("", "empty", "empty input");
	reject(V O S "url bucket/key\n", "scheme", "a url without scheme");
	reject(V O S "url HTTP://h/x\n", "scheme", "an uppercase scheme");
	reject(V O S "zz a\tb\n", "control", "a tab in a value");

	/* Exactly 1024 bytes is a pointer, 1025 is not. */
	fixed = strlen(V O S "zz \n");
	memcpy(big, V O S "zz ", fixed - 1);
	memset(big + fixed - 1, 'x', POINTER_MAX - fixed);
	big[POINTER_MAX - 1] = '\n';
	big[POINTER_MAX] = '\0';
	accept(big, "exactly 1024 bytes");
	memmove(big + fixed, big + fixed - 1, POINTER_MAX - fixed + 2);
	reject_len(big, POINTER_MAX + 1, "1024", "1025 bytes");
}

static void test_format(void)
{
	struct pointer p = POINTER_INIT;
	struct strbuf out = STRBUF_INIT;

	memcpy(p.oid, OID, OID_HEXSZ + 1);
	p.size = 44659025;
	pointer_set_url(&p, "file:///srv/models/sha256/58/91/" OID);
	p.ext = xcalloc(2, sizeof(*p.ext));
	p.ext[0] = (struct pointer_key){ xstrdup("a"), xstrdup("1") };
	p.ext[1] = (struct pointer_key){ xstrdup("v.2"), xstrdup("x y") };
	p.ext_nr = p.ext_alloc = 2;
	pointer_format(&p, &out);
	is_str(out.buf, V "a 1\n" O "size 44659025\n"
			"url file:///srv/models/sha256/58/91/" OID "\n"
			"v.2 x y\n",
	       "format merges known and unknown keys in byte order");
	pointer_release(&p);
	strbuf_release(&out);

	ok(oid_hex_valid(OID), "oid_hex_valid: a real oid");
	ok(!oid_hex_valid("5891"), "oid_hex_valid: too short");
	ok(!oid_hex_valid(OID "0"), "oid_hex_valid: too long");
	ok(!oid_hex_valid("../../../../etc/passwd/5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163"),
	   "oid_hex_valid: a path");
	ok(pointer_maybe(V O S, strlen(V O S)), "pointer_maybe: a pointer");
	ok(!pointer_maybe("hello\n", 6), "pointer_maybe: text");
	ok(!pointer_maybe(V O S, POINTER_MAX + 1), "pointer_maybe: too long");
}

int main(void)
{
	test_accept();
	test_reject();
	test_format();
	return done_testing();
}
