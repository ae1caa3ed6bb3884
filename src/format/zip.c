#include "zip.h"

#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "wrapper.h"
#include "banned.h"

#define EOCD_SIG 0x06054b50
#define EOCD_LEN 22
#define LOC64_SIG 0x07064b50
#define LOC64_LEN 20
#define EOCD64_SIG 0x06064b50
#define EOCD64_LEN 56
#define CDH_SIG 0x02014b50
#define CDH_LEN 46
#define LFH_SIG 0x04034b50
#define LFH_LEN 30
#define MAX_COMMENT 65535

static uint64_t le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct zip_entry *)a)->name,
		      ((const struct zip_entry *)b)->name);
}

/* Sizes and offset from a zip64 extra field, for those that are ~0. */
static int zip64_extra(const unsigned char *extra, size_t len, uint64_t *usize,
		       uint64_t *csize, uint64_t *local)
{
	while (len >= 4) {
		unsigned id = le(extra, 2), n = le(extra + 2, 2);
		const unsigned char *p = extra + 4;

		if (n > len - 4)
			return -1;
		if (id == 1) {
			uint64_t *want[] = { usize, csize, local };
			size_t i;

			for (i = 0; i < ARRAY_SIZE(want); i++) {
				if (*want[i] != 0xffffffff)
					continue;
				if (p + 8 > extra + 4 + n)
					return -1;
				*want[i] = le(p, 8);
				p += 8;
			}
			return 0;
		}
		extra += 4 + n;
		len -= 4 + n;
	}
	return 0;
}

/* Find the end of central directory record; zip64's when there is one. */
static int read_eocd(const struct model_source *src, uint64_t *count,
		     uint64_t *cd_off, uint64_t *cd_size, uint64_t *cd_end,
		     const char *fmt, struct strbuf *err)
{
	unsigned char *tail, rec[EOCD64_LEN];
	size_t n = src->size < EOCD_LEN + MAX_COMMENT ? src->size :
							EOCD_LEN + MAX_COMMENT;
	uint64_t base = src->size - n, pos = 0, loc;
	size_t i;
	int found = 0, ret = -1;

	tail = xmalloc(n ? n : 1);
	if (n < EOCD_LEN) {
		strbuf_addf(err, "%s: no zip end of central directory", fmt);
		goto out;
	}
	if (model_src_read(src, base, tail, n, fmt, "the zip directory end",
			   err))
		goto out;
	for (i = n - EOCD_LEN + 1; i--;)
		if (le(tail + i, 4) == EOCD_SIG &&
		    i + EOCD_LEN + le(tail + i + 20, 2) == n) {
			found = 1;
			break;
		}
	if (!found) {
		strbuf_addf(err, "%s: no zip end of central directory", fmt);
		goto out;
	}
	pos = base + i;
	*count = le(tail + i + 10, 2);
	*cd_size = le(tail + i + 12, 4);
	*cd_off = le(tail + i + 16, 4);
	*cd_end = pos;
	if (le(tail + i + 4, 2) || le(tail + i + 6, 2)) {
		strbuf_addf(err, "%s: a zip split over several disks", fmt);
		goto out;
	}
	if (pos >= base + LOC64_LEN)
		memcpy(rec, tail + i - LOC64_LEN, LOC64_LEN);
	else if (pos >= LOC64_LEN &&
		 model_src_read(src, pos - LOC64_LEN, rec, LOC64_LEN, fmt,
				"the zip64 locator", err))
		goto out;
	if (pos >= LOC64_LEN && le(rec, 4) == LOC64_SIG) {
		loc = le(rec + 8, 8);
		if (loc > pos - LOC64_LEN || pos - LOC64_LEN - loc < EOCD64_LEN) {
			strbuf_addf(err, "%s: a zip64 record outside the file",
				    fmt);
			goto out;
		}
		if (model_src_read(src, loc, rec, EOCD64_LEN, fmt,
				   "the zip64 record", err))
			goto out;
		if (le(rec, 4) != EOCD64_SIG) {
			strbuf_addf(err, "%s: no zip64 record where its locator says",
				    fmt);
			goto out;
		}
		*count = le(rec + 32, 8);
		*cd_size = le(rec + 40, 8);
		*cd_off = le(rec + 48, 8);
		*cd_end = loc;
	}
	ret = 0;
out:
	free(tail);
	return ret;
}

static int check_name(const char *name, size_t len)
{
	size_t i;

	if (!len || len > MODEL_MAX_NAME)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return -1;
	return 0;
}

int zip_open(struct zip *zip, const struct model_source *src, const char *fmt,
	     struct strbuf *err)
{
	uint64_t count, cd_off, cd_size, cd_end, i;
	unsigned char *cd = NULL, *p;
	size_t left;
	int ret = -1;

