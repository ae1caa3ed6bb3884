#ifndef HUMAN_H
#define HUMAN_H

#include <stdint.h>

#include "strbuf.h"

/* "512 B", "1.50 KiB", "47.68 MiB", "2.00 GiB": git's own style. */
void human_size(uint64_t bytes, struct strbuf *out);

/* "950", "25.6 K", "1.2 M": counts of things (parameters), in SI units. */
void human_count(uint64_t n, struct strbuf *out);

#endif
