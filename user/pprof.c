// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The pprof profile. The message is built with the protobuf-c code generated
 * from proto/profile.proto, then gzipped with zlib, as pprof files are on
 * disk.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <zlib.h>

#include "aggregate.h"
#include "grow.h"
#include "htab.h"
#include "pprof.h"
#include "profile.pb-c.h"
#include "render.h"

enum {
	VAL_INUSE_OBJECTS,
	VAL_INUSE_SPACE,
	VAL_ALLOC_OBJECTS,
	VAL_ALLOC_SPACE,
	NVALUES,
};

static const char *const value_types[NVALUES][2] = {
	[VAL_INUSE_OBJECTS] = { "inuse_objects", "count" },
	[VAL_INUSE_SPACE] = { "inuse_space", "bytes" },
	[VAL_ALLOC_OBJECTS] = { "alloc_objects", "count" },
	[VAL_ALLOC_SPACE] = { "alloc_space", "bytes" },
};

struct pp_str {
	UT_hash_handle hh;
	int64_t idx;
};

struct pp_func {
	UT_hash_handle hh;
	uint64_t key; /* function string << 32 | file string, in the snapshot */
	uint64_t id;
};

struct pp_loc {
	UT_hash_handle hh;
	const uint32_t *frames; /* the key: a run of frame indices */
	uint64_t id;
};

struct pp_sample {
	size_t first_loc; /* in pprof.loc_ids */
	size_t nlocs;
};

struct pp_location {
	size_t first_line; /* in pprof.lines */
	size_t nlines;
};

/* The profile under construction: growable tables, ids are index + 1. */
struct pprof {
	const struct hs_snapshot *s;

	char **strs;
	size_t nstrs, cap_strs;
	struct pp_str *str_index;

	Perftools__Profiles__Function *funcs;
	size_t nfuncs, cap_funcs;
	struct pp_func *func_index;

	Perftools__Profiles__Mapping *maps;
	size_t nmaps, cap_maps;
	uint64_t *map_of_module; /* mapping id per module, 0: none yet */

	Perftools__Profiles__Location *locs;
	struct pp_location *loc_lines;
	size_t nlocs, cap_locs, cap_loc_lines;
	struct pp_loc *loc_index;

	Perftools__Profiles__Line *lines;
	size_t nlines, cap_lines;

	Perftools__Profiles__Sample *samples;
	struct pp_sample *sample_locs;
	int64_t *values;
	size_t nsamples, cap_samples, cap_sample_locs, cap_values;
	uint64_t *loc_ids;
	size_t nloc_ids, cap_loc_ids;

	int64_t *comments;
	size_t ncomments, cap_comments;

	uint64_t unknown_loc; /* the location of empty stacks, 0: none yet */
};

/* Index of str in the string table, added if new; -1 on no memory. */
static int64_t pp_string(struct pprof *pp, const char *str)
{
	struct pp_str *e;
	char *copy;

	if (!str)
		str = "";
	HASH_FIND_STR(pp->str_index, str, e);
	if (e)
		return e->idx;
	if (hs_grow(&pp->strs, &pp->cap_strs, pp->nstrs + 1, sizeof(char *)))
		return -1;
	e = calloc(1, sizeof(*e));
	copy = strdup(str);
	if (!e || !copy) {
		free(e);
		free(copy);
		return -1;
	}
	e->idx = (int64_t)pp->nstrs;
	pp->strs[pp->nstrs++] = copy;
	HASH_ADD_KEYPTR(hh, pp->str_index, copy, strlen(copy), e);
	return e->idx;
}

static int64_t pp_snap_string(struct pprof *pp, uint32_t idx)
{
	return pp_string(pp, hs_snapshot_str(pp->s, idx));
}

static int pp_comment(struct pprof *pp, const char *text)
{
	int64_t idx = pp_string(pp, text);

	if (idx < 0 || hs_grow(&pp->comments, &pp->cap_comments,
			       pp->ncomments + 1, sizeof(*pp->comments)))
		return -1;
	pp->comments[pp->ncomments++] = idx;
	return 0;
}

