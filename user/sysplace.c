// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The place just after a function's syscall instruction: a walk of every
 * path through the function's code, from its entry, that follows %rsp (as
 * an offset from the entry's), %eax (while it holds a constant) and whether
 * %rbp changed.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

#include "heapsnap.h"
#include "placement.h"
#include "sysplace.h"

#define MAX_INSNS 192
#define AFTER_MAX 8 /* instructions between the syscall and the probe */

/* Registers followed, besides the arguments of enum hs_sys_regs. */
enum {
	W_RAX = 1 << 8,
	W_RSP = 1 << 9,
	W_RBP = 1 << 10,
};

#define EAX_UNKNOWN (-1)
#define OFF_UNKNOWN INT32_MIN

struct insn {
	uint64_t addr;
	uint16_t size;
	uint8_t bytes[16];
	int64_t target; /* a direct branch's, or -1 */
	bool falls; /* may go on to the next instruction */
	bool indirect; /* an indirect jump: targets unknown */
	bool syscall;
	bool sp_known; /* sp_change is the whole effect on %rsp */
	int32_t sp_change; /* bytes pushed */
	int64_t eax; /* the constant it puts in %eax, or EAX_UNKNOWN */
	unsigned int writes; /* HS_SYS_* and W_* */
};

struct state {
	bool seen;
	int32_t off; /* bytes below the entry's %rsp, or OFF_UNKNOWN */
	int64_t eax;
	bool rbp_changed;
};

struct code {
	struct insn in[MAX_INSNS];
	struct state st[MAX_INSNS];
	size_t n;
};

static unsigned int reg_bit(x86_reg r)
{
	switch (r) {
	case X86_REG_RAX:
	case X86_REG_EAX:
	case X86_REG_AX:
	case X86_REG_AL:
	case X86_REG_AH:
		return W_RAX;
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
		return HS_SYS_RDI;
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
		return HS_SYS_RSI;
	case X86_REG_RDX:
	case X86_REG_EDX:
	case X86_REG_DX:
	case X86_REG_DL:
	case X86_REG_DH:
		return HS_SYS_RDX;
	case X86_REG_R10:
	case X86_REG_R10D:
	case X86_REG_R10W:
	case X86_REG_R10B:
		return HS_SYS_R10;
	case X86_REG_R8:
	case X86_REG_R8D:
	case X86_REG_R8W:
	case X86_REG_R8B:
		return HS_SYS_R8;
	case X86_REG_RSP:
	case X86_REG_ESP:
	case X86_REG_SP:
	case X86_REG_SPL:
		return W_RSP;
	case X86_REG_RBP:
	case X86_REG_EBP:
	case X86_REG_BP:
	case X86_REG_BPL:
		return W_RBP;
	default:
		return 0;
	}
}

/* push, pop, and add or sub of a constant to %rsp: what they push. */
static bool stack_effect(const cs_insn *ci, int32_t *change)
{
	const cs_x86 *x = &ci->detail->x86;

	switch (ci->id) {
	case X86_INS_PUSH:
		*change = 8;
		return true;
	case X86_INS_POP:
		*change = -8;
		return true;
	case X86_INS_SUB:
	case X86_INS_ADD:
		if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
		    x->operands[0].reg != X86_REG_RSP ||
		    x->operands[1].type != X86_OP_IMM ||
		    x->operands[1].imm < 0 || x->operands[1].imm > 1 << 20)
			return false;
		*change = (int32_t)x->operands[1].imm;
		if (ci->id == X86_INS_ADD)
			*change = -*change;
		return true;
	default:
		return false;
	}
}

/* The constant an instruction writing %eax leaves there. */
static int64_t eax_value(const cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    reg_bit(x->operands[0].reg) != W_RAX)
		return EAX_UNKNOWN;
	if (ci->id == X86_INS_MOV && x->operands[1].type == X86_OP_IMM &&
	    x->operands[1].imm >= 0 && x->operands[1].imm <= 0xffff)
		return x->operands[1].imm;
	if (ci->id == X86_INS_XOR && x->operands[1].type == X86_OP_REG &&
	    x->operands[1].reg == x->operands[0].reg)
		return 0;
	return EAX_UNKNOWN;
}

