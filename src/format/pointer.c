#include "pointer.h"

#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

static const char version_line[] = "version " POINTER_VERSION "\n";

void pointer_init(struct pointer *p)
{
	memset(p, 0, sizeof(*p));
}

void pointer_release(struct pointer *p)
{
	size_t i;

	for (i = 0; i < p->ext_nr; i++) {
		free(p->ext[i].key);
		free(p->ext[i].value);
	}
	free(p->ext);
	free(p->url);
	pointer_init(p);
}

void pointer_set_url(struct pointer *p, const char *url)
{
	free(p->url);
	p->url = url ? xstrdup(url) : NULL;
}

static int is_hex_lower(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int oid_hex_valid_len(const char *hex, size_t len)
{
	size_t i;

	if (len != OID_HEXSZ)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_hex_lower((unsigned char)hex[i]))
			return 0;
	return 1;
}

int oid_hex_valid(const char *hex)
{
	return oid_hex_valid_len(hex, strnlen(hex, OID_HEXSZ + 1));
}

static int key_valid(const char *key, size_t len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* Length of the valid UTF-8 sequence at `s` (at most `len` bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Values: no control bytes, not empty, no leading or trailing space. */
static const char *value_problem(const char *v, size_t len)
{
	size_t i;

	if (!len)
		return "empty value";
	if (v[0] == ' ' || v[len - 1] == ' ')
		return "extra space around the value";
	for (i = 0; i < len;) {
		unsigned char c = v[i];
		size_t n;

		if (c == '\r')
			return "carriage return (CRLF line ends are not allowed)";
		if (c < 0x20 || c == 0x7f)
			return "control character in the value";
		n = utf8_len((const unsigned char *)v + i, len - i);
		if (!n)
			return "value is not valid UTF-8";
		i += n;
	}
	return NULL;
}

/* Parse a size: decimal, no sign, no leading zero, at most INT64_MAX. */
static int parse_size(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (!len || (len > 1 && v[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = v[i] - '0';
		if (n > ((uint64_t)POINTER_SIZE_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/* scheme "://" rest, scheme per RFC 3986, lowercase only. */
static int url_plausible(const char *v, size_t len)
{
	size_t i;

	if (!len || v[0] < 'a' || v[0] > 'z')
		return 0;
	for (i = 1; i < len; i++) {
		char c = v[i];

		if (c == ':')
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '.' || c == '-'))
			return 0;
	}
	return i + 3 < len && !memcmp(v + i, "://", 3);
}

static int fail(struct pointer *p, struct strbuf *err, int line,
		const char *fmt, const char *arg)
{
	pointer_release(p);
	if (err) {
		if (line)
			strbuf_addf(err, "line %d: ", line);
		strbuf_addf(err, fmt, arg);
	}
	return -1;
}

int pointer_maybe(const char *buf, size_t len)
{
	size_t n = sizeof(version_line) - 1;

	return len <= POINTER_MAX && len >= n && !memcmp(buf, version_line, n);
}

int pointer_parse(struct pointer *p, const char *buf, size_t len,
		  struct strbuf *err)
{
	const char *end = buf + len, *line = buf;
	char prev_key[POINTER_MAX + 1] = "", key[POINTER_MAX + 1];
	int lineno = 0, have_oid = 0, have_size = 0;

	pointer_init(p);
	if (len > POINTER_MAX)
		return fail(p, err, 0, "pointer is larger than %s bytes",
			    "1024");
	if (!len)
		return fail(p, err, 0, "%s", "empty content is not a pointer");
	if (memchr(buf, '\0', len))
		return fail(p, err, 0, "%s", "NUL byte in pointer");
	if (buf[len - 1] != '\n')
		return fail(p, err, 0, "%s", "last line does not end with LF");

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		const char *sp, *val, *why;
		size_t klen, vlen;

		lineno++;
		if (nl > line && nl[-1] == '\r')
			return fail(p, err, lineno, "%s",
				    "CRLF line end (pointers use LF only)");
		if (nl == line)
			return fail(p, err, lineno, "%s", "empty line");
		sp = memchr(line, ' ', nl - line);
		if (!sp)
			return fail(p, err, lineno, "%s",
				    "no space between key and value");
		klen = sp - line;
		val = sp + 1;
		vlen = nl - val;

		if (lineno == 1) {
			if (klen != 7 || memcmp(line, "version", 7))
				return fail(p, err, lineno, "%s",
					    "first line is not 'version "
					    POINTER_VERSION "'");
			if (vlen != strlen(POINTER_VERSION) ||
			    memcmp(val, POINTER_VERSION, vlen))
				return fail(p, err, lineno, "%s",
					    "unsupported version (expected '"
					    POINTER_VERSION "')");
			line = nl + 1;
			continue;
		}

		if (!key_valid(line, klen))
			return fail(p, err, lineno, "%s",
				    "key is not [a-z0-9.-]+");
		if ((why = value_problem(val, vlen)))
			return fail(p, err, lineno, "%s", why);
		memcpy(key, line, klen);
		key[klen] = '\0';
		if (prev_key[0]) {
			int c = strcmp(key, prev_key);

			if (!c)
				return fail(p, err, lineno, "duplicate key '%s'",
					    key);
			if (c < 0)
				return fail(p, err, lineno, "key '%s' is out of "
					    "byte order", key);
		}
		memcpy(prev_key, key, klen + 1);

		if (!strcmp(prev_key, "version")) {
			return fail(p, err, lineno, "duplicate key '%s'",
				    "version");
		} else if (!strcmp(prev_key, "oid")) {
			if (vlen < 7 || memcmp(val, "sha256:", 7))
				return fail(p, err, lineno, "%s",
					    "oid does not start with 'sha256:'");
			if (!oid_hex_valid_len(val + 7, vlen - 7))
				return fail(p, err, lineno, "%s",
					    "oid is not 64 lowercase hex digits");
			memcpy(p->oid, val + 7, OID_HEXSZ);
			p->oid[OID_HEXSZ] = '\0';
			have_oid = 1;
		} else if (!strcmp(prev_key, "size")) {
			if (parse_size(val, vlen, &p->size) < 0)
				return fail(p, err, lineno, "%s",
					    "size is not a decimal number without "
					    "sign or leading zero, at most "
					    "2^63-1");
			have_size = 1;
		} else if (!strcmp(prev_key, "url")) {
			if (!url_plausible(val, vlen))
				return fail(p, err, lineno, "%s",
					    "url is not of the form "
					    "scheme://...");
			p->url = xstrndup(val, vlen);
		} else {
			ALLOC_GROW(p->ext, p->ext_nr + 1, p->ext_alloc);
			p->ext[p->ext_nr].key = xstrdup(prev_key);
			p->ext[p->ext_nr].value = xstrndup(val, vlen);
			p->ext_nr++;
		}
		line = nl + 1;
	}
	if (!lineno)
		return fail(p, err, 0, "%s", "no version line");
	if (!have_oid)
		return fail(p, err, 0, "missing key '%s'", "oid");
	if (!have_size)
		return fail(p, err, 0, "missing key '%s'", "size");
	return 0;
}

static void add_kv(struct strbuf *out, const char *key, const char *value)
{
	strbuf_addf(out, "%s %s\n", key, value);
}

void pointer_format(const struct pointer *p, struct strbuf *out)
{
	char size[24];
	char oid[8 + OID_HEXSZ];
	struct pointer_key known[3];
	size_t nk = 0, ki = 0, ei = 0;

	if (!oid_hex_valid(p->oid))
		BUG("pointer_format() with invalid oid '%s'", p->oid);
	xsnprintf(oid, sizeof(oid), "sha256:%s", p->oid);
	xsnprintf(size, sizeof(size), "%llu", (unsigned long long)p->size);
	known[nk++] = (struct pointer_key){ "oid", oid };
	known[nk++] = (struct pointer_key){ "size", size };
	if (p->url)
		known[nk++] = (struct pointer_key){ "url", p->url };

	strbuf_addstr(out, version_line);
	while (ki < nk || ei < p->ext_nr) {
		if (ei == p->ext_nr ||
		    (ki < nk && strcmp(known[ki].key, p->ext[ei].key) < 0)) {
			add_kv(out, known[ki].key, known[ki].value);
			ki++;
		} else {
			add_kv(out, p->ext[ei].key, p->ext[ei].value);
			ei++;
		}
	}
}
