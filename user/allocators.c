// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Allocator families and their entry points, each mapped onto the probe
 * kind with the same argument layout. Who calls whom was read from the
 * code of Debian 12's builds (glibc 2.36, jemalloc 5.3.0, gperftools 2.10,
 * mimalloc 2.0.9); the README lists the result.
 */
#include <capstone/capstone.h>
#include <linux/types.h>
#include <string.h>

#include "allocators.h"
#include "heapsnap.h"

struct sym_entry {
	const char *name;
	int fn;
	bool or_wrapper;
};

#define NEW_OPS(kind)                                                         \
	{ "_Znwm", kind, true }, { "_Znam", kind, true },                     \
		{ "_ZnwmRKSt9nothrow_t", kind, true },                        \
		{ "_ZnamRKSt9nothrow_t", kind, true },                        \
		{ "_ZnwmSt11align_val_t", kind, true },                       \
		{ "_ZnamSt11align_val_t", kind, true },                       \
		{ "_ZnwmSt11align_val_tRKSt9nothrow_t", kind, true },         \
		{ "_ZnamSt11align_val_tRKSt9nothrow_t", kind, true }

#define DELETE_OPS                                                            \
	{ "_ZdlPv", HS_FN_FREE, false }, { "_ZdaPv", HS_FN_FREE, false },     \
		{ "_ZdlPvm", HS_FN_FREE, false },                             \
		{ "_ZdaPvm", HS_FN_FREE, false },                             \
		{ "_ZdlPvRKSt9nothrow_t", HS_FN_FREE, false },                \
		{ "_ZdaPvRKSt9nothrow_t", HS_FN_FREE, false },                \
		{ "_ZdlPvSt11align_val_t", HS_FN_FREE, false },               \
		{ "_ZdaPvSt11align_val_t", HS_FN_FREE, false },               \
		{ "_ZdlPvmSt11align_val_t", HS_FN_FREE, false },              \
		{ "_ZdaPvmSt11align_val_t", HS_FN_FREE, false },              \
		{ "_ZdlPvSt11align_val_tRKSt9nothrow_t", HS_FN_FREE, false }, \
		{ "_ZdaPvSt11align_val_tRKSt9nothrow_t", HS_FN_FREE, false }

/*
 * Every family. operator new is a wrapper where it calls malloc (libstdc++,
 * and jemalloc's aligned new, which calls aligned_alloc) and an allocator
 * where it does not (jemalloc's and tcmalloc's plain new).
 */
static const struct sym_entry common_syms[] = {
	{ "malloc", HS_FN_MALLOC },
	{ "calloc", HS_FN_CALLOC },
	{ "realloc", HS_FN_REALLOC },
	{ "reallocarray", HS_FN_REALLOCARRAY },
	{ "free", HS_FN_FREE },
	{ "cfree", HS_FN_FREE },
	{ "posix_memalign", HS_FN_POSIX_MEMALIGN },
	{ "aligned_alloc", HS_FN_MEMALIGN },
	{ "memalign", HS_FN_MEMALIGN },
	{ "valloc", HS_FN_VALLOC },
	{ "pvalloc", HS_FN_PVALLOC },
	NEW_OPS(HS_FN_MALLOC),
};

/*
 * jemalloc, also with its names prefixed by je_. Its plain and aligned
 * operator delete jump to free and its aligned sized ones to sdallocx, so
 * only the sized ones free by themselves. xallocx resizes in place and
 * returns a size, not a block: not traced.
 */
static const struct sym_entry jemalloc_syms[] = {
	{ "mallocx", HS_FN_MALLOC },
	{ "rallocx", HS_FN_REALLOC },
	{ "dallocx", HS_FN_FREE },
	{ "sdallocx", HS_FN_FREE },
	{ "free_sized", HS_FN_FREE },
	{ "free_aligned_sized", HS_FN_FREE },
	{ "_ZdlPvm", HS_FN_FREE },
	{ "_ZdaPvm", HS_FN_FREE },
};

/*
 * tcmalloc and tcmalloc_minimal: each tc_ name shares its address with the
 * standard one. tc_posix_memalign, tc_valloc and tc_pvalloc call
 * tc_memalign, inside their own probe.
 */
