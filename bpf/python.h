/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Python frames: what the BPF walker needs to know of a CPython process,
 * and how it reports what it saw. Shared by the BPF programs and the loader.
 */
#ifndef HEAPSNAP_PYTHON_H
#define HEAPSNAP_PYTHON_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define HS_PY_NO_FIELD 0xffff /* the version has no such field */

/*
 * Offsets into CPython's runtime structures, x86-64: read from 3.13's
 * _Py_DebugOffsets, from tables for 3.11 and 3.12.
 */
struct hs_py_offsets {
	__u16 runtime_interp_head; /* _PyRuntime.interpreters.head */
	__u16 interp_threads_head; /* PyInterpreterState.threads.head */
	__u16 tstate_next;
	__u16 tstate_thread_id; /* pthread_self() of its thread */
	__u16 tstate_frame; /* cframe (3.11, 3.12) or current_frame (3.13) */
	__u16 cframe_frame; /* _PyCFrame.current_frame, or HS_PY_NO_FIELD */
	__u16 frame_code; /* f_code or f_executable */
	__u16 frame_previous;
	__u16 frame_instr; /* prev_instr (3.11, 3.12) or instr_ptr (3.13) */
	__u16 frame_owner;
	__u16 frame_is_entry; /* 3.11 only, else HS_PY_NO_FIELD */
	__u16 code_first_instr; /* co_code_adaptive */
	__u16 code_filename;
	__u16 code_name;
	__u16 code_qualname;
	__u16 code_linetable;
	__u16 code_firstlineno;
	__u16 bytes_size; /* PyBytesObject: ob_size */
	__u16 bytes_data; /* ob_sval */
	__u16 str_length;
	__u16 str_state;
	__u16 str_ascii_size; /* sizeof(PyASCIIObject) */
	__u16 str_compact_size; /* sizeof(PyCompactUnicodeObject) */
	__u8 owner_cstack; /* an entry shim's owner (3.12+), else 0xff */
	__u8 pad[3];
};

/* Per process: where its runtime is, and how it is laid out. */
struct hs_py_proc {
	__u64 runtime; /* _PyRuntime's address in the process */
	__u64 eval_lo, eval_hi; /* _PyEval_EvalFrameDefault in the process */
	/*
	 * Its object allocator's frees are probed (exact mode): a code object
	 * freed is seen, so a thread may trust the ids it keeps.
	 */
	__u32 frees_traced;
	__u32 pad;
	struct hs_py_offsets off;
};

/*
 * A Python frame in a stack's ip[]: bit 63 set, the code object's id
 * (HS_PYFRAME_ID) and the instruction's offset in code units. ENTRY marks
 * the first frame of one run of the interpreter loop: the frames up to it
 * stand where a native _PyEval_EvalFrameDefault frame stands.
 */
#define HS_PYFRAME (1ULL << 63)
#define HS_PYFRAME_ENTRY (1ULL << 62)
#define HS_PYFRAME_ID(x) ((__u32)((x) >> 24))
#define HS_PYFRAME_INSTR(x) ((__u32)((x)&0xffffff))
#define HS_PYFRAME_INSTR_MAX 0xffffff

/* What a code object's frames need, copied when it is first seen. */
#define HS_PY_STR_BYTES 512 /* a str object, from its start */
#define HS_PY_LINETABLE_BYTES 4096

struct hs_py_code_event {
	__u32 tgid;
	__u32 id; /* as in HS_PYFRAME_ID */
	__u64 code; /* its address */
	__s32 firstlineno;
	__u32 linetable_len; /* co_linetable's length */
	__u32 linetable_copied; /* bytes of it in linetable[] */
	__u16 filename_copied; /* bytes of the str objects copied */
	__u16 qualname_copied;
	__u8 filename[HS_PY_STR_BYTES];
	__u8 qualname[HS_PY_STR_BYTES];
	__u8 linetable[HS_PY_LINETABLE_BYTES];
};

#endif
