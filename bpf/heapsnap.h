/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Types shared by the BPF programs and the loader: keys, values, limits. */
#ifndef HEAPSNAP_BPF_H
#define HEAPSNAP_BPF_H

#ifndef __bpf__
#include <linux/types.h> /* BPF code has them from vmlinux.h */
#endif

#define HS_MAX_FRAMES 127 /* perf's sysctl_perf_event_max_stack default */
#define HS_STACK_WINDOW 128 /* words of user stack read at once */
#define HS_INTERNED 16 /* stacks a thread remembers it interned */
#define HS_INLINE_FRAMES 4 /* frames walked before bpf_loop() takes over */
#define HS_UCACHE 512 /* unwind rows a thread keeps at hand */
#define HS_PY_WINDOW 1024 /* bytes of a thread's Python frames read at once */
#define HS_PY_CODES 32 /* code object ids a thread keeps at hand */
#define HS_PY_TSTATE_WORDS 24 /* thread-state words read at once */

/* Byte sampling tables (see sampling.c). */
#define HS_SAMPLE_GAPS 4096 /* quantiles of Exp(1) */
#define HS_WEIGHT_STEPS 256 /* weight table points per sample_bytes */
#define HS_WEIGHT_POINTS 4096 /* the table spans 16 * sample_bytes */
#define HS_SAMPLE_SIZE_MAX (1ULL << 62) /* larger requests count as this */
#define HS_SEEN_BITS 23 /* log2 of the bits of the sampled-address filter */

/* What an entry probe is: how to read its arguments and its result. */
enum hs_func {
	HS_FN_MALLOC = 0, /* size in arg0, pointer returned */
	HS_FN_CALLOC, /* n in arg0, m in arg1 */
	HS_FN_REALLOC, /* old in arg0, size in arg1 */
	HS_FN_REALLOCARRAY, /* old in arg0, n in arg1, m in arg2 */
	HS_FN_MEMALIGN, /* alignment in arg0, size in arg1 */
	HS_FN_POSIX_MEMALIGN, /* out in arg0, alignment arg1, size arg2; 0 = ok */
	HS_FN_VALLOC, /* size in arg0, page aligned */
	HS_FN_PVALLOC, /* size in arg0, rounded up to pages */
	HS_FN_FREE, /* pointer in arg0, no return probe */
	HS_FN_WRAPPER, /* e.g. operator new: its caller is the block's frame 0 */
	HS_FN_FREE_NESTS, /* a free that calls another probed free */
	HS_FN_PY_POOL, /* pymalloc takes a pool: the block it returns is in it */
	HS_FN_SYS_ENTRY, /* a libc syscall function of the mmap domain, entered */
	HS_FN_SYS_AFTER, /* the same, just after its syscall instruction */
	HS_FN_COUNT,
};

/*
 * An attach cookie: the function's enum hs_func in its low byte, and
 * HS_COOKIE_PYTHON for CPython's allocator functions, whose arguments
 * follow a context pointer and whose blocks are the python domain. A
 * pool's size is 1 << HS_COOKIE_POOL_BITS(cookie).
 */
#define HS_COOKIE_FN(c) ((c)&0xff)
#define HS_COOKIE_PYTHON 0x100
#define HS_COOKIE_RAW 0x200 /* a PyMem_Raw* function: malloc's blocks */
#define HS_COOKIE_POOL_BITS(c) (((c) >> 16) & 31)
#define HS_COOKIE_POOL(bits) ((__u32)(bits) << 16)
/*
 * The mmap domain's probes in libc (HS_FN_SYS_*): the call (enum hs_map_op;
 * HS_SYS_ANY for syscall(), whose number is its first argument;
 * HS_SYS_EARLY for a static executable's startup allocator, which returns
 * an anonymous block of its first argument's size), whether
 * the entry needs the return probe (no probe after the syscall ends the
 * call), and for a probe after the syscall, how far above %rsp the return
 * address is, in words.
 */
#define HS_SYS_EARLY 6
#define HS_SYS_ANY 7
#define HS_COOKIE_SYS_OP(c) (((c) >> 16) & 7)
#define HS_COOKIE_SYS_RET 0x80000
#define HS_COOKIE_SYS_SP(c) (((c) >> 20) & 0xfff)
#define HS_COOKIE_SYS(fn, op, sp_words) \
	((__u32)(fn) | (__u32)(op) << 16 | (__u32)(sp_words) << 20)
#define HS_SYS_SP_MAX 0xfff
/* pymalloc serves requests of 1 to this many bytes; others go to malloc */
#define HS_PY_SMALL_MAX 512

/*
 * What kind of memory a block is. The numbers are stored in snapshot files;
 * the names that commands and JSON use are in hs_domain_name().
 */