static const struct sym_entry tcmalloc_syms[] = {
	{ "tc_malloc", HS_FN_MALLOC },
	{ "tc_malloc_skip_new_handler", HS_FN_MALLOC },
	{ "tc_calloc", HS_FN_CALLOC },
	{ "tc_realloc", HS_FN_REALLOC },
	{ "tc_memalign", HS_FN_MEMALIGN },
	{ "tc_posix_memalign", HS_FN_POSIX_MEMALIGN },
	{ "tc_valloc", HS_FN_VALLOC },
	{ "tc_pvalloc", HS_FN_PVALLOC },
	{ "tc_new", HS_FN_MALLOC, true },
	{ "tc_newarray", HS_FN_MALLOC, true },
	{ "tc_new_nothrow", HS_FN_MALLOC, true },
	{ "tc_newarray_nothrow", HS_FN_MALLOC, true },
	{ "tc_new_aligned", HS_FN_MALLOC, true },
	{ "tc_newarray_aligned", HS_FN_MALLOC, true },
	{ "tc_new_aligned_nothrow", HS_FN_MALLOC, true },
	{ "tc_newarray_aligned_nothrow", HS_FN_MALLOC, true },
	{ "tc_free", HS_FN_FREE },
	{ "tc_cfree", HS_FN_FREE },
	{ "tc_free_sized", HS_FN_FREE },
	{ "tc_delete", HS_FN_FREE },
	{ "tc_deletearray", HS_FN_FREE },
	{ "tc_delete_sized", HS_FN_FREE },
	{ "tc_deletearray_sized", HS_FN_FREE },
	{ "tc_delete_nothrow", HS_FN_FREE },
	{ "tc_deletearray_nothrow", HS_FN_FREE },
	{ "tc_delete_aligned", HS_FN_FREE },
	{ "tc_deletearray_aligned", HS_FN_FREE },
	{ "tc_delete_sized_aligned", HS_FN_FREE },
	{ "tc_deletearray_sized_aligned", HS_FN_FREE },
	{ "tc_delete_aligned_nothrow", HS_FN_FREE },
	{ "tc_deletearray_aligned_nothrow", HS_FN_FREE },
	DELETE_OPS,
};

/*
 * mimalloc. Most of its names are jumps to another one (valloc to
 * mi_valloc, mi_free_size to mi_free, ...): those are found as aliases. The
 * mi_heap_ functions take a heap first and are not traced; neither are
 * mi_strdup, mi_strndup and mi_realpath, whose size is not an argument.
 */
static const struct sym_entry mimalloc_syms[] = {
	{ "mi_malloc", HS_FN_MALLOC },
	{ "mi_zalloc", HS_FN_MALLOC },
	{ "mi_malloc_small", HS_FN_MALLOC },
	{ "mi_zalloc_small", HS_FN_MALLOC },
	{ "mi_malloc_aligned", HS_FN_MALLOC },
	{ "mi_malloc_aligned_at", HS_FN_MALLOC },
	{ "mi_zalloc_aligned", HS_FN_MALLOC },
	{ "mi_zalloc_aligned_at", HS_FN_MALLOC },
	{ "mi_calloc", HS_FN_CALLOC },
	{ "mi_mallocn", HS_FN_CALLOC },
	{ "mi_calloc_aligned", HS_FN_CALLOC },
	{ "mi_calloc_aligned_at", HS_FN_CALLOC },
	{ "mi_realloc", HS_FN_REALLOC },
	{ "mi_rezalloc", HS_FN_REALLOC },
	{ "mi_reallocf", HS_FN_REALLOC },
	{ "reallocf", HS_FN_REALLOC },
	{ "mi_expand", HS_FN_REALLOC },
	{ "mi_realloc_aligned", HS_FN_REALLOC },
	{ "mi_realloc_aligned_at", HS_FN_REALLOC },
	{ "mi_rezalloc_aligned", HS_FN_REALLOC },
	{ "mi_rezalloc_aligned_at", HS_FN_REALLOC },
	{ "mi_reallocn", HS_FN_REALLOCARRAY },
	{ "mi_recalloc", HS_FN_REALLOCARRAY },
	{ "mi_reallocarray", HS_FN_REALLOCARRAY },
	{ "mi_recalloc_aligned", HS_FN_REALLOCARRAY },
	{ "mi_recalloc_aligned_at", HS_FN_REALLOCARRAY },
	{ "mi_memalign", HS_FN_MEMALIGN },
	{ "mi_aligned_alloc", HS_FN_MEMALIGN },
	{ "mi_posix_memalign", HS_FN_POSIX_MEMALIGN },
	{ "mi_valloc", HS_FN_VALLOC },
	{ "mi_pvalloc", HS_FN_PVALLOC },
	{ "mi_new", HS_FN_MALLOC, true },
	{ "mi_new_nothrow", HS_FN_MALLOC, true },
	{ "mi_new_aligned", HS_FN_MALLOC, true },
	{ "mi_new_aligned_nothrow", HS_FN_MALLOC, true },
	{ "mi_new_n", HS_FN_CALLOC, true },
	{ "mi_new_realloc", HS_FN_REALLOC, true },
	{ "mi_new_reallocn", HS_FN_REALLOCARRAY, true },
	{ "mi_free", HS_FN_FREE },
	{ "mi_free_size", HS_FN_FREE },
	{ "mi_free_size_aligned", HS_FN_FREE },
	{ "mi_free_aligned", HS_FN_FREE },
	{ "vfree", HS_FN_FREE },
	DELETE_OPS,
};

