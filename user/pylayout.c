// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * CPython's runtime layout, x86-64. The 3.11 and 3.12 tables were read from
 * the DWARF of their builds (struct _ts, _PyInterpreterFrame, PyCodeObject,
 * PyASCIIObject...); the 3.13 runtime starts with _Py_DebugOffsets, which
 * the interpreter fills for out-of-process tools, and that is read instead.
 */
#include <stdio.h>
#include <string.h>

#include "elffile.h"
#include "pylayout.h"

#define NONE HS_PY_NO_FIELD

static const struct hs_py_offsets py311 = {
	.runtime_interp_head = 40,
	.interp_threads_head = 16,
	.tstate_next = 8,
	.tstate_thread_id = 152,
	.tstate_frame = 56,
	.cframe_frame = 8,
	.frame_code = 32,
	.frame_previous = 48,
	.frame_instr = 56,
	.frame_owner = 69,
	.frame_is_entry = 68,
	.code_first_instr = 184,
	.code_filename = 112,
	.code_name = 120,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_firstlineno = 72,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_size = 48,
	.str_compact_size = 72,
	.owner_cstack = 0xff,
};

static const struct hs_py_offsets py312 = {
	.runtime_interp_head = 40,
	.interp_threads_head = 72,
	.tstate_next = 8,
	.tstate_thread_id = 136,
	.tstate_frame = 56,
	.cframe_frame = 0,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_instr = 56,
	.frame_owner = 70,
	.frame_is_entry = NONE,
	.code_first_instr = 192,
	.code_filename = 112,
	.code_name = 120,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_firstlineno = 68,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_size = 40,
	.str_compact_size = 56,
	.owner_cstack = 3, /* FRAME_OWNED_BY_CSTACK */
};

/* The 3.13 _Py_DebugOffsets fields heapsnap reads, by offset. */
enum {
	DO_COOKIE = 0,
	DO_VERSION = 8,
	DO_FREE_THREADED = 16,
	DO_RUNTIME_INTERP_HEAD = 40,
	DO_INTERP_THREADS_HEAD = 72,
	DO_TSTATE_NEXT = 168,
	DO_TSTATE_CURRENT_FRAME = 184,
	DO_TSTATE_THREAD_ID = 192,
	DO_FRAME_PREVIOUS = 232,
	DO_FRAME_EXECUTABLE = 240,
	DO_FRAME_INSTR_PTR = 248,
	DO_FRAME_OWNER = 264,
	DO_CODE_FILENAME = 280,
	DO_CODE_NAME = 288,
	DO_CODE_QUALNAME = 296,
	DO_CODE_LINETABLE = 304,
	DO_CODE_FIRSTLINENO = 312,
	DO_CODE_ADAPTIVE = 344,
	DO_BYTES_OB_SIZE = 520,
	DO_BYTES_OB_SVAL = 528,
	DO_STR_STATE = 544,
	DO_STR_LENGTH = 552,
	DO_STR_ASCII_SIZE = 560,
	DO_SIZE = 584,
};

static uint64_t field(const uint8_t *d, size_t at)
{
	uint64_t v;

	memcpy(&v, d + at, sizeof(v));
	return v;
}

static bool set16(__u16 *dst, uint64_t v)
{
	*dst = (__u16)v;
	return v < NONE;
}

/* 3.13: the offsets the interpreter publishes; false when they are odd. */
static bool debug_offsets(struct hs_elf *e, const struct hs_pylayout *l,
			  struct hs_py_offsets *o)
{
	uint8_t d[DO_SIZE];
	bool ok = true;

