#include "oidset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pointer.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

void oidset_release(struct oidset *s)
{
	free(s->keys);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

static size_t slot_of(const struct oidset *s, const unsigned char *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return h & (s->alloc - 1);
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t find(const struct oidset *s, const unsigned char *key)
{
	size_t i = slot_of(s, key);

	while (s->used[i] && memcmp(s->keys[i], key, OIDSET_KEYSZ))
		i = (i + 1) & (s->alloc - 1);
	return i;
}

static void grow(struct oidset *s)
{
	struct oidset bigger = OIDSET_INIT;
	size_t i;

	bigger.alloc = s->alloc ? s->alloc * 2 : 1024;
	bigger.keys = xcalloc(bigger.alloc, OIDSET_KEYSZ);
	bigger.used = xcalloc(bigger.alloc, 1);
	for (i = 0; i < s->alloc; i++) {
		size_t j;

		if (!s->used[i])
			continue;
		j = find(&bigger, s->keys[i]);
		memcpy(bigger.keys[j], s->keys[i], OIDSET_KEYSZ);
		bigger.used[j] = 1;
	}
	bigger.nr = s->nr;
	oidset_release(s);
	*s = bigger;
}

static int insert(struct oidset *s, const unsigned char *key)
{
	size_t i;

	/* at most half full, so probes stay short */
	if ((s->nr + 1) * 2 > s->alloc)
		grow(s);
	i = find(s, key);
	if (s->used[i])
		return 0;
	memcpy(s->keys[i], key, OIDSET_KEYSZ);
	s->used[i] = 1;
	s->nr++;
	return 1;
}

static int contains(const struct oidset *s, const unsigned char *key)
{
	return s->alloc && s->used[find(s, key)];
}

static void git_key(const git_oid *id, unsigned char *key)
{
	memset(key, 0, OIDSET_KEYSZ);
	memcpy(key, id->id,
	       sizeof(id->id) < OIDSET_KEYSZ ? sizeof(id->id) : OIDSET_KEYSZ);
}

static void hex_key(const char *hex, unsigned char *key)
{
	size_t i;

	if (!oid_hex_valid(hex))
		BUG("oidset: invalid pointer oid '%.80s'", hex);
	for (i = 0; i < OIDSET_KEYSZ; i++)
		key[i] = hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]);
}

int oidset_insert_git(struct oidset *s, const git_oid *id)
{
	unsigned char key[OIDSET_KEYSZ];

	git_key(id, key);
	return insert(s, key);
}

int oidset_insert_hex(struct oidset *s, const char *hex)
{
	unsigned char key[OIDSET_KEYSZ];

	hex_key(hex, key);
	return insert(s, key);
}

int oidset_contains_hex(const struct oidset *s, const char *hex)
{
	unsigned char key[OIDSET_KEYSZ];

	hex_key(hex, key);
	return contains(s, key);
}
