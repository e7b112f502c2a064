// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The unwind tables of hs_cfi_build() against binutils' reading of the same
 * call-frame information (readelf --debug-dump=frames-interp, and =frames
 * for the expressions), address by address: for the fixtures the Makefile
 * builds into $(BUILD)/tests/fixtures from fixtures/cfi_fix.c, and for this
 * system's libc and python3. Damaged files must fail or give a well-formed
 * table, never crash.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <gnu/libc-version.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfi.h"
#include "cfi_pack.h"
#include "test.h"

#define MAX_TOKENS 64

static char fixdir[PATH_MAX];
static char tmpdir[PATH_MAX];

static const char *fixture(const char *name)
{
	return path_in(fixdir, name);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int build(const char *path, struct hs_cfi_table *t, char *err,
		 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		*t = (struct hs_cfi_table){ 0 };
		snprintf(err, errlen, "open: %s", strerror(errno));
		return -errno;
	}
	ret = hs_cfi_build(fd, t, err, errlen);
	close(fd);
	return ret;
}

/* ---- readelf's answer ---- */

enum { GT_RSP, GT_RBP, GT_EXP, GT_OTHER };

struct gt_rule {
	int cfa; /* GT_* */
	long long cfa_off;
	int rbp; /* HS_RBP_SAME, saved at CFA + 8 * rbp, or HS_RBP_UNDEF */
	bool ra; /* the return address at CFA - 8 */
	bool ra_undefined; /* no return address: the outermost frame */
};

struct gt_row {
	uint64_t loc;
	struct gt_rule r;
};

struct gt_cie {
	int section;
	uint64_t off;
	struct gt_rule r; /* after its initial instructions */
	bool signal; /* "S" in its augmentation */
};

struct gt_fde {
	uint64_t start, end;
	int section; /* 0 .eh_frame, 1 .debug_frame */
	uint64_t off, cie;
	size_t first, n; /* its rows */
	int plt; /* the threshold of ld's PLT expression, or -1 */
	bool dropped; /* .debug_frame under .eh_frame */
};

struct gt {
	uint64_t entry; /* the file's entry point */
	struct gt_fde *fdes;
	size_t nfdes;
	struct gt_row *rows;
	size_t nrows;
	struct gt_cie *cies;
	size_t ncies;
};

static void gt_free(struct gt *g)
{
	free(g->fdes);
	free(g->rows);
	free(g->cies);
	*g = (struct gt){ 0 };
}

/* Appends a zeroed element; the capacity doubles at each power of two. */
static void *push(void *arr, size_t *n, size_t elem)
{
	char *p = arr;

	if (*n == 0 || (*n >= 16 && !(*n & (*n - 1)))) {
		p = realloc(arr, (*n ? 2 * *n : 16) * elem);
		if (!p)
			abort();
	}
	memset(p + *n * elem, 0, elem);
	(*n)++;
	return p;
}

/* Splits a line into words; "r9 (r9)" is one column, "r9". */
static int split(char *line, char **tok)
{
	char *open, *close;
	int n = 0;

	while ((open = strstr(line, " (")) && (close = strchr(open, ')')))
		memmove(open, close + 1, strlen(close + 1) + 1);
	for (char *s = strtok(line, " \t\n"); s && n < MAX_TOKENS;
	     s = strtok(NULL, " \t\n"))
		tok[n++] = s;
	return n;
}

static FILE *readelf(const char *dump, const char *path)
{
	char cmd[PATH_MAX + 80];

	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=%s '%s' 2>/dev/null",
		 dump, path);
	return popen(cmd, "r");
}

static int section_of(const char *line, int section)
{
	if (strstr(line, "Contents of the .eh_frame section"))
		return 0;
	if (strstr(line, "Contents of the .debug_frame section"))
		return 1;
	if (strstr(line, "Contents of the "))
		return -1;
	return section;
}

static struct gt_rule parse_rule(char **tok, int ntok, int rbp_col, int ra_col)
{
	struct gt_rule r = { .cfa = GT_OTHER, .rbp = HS_RBP_SAME };
	const char *rbp, *ra;
	char reg[16];
	long long off;

	if (!strcmp(tok[1], "exp"))
		r.cfa = GT_EXP;
	else if (sscanf(tok[1], "%15[a-z0-9]%lld", reg, &off) == 2)
		r.cfa = !strcmp(reg, "rsp") ? GT_RSP :
			!strcmp(reg, "rbp") ? GT_RBP :
					      GT_OTHER;
	r.cfa_off = off;
	rbp = rbp_col >= 0 && rbp_col + 2 < ntok ? tok[rbp_col + 2] : "u";
	ra = ra_col >= 0 && ra_col + 2 < ntok ? tok[ra_col + 2] : "u";
	/* "u" is also what readelf shows of a register no rule mentions */
	if (!strcmp(rbp, "u") || !strcmp(rbp, "s"))
		r.rbp = HS_RBP_SAME;
	else if (sscanf(rbp, "c%lld", &off) == 1 && off && !(off % 8) &&
		 off / 8 > -128 && off / 8 < 128)
		r.rbp = (int)(off / 8);
	else
		r.rbp = HS_RBP_UNDEF;
	r.ra = !strcmp(ra, "c-8");
	r.ra_undefined = !strcmp(ra, "u");
	return r;
}

