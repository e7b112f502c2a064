/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The snapshot model: every trace live at one moment, symbolized, plus the
 * counters. Everything after "collect" works on this structure only.
 * Strings, modules, frames and stacks are interned tables referenced by
 * index; HS_NONE marks an absent reference.
 */
#ifndef HEAPSNAP_SNAPSHOT_H
#define HEAPSNAP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapsnap.h" /* the counters and the domains */

#define HS_NONE UINT32_MAX
#define HS_FORMAT_VERSION 2 /* what snapshot files are written in */
#define HS_FORMAT_OLDEST 1 /* the oldest version still read */
#define HS_BUILD_ID_MAX 32
/* The module of Python frames (a path is never this). */
#define HS_PYTHON_MODULE "python"
/*
 * The function of the frame that ends a traceback the unwinder cut short
 * where its module's table had no rule; hs_unwind_stop_name() names the
 * other reasons.
 */
#define HS_UNWIND_STOPPED "[unwinding stopped: no rule for the code here]"

struct hs_proc {
	uint32_t pid;
	uint32_t command; /* string: its command line */
	bool exited; /* the process had exited when the snapshot was taken */
	/*
	 * Tracing began after the process did (an attach, -a, a followed
	 * child, a python domain found at run time): frees of the blocks it
	 * allocated before are expected, not losses.
	 */
	bool attached;
	struct hs_counters counters; /* every domain's together */
	/* string: the CPython it runs, and how it was traced; or HS_NONE */
	uint32_t python;
};

struct hs_module {
	uint32_t path; /* string: path in the process's own mount namespace */
	uint32_t build_id_len;
	uint8_t build_id[HS_BUILD_ID_MAX];
};

struct hs_frame {
	uint32_t module; /* HS_NONE when the address was in no known module */
	uint32_t function; /* string, demangled; HS_NONE when unknown */
	uint32_t file; /* string; HS_NONE when unknown */
	uint32_t line; /* 0 when unknown */
	uint64_t offset; /* ELF address inside module (return address) */
	bool inlined; /* inlined into the frame that follows it */
};

struct hs_stack {
	uint32_t first; /* index into stack_frames */
	uint32_t nframes;
};

struct hs_trace {
	uint64_t addr;
	uint64_t size;
	uint64_t time_ns; /* allocation time, ns since the Unix epoch */
	uint32_t pid;
	uint32_t tid;
	uint32_t stack; /* index into stacks */
	uint32_t total_nframe; /* frames before truncation to the limit */
	uint8_t domain;
	uint8_t flags; /* HS_TRACE_* */
	/* the blocks it stands for: 1, or those of a pymalloc pool (0: 1) */
	uint32_t blocks;
};

/* hs_trace.flags */
#define HS_TRACE_ESTIMATE 1 /* size and blocks are estimates: a pool */

/* What became of a module's unwind table; stored in snapshot files. */
enum hs_unwind_table {
	HS_UT_UNKNOWN = 0, /* the recorder did not say: a stop in it only */
	HS_UT_OK, /* built and loaded */
	HS_UT_NONE, /* it could not be built (note says why) */
	HS_UT_NO_ROOM, /* built, but beyond --max-unwind-rows or the slots */
	HS_UT_COUNT,
};

/*
 * A module as the unwinder saw it: its table, and the stacks whose walk
 * was cut short in its code (enum hs_unwind_stop), with the live blocks
 * they hold.
 */
struct hs_unwind_entry {
	uint32_t module; /* string: its path; HS_NONE: code in no file */
	uint32_t note; /* string: why it has no table; or HS_NONE */
	uint8_t table; /* enum hs_unwind_table */
	uint64_t rows; /* rows of its table */
	uint64_t bytes; /* kernel memory of its table */
	uint64_t stacks[HS_STOP_COUNT];
	uint64_t blocks[HS_STOP_COUNT];
};

/* The unwind tables of the recording, together. */
struct hs_unwind_stats {
	uint64_t modules; /* with a table */
	uint64_t rows;
	uint64_t max_rows; /* --max-unwind-rows */
	uint64_t rules; /* distinct rules the rows share */
	uint64_t bytes; /* kernel memory of every unwind map */
	uint64_t events_lost; /* loader hooks not heard: tables came late */
	uint64_t mode; /* enum hs_unwind_mode + 1; 0: not said */
};

struct hs_snapshot {
	uint32_t format_version;
	uint64_t time_ns; /* when it was taken, ns since the Unix epoch */
	uint32_t command; /* string */
	uint32_t kernel; /* string: uname release */
	uint32_t traceback_limit;
	uint64_t sample_bytes; /* 0: every allocation is traced */
	uint64_t tracer_memory; /* bytes the tracer's maps used */
	uint32_t seq; /* 0 for the final snapshot, N for FILE.N */
	struct hs_global_counters global; /* losses of no one process */

