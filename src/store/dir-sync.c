#include "dir-sync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/*
 * A queued file (fd >= 0) or directory (fd == -1). `queue` holds what the
 * thread has not started on; `busy` is set while it syncs what it took.
 * Idle is `!nr && !busy`. `owner` is the process that started the thread:
 * a child of fork() has the queue but not the thread, and syncs in line.
 */
struct entry {
	char *path;
	int fd;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
/*
 * Each queued file holds its fd until it is synced. When the disk is
 * slower than the callers (many small files), they wait here for room,
 * rather than run out of fds: at most `max_files` are open, a quarter of
 * the fd limit and no more than MAX_FILES.
 */
#define MAX_FILES 256
static pthread_cond_t room = PTHREAD_COND_INITIALIZER;
static size_t open_files, max_files;
static struct entry *queue;
static size_t nr, alloc;
static int busy;
static int failed;
static pid_t owner; /* 0: no thread (yet, or it could not start) */

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		error_errno("cannot sync the directory '%s' (new files in "
			    "it may not survive a crash; check the disk)",
			    dir);
		close_quietly(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * For the test suite only: the thread waits before it syncs a file until
 * the file named by GIT_MODEL_TEST_SYNC_WAIT exists (a slow disk).
 */
static void test_sync_wait(void)
{
	const char *file = getenv("GIT_MODEL_TEST_SYNC_WAIT");

	while (file && access(file, F_OK) < 0)
		usleep(10 * 1000);
}

/*
 * The file's data to the disk, then its final mode: 0444 says "synced"
 * (see dir_sync_queue_file()). A file that cannot be synced is not to be
 * trusted: its name goes, unless another file has taken it meanwhile.
 */
static int sync_file(int fd, const char *path)
{
	struct stat st, now;

	test_sync_wait();
	if (!fdatasync(fd) && !fchmod(fd, 0444)) {
		close(fd);
		return 0;
	}
	error_errno("cannot sync '%s' (check the disk); it was removed, "
		    "add or fetch it again", path);
	if (!fstat(fd, &st) && !lstat(path, &now) && st.st_ino == now.st_ino &&
	    st.st_dev == now.st_dev)
		unlink(path);
	close(fd);
	return -1;
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		BUG("no parent directory in '%s'", path);
	return xstrndup(path, slash - path);
}

/* Files first, then the directories, theirs included: one batch. */
static int sync_batch(struct entry *batch, size_t n)
{
	char *dir;
	size_t i, j;
	int errs = 0;

	for (i = 0; i < n; i++) {
		if (batch[i].fd < 0)
			continue;
		if (sync_file(batch[i].fd, batch[i].path) < 0)
			errs++;
		pthread_mutex_lock(&mu);
		if (open_files && open_files-- == max_files)
			pthread_cond_broadcast(&room);
		pthread_mutex_unlock(&mu);
		batch[i].fd = -1;
		dir = parent_of(batch[i].path);
		free(batch[i].path);
		batch[i].path = dir;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(batch[j].path, batch[i].path))
				break;
		if (j == i && sync_dir(batch[i].path) < 0)
			errs++;
	}
	for (i = 0; i < n; i++)
		free(batch[i].path);
	return errs;
}

static void *syncer(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&mu);
	for (;;) {
		struct entry *batch;
		size_t n;
		int errs;

		while (!nr)
			pthread_cond_wait(&work, &mu);
		batch = queue;
		n = nr;
		queue = NULL;
		nr = alloc = 0;
		busy = 1;
		pthread_mutex_unlock(&mu);

		errs = sync_batch(batch, n);
		free(batch);

		pthread_mutex_lock(&mu);
		busy = 0;
		failed += errs;
		if (!nr)
			pthread_cond_broadcast(&idle);
	}
	return NULL;
}

static void wait_at_exit(void)
{
	dir_sync_wait();
}

/* With `mu` held: is there a thread of this process to hand work to? */
static int start_locked(void)
{
	static int tried;
	struct rlimit lim;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (owner)
		return owner == getpid();
	if (tried)
		return 0;
	tried = 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, syncer, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return 0; /* in line, then: slower, as safe */
	owner = getpid();
	atexit(wait_at_exit);
	max_files = MAX_FILES;
	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur / 4 < max_files)
		max_files = lim.rlim_cur / 4 ? lim.rlim_cur / 4 : 1;
	return 1;
}

static void queue_entry(const char *path, int fd)
{
	struct entry e = { xstrdup(path), fd };
	size_t i;

	if (path[0] != '/')
		BUG("dir-sync of a relative path '%s'", path);
	pthread_mutex_lock(&mu);
	if (!start_locked()) {
		pthread_mutex_unlock(&mu);
		i = sync_batch(&e, 1);
		pthread_mutex_lock(&mu);
		failed += i;
		pthread_mutex_unlock(&mu);
		return;
	}
	for (i = 0; fd < 0 && i < nr; i++)
		if (queue[i].fd < 0 && !strcmp(queue[i].path, path))
			break;
	if (fd >= 0) {
		while (open_files >= max_files)
			pthread_cond_wait(&room, &mu);
		open_files++;
	}
	if (fd >= 0 || i == nr) {
		ALLOC_GROW(queue, nr + 1, alloc);
		queue[nr++] = e;
		pthread_cond_signal(&work);
	} else {
		free(e.path);
	}
	pthread_mutex_unlock(&mu);
}

void dir_sync_queue(const char *dir)
{
	queue_entry(dir, -1);
}

void dir_sync_queue_file(int fd, const char *path)
{
	queue_entry(path, fd);
}

void dir_sync_queue_parent(const char *path)
{
	char *dir = parent_of(path);

	dir_sync_queue(dir);
	free(dir);
}

void dir_sync_queue_made(const char *path, const char *top)
{
	char *dir = xstrdup(path);
	size_t stop = strlen(top);
	char *slash = strrchr(dir, '/');

	if (slash)
		*slash = '\0'; /* the parent: the caller's to queue */
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		dir_sync_queue(dir);
		if ((size_t)(slash - dir) < stop)
			break;
	}
	free(dir);
}

void dir_sync_drain(void)
{
	pthread_mutex_lock(&mu);
	if (owner == getpid())
		while (nr || busy)
			pthread_cond_wait(&idle, &mu);
	pthread_mutex_unlock(&mu);
}

int dir_sync_wait(void)
{
	int ret;

	dir_sync_drain();
	pthread_mutex_lock(&mu);
	ret = failed ? -1 : 0;
	failed = 0;
	pthread_mutex_unlock(&mu);
	return ret;
}
