#ifndef UNIT_TEST_H
#define UNIT_TEST_H

/*
 * A minimal TAP producer for unit test programs: each check prints
 * "ok N - ..." or "not ok N - ..."; done_testing() prints the plan and
 * gives main()'s return value.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int unit_count, unit_failed;

static int __attribute__((format(printf, 2, 3), unused))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	unit_count++;
	if (!cond)
		unit_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", unit_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...)                                              \
	do {                                                                \
		long long g_ = (got), w_ = (want);                          \
		if (!ok(g_ == w_, __VA_ARGS__))                             \
			printf("# expected %lld, got %lld\n", w_, g_);      \
	} while (0)

#define is_str(got, want, ...)                                              \
	do {                                                                \
		const char *g_ = (got), *w_ = (want);                       \
		if (!ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__))          \
			printf("# expected '%s', got '%s'\n",               \
			       w_ ? w_ : "(null)", g_ ? g_ : "(null)");     \
	} while (0)

static int __attribute__((unused)) done_testing(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif
