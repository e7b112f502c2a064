// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The call-frame rows of a module, for the BPF unwinder to walk the stacks
 * of code built without frame pointers.
 *
 * The FDEs of .eh_frame and .debug_frame are listed with dwarf_next_cfi()
 * and their address ranges decoded here: libdw has no public call that
 * gives them. Each row of each FDE is then evaluated by libdw
 * (dwarf_cfi_addrframe() at the row's first address, whose
 * dwarf_frame_info() range says where the next row starts) and reduced to
 * the rules the BPF side knows: the CFA as rsp or rbp plus an offset, or
 * ld's PLT expression; rbp untouched or saved at a multiple of 8 from the
 * CFA; the return address at CFA - 8. Anything else is HS_CFA_NONE, where
 * the unwinding stops.
 *
 * .eh_frame is what the program's own unwinder uses, so it wins: an FDE of
 * .debug_frame (the file's, or that of its separate debug file under
 * /usr/lib/debug/.build-id) is used only where no .eh_frame FDE overlaps it.
 *
 * libdw runs an FDE's instructions from its start for every row, so a
 * table costs the sum over FDEs of rows x instruction bytes. Real FDEs are
 * small, but a crafted one is not: the work is bounded in proportion to the
 * size of the sections, and what is left when it runs out is HS_CFA_NONE.
 *
 * No state outside the call.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfi.h"
#include "grow.h"

#define DEBUG_BUILD_ID_DIR "/usr/lib/debug/.build-id"
#define ADDR_LIMIT (1ULL << 32)

/* x86-64 DWARF register numbers. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/*
 * The work allowed, in FDE instruction bytes that libdw runs (about 2 ns
 * each): a base, and so much per byte of the CFI sections. Each row also
 * costs ROW_COST for its lookup and allocation. libc, python3 and libLLVM
 * need 12 to 17 per byte, Rust's librsvg 37.
 */
#define WORK_BASE (1ULL << 26)
#define WORK_PER_BYTE 128
#define ROW_COST 32

/* A compressed debug section may claim at most this ratio (zlib: ~1000). */
#define MAX_INFLATE 1100
#define MAX_INFLATE_SLACK (1ULL << 20)

#define BAD_ENCODING (-1)

enum { SRC_EH, SRC_DEBUG, NSRC };

struct cie {
	uint64_t off;
	int enc; /* DW_EH_PE_* of the FDE addresses, or BAD_ENCODING */
};

struct fde {
	uint64_t start, end;
	uint64_t cost; /* instruction bytes: libdw runs them for each row */
	uint32_t src, seq;
};

struct source {
	int fd; /* a separate debug file's, or -1 */
	Elf *elf; /* owned when fd >= 0 */
	Dwarf *dw;
	Dwarf_CFI *cfi;
	bool cfi_owned; /* from dwarf_getcfi_elf() */
	size_t bytes;
};

struct builder {
	struct source src[NSRC];
	struct cie *cies;
	size_t ncies, cies_cap;
	struct fde *fdes;
	size_t nfdes, fdes_cap;
	struct hs_cfi_row *rows;
	size_t nrows, rows_cap;
	uint64_t work;
	size_t used, bad, multi_row, fp_switch;
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static bool read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	unsigned int shift = 0;
	uint64_t x = 0;

	while (q < end) {
		if (shift < 64)
			x |= (uint64_t)(*q & 0x7f) << shift;
		shift += 7;
		if (!(*q++ & 0x80)) {
			*p = q;
			*v = x;
			return true;
		}
	}
	return false;
}

static bool read_sleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	unsigned int shift = 0;
	uint64_t x = 0;
	uint8_t byte;

	while (q < end) {
		byte = *q++;
		if (shift < 64)
			x |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
		if (!(byte & 0x80)) {
			if (shift < 64 && (byte & 0x40))
				x |= ~0ULL << shift;
			*p = q;
			*v = x;
			return true;
		}
	}
	return false;
}

/*
 * Reads a DW_EH_PE_* encoded value (little-endian) at *p, which is at
 * address addr. Only what x86-64 FDEs use: absolute and pc-relative.
 */
static bool read_encoded(const uint8_t **p, const uint8_t *end, int enc,
			 uint64_t addr, uint64_t *v)
{
	const uint8_t *q = *p;
	size_t size, i;
	uint64_t x = 0;

	switch (enc & 0x0f) {
	case DW_EH_PE_uleb128:
		if (!read_uleb(&q, end, &x))
			return false;
		size = 0;
		break;
	case DW_EH_PE_sleb128:
		if (!read_sleb(&q, end, &x))
			return false;
		size = 0;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		size = 2;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		size = 4;
		break;
	case DW_EH_PE_absptr:
	case DW_EH_PE_signed:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		size = 8;
		break;
	default:
		return false;
	}
	if (size) {
		if ((size_t)(end - q) < size)
			return false;
		for (i = 0; i < size; i++)
			x |= (uint64_t)q[i] << (8 * i);
		if ((enc & DW_EH_PE_signed) && size < 8 &&
		    (x >> (8 * size - 1)) & 1)
			x |= ~0ULL << (8 * size);
		q += size;
	}
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		x += addr;
		break;
	default:
		return false;
	}
	if (enc & DW_EH_PE_indirect)
		return false;
	*p = q;
	*v = x;
	return true;
}

