#include "human.h"

#include "banned.h"

void human_size(uint64_t bytes, struct strbuf *out)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		strbuf_addf(out, "%u B", (unsigned)bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	strbuf_addf(out, "%.2f %s", v, units[u]);
}

void human_count(uint64_t n, struct strbuf *out)
{
	static const char *const units[] = { "K", "M", "G", "T", "P", "E" };
	double v = n;
	int u = -1;

	if (n < 1000) {
		strbuf_addf(out, "%u", (unsigned)n);
		return;
	}
	while (v >= 999.95 && u < 5) {
		v /= 1000;
		u++;
	}
	strbuf_addf(out, "%.1f %s", v, units[u]);
}
