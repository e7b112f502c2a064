// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Probe placement: the first emulated instruction of the straight-line prefix. */
#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "placement.h"

#define MAX_INSNS 16

enum cost {
	COST_OPTIMIZED, /* 5-byte nop: the kernel jumps to it, no trap */
	COST_EMULATED, /* one trap */
	COST_STEPPED, /* a trap, then a single step out of line */
};

static const char *const cost_names[] = { "optimized", "emulated",
					  "single-stepped" };

/* As the x86 uprobe code decides it, by opcode. */
static enum cost insn_cost(const uint8_t *b, size_t n)
{
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

	if (n == 5 && !memcmp(b, nop5, 5))
		return COST_OPTIMIZED;
	if (n == 1 && (b[0] == 0x90 || (b[0] >= 0x50 && b[0] <= 0x57)))
		return COST_EMULATED; /* nop, push %reg */
	if (n == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return COST_EMULATED; /* push %r8..%r15 */
	if (n == 2 && b[0] == 0x66 && b[1] == 0x90)
		return COST_EMULATED;
	if (b[0] == 0xeb || b[0] == 0xe9 || b[0] == 0xe8 ||
	    (b[0] >= 0x70 && b[0] <= 0x7f))
		return COST_EMULATED; /* jmp, call, jcc */
	if (n == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f)
		return COST_EMULATED; /* jcc rel32 */
	return COST_STEPPED;
}

struct reg_family {
	unsigned int need;
	const char *names[6]; /* NULL-terminated */
};

static const struct reg_family families[] = {
	{ HS_NEED_ARG0, { "rdi", "edi", "di", "dil" } },
	{ HS_NEED_ARG1, { "rsi", "esi", "si", "sil" } },
	{ HS_NEED_ARG2, { "rdx", "edx", "dx", "dl", "dh" } },
	{ HS_NEED_ARG3, { "rcx", "ecx", "cx", "cl", "ch" } },
	{ HS_NEED_ARG4, { "r8", "r8d", "r8w", "r8b" } },
	{ HS_NEED_ARG5, { "r9", "r9d", "r9w", "r9b" } },
	{ HS_NEED_STACK, { "rsp", "esp", "sp", "spl" } },
	{ HS_NEED_STACK, { "rbp", "ebp", "bp", "bpl" } },
};

/* The needed register an instruction writes, or NULL. */
static const char *clobbered(csh cs, const cs_insn *insn, unsigned int needs)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	if (cs_regs_access(cs, insn, rd, &nrd, wr, &nwr))
		return "registers";
	for (uint8_t i = 0; i < nwr; i++) {
		const char *name = cs_reg_name(cs, wr[i]);

		for (size_t f = 0; name && f < sizeof(families) / sizeof(*families);
		     f++) {
			if (!(families[f].need & needs))
				continue;
			for (size_t k = 0; families[f].names[k]; k++)
				if (!strcmp(name, families[f].names[k]))
					return name;
		}
	}
	return NULL;
}

bool hs_insn_emulated(const uint8_t *code, size_t len)
{
	return insn_cost(code, len) != COST_STEPPED;
}

static bool is_control_flow(csh cs, const cs_insn *insn)
{
	/* a probe past a syscall would see its result, not its arguments */
	return insn->id == X86_INS_SYSCALL ||
	       cs_insn_group(cs, insn, CS_GRP_JUMP) ||
	       cs_insn_group(cs, insn, CS_GRP_CALL) ||
	       cs_insn_group(cs, insn, CS_GRP_RET) ||
	       cs_insn_group(cs, insn, CS_GRP_INT) ||
	       cs_insn_group(cs, insn, CS_GRP_IRET);
}

static void fallback(struct hs_placement *out, const cs_insn *insn,
		     const char *reason)
{
	out->delta = 0;
	if (insn)
		snprintf(out->why, sizeof(out->why), "+0: %.31s %.63s %.60s",
			 insn->mnemonic, insn->op_str, reason);
	else
		snprintf(out->why, sizeof(out->why), "+0: %.60s", reason);
}

void hs_place_probe(const uint8_t *code, size_t len, unsigned int needs,
		    struct hs_placement *out)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = len;
	cs_insn *insn;
	csh cs;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs)) {
		fallback(out, NULL, "no disassembler");
		return;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	for (int i = 0; insn && i < MAX_INSNS; i++) {
		uint64_t at = addr;
		enum cost c;
		const char *reg;

		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			fallback(out, NULL, "undecodable code");
			goto done;
		}
		c = insn_cost(insn->bytes, insn->size);
		if (c != COST_STEPPED) {
			out->delta = at;
			snprintf(out->why, sizeof(out->why),
				 "+%llu: %.31s %.63s (%s)",
				 (unsigned long long)at, insn->mnemonic,
				 insn->op_str, cost_names[c]);
			goto done;
		}
		if (is_control_flow(cs, insn)) {
			fallback(out, insn, "is a branch that is single-stepped");
			goto done;
		}
		reg = clobbered(cs, insn, needs);
		if (reg) {
			char why[96];

			snprintf(why, sizeof(why),
				 "changes %%%.8s before any emulated instruction",
				 reg);
			fallback(out, insn, why);
			goto done;
		}
	}
	fallback(out, NULL, "no emulated instruction near the start");
done:
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
}