/* The encoding of the addresses in the FDEs of an .eh_frame CIE. */
static int fde_encoding(const Dwarf_CIE *cie)
{
	const uint8_t *d = cie->augmentation_data;
	const uint8_t *end = d + cie->augmentation_data_size;
	const char *a = cie->augmentation;
	uint64_t ignored;
	int enc;

	if (!a[0])
		return DW_EH_PE_absptr;
	if (a[0] != 'z' || !d)
		return BAD_ENCODING;
	for (a++; *a; a++) {
		switch (*a) {
		case 'R':
			return d < end ? *d : BAD_ENCODING;
		case 'L':
			if (d++ >= end)
				return BAD_ENCODING;
			break;
		case 'P':
			if (d >= end)
				return BAD_ENCODING;
			enc = *d++;
			/* only its size matters */
			if ((enc & 0x70) == DW_EH_PE_aligned ||
			    !read_encoded(&d, end, enc & 0x0f, 0, &ignored))
				return BAD_ENCODING;
			break;
		case 'S':
		case 'B':
		case 'G':
			break;
		default:
			return BAD_ENCODING;
		}
	}
	return DW_EH_PE_absptr;
}

static const struct cie *find_cie(const struct builder *b, uint64_t off)
{
	size_t lo = 0, hi = b->ncies, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->cies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->ncies && b->cies[lo].off == off ? &b->cies[lo] : NULL;
}

/* Decodes an FDE's range and appends it: 0, 1 when unusable, or -errno. */
static int add_fde(struct builder *b, int src, const Dwarf_FDE *f,
		   const Elf_Data *data, uint64_t sec_addr)
{
	const uint8_t *p = f->start;
	const struct cie *cie;
	uint64_t start, len;
	int enc = DW_EH_PE_absptr, err;

	if (src == SRC_EH) {
		cie = find_cie(b, f->CIE_pointer);
		if (!cie || cie->enc == BAD_ENCODING)
			return 1;
		enc = cie->enc;
	}
	if (!read_encoded(&p, f->end, enc,
			  sec_addr + (p - (const uint8_t *)data->d_buf),
			  &start) ||
	    !read_encoded(&p, f->end, enc & 0x0f, 0, &len))
		return 1;
	if (!len)
		return 0; /* an FDE of discarded code */
	/* the end, too, needs a row's 32-bit pc */
	if (start >= ADDR_LIMIT || len >= ADDR_LIMIT - start)
		return 1;
	err = hs_grow(&b->fdes, &b->fdes_cap, b->nfdes + 1, sizeof(*b->fdes));
	if (err)
		return err;
	b->fdes[b->nfdes] = (struct fde){
		.start = start,
		.end = start + len,
		.cost = (uint64_t)(f->end - p) + ROW_COST,
		.src = src,
		.seq = (uint32_t)b->nfdes,
	};
	b->nfdes++;
	return 0;
}

/* Lists the FDEs of one CFI section. */
static int list_fdes(struct builder *b, int src, Elf *elf, const Elf_Data *data,
		     uint64_t sec_addr)
{
	const unsigned char *ident =
		(const unsigned char *)elf_getident(elf, NULL);
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int r, err;

	b->ncies = 0;
	while (ident && off < data->d_size) {
		next = (Dwarf_Off)-1;
		r = dwarf_next_cfi(ident, (Elf_Data *)data, src == SRC_EH, off,
				   &next, &e);
		if (r > 0)
			break;
		if (r < 0) {
			b->bad++;
			if (next == (Dwarf_Off)-1 || next <= off)
				break;
			off = next;
			continue;
		}
		if (dwarf_cfi_cie_p(&e)) {
			/* CIEs come in offset order: find_cie() can bisect */
			err = hs_grow(&b->cies, &b->cies_cap, b->ncies + 1,
				      sizeof(*b->cies));
			if (err)
				return err;
			b->cies[b->ncies++] = (struct cie){
				.off = off,
				.enc = src == SRC_EH ? fde_encoding(&e.cie) :
						       DW_EH_PE_absptr,
			};
		} else {
			err = add_fde(b, src, &e.fde, data, sec_addr);
			if (err < 0)
				return err;
			b->bad += err;
		}
		if (next <= off)
			break;
		off = next;
	}
	return 0;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	const char *s;
	size_t strndx;

	if (elf_getshdrstrndx(elf, &strndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, shdr) || shdr->sh_type == SHT_NOBITS)
			continue;
		s = elf_strptr(elf, strndx, shdr->sh_name);
		if (s && !strcmp(s, name))
			return scn;
	}
	return NULL;
}

