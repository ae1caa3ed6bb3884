#ifndef AWS_CONFIG_H
#define AWS_CONFIG_H

/*
 * AWS settings the way AWS tools read them, for the S3 backend:
 *
 * credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *              else the profile AWS_PROFILE (default "default") in the
 *              shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *              ~/.aws/credentials), then in the config file (AWS_CONFIG_FILE,
 *              else ~/.aws/config, where the section is "[profile NAME]",
 *              or "[default]")
 * region       AWS_REGION, AWS_DEFAULT_REGION, the profile's "region"
 *              (the caller puts model.s3.region before these)
 * endpoint     as the AWS CLI picks it for S3: AWS_ENDPOINT_URL_S3,
 *              AWS_ENDPOINT_URL, the profile's services section's
 *              "s3 = / endpoint_url", the profile's "endpoint_url"
 *              (config file); none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 *              or the profile's ignore_configured_endpoint_urls is "true".
 *              Whom an endpoint may get credentials is config_s3_endpoint()'s
 * CA file      AWS_CA_BUNDLE, the profile's "ca_bundle" (config file)
 *
 * Secrets live in memory only and are wiped on release; nothing here
 * prints them.
 */

#include "strbuf.h"

struct aws_config {
	char *access_key;
	char *secret_key;
	char *session_token;
	char *region;
	char *endpoint_url; /* the user's AWS settings', NULL when none */
	char *profile; /* which profile was read, for messages */
	char *ca_bundle;
};

#define AWS_CONFIG_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/* Fill what can be found. Returns 0, or -1 when a file is unreadable. */
int aws_config_load(struct aws_config *c);
void aws_config_release(struct aws_config *c);

#endif
