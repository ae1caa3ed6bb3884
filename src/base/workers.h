#ifndef WORKERS_H
#define WORKERS_H

/*
 * Work spread over the cores. run_on_cores() calls fn(data, i) once for
 * every i below `nr`, in at most `max` threads and no more threads than
 * the machine has cores; the calling thread is one of them. Each call
 * takes the next i, so threads that finish early take more. fn must be
 * safe to run in several threads at once, on different i. When no thread
 * can be started, the calling thread does all of it. Returns when every
 * call has returned.
 */

#include <stddef.h>

void run_on_cores(size_t nr, size_t max, void (*fn)(void *data, size_t i),
		  void *data);

#endif
