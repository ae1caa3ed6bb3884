/*
 * Unit tests for pointer.c against the spec (DESIGN.md, "Pointer file,
 * version 1"): what is accepted and its parsed fields, what is rejected and
 * why, canonical formatting and byte-for-byte round trips.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointer.h"
#include "strbuf.h"
#include "wrapper.h"
#include "unit-test.h"

/* sha256 of "hello\n", in two halves for short lines */
#define HELLO_A "5891b5b522d5df086d0ff0b110fbd9d2"
#define HELLO_B "1bb4fc7163af34d08286a2e846f6be03"
#define HELLO HELLO_A HELLO_B
#define UPPER "5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03"
#define VER "version git-model/1\n"
#define OID "oid sha256:" HELLO "\n"
#define SIZE "size 6\n"
#define URL_V "https://models.example.com/sha256/58/91/" HELLO
#define URL "url " URL_V "\n"
#define MIN VER OID SIZE

/*
 * Parse the NUL-terminated `text`, expecting success and no error text;
 * then format the result and expect `text` back, byte for byte. Leaves the
 * parsed pointer in `p` for the caller to check and release.
 */
static int accept_str(struct pointer *p, const char *text, const char *what)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int ret = pointer_parse(p, text, strlen(text), &err);
	int pass = ok(!ret && !err.len, "accept: %s", what);

	if (!pass)
		printf("# ret %d, error '%s'\n", ret, err.buf);
	if (!ret) {
		pointer_format(p, &out);
		pass &= ok(out.len == strlen(text) && !strcmp(out.buf, text),
			   "round trip: %s", what);
		if (out.len != strlen(text) || strcmp(out.buf, text))
			printf("# expected:\n%s# got:\n%s", text, out.buf);
	} else {
		pass &= ok(0, "round trip: %s (not parsed)", what);
	}
	strbuf_release(&err);
	strbuf_release(&out);
	return pass;
}

/*
 * Parse `len` bytes at `buf`, expecting -1, a one-line error containing
 * `word`, and a released pointer.
 */
static void reject_buf(const char *buf, size_t len, const char *word,
		       const char *what)
{
	struct pointer p;
	struct strbuf err = STRBUF_INIT;
	int ret;

	pointer_init(&p);
	ret = pointer_parse(&p, buf, len, &err);
	if (!ok(ret == -1 && strstr(err.buf, word) && !strchr(err.buf, '\n') &&
		!p.oid[0] && !p.size && !p.url && !p.ext && !p.ext_nr,
		"reject: %s", what))
		printf("# ret %d, error '%s', expected it to mention '%s'\n",
		       ret, err.buf, word);
	pointer_release(&p);
	strbuf_release(&err);
}

static void reject(const char *text, const char *word, const char *what)
{
	reject_buf(text, strlen(text), word, what);
}

/* A valid pointer of exactly `total` bytes: MIN plus "zz <x...>\n". */
static char *pointer_of_size(size_t total)
{
	size_t base = strlen(MIN "zz \n");
	char *buf = xmalloc(total + 1);

	memcpy(buf, MIN "zz ", base - 1);
	memset(buf + base - 1, 'x', total - base);
	buf[total - 1] = '\n';
	buf[total] = '\0';
	return buf;
}