static struct gt_fde *find_fde(struct gt *g, int section, uint64_t off)
{
	for (size_t i = 0; i < g->nfdes; i++)
		if (g->fdes[i].section == section && g->fdes[i].off == off)
			return &g->fdes[i];
	return NULL;
}

/* The rows of frames-interp, then the PLT expressions of frames. */
/* The ELF entry point of the file at path; 0 when it has none. */
static uint64_t entry_point(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t entry = 0;
	GElf_Ehdr eh;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && gelf_getehdr(elf, &eh))
		entry = eh.e_entry;
	elf_end(elf);
	close(fd);
	return entry;
}

static int gt_read(const char *path, struct gt *g)
{
	int section = -1, state = 0, ntok, ncols = 0, rbp_col = -1, ra_col = -1;
	unsigned long long off, len, id, cie, start, end;
	char line[1024], copy[1024], *tok[MAX_TOKENS];
	struct gt_fde *f = NULL;
	struct gt_cie *c = NULL;
	int n, i;
	FILE *p;

	*g = (struct gt){ .entry = entry_point(path) };
	p = readelf("frames-interp", path);
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		section = section_of(line, section);
		strcpy(copy, line);
		ntok = split(copy, tok);
		if (!ntok || section < 0)
			continue;
		if (ntok >= 6 && !strcmp(tok[3], "FDE") &&
		    sscanf(line, "%llx %llx %llx FDE cie=%llx pc=%llx..%llx",
			   &off, &len, &id, &cie, &start, &end) == 6) {
			g->fdes = push(g->fdes, &g->nfdes, sizeof(*g->fdes));
			f = &g->fdes[g->nfdes - 1];
			*f = (struct gt_fde){ .start = start,
					      .end = end,
					      .section = section,
					      .off = off,
					      .cie = cie,
					      .first = g->nrows,
					      .plt = -1 };
			state = 2;
			ncols = 0;
		} else if (ntok >= 4 && !strcmp(tok[3], "CIE") &&
			   sscanf(tok[0], "%llx", &off) == 1) {
			g->cies = push(g->cies, &g->ncies, sizeof(*g->cies));
			c = &g->cies[g->ncies - 1];
			c->section = section;
			c->off = off;
			c->signal = ntok > 4 && tok[4][0] == '"' &&
				    strchr(tok[4], 'S');
			state = 1;
			ncols = 0;
		} else if (!strcmp(tok[0], "LOC") && ntok >= 2) {
			rbp_col = ra_col = -1;
			for (i = 2; i < ntok; i++) {
				if (!strcmp(tok[i], "rbp"))
					rbp_col = i - 2;
				if (!strcmp(tok[i], "ra"))
					ra_col = i - 2;
			}
			ncols = ntok;
		} else if (state && ncols && ntok == ncols &&
			   strlen(tok[0]) == 16 && isxdigit(tok[0][0]) &&
			   sscanf(tok[0], "%llx", &off) == 1) {
			struct gt_rule r =
				parse_rule(tok, ntok, rbp_col, ra_col);

			if (state == 1) {
				c->r = r;
				continue;
			}
			g->rows = push(g->rows, &g->nrows, sizeof(*g->rows));
			g->rows[g->nrows - 1] =
				(struct gt_row){ .loc = off, .r = r };
			f->n++;
		} else if (ntok >= 2 && !strcmp(tok[1], "ZERO")) {
			state = 0;
		}
	}
	/* it fails after the dump when a debuglink names a file without it */
	pclose(p);
	if (!g->nfdes)
		return -1;

	p = readelf("frames", path);
	if (!p)
		return -1;
	section = -1;
	f = NULL;
	while (fgets(line, sizeof(line), p)) {
		static const char plt[] =
			"DW_CFA_def_cfa_expression (DW_OP_breg7 (rsp): 8; "
			"DW_OP_breg16 (rip): 0; DW_OP_lit15; DW_OP_and; "
			"DW_OP_lit";
		const char *s;

		section = section_of(line, section);
		if (sscanf(line, "%llx %llx %llx FDE", &off, &len, &id) == 3 &&
		    strstr(line, " FDE "))
			f = find_fde(g, section, off);
		s = strstr(line, plt);
		if (f && s && sscanf(s + strlen(plt), "%d", &n) == 1 &&
		    strstr(s, "; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus)"))
			f->plt = n;
	}
	pclose(p);

	/* .eh_frame wins where both describe an address */
	for (size_t a = 0; a < g->nfdes; a++) {
		if (g->fdes[a].section != 1)
			continue;
		for (size_t b = 0; b < g->nfdes; b++)
			if (!g->fdes[b].section &&
			    g->fdes[b].start < g->fdes[a].end &&
			    g->fdes[a].start < g->fdes[b].end)
				g->fdes[a].dropped = true;
	}
	return 0;
}