static void read_insn(csh cs, const cs_insn *ci, struct insn *in)
{
	const cs_x86 *x = &ci->detail->x86;
	bool jump = cs_insn_group(cs, ci, CS_GRP_JUMP);
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	memset(in, 0, sizeof(*in));
	in->addr = ci->address;
	in->size = ci->size;
	memcpy(in->bytes, ci->bytes, ci->size < 16 ? ci->size : 16);
	in->target = -1;
	in->falls = true;
	in->eax = EAX_UNKNOWN;
	if (!cs_regs_access(cs, ci, rd, &nrd, wr, &nwr))
		for (uint8_t i = 0; i < nwr; i++)
			in->writes |= reg_bit(wr[i]);
	if (jump || cs_insn_group(cs, ci, CS_GRP_CALL)) {
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			in->target = jump ? x->operands[0].imm : -1;
		else if (jump)
			in->indirect = true;
	}
	if (cs_insn_group(cs, ci, CS_GRP_CALL)) {
		/* what the callee may change; %rsp comes back */
		in->writes = W_RAX | HS_SYS_RDI | HS_SYS_RSI | HS_SYS_RDX |
			     HS_SYS_R10 | HS_SYS_R8;
		in->sp_known = true;
		return;
	}
	if ((jump && ci->id == X86_INS_JMP) ||
	    cs_insn_group(cs, ci, CS_GRP_RET) || ci->id == X86_INS_HLT ||
	    ci->id == X86_INS_UD2 || ci->id == X86_INS_INT3)
		in->falls = false;
	in->syscall = ci->id == X86_INS_SYSCALL;
	if (in->syscall)
		in->writes |= W_RAX;
	in->sp_known = stack_effect(ci, &in->sp_change) ||
		       !(in->writes & W_RSP) || !in->falls;
	if (ci->id == X86_INS_POP && x->operands[0].type == X86_OP_REG &&
	    reg_bit(x->operands[0].reg) == W_RBP)
		in->writes |= W_RBP;
	else if (ci->id == X86_INS_PUSH || ci->id == X86_INS_POP)
		in->writes &= ~W_RBP;
	if (in->writes & W_RAX)
		in->eax = in->syscall ? EAX_UNKNOWN : eax_value(ci);
}

static int decode(struct code *c, const uint8_t *code, size_t len)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = len;
	cs_insn *ci;
	csh cs;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs))
		return -1;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	ci = cs_malloc(cs);
	c->n = 0;
	while (ci && left && c->n < MAX_INSNS &&
	       cs_disasm_iter(cs, &p, &left, &addr, ci))
		read_insn(cs, ci, &c->in[c->n++]);
	if (ci)
		cs_free(ci, 1);
	cs_close(&cs);
	return left ? -1 : 0;
}

static int index_of(const struct code *c, uint64_t addr)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->in[i].addr == addr)
			return (int)i;
	return -1;
}

/* Merges s into instruction i's state; true when it changed. */
static bool merge(struct state *to, const struct state *s)
{
	struct state old = *to;

	if (!to->seen) {
		*to = *s;
		return true;
	}
	if (to->off != s->off)
		to->off = OFF_UNKNOWN;
	if (to->eax != s->eax)
		to->eax = EAX_UNKNOWN;
	to->rbp_changed |= s->rbp_changed;
	return memcmp(&old, to, sizeof(old)) != 0;
}

