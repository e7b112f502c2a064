/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The kernel's side-band records (perf's MMAP2, COMM and EXIT records from a
 * dummy event on every CPU): new executable mappings, exec and exit of every
 * process, with CLOCK_MONOTONIC times, queued so that none is missed.
 */
#ifndef HEAPSNAP_SIDEBAND_H
#define HEAPSNAP_SIDEBAND_H

#include <stdint.h>
#include <sys/types.h>

struct hs_sideband_ops {
	void (*mmap)(void *ctx, pid_t pid, uint64_t start, uint64_t len,
		     uint64_t pgoff, dev_t dev, uint64_t ino, const char *path,
		     uint64_t time_ns);
	/* comm: the name the process took (16 bytes at most) */
	void (*exec)(void *ctx, pid_t pid, const char *comm, uint64_t time_ns);
	void (*exit)(void *ctx, pid_t pid, uint64_t time_ns);
	void (*fork)(void *ctx, pid_t pid, pid_t ppid, uint64_t time_ns);
	void (*lost)(void *ctx, uint64_t n);
};

struct hs_sideband;

struct hs_sideband *hs_sideband_open(const struct hs_sideband_ops *ops,
				     void *ctx, char *err, size_t errlen);
void hs_sideband_close(struct hs_sideband *sb);
/* Delivers every record queued so far. */
int hs_sideband_drain(struct hs_sideband *sb);

#endif