	struct hs_proc *procs;
	size_t nprocs;
	char **strings;
	size_t nstrings;
	struct hs_module *modules;
	size_t nmodules;
	struct hs_frame *frames;
	size_t nframes;
	uint32_t *stack_frames; /* frame indices, most recent call first */
	size_t nstack_frames;
	struct hs_stack *stacks;
	size_t nstacks;
	struct hs_trace *traces;
	size_t ntraces;
	struct hs_unwind_entry *unwind; /* modules as the unwinder saw them */
	size_t nunwind;
	struct hs_unwind_stats unwind_stats;
	/* What the arrays above can hold, for hs_grow(). */
	struct {
		size_t procs, strings, modules, frames, stack_frames, stacks;
		size_t traces, unwind;
	} cap;

	struct hs_snapshot_index *index; /* builder's interning tables */
};

struct hs_snapshot *hs_snapshot_new(void);
void hs_snapshot_free(struct hs_snapshot *s);

/* Builders: each returns an index, or HS_NONE when memory ran out. */
uint32_t hs_snapshot_intern(struct hs_snapshot *s, const char *str);
uint32_t hs_snapshot_add_module(struct hs_snapshot *s, const char *path,
				const uint8_t *build_id, uint32_t build_id_len);
uint32_t hs_snapshot_add_frame(struct hs_snapshot *s,
			       const struct hs_frame *frame);
uint32_t hs_snapshot_add_stack(struct hs_snapshot *s, const uint32_t *frames,
			       uint32_t nframes);
int hs_snapshot_add_trace(struct hs_snapshot *s, const struct hs_trace *trace);
int hs_snapshot_add_proc(struct hs_snapshot *s, const struct hs_proc *proc);
/*
 * The unwind entry of the module at path (NULL: code in no file), added
 * when new; NULL when memory ran out.
 */
struct hs_unwind_entry *hs_snapshot_unwind_entry(struct hs_snapshot *s,
						 const char *path);
/* Drops the interning tables once the snapshot is complete. */
void hs_snapshot_seal(struct hs_snapshot *s);

/* NULL for HS_NONE or an index out of range. */
const char *hs_snapshot_str(const struct hs_snapshot *s, uint32_t idx);

/*
 * How many blocks one trace stands for: 1 when every allocation was traced;
 * with byte sampling at a mean of sample_bytes, 1 / P(a block of this size
 * is sampled), as Go's heap profile scales. Its size estimate is
 * size * scale.
 */
double hs_trace_scale(const struct hs_snapshot *s, const struct hs_trace *t);

/* Adds every counter of c to to's. */
void hs_counters_add(struct hs_counters *to, const struct hs_counters *c);
/* Is frame f a Python frame (its module is HS_PYTHON_MODULE)? */
bool hs_frame_is_python(const struct hs_snapshot *s, const struct hs_frame *f);

/*
 * Keeps only the Python frames of every stack, as tracemalloc shows them:
 * a traceback without any becomes empty. Stacks left alike become one.
 * Returns 0, or -1 when memory ran out (s is then unchanged).
 */
int hs_snapshot_python_only(struct hs_snapshot *s);

/* The blocks trace t stands for. */
static inline uint64_t hs_trace_blocks(const struct hs_trace *t)
{
	return t->blocks ? t->blocks : 1;
}

/* The frame that ends a traceback cut short for reason (hs_unwind_stop). */
const char *hs_unwind_stop_name(unsigned int reason);
/* Why, in a few words: "no rule for the code", "no table", ... */
const char *hs_unwind_stop_why(unsigned int reason);

/* Live blocks and stacks whose unwinding was cut short, every module's. */
void hs_snapshot_unwind_cut(const struct hs_snapshot *s, uint64_t *blocks,
			    uint64_t *stacks);

/* Sum of every process's counters. */
void hs_snapshot_totals(const struct hs_snapshot *s, struct hs_counters *out);

/*
 * What a snapshot lost, as "lost" has always counted it: every process's
 * losses, with the global ones folded in (events: every global loss but
 * the missing stacks, which count as stack failures, and in_flight).
 */
struct hs_lost {
	uint64_t map_full;
	uint64_t stack_failures;
	uint64_t stack_collisions;
	uint64_t unknown_frees; /* of processes traced from their start */
	uint64_t events;
	/* blocks live at the snapshot's moment, freed while it was read */
	uint64_t in_flight;
	/* frees of blocks allocated before tracing began: no loss */
	uint64_t early_frees;
};

void hs_snapshot_lost(const struct hs_snapshot *s, struct hs_lost *out);

/* "heap", "mmap", ...; "unknown" for a number that is no domain. */
const char *hs_domain_name(unsigned int domain);
/* The domain of that name, or -1. */
int hs_domain_parse(const char *name);
/* Every domain's name, joined by sep: "heap, mmap". */
void hs_domain_list(char *buf, size_t len, const char *sep);

#endif