/* Every path from the entry; -1 when a branch leads where no code starts. */
static int walk(struct code *c)
{
	int work[MAX_INSNS * 4], nwork = 0, budget = MAX_INSNS * 64;
	struct state entry = { true, 0, EAX_UNKNOWN, false };

	memset(c->st, 0, sizeof(c->st));
	c->st[0] = entry;
	work[nwork++] = 0;
	while (nwork && budget--) {
		int i = work[--nwork], next[2], nn = 0;
		const struct insn *in = &c->in[i];
		struct state s = c->st[i];

		if (in->indirect)
			return -1;
		if (s.off != OFF_UNKNOWN)
			s.off = in->sp_known ? s.off + in->sp_change :
					       OFF_UNKNOWN;
		if (in->writes & W_RAX)
			s.eax = in->eax;
		s.rbp_changed |= (in->writes & W_RBP) != 0;
		if (in->falls && (size_t)i + 1 < c->n)
			next[nn++] = i + 1;
		if (in->target >= 0 &&
		    (uint64_t)in->target <
			    c->in[c->n - 1].addr + c->in[c->n - 1].size) {
			next[nn] = index_of(c, (uint64_t)in->target);
			if (next[nn++] < 0)
				return -1;
		}
		for (int k = 0; k < nn; k++)
			if (merge(&c->st[next[k]], &s) &&
			    nwork < (int)(sizeof(work) / sizeof(*work)))
				work[nwork++] = next[k];
	}
	return nwork ? -1 : 0;
}

static bool fail(struct hs_sys_place *out, const char *why)
{
	snprintf(out->why, sizeof(out->why), "%s", why);
	return false;
}

/* The one syscall instruction made with nr, or -1. */
static int the_syscall(const struct code *c, int nr, struct hs_sys_place *out)
{
	int found = -1;

	for (size_t i = 0; i < c->n; i++) {
		const struct state *s = &c->st[i];

		if (!c->in[i].syscall || !s->seen)
			continue;
		if (nr >= 0 && s->eax != nr && s->eax != EAX_UNKNOWN)
			continue;
		if (found >= 0 || (nr >= 0 && s->eax == EAX_UNKNOWN)) {
			fail(out, "more than one syscall it may make");
			return -1;
		}
		found = (int)i;
	}
	if (found < 0)
		fail(out, "no syscall instruction for this call");
	return found;
}

static bool branched_to(const struct code *c, uint64_t addr)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->in[i].target >= 0 && (uint64_t)c->in[i].target == addr)
			return true;
	return false;
}

bool hs_place_after_syscall(const uint8_t *code, size_t len, int nr,
			    unsigned int regs, struct hs_sys_place *out)
{
	struct code c;
	unsigned int keep = regs | W_RAX | W_RSP | W_RBP;
	const struct state *s;
	int sc;

	memset(out, 0, sizeof(*out));
	if (decode(&c, code, len) || !c.n)
		return fail(out, "undecodable code");
	if (walk(&c))
		return fail(out, "a branch that cannot be followed");
	sc = the_syscall(&c, nr, out);
	if (sc < 0)
		return false;
	s = &c.st[sc];
	if (s->off == OFF_UNKNOWN || s->off % 8 || s->off < 0 ||
	    s->off / 8 > HS_SYS_SP_MAX)
		return fail(out, "%rsp unknown at the syscall");
	if (s->rbp_changed)
		return fail(out, "%rbp changed before the syscall");
	for (size_t i = (size_t)sc + 1; i < c.n && i <= (size_t)sc + AFTER_MAX;
	     i++) {
		const struct insn *in = &c.in[i];

		if (branched_to(&c, in->addr))
			return fail(out, "a branch joins after the syscall");
		if (hs_insn_emulated(in->bytes, in->size)) {
			out->delta = in->addr;
			out->sp_words = (uint32_t)s->off / 8;
			snprintf(
				out->why, sizeof(out->why),
				"+%llu, after the syscall (emulated; return address at %%rsp+%u)",
				(unsigned long long)in->addr,
				(unsigned int)s->off);
			return true;
		}
		if (!in->falls || in->target >= 0 || (in->writes & keep))
			return fail(out,
				    "the syscall's registers change after it");
	}
	return fail(out, "no emulated instruction after the syscall");
}
