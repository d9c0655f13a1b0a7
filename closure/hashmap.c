/* SPDX-License-Identifier: MIT */
#include "closure/hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "closure/nix32.h"
#include "closure/storepath.h"

/* Prefilter: one bit per value of the first four characters' digits
 * (20 bits), so most non-candidate windows are rejected from a 128 KiB
 * bitmap instead of a probe into the (possibly large) slot array.  Built
 * only once the slot array reaches FILTER_MIN_CAP slots (160 KiB): below
 * that a probe costs no more than the filter, and a map that stays small
 * (one registration, one allow list) does not pay for zeroing 128 KiB. */
#define FILTER_BITS 20
#define FILTER_MIN_CAP 4096

struct slot {
	char key[SD_HASH_CHARS];
	int64_t id; /* SD_HASHMAP_NONE: empty slot */
};

struct sd_hashmap {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
	uint64_t *filter; /* 1 << FILTER_BITS bits; NULL while cap is small */
};

static size_t filter_index(const char *key)
{
	size_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 5 |
		    (size_t)((sd_nix32_table[(unsigned char)key[i]] - 1u) &
			     31u);
	return v;
}

static uint64_t key_hash(const char *key)
{
	uint64_t a, b, c, d;
	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	memcpy(&c, key + 16, 8);
	memcpy(&d, key + 24, 8);
	uint64_t h = a * 0x9e3779b97f4a7c15ull;
	h ^= (b + (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	h ^= (c + (h >> 31)) * 0x94d049bb133111ebull;
	h ^= (d + (h >> 27)) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

static struct slot *alloc_slots(size_t cap)
{
	struct slot *s = malloc(cap * sizeof(*s));
	if (s)
		for (size_t i = 0; i < cap; i++)
			s[i].id = SD_HASHMAP_NONE;
	return s;
}

struct sd_hashmap *sd_hashmap_new(void)
{
	struct sd_hashmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cap = 64;
	m->slots = alloc_slots(m->cap);
	if (!m->slots) {
		sd_hashmap_free(m);
		return NULL;
	}
	return m;
}

void sd_hashmap_free(struct sd_hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->filter);
	free(m);
}

static struct slot *find_slot(struct slot *slots, size_t cap, const char *key)
{
	size_t i = (size_t)key_hash(key) & (cap - 1);
	while (slots[i].id != SD_HASHMAP_NONE &&
	       memcmp(slots[i].key, key, SD_HASH_CHARS) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void filter_add(uint64_t *filter, const char *key)
{
	size_t f = filter_index(key);
	filter[f / 64] |= (uint64_t)1 << (f % 64);
}

static int grow(struct sd_hashmap *m)
{
	size_t ncap = m->cap * 2;
	struct slot *ns = alloc_slots(ncap);
	if (!ns)
		return SD_ERR_NOMEM;
	if (!m->filter && ncap >= FILTER_MIN_CAP) {
		m->filter = calloc((1u << FILTER_BITS) / 64, sizeof(uint64_t));
		if (!m->filter) {
			free(ns);
			return SD_ERR_NOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].id != SD_HASHMAP_NONE)
				filter_add(m->filter, m->slots[i].key);
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].id == SD_HASHMAP_NONE)
			continue;
		*find_slot(ns, ncap, m->slots[i].key) = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int sd_hashmap_put(struct sd_hashmap *m, const char *key, int64_t id,
		   int64_t *existing, struct sd_error *err)
{
	if (existing)
		*existing = SD_HASHMAP_NONE;
	if (id < 0)
		return sd_error_set(err, SD_ERR_INVALID,
				    "hash map ids must not be negative");
	if ((m->count + 1) * 2 > m->cap && grow(m))
		return sd_error_set(err, SD_ERR_NOMEM,
				    "out of memory growing a hash map");
	struct slot *s = find_slot(m->slots, m->cap, key);
	if (s->id != SD_HASHMAP_NONE) {
		if (existing)
			*existing = s->id;
		return 0;
	}
	memcpy(s->key, key, SD_HASH_CHARS);
	s->id = id;
	m->count++;
	if (m->filter)
		filter_add(m->filter, key);
	return 0;
}

int64_t sd_hashmap_get(const struct sd_hashmap *m, const char *key)
{
	if (m->filter) {
		size_t f = filter_index(key);
		if (!(m->filter[f / 64] & ((uint64_t)1 << (f % 64))))
			return SD_HASHMAP_NONE;
	}
	return find_slot(m->slots, m->cap, key)->id;
}

size_t sd_hashmap_count(const struct sd_hashmap *m)
{
	return m->count;
}