/* A new Function named name (a string index) in file; NULL on no memory. */
static Perftools__Profiles__Function *
pp_new_function(struct pprof *pp, int64_t name, int64_t file)
{
	Perftools__Profiles__Function *fn;

	if (name < 0 || file < 0 ||
	    hs_grow(&pp->funcs, &pp->cap_funcs, pp->nfuncs + 1,
		    sizeof(*pp->funcs)))
		return NULL;
	fn = &pp->funcs[pp->nfuncs++];
	perftools__profiles__function__init(fn);
	fn->id = pp->nfuncs;
	fn->name = name;
	/* snapshots keep demangled names only */
	fn->system_name = name;
	fn->filename = file;
	return fn;
}

/* The Function of frame f (which has a function name); 0 on no memory. */
static uint64_t pp_function(struct pprof *pp, const struct hs_frame *f)
{
	uint64_t key = (uint64_t)f->function << 32 | f->file;
	Perftools__Profiles__Function *fn;
	struct pp_func *e;
	int64_t name, file;

	HASH_FIND(hh, pp->func_index, &key, sizeof(key), e);
	if (e)
		return e->id;
	name = pp_snap_string(pp, f->function);
	file = pp_snap_string(pp, f->file);
	e = calloc(1, sizeof(*e));
	fn = e ? pp_new_function(pp, name, file) : NULL;
	if (!fn) {
		free(e);
		return 0;
	}
	e->key = key;
	e->id = fn->id;
	HASH_ADD(hh, pp->func_index, key, sizeof(e->key), e);
	return e->id;
}