enum hs_domain {
	HS_DOMAIN_HEAP = 0, /* the malloc family */
	HS_DOMAIN_MMAP = 1, /* anonymous mappings made outside the allocator */
	HS_DOMAIN_PYTHON = 2, /* CPython's allocators, as tracemalloc sees them */
	HS_DOMAIN_COUNT,
};

struct hs_live_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct hs_live_val {
	__u64 size;
	__u64 stack; /* key into the stacks map */
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 tid;
	__u16 total_nframe;
	__u8 domain;
	__u8 pad;
};

/*
 * A bucket of the live-block table: the keys of up to HS_WAYS blocks, each
 * the block's address with its process's counters slot + 1 in the top 16
 * bits; 0 is a free way. Block i of bucket b is blocks[b * HS_WAYS + i].
 */
#define HS_WAYS 8
#define HS_KEY_ADDR_BITS 48

struct hs_bucket {
	__u64 key[HS_WAYS];
};

struct hs_stack_val {
	__u32 tgid;
	__u32 nframe; /* frames stored in ip[] */
	__u32 check; /* a second hash of ip[], to detect key collisions */
	__u32 flags; /* HS_STACK_* */
	__u64 stop_ip; /* the return address the walk stopped at */
	__u64 ip[HS_MAX_FRAMES];
};

/*
 * A process's counters: the BPF map's values, what collect reads and what a
 * snapshot keeps of each process. Every field is a __u64, added up field by
 * field (hs_counters_add()); snapshot files store them in this order, so
 * fields are only ever appended.
 */
struct hs_counters {
	__u64 current; /* bytes live */
	__u64 count; /* blocks live */
	__u64 peak;
	__u64 interval_peak; /* since the previous snapshot */
	__u64 allocs;
	__u64 frees;
	__u64 bytes_allocated;
	__u64 map_full; /* blocks not recorded: the live table was full */
	__u64 stack_failures; /* tracebacks not captured */
	__u64 stack_collisions; /* tracebacks that may be another's */
	__u64 unknown_frees; /* frees of blocks never seen allocated */
};

/*
 * The BPF side only ever changes them with atomic instructions; user space
 * only reads them.
 */
struct hs_proc_val {
	struct hs_counters c; /* c.interval_peak: valid when epoch is current */
	__u64 epoch; /* the global epoch of c.interval_peak */
	__u64 exec_ns; /* its last exec: older blocks belong to the old image */
};

/*
 * How far below a wrapper's entry the allocator it calls may start: the
 * wrapper's own frame. Larger gaps mean the wrapper already returned.
 */
#define HS_WRAPPER_FRAME_MAX 512

/*
 * DWARF unwinding. A rule says where a frame's CFA is and how rbp is
 * recovered; the return address is always at CFA - 8 (x86-64). Each
 * module's rows (an address and the index of its rule) are packed in
 * blocks, one BPF array per module; the rules of every module are one
 * table.
 */
enum hs_cfa_reg {
	HS_CFA_NONE = 0, /* no rule known here: the unwinding stops */
	HS_CFA_RSP, /* CFA = rsp + cfa_off */
	HS_CFA_RBP, /* CFA = rbp + cfa_off */
	HS_CFA_PLT, /* a PLT stub: rsp + 8, + 8 more when pc & 15 >= cfa_off */
	HS_CFA_END, /* the return address is undefined: the outermost frame */
};

#define HS_RBP_SAME 0 /* rbp keeps its value in this frame */
#define HS_RBP_UNDEF (-128) /* rbp cannot be recovered */

struct hs_cfi_rule {
	__s32 cfa_off;
	__u8 cfa_reg; /* enum hs_cfa_reg */
	__s8 rbp_off; /* rbp saved at CFA + 8 * rbp_off, or HS_RBP_* */
	__u16 fp; /* in a walker's cache: the module keeps frame pointers */
};

#define HS_CFI_RULES 16384 /* distinct rules, all modules together */
#define HS_CFI_NONE_RULE 0 /* rule 0 is always HS_CFA_NONE */
#define HS_CFI_MODULES 4096 /* modules with a table */

/*
 * Rows of one module, from ELF address base on: row i holds from
 * base + off[i] up to the next row's address. Offsets ascend; a block's
 * unused rows repeat its last one.
 */
#define HS_CFI_BLOCK_ROWS 15
struct hs_cfi_block {
	__u32 base;
	__u16 off[HS_CFI_BLOCK_ROWS];
	__u16 rule[HS_CFI_BLOCK_ROWS]; /* index into the rules */
};

/* How the BPF side walks a stack. */
enum hs_unwind_mode {
	HS_UNWIND_FP = 0, /* frame pointers only */
	HS_UNWIND_DWARF, /* call-frame tables wherever there is code */
	HS_UNWIND_AUTO, /* frame pointers in modules built with them */
};

