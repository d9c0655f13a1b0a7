/* SPDX-License-Identifier: MIT */
#include "closure/refscan.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	const struct sd_tree *tree;
	struct sd_node *top;
	struct sd_scanner *sc;
	unsigned char *buf;
	sd_refscan_fn fn;
	void *ctx;
	struct sd_error *err;
	/* The item being scanned, for the hit adapter. */
	struct sd_node *node;
	enum sd_refscan_what what;
};

static int on_hit(const struct sd_scan_hit *hit, void *ctx,
		  struct sd_error *err)
{
	struct walk *w = ctx;
	struct sd_refscan_hit rh = {
		.scan = hit,
		.node = w->node,
		.what = w->what,
	};
	return w->fn(&rh, w->ctx, err);
}

static int scan_content(struct walk *w, struct sd_node *node)
{
	struct sd_stream *s = NULL;
	int rc = sd_tree_open(w->tree, node, &s, w->err);
	if (rc)
		goto fail;
	for (;;) {
		size_t got = 0;
		rc = sd_stream_read(s, w->buf, SD_REFSCAN_BUF, &got, w->err);
		if (rc)
			goto fail;
		if (got == 0)
			break;
		rc = sd_scanner_feed(w->sc, w->buf, got, w->err);
		if (rc) {
			sd_stream_close(s);
			return rc; /* the callback's own error */
		}
	}
	sd_stream_close(s);
	return 0;
fail:
	sd_stream_close(s);
	{
		char path[4096];
		sd_node_path(node, path, sizeof(path));
		return sd_error_prefix(w->err, rc, "scanning %s", path);
	}
}

static int visit(struct sd_node *node, void *ctx)
{
	struct walk *w = ctx;
	int rc;

	w->node = node;
	if (node != w->top) {
		w->what = SD_REFSCAN_NAME;
		sd_scanner_reset(w->sc);
		rc = sd_scanner_feed(w->sc, node->name, node->name_len, w->err);
		if (rc)
			return rc;
	}
	if (node->type == SD_NODE_SYMLINK && node->target) {
		w->what = SD_REFSCAN_TARGET;
		sd_scanner_reset(w->sc);
		rc = sd_scanner_feed(w->sc, node->target, strlen(node->target),
				     w->err);
		if (rc)
			return rc;
	} else if (node->type == SD_NODE_FILE) {
		w->what = SD_REFSCAN_CONTENT;
		sd_scanner_reset(w->sc);
		rc = scan_content(w, node);
		if (rc)
			return rc;
	}
	return 0;
}

int sd_refscan_tree(const struct sd_tree *tree, struct sd_node *top,
		    const struct sd_hashmap *candidates, const char *store_dir,
		    sd_refscan_fn fn, void *ctx, struct sd_error *err)
{
	struct walk w = {
		.tree = tree,
		.top = top,
		.fn = fn,
		.ctx = ctx,
		.err = err,
	};
	int rc = sd_scanner_new(candidates, store_dir, on_hit, &w, &w.sc, err);
	if (rc)
		return rc;
	w.buf = malloc(SD_REFSCAN_BUF);
	if (!w.buf) {
		sd_scanner_free(w.sc);
		return sd_error_set(err, SD_ERR_NOMEM,
				    "out of memory (scan buffer)");
	}
	rc = sd_tree_walk(top, visit, &w);
	free(w.buf);
	sd_scanner_free(w.sc);
	return rc;
}
