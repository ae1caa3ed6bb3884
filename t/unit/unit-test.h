#ifndef UNIT_TEST_H
#define UNIT_TEST_H

/*
 * A tiny TAP producer for the unit test programs under t/unit/: ok(cond,
 * fmt, ...), is_int(got, want, fmt, ...), is_str(got, want, fmt, ...), and
 * `return done_testing();`, which prints the plan "1..N" last. Results and
 * "# " diagnostics go to stdout, flushed per line, so a crash loses nothing.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TEST_PRINTF_ __attribute__((format(printf, 2, 3), unused))
#define TEST_PRINTF3_ __attribute__((format(printf, 3, 4), unused))

static int test_count_, test_failed_;

static int test_vreport_(int pass, const char *fmt, va_list ap)
{
	printf("%sok %d - ", pass ? "" : "not ", ++test_count_);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	if (!pass)
		test_failed_++;
	return pass;
}

static TEST_PRINTF_ int test_ok_(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	test_vreport_(pass, fmt, ap);
	va_end(ap);
	return pass;
}
#define ok(cond, ...) test_ok_(!!(cond), __VA_ARGS__)

static TEST_PRINTF3_ int test_is_int_(long long got, long long want,
				     const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	if (!test_vreport_(pass, fmt, ap))
		printf("# expected: %lld\n#      got: %lld\n", want, got);
	va_end(ap);
	return pass;
}
#define is_int(got, want, ...) \
	test_is_int_((long long)(got), (long long)(want), __VA_ARGS__)

/* Two NULL strings are equal; a NULL and a string are not. */
static TEST_PRINTF3_ int is_str(const char *got, const char *want,
			       const char *fmt, ...)
{
	va_list ap;
	int pass = got && want ? !strcmp(got, want) : got == want;

	va_start(ap, fmt);
	if (!test_vreport_(pass, fmt, ap))
		printf("# expected: '%s'\n#      got: '%s'\n",
		       want ? want : "(null)", got ? got : "(null)");
	va_end(ap);
	return pass;
}

/* Print the plan; main()'s exit code: 0 when every test passed. */
static __attribute__((unused)) int done_testing(void)
{
	printf("1..%d\n", test_count_);
	return test_failed_ ? 1 : 0;
}

#endif
