#ifndef HUMAN_H
#define HUMAN_H

#include <stdint.h>

#include "strbuf.h"

/* "512 B", "1.50 KiB", "47.68 MiB", "2.00 GiB": git's own style. */
void human_size(uint64_t bytes, struct strbuf *out);

#endif