	if (hs_elf_read(e, l->runtime, d, sizeof(d)) != (ssize_t)sizeof(d) ||
	    memcmp(d + DO_COOKIE, "xdebugpy", 8) ||
	    field(d, DO_VERSION) >> 16 != l->version >> 16 ||
	    field(d, DO_FREE_THREADED))
		return false;
	ok &= set16(&o->runtime_interp_head, field(d, DO_RUNTIME_INTERP_HEAD));
	ok &= set16(&o->interp_threads_head, field(d, DO_INTERP_THREADS_HEAD));
	ok &= set16(&o->tstate_next, field(d, DO_TSTATE_NEXT));
	ok &= set16(&o->tstate_thread_id, field(d, DO_TSTATE_THREAD_ID));
	ok &= set16(&o->tstate_frame, field(d, DO_TSTATE_CURRENT_FRAME));
	o->cframe_frame = NONE;
	ok &= set16(&o->frame_code, field(d, DO_FRAME_EXECUTABLE));
	ok &= set16(&o->frame_previous, field(d, DO_FRAME_PREVIOUS));
	ok &= set16(&o->frame_instr, field(d, DO_FRAME_INSTR_PTR));
	ok &= set16(&o->frame_owner, field(d, DO_FRAME_OWNER));
	o->frame_is_entry = NONE;
	ok &= set16(&o->code_first_instr, field(d, DO_CODE_ADAPTIVE));
	ok &= set16(&o->code_filename, field(d, DO_CODE_FILENAME));
	ok &= set16(&o->code_name, field(d, DO_CODE_NAME));
	ok &= set16(&o->code_qualname, field(d, DO_CODE_QUALNAME));
	ok &= set16(&o->code_linetable, field(d, DO_CODE_LINETABLE));
	ok &= set16(&o->code_firstlineno, field(d, DO_CODE_FIRSTLINENO));
	ok &= set16(&o->bytes_size, field(d, DO_BYTES_OB_SIZE));
	ok &= set16(&o->bytes_data, field(d, DO_BYTES_OB_SVAL));
	ok &= set16(&o->str_length, field(d, DO_STR_LENGTH));
	ok &= set16(&o->str_state, field(d, DO_STR_STATE));
	ok &= set16(&o->str_ascii_size, field(d, DO_STR_ASCII_SIZE));
	/* PyCompactUnicodeObject: utf8_length and utf8 after the ASCII part */
	o->str_compact_size = (__u16)(o->str_ascii_size + 16);
	o->owner_cstack = 3; /* FRAME_OWNED_BY_CSTACK */
	return ok;
}

void hs_pyversion_str(uint32_t version, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", version >> 24, (version >> 16) & 0xff,
		 (version >> 8) & 0xff);
}

/* An older CPython has no Py_Version: its name says which it is. */
static uint32_t version_from_name(const char *path)
{
	const char *p = strrchr(path, '/');
	unsigned int major, minor;

	p = p ? p + 1 : path;
	if (!strncmp(p, "lib", 3))
		p += 3;
	if (sscanf(p, "python%u.%u", &major, &minor) != 2)
		return 0;
	return major << 24 | minor << 16;
}

int hs_pylayout_read(struct hs_elf *e, const char *path, struct hs_pylayout *l)
{
	uint64_t v = 0, size = 0;
	char ver[32];

	memset(l, 0, sizeof(*l));
	if (!hs_elf_symbol(e, "Py_Initialize", &v, NULL) &&
	    !hs_elf_symbol(e, "Py_InitializeEx", &v, NULL))
		return 0;
	v = 0;
	if (hs_elf_symbol(e, "Py_Version", &l->runtime, NULL) &&
	    hs_elf_read(e, l->runtime, &v, sizeof(v)) == (ssize_t)sizeof(v))
		l->version = (uint32_t)v;
	else
		l->version = version_from_name(path);
	l->runtime = 0;
	hs_pyversion_str(l->version, ver, sizeof(ver));
	if (!l->version) {
		snprintf(
			l->note, sizeof(l->note),
			"a CPython of unknown version: traced natively, without Python frames");
		return 1;
	}
	if (!hs_elf_symbol(e, "_PyRuntime", &l->runtime, NULL) ||
	    !hs_elf_symbol(e, "_PyEval_EvalFrameDefault", &l->eval_lo, &size)) {
		snprintf(
			l->note, sizeof(l->note),
			"CPython %s does not export _PyRuntime and _PyEval_EvalFrameDefault: traced natively, without Python frames",
			ver);
		return 1;
	}
	l->eval_hi = l->eval_lo + size;
	switch (l->version >> 16) {
	case 0x030b:
		l->off = py311;
		l->supported = true;
		break;
	case 0x030c:
		l->off = py312;
		l->supported = true;
		break;
	case 0x030d:
		l->supported = debug_offsets(e, l, &l->off);
		if (!l->supported)
			snprintf(
				l->note, sizeof(l->note),
				"CPython %s: its _Py_DebugOffsets are not the 3.13 ones heapsnap reads (a free-threaded build?): traced natively, without Python frames",
				ver);
		return 1;
	default:
		snprintf(
			l->note, sizeof(l->note),
			"CPython %s: heapsnap reads the frames of 3.11, 3.12 and 3.13; traced natively, without Python frames",
			ver);
		return 1;
	}
	return 1;
}
