#include "dir-sync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/*
 * `queue` holds what the thread has not started on; `busy` is set while it
 * syncs what it took. Idle is `!nr && !busy`. `owner` is the process that
 * started the thread: a child of fork() has the queue but not the thread,
 * and syncs in line.
 */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static char **queue;
static size_t nr, alloc;
static int busy;
static int failed;
static pid_t owner; /* 0: no thread (yet, or it could not start) */

static int sync_one(const char *dir)
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

static void *syncer(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&mu);
	for (;;) {
		char **batch;
		size_t i, n;
		int errs = 0;

		while (!nr)
			pthread_cond_wait(&work, &mu);
		batch = queue;
		n = nr;
		queue = NULL;
		nr = alloc = 0;
		busy = 1;
		pthread_mutex_unlock(&mu);

		for (i = 0; i < n; i++) {
			if (sync_one(batch[i]) < 0)
				errs++;
			free(batch[i]);
		}
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
	return 1;
}

void dir_sync_queue(const char *dir)
{
	size_t i;

	if (dir[0] != '/')
		BUG("dir_sync_queue() of a relative path '%s'", dir);
	pthread_mutex_lock(&mu);
	if (!start_locked()) {
		pthread_mutex_unlock(&mu);
		if (sync_one(dir) < 0) {
			pthread_mutex_lock(&mu);
			failed++;
			pthread_mutex_unlock(&mu);
		}
		return;
	}
	for (i = 0; i < nr; i++)
		if (!strcmp(queue[i], dir))
			break;
	if (i == nr) {
		ALLOC_GROW(queue, nr + 1, alloc);
		queue[nr++] = xstrdup(dir);
		pthread_cond_signal(&work);
	}
	pthread_mutex_unlock(&mu);
}

void dir_sync_queue_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	if (!slash || slash == dir)
		BUG("dir_sync_queue_parent() of '%s'", path);
	*slash = '\0';
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

int dir_sync_wait(void)
{
	int ret;

	pthread_mutex_lock(&mu);
	if (owner == getpid())
		while (nr || busy)
			pthread_cond_wait(&idle, &mu);
	ret = failed ? -1 : 0;
	failed = 0;
	pthread_mutex_unlock(&mu);
	return ret;
}
