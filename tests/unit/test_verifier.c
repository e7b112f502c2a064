// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verifier accepts the BPF object in every configuration record can ask
 * for, loaded as record loads it, and the bench's floor object in each of
 * its own; in the spirit of the kernel selftests' RUN_TESTS, one PASS, FAIL
 * or SKIP line per configuration. The rodata of a configuration decides
 * which paths the verifier walks, so each is a program of its own. Loading
 * needs root: without it the test says SKIP.
 */
#include <stdarg.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "floor.skel.h"
#include "floorbpf.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "test.h"

static const char *const unwind_names[] = { "fp", "dwarf", "auto" };

/* What record asks for: sampling leaves the mmap domain out. */
static const struct {
	const char *name;
	uint64_t sample_bytes;
	bool mmap;
} tracing[] = {
	{ "exact", 0, true },
	{ "exact.no-mmap", 0, false },
	{ "sampled", 524288, false },
};

static char log_buf[1 << 16];
static size_t log_len;

/* libbpf's messages, kept to show with a failure. */
static int keep_log(enum libbpf_print_level level, const char *fmt,
		    va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG || log_len >= sizeof(log_buf) - 1)
		return 0;
	n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, args);
	if (n > 0)
		log_len += (size_t)n;
	if (log_len >= sizeof(log_buf))
		log_len = sizeof(log_buf) - 1;
	return n;
}

static void report(const char *name, bool ok, const char *err)
{
	test_failed = !ok;
	printf("%s verifier.%s\n", ok ? "PASS" : "FAIL", name);
	if (!ok)
		fprintf(stderr, "  %s\n%s", err, log_buf);
	tests_failed += test_failed;
	log_len = 0;
	log_buf[0] = 0;
}

static void load_heapsnap(const char *name, struct hs_bpf_config *c)
{
	enum hs_attach_mode want = c->mode;
	struct heapsnap_bpf *skel;
	char err[512] = "";
	bool ok;

	skel = hs_bpf_load(c, err, sizeof(err));
	ok = skel && c->mode == want;
	if (skel && !ok)
		snprintf(err, sizeof(err), "fell back to %s",
			 hs_attach_mode_name(c->mode));
	report(name, ok, err);
	heapsnap_bpf__destroy(skel);
}

/*
 * The traceback limits, -a (whose paths do not depend on the limit), and
 * --python off (the Python walk left out) at the largest limit.
 */
static const struct {
	uint32_t frames;
	bool all;
	bool python;
} limits[] = {
	{ 1, false, true },
	{ HS_MAX_FRAMES, false, true },
	{ HS_MAX_FRAMES, true, true },
	{ HS_MAX_FRAMES, false, false },
};

#define NLIMITS (sizeof(limits) / sizeof(limits[0]))

static void heapsnap_configs(enum hs_attach_mode mode, const char *mode_name)
{
	char name[128];

	for (uint32_t u = HS_UNWIND_FP; u <= HS_UNWIND_AUTO; u++) {
		for (size_t t = 0; t < 3; t++) {
			for (size_t l = 0; l < NLIMITS; l++) {
				struct hs_bpf_config c = {
					.mode = mode,
					.frames = limits[l].frames,
					.sample_bytes = tracing[t].sample_bytes,
					.all = limits[l].all,
					.unwind = u,
					.max_unwind_rows = 4096,
					.mmap = tracing[t].mmap,
					.max_live = 4096,
					.max_stacks = 1024,
					.max_procs = 64,
					.python = limits[l].python,
				};

				snprintf(name, sizeof(name),
					 "heapsnap.%s.%s.%s.frames%u%s%s",
					 mode_name, unwind_names[u],
					 tracing[t].name, c.frames,
					 c.all ? ".all" : "",
					 c.python ? "" : ".no-python");
				load_heapsnap(name, &c);
			}
		}
	}
}

static void floor_configs(enum hs_attach_mode mode, const char *mode_name)
{
	static const struct hs_floor_config kinds[] = {
		{ .mmap = true },
		{ .mmap = false },
		{ .entry_only = true },
	};
	static const char *const kind_names[] = { "return", "return.no-mmap",
						  "entry" };
	char name[128], err[512] = "";

	for (size_t k = 0; k < 3; k++) {
		struct hs_floor_config c = kinds[k];
		struct floor_bpf *skel;

		c.mode = mode;
		snprintf(name, sizeof(name), "floor.%s.%s", mode_name,
			 kind_names[k]);
		skel = hs_floor_load(&c, err, sizeof(err));
		report(name, skel != NULL, err);
		floor_bpf__destroy(skel);
	}
}

int main(void)
{
	if (geteuid()) {
		printf("SKIP test_verifier: loading BPF programs needs root\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(keep_log);
	heapsnap_configs(HS_ATTACH_CLASSIC, "classic");
	floor_configs(HS_ATTACH_CLASSIC, "classic");
	if (hs_links_mode() != HS_ATTACH_SESSION) {
		printf("SKIP verifier.session: the kernel has no uprobe sessions\n");
	} else {
		heapsnap_configs(HS_ATTACH_SESSION, "session");
		floor_configs(HS_ATTACH_SESSION, "session");
	}
	return TEST_EXIT();
}
