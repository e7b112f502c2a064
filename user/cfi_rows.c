// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The rows of the FDEs: each row evaluated by libdw (dwarf_cfi_addrframe()
 * at the row's first address, whose dwarf_frame_info() range says where the
 * next row starts) and reduced to the rules the BPF side knows: the CFA as
 * rsp or rbp plus an offset, or ld's PLT expression; rbp untouched or saved
 * at a multiple of 8 from the CFA; the return address at CFA - 8. Anything
 * else is HS_CFA_NONE, where the unwinding stops.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>

#include "cfi_builder.h"
#include "grow.h"

/* x86-64 DWARF register numbers. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

static bool same_rules(const struct hs_cfi_row *a, const struct hs_cfi_row *b)
{
	return a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->rbp_off == b->rbp_off;
}

/* Appends a row: a later row at the same pc replaces the earlier. */
static int emit(struct cfi_builder *b, struct hs_cfi_row row)
{
	int err;

	while (b->nrows && b->rows[b->nrows - 1].pc == row.pc)
		b->nrows--;
	if (b->nrows && same_rules(&b->rows[b->nrows - 1], &row))
		return 0;
	err = hs_grow(&b->rows, &b->rows_cap, b->nrows + 1, sizeof(*b->rows));
	if (err)
		return err;
	b->rows[b->nrows++] = row;
	return 0;
}

static int emit_none(struct cfi_builder *b, uint64_t pc)
{
	return emit(b, (struct hs_cfi_row){ .pc = (uint32_t)pc,
					    .cfa_reg = HS_CFA_NONE });
}

