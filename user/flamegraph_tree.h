/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The tree of a flame graph, as flamegraph.c builds and lays it out and
 * flamegraph_svg.c draws it.
 */
#ifndef HEAPSNAP_FLAMEGRAPH_TREE_H
#define HEAPSNAP_FLAMEGRAPH_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAME_NAME_LEN 4096
#define NO_DESC UINT32_MAX

/* A frame, symbolically: what nodes of two snapshots are merged by. */
struct fdesc {
	char *name;
	char *label; /* drawn in the box and searched: "name (file.c:12)" */
	char *file; /* NULL when unknown */
	char *module; /* NULL when unknown */
	uint32_t line;
	bool inlined;
};

struct node {
	uint32_t parent;
	uint32_t desc; /* NO_DESC for the root */
	uint32_t depth;
	uint32_t first_child; /* in hs_flame.children */
	uint32_t nchildren;
	uint64_t bytes[2]; /* old, new */
	uint64_t count[2];
	uint64_t w; /* layout weight: the bytes its width stands for */
	uint64_t x; /* layout offset, in weight units */
};

struct fdesc_ix;
struct node_ix;

/* Node 0 is the root; children have larger indices than their parents. */
struct hs_flame {
	bool diff;
	char *command[2];
	struct fdesc *descs;
	size_t ndescs, cap_descs;
	struct fdesc_ix *desc_index;
	struct node *nodes;
	size_t nnodes, cap_nodes;
	struct node_ix *node_index;
	uint32_t *children;
};

#endif