static void test_accept(void)
{
	struct pointer p;
	char *big;

	if (accept_str(&p, MIN, "minimal canonical pointer")) {
		is_str(p.oid, HELLO, "minimal: oid");
		is_int(p.size, 6, "minimal: size");
		ok(!p.url && !p.ext_nr, "minimal: no url, no extra keys");
	}
	pointer_release(&p);

	if (accept_str(&p, MIN URL, "with url")) {
		is_str(p.url, URL_V, "with url: url");
		ok(!p.ext_nr, "with url: no extra keys");
	}
	pointer_release(&p);

	if (accept_str(&p, MIN "zz caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa4\x96\n",
		       "UTF-8 in an unknown value"))
		pointer_release(&p);
	if (accept_str(&p, VER OID "size 0\n", "size 0"))
		is_int(p.size, 0, "size 0: size");
	pointer_release(&p);

	if (accept_str(&p, VER OID "size 9223372036854775807\n",
		       "size 2^63-1"))
		ok(p.size == (uint64_t)INT64_MAX, "size 2^63-1: size");
	pointer_release(&p);

	if (accept_str(&p, VER "ext-a one\n" OID SIZE,
		       "unknown key before oid")) {
		is_int(p.ext_nr, 1, "before oid: one extra key");
		is_str(p.ext[0].key, "ext-a", "before oid: key kept");
		is_str(p.ext[0].value, "one", "before oid: value kept");
		is_str(p.oid, HELLO, "before oid: oid still parsed");
	}
	pointer_release(&p);

	if (accept_str(&p, VER OID "p.x two words\n" SIZE,
		       "unknown key between oid and size")) {
		is_int(p.ext_nr, 1, "between: one extra key");
		is_str(p.ext[0].key, "p.x", "between: key kept");
		is_str(p.ext[0].value, "two words",
		       "between: inner space kept");
		is_int(p.size, 6, "between: size still parsed");
	}
	pointer_release(&p);

	if (accept_str(&p, MIN URL "zz last\n", "unknown key after url")) {
		is_int(p.ext_nr, 1, "after url: one extra key");
		is_str(p.ext[0].key, "zz", "after url: key kept");
		is_str(p.url, URL_V, "after url: url still parsed");
	}
	pointer_release(&p);

	if (accept_str(&p, VER "0.a-1 a\n" "9 b\n" "a1.2-3 c\n" OID
		       "s-2.0 d\n" SIZE URL "v.1 e\n" "z9-.z f\n",
		       "keys with digits, dots and dashes, everywhere")) {
		is_int(p.ext_nr, 6, "digit keys: six extra keys");
		is_str(p.ext[0].key, "0.a-1",
		       "digit keys: first in byte order");
		is_str(p.ext[1].key, "9", "digit keys: second in byte order");
		is_str(p.ext[5].key, "z9-.z", "digit keys: last");
		is_str(p.ext[5].value, "f", "digit keys: last value");
	}
	pointer_release(&p);

	if (accept_str(&p, MIN "zz caf\xc3\xa9 \xe2\x9c\x93\n",
		       "UTF-8 in an unknown value"))
		is_str(p.ext[0].value, "caf\xc3\xa9 \xe2\x9c\x93",
		       "UTF-8 value kept");
	pointer_release(&p);

	accept_str(&p, MIN "url s3://acme-models/resnet/x\n", "s3 url");
	pointer_release(&p);
	accept_str(&p, MIN "url file:///srv/models/x\n", "file url");
	pointer_release(&p);

	big = pointer_of_size(POINTER_MAX);
	if (accept_str(&p, big, "exactly 1024 bytes"))
		is_int(strlen(p.ext[0].value),
		       POINTER_MAX - strlen(MIN "zz \n"),
		       "1024 bytes: long value kept whole");
	pointer_release(&p);
	free(big);

	ok(!pointer_parse(&p, MIN, strlen(MIN), NULL), "accept with err NULL");
	pointer_release(&p);
}

