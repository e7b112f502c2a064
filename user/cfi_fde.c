// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The FDEs of a CFI section: listed with dwarf_next_cfi(), their address
 * ranges decoded here (libdw has no public call that gives them), with the
 * pointer encodings of .eh_frame's CIEs; then sorted, .eh_frame first.
 */
#include <dwarf.h>
#include <stdlib.h>

#include "cfi_builder.h"
#include "grow.h"

#define BAD_ENCODING (-1)

struct cfi_cie {
	uint64_t off;
	int enc; /* DW_EH_PE_* of the FDE addresses, or BAD_ENCODING */
};

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

static const struct cfi_cie *find_cie(const struct cfi_builder *b, uint64_t off)
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
static int add_fde(struct cfi_builder *b, int src, const Dwarf_FDE *f,
		   const Elf_Data *data, uint64_t sec_addr)
{
	const uint8_t *p = f->start;
	const struct cfi_cie *cie;
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
	b->fdes[b->nfdes] = (struct cfi_fde){
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
int cfi_list_fdes(struct cfi_builder *b, int src, Elf *elf,
		  const Elf_Data *data, uint64_t sec_addr)
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
			b->cies[b->ncies++] = (struct cfi_cie){
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

static int cmp_fde(const void *a, const void *b)
{
	const struct cfi_fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfi_sort_fdes(struct cfi_builder *b)
{
	uint64_t eh_end = 0, next_eh = UINT64_MAX;
	struct cfi_fde *f;
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
