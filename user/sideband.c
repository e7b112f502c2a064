// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Side-band records from perf dummy events, through libbpf's perf buffer. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sideband.h"

#define SIDEBAND_PAGES 256 /* per CPU */

struct hs_sideband {
	struct perf_buffer *pb;
	int map_fd;
	const struct hs_sideband_ops *ops;
	void *ctx;
};

/* What sample_id_all appends to every record for PERF_SAMPLE_TID|TIME. */
struct sample_id {
	__u32 pid, tid;
	__u64 time;
};

struct mmap2_rec {
	struct perf_event_header h;
	__u32 pid, tid;
	__u64 addr, len, pgoff;
	__u32 maj, min;
	__u64 ino, ino_generation;
	__u32 prot, flags;
	char filename[];
};

struct comm_rec {
	struct perf_event_header h;
	__u32 pid, tid;
	char comm[];
};

struct task_rec {
	struct perf_event_header h;
	__u32 pid, ppid, tid, ptid;
	__u64 time;
};

struct lost_rec {
	struct perf_event_header h;
	__u64 id, lost;
};

static void on_mmap2(struct hs_sideband *sb, const struct mmap2_rec *r)
{
	size_t max = r->h.size - sizeof(*r) - sizeof(struct sample_id);
	const struct sample_id *sid;
	char path[4096];

	if (r->h.size < sizeof(*r) + sizeof(*sid) || !sb->ops->mmap)
		return;
	sid = (const void *)((const char *)r + r->h.size - sizeof(*sid));
	if (max >= sizeof(path))
		max = sizeof(path) - 1;
	memcpy(path, r->filename, max);
	path[max] = 0;
	sb->ops->mmap(sb->ctx, (pid_t)r->pid, r->addr, r->len, r->pgoff,
		      makedev(r->maj, r->min), r->ino, path, sid->time);
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu,
					 struct perf_event_header *h)
{
	struct hs_sideband *sb = ctx;
	const struct sample_id *sid;

	(void)cpu;
	if (h->size < sizeof(*h) + sizeof(*sid))
		return LIBBPF_PERF_EVENT_CONT;
	sid = (const void *)((const char *)h + h->size - sizeof(*sid));
	switch (h->type) {
	case PERF_RECORD_MMAP2:
		on_mmap2(sb, (const void *)h);
		break;
	case PERF_RECORD_COMM:
		if ((h->misc & PERF_RECORD_MISC_COMM_EXEC) && sb->ops->exec) {
			const struct comm_rec *c = (const void *)h;

			size_t room = sizeof(*c) + sizeof(*sid);
			char comm[16];

			room = h->size > room ? h->size - room : 0;
			snprintf(comm, sizeof(comm), "%.*s", (int)room,
				 c->comm);
			if (c->pid == c->tid)
				sb->ops->exec(sb->ctx, (pid_t)c->pid, comm,
					      sid->time);
		}
		break;
	case PERF_RECORD_EXIT:
	case PERF_RECORD_FORK: {
		const struct task_rec *t = (const void *)h;

		if (t->pid != t->tid)
			break; /* a thread, not a process */
		if (h->type == PERF_RECORD_EXIT && sb->ops->exit)
			sb->ops->exit(sb->ctx, (pid_t)t->pid, t->time);
		if (h->type == PERF_RECORD_FORK && sb->ops->fork)
			sb->ops->fork(sb->ctx, (pid_t)t->pid, (pid_t)t->ppid,
				      t->time);
		break;
	}
	case PERF_RECORD_LOST:
		if (sb->ops->lost)
			sb->ops->lost(sb->ctx,
				      ((const struct lost_rec *)h)->lost);
		break;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

struct hs_sideband *hs_sideband_open(const struct hs_sideband_ops *ops,
				     void *ctx, char *err, size_t errlen)
{
	struct perf_event_attr attr;
	struct hs_sideband *sb;
	int ncpu = libbpf_num_possible_cpus();

	sb = calloc(1, sizeof(*sb));
	if (!sb || ncpu <= 0) {
		snprintf(err, errlen, "out of memory");
		free(sb);
		return NULL;
	}
	sb->ops = ops;
	sb->ctx = ctx;
	sb->map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "hs_sideband",
				    sizeof(int), sizeof(int), (__u32)ncpu,
				    NULL);
	if (sb->map_fd < 0) {
		snprintf(err, errlen, "cannot create the side-band map: %s",
			 strerror(errno));
		free(sb);
		return NULL;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	attr.sample_id_all = 1;
	attr.mmap = 1;
	attr.mmap2 = 1;
	attr.comm = 1;
	attr.comm_exec = 1;
	attr.task = 1;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.watermark = 1;
	attr.wakeup_watermark = 1;
	sb->pb = perf_buffer__new_raw(sb->map_fd, SIDEBAND_PAGES, &attr,
				      on_record, sb, NULL);
	if (!sb->pb) {
		snprintf(err, errlen,
			 "cannot open perf side-band events: %s",
			 strerror(errno));
		close(sb->map_fd);
		free(sb);
		return NULL;
	}
	return sb;
}

void hs_sideband_close(struct hs_sideband *sb)
{
	if (!sb)
		return;
	perf_buffer__free(sb->pb);
	close(sb->map_fd);
	free(sb);
}

int hs_sideband_drain(struct hs_sideband *sb)
{
	return perf_buffer__consume(sb->pb);
}