static void test_reject(void)
{
	static const char nul[] = VER OID "size 6\0\n";
	char *big;

	reject("version https://git-lfs.github.com/spec/v1\n" OID SIZE,
	       "line 1: unsupported version", "git-lfs version line");
	reject("version git-model/2\n" OID SIZE, "line 1: unsupported version",
	       "version git-model/2");
	reject("version git-model/1 \n" OID SIZE, "unsupported version",
	       "trailing space after the version");
	reject(OID SIZE, "line 1: first line is not", "missing version line");
	reject(OID VER SIZE, "line 1: first line is not",
	       "version not first");
	reject(MIN "version git-model/1\n", "line 4: duplicate key 'version'",
	       "version line repeated at the end");

	reject(VER "oid sha256:" UPPER "\n" SIZE,
	       "line 2: oid is not 64 lowercase", "oid in uppercase hex");
	reject(VER "oid sha256:" HELLO_A "1bb4fc7163af34d08286a2e846f6bE03\n"
	       SIZE, "oid is not 64 lowercase", "oid with one uppercase digit");
	reject(VER "oid sha256:" HELLO_A "1bb4fc7163af34d08286a2e846f6be0\n"
	       SIZE, "oid is not 64 lowercase", "oid of 63 hex digits");
	reject(VER "oid sha256:" HELLO "0\n" SIZE, "oid is not 64 lowercase",
	       "oid of 65 hex digits");
	reject(VER "oid sha256:" HELLO_A "1bb4fc7163af34d08286a2e846f6beg3\n"
	       SIZE, "oid is not 64 lowercase", "oid with a non-hex digit");
	reject(VER "oid " HELLO "\n" SIZE, "line 2: oid does not start with",
	       "oid without the sha256: prefix");
	reject(VER "oid sha1:" HELLO "\n" SIZE, "does not start with 'sha256:'",
	       "oid with another algorithm");
	reject(VER "oid ../../../../tmp/x\n" SIZE, "does not start with",
	       "oid ../../../../tmp/x");
	reject(VER "oid sha256:../../../../tmp/x\n" SIZE,
	       "oid is not 64 lowercase", "oid sha256:../../../../tmp/x");

	reject(VER OID "size +5\n", "line 3: size is not", "size +5");
	reject(VER OID "size -5\n", "line 3: size is not", "size -5");
	reject(VER OID "size 05\n", "line 3: size is not", "size 05");
	reject(VER OID "size 00\n", "line 3: size is not", "size 00");
	reject(VER OID "size \n", "line 3: empty value", "size empty");
	reject(VER OID "size 1.0\n", "line 3: size is not", "size 1.0");
	reject(VER OID "size 0x10\n", "line 3: size is not", "size 0x10");
	reject(VER OID "size 99999999999999999999\n", "line 3: size is not",
	       "size 99999999999999999999");
	reject(VER OID "size 9223372036854775808\n", "line 3: size is not",
	       "size 2^63");
	reject(VER OID "size 18446744073709551616\n", "line 3: size is not",
	       "size 2^64");

	reject("version git-model/1\r\noid sha256:" HELLO "\r\nsize 6\r\n",
	       "line 1: CRLF", "CRLF line ends");
	reject(VER OID "size 6\r\n", "line 3: CRLF", "CRLF on the last line");
	reject(VER OID "size 6\r7\n", "line 3: carriage return",
	       "bare CR inside a value");
	reject(VER OID "zz a\tb\n" SIZE, "control character",
	       "tab inside a value");
	reject(VER OID SIZE "zz \xff\xfe\n", "line 4: value is not valid UTF-8",
	       "invalid UTF-8 in a value");
	reject(VER OID SIZE "zz \xc0\xaf\n", "not valid UTF-8",
	       "overlong UTF-8 in a value");
	reject(VER OID SIZE "zz \xed\xa0\x80\n", "not valid UTF-8",
	       "a UTF-16 surrogate in a value");
	reject(VER OID SIZE "zz \xe2\x82\n", "not valid UTF-8",
	       "a truncated UTF-8 sequence");

	reject(VER SIZE OID, "line 3: key 'oid' is out of byte order",
	       "size before oid");
	reject(VER OID URL SIZE, "line 4: key 'size' is out of byte order",
	       "url before size");
	reject(VER "p.x 1\n" OID SIZE, "line 3: key 'oid' is out of byte order",
	       "unknown key out of order");
	reject(VER OID OID SIZE, "line 3: duplicate key 'oid'",
	       "duplicate oid");
	reject(VER OID SIZE SIZE, "line 4: duplicate key 'size'",
	       "duplicate size");
	reject(VER "ext-a 1\next-a 2\n" OID SIZE,
	       "line 3: duplicate key 'ext-a'", "duplicate unknown key");
	reject(VER SIZE, "missing key 'oid'", "missing oid");
	reject(VER OID, "missing key 'size'", "missing size");
	reject(VER, "missing key 'oid'", "version line alone");

	big = pointer_of_size(POINTER_MAX + 1);
	reject(big, "larger than 1024", "1025 bytes, otherwise valid");
	free(big);

	reject(VER OID "size 6 \n", "line 3: extra space", "trailing space");
	reject(VER "oid  sha256:" HELLO "\n" SIZE, "line 2: extra space",
	       "two spaces between key and value");
	reject(VER "\n" OID SIZE, "line 2: empty line", "empty line inside");
	reject(MIN "\n", "line 4: empty line", "empty line at the end");
	reject(VER OID "size 6", "does not end with LF", "no final LF");
	reject_buf(nul, sizeof(nul) - 1, "NUL byte", "NUL byte inside");
	reject(VER OID "Size 6\n", "line 3: key is not", "key with uppercase");
	reject(VER "ext_a 1\n" OID SIZE, "line 2: key is not",
	       "key with underscore");
	reject(VER OID "size\n", "line 3: no space", "key without a value");
	reject("", "empty content", "empty input");
	reject(MIN "url models.example.com/x\n", "line 4: url is not",
	       "url without scheme");
	reject(MIN "url https://\n", "line 4: url is not",
	       "url of a bare scheme");
	reject(MIN "url HTTPS://example.com/x\n", "line 4: url is not",
	       "url with an uppercase scheme");

	/* The url is copied before the error is found: it must be freed. */
	reject(MIN URL "zz \n", "line 5: empty value",
	       "error after the url leaves the pointer released");

	ok(pointer_parse(&(struct pointer)POINTER_INIT, "", 0, NULL) == -1,
	   "reject with err NULL");
}

