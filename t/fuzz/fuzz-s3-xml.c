/*
 * Fuzz the S3 XML reader (src/transfer/s3-xml.h) with the input as a response body.
 * Invariants: a text found is at most S3_XML_TEXT_MAX bytes and holds no
 * control character; not finding leaves the output alone; the one-line
 * error description starts with the status and holds no control
 * character either (it goes to the user's terminal).
 */

#include "fuzz.h"

#include "s3-xml.h"
#include "strbuf.h"

static int has_control(const struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < sb->len; i++)
		if ((unsigned char)sb->buf[i] < 0x20 || sb->buf[i] == 0x7f)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tags[] = {
		"Code", "Message", "UploadId", "ETag", "Error",
	};
	char *body = fuzz_strndup(data, size);
	struct strbuf out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(*tags); i++) {
		strbuf_addstr(&out, "x");
		if (s3_xml_text(body, tags[i], &out)) {
			fuzz_assert(out.len - 1 <= S3_XML_TEXT_MAX);
			fuzz_assert(!has_control(&out));
			fuzz_assert(strlen(out.buf) == out.len);
		} else {
			fuzz_assert(out.len == 1);
		}
		strbuf_reset(&out);
	}
	s3_describe_error_body(403, body, &out);
	fuzz_assert(!strncmp(out.buf, "403", 3));
	fuzz_assert(!has_control(&out));
	fuzz_assert(strlen(out.buf) == out.len);
	strbuf_release(&out);
	free(body);
	return 0;
}
