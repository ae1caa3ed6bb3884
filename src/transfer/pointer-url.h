#ifndef POINTER_URL_H
#define POINTER_URL_H

/*
 * Following a pointer's url line. A pointer comes from whoever wrote the
 * repository, so its url is data from a stranger: it could name a local
 * file (file:///etc/passwd), a cloud metadata service
 * (http://169.254.169.254/), or a host that should not see our
 * credentials. The rules:
 *
 *  - Objects are fetched by oid from the configured storage; a url is
 *    only looked at when there is no storage for the repository.
 *  - Only http:// and https:// urls, without user:password@, query or
 *    fragment, ending in the object's own path, /sha256/aa/bb/<oid> for
 *    the pointer's oid. Never file://; an s3:// url only through
 *    model.storage.
 *  - Only under a prefix listed in model.allowPointerUrls (commas or
 *    spaces between prefixes; `*` allows any http(s) url). Not set:
 *    no url is followed.
 *  - Requests are anonymous: no credential helper, no
 *    model.http.extraHeader, so no secret goes to a host it was not
 *    given for.
 *  - The bytes are verified against the oid like any download.
 */

#include <stddef.h>

#include "pointer.h"
#include "repo.h"
#include "store.h"
#include "strbuf.h"

/*
 * May `p`'s url be followed? 1 yes, with the storage base URL the object
 * is under in `base`; 0 no, with the reason in `why` (one phrase).
 */
int pointer_url_allowed(const struct repo *r, const struct pointer *p,
			struct strbuf *base, struct strbuf *why);

/*
 * Download the objects of the `nr` pointers (paths name them in
 * messages) that are not in `store`, through their urls, anonymously.
 * A pointer whose url may not be followed is reported once. Returns the
 * number of objects still missing.
 */
size_t pointer_url_fetch(const struct repo *r, struct store *store,
			 const struct pointer *const *ptrs,
			 const char *const *paths, size_t nr, int progress);

#endif
