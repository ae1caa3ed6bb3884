/*
 * Fuzz the storage URL parsing that does no I/O (src/transfer/storage.h:
 * storage_url_valid(), url_without_userinfo(), url_decode_path(),
 * url_encode_path(), storage_object_url(); src/transfer/credential.h:
 * credential_from_url()). The input is the URL, as a string.
 *
 * Invariants: a URL is valid exactly when its scheme is one a backend
 * serves, and the reason for refusing one shows it as messages do; the
 * URL shown in messages has no userinfo left in its authority;
 * decoding a path never yields NUL or an encoded '/', and decodes what
 * url_encode_path() encoded back to the same bytes; an object's URL is the
 * base without trailing slashes plus /sha256/aa/bb/<oid>; a credential
 * taken from a URL has a host without '/'; a pointer url that
 * pointer_url_allowed() lets through is under an allowed prefix, ends in
 * the object's own path, and has no userinfo, query, fragment, dot
 * segment or encoded separator (model.allowPointerUrls is set on the
 * "command line", GIT_CONFIG_PARAMETERS, so no repository is needed).
 */

#include "fuzz.h"

#include "credential.h"
#include "pointer-url.h"
#include "storage.h"
#include "strbuf.h"

#define OID "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static int has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return !strncmp(url, scheme, n) && !strncmp(url + n, "://", 3);
}

/* The authority of `url`: after "://", up to the first of "/?#". */
static const char *authority(const char *url, size_t *len)
{
	const char *a = strstr(url, "://");

	if (!a)
		return NULL;
	a += 3;
	*len = strcspn(a, "/?#");
	return a;
}

static void check_userinfo(const char *url)
{
	char *shown = url_without_userinfo(url);
	const char *a;
	size_t len;

	fuzz_assert(strlen(shown) <= strlen(url));
	a = authority(shown, &len);
	if (!a)
		fuzz_assert(!strcmp(shown, url));
	else
		fuzz_assert(!memchr(a, '@', len));
	free(shown);
}

static void check_valid(const char *url)
{
	struct strbuf why = STRBUF_INIT;
	int want = has_scheme(url, "file") || has_scheme(url, "http") ||
		   has_scheme(url, "https") || has_scheme(url, "s3") ||
		   has_scheme(url, "lfs+http") ||
		   has_scheme(url, "lfs+https") || has_scheme(url, "lfs+ssh");

	fuzz_assert(storage_url_valid(url, NULL) == want);
	fuzz_assert(storage_url_valid(url, &why) == want);
	fuzz_assert(!want == !!why.len);
	/* the refusal shows the URL as messages do: without userinfo */
	if (!want) {
		char *shown = url_without_userinfo(url);

		fuzz_assert(strstr(why.buf, shown));
		free(shown);
	}
	strbuf_release(&why);
}

static void check_decode(const char *url)
{
	struct strbuf dec = STRBUF_INIT, enc = STRBUF_INIT, back = STRBUF_INIT;

	if (!url_decode_path(url, &dec)) {
		fuzz_assert(strlen(dec.buf) == dec.len);
		fuzz_assert(dec.len <= strlen(url));
	}
	url_encode_path(url, &enc);
	fuzz_assert(strlen(enc.buf) == enc.len);
	fuzz_assert(!url_decode_path(enc.buf, &back));
	fuzz_assert(!strcmp(back.buf, url));
	strbuf_release(&dec);
	strbuf_release(&enc);
	strbuf_release(&back);
}

static void check_object_url(const char *url)
{
	struct strbuf out = STRBUF_INIT;
	const char *tail = "/sha256/58/91/" OID;
	size_t len = strlen(url);

	while (len && url[len - 1] == '/')
		len--;
	storage_object_url(url, OID, &out);
	fuzz_assert(out.len == len + strlen(tail));
	fuzz_assert(!memcmp(out.buf, url, len));
	fuzz_assert(!strcmp(out.buf + len, tail));
	strbuf_release(&out);
}

static void check_credential(const char *url)
{
	struct credential c = CREDENTIAL_INIT;

	if (!credential_from_url(&c, url)) {
		fuzz_assert(c.protocol && c.host);
		fuzz_assert(!strchr(c.host, '/'));
		fuzz_assert(!c.password || c.username);
	}
	credential_release(&c);
}

#define ALLOW_A "https://models.example.com/team"
#define ALLOW_B "http://127.0.0.1:8080/m/"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("GIT_CONFIG_PARAMETERS",
	       "'model.allowPointerUrls'='" ALLOW_A ", " ALLOW_B "'", 1);
	return 0;
}

static int has_dot_segment(const char *path)
{
	const char *p;

	for (p = path; (p = strchr(p, '/')); p++)
		if (!strcmp(p + 1, ".") || !strncmp(p + 1, "./", 2) ||
		    !strcmp(p + 1, "..") || !strncmp(p + 1, "../", 3))
			return 1;
	return 0;
}

static void check_pointer_url(const char *url)
{
	struct pointer p = POINTER_INIT;
	struct strbuf base = STRBUF_INIT, why = STRBUF_INIT;
	const char *tail = "/sha256/58/91/" OID, *a;
	size_t len;

	memcpy(p.oid, OID, sizeof(p.oid));
	p.url = (char *)url;
	if (pointer_url_allowed(NULL, &p, &base, &why)) {
		fuzz_assert(!why.len);
		fuzz_assert(!strncmp(url, ALLOW_A "/", strlen(ALLOW_A) + 1) ||
			    !strncmp(url, ALLOW_B, strlen(ALLOW_B)));
		fuzz_assert(strlen(url) == base.len + strlen(tail));
		fuzz_assert(!memcmp(url, base.buf, base.len));
		fuzz_assert(!strcmp(url + base.len, tail));
		a = authority(url, &len);
		fuzz_assert(a && !memchr(a, '@', len));
		fuzz_assert(!strpbrk(url, "?#\\"));
		fuzz_assert(!has_dot_segment(a + len));
		fuzz_assert(!strcasestr(url, "%2e") && !strcasestr(url, "%2f") &&
			    !strcasestr(url, "%5c"));
	} else {
		fuzz_assert(why.len && !base.len);
	}
	strbuf_release(&base);
	strbuf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_strndup(data, size);

	check_valid(url);
	check_userinfo(url);
	check_decode(url);
	check_object_url(url);
	check_credential(url);
	check_pointer_url(url);
	free(url);
	return 0;
}
