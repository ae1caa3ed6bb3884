#include "link-rate.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "pointer.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* Past this the file is not ours: read no more of it. */
#define LINK_RATE_FILE_MAX (64 * 1024)

struct record {
	char key[HASH_HEXSZ + 1];
	double rate;
	long long when;
};

static void rate_key(const char *url, char key[HASH_HEXSZ + 1])
{
	struct hash h = HASH_INIT;

	hash_start(&h);
	hash_update(&h, url, strlen(url));
	hash_finish(&h, key);
	hash_release(&h);
}

static void rates_path(const char *model_dir, struct strbuf *path)
{
	strbuf_addf(path, "%s/link-rates", model_dir);
}

/* One line: 0 with `r`, -1 when it is not a whole record. */
static int parse_record(const char *line, struct record *r)
{
	char key[HASH_HEXSZ + 1], end;
	double rate;
	long long when;

	if (sscanf(line, "%64s %lf %lld%c", key, &rate, &when, &end) != 3 ||
	    !oid_hex_valid(key) || !(rate > 0) || rate > 1e15 || when <= 0)
		return -1;
	memcpy(r->key, key, sizeof(r->key));
	r->rate = rate;
	r->when = when;
	return 0;
}

/* The records of the file that are not too old; none when it is absent. */
static void read_records(const char *model_dir, long long now,
			 struct record **recs, size_t *nr, size_t *alloc)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	char *line, *next;
	int fd;

	rates_path(model_dir, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && strbuf_read_capped(&buf, fd, LINK_RATE_FILE_MAX) < 0)
		strbuf_reset(&buf);
	if (fd >= 0)
		close(fd);
	for (line = buf.buf; buf.len && (next = strchr(line, '\n'));
	     line = next + 1) {
		struct record r;

		*next = '\0';
		if (parse_record(line, &r) < 0 || r.when > now + 86400 ||
		    now - r.when > LINK_RATE_DAYS * 86400LL)
			continue;
		ALLOC_GROW(*recs, *nr + 1, *alloc);
		(*recs)[(*nr)++] = r;
	}
	strbuf_release(&buf);
	strbuf_release(&path);
}

int link_rate_get(const char *model_dir, const char *url, double *rate)
{
	struct record *recs = NULL;
	size_t nr = 0, alloc = 0, i;
	char key[HASH_HEXSZ + 1];
	int found = 0;

	rate_key(url, key);
	read_records(model_dir, (long long)time(NULL), &recs, &nr, &alloc);
	for (i = 0; i < nr; i++)
		if (!strcmp(recs[i].key, key)) {
			*rate = recs[i].rate;
			found = 1;
		}
	free(recs);
	return found;
}

int link_rate_put(const char *model_dir, const char *url, double rate)
{
	struct record *recs = NULL;
	size_t nr = 0, alloc = 0, i, first;
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	char key[HASH_HEXSZ + 1];
	long long now = (long long)time(NULL);
	int ret;

	if (!(rate > 0) || rate > 1e15)
		return 0;
	rate_key(url, key);
	read_records(model_dir, now, &recs, &nr, &alloc);
	/* the file's order is the records' age: this one goes last */
	first = nr + 1 > LINK_RATE_MAX ? nr + 1 - LINK_RATE_MAX : 0;
	for (i = first; i < nr; i++)
		if (strcmp(recs[i].key, key))
			strbuf_addf(&out, "%s %.0f %lld\n", recs[i].key,
				    recs[i].rate, recs[i].when);
	strbuf_addf(&out, "%s %.0f %lld\n", key, rate, now);
	rates_path(model_dir, &path);
	ret = write_file_atomically(path.buf, out.buf, out.len, 0666,
				    WRITE_FILE_UMASK | WRITE_FILE_NO_SYNC);
	if (ret < 0)
		warning("the upload rate to remember was not written");
	free(recs);
	strbuf_release(&path);
	strbuf_release(&out);
	return ret;
}
