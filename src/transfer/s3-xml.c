#include "s3-xml.h"

#include <string.h>

#include "wrapper.h"
#include "banned.h"

static const struct {
	const char *name;
	char c;
} entities[] = {
	{ "&lt;", '<' },
	{ "&gt;", '>' },
	{ "&amp;", '&' },
	{ "&quot;", '"' },
	{ "&apos;", '\'' },
};

/* Append `len` bytes of XML text, entities decoded, controls as '?'. */
static void add_text(struct strbuf *out, const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		unsigned char c = *s;
		size_t i, n;

		if (c == '&') {
			for (i = 0; i < ARRAY_SIZE(entities); i++) {
				n = strlen(entities[i].name);
				if ((size_t)(end - s) >= n &&
				    !memcmp(s, entities[i].name, n))
					break;
			}
			if (i < ARRAY_SIZE(entities)) {
				strbuf_addch(out, entities[i].c);
				s += n;
				continue;
			}
		}
		strbuf_addch(out, c < 0x20 || c == 0x7f ? '?' : c);
		s++;
	}
}

int s3_xml_text(const char *body, const char *tag, struct strbuf *out)
{
	return s3_xml_text_capped(body, tag, S3_XML_TEXT_MAX, out);
}

int s3_xml_text_capped(const char *body, const char *tag, size_t max,
		       struct strbuf *out)
{
	size_t len;
	const char *a = s3_xml_element(body, tag, max, &len);

	if (!a)
		return 0;
	add_text(out, a, len);
	return 1;
}

const char *s3_xml_element(const char *body, const char *tag, size_t max,
			   size_t *len)
{
	struct strbuf open = STRBUF_INIT, close = STRBUF_INIT;
	const char *a, *b, *ret = NULL;

	strbuf_addf(&open, "<%s>", tag);
	strbuf_addf(&close, "</%s>", tag);
	a = strstr(body, open.buf);
	if (a) {
		a += open.len;
		b = strstr(a, close.buf);
		if (b && (size_t)(b - a) <= max) {
			*len = b - a;
			ret = a;
		}
	}
	strbuf_release(&open);
	strbuf_release(&close);
	return ret;
}

static const struct {
	const char *code;
	const char *hint;
} hints[] = {
	{ "AccessDenied", "check the credentials' permissions on the bucket, "
			  "and AWS_PROFILE" },
	{ "NoSuchBucket", "check the bucket name in model.storage and the "
			  "region" },
	{ "SignatureDoesNotMatch", "check AWS_SECRET_ACCESS_KEY or the "
				   "profile's secret, and model.s3.region" },
	{ "InvalidAccessKeyId", "check AWS_ACCESS_KEY_ID or the profile's "
				"key" },
	{ "RequestTimeTooSkewed", "the clock of this machine is off; fix "
				  "it (e.g. with NTP)" },
};

const char *s3_error_hint(const char *code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hints); i++)
		if (!strcmp(code, hints[i].code))
			return hints[i].hint;
	return NULL;
}

int s3_error_transient(const char *body)
{
	static const char *const codes[] = {
		"BadDigest", "XAmzContentSHA256Mismatch", "RequestTimeout",
	};
	struct strbuf code = STRBUF_INIT;
	size_t i;
	int ret = 0;

	if (s3_xml_text(body, "Code", &code))
		for (i = 0; i < ARRAY_SIZE(codes); i++)
			if (!strcmp(code.buf, codes[i]))
				ret = 1;
	strbuf_release(&code);
	return ret;
}

void s3_describe_error_body(long status, const char *body, struct strbuf *out)
{
	struct strbuf code = STRBUF_INIT, msg = STRBUF_INIT;
	const char *hint;

	strbuf_addf(out, "%ld", status);
	if (s3_xml_text(body, "Code", &code))
		strbuf_addf(out, " %s", code.buf);
	if (s3_xml_text(body, "Message", &msg))
		strbuf_addf(out, ": %s", msg.buf);
	hint = s3_error_hint(code.buf);
	if (hint)
		strbuf_addf(out, " (%s)", hint);
	strbuf_release(&code);
	strbuf_release(&msg);
}
