/* SPDX-License-Identifier: MIT */
/*
 * helpers.h — crafted trees and images for the app tests that need an
 * image on disk (union, verify --base).
 */
#ifndef SD_TESTS_APP_HELPERS_H
#define SD_TESTS_APP_HELPERS_H

#include "core/tree.h"

/* Add a node of @type under @parent (mode 0555 for a directory, else
 * 0444; mtime the tree's); fails the test when it cannot. */
struct sd_node *ta_add(struct sd_tree *t, struct sd_node *parent,
		       const char *name, enum sd_node_type type);

/* Finalise @t, write it in @format (its default compressor, one job) to
 * tt_path(@rel) and free @t; returns that path.  Fails the test on an
 * error. */
const char *ta_write_image(struct sd_tree *t, const char *format,
			   const char *rel);

#endif
