#ifndef S3_XML_H
#define S3_XML_H

/*
 * The little XML that S3 answers with: error bodies
 *
 *	<?xml version="1.0" encoding="UTF-8"?>
 *	<Error><Code>NoSuchBucket</Code><Message>The specified bucket
 *	does not exist</Message>...</Error>
 *
 * and the few fields a client reads from results (UploadId, a listing's
 * <Upload> elements). This is not
 * an XML parser: it finds the text of the first <Tag>...</Tag>, which is
 * all S3's flat, schema-fixed answers need. The body comes from the
 * network, so nothing here trusts it: a text longer than S3_XML_TEXT_MAX
 * is not taken, the five predefined entities are decoded, and control
 * characters never reach `out` (a server cannot write escape sequences to
 * the user's terminal through an error message).
 *
 * This module only parses. It does no I/O.
 */

#include "strbuf.h"

#define S3_XML_TEXT_MAX 1024

/*
 * Append the text of the first <tag>...</tag> in the NUL-terminated
 * `body` to `out`. Returns 1 when found, 0 when not (`out` unchanged).
 */
int s3_xml_text(const char *body, const char *tag, struct strbuf *out);

/* The same with a cap of `max` bytes (an STS session token is long). */
int s3_xml_text_capped(const char *body, const char *tag, size_t max,
		       struct strbuf *out);

/*
 * The raw inner text of the first <tag>...</tag> in `body` (entities not
 * decoded): its start, its length in `len`; NULL when there is none or
 * it is longer than `max`. To walk repeated elements (a listing's
 * <Upload>), call again from the start plus `len`.
 */
const char *s3_xml_element(const char *body, const char *tag, size_t max,
			   size_t *len);

/* What to do about an S3 error code (e.g. "AccessDenied"), or NULL. */
const char *s3_error_hint(const char *code);

/*
 * 1 when the NUL-terminated error `body` names a code that says this
 * one request failed on its way and the same request may succeed if sent
 * again: the body's bytes changed on the way (BadDigest,
 * XAmzContentSHA256Mismatch) or came too slowly (RequestTimeout), as the
 * AWS SDKs retry them; else 0.
 */
int s3_error_transient(const char *body);

/*
 * Append "403 AccessDenied: Access Denied (hint)" for an HTTP `status`
 * and the NUL-terminated error `body` to `out`; the parts the body lacks
 * are left out.
 */
void s3_describe_error_body(long status, const char *body, struct strbuf *out);

#endif
