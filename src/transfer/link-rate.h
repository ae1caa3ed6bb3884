#ifndef LINK_RATE_H
#define LINK_RATE_H

/*
 * The rate at which raw uploads to a storage went, as
 * model.compression=auto measured it in a push (transfer-internal.h),
 * remembered in the local store's model directory for the next push, so
 * that its first objects choose their form before any of them has
 * measured the link: over a known slow link even the first object goes
 * compressed from its start, no raw byte of it sent.
 *
 * <model dir>/link-rates holds a line a storage: "<key> <bytes per
 * second> <unix time>", the key the sha256 of the storage's URL as shown
 * in messages (no credentials; no URL is written). Records older than
 * LINK_RATE_DAYS are not answered and are dropped at the next write; at
 * most LINK_RATE_MAX are kept, the newest. The file is a cache: written
 * whole through a rename without fsync, read only as whole well-formed
 * lines, the last writer of two pushes at once wins.
 *
 * link_rate_get() returns 1 with the rate, or 0 when none is known;
 * link_rate_put() returns 0 or -1 (reported as a warning: a push does
 * not fail for it).
 */

#define LINK_RATE_DAYS 7
#define LINK_RATE_MAX 64

int link_rate_get(const char *model_dir, const char *url, double *rate);
int link_rate_put(const char *model_dir, const char *url, double rate);

#endif