static const struct gt_cie *gt_cie(const struct gt *g, const struct gt_fde *f)
{
	for (size_t i = 0; i < g->ncies; i++)
		if (g->cies[i].section == f->section &&
		    g->cies[i].off == f->cie)
			return &g->cies[i];
	return NULL;
}

/* readelf's rule for address a of FDE f. */
static struct gt_rule gt_rule_at(const struct gt *g, const struct gt_fde *f,
				 uint64_t a)
{
	const struct gt_cie *c = gt_cie(g, f);
	struct gt_rule r = c ? c->r : (struct gt_rule){ .cfa = GT_OTHER };

	for (size_t i = 0; i < f->n && g->rows[f->first + i].loc <= a; i++)
		r = g->rows[f->first + i].r;
	return r;
}

/* What the row for address a of FDE f should say. */
static struct hs_cfi_row expect(const struct gt *g, const struct gt_fde *f,
				uint64_t a)
{
	struct hs_cfi_row none = { .cfa_reg = HS_CFA_NONE }, row = { 0 };
	const struct gt_cie *c = gt_cie(g, f);
	struct gt_rule r = gt_rule_at(g, f, a);

	if (!c || c->signal)
		return none;
	if (r.ra_undefined) {
		row.cfa_reg = HS_CFA_END; /* the outermost frame: _start */
		return row;
	}
	if (!r.ra)
		return none;
	switch (r.cfa) {
	case GT_RSP:
	case GT_RBP:
		if (r.cfa_off < INT32_MIN || r.cfa_off > INT32_MAX)
			return none;
		row.cfa_reg = r.cfa == GT_RSP ? HS_CFA_RSP : HS_CFA_RBP;
		row.cfa_off = (int32_t)r.cfa_off;
		break;
	case GT_EXP:
		if (f->plt < 0)
			return none;
		row.cfa_reg = HS_CFA_PLT;
		row.cfa_off = f->plt;
		break;
	default:
		return none;
	}
	row.rbp_off = (int8_t)r.rbp;
	return row;
}

/* ---- the table ---- */

