/* SPDX-License-Identifier: MIT */
/* The SquashFS writer's choice of directory index entries: the lookup
 * cost model and the choice against it (writer_dirindex.h). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/squashfs/writer_dirindex.h"

/* Metadata reads of looking up every entry, simulated the way
 * squashfs_lookup reads them: index entries until one names a later
 * entry, then a header or an entry at a time from the last one passed. */
static uint64_t simulate(size_t n, const size_t *hdr, size_t nhdr,
			 const size_t *sel, size_t nsel)
{
	uint64_t reads = 0;

	for (size_t target = 0; target < n; target++) {
		size_t start = 0, h = 0;

		for (size_t i = 0; i < nsel; i++) {
			reads += 2;
			if (sel[i] > target)
				break;
			start = sel[i];
		}
		while (h < nhdr && hdr[h] < start)
			h++;
		for (size_t e = start; e <= target; e++) {
			if (h < nhdr && hdr[h] == e) {
				reads++;
				h++;
			}
			reads += 2;
		}
	}
	return reads;
}

Test(dirindex, cost_matches_the_lookup_simulation)
{
	const size_t hdr[] = {0, 5, 9, 20, 21, 40, 63};
	const size_t sets[][3] = {{0}, {20}, {5, 40}, {9, 21, 63}};
	const size_t nset[] = {0, 1, 2, 3};

	for (size_t s = 0; s < 4; s++)
		cr_expect_eq(sd_sqfs_dirindex_cost(70, hdr, 7, sets[s],
						   nset[s]),
			     simulate(70, hdr, 7, sets[s], nset[s]),
			     "selection %zu", s);
	/* one header, four entries: 1 header read + 2 (p + 1) entry reads */
	cr_expect_eq(sd_sqfs_dirindex_cost(4, hdr, 1, NULL, 0), 4 + 20);
}

Test(dirindex, one_header_needs_no_index)
{
	const size_t hdr[] = {0};
	size_t sel[1];

	cr_expect_eq(sd_sqfs_dirindex_choose(200, hdr, 1, sel), 0);
	cr_expect_eq(sd_sqfs_dirindex_choose(0, hdr, 0, sel), 0);
}

/* A large directory (one header per 64 entries, as 8 KiB inode blocks
 * give): fewer index entries than headers, fewer reads than indexing every
 * header (libsquashfs) and far fewer than none. */
Test(dirindex, large_directory_gets_a_sparse_index)
{
	size_t n = 18000, nhdr = (n + 63) / 64;
	size_t *hdr = malloc(nhdr * sizeof(*hdr));
	size_t *sel = malloc(nhdr * sizeof(*sel));

	cr_assert(hdr && sel);
	for (size_t i = 0; i < nhdr; i++)
		hdr[i] = i * 64;
	size_t k = sd_sqfs_dirindex_choose(n, hdr, nhdr, sel);
	uint64_t chosen = sd_sqfs_dirindex_cost(n, hdr, nhdr, sel, k);

	/* the model's optimum is about sqrt(n) = 134 evenly spaced entries */
	cr_expect(k > 67 && k < 268, "index of %zu entries", k);
	for (size_t i = 0; i < k; i++) {
		cr_expect(sel[i] > 0 && sel[i] % 64 == 0);
		cr_expect(i == 0 || sel[i] > sel[i - 1]);
	}
	cr_expect(chosen * 100 <
		  sd_sqfs_dirindex_cost(n, hdr, nhdr, hdr + 1, nhdr - 1) * 85);
	cr_expect(chosen * 10 < sd_sqfs_dirindex_cost(n, hdr, nhdr, NULL, 0));
	cr_expect_eq(chosen, simulate(n, hdr, nhdr, sel, k));
	free(hdr);
	free(sel);
}

/* A few headers: within 5% of the best of every subset. */
Test(dirindex, small_directory_close_to_best_subset)
{
	const size_t hdr[] = {0, 130, 250, 251, 400, 520, 600};
	size_t nhdr = 7, n = 681, sel[7], pick[7];
	uint64_t best = UINT64_MAX;

	for (unsigned mask = 0; mask < (1u << (nhdr - 1)); mask++) {
		size_t m = 0;

		for (size_t i = 1; i < nhdr; i++)
			if (mask & (1u << (i - 1)))
				pick[m++] = hdr[i];
		uint64_t c = sd_sqfs_dirindex_cost(n, hdr, nhdr, pick, m);
		if (c < best)
			best = c;
	}
	size_t k = sd_sqfs_dirindex_choose(n, hdr, nhdr, sel);
	uint64_t got = sd_sqfs_dirindex_cost(n, hdr, nhdr, sel, k);

	cr_expect(k > 0);
	cr_expect(got * 100 <= best * 105, "chosen %llu, best %llu",
		  (unsigned long long)got, (unsigned long long)best);
}