struct family {
	const char *name;
	const char *prefix; /* also looked up without it */
	const char *const markers[3]; /* a file defining one is this family */
	const struct sym_entry *syms;
	size_t nsyms;
};

#define TABLE(t) t, sizeof(t) / sizeof(t[0])

static const struct family families[HS_FAM_COUNT] = {
	[HS_FAM_LIBC] = { "libc", NULL, { NULL }, NULL, 0 },
	[HS_FAM_JEMALLOC] = { "jemalloc", "je_",
			      { "mallocx", "je_mallocx", "je_malloc" },
			      TABLE(jemalloc_syms) },
	[HS_FAM_TCMALLOC] = { "tcmalloc", NULL, { "tc_malloc" },
			      TABLE(tcmalloc_syms) },
	[HS_FAM_MIMALLOC] = { "mimalloc", NULL, { "mi_malloc" },
			      TABLE(mimalloc_syms) },
};

enum hs_alloc_family hs_family_marker(const char *name)
{
	for (int f = 0; f < HS_FAM_COUNT; f++)
		for (int i = 0; i < 3 && families[f].markers[i]; i++)
			if (!strcmp(name, families[f].markers[i]))
				return (enum hs_alloc_family)f;
	return HS_FAM_LIBC;
}

const char *hs_family_name(enum hs_alloc_family fam)
{
	return fam < HS_FAM_COUNT ? families[fam].name : "?";
}

static const struct sym_entry *lookup(const struct sym_entry *t, size_t n,
				      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

struct hs_sym_class hs_classify(enum hs_alloc_family fam, const char *name)
{
	struct hs_sym_class c = { -1, false };
	const struct family *f;
	const struct sym_entry *e;
	size_t plen;

	if (fam >= HS_FAM_COUNT)
		return c;
	f = &families[fam];
	if (f->prefix) {
		plen = strlen(f->prefix);
		if (!strncmp(name, f->prefix, plen) && name[plen])
			name += plen;
	}
	e = lookup(f->syms, f->nsyms, name);
	if (!e)
		e = lookup(common_syms,
			   sizeof(common_syms) / sizeof(common_syms[0]), name);
	if (e) {
		c.fn = e->fn;
		c.or_wrapper = e->or_wrapper;
	}
	return c;
}

static bool is_endbr64(const cs_insn *insn)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	return insn->size == 4 && !memcmp(insn->bytes, endbr64, 4);
}

static bool open_cs(csh *cs, bool detail)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, cs))
		return false;
	if (detail)
		cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

/* The immediate target of a direct jmp, jcc or call, or false. */
static bool direct_target(const cs_insn *insn, uint64_t *target)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_JMP && insn->id != X86_INS_CALL &&
	    !(insn->id >= X86_INS_JAE && insn->id <= X86_INS_JS))
		return false;
	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*target = (uint64_t)x->operands[0].imm;
	return true;
}

bool hs_code_thunk(const uint8_t *code, size_t len, uint64_t vaddr,
		   uint64_t *target)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	bool found = false;
	cs_insn *insn;
	csh cs;

	if (!open_cs(&cs, true))
		return false;
	insn = cs_malloc(cs);
	for (int i = 0; insn && i < 2; i++) {
		if (!cs_disasm_iter(cs, &p, &len, &addr, insn))
			break;
		if (i == 0 && is_endbr64(insn))
			continue;
		found = insn->id == X86_INS_JMP && direct_target(insn, target);
		break;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return found;
}

