// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Address lookup in a module's DWARF: its CU (through .debug_aranges, or
 * the ranges of every CU), the function through an index of the CU made
 * once, then the scopes and the inlined calls that contain the address.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "sym_lookup.h"

/* Deeper DIE nesting is taken as malformed and cut there. */
#define MAX_SCOPES 128
#define MAX_DEPTH 256

/* The functions of a CU, built on its first lookup. */
struct sym_cu_index {
	const void *cu; /* the CU DIE's address in the mapped DWARF */
	struct sym_die_ranges funcs;
};

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(
			die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

static const char unasked;

static int cmp_addr(const void *a, const void *b)
{
	const Dwarf_Addr *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int add_bound(struct sym_index *x, size_t *cap, Dwarf_Addr a)
{
	if (hs_grow(&x->bounds, cap, x->nbounds + 1, sizeof(*x->bounds)))
		return -ENOMEM;
	x->bounds[x->nbounds++] = a;
	return 0;
}

/* The bounds of every symbol and section of mod, sorted, once. */
static int index_bounds(Dwfl_Module *mod, struct sym_index *x)
{
	int n = dwfl_module_getsymtab(mod), err = 0;
	Elf_Scn *scn = NULL;
	size_t cap = 0, k = 0;
	GElf_Addr bias, a;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf *elf;

	x->bounds_done = true;
	for (int i = 1; !err && i < n; i++) {
		if (!dwfl_module_getsym_info(mod, i, &sym, &a, NULL, NULL,
					     NULL))
			continue;
		err = add_bound(x, &cap, a);
		if (!err)
			err = add_bound(x, &cap, a + sym.st_size);
	}
	elf = dwfl_module_getelf(mod, &bias);
	while (!err && elf && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_addr) {
			err = add_bound(x, &cap, sh.sh_addr + bias);
			if (!err)
				err = add_bound(x, &cap,
						sh.sh_addr + sh.sh_size + bias);
		}
	if (!err && x->nbounds)
		x->names = malloc(x->nbounds * sizeof(*x->names));
	if (err || !x->names) {
		free(x->bounds);
		x->bounds = NULL;
		x->nbounds = 0;
		return -ENOMEM;
	}
	qsort(x->bounds, x->nbounds, sizeof(*x->bounds), cmp_addr);
	for (size_t i = 0; i < x->nbounds; i++)
		if (!k || x->bounds[i] != x->bounds[k - 1])
			x->bounds[k++] = x->bounds[i];
	x->nbounds = k;
	for (size_t i = 0; i < k; i++)
		x->names[i] = &unasked;
	return 0;
}

static const char *symtab_name(Dwfl_Module *mod, struct sym_index *x,
			       Dwarf_Addr addr)
{
	size_t lo = 0, hi, mid;
	GElf_Off off;
	GElf_Sym s;

	if (!x->bounds_done)
		index_bounds(mod, x);
	hi = x->nbounds;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x->bounds[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* interval lo - 1 is [bounds[lo - 1], bounds[lo]) */
	if (!lo || lo == x->nbounds)
		return dwfl_module_addrinfo(mod, addr, &off, &s, NULL, NULL,
					    NULL);
	if (x->names[lo - 1] == &unasked)
		x->names[lo - 1] = dwfl_module_addrinfo(mod, addr, &off, &s,
							NULL, NULL, NULL);
	return x->names[lo - 1];
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Adds the ranges of die, pointing to owner. */
static int add_ranges(struct sym_die_ranges *r, Dwarf_Die *die,
		      Dwarf_Die *owner)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (low >= high)
			continue;
		if (hs_grow(&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
			return -ENOMEM;
		r->v[r->n++] = (struct sym_die_range){ .low = low,
						       .high = high,
						       .die = *owner };
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct sym_die_range *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

static void sort_ranges(struct sym_die_ranges *r)
{
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_range);
}

static Dwarf_Die *find_range(struct sym_die_ranges *r, Dwarf_Addr pc)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->v[mid].low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pc < r->v[lo - 1].high ? &r->v[lo - 1].die : NULL;
}

/*
 * Collects every function with code under parent, however deep: the code of
 * a lambda or a local class may be described inside its enclosing function,
 * and inlined scopes are then searched from the function found.
 */
static int index_functions(Dwarf_Die *parent, struct sym_die_ranges *funcs,
			   int depth)
{
	Dwarf_Die child;
	int tag, err;

	if (depth >= MAX_DEPTH || dwarf_child(parent, &child))
		return 0;
	do {
		tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
			err = add_ranges(funcs, &child, &child);
			if (err)
				return err;
		}
		err = index_functions(&child, funcs, depth + 1);
		if (err)
			return err;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/*
 * Finds the function of a CU that contains pc through the CU's index, made
 * by one walk of the CU: a walk per lookup (as dwarf_getscopes() does) costs
 * about a millisecond in a large C++ CU.
 */
static int find_function(struct sym_index *x, Dwarf_Die *cudie, Dwarf_Addr pc,
			 Dwarf_Die *func)
{
	struct sym_cu_index idx = { .cu = cudie->addr };
	size_t lo = 0, hi = x->ncus, mid;
	Dwarf_Die *found;
	int err;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((uintptr_t)x->cus[mid].cu < (uintptr_t)idx.cu)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == x->ncus || x->cus[lo].cu != idx.cu) {
		err = index_functions(cudie, &idx.funcs, 0);
		if (!err)
			err = hs_grow(&x->cus, &x->cus_cap, x->ncus + 1,
				      sizeof(*x->cus));
		if (err) {
			free(idx.funcs.v);
			return err;
		}
		sort_ranges(&idx.funcs);
		memmove(&x->cus[lo + 1], &x->cus[lo],
			(x->ncus - lo) * sizeof(*x->cus));
		x->cus[lo] = idx;
		x->ncus++;
	}
	found = find_range(&x->cus[lo].funcs, pc);
	if (!found)
		return 0;
	*func = *found;
	return 1;
}

/*
 * libdw 0.188 maps an address to its CU with .debug_aranges only, which
 * clang and rustc do not emit by default: then the ranges of every CU are
 * read, once.
 */
static int index_cus(Dwfl_Module *mod, struct sym_index *x)
{
	struct sym_die_ranges *r = &x->cu_ranges;
	Dwarf_Die cudie, subdie;
	Dwarf_CU *cu = NULL;
	uint8_t type;
	Dwarf *dw;
	int err;

	dw = dwfl_module_getdwarf(mod, &x->dwbias);
	while (dw &&
	       !dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, &subdie)) {
		if (type != DW_UT_compile && type != DW_UT_skeleton)
			continue;
		err = add_ranges(r, &cudie,
				 type == DW_UT_skeleton && subdie.addr ?
					 &subdie :
					 &cudie);
		if (err) {
			free(r->v);
			*r = (struct sym_die_ranges){ 0 };
			return err;
		}
	}
	sort_ranges(r);
	x->cu_ranges_done = true;
	return 0;
}

/*
 * Appends to path[] the scopes under parent that contain pc, outermost
 * first. Not dwarf_getscopes(): above an inlined instance it goes on with
 * the scopes of the abstract definition, not with the callers.
 */
static void find_scopes(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *path,
			int *n)
{
	Dwarf_Die child;

	if (*n >= MAX_SCOPES || dwarf_child(parent, &child))
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_entry_point:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_with_stmt:
			if (dwarf_haspc(&child, pc) <= 0)
				break;
			path[(*n)++] = child;
			find_scopes(&child, pc, path, n);
			return;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void call_site(Dwarf_Die *inlined, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word val;
	Dwarf_Die cu;

	*file = NULL;
	*line = 0;
	if (!dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr),
			     &val) &&
	    dwarf_diecu(inlined, &cu, NULL, NULL) &&
	    !dwarf_getsrcfiles(&cu, &files, NULL))
		*file = dwarf_filesrc(files, val, NULL, NULL);
	if (!dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr),
			     &val) &&
	    val <= INT32_MAX)
		*line = val;
}