static const struct hs_cfi_row *lookup(const struct hs_cfi_table *t, uint64_t a)
{
	size_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

static bool same_rules(const struct hs_cfi_row *a, const struct hs_cfi_row *b)
{
	return a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->rbp_off == b->rbp_off;
}

/* What every table must be, however damaged its file. */
static bool well_formed(const struct hs_cfi_table *t, bool verbose)
{
	const struct hs_cfi_row *r;
	const char *why = NULL;
	size_t i;

	if (!t->rows || !t->n)
		why = "no rows";
	else if (t->rows[0].pc != t->lo || t->rows[t->n - 1].pc > t->hi ||
		 t->lo >= t->hi || t->hi > UINT32_MAX)
		why = "lo and hi do not bound the rows";
	else if (t->rows[t->n - 1].cfa_reg != HS_CFA_NONE)
		why = "the last row is not HS_CFA_NONE";
	for (i = 0; !why && i < t->n; i++) {
		r = &t->rows[i];
		if (i && r->pc <= r[-1].pc)
			why = "rows out of order";
		else if (i && same_rules(r, &r[-1]))
			why = "two rows alike in a row";
		else if (r->cfa_reg > HS_CFA_END)
			why = "unknown CFA register";
		else if ((r->cfa_reg == HS_CFA_NONE ||
			  r->cfa_reg == HS_CFA_END) &&
			 (r->cfa_off || r->rbp_off))
			why = "HS_CFA_NONE or HS_CFA_END row with offsets";
		else if (r->cfa_reg == HS_CFA_PLT &&
			 (r->cfa_off < 0 || r->cfa_off > 31))
			why = "PLT threshold out of range";
	}
	if (why && verbose)
		fprintf(stderr, "  malformed table (%zu rows): %s at row %zu\n",
			t->n, why, i);
	return !why;
}

struct stats {
	size_t addrs, mismatches, plt, wide, rbp_saved, rbp_cfa, fdes;
	size_t packed_mismatches, entry_end;
};

/* The table packed as the BPF side searches it must say the same. */
static bool packed_same(const struct hs_cfi_packed *pk,
			const struct hs_cfi_rules *d, uint64_t a,
			const struct hs_cfi_row *r)
{
	struct hs_cfi_rule got;

	if (!hs_cfi_packed_find(pk, d, a, &got))
		return !r;
	return r && got.cfa_reg == r->cfa_reg && got.cfa_off == r->cfa_off &&
	       got.rbp_off == r->rbp_off;
}

/* Is a in no FDE? */
static bool in_gap(const struct gt *g, uint64_t a)
{
	for (size_t k = 0; k < g->nfdes; k++)
		if (!g->fdes[k].dropped && g->fdes[k].start <= a &&
		    a < g->fdes[k].end)
			return false;
	return true;
}

/* Where the FDE after a starts, or hi. */
static uint64_t next_fde(const struct gt *g, uint64_t a, uint64_t hi)
{
	uint64_t next = hi;

	for (size_t k = 0; k < g->nfdes; k++)
		if (!g->fdes[k].dropped && g->fdes[k].start > a &&
		    g->fdes[k].start < next)
			next = g->fdes[k].start;
	return next;
}

static void show(const char *what, uint64_t a, const struct hs_cfi_row *r)
{
	fprintf(stderr, "    %s at %#llx: cfa_reg %d cfa_off %d rbp_off %d\n",
		what, (unsigned long long)a, r ? r->cfa_reg : -1,
		r ? r->cfa_off : 0, r ? r->rbp_off : 0);
}

/* Every address of every FDE, and the first of every gap. */
static void compare(const char *name, const struct hs_cfi_table *t,
		    const struct gt *g, struct stats *st)
{
	static const struct hs_cfi_row none = { .cfa_reg = HS_CFA_NONE };
	static const struct hs_cfi_row end = { .cfa_reg = HS_CFA_END };
	uint64_t lo = UINT64_MAX, hi = 0, a, stop;
	const struct hs_cfi_row *got;
	struct hs_cfi_packed pk = { 0 };
	struct hs_cfi_rules d;
	struct hs_cfi_row want;
	const struct gt_fde *f;
	struct gt_rule r;
	bool covered;

	*st = (struct stats){ 0 };
	ASSERT_EQ(hs_cfi_rules_init(&d, HS_CFI_RULES), 0, "rules");
	ASSERT_EQ(hs_cfi_pack(t, &d, &pk), 0, "packed");
	for (size_t i = 0; i < g->nfdes; i++) {
		f = &g->fdes[i];
		if (f->dropped || f->start >= f->end)
			continue;
		st->fdes++;
		lo = f->start < lo ? f->start : lo;
		hi = f->end > hi ? f->end : hi;
		for (a = f->start; a < f->end; a++) {
			want = expect(g, f, a);
			got = lookup(t, a);
			st->addrs++;
			st->plt += want.cfa_reg == HS_CFA_PLT;
			st->rbp_cfa += want.cfa_reg == HS_CFA_RBP;
			st->rbp_saved += want.rbp_off != HS_RBP_SAME &&
					 want.rbp_off != HS_RBP_UNDEF;
			r = gt_rule_at(g, f, a);
			st->wide += r.ra && r.cfa == GT_RSP &&
				    r.cfa_off > INT16_MAX;
			st->packed_mismatches += !packed_same(&pk, &d, a, got);
			if (got && same_rules(got, &want))
				continue;
			if (st->mismatches++ < 5) {
				fprintf(stderr, "  %s: FDE %#llx..%#llx\n",
					name, (unsigned long long)f->start,
					(unsigned long long)f->end);
				show("want", a, &want);
				show("got ", a, got);
			}
		}
	}
	/* the address after an FDE is in another FDE or a gap */
	for (size_t i = 0; i < g->nfdes; i++) {
		a = g->fdes[i].end;
		covered = false;
		for (size_t k = 0; k < g->nfdes && !covered; k++)
			covered = !g->fdes[k].dropped &&
				  g->fdes[k].start <= a && a < g->fdes[k].end;
		got = lookup(t, a);
		st->packed_mismatches += !packed_same(&pk, &d, a, got);
		if (!covered && !g->fdes[i].dropped && a != g->entry &&
		    !(got && same_rules(got, &none)) && st->mismatches++ < 5)
			show("gap not HS_CFA_NONE", a, got);
	}
	/* from an entry point in no FDE to the next FDE: the outermost frame */
	if (g->entry >= lo && g->entry < hi && in_gap(g, g->entry)) {
		stop = next_fde(g, g->entry, hi);
		for (a = g->entry; a < stop; a++, st->entry_end++) {
			got = lookup(t, a);
			if (!(got && same_rules(got, &end)) &&
			    st->mismatches++ < 5)
				show("entry code not HS_CFA_END", a, got);
		}
	}
	hs_cfi_packed_free(&pk);
	hs_cfi_rules_free(&d);
	ASSERT_EQ(st->packed_mismatches, 0, "packed rows unlike the table's");
	ASSERT_EQ(st->mismatches, 0, "rows unlike readelf's");
	ASSERT_EQ(t->lo, lo, "lo");
	ASSERT_EQ(t->hi, hi, "hi");
	ASSERT_EQ(t->nfdes, st->fdes, "FDEs");
}

/* Builds the table of a file and compares it with readelf's. */
static int check_file(const char *path, struct hs_cfi_table *t,
		      struct stats *st, double *ms)
{
	char err[256];
	struct gt g;
	double t0 = now();
	int ret;

	ret = build(path, t, err, sizeof(err));
	*ms = (now() - t0) * 1e3;
	if (!ASSERT_EQ(ret, 0, path)) {
		fprintf(stderr, "  %s: %s\n", path, err);
		return -1;
	}
	ASSERT_TRUE(well_formed(t, true), "well-formed");
	if (!ASSERT_EQ(gt_read(path, &g), 0, "readelf")) {
		gt_free(&g);
		return -1;
	}
	compare(path, t, &g, st);
	gt_free(&g);
	return 0;
}

static void test_no_frame_pointers(void)
{
	struct hs_cfi_table t;
	struct stats st;
	double ms;

	if (check_file(fixture("cfi-nofp"), &t, &st, &ms))
		return;
	ASSERT_EQ(t.frame_pointers, false, "frame_pointers");
	ASSERT_EQ(t.nbad, 0, "bad FDEs");
	ASSERT_TRUE(st.plt > 0, "PLT rows");
	ASSERT_TRUE(st.wide > 0, "a frame over 32 KiB, with its rule");
	ASSERT_TRUE(st.rbp_saved > 0, "rbp saved as a callee-saved register");
	ASSERT_TRUE(st.rbp_cfa > 0, "alloca: the CFA on rbp");
	printf("# cfi-nofp: %zu rows from %zu FDEs, %zu addresses checked\n",
	       t.n, t.nfdes, st.addrs);
	hs_cfi_free(&t);
}

static void test_frame_pointers(void)
{
	struct hs_cfi_table t;
	struct stats st;
	double ms;

	if (check_file(fixture("cfi-fp"), &t, &st, &ms))
		return;
	ASSERT_EQ(t.frame_pointers, true, "frame_pointers");
	ASSERT_TRUE(st.rbp_cfa > st.addrs / 2, "mostly rbp-based");
	hs_cfi_free(&t);
}

static void test_clang(void)
{
	struct hs_cfi_table t;
	struct stats st;
	double ms;

	if (check_file(fixture("cfi-clang"), &t, &st, &ms))
		return;
	ASSERT_EQ(t.frame_pointers, false, "frame_pointers");
	ASSERT_TRUE(st.plt > 0, "PLT rows");
	hs_cfi_free(&t);
}

static bool same_table(const struct hs_cfi_table *a,
		       const struct hs_cfi_table *b)
{
	size_t i;

	if (a->n != b->n || a->lo != b->lo || a->hi != b->hi ||
	    a->nfdes != b->nfdes)
		return false;
	/* field by field: a row's padding is never written */
	for (i = 0; i < a->n; i++)
		if (a->rows[i].pc != b->rows[i].pc ||
		    a->rows[i].cfa_off != b->rows[i].cfa_off ||
		    a->rows[i].cfa_reg != b->rows[i].cfa_reg ||
		    a->rows[i].rbp_off != b->rows[i].rbp_off)
			return false;
	return true;
}

/* The code's rows in .debug_frame, crt's in .eh_frame. */
static void test_debug_frame(void)
{
	struct hs_cfi_table t, z, eh;
	struct stats st;
	char err[256];
	double ms;

	if (check_file(fixture("cfi-debugframe"), &t, &st, &ms))
		return;
	ASSERT_TRUE(st.wide > 0 && st.rbp_saved > 0, "the code's rows");
	ASSERT_EQ(build(fixture("cfi-zdebug"), &z, err, sizeof(err)), 0,
		  "compressed .debug_frame");
	ASSERT_TRUE(same_table(&t, &z), "compressed: the same table");
	/* without it: only what .eh_frame has */
	ASSERT_EQ(build(fixture("cfi-split"), &eh, err, sizeof(err)), 0,
		  "stripped");
	ASSERT_TRUE(eh.nfdes > 0 && eh.nfdes < t.nfdes, "fewer FDEs");
	hs_cfi_free(&t);
	hs_cfi_free(&z);
	hs_cfi_free(&eh);
}

static int copy_file(const char *from, const char *to, off_t len)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;
	size_t want;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while (len) {
		want = len < 0 || len > (off_t)sizeof(buf) ? sizeof(buf) :
							     (size_t)len;
		n = read(in, buf, want);
		if (n == 0 && len < 0)
			break;
		if (n <= 0 || write(out, buf, n) != n) {
			ret = -1;
			break;
		}
		if (len > 0)
			len -= n;
	}
	close(in);
	close(out);
	return ret;
}