	if (read_eocd(src, &count, &cd_off, &cd_size, &cd_end, fmt, err))
		goto out;
	if (cd_off > cd_end || cd_size > cd_end - cd_off) {
		strbuf_addf(err,
			    "%s: zip central directory at %llu (%llu bytes) is not inside the file",
			    fmt, (unsigned long long)cd_off,
			    (unsigned long long)cd_size);
		goto out;
	}
	if (cd_size > MODEL_MAX_HEADER || count > ZIP_MAX_ENTRIES ||
	    count > cd_size / CDH_LEN) {
		strbuf_addf(err,
			    "%s: zip central directory of %llu entries in %llu bytes",
			    fmt, (unsigned long long)count,
			    (unsigned long long)cd_size);
		goto out;
	}
	cd = xmalloc(cd_size ? cd_size : 1);
	if (model_src_read(src, cd_off, cd, cd_size, fmt,
			   "the zip central directory", err))
		goto out;
	zip->entries = xcalloc(count ? count : 1, sizeof(*zip->entries));
	zip->cd_offset = cd_off;
	for (p = cd, left = cd_size, i = 0; i < count; i++) {
		struct zip_entry *e = &zip->entries[zip->nr];
		uint64_t csize, usize, local, nlen, elen, clen;
		unsigned flags, method;

		if (left < CDH_LEN || le(p, 4) != CDH_SIG) {
			strbuf_addf(err, "%s: zip central directory entry %llu is broken",
				    fmt, (unsigned long long)i);
			goto out;
		}
		flags = le(p + 8, 2);
		method = le(p + 10, 2);
		csize = le(p + 20, 4);
		usize = le(p + 24, 4);
		nlen = le(p + 28, 2);
		elen = le(p + 30, 2);
		clen = le(p + 32, 2);
		local = le(p + 42, 4);
		if (CDH_LEN + nlen + elen + clen > left) {
			strbuf_addf(err, "%s: zip central directory entry %llu is broken",
				    fmt, (unsigned long long)i);
			goto out;
		}
		if (check_name((const char *)p + CDH_LEN, nlen)) {
			strbuf_addf(err,
				    "%s: zip entry %llu has an empty, long or unprintable name",
				    fmt, (unsigned long long)i);
			goto out;
		}
		if (zip64_extra(p + CDH_LEN + nlen, elen, &usize, &csize,
				&local)) {
			strbuf_addf(err, "%s: zip entry %llu has a broken zip64 field",
				    fmt, (unsigned long long)i);
			goto out;
		}
		e->name = xstrndup((const char *)p + CDH_LEN, nlen);
		zip->nr++;
		e->stored = method == 0 && !(flags & 1) && csize == usize;
		e->size = csize;
		e->local = local;
		if (local > cd_off || csize > cd_off - local) {
			strbuf_addf(err,
				    "%s: zip entry '%.128s' at %llu (%llu bytes) is not before the central directory",
				    fmt, e->name, (unsigned long long)local,
				    (unsigned long long)csize);
			goto out;
		}
		p += CDH_LEN + nlen + elen + clen;
		left -= CDH_LEN + nlen + elen + clen;
	}
	qsort(zip->entries, zip->nr, sizeof(*zip->entries), cmp_entry);
	for (i = 1; i < zip->nr; i++)
		if (!strcmp(zip->entries[i].name, zip->entries[i - 1].name)) {
			strbuf_addf(err, "%s: zip entry '%.128s' is there twice",
				    fmt, zip->entries[i].name);
			goto out;
		}
	ret = 0;
out:
	free(cd);
	if (ret)
		zip_release(zip);
	return ret;
}

const struct zip_entry *zip_find(const struct zip *zip, const char *name)
{
	struct zip_entry key = { .name = (char *)name };

	if (!zip->nr)
		return NULL;
	return bsearch(&key, zip->entries, zip->nr, sizeof(key), cmp_entry);
}

int zip_data_offset(const struct zip *zip, const struct zip_entry *e,
		    const struct model_source *src, uint64_t *off,
		    const char *fmt, struct strbuf *err)
{
	unsigned char lfh[LFH_LEN];
	uint64_t data;

	if (!e->stored) {
		strbuf_addf(err,
			    "%s: zip entry '%.128s' is compressed or encrypted (torch.save() stores entries)",
			    fmt, e->name);
		return -1;
	}
	if (model_src_read(src, e->local, lfh, LFH_LEN, fmt,
			   "a zip local header", err))
		return -1;
	if (le(lfh, 4) != LFH_SIG) {
		strbuf_addf(err, "%s: zip entry '%.128s' has no local header",
			    fmt, e->name);
		return -1;
	}
	data = e->local + LFH_LEN + le(lfh + 26, 2) + le(lfh + 28, 2);
	if (data > zip->cd_offset || e->size > zip->cd_offset - data) {
		strbuf_addf(err,
			    "%s: zip entry '%.128s' data at %llu (%llu bytes) is not before the central directory",
			    fmt, e->name, (unsigned long long)data,
			    (unsigned long long)e->size);
		return -1;
	}
	*off = data;
	return 0;
}

void zip_release(struct zip *zip)
{
	size_t i;

	for (i = 0; i < zip->nr; i++)
		free(zip->entries[i].name);
	free(zip->entries);
	memset(zip, 0, sizeof(*zip));
}
