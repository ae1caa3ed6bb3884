/*
 * Unit tests for s3-xml.c: reading Code, Message and UploadId from the
 * bodies S3 answers with, and the one-line error description built from
 * them; what a hostile or broken body cannot do (long texts, unclosed
 * tags, escape sequences).
 */

#include <stdio.h>
#include <string.h>

#include "s3-xml.h"
#include "strbuf.h"
#include "unit-test.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static void text_is(const char *body, const char *tag, const char *want,
		    const char *what)
{
	struct strbuf out = STRBUF_INIT;
	int found = s3_xml_text(body, tag, &out);

	if (want) {
		ok(found, "found: %s", what);
		is_str(out.buf, want, "text: %s", what);
	} else {
		ok(!found && !out.len, "not found, nothing added: %s", what);
	}
	strbuf_release(&out);
}

static void describe_is(long status, const char *body, const char *want,
			const char *what)
{
	struct strbuf out = STRBUF_INIT;

	s3_describe_error_body(status, body, &out);
	is_str(out.buf, want, "describe: %s", what);
	strbuf_release(&out);
}

static void add_chars(struct strbuf *sb, int c, size_t n)
{
	while (n--)
		strbuf_addch(sb, c);
}

int main(void)
{
	struct strbuf big = STRBUF_INIT, text = STRBUF_INIT;

	text_is(XML_HEAD "<Error><Code>NoSuchBucket</Code></Error>", "Code",
		"NoSuchBucket", "a code");
	text_is("<InitiateMultipartUploadResult><UploadId>VXBsb2Fk</UploadId>"
		"</InitiateMultipartUploadResult>", "UploadId", "VXBsb2Fk",
		"an UploadId");
	text_is("<Code></Code>", "Code", "", "an empty text");
	text_is("<Code>AccessDenied", "Code", NULL, "an unclosed tag");
	text_is("</Code>x<Code>", "Code", NULL, "the close before the open");
	text_is("<Codes>x</Codes>", "Code", NULL, "a longer tag name");
	text_is("<ETag>&quot;abc-9&quot;</ETag>", "ETag", "\"abc-9\"",
		"entities are decoded");
	text_is("<Message>a &amp;lt; b &#10; &bogus;</Message>", "Message",
		"a &lt; b &#10; &bogus;", "only the five, only once");
	text_is("<Message>red\033[31m\r\nline</Message>", "Message",
		"red?[31m??line", "control characters become '?'");

	add_chars(&text, 'a', S3_XML_TEXT_MAX);
	strbuf_addf(&big, "<Message>%s</Message>", text.buf);
	text_is(big.buf, "Message", text.buf, "a text of the largest size");
	strbuf_reset(&big);
	strbuf_addf(&big, "<Message>a%s</Message>", text.buf);
	text_is(big.buf, "Message", NULL, "a text one byte too long");

	{
		const char *list = "<R><Upload><Key>a</Key></Upload>"
				   "<Upload><Key>b</Key></Upload></R>";
		const char *e;
		size_t len;

		e = s3_xml_element(list, "Upload", 100, &len);
		ok(e && len == 12 && !strncmp(e, "<Key>a</Key>", 12),
		   "the first element, raw");
		e = e ? s3_xml_element(e + len, "Upload", 100, &len) : NULL;
		ok(e && len == 12 && !strncmp(e, "<Key>b</Key>", 12),
		   "the next one, from the end of the first");
		ok(!(e ? s3_xml_element(e + len, "Upload", 100, &len) : e),
		   "then none");
		ok(!s3_xml_element(list, "Upload", 11, &len),
		   "none longer than the cap");
	}

	is_str(s3_error_hint("AccessDenied"),
	       "check the credentials' permissions on the bucket, and "
	       "AWS_PROFILE", "a hint for AccessDenied");
	ok(!s3_error_hint("NoSuchKey"), "no hint for NoSuchKey");
	ok(!s3_error_hint(""), "no hint for no code");

	ok(s3_error_transient(XML_HEAD "<Error><Code>BadDigest</Code>"
			      "<Message>The Content-MD5 you specified did not "
			      "match what we received.</Message></Error>"),
	   "BadDigest: the body changed on its way, send it again");
	ok(s3_error_transient("<Error><Code>XAmzContentSHA256Mismatch</Code>"
			      "</Error>"),
	   "XAmzContentSHA256Mismatch: send it again");
	ok(s3_error_transient("<Error><Code>RequestTimeout</Code></Error>"),
	   "RequestTimeout: send it again");
	ok(!s3_error_transient("<Error><Code>AccessDenied</Code></Error>"),
	   "AccessDenied is no passing fault");
	ok(!s3_error_transient("<Error><Code>BadDigestion</Code></Error>"),
	   "only the whole code counts");
	ok(!s3_error_transient(""), "no body: no passing fault");

	describe_is(403, XML_HEAD "<Error><Code>AccessDenied</Code><Message>"
		    "Access Denied</Message><RequestId>4442587FB7D0A2F9"
		    "</RequestId></Error>",
		    "403 AccessDenied: Access Denied (check the credentials' "
		    "permissions on the bucket, and AWS_PROFILE)",
		    "AccessDenied");
	describe_is(404, "<Error><Code>NoSuchKey</Code></Error>",
		    "404 NoSuchKey", "a code alone");
	describe_is(502, "<html><body>Bad Gateway</body></html>", "502",
		    "not S3's XML");
	describe_is(500, "", "500", "an empty body");

	strbuf_release(&big);
	strbuf_release(&text);
	return done_testing();
}
