#ifndef AWS_CREDENTIALS_H
#define AWS_CREDENTIALS_H

/*
 * AWS credentials from the sources the AWS CLI and SDKs use, in their
 * order (the first that has credentials wins):
 *
 *  1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *     AWS_SESSION_TOKEN (one key without the other is aws_config_load()'s
 *     "partial credentials" error)
 *  2. the profile's role_arn, with source_profile (that profile's
 *     credentials, resolved the same way) or credential_source
 *     (Environment, Ec2InstanceMetadata, EcsContainer): STS AssumeRole,
 *     a POST signed with SigV4 for service "sts"
 *  3. web identity, the profile's web_identity_token_file and role_arn,
 *     else AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS): STS
 *     AssumeRoleWithWebIdentity (unsigned; the token goes in the body)
 *  4. the profile's keys in the shared credentials file
 *  5. the profile's credential_process: split into words as the CLI does
 *     (quotes, backslashes) and run without a shell; its stdout is JSON
 *     {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 *     "Expiration"}
 *  6. the profile's keys in the config file
 *  7. the container endpoint: http://169.254.170.2 +
 *     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else
 *     AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be https or a
 *     loopback address (as the SDKs require); the Authorization header is
 *     the content of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN
 *  8. EC2 instance metadata (IMDSv2: a PUT for a session token first),
 *     at AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254;
 *     skipped when AWS_EC2_METADATA_DISABLED is "true". No answer within
 *     a second means "not on EC2": no credentials, not an error.
 *
 * STS is at the endpoint the user's AWS settings give "sts"
 * (AWS_ENDPOINT_URL_STS, ...: aws_service_endpoint()), else
 * https://sts.<region>.amazonaws.com. Every endpoint here comes from the
 * user's environment or AWS files, never from a repository's settings.
 *
 * Credentials with an Expiration carry it (aws_config.expiration); an
 * answer whose credentials have already expired is an error saying so.
 * Nothing here prints a secret, a token or a process's output.
 */

#include "aws-config.h"

struct http_transport;

/*
 * Seconds before their expiration at which temporary credentials are
 * fetched again (the SDKs' advisory refresh).
 */
#define AWS_CREDENTIALS_REFRESH 600

/*
 * Resolve credentials for c->profile into `c` (its credential fields
 * empty). `t` (may be NULL) sets TLS and proxy for STS requests; `region`
 * is STS's signing region. 1 when found, 0 when no source has any, -1 on
 * an error (reported: a source that is configured and fails).
 */
int aws_credentials_load(struct aws_config *c, const char *region,
			 const struct http_transport *t);


#endif