static int build_id_hex(const char *path, char *hex, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	const uint8_t *id;
	ssize_t len =
		elf ? dwelf_elf_gnu_build_id(elf, (const void **)&id) : -1;

	for (ssize_t i = 0; i < len && (size_t)(2 * i + 2) < size; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return len > 0 ? 0 : -1;
}

/* In a child: places a file where the build-id says, builds, compares. */
static void child_build_id_dir(const char *hex, const char *debug_file,
			       const struct hs_cfi_table *want)
{
	char dir[PATH_MAX], name[PATH_MAX], err[256];
	struct hs_cfi_table t;

	if (unshare(CLONE_NEWNS) ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/usr/lib/debug", "tmpfs", 0, NULL))
		_exit(77);
	snprintf(dir, sizeof(dir), "/usr/lib/debug/.build-id/%.2s", hex);
	snprintf(name, sizeof(name), "%s.debug", hex + 2);
	if (mkdir("/usr/lib/debug/.build-id", 0755) || mkdir(dir, 0755) ||
	    copy_file(debug_file, path_in(dir, name), -1))
		_exit(2);
	if (!ASSERT_EQ(build(fixture("cfi-split"), &t, err, sizeof(err)), 0,
		       "build"))
		_exit(1);
	ASSERT_TRUE(same_table(&t, want), "the table");
	hs_cfi_free(&t);
	_exit(test_failed);
}

/*
 * The split copy's .debug_frame, found under /usr/lib/debug/.build-id (in
 * a private mount namespace: nothing outside this process sees the file);
 * a file there with another build-id is ignored.
 */
static void test_separate_debug_file(void)
{
	struct hs_cfi_table with, without;
	char hex[160], err[256], debug[2][PATH_MAX];
	int status, i;
	pid_t pid;

	strcpy(debug[0], fixture("cfi-split.debug"));
	strcpy(debug[1], fixture("cfi-fp"));
	if (!ASSERT_EQ(build_id_hex(fixture("cfi-split"), hex, sizeof(hex)), 0,
		       "build-id") ||
	    !ASSERT_EQ(
		    build(fixture("cfi-debugframe"), &with, err, sizeof(err)),
		    0, "cfi-debugframe") ||
	    !ASSERT_EQ(build(fixture("cfi-split"), &without, err, sizeof(err)),
		       0, "cfi-split"))
		return;
	for (i = 0; i < 2; i++) {
		fflush(NULL);
		pid = fork();
		if (pid == 0)
			child_build_id_dir(hex, debug[i], i ? &without : &with);
		if (!ASSERT_TRUE(pid > 0, "fork"))
			break;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
			skip_reason = "needs root and /usr/lib/debug";
			break;
		}
		ASSERT_EQ(status, 0, i ? "another build-id" : "the debug file");
	}
	hs_cfi_free(&with);
	hs_cfi_free(&without);
}

/* libc and python3 from this system: big, and built without frame
 * pointers; every address checked against readelf. */
static void test_system_files(void)
{
	const char *paths[3] = { NULL, NULL, "/lib64/ld-linux-x86-64.so.2" };
	char python[PATH_MAX];
	struct hs_cfi_table t;
	struct stats st;
	Dl_info info;
	double ms;

	/* not a function that ASan intercepts */
	if (dladdr((void *)gnu_get_libc_version, &info) && info.dli_fname)
		paths[0] = info.dli_fname;
	if (realpath("/usr/bin/python3", python))
		paths[1] = python;
	ASSERT_TRUE(paths[0] != NULL, "libc found");
	for (int i = 0; i < 3; i++) {
		if (!paths[i] || access(paths[i], R_OK)) {
			printf("# no %s\n", i == 1 ? "/usr/bin/python3" :
							"dynamic loader");
			continue;
		}
		if (check_file(paths[i], &t, &st, &ms))
			continue;
		/* the loader's _start and _dl_start_user have no FDE */
		if (i == 2)
			ASSERT_TRUE(st.entry_end > 0,
				    "the loader's entry code is the outermost frame");
		ASSERT_TRUE(t.n > 1000, "more than 1000 rows");
		ASSERT_TRUE(ms < 1000, "under a second");
		ASSERT_EQ(t.frame_pointers, false, "frame_pointers");
		printf("# %s: %zu rows from %zu FDEs (%zu bad) in %.1f ms, "
		       "%zu addresses checked\n",
		       paths[i], t.n, t.nfdes, t.nbad, ms, st.addrs);
		hs_cfi_free(&t);
	}
}

static void expect_error(const char *path, int want, const char *name)
{
	struct hs_cfi_table t;
	char err[256] = "";
	int ret = build(path, &t, err, sizeof(err));

	ASSERT_EQ(ret, want, name);
	ASSERT_TRUE(!t.rows && !t.n && !t.nfdes, "empty table");
	ASSERT_TRUE(err[0] != 0, "a reason");
	if (ret)
		printf("# %s: %s\n", name, err);
	hs_cfi_free(&t);
}

static void test_no_eh_frame(void)
{
	expect_error(fixture("cfi-noeh"), -ENOENT, "no .eh_frame");
}

static void test_above_4gib(void)
{
	expect_error(fixture("libcfi-high.so"), -E2BIG, "above 4 GiB");
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0)
		return -1;
	if (len && write(fd, buf, len) != (ssize_t)len)
		ret = -1;
	close(fd);
	return ret;
}