/* A process's executable mappings, for the unwinder, sorted by start. */
#define HS_UNWIND_MAPS 64
#define HS_MAP_FRAME_POINTERS 1

struct hs_unwind_map {
	__u64 start, end;
	__u64 bias; /* runtime address - ELF address */
	__u32 module; /* its table, in the modules' array */
	__u32 nblocks;
	__u32 flags;
	__u32 pad;
};

struct hs_unwind_proc {
	__u32 n;
	__u32 gen; /* changes whenever the mappings do */
	__u64 image; /* the process's exec_ns when they were read */
	struct hs_unwind_map m[HS_UNWIND_MAPS];
};

/*
 * A module's table by the file the kernel maps (its device, as the kernel
 * encodes it, and inode): for code in a mapping its process's list does
 * not have yet.
 */
struct hs_cfi_file_key {
	__u64 dev;
	__u64 ino;
};

struct hs_cfi_file {
	__u32 module, nblocks, flags, pad;
	__s64 delta; /* ELF address - file offset, for its code */
};

/* The dynamic loader's debugger hook ran in tgid: its modules changed. */
struct hs_loader_event {
	__u32 tgid;
	__u32 stopped; /* the hook stopped the process (SIGSTOP) */
};

/* hs_stack_val.flags */
#define HS_STACK_UNKNOWN_CODE 1 /* the walk was cut short */
/* Why it was cut short: enum hs_unwind_stop, in bits 8..15. */
#define HS_STACK_STOP_SHIFT 8
#define HS_STACK_STOP(flags) (((flags) >> HS_STACK_STOP_SHIFT) & 0xff)

/* Where a walk was cut short; the numbers are stored in snapshot files. */
enum hs_unwind_stop {
	HS_STOP_NONE = 0,
	HS_STOP_NO_RULE, /* its module's table has no rule for the code */
	HS_STOP_NO_TABLE, /* code of a file with no table (yet) */
	HS_STOP_NO_MODULE, /* code in no file: anonymous memory, or none */
	HS_STOP_LOST_RBP, /* a rule on rbp, whose value was lost */
	HS_STOP_BAD_STACK, /* the stack could not be read, or went down */
	HS_STOP_TOO_DEEP, /* deeper than HS_MAX_FRAMES */
	HS_STOP_BUSY, /* the mappings were locked: the kernel did not look */
	HS_STOP_COUNT,
};

/*
 * A block freed while user space reads the live table for a snapshot, and
 * allocated before the snapshot's moment: it was live then, and the read
 * may have missed it.
 */
struct hs_read_free {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
	struct hs_live_val v;
};

/* A mapping change in the mmap domain, sent to user space as it happens. */
enum hs_map_op {
	HS_MAP_MMAP = 1, /* new region [ret, ret + a1) */
	HS_MAP_MUNMAP, /* [a0, a0 + a1) gone */
	HS_MAP_MREMAP, /* [a0, a0 + a1) became [ret, ret + a2) */
	HS_MAP_BRK, /* the break moved from a0 to ret */
};

/*
 * The mmap domain's functions probed in one file (device and inode, as the
 * kernel numbers them): their file offsets [lo, hi). A call of the domain
 * made from code outside them is not seen, and is counted.
 */
#define HS_MMAP_FUNCS_MAX 16

struct hs_file_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct hs_mmap_funcs {
	__u32 n;
	__u32 pad;
	struct {
		__u64 lo, hi;
	} r[HS_MMAP_FUNCS_MAX];
};

struct hs_map_event {
	__u32 op;
	__u32 tgid;
	__u32 tid;
	__u32 total_nframe;
	__u64 a0, a1, a2, ret;
	__u64 stack;
	__u64 time_ns;
};

/*
 * Losses that cannot be charged to a process: the recorder counts
 * events_lost and stacks_missing, the BPF side the others. A snapshot keeps
 * them as they are, in this order in its file: fields are only ever
 * appended.
 */
struct hs_global_counters {
	__u64 proc_map_full; /* allocator calls of a process with no slot */
	__u64 nested_overflow; /* calls not traced: no per-thread state */
	__u64 map_events_lost; /* the mmap-domain ring buffer was full */
	__u64 events_lost; /* process events the side-band lost */
	__u64 stacks_missing; /* stacks gone from their map when read */
	__u64 py_codes_lost; /* Python code objects not named: first sight lost */
	__u64 mmap_calls_unseen; /* mmap-domain calls made outside probed code */
	/* blocks freed while a snapshot read the live table, not kept in it */
	__u64 in_flight_lost;
};

struct hs_global_val {
	struct hs_global_counters c;
	__u64 spilled; /* blocks in the spill map now, not a loss */
	__u64 py_next_id; /* the last Python code object id given */
	/* bumped when a code object threads may know is freed */
	__u64 py_code_gen;
};

#endif
