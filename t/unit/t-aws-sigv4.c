/*
 * Unit tests for aws-sigv4.c: AWS's own examples of Signature Version 4
 * for S3 ("Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk"), and the header order that
 * libcurl before 8.10 gets wrong.
 */

#include <string.h>

#include "aws-sigv4.h"
#include "strbuf.h"
#include "unit-test.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CREDENTIAL "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

static void sign(const char *method, const char *url,
		 struct curl_slist *headers, const char *payload,
		 struct strbuf *auth, char date[17])
{
	struct aws_sigv4 s = { 0 };

	s.method = method;
	s.url = url;
	s.host = "examplebucket.s3.amazonaws.com";
	s.headers = headers;
	s.payload_sha256 = payload;
	s.region = "us-east-1";
	s.service = "s3";
	s.access_key = "AKIAIOSFODNN7EXAMPLE";
	s.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	s.now = 1369353600; /* 2013-05-24T00:00:00Z */
	strbuf_reset(auth);
	ok(!aws_sigv4_sign(&s, auth, date), "signs %s %s", method, url);
}

int main(void)
{
	struct strbuf auth = STRBUF_INIT;
	struct curl_slist *h = NULL;
	char date[17];

	h = curl_slist_append(h, "Range: bytes=0-9");
	h = curl_slist_append(h, "x-amz-content-sha256: " EMPTY_SHA256);
	sign("GET", "https://examplebucket.s3.amazonaws.com/test.txt", h,
	     EMPTY_SHA256, &auth, date);
	is_str(date, "20130524T000000Z", "x-amz-date");
	is_str(auth.buf,
	       "AWS4-HMAC-SHA256 Credential=" CREDENTIAL ", SignedHeaders="
	       "host;range;x-amz-content-sha256;x-amz-date, Signature="
	       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	       "AWS's GET Object example");
	curl_slist_free_all(h);

	h = curl_slist_append(NULL, "Date: Fri, 24 May 2013 00:00:00 GMT");
	h = curl_slist_append(h, "x-amz-storage-class:   REDUCED_REDUNDANCY ");
	h = curl_slist_append(h, "x-amz-content-sha256: 44ce7dd67c959e0d3524"
				 "ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	sign("PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
	     h, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
	     &auth, date);
	is_str(auth.buf,
	       "AWS4-HMAC-SHA256 Credential=" CREDENTIAL ", SignedHeaders="
	       "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
	       "Signature="
	       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	       "AWS's PUT Object example (values trimmed)");
	curl_slist_free_all(h);

	h = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
	sign("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle=", h,
	     EMPTY_SHA256, &auth, date);
	ok(strstr(auth.buf, "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c"
			    "699e0f91ac7a200a0136783543") != NULL,
	   "AWS's GET Bucket Lifecycle example (a query, canonical)");
	curl_slist_free_all(h);

	h = curl_slist_append(NULL, "x-amz-server-side-encryption-aws-kms-key-id: k");
	h = curl_slist_append(h, "x-amz-server-side-encryption: aws:kms");
	sign("PUT", "https://examplebucket.s3.amazonaws.com/k", h,
	     EMPTY_SHA256, &auth, date);
	ok(strstr(auth.buf, "SignedHeaders=host;x-amz-date;"
			    "x-amz-server-side-encryption;"
			    "x-amz-server-side-encryption-aws-kms-key-id, ") !=
		   NULL,
	   "a name before the same name extended with '-'");
	ok(aws_sigv4_curl_misorders(h) ==
		   (curl_version_info(CURLVERSION_NOW)->version_num < 0x080a00),
	   "libcurl before 8.10 would order them wrongly");
	curl_slist_free_all(h);

	h = curl_slist_append(NULL, "x-amz-server-side-encryption: aws:kms");
	h = curl_slist_append(h, "x-amz-storage-class: STANDARD");
	ok(!aws_sigv4_curl_misorders(h), "other headers: libcurl is right");
	curl_slist_free_all(h);

	strbuf_release(&auth);
	return done_testing();
}