static void hex_build_id(const struct hs_module *m, char *buf)
{
	uint32_t i, n = m->build_id_len < HS_BUILD_ID_MAX ? m->build_id_len :
							    HS_BUILD_ID_MAX;

	for (i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", m->build_id[i]);
	buf[2 * n] = '\0';
}

/* The Mapping of module idx; NULL on no memory. */
static Perftools__Profiles__Mapping *pp_mapping(struct pprof *pp,
						uint32_t module)
{
	const struct hs_module *m = &pp->s->modules[module];
	char build_id[2 * HS_BUILD_ID_MAX + 1];
	Perftools__Profiles__Mapping *map;
	int64_t file, bid;

	if (pp->map_of_module[module])
		return &pp->maps[pp->map_of_module[module] - 1];
	hex_build_id(m, build_id);
	file = pp_snap_string(pp, m->path);
	bid = pp_string(pp, build_id);
	if (file < 0 || bid < 0 ||
	    hs_grow(&pp->maps, &pp->cap_maps, pp->nmaps + 1, sizeof(*pp->maps)))
		return NULL;
	map = &pp->maps[pp->nmaps++];
	perftools__profiles__mapping__init(map);
	map->id = pp->nmaps;
	map->filename = file;
	map->build_id = bid;
	pp->map_of_module[module] = map->id;
	return map;
}

static int pp_line(struct pprof *pp, const struct hs_frame *f)
{
	Perftools__Profiles__Line *l;
	uint64_t fn = pp_function(pp, f);

	if (!fn || hs_grow(&pp->lines, &pp->cap_lines, pp->nlines + 1,
			   sizeof(*pp->lines)))
		return -1;
	l = &pp->lines[pp->nlines++];
	perftools__profiles__line__init(l);
	l->function_id = fn;
	l->line = f->file != HS_NONE ? f->line : 0;
	return 0;
}

/* What the mapping knows, from the frames it holds. */
static void pp_mapping_note(Perftools__Profiles__Mapping *map,
			    const struct hs_frame *f)
{
	if (f->function != HS_NONE)
		map->has_functions = true;
	if (f->file != HS_NONE)
		map->has_filenames = true;
	if (f->file != HS_NONE && f->line)
		map->has_line_numbers = true;
	if (f->inlined)
		map->has_inline_frames = true;
	/* addresses are offsets in the module, which starts at 0 */
	if (f->offset >= map->memory_limit)
		map->memory_limit = f->offset + 1;
}

/*
 * The Location of frames[0..n): frames inlined into the last one, innermost
 * first, as pprof wants its lines. Returns its id, 0 on no memory.
 */
static uint64_t pp_location(struct pprof *pp, const uint32_t *frames,
			    uint32_t n)
{
	const struct hs_snapshot *s = pp->s;
	const struct hs_frame *last = &s->frames[frames[n - 1]], *f;
	Perftools__Profiles__Mapping *map = NULL;
	Perftools__Profiles__Location *loc;
	struct pp_location *ll;
	struct pp_loc *e;
	uint32_t i;

	HASH_FIND(hh, pp->loc_index, frames, n * sizeof(*frames), e);
	if (e)
		return e->id;
	if (last->module < s->nmodules) {
		map = pp_mapping(pp, last->module);
		if (!map)
			return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e ||
	    hs_grow(&pp->locs, &pp->cap_locs, pp->nlocs + 1,
		    sizeof(*pp->locs)) ||
	    hs_grow(&pp->loc_lines, &pp->cap_loc_lines, pp->nlocs + 1,
		    sizeof(*pp->loc_lines))) {
		free(e);
		return 0;
	}
	ll = &pp->loc_lines[pp->nlocs];
	ll->first_line = pp->nlines;
	for (i = 0; i < n; i++) {
		f = &s->frames[frames[i]];
		if (map)
			pp_mapping_note(map, f);
		/* a frame without a function is an address for pprof */
		if (f->function != HS_NONE && pp_line(pp, f)) {
			free(e);
			return 0;
		}
	}
	ll->nlines = pp->nlines - ll->first_line;
	loc = &pp->locs[pp->nlocs++];
	perftools__profiles__location__init(loc);
	loc->id = pp->nlocs;
	loc->mapping_id = map ? map->id : 0;
	loc->address = last->offset;
	e->frames = frames;
	e->id = loc->id;
	HASH_ADD_KEYPTR(hh, pp->loc_index, frames, n * sizeof(*frames), e);
	return e->id;
}

/*
 * Traces without a stack get a location named "<unknown>", as heapsnap
 * shows them: pprof leaves a sample without locations out of its nodes.
 */
static uint64_t pp_unknown_location(struct pprof *pp)
{
	Perftools__Profiles__Location *loc;
	Perftools__Profiles__Function *fn;
	Perftools__Profiles__Line *l;

	if (pp->unknown_loc)
		return pp->unknown_loc;
	if (hs_grow(&pp->lines, &pp->cap_lines, pp->nlines + 1,
		    sizeof(*pp->lines)) ||
	    hs_grow(&pp->locs, &pp->cap_locs, pp->nlocs + 1,
		    sizeof(*pp->locs)) ||
	    hs_grow(&pp->loc_lines, &pp->cap_loc_lines, pp->nlocs + 1,
		    sizeof(*pp->loc_lines)))
		return 0;
	fn = pp_new_function(pp, pp_string(pp, "<unknown>"), 0);
	if (!fn)
		return 0;
	l = &pp->lines[pp->nlines];
	perftools__profiles__line__init(l);
	l->function_id = fn->id;
	pp->loc_lines[pp->nlocs] = (struct pp_location){ pp->nlines++, 1 };
	loc = &pp->locs[pp->nlocs++];
	perftools__profiles__location__init(loc);
	loc->id = pp->nlocs;
	pp->unknown_loc = loc->id;
	return loc->id;
}

static int pp_sample(struct pprof *pp, const uint32_t *frames, uint32_t n,
		     const struct hs_sum *sum)
{
	struct pp_sample *ps;
	uint32_t i, j;
	uint64_t id;
	int64_t *v;

	if (hs_grow(&pp->samples, &pp->cap_samples, pp->nsamples + 1,
		    sizeof(*pp->samples)) ||
	    hs_grow(&pp->sample_locs, &pp->cap_sample_locs, pp->nsamples + 1,
		    sizeof(*pp->sample_locs)) ||
	    hs_grow(&pp->values, &pp->cap_values, (pp->nsamples + 1) * NVALUES,
		    sizeof(*pp->values)))
		return -1;
	ps = &pp->sample_locs[pp->nsamples];
	ps->first_loc = pp->nloc_ids;
	if (!n) {
		id = pp_unknown_location(pp);
		if (!id || hs_grow(&pp->loc_ids, &pp->cap_loc_ids,
				   pp->nloc_ids + 1, sizeof(*pp->loc_ids)))
			return -1;
		pp->loc_ids[pp->nloc_ids++] = id;
	}
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j + 1 < n && pp->s->frames[frames[j]].inlined; j++)
			;
		id = pp_location(pp, frames + i, j - i + 1);
		if (!id || hs_grow(&pp->loc_ids, &pp->cap_loc_ids,
				   pp->nloc_ids + 1, sizeof(*pp->loc_ids)))
			return -1;
		pp->loc_ids[pp->nloc_ids++] = id;
	}
	ps->nlocs = pp->nloc_ids - ps->first_loc;
	v = pp->values + pp->nsamples * NVALUES;
	v[VAL_INUSE_OBJECTS] = (int64_t)sum->count;
	v[VAL_INUSE_SPACE] = (int64_t)sum->bytes;
	/* no per-stack totals: every live block was allocated, a lower bound */
	v[VAL_ALLOC_OBJECTS] = (int64_t)sum->count;
	v[VAL_ALLOC_SPACE] = (int64_t)sum->bytes;
	perftools__profiles__sample__init(&pp->samples[pp->nsamples++]);
	return 0;
}