/* The offset of a register saved at CFA + off, as libdw describes it. */
static bool cfa_offset_rule(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (!ops || !nops || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 1) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/*
 * ld's CFA for .plt: rsp + 8, and 8 more once the stub has pushed its
 * index, at (pc & 15) >= N:
 * DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litN;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus.
 */
static bool plt_rule(const Dwarf_Op *ops, size_t nops, int32_t *threshold)
{
	static const uint8_t want[] = {
		DW_OP_breg7, DW_OP_breg16, DW_OP_lit15,
		DW_OP_and,   0 /* litN */, DW_OP_ge,
		DW_OP_lit3,  DW_OP_shl,	   DW_OP_plus,
	};
	size_t i;

	if (nops != sizeof(want) || ops[0].number != 8 || ops[1].number != 0 ||
	    ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31)
		return false;
	for (i = 0; i < nops; i++) {
		if (i != 4 && ops[i].atom != want[i])
			return false;
	}
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

static struct hs_cfi_row frame_row(Dwarf_Frame *frame, int ra, bool signal)
{
	struct hs_cfi_row none = { .cfa_reg = HS_CFA_NONE }, row = none;
	Dwarf_Op mem[3], *ops;
	unsigned int reg;
	size_t nops;
	int64_t off;

	/*
	 * A signal frame's "return address" is the interrupted pc, not a
	 * call's: glibc's use CFA expressions anyway.
	 */
	if (signal || ra != REG_RA ||
	    dwarf_frame_register(frame, REG_RA, mem, &ops, &nops))
		return none;
	/*
	 * An undefined return address (libdw: no operations, *ops == mem)
	 * marks the outermost frame: _start, a thread's start.
	 */
	if (!nops && ops == mem)
		return (struct hs_cfi_row){ .cfa_reg = HS_CFA_END };
	if (!cfa_offset_rule(ops, nops, &off) || off != -8)
		return none;

	if (dwarf_frame_cfa(frame, &ops, &nops) || !nops)
		return none;
	if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		reg = ops[0].number > 31 ? 32 : (unsigned int)ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (nops == 1 && ops[0].atom >= DW_OP_breg0 &&
		   ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else if (plt_rule(ops, nops, &row.cfa_off)) {
		row.cfa_reg = HS_CFA_PLT;
		reg = 32;
	} else {
		return none;
	}
	if (row.cfa_reg != HS_CFA_PLT) {
		if ((reg != REG_RSP && reg != REG_RBP) || off < INT32_MIN ||
		    off > INT32_MAX)
			return none;
		row.cfa_reg = reg == REG_RSP ? HS_CFA_RSP : HS_CFA_RBP;
		row.cfa_off = (int32_t)off;
	}

	if (dwarf_frame_register(frame, REG_RBP, mem, &ops, &nops)) {
		row.rbp_off = HS_RBP_UNDEF;
	} else if (!nops) {
		/*
		 * Same value, or undefined: what libdw says of a register no
		 * rule mentions when it has no ABI defaults. Either way the
		 * frame did not touch rbp.
		 */
		row.rbp_off = HS_RBP_SAME;
	} else if (cfa_offset_rule(ops, nops, &off) && off && !(off % 8) &&
		   off / 8 > HS_RBP_UNDEF && off / 8 <= INT8_MAX) {
		row.rbp_off = (int8_t)(off / 8);
	} else {
		row.rbp_off = HS_RBP_UNDEF;
	}
	return row;
}

/* The rows of one FDE from addr on; the rest is HS_CFA_NONE. */
static int fde_rows(struct cfi_builder *b, const struct cfi_fde *f,
		    uint64_t addr)
{
	Dwarf_CFI *cfi = b->src[f->src].cfi;
	struct hs_cfi_row row;
	bool fp = false, plt = false, signal;
	size_t nrows = 0;
	Dwarf_Addr start, end;
	Dwarf_Frame *frame;
	int ra, err;

	while (addr < f->end) {
		if (b->work < f->cost)
			break;
		b->work -= f->cost;
		if (dwarf_cfi_addrframe(cfi, addr, &frame))
			break;
		ra = dwarf_frame_info(frame, &start, &end, &signal);
		if (ra < 0 || start > addr || end <= addr) {
			free(frame);
			break;
		}
		row = frame_row(frame, ra, signal);
		free(frame);
		row.pc = (uint32_t)addr;
		if (nrows++ && row.cfa_reg == HS_CFA_RBP)
			fp = true;
		plt |= row.cfa_reg == HS_CFA_PLT;
		err = emit(b, row);
		if (err)
			return err;
		addr = end < f->end ? end : f->end;
	}
	/* a linker's PLT stubs say nothing of how the code was built */
	if (nrows > 1 && !plt) {
		b->multi_row++;
		b->fp_switch += fp;
	}
	if (addr < f->end) {
		b->bad++;
		return emit_none(b, addr);
	}
	return 0;
}

/*
 * A gap [from, to) between FDEs: no rule, except from the file's entry
 * point on. The kernel or the dynamic loader jumps there with nothing
 * above it, so what it calls returns into the outermost frame (the
 * loader's _start and _dl_start_user have no FDE).
 */
static int emit_gap(struct cfi_builder *b, uint64_t from, uint64_t to)
{
	bool entry = b->entry >= from && b->entry < to;
	int err = 0;

	if (!entry || b->entry > from)
		err = emit_none(b, from);
	if (!err && entry)
		err = emit(b, (struct hs_cfi_row){ .pc = (uint32_t)b->entry,
						   .cfa_reg = HS_CFA_END });
	return err;
}

int cfi_build_rows(struct cfi_builder *b, struct hs_cfi_table *t)
{
	uint64_t cursor = 0;
	const struct cfi_fde *f;
	bool any = false;
	size_t i;
	int err;

	for (i = 0; i < b->nfdes; i++) {
		f = &b->fdes[i];
		if (f->end == f->start)
			continue; /* .debug_frame under .eh_frame */
		if (any && f->end <= cursor) {
			b->bad++; /* inside an FDE before it */
			continue;
		}
		if (!any) {
			t->lo = f->start;
		} else if (f->start > cursor) {
			err = emit_gap(b, cursor, f->start);
			if (err)
				return err;
		}
		err = fde_rows(b, f,
			       any && cursor > f->start ? cursor : f->start);
		if (err)
			return err;
		any = true;
		b->used++;
		cursor = f->end;
	}
	if (!any)
		return -ENOENT;
	t->hi = cursor;
	return emit_none(b, cursor);
}
