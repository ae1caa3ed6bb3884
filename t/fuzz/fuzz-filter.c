/*
 * Fuzz filter_process() (src/git/filter.h): the input is git's side of the
 * long-running filter conversation (handshake, then clean, smudge and
 * list_available_blobs requests with their content), read from a memfd.
 * The store is a temp directory made once per process (on /dev/shm when
 * there is one, so the store's fsyncs cost nothing) and emptied after each
 * input, so an input's outcome does not depend on the ones before it.
 * The filter has storage configured (clean writes pointer URLs) and a
 * fetch_many() that brings nothing, so "delay" is offered and delayed
 * smudges end with their pointer text.
 *
 * Invariant: whatever git sends, what goes back is a well-formed pkt-line
 * stream (nothing but protocol is written to git's side).
 */

#include "fuzz.h"

#define _XOPEN_SOURCE_EXTENDED_FTW
#include <ftw.h>
#include <sys/stat.h>

#include "filter.h"
#include "pkt-line.h"
#include "store.h"

static char root[64];
static struct store store = STORE_INIT;
static struct pkt_reader reader;

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	if (ftw->level) /* keep the root itself */
		remove(path);
	return 0;
}

static void empty_root(void)
{
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_root(void)
{
	empty_root();
	rmdir(root);
}

static void fetch_nothing(struct filter *f, struct delayed_blob **blobs,
			  size_t nr)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = access("/dev/shm", W_OK) ? getenv("TMPDIR") :
						     "/dev/shm";

	snprintf(root, sizeof(root), "%s/fuzz-filter.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	fuzz_assert(mkdtemp(root));
	atexit(remove_root);
	store_init(&store, root);
	return 0;
}

/* What filter_process() wrote must frame as pkt-lines up to the end. */
static void check_output(int out)
{
	enum pkt_status st;

	fuzz_assert(lseek(out, 0, SEEK_SET) == 0);
	pkt_reader_init(&reader, out);
	while ((st = pkt_read(&reader)) == PKT_DATA || st == PKT_FLUSH)
		;
	fuzz_assert(st == PKT_EOF);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter f = FILTER_INIT;
	int in = fuzz_memfd(data, size);
	int out = memfd_create("fuzz-output", MFD_CLOEXEC);
	int ret;

	fuzz_assert(out >= 0);
	f.store = &store;
	f.storage_url = "https://models.example.com/team";
	f.fetch_many = fetch_nothing;
	ret = filter_process(&f, in, out);
	fuzz_assert(ret == 0 || ret == -1);
	check_output(out);
	close(in);
	close(out);
	empty_root();
	return 0;
}