/*
 * Whether the compressed debug sections (which dwarf_begin_elf() may
 * inflate) claim sizes that their compressed bytes can hold.
 */
static bool inflate_bounded(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	GElf_Chdr chdr;
	Elf_Data *raw;
	const uint8_t *z;
	uint64_t size;
	size_t strndx;
	const char *s;
	int i;

	if (elf_getshdrstrndx(elf, &strndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		if (shdr.sh_flags & SHF_COMPRESSED) {
			if (!gelf_getchdr(scn, &chdr))
				return false;
			size = chdr.ch_size;
		} else {
			s = elf_strptr(elf, strndx, shdr.sh_name);
			if (!s || strncmp(s, ".zdebug", 7))
				continue;
			/* "ZLIB" and the size, big-endian */
			raw = elf_rawdata(scn, NULL);
			if (!raw || raw->d_size < 12)
				return false;
			z = raw->d_buf;
			for (size = 0, i = 4; i < 12; i++)
				size = size << 8 | z[i];
		}
		if (size > MAX_INFLATE_SLACK &&
		    (size - MAX_INFLATE_SLACK) / MAX_INFLATE > shdr.sh_size)
			return false;
	}
	return true;
}

/* The .debug_frame of elf, through libdw, as source src. */
static int open_debug_frame(struct builder *b, Elf *elf, int *listed)
{
	struct source *s = &b->src[SRC_DEBUG];
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;

	*listed = 0;
	scn = find_section(elf, ".debug_frame", &shdr);
	if (!scn || !inflate_bounded(elf))
		return 0;
	if ((shdr.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return 0;
	s->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	s->cfi = s->dw ? dwarf_getcfi(s->dw) : NULL;
	if (!s->cfi)
		return 0;
	s->bytes = data->d_size;
	*listed = 1;
	return list_fdes(b, SRC_DEBUG, elf, data, 0);
}

static bool same_build_id(Elf *a, Elf *b)
{
	const void *ida, *idb;
	ssize_t la = dwelf_elf_gnu_build_id(a, &ida);
	ssize_t lb = dwelf_elf_gnu_build_id(b, &idb);

	return la > 0 && la == lb && !memcmp(ida, idb, la);
}

/* The separate debug file found by the build-id of elf, if any. */
static int open_debug_file(struct builder *b, Elf *elf)
{
	struct source *s = &b->src[SRC_DEBUG];
	char path[sizeof(DEBUG_BUILD_ID_DIR) + 2 * 64 + 16];
	const uint8_t *id;
	ssize_t len, i;
	size_t n;
	GElf_Ehdr ehdr;
	int listed;

	len = dwelf_elf_gnu_build_id(elf, (const void **)&id);
	if (len < 2 || len > 64)
		return 0;
	n = (size_t)snprintf(path, sizeof(path), "%s/%02x/", DEBUG_BUILD_ID_DIR,
			     id[0]);
	for (i = 1; i < len; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%02x",
				      id[i]);
	snprintf(path + n, sizeof(path) - n, ".debug");
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return 0;
	s->elf = elf_begin(s->fd, ELF_C_READ_MMAP, NULL);
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF ||
	    !gelf_getehdr(s->elf, &ehdr) || ehdr.e_machine != EM_X86_64 ||
	    gelf_getclass(s->elf) != ELFCLASS64 || !same_build_id(elf, s->elf))
		return 0;
	return open_debug_frame(b, s->elf, &listed);
}

static int open_sources(struct builder *b, Elf *elf)
{
	struct source *s = &b->src[SRC_EH];
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;
	int err, listed;

	scn = find_section(elf, ".eh_frame", &shdr);
	data = scn ? elf_getdata(scn, NULL) : NULL;
	if (data && data->d_buf && data->d_size) {
		s->cfi = dwarf_getcfi_elf(elf);
		s->cfi_owned = true;
	}
	if (s->cfi) {
		s->bytes = data->d_size;
		err = list_fdes(b, SRC_EH, elf, data, shdr.sh_addr);
		if (err)
			return err;
	}
	err = open_debug_frame(b, elf, &listed);
	if (err || listed)
		return err;
	return open_debug_file(b, elf);
}

static void close_sources(struct builder *b)
{
	struct source *s;
	int i;

	for (i = 0; i < NSRC; i++) {
		s = &b->src[i];
		if (s->cfi_owned)
			dwarf_cfi_end(s->cfi);
		dwarf_end(s->dw);
		if (s->fd >= 0) {
			elf_end(s->elf);
			close(s->fd);
		}
	}
}

static int cmp_fde(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Sorts the FDEs and empties (end = start) those of .debug_frame that
 * overlap one of .eh_frame.
 */
static void sort_fdes(struct builder *b)
{
	uint64_t eh_end = 0, next_eh = UINT64_MAX;
	struct fde *f;
	size_t i;

	if (b->nfdes)
		qsort(b->fdes, b->nfdes, sizeof(*b->fdes), cmp_fde);
	for (i = b->nfdes; i-- > 0;) {
		f = &b->fdes[i];
		if (f->src == SRC_EH)
			next_eh = f->start;
		else if (next_eh < f->end)
			f->end = f->start;
	}
	for (i = 0; i < b->nfdes; i++) {
		f = &b->fdes[i];
		if (f->src == SRC_EH && f->end > eh_end)
			eh_end = f->end;
		else if (f->src != SRC_EH && eh_end > f->start)
			f->end = f->start;
	}
}

static bool same_rules(const struct hs_cfi_row *a, const struct hs_cfi_row *b)
{
	return a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->rbp_off == b->rbp_off;
}

/* Appends a row: a later row at the same pc replaces the earlier. */
static int emit(struct builder *b, struct hs_cfi_row row)
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

static int emit_none(struct builder *b, uint64_t pc)
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
static bool plt_rule(const Dwarf_Op *ops, size_t nops, int16_t *threshold)
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
		if ((reg != REG_RSP && reg != REG_RBP) || off < INT16_MIN ||
		    off > INT16_MAX)
			return none;
		row.cfa_reg = reg == REG_RSP ? HS_CFA_RSP : HS_CFA_RBP;
		row.cfa_off = (int16_t)off;
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
static int fde_rows(struct builder *b, const struct fde *f, uint64_t addr)
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

static int build_rows(struct builder *b, struct hs_cfi_table *t)
{
	uint64_t cursor = 0;
	const struct fde *f;
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
			err = emit_none(b, cursor);
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

int hs_cfi_build(int fd, struct hs_cfi_table *t, char *err, size_t errlen)
{
	struct builder b = { .src = { { .fd = -1 }, { .fd = -1 } } };
	GElf_Ehdr ehdr;
	GElf_Phdr phdr;
	struct stat st;
	Elf *elf = NULL;
	size_t i, n;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!t)
		return fail(err, errlen, -EINVAL, "no table");
	*t = (struct hs_cfi_table){ 0 };
	if (fd < 0)
		return fail(err, errlen, -EINVAL, "bad file descriptor");
	if (fstat(fd, &st))
		return fail(err, errlen, -errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, -ENOEXEC, "not a regular file");

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
		ret = fail(err, errlen, -ENOEXEC, "not an ELF file");
		goto out;
	}
	if (gelf_getclass(elf) != ELFCLASS64 ||
	    ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
	    ehdr.e_machine != EM_X86_64 ||
	    (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)) {
		ret = fail(err, errlen, -ENOEXEC,
			   "not an x86-64 executable or shared object");
		goto out;
	}
	if (elf_getphdrnum(elf, &n)) {
		ret = fail(err, errlen, -ENOEXEC, "no program headers: %s",
			   elf_errmsg(-1));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		if (phdr.p_vaddr >= ADDR_LIMIT ||
		    phdr.p_memsz > ADDR_LIMIT - phdr.p_vaddr) {
			ret = fail(err, errlen, -E2BIG,
				   "a segment ends above 4 GiB (%#llx)",
				   (unsigned long long)phdr.p_vaddr);
			goto out;
		}
	}

	ret = open_sources(&b, elf);
	if (ret) {
		ret = fail(err, errlen, ret, "out of memory");
		goto out;
	}
	b.work = WORK_BASE + WORK_PER_BYTE * (uint64_t)(b.src[SRC_EH].bytes +
							b.src[SRC_DEBUG].bytes);
	sort_fdes(&b);
	ret = build_rows(&b, t);
	if (ret == -ENOENT) {
		ret = fail(
			err, errlen, ret,
			b.bad ? "no readable FDE in .eh_frame or .debug_frame" :
				"no FDE in .eh_frame or .debug_frame");
		goto out;
	}
	if (ret) {
		ret = fail(err, errlen, ret, "out of memory");
		goto out;
	}
	t->rows = b.rows;
	t->n = b.nrows;
	t->nfdes = b.used;
	t->nbad = b.bad;
	t->frame_pointers =
		b.multi_row && b.fp_switch * 5 >= (uint64_t)b.multi_row * 4;
	b.rows = NULL;
out:
	if (ret)
		*t = (struct hs_cfi_table){ 0 };
	close_sources(&b);
	elf_end(elf);
	free(b.cies);
	free(b.fdes);
	free(b.rows);
	return ret;
}

void hs_cfi_free(struct hs_cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	*t = (struct hs_cfi_table){ 0 };
}
