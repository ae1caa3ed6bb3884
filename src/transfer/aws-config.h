#ifndef AWS_CONFIG_H
#define AWS_CONFIG_H

/*
 * AWS settings the way AWS tools read them, for the S3 backend:
 *
 * profile      AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default". A
 *              profile named by either variable must exist in one of the
 *              two files below, else aws_config_load() fails naming it
 *              (the AWS CLI's ProfileNotFound), never falls back silently
 * files        the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
 *              else ~/.aws/credentials; section "[NAME]") and the config
 *              file (AWS_CONFIG_FILE, else ~/.aws/config; section
 *              "[profile NAME]", or "[default]"). Key names are matched
 *              without regard to case, section names exactly, as the
 *              CLI's parser does; a key of the credentials file wins
 * credentials  aws-credentials.h resolves them from the sources the SDKs
 *              use, in their order; this file only reads what a profile
 *              says
 * region       AWS_REGION, AWS_DEFAULT_REGION, the profile's "region"
 *              (the caller puts model.s3.region before these)
 * endpoint     as the AWS CLI picks one for a service (s3, sts):
 *              AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
 *              services section's "<service> = / endpoint_url", the
 *              profile's "endpoint_url"; none when
 *              AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
 *              ignore_configured_endpoint_urls is "true". Whom an S3
 *              endpoint may get credentials is config_s3_endpoint()'s
 * CA file      AWS_CA_BUNDLE, the profile's "ca_bundle"
 *
 * Secrets live in memory only and are wiped on release; nothing here
 * prints them.
 */

#include <time.h>

#include "strbuf.h"

/* What one profile says, both files read. Every field may be NULL. */
struct aws_profile {
	char *name;
	int found;            /* a section of that name is in either file */
	int keys_from_config; /* the keys below are the config file's */
	char *access_key;
	char *secret_key;
	char *session_token;
	char *region;
	char *endpoint_url;
	char *ca_bundle;
	char *services;
	char *ignore_endpoints;
	char *credential_process;
	char *role_arn;
	char *source_profile;
	char *credential_source;
	char *role_session_name;
	char *external_id;
	char *duration_seconds;
	char *web_identity_token_file;
	char *config_path; /* the config file read, for services sections */
};

#define AWS_PROFILE_INIT { 0 }

/*
 * Read profile `name` from both files. 0 (found or not: see `found`), or
 * -1 when a file exists and cannot be read.
 */
int aws_profile_read(const char *name, struct aws_profile *p);
void aws_profile_release(struct aws_profile *p);

/*
 * The endpoint the user's AWS settings give `service` ("s3", "sts";
 * AWS_ENDPOINT_URL_S3 is the variable of "s3"), appended to `out`, or
 * nothing. `p` may be NULL. 0, or -1 (reported).
 */
int aws_service_endpoint(const struct aws_profile *p, const char *service,
			 struct strbuf *out);

struct aws_config {
	char *access_key;
	char *secret_key;
	char *session_token;
	time_t expiration; /* of the credentials above; 0: none */
	char *source;      /* where they came from, for messages */
	char *region;
	char *endpoint_url; /* the user's AWS settings', NULL when none */
	char *profile; /* which profile was read, for messages */
	char *ca_bundle;
};

#define AWS_CONFIG_INIT { NULL }

/*
 * Fill the profile's name, the region, the S3 endpoint and the CA file,
 * and check what can be checked without a request: a profile that
 * AWS_PROFILE names exists, AWS_ACCESS_KEY_ID comes with its secret.
 * Credentials are aws_credentials_load()'s. 0, or -1 (reported).
 */
int aws_config_load(struct aws_config *c);
void aws_config_release(struct aws_config *c);

/* Forget the credentials (the fields above region), wiping them. */
void aws_config_drop_credentials(struct aws_config *c);

/* The value of environment variable `name`, NULL when unset or empty. */
const char *aws_env(const char *name);

#endif