static int pp_comments(struct pprof *pp, const struct hs_pprof_summary *sum)
{
	const struct hs_snapshot *s = pp->s;
	const char *cmd = hs_snapshot_str(s, s->command);
	char buf[1024], loss[512];
	struct hs_counters t;

	hs_snapshot_totals(s, &t);
	snprintf(buf, sizeof(buf), "heapsnap snapshot of %s", cmd ? cmd : "?");
	if (pp_comment(pp, buf))
		return -1;
	snprintf(buf, sizeof(buf),
		 "live: %llu bytes in %llu blocks (exported: %" PRIu64
		 " bytes in %" PRIu64 " blocks)",
		 t.current, t.count, sum->inuse_space, sum->inuse_objects);
	if (pp_comment(pp, buf))
		return -1;
	snprintf(
		buf, sizeof(buf),
		"since tracing began: %llu allocations (%llu bytes), %llu frees",
		t.allocs, t.bytes_allocated, t.frees);
	if (pp_comment(pp, buf))
		return -1;
	if (pp_comment(pp, "alloc_objects and alloc_space repeat the live "
			   "values: snapshots keep no per-stack totals"))
		return -1;
	if (s->sample_bytes) {
		snprintf(buf, sizeof(buf),
			 "sampled: one allocation per %" PRIu64
			 " bytes; values are scaled estimates",
			 s->sample_bytes);
		if (pp_comment(pp, buf))
			return -1;
	}
	if (hs_loss_summary(s, loss, sizeof(loss))) {
		snprintf(buf, sizeof(buf), "lost data: %s", loss);
		if (pp_comment(pp, buf))
			return -1;
	}
	return 0;
}

static int pp_build(struct pprof *pp, const struct hs_query *q,
		    struct hs_pprof_summary *sum)
{
	const struct hs_snapshot *s = pp->s;
	const uint32_t *frames;
	struct hs_sums sums;
	size_t i;
	uint32_t n;
	int err = 0;

	if (pp_string(pp, "") != 0)
		return -1;
	pp->map_of_module = calloc(s->nmodules + 1, sizeof(*pp->map_of_module));
	if (!pp->map_of_module || hs_stack_sums(s, q, &sums))
		return -1;
	for (i = 0; i < sums.nslots && !err; i++) {
		if (!sums.slots[i].count && !sums.slots[i].bytes)
			continue;
		frames = hs_stack_frames(s, i, &n);
		err = pp_sample(pp, frames, n, &sums.slots[i]);
		sum->inuse_space += sums.slots[i].bytes;
		sum->inuse_objects += sums.slots[i].count;
	}
	hs_sums_free(&sums);
	return err ? -1 : pp_comments(pp, sum);
}

