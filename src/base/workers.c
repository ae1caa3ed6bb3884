#include "workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "wrapper.h"
#include "banned.h"

struct pool {
	pthread_mutex_t lock; /* guards next */
	size_t next, nr;
	void (*fn)(void *data, size_t i);
	void *data;
};

static void *work(void *arg)
{
	struct pool *pool = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&pool->lock);
		i = pool->next < pool->nr ? pool->next++ : pool->nr;
		pthread_mutex_unlock(&pool->lock);
		if (i == pool->nr)
			return NULL;
		pool->fn(pool->data, i);
	}
}

void run_on_cores(size_t nr, size_t max, void (*fn)(void *data, size_t i),
		  void *data)
{
	struct pool pool = { PTHREAD_MUTEX_INITIALIZER, 0, nr, fn, data };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cores > 0 ? (size_t)cores : 1, i, started = 0;
	pthread_t *threads;

	if (n > max)
		n = max;
	if (n > nr)
		n = nr;
	threads = n > 1 ? xcalloc(n - 1, sizeof(*threads)) : NULL;
	for (i = 0; i + 1 < n; i++)
		if (!pthread_create(&threads[started], NULL, work, &pool))
			started++;
	work(&pool);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&pool.lock);
}
