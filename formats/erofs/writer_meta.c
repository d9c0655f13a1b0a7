/* SPDX-License-Identifier: MIT */
/*
 * writer_meta.c — the metadata area written through a bounded window
 * (see ew_meta_* in writer.h).
 *
 * Inodes arrive in nid order or nearly so (the compressed writer's
 * collector is strictly in order; the uncompressed writer's workers take
 * nodes in order but finish in any order).  The window holds
 * EW_META_WIN consecutive bytes of the area starting at `base`; a write
 * inside it is copied, a write below it goes straight to the image, and
 * a write past it flushes the window (its bytes up to the highest one
 * written, from the lowest one: what lies below it in the image, such
 * as the data area before a compressed image's metadata, is not
 * touched) and moves it to start at that write.  Windows only move
 * forward and never overlap, and a byte below the window is never
 * covered by a later one, so every byte reaches the image exactly once
 * with its final value (bytes nobody writes stay holes, read as zero)
 * whichever order the writes come in: the image does not depend on the
 * thread count, and memory is EW_META_WIN however large the area is.
 */
#include "formats/erofs/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ew_meta {
	pthread_mutex_t mu;
	uint64_t base; /* first byte of the area the window holds */
	size_t lo, hi; /* bytes of the window written: from, to */
	uint8_t *buf;  /* EW_META_WIN bytes, zero but for writes */
};

int ew_meta_begin(struct ew_state *w, struct sd_error *err)
{
	struct ew_meta *m = calloc(1, sizeof(*m));

	if (m)
		m->buf = calloc(1, EW_META_WIN);
	if (!m || !m->buf) {
		free(m);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	m->lo = EW_META_WIN;
	pthread_mutex_init(&m->mu, NULL);
	w->meta = m;
	return SD_OK;
}

static int flush(struct ew_state *w, struct sd_error *err)
{
	struct ew_meta *m = w->meta;
	int ret = SD_OK;

	if (m->hi > m->lo) {
		ret = ew_pwrite(w->fd, m->buf + m->lo, m->hi - m->lo,
				m->base + m->lo, err);
		memset(m->buf + m->lo, 0, m->hi - m->lo);
	}
	m->lo = EW_META_WIN;
	m->hi = 0;
	return ret;
}

int ew_meta_put(struct ew_state *w, uint64_t off, const void *data, size_t len,
		struct sd_error *err)
{
	struct ew_meta *m = w->meta;
	const uint8_t *p = data;
	int ret = SD_OK;

	pthread_mutex_lock(&m->mu);
	while (len && !ret) {
		size_t n;

		if (off < m->base) {
			uint64_t below = m->base - off;

			n = below < len ? (size_t)below : len;
			ret = ew_pwrite(w->fd, p, n, off, err);
		} else if (off - m->base < EW_META_WIN) {
			size_t at = (size_t)(off - m->base);

			n = EW_META_WIN - at < len ? EW_META_WIN - at : len;
			memcpy(m->buf + at, p, n);
			if (at < m->lo)
				m->lo = at;
			if (at + n > m->hi)
				m->hi = at + n;
		} else {
			ret = flush(w, err);
			m->base = off;
			continue;
		}
		off += n;
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&m->mu);
	return ret;
}

int ew_meta_end(struct ew_state *w, struct sd_error *err)
{
	int ret = SD_OK;

	if (w->meta) {
		ret = flush(w, err);
		ew_meta_free(w);
	}
	return ret;
}

void ew_meta_free(struct ew_state *w)
{
	if (!w->meta)
		return;
	pthread_mutex_destroy(&w->meta->mu);
	free(w->meta->buf);
	free(w->meta);
	w->meta = NULL;
}
