/* SPDX-License-Identifier: MIT */
/* why_excerpt.c — sd_why_excerpt (declared in app/why_excerpt.h). */
#include "app/why_excerpt.h"

#include <stdlib.h>
#include <string.h>

#include "app/why.h"
#include "closure/storepath.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, three bytes in UTF-8 */
#define ELLIPSIS_LEN 3
#define SKIP_BUF 65536

/* Read @len bytes of @node's content from offset @start into @buf;
 * *@got is less than @len only where the content ends. */
static int read_content(const struct sd_tree *tree, const struct sd_node *node,
			uint64_t start, char *buf, size_t len, size_t *got,
			struct sd_error *err)
{
	struct sd_stream *s = NULL;
	char *skip = NULL;
	int rc = sd_tree_open(tree, node, &s, err);
	if (rc)
		return rc;
	if (start) {
		skip = malloc(SKIP_BUF);
		if (!skip) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	while (start) {
		size_t n = start < SKIP_BUF ? (size_t)start : SKIP_BUF;
		size_t r = 0;
		rc = sd_stream_read_full(s, skip, n, &r, err);
		if (rc)
			goto out;
		if (r < n) { /* the content ends before @start */
			*got = 0;
			goto out;
		}
		start -= n;
	}
	rc = sd_stream_read_full(s, buf, len, got, err);
out:
	free(skip);
	sd_stream_close(s);
	return rc;
}

/* Append @len bytes of @src to @dst, non-printable ones as '.'. */
static char *put_printable(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		*dst++ = c >= 0x20 && c < 0x7f ? (char)c : '.';
	}
	return dst;
}

int sd_why_excerpt(const struct sd_tree *tree, const struct sd_node *node,
		   enum sd_refscan_what what, uint64_t offset, char **out,
		   struct sd_error *err)
{
	uint64_t start = offset > SD_WHY_MARGIN ? offset - SD_WHY_MARGIN : 0;
	size_t before = (size_t)(offset - start);
	/* One byte more than shown, to know whether the item goes on. */
	size_t want = before + SD_HASH_CHARS + SD_WHY_MARGIN + 1;
	char buf[2 * SD_WHY_MARGIN + SD_HASH_CHARS + 1];
	size_t got = 0;
	*out = NULL;

	if (what == SD_REFSCAN_CONTENT) {
		int rc = read_content(tree, node, start, buf, want, &got, err);
		if (rc)
			return rc;
	} else {
		const char *item = what == SD_REFSCAN_NAME ? node->name
							   : node->target;
		size_t len = item ? strlen(item) : 0;
		if (start < len) {
			got = len - (size_t)start < want ? len - (size_t)start
							 : want;
			memcpy(buf, item + start, got);
		}
	}
	if (got < before + SD_HASH_CHARS)
		return sd_error_set(err, SD_ERR_IO,
				    "no reference at offset %llu any more (did "
				    "it change since it was scanned?)",
				    (unsigned long long)offset);
	size_t after = got - before - SD_HASH_CHARS;
	bool more = after > SD_WHY_MARGIN;
	if (more)
		after = SD_WHY_MARGIN;

	char *s = malloc(2 * ELLIPSIS_LEN + before + SD_HASH_CHARS + 2 + after +
			 1);
	if (!s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	char *p = s;
	if (start) {
		memcpy(p, ELLIPSIS, ELLIPSIS_LEN);
		p += ELLIPSIS_LEN;
	}
	p = put_printable(p, buf, before);
	*p++ = '[';
	p = put_printable(p, buf + before, SD_HASH_CHARS);
	*p++ = ']';
	p = put_printable(p, buf + before + SD_HASH_CHARS, after);
	if (more) {
		memcpy(p, ELLIPSIS, ELLIPSIS_LEN);
		p += ELLIPSIS_LEN;
	}
	*p = '\0';
	*out = s;
	return 0;
}
