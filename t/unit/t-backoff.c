/*
 * Unit tests for the engine's retry delay, transfer_backoff_ms(): it
 * doubles from 250 ms up to 10 s and stays there for every later attempt
 * (model.retries goes up to 100), with jitter of 0.5 to 1.5 times, and a
 * Retry-After replaces it up to 60 s.
 */

#include <stdint.h>

#include "transfer.h"
#include "unit-test.h"

/* The smallest and largest delay the jitter can give for `attempt`. */
static void range_is(int attempt, uint64_t lo, uint64_t hi)
{
	uint64_t min = UINT64_MAX, max = 0, d;
	unsigned long r;

	for (r = 0; r < 30000; r += 7) {
		d = transfer_backoff_ms(attempt, 0, r);
		if (d < min)
			min = d;
		if (d > max)
			max = d;
	}
	d = transfer_backoff_ms(attempt, 0, ~0UL);
	ok(min == lo && max <= hi && d >= lo && d <= hi,
	   "attempt %d: %llu to %llu ms (want %llu to %llu)", attempt,
	   (unsigned long long)min, (unsigned long long)max,
	   (unsigned long long)lo, (unsigned long long)hi);
}

int main(void)
{
	int a;

	range_is(1, 125, 375);
	range_is(2, 250, 750);
	range_is(6, 4000, 12000);
	range_is(7, 5000, 15000);
	/* where a shift by attempt-1 gave 0 or was undefined */
	range_is(64, 5000, 15000);
	range_is(65, 5000, 15000);
	range_is(100, 5000, 15000);
	for (a = 1; a <= 101; a++)
		if (transfer_backoff_ms(a, 0, 0) < 125)
			break;
	is_int(a, 102, "every attempt to 101 waits at least 125 ms");
	is_int(transfer_backoff_ms(3, 2, 12345), 2000, "Retry-After: 2");
	is_int(transfer_backoff_ms(3, 3600, 1), 60000, "Retry-After capped");
	return done_testing();
}