static size_t targets_of(const uint8_t *code, size_t len, uint64_t vaddr,
			 uint64_t *targets, size_t max, bool calls_only)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr, t;
	size_t n = 0;
	cs_insn *insn;
	csh cs;

	if (!open_cs(&cs, true))
		return 0;
	insn = cs_malloc(cs);
	while (insn && n < max && cs_disasm_iter(cs, &p, &len, &addr, insn)) {
		if ((!calls_only || insn->id == X86_INS_CALL) &&
		    direct_target(insn, &t))
			targets[n++] = t;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return n;
}

size_t hs_code_branches(const uint8_t *code, size_t len, uint64_t vaddr,
			uint64_t *targets, size_t max)
{
	return targets_of(code, len, vaddr, targets, max, false);
}

size_t hs_code_calls(const uint8_t *code, size_t len, uint64_t vaddr,
		     uint64_t *targets, size_t max)
{
	return targets_of(code, len, vaddr, targets, max, true);
}

uint64_t hs_code_align_mask(const uint8_t *code, size_t len, uint64_t vaddr,
			    unsigned int lo_bits, unsigned int hi_bits)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr, found = 0;
	cs_insn *insn;
	csh cs;

	if (!open_cs(&cs, true))
		return 0;
	insn = cs_malloc(cs);
	while (insn && !found && cs_disasm_iter(cs, &p, &len, &addr, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		uint64_t imm;

		if (insn->id != X86_INS_AND || x->op_count != 2 ||
		    x->operands[1].type != X86_OP_IMM)
			continue;
		imm = (uint64_t)x->operands[1].imm;
		for (unsigned int b = lo_bits; b <= hi_bits; b++)
			if (imm == ~((1ULL << b) - 1))
				found = 1ULL << b;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return found;
}

bool hs_code_plt_slot(const uint8_t *code, size_t len, uint64_t vaddr,
		      uint64_t *slot)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	bool found = false;
	cs_insn *insn;
	csh cs;

	if (!open_cs(&cs, true))
		return false;
	insn = cs_malloc(cs);
	for (int i = 0; insn && i < 2; i++) {
		const cs_x86 *x;

		if (!cs_disasm_iter(cs, &p, &len, &addr, insn))
			break;
		if (i == 0 && is_endbr64(insn))
			continue;
		x = &insn->detail->x86;
		/* jmp *disp(%rip), with or without a bnd prefix */
		if (insn->id == X86_INS_JMP && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RIP &&
		    x->operands[0].mem.index == X86_REG_INVALID) {
			*slot = insn->address + insn->size +
				(uint64_t)x->operands[0].mem.disp;
			found = true;
		}
		break;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return found;
}

/*
 * libc's functions of the mmap domain's calls, by every name they have:
 * those whose code makes the syscall (found by their syscall instructions
 * in glibc 2.36: mmap, munmap, mremap, brk and syscall(), and in a static
 * executable _dl_early_allocate, which maps the main thread's TLS before
 * main), and sbrk, which calls brk.
 */
static const struct {
	const char *name;
	int op;
} sys_funcs[] = {
	{ "mmap", HS_MAP_MMAP },
	{ "mmap64", HS_MAP_MMAP },
	{ "__mmap", HS_MAP_MMAP },
	{ "__mmap64", HS_MAP_MMAP },
	{ "munmap", HS_MAP_MUNMAP },
	{ "__munmap", HS_MAP_MUNMAP },
	{ "mremap", HS_MAP_MREMAP },
	{ "__mremap", HS_MAP_MREMAP },
	{ "brk", HS_MAP_BRK },
	{ "__brk", HS_MAP_BRK },
	{ "syscall", HS_SYS_ANY },
	{ "sbrk", 0 },
	{ "__sbrk", 0 },
	{ "_dl_early_allocate", HS_SYS_EARLY },
};

int hs_sys_func(const char *name)
{
	for (size_t i = 0; i < sizeof(sys_funcs) / sizeof(sys_funcs[0]); i++)
		if (!strcmp(name, sys_funcs[i].name))
			return sys_funcs[i].op;
	return -1;
}