static void test_not_elf(void)
{
	char path[PATH_MAX], buf[8192];
	size_t i;

	strcpy(path, path_in(tmpdir, "garbage"));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	write_file(path, "#!/bin/sh\nexit 0\n", 17);
	expect_error(path, -ENOEXEC, "a script");
	write_file(path, "", 0);
	expect_error(path, -ENOEXEC, "an empty file");
	memcpy(buf, "\177ELF\2\1\1", 7);
	write_file(path, buf, 64);
	expect_error(path, -ENOEXEC, "an ELF header of garbage");
	write_file(path, buf, sizeof(buf));
	expect_error(path, -ENOEXEC, "ELF magic, then garbage");
	unlink(path);
	expect_error("/dev/null", -ENOEXEC, "/dev/null");
	expect_error(fixdir, -ENOEXEC, "a directory");
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* Builds a damaged file: an error, or a well-formed table. */
static void try_damaged(const char *path, int *failed, int *built)
{
	struct hs_cfi_table t;
	char err[256];

	if (build(path, &t, err, sizeof(err)) == 0) {
		(*built)++;
		*failed += !well_formed(&t, *failed < 3);
	}
	hs_cfi_free(&t);
}

/* Copies cut short: they lose their section headers. */
static void test_truncated(void)
{
	const char *names[] = { "cfi-nofp", "cfi-debugframe", "cfi-zdebug",
				"cfi-split.debug" };
	int i, fds = open_fds(), copies = 0, built = 0, failed = 0;
	char copy[PATH_MAX];
	struct stat st;
	off_t len, step;

	strcpy(copy, path_in(tmpdir, "truncated"));
	for (i = 0; i < 4; i++) {
		if (!ASSERT_EQ(stat(fixture(names[i]), &st), 0, names[i]))
			continue;
		step = st.st_size / 300 + 1;
		for (len = 0; len < st.st_size; len += len < 128 ? 1 : step) {
			if (copy_file(fixture(names[i]), copy, len))
				break;
			try_damaged(copy, &failed, &built);
			copies++;
		}
	}
	unlink(copy);
	ASSERT_EQ(failed, 0, "malformed tables");
	ASSERT_EQ(open_fds(), fds, "descriptors leaked");
	printf("# %d truncated copies, %d gave a table\n", copies, built);
}

struct region {
	size_t off, size;
	size_t shdr_size; /* where the file holds its sh_size */
	bool debug_frame;
};

/* Where .eh_frame, .eh_frame_hdr and .debug_frame are in the file. */
static int cfi_regions(const char *path, struct region *r, int max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	size_t strndx;
	const char *name;

	if (elf && gelf_getehdr(elf, &eh) && !elf_getshdrstrndx(elf, &strndx)) {
		while ((scn = elf_nextscn(elf, scn)) && n < max) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
				continue;
			name = elf_strptr(elf, strndx, sh.sh_name);
			if (!name || !strstr(name, "_frame") || !sh.sh_size)
				continue;
			r[n++] = (struct region){
				.off = sh.sh_offset,
				.size = sh.sh_size,
				.shdr_size = eh.e_shoff +
					     elf_ndxscn(scn) * eh.e_shentsize +
					     offsetof(Elf64_Shdr, sh_size),
				.debug_frame = !strcmp(name, ".debug_frame"),
			};
		}
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return n;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Damages the CFI sections (or, one time in eight, any byte): random
 * bytes, and 32-bit words such as lengths and CIE pointers set to random
 * values. The same seed gives the same files.
 */
static void test_corrupted(void)
{
	const char *names[] = { "cfi-nofp", "cfi-debugframe", "cfi-clang" };
	int i, k, iter, fds = open_fds(), built = 0, failed = 0, copies = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, v;
	struct region reg[8], *r;
	char path[PATH_MAX];
	char *orig, *buf;
	struct stat st;
	size_t pos;
	int nreg, fd;

	strcpy(path, path_in(tmpdir, "corrupted"));
	for (i = 0; i < 3; i++) {
		nreg = cfi_regions(fixture(names[i]), reg, 8);
		fd = open(fixture(names[i]), O_RDONLY | O_CLOEXEC);
		if (!ASSERT_TRUE(nreg > 0 && fd >= 0 && !fstat(fd, &st),
				 names[i])) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		orig = malloc(st.st_size);
		buf = malloc(st.st_size);
		if (!orig || !buf ||
		    read(fd, orig, st.st_size) != (ssize_t)st.st_size)
			abort();
		close(fd);
		for (iter = 0; iter < 700; iter++) {
			memcpy(buf, orig, st.st_size);
			for (k = 0; k < 1 + (int)(xorshift(&seed) % 4); k++) {
				v = xorshift(&seed);
				r = &reg[v % nreg];
				pos = v % 8 == 0 ? (v >> 8) % st.st_size :
						   r->off + (v >> 8) % r->size;
				if (v % 3 == 0 &&
				    pos + 4 <= (size_t)st.st_size) {
					pos &= ~(size_t)3;
					v = xorshift(&seed);
					memcpy(buf + pos, &v, 4);
				} else {
					buf[pos] = (char)(v >> 40);
				}
			}
			if (write_file(path, buf, st.st_size))
				abort();
			try_damaged(path, &failed, &built);
			copies++;
		}
		free(orig);
		free(buf);
	}
	unlink(path);
	ASSERT_EQ(failed, 0, "malformed tables");
	ASSERT_EQ(open_fds(), fds, "descriptors leaked");
	printf("# %d corrupted copies, %d gave a table\n", copies, built);
}

/*
 * CFI sections cut short inside the file: zeroed from a point on (the
 * .eh_frame_hdr table then points at nothing), or with a smaller sh_size
 * (libdw, which finds .eh_frame through the program headers, still sees
 * all of it).
 */
static void test_truncated_sections(void)
{
	const char *names[] = { "cfi-nofp", "cfi-debugframe" };
	int i, fds = open_fds(), copies = 0, built = 0, failed = 0;
	struct region reg[8];
	char path[PATH_MAX];
	char *orig, *buf;
	size_t cut, step;
	struct stat st;
	int k, nreg, fd;

	strcpy(path, path_in(tmpdir, "cut"));
	for (i = 0; i < 2; i++) {
		nreg = cfi_regions(fixture(names[i]), reg, 8);
		fd = open(fixture(names[i]), O_RDONLY | O_CLOEXEC);
		if (!ASSERT_TRUE(nreg > 0 && fd >= 0 && !fstat(fd, &st),
				 names[i])) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		orig = malloc(st.st_size);
		buf = malloc(st.st_size);
		if (!orig || !buf ||
		    read(fd, orig, st.st_size) != (ssize_t)st.st_size)
			abort();
		close(fd);
		for (k = 0; k < nreg; k++) {
			step = reg[k].size / 100 + 1;
			for (cut = 0; cut < reg[k].size; cut += step) {
				memcpy(buf, orig, st.st_size);
				memset(buf + reg[k].off + cut, 0,
				       reg[k].size - cut);
				if (write_file(path, buf, st.st_size))
					abort();
				try_damaged(path, &failed, &built);
				memcpy(buf, orig, st.st_size);
				memcpy(buf + reg[k].shdr_size,
				       &(uint64_t){ cut }, 8);
				if (write_file(path, buf, st.st_size))
					abort();
				try_damaged(path, &failed, &built);
				copies += 2;
			}
		}
		free(orig);
		free(buf);
	}
	unlink(path);
	ASSERT_EQ(failed, 0, "malformed tables");
	ASSERT_EQ(open_fds(), fds, "descriptors leaked");
	printf("# %d copies with a section cut short, %d gave a table\n",
	       copies, built);
}

/*
 * A compressed .debug_frame that claims to inflate to 1 TiB: cfi.c does not
 * ask libelf to inflate it, and the table comes from .eh_frame alone.
 */
static void test_inflate_claim(void)
{
	struct hs_cfi_table t, eh;
	struct region reg[8];
	char path[PATH_MAX], err[256];
	uint64_t claim = 1ULL << 40;
	int nreg, k, fd;

	strcpy(path, path_in(tmpdir, "bomb"));
	nreg = cfi_regions(fixture("cfi-zdebug"), reg, 8);
	for (k = 0; k < nreg && !reg[k].debug_frame; k++)
		;
	if (!ASSERT_TRUE(k < nreg, ".debug_frame") ||
	    !ASSERT_EQ(copy_file(fixture("cfi-zdebug"), path, -1), 0, "copy"))
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ASSERT_EQ(pwrite(fd, &claim, 8,
			 reg[k].off + offsetof(Elf64_Chdr, ch_size)),
		  8, "ch_size");
	close(fd);
	ASSERT_EQ(build(path, &t, err, sizeof(err)), 0, "build");
	ASSERT_EQ(build(fixture("cfi-split"), &eh, err, sizeof(err)), 0,
		  "cfi-split");
	ASSERT_TRUE(same_table(&t, &eh), ".eh_frame alone");
	hs_cfi_free(&t);
	hs_cfi_free(&eh);
	unlink(path);
}

static void test_bad_arguments(void)
{
	struct hs_cfi_table t = { .n = 7 };
	char err[8];
	int fd = open(fixture("cfi-nofp"), O_RDONLY | O_CLOEXEC);

	ASSERT_EQ(hs_cfi_build(fd, NULL, err, sizeof(err)), -EINVAL,
		  "no table");
	ASSERT_EQ(hs_cfi_build(-1, &t, err, sizeof(err)), -EINVAL, "bad fd");
	ASSERT_EQ(t.n, 0, "zeroed on failure");
	ASSERT_EQ(strlen(err), sizeof(err) - 1, "reason cut to fit");
	ASSERT_EQ(hs_cfi_build(fd, &t, NULL, 0), 0, "no room for a reason");
	ASSERT_TRUE(t.n > 0, "table");
	/* fd is not consumed */
	ASSERT_TRUE(fcntl(fd, F_GETFD) >= 0, "fd still open");
	hs_cfi_free(&t);
	ASSERT_TRUE(!t.rows && !t.n, "freed table zeroed");
	hs_cfi_free(&t);
	hs_cfi_free(NULL);
	close(fd);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 1;
	exe[n] = 0;
	snprintf(fixdir, sizeof(fixdir), "%s/fixtures", dirname(exe));
	snprintf(tmpdir, sizeof(tmpdir), "%s/hs-cfi-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("FAIL setup: %s\n", tmpdir);
		return 1;
	}
	elf_version(EV_CURRENT);

	RUN_TEST(test_no_frame_pointers);
	RUN_TEST(test_frame_pointers);
	RUN_TEST(test_clang);
	RUN_TEST(test_debug_frame);
	RUN_SKIPPABLE(test_separate_debug_file);
	RUN_TEST(test_system_files);
	RUN_TEST(test_no_eh_frame);
	RUN_TEST(test_above_4gib);
	RUN_TEST(test_not_elf);
	RUN_TEST(test_truncated);
	RUN_TEST(test_corrupted);
	RUN_TEST(test_truncated_sections);
	RUN_TEST(test_inflate_claim);
	RUN_TEST(test_bad_arguments);

	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return TEST_EXIT();
}