static void test_format(void)
{
	struct pointer p = POINTER_INIT;
	struct pointer_key ext[] = {
		{ "a.b", "first" }, { "p.x", "between" }, { "zz", "last" },
	};
	struct strbuf out = STRBUF_INIT;

	memcpy(p.oid, HELLO, sizeof(HELLO));
	p.size = 6;
	pointer_format(&p, &out);
	is_str(out.buf, MIN, "format: minimal");

	strbuf_reset(&out);
	pointer_set_url(&p, URL_V);
	p.ext = ext;
	p.ext_nr = p.ext_alloc = ARRAY_SIZE(ext);
	p.size = 44659025;
	pointer_format(&p, &out);
	is_str(out.buf, VER "a.b first\n" OID "p.x between\n"
	       "size 44659025\n" URL "zz last\n",
	       "format: url and extra keys merged in byte order");

	strbuf_reset(&out);
	p.size = (uint64_t)INT64_MAX;
	p.ext = NULL;
	p.ext_nr = p.ext_alloc = 0;
	pointer_set_url(&p, NULL);
	pointer_format(&p, &out);
	is_str(out.buf, VER OID "size 9223372036854775807\n",
	       "format: largest size, url cleared");

	strbuf_reset(&out);
	strbuf_addstr(&out, "keep:");
	pointer_format(&p, &out);
	ok(!strncmp(out.buf, "keep:" VER, strlen("keep:" VER)),
	   "format appends to the strbuf");

	pointer_release(&p);
	strbuf_release(&out);
}

static void test_oid_hex_valid(void)
{
	ok(oid_hex_valid(HELLO), "oid_hex_valid: 64 lowercase hex");
	ok(oid_hex_valid("00000000000000000000000000000000"
			 "00000000000000000000000000000000"),
	   "oid_hex_valid: all zeros");
	ok(!oid_hex_valid(UPPER), "oid_hex_valid: uppercase");
	ok(!oid_hex_valid(HELLO + 1), "oid_hex_valid: 63 digits");
	ok(!oid_hex_valid(HELLO "0"), "oid_hex_valid: 65 digits");
	ok(!oid_hex_valid("g891b5b522d5df086d0ff0b110fbd9d2" HELLO_B),
	   "oid_hex_valid: non-hex digit");
	ok(!oid_hex_valid("sha256:" HELLO), "oid_hex_valid: with prefix");
	ok(!oid_hex_valid(""), "oid_hex_valid: empty");
	ok(!oid_hex_valid("../../../../tmp/x"), "oid_hex_valid: a path");
}

static void test_maybe(void)
{
	char *big;

	ok(pointer_maybe(MIN, strlen(MIN)), "maybe: a valid pointer");
	ok(pointer_maybe(VER, strlen(VER)), "maybe: the version line alone");
	ok(pointer_maybe(VER "junk", strlen(VER "junk")),
	   "maybe: version line then anything");
	ok(!pointer_maybe("", 0), "maybe: empty");
	ok(!pointer_maybe("version git-model/1", 19),
	   "maybe: version line without LF");
	ok(!pointer_maybe("version git-model/10\n", 21),
	   "maybe: version git-model/10");
	ok(!pointer_maybe("version https://git-lfs.github.com/spec/v1\n", 43),
	   "maybe: a git-lfs pointer");
	ok(!pointer_maybe("\x89PNG\r\n\x1a\n", 8), "maybe: binary content");
	ok(!pointer_maybe(OID VER SIZE, strlen(OID VER SIZE)),
	   "maybe: version not first");
	big = pointer_of_size(POINTER_MAX);
	ok(pointer_maybe(big, POINTER_MAX), "maybe: 1024 bytes");
	free(big);
	big = pointer_of_size(POINTER_MAX + 1);
	ok(!pointer_maybe(big, POINTER_MAX + 1), "maybe: 1025 bytes");
	free(big);
}

static void test_release(void)
{
	struct pointer p;
	struct pointer fresh = POINTER_INIT;

	ok(!pointer_parse(&p, MIN URL "zz 1\n", strlen(MIN URL "zz 1\n"), NULL),
	   "release: parse a pointer with url and an extra key");
	pointer_release(&p);
	pointer_release(&p);
	ok(!p.oid[0] && !p.url && !p.ext && !p.ext_nr && !p.ext_alloc,
	   "release: a released pointer can be released again");
	pointer_release(&fresh);
	ok(!fresh.url && !fresh.ext, "release: POINTER_INIT can be released");
}

int main(void)
{
	test_accept();
	test_reject();
	test_format();
	test_oid_hex_valid();
	test_maybe();
	test_release();
	return done_testing();
}