int sym_lookup(Dwfl_Module *mod, struct sym_index *x, Dwarf_Addr addr,
	       sym_frame_fn fn, void *ctx)
{
	Dwarf_Addr pc, dwbias;
	Dwarf_Die path[MAX_SCOPES], *cudie, *die;
	const char *file = NULL, *comp_dir = NULL, *name;
	Dwarf_Attribute attr;
	Dwarf_Line *line;
	int lineno = 0, n = 0, i, err;
	bool inlined;

	cudie = dwfl_module_addrdie(mod, addr, &dwbias);
	if (!cudie) {
		if (!x->cu_ranges_done) {
			err = index_cus(mod, x);
			if (err)
				return err;
		}
		dwbias = x->dwbias;
		cudie = find_range(&x->cu_ranges, addr - dwbias);
	}
	if (cudie) {
		pc = addr - dwbias;
		comp_dir = dwarf_formstring(
			dwarf_attr_integrate(cudie, DW_AT_comp_dir, &attr));
		line = dwarf_getsrc_die(cudie, pc);
		if (line && dwarf_lineno(line, &lineno) == 0)
			file = dwarf_linesrc(line, NULL, NULL);
		err = find_function(x, cudie, pc, &path[0]);
		if (err < 0)
			return err;
		n = err;
		if (n)
			find_scopes(&path[0], pc, path, &n);
	}

	for (i = n - 1; i >= 0 && !is_function(&path[i]); i--)
		;
	while (i >= 0) {
		die = &path[i];
		inlined = dwarf_tag(die) == DW_TAG_inlined_subroutine;
		name = die_name(die);
		if (!name && !inlined)
			name = symtab_name(mod, x, addr);
		err = fn(ctx, name, comp_dir, file, lineno, inlined);
		if (err || !inlined)
			return err;
		call_site(die, &file, &lineno);
		for (i--; i >= 0 && !is_function(&path[i]); i--)
			;
	}
	return fn(ctx, symtab_name(mod, x, addr), comp_dir, file, lineno,
		  false);
}

void sym_index_free(struct sym_index *x)
{
	for (size_t i = 0; i < x->ncus; i++)
		free(x->cus[i].funcs.v);
	free(x->cus);
	free(x->cu_ranges.v);
	free(x->bounds);
	free(x->names);
	*x = (struct sym_index){ 0 };
}