/* Packs the tables into a Profile message; *out is malloc'd. */
static int pp_pack(struct pprof *pp, uint8_t **out, size_t *len)
{
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType types[NVALUES], period;
	Perftools__Profiles__ValueType *type_ptrs[NVALUES];
	Perftools__Profiles__Sample **samples = NULL;
	Perftools__Profiles__Location **locs = NULL;
	Perftools__Profiles__Function **funcs = NULL;
	Perftools__Profiles__Mapping **maps = NULL;
	Perftools__Profiles__Line **lines = NULL;
	int64_t period_type, period_unit, dflt;
	size_t i;
	int rc = -1;

	for (i = 0; i < NVALUES; i++) {
		perftools__profiles__value_type__init(&types[i]);
		types[i].type = pp_string(pp, value_types[i][0]);
		types[i].unit = pp_string(pp, value_types[i][1]);
		if (types[i].type < 0 || types[i].unit < 0)
			return -1;
		type_ptrs[i] = &types[i];
	}
	period_type = pp_string(pp, "space");
	period_unit = pp_string(pp, "bytes");
	dflt = pp_string(pp, value_types[VAL_INUSE_SPACE][0]);
	samples = calloc(pp->nsamples + 1, sizeof(*samples));
	locs = calloc(pp->nlocs + 1, sizeof(*locs));
	funcs = calloc(pp->nfuncs + 1, sizeof(*funcs));
	maps = calloc(pp->nmaps + 1, sizeof(*maps));
	lines = calloc(pp->nlines + 1, sizeof(*lines));
	if (period_type < 0 || period_unit < 0 || dflt < 0 || !samples ||
	    !locs || !funcs || !maps || !lines)
		goto out;
	for (i = 0; i < pp->nlines; i++)
		lines[i] = &pp->lines[i];
	for (i = 0; i < pp->nlocs; i++) {
		locs[i] = &pp->locs[i];
		locs[i]->n_line = pp->loc_lines[i].nlines;
		locs[i]->line = lines + pp->loc_lines[i].first_line;
	}
	for (i = 0; i < pp->nsamples; i++) {
		samples[i] = &pp->samples[i];
		samples[i]->n_location_id = pp->sample_locs[i].nlocs;
		samples[i]->location_id =
			pp->loc_ids + pp->sample_locs[i].first_loc;
		samples[i]->n_value = NVALUES;
		samples[i]->value = pp->values + i * NVALUES;
	}
	for (i = 0; i < pp->nfuncs; i++)
		funcs[i] = &pp->funcs[i];
	for (i = 0; i < pp->nmaps; i++)
		maps[i] = &pp->maps[i];

	perftools__profiles__value_type__init(&period);
	period.type = period_type;
	period.unit = period_unit;
	prof.n_sample_type = NVALUES;
	prof.sample_type = type_ptrs;
	prof.n_sample = pp->nsamples;
	prof.sample = samples;
	prof.n_mapping = pp->nmaps;
	prof.mapping = maps;
	prof.n_location = pp->nlocs;
	prof.location = locs;
	prof.n_function = pp->nfuncs;
	prof.function = funcs;
	prof.n_string_table = pp->nstrs;
	prof.string_table = pp->strs;
	prof.time_nanos = (int64_t)pp->s->time_ns;
	prof.period_type = &period;
	prof.period = pp->s->sample_bytes ? (int64_t)pp->s->sample_bytes : 1;
	prof.n_comment = pp->ncomments;
	prof.comment = pp->comments;
	prof.default_sample_type = dflt;

	*len = perftools__profiles__profile__get_packed_size(&prof);
	*out = malloc(*len ? *len : 1);
	if (!*out)
		goto out;
	perftools__profiles__profile__pack(&prof, *out);
	rc = 0;
out:
	free(samples);
	free(locs);
	free(funcs);
	free(maps);
	free(lines);
	return rc;
}

/* gzip, as pprof files are stored; *out is malloc'd. */
static int gzip_buf(const uint8_t *in, size_t len, void **out, size_t *outlen)
{
	z_stream z;
	uLong bound;
	int rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len);
	*out = malloc(bound);
	if (!*out) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static void pp_free(struct pprof *pp)
{
	size_t i;

	HS_HASH_FREE(pp->str_index);
	HS_HASH_FREE(pp->func_index);
	HS_HASH_FREE(pp->loc_index);
	for (i = 0; i < pp->nstrs; i++)
		free(pp->strs[i]);
	free(pp->strs);
	free(pp->funcs);
	free(pp->maps);
	free(pp->map_of_module);
	free(pp->locs);
	free(pp->loc_lines);
	free(pp->lines);
	free(pp->samples);
	free(pp->sample_locs);
	free(pp->values);
	free(pp->loc_ids);
	free(pp->comments);
}

int hs_pprof_encode(const struct hs_snapshot *s, const struct hs_query *q,
		    void **buf, size_t *len, struct hs_pprof_summary *sum)
{
	struct pprof pp = { .s = s };
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int rc = -1;

	*buf = NULL;
	*len = 0;
	memset(sum, 0, sizeof(*sum));
	if (pp_build(&pp, q, sum) || pp_pack(&pp, &raw, &rawlen) ||
	    gzip_buf(raw, rawlen, buf, len))
		goto out;
	sum->samples = pp.nsamples;
	sum->locations = pp.nlocs;
	sum->functions = pp.nfuncs;
	sum->mappings = pp.nmaps;
	sum->compressed_bytes = *len;
	rc = 0;
out:
	free(raw);
	pp_free(&pp);
	return rc;
}
