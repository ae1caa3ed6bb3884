#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

/*
 * AWS Signature Version 4 (the S3 flavour: the payload's SHA-256 as
 * given, the path as sent) for the requests libcurl signs wrongly.
 * Before 8.10.0 (curl commit cf3e3d93d1, curl issue #14370) libcurl's
 * CURLOPT_AWS_SIGV4 sorts the canonical headers as whole "name:value"
 * lines, so a header whose name extends another's with '-' comes first
 * ("x-amz-server-side-encryption-aws-kms-key-id:" before
 * "x-amz-server-side-encryption:", as '-' < ':'), where SigV4 sorts by
 * name, and S3 refuses the signature. aws_sigv4_sign() sorts by name.
 *
 * It only computes: no I/O, no clock (the caller gives the time). The
 * secret is used in HMACs and never copied into the output.
 */

#include <time.h>

#include <curl/curl.h>

#include "strbuf.h"

struct aws_sigv4 {
	const char *method;         /* "PUT" */
	const char *url;            /* as sent: scheme://host[:port]/path?query,
				       path and query already in canonical
				       form (S3: no encoding twice) */
	const char *host;           /* the Host header that goes out */
	const struct curl_slist *headers; /* "Name: value", all signed */
	const char *payload_sha256; /* hex, or "UNSIGNED-PAYLOAD" */
	const char *region;
	const char *service;        /* "s3" */
	const char *access_key;
	const char *secret_key;
	time_t now;
};

/*
 * Sign: the value of the Authorization header in `authorization`, and
 * the x-amz-date the request must send with it (YYYYMMDDTHHMMSSZ) in
 * `amz_date`. x-amz-date and host are signed with `headers`. 0, or -1
 * when `url` has no path (reported).
 */
int aws_sigv4_sign(const struct aws_sigv4 *rq, struct strbuf *authorization,
		   char amz_date[17]);

/*
 * Does libcurl (the version running) sign a request with these headers
 * wrongly (see above)? 1 yes, 0 no.
 */
int aws_sigv4_curl_misorders(const struct curl_slist *headers);

#endif
