// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* record --push: the client, and the application name the targets give. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "push.h"
#include "pushname.h"
#include "recorder.h"

/* The targets' application name when --app is not given. */
static void default_app(const struct record_opts *o, char *buf, size_t len)
{
	char *cmdline;

	if (o->all) {
		snprintf(buf, len, "heapsnap-all");
	} else if (o->argv) {
		hs_push_app_from_command(o->argv[0], buf, len);
	} else {
		cmdline = hs_read_cmdline(o->pids[0]);
		hs_push_app_from_command(cmdline, buf, len);
		free(cmdline);
	}
}

int hs_rec_push_open(struct recorder *r)
{
	const struct record_opts *o = &r->o;
	char app[256], err[512], *name;
	int e;

	if (!o->push_url)
		return 0;
	if (!o->push_app)
		default_app(o, app, sizeof(app));
	name = hs_push_name(o->push_app ? o->push_app : app, o->push_labels,
			    o->npush_labels, err, sizeof(err));
	if (!name) {
		fprintf(stderr, "Error: %s\n", err);
		return 2;
	}
	e = hs_push_new(&r->push, o->push_url, name, err, sizeof(err));
	free(name);
	if (e) {
		fprintf(stderr, "Error: %s\n", err);
		return e == -EINVAL ? 2 : 1;
	}
	return 0;
}
