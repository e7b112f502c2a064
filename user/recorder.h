/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The record command's state, passed between its files: record.c (the
 * recorder's life and the event loop), record_opts.c (the options),
 * record_bpf.c (the programs and the mmap domain), record_procs.c (the
 * traced processes) and record_snap.c (snapshots).
 */
#ifndef HEAPSNAP_RECORDER_H
#define HEAPSNAP_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probes_attach.h"
#include "status.h"
#include "targets.h"

#define MAX_PIDS 64 /* -p PID,PID,... */
#define MAX_LIST 16 /* --lib, --wrapper */

struct record_opts {
	pid_t pids[MAX_PIDS];
	size_t npids;
	char **argv; /* the command after "--" */
	bool all; /* -a: every process */
	const char *output;
	char output_buf[64];
	double duration; /* seconds; 0 = until the targets exit or a signal */
	double interval;
	uint32_t frames;
	char *libs[MAX_LIST];
	size_t nlibs;
	char *wrappers[MAX_LIST];
	size_t nwrappers;
	uint32_t max_live;
	uint32_t max_stacks;
	uint32_t max_procs;
	uint64_t sample_bytes;
	bool at_entry;
	bool classic;
	bool follow_forks;
	bool no_mmap;
	uint32_t unwind; /* enum hs_unwind_mode */
	uint32_t python; /* enum hs_pymode */
	uint32_t max_unwind_rows;
	bool verbose;
	const char *push_url; /* --push: also send each snapshot there */
	const char *push_app; /* NULL: the targets' command name */
	char *push_labels[MAX_LIST]; /* KEY=VALUE */
	size_t npush_labels;
};

struct proc_state {
	uint64_t last_current; /* current at the previous snapshot */
	uint64_t epoch; /* epoch that started at the previous snapshot */
	uint64_t exec_ns; /* the exec whose old blocks were dropped */
};

/* A traced process. */
struct rec_proc {
	struct hs_target t; /* its pid, command, and pidfd when it is waited for */
	bool waited; /* named by -p or --, or a followed child */
	struct hs_links *attach; /* its own probes; NULL under -a */
	struct hs_links *py_attach; /* its CPython allocator's probes */
	struct proc_state st;
};

/* -a: an allocator file, probed once for every process. */
struct rec_file {
	dev_t dev;
	ino_t ino;
	struct hs_links *attach;
};

/* Processes the side-band named, for the loop to act on. */
struct pid_queue {
	pid_t *pids;
	size_t n, cap;
};

struct heapsnap_bpf;
struct hs_procmaps;
struct hs_symbolizer;
struct hs_snapbuild;
struct hs_sideband;
struct hs_mmapdom;
struct ring_buffer;
struct hs_known_files;
struct hs_unwind;
struct hs_python;
struct hs_push;

struct recorder {
	struct record_opts o;
	struct heapsnap_bpf *skel;
	struct hs_probe_progs progs; /* what the probe points run */
	struct rec_proc *procs;
	size_t nprocs, procs_cap;
	struct rec_file *files;
	size_t nfiles, files_cap;
	struct hs_probe_set probes; /* scratch, while attaching */
	struct hs_procmaps *pm;
	struct hs_symbolizer *sym;
	struct hs_snapbuild *build;
	struct hs_sideband *sb;
	struct hs_mmapdom *mmaps;
	struct ring_buffer *map_events; /* NULL: the mmap domain is not traced */
	struct hs_known_files *seen; /* -a: files already looked at */
	struct hs_unwind *unwind; /* NULL: frame pointers only */
	struct hs_python *python; /* Python targets */
	struct hs_push *push; /* NULL: no --push */
	struct pid_queue forks, execs, exits, scans, remaps;
	struct hs_status status;
	uint64_t lost_events;
	uint32_t seq; /* last numbered snapshot written */
	int epfd, sigfd;
	bool stop;
};

/* record.c: the recorder's life, for record and the live top */
void hs_rec_defaults(struct record_opts *o);
/* r->o is set and r->epfd, r->sigfd are -1; hs_rec_close() either way. */
int hs_rec_open(struct recorder *r, char *err, size_t errlen);
/* Waits up to timeout_ms for events and handles them. */
void hs_rec_step(struct recorder *r, int timeout_ms);
void hs_rec_close(struct recorder *r);

/*
 * The mmap domain needs every allocator call to set the nesting depth, so
 * that the allocator's own mappings are told apart: sampling skips that.
 */
static inline bool hs_rec_mmap_traced(const struct record_opts *o)
{
	return !o->no_mmap && !o->sample_bytes;
}

/* record_bpf.c */
int hs_rec_check_system(char *err, size_t errlen);
/* record -v: how full the live table ended. */
void hs_rec_report_table(const struct recorder *r);
int hs_rec_load_bpf(struct recorder *r, char *err, size_t errlen);
/* A spawned command held at its entry point (entrystop.h); NULL: not ELF. */
struct bpf_link *hs_rec_hold_entry(struct recorder *r, const char *exe,
				   pid_t pid);
void hs_rec_start_mmap_domain(struct recorder *r);
void hs_rec_consume_map_events(struct recorder *r);

/* record_procs.c */
extern const struct hs_sideband_ops hs_rec_sideband_ops;
struct rec_proc *hs_rec_find(struct recorder *r, pid_t pid);
struct rec_proc *hs_rec_add(struct recorder *r, pid_t pid);
int hs_rec_start(struct recorder *r, char *err, size_t errlen);
void hs_rec_housekeeping(struct recorder *r);
void hs_rec_target_exited(struct recorder *r, pid_t pid);
bool hs_rec_all_exited(const struct recorder *r);
void hs_rec_report_exits(const struct recorder *r);
void hs_rec_free_procs(struct recorder *r);

/* record_snap.c */
struct hs_snapshot;
/* A snapshot of every traced process now; NULL after describing why in err. */
struct hs_snapshot *hs_rec_take_snapshot(struct recorder *r, uint32_t seq,
					 char *err, size_t errlen);
int hs_rec_write_snapshot(struct recorder *r, uint32_t seq);

/* record_opts.c: -1 to go on, else the exit status (--help, a usage error). */
int hs_rec_parse_args(struct record_opts *o, int argc, char **argv);

/* record_push.c: sets up r->push for --push; 0, or the exit status. */
int hs_rec_push_open(struct recorder *r);

struct hs_trace;

/*
 * What a push needs of a snapshot's traces, gathered as they are built:
 * their sums by stack and domain; every trace when sampled (each is
 * scaled by its own size).
 */
struct hs_push_sums {
	bool sampled;
	struct hs_trace *traces;
	size_t ntraces, cap;
	size_t *at; /* by stack and domain: 1 + the index of its sum */
	size_t nat;
};

void hs_rec_push_sums_init(struct hs_push_sums *p, bool sampled);
int hs_rec_push_add(struct hs_push_sums *p, const struct hs_trace *t);
/* Pushes s with the traces p gathered. */
void hs_rec_push_send(struct recorder *r, struct hs_push_sums *p,
		      struct hs_snapshot *s, const char *path);
void hs_rec_push_sums_free(struct hs_push_sums *p);

#endif
