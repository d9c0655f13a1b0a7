/* SPDX-License-Identifier: MIT */
#include "tests/app/helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "formats/format.h"
#include "tests/common/tmpdir.h"

struct sd_node *ta_add(struct sd_tree *t, struct sd_node *parent,
		       const char *name, enum sd_node_type type)
{
	struct sd_node *n =
		sd_tree_add(t, parent, name, strlen(name), type, NULL);
	cr_assert(n);
	n->mode = type == SD_NODE_DIR ? 0555 : 0444;
	n->mtime = t->mtime;
	return n;
}

const char *ta_write_image(struct sd_tree *t, const char *format,
			   const char *rel)
{
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	const struct sd_format *fmt = sd_format_find(format);
	cr_assert(fmt);
	struct sd_write_options wo = {
		.compressor = fmt->default_compressor, .level = -1, .jobs = 1};
	const char *path = tt_path(rel);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	struct sd_write_stats st;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(fmt->write(t, &wo, fd, NULL, &st, &err), 0, "%s", err.msg);
	close(fd);
	sd_tree_free(t);
	return path;
}
