// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * CPython detection against the interpreters of this machine: pyenv's
 * builds (`pyenv root`, with symbols and DWARF) and Debian's python3.11
 * (stripped, LTO). The expected offsets were read from each build's DWARF
 * (pahole -C _ts, _PyInterpreterFrame, PyCodeObject, ...). A build that is
 * not installed is skipped with the reason.
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "elffile.h"
#include "pyalloc.h"
#include "pylayout.h"
#include "test.h"

static char pyenv[PATH_MAX];

static bool open_layout(const char *path, struct hs_pylayout *l, int *rc)
{
	struct hs_elf *e = hs_elf_open(path);

	if (!e) {
		skip_reason = path;
		return false;
	}
	*rc = hs_pylayout_read(e, path, l);
	hs_elf_close(e);
	return true;
}

static const char *pyenv_lib(const char *version, const char *lib)
{
	static char buf[PATH_MAX + 128];

	snprintf(buf, sizeof(buf), "%s/versions/%s/lib/%s", pyenv, version,
		 lib);
	return buf;
}

static void test_pyenv_311(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout(pyenv_lib("3.11.7", "libpython3.11.so.1.0"), &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "is CPython");
	ASSERT_EQ(l.version, 0x030b07f0, "version");
	ASSERT_TRUE(l.supported, "supported");
	ASSERT_EQ(l.runtime != 0, 1, "_PyRuntime");
	ASSERT_EQ(l.eval_hi - l.eval_lo, 0xa951, "eval function size");
	ASSERT_EQ(l.off.tstate_thread_id, 152, "thread_id");
	ASSERT_EQ(l.off.frame_is_entry, 68, "is_entry");
}

static void test_pyenv_312(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout(pyenv_lib("3.12.1", "libpython3.12.so.1.0"), &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "is CPython");
	ASSERT_EQ(l.version, 0x030c01f0, "version");
	ASSERT_TRUE(l.supported, "supported");
	ASSERT_EQ(l.eval_hi - l.eval_lo, 0xc82d, "eval function size");
	ASSERT_EQ(l.off.owner_cstack, 3, "entry shim owner");
}

/* 3.13 describes itself: its offsets must be what its DWARF says. */
static void test_pyenv_313_debug_offsets(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout(pyenv_lib("3.13.0", "libpython3.13.so.1.0"), &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "is CPython");
	ASSERT_EQ(l.version, 0x030d00f0, "version");
	if (!ASSERT_TRUE(l.supported, "supported"))
		fprintf(stderr, "  note: %s\n", l.note);
	ASSERT_EQ(l.off.runtime_interp_head, 632, "interpreters.head");
	ASSERT_EQ(l.off.interp_threads_head, 7344, "threads.head");
	ASSERT_EQ(l.off.tstate_next, 8, "tstate next");
	ASSERT_EQ(l.off.tstate_frame, 72, "current_frame");
	ASSERT_EQ(l.off.cframe_frame, HS_PY_NO_FIELD, "no cframe");
	ASSERT_EQ(l.off.tstate_thread_id, 152, "thread_id");
	ASSERT_EQ(l.off.frame_code, 0, "f_executable");
	ASSERT_EQ(l.off.frame_previous, 8, "previous");
	ASSERT_EQ(l.off.frame_instr, 56, "instr_ptr");
	ASSERT_EQ(l.off.frame_owner, 70, "owner");
	ASSERT_EQ(l.off.code_firstlineno, 68, "co_firstlineno");
	ASSERT_EQ(l.off.code_filename, 112, "co_filename");
	ASSERT_EQ(l.off.code_qualname, 128, "co_qualname");
	ASSERT_EQ(l.off.code_linetable, 136, "co_linetable");
	ASSERT_EQ(l.off.code_first_instr, 200, "co_code_adaptive");
	ASSERT_EQ(l.off.bytes_size, 16, "ob_size");
	ASSERT_EQ(l.off.bytes_data, 32, "ob_sval");
	ASSERT_EQ(l.off.str_ascii_size, 40, "sizeof(PyASCIIObject)");
	ASSERT_EQ(l.off.str_compact_size, 56, "sizeof(PyCompactUnicodeObject)");
}

static void test_older_versions_named(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout(pyenv_lib("3.10.13", "libpython3.10.so.1.0"), &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "3.10 is CPython");
	ASSERT_EQ(l.version >> 16, 0x030a, "3.10 from its name");
	ASSERT_TRUE(!l.supported, "3.10 unsupported");
	ASSERT_TRUE(strstr(l.note, "3.10") && strstr(l.note, "natively"),
		    "3.10 note");
	if (!open_layout(pyenv_lib("2.7.18", "libpython2.7.so.1.0"), &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "2.7 is CPython");
	ASSERT_EQ(l.version >> 16, 0x0207, "2.7 from its name");
	ASSERT_TRUE(!l.supported, "2.7 unsupported");
}

/* Debian's: stripped to .dynsym, LTO; the version from Py_Version. */
static void test_debian_python311(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout("/usr/bin/python3.11", &l, &rc))
		return;
	ASSERT_EQ(rc, 1, "is CPython");
	ASSERT_EQ(l.version >> 16, 0x030b, "3.11");
	ASSERT_TRUE(l.supported, "supported");
	ASSERT_TRUE(l.eval_hi > l.eval_lo, "eval function");
}

static void test_not_python(void)
{
	struct hs_pylayout l;
	int rc;

	if (!open_layout("/bin/sh", &l, &rc))
		return;
	ASSERT_EQ(rc, 0, "sh is not CPython");
	ASSERT_TRUE(hs_elf_open("/nonexistent") == NULL && errno == ENOENT,
		    "missing file");
	ASSERT_TRUE(hs_elf_open("/etc/passwd") == NULL && errno == ENOEXEC,
		    "not ELF");
}

static bool read_alloc(const char *path, struct hs_pyalloc *a)
{
	struct hs_elf *e = hs_elf_open(path);
	int rc;

	if (!e) {
		skip_reason = path;
		return false;
	}
	rc = hs_pyalloc_read(e, a);
	hs_elf_close(e);
	ASSERT_EQ(rc, 0, "allocator found");
	return true;
}

/* pyenv's builds: every call reaches the functions, probed one by one. */
static void test_alloc_exact(void)
{
	static const char *const libs[][2] = {
		{ "3.11.7", "libpython3.11.so.1.0" },
		{ "3.12.1", "libpython3.12.so.1.0" },
		{ "3.13.0", "libpython3.13.so.1.0" },
	};

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		const char *path = pyenv_lib(libs[i][0], libs[i][1]);
		struct hs_pyalloc a;
		struct hs_elf *e;
		uint64_t sym;

		if (!read_alloc(path, &a))
			return;
		ASSERT_TRUE(a.exact, path);
		for (int k = 0; k < HS_PYFN_COUNT; k++)
			ASSERT_TRUE(a.fn[k] != 0, hs_pyfn_name(k));
		ASSERT_EQ(a.pool_size, 16384, "pool size");
		e = hs_elf_open(path);
		ASSERT_TRUE(e && hs_elf_symbol(e, "allocate_from_new_pool",
					       &sym, NULL),
			    "allocate_from_new_pool symbol");
		ASSERT_EQ(a.new_pool, sym, "new pool function");
		hs_elf_close(e);
	}
}

/*
 * A stripped copy of pyenv's 3.11 (no LTO): its allocator's functions are
 * static and their names are gone, so it cannot be traced by them; it
 * says why. (Its frames are still read: _PyRuntime is exported.)
 */
static void test_alloc_stripped(void)
{
	const char *path = pyenv_lib("3.11.7", "libpython3.11.so.1.0");
	char tmp[] = "/tmp/hs-pystrip-XXXXXX", cmd[PATH_MAX * 3];
	struct hs_pyalloc a;
	struct hs_elf *e;
	int fd = mkstemp(tmp);

	if (fd < 0 || access(path, R_OK)) {
		skip_reason = path;
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "objcopy --strip-all '%s' '%s'", path, tmp);
	if (!ASSERT_EQ(system(cmd), 0, "objcopy"))
		goto out;
	e = hs_elf_open(tmp);
	if (!ASSERT_TRUE(e != NULL, "open the stripped copy"))
		goto out;
	ASSERT_EQ(hs_pyalloc_read(e, &a), -1, "no allocator found");
	hs_elf_close(e);
	ASSERT_TRUE(!a.exact, "not exact");
	ASSERT_TRUE(strstr(a.why, "symbol table") != NULL, "why");
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
}

/* Debian's LTO build: pymalloc inlined, its slow path found from code. */
static void test_alloc_lto(void)
{
	struct hs_pyalloc a;

	if (!read_alloc("/usr/bin/python3.11", &a))
		return;
	ASSERT_TRUE(!a.exact, "not exact");
	ASSERT_TRUE(strstr(a.why, "inlined") != NULL, "why");
	ASSERT_TRUE(a.new_pool != 0, "new pool function");
	ASSERT_EQ(a.pool_size, 16384, "pool size");
}

int main(void)
{
	FILE *p = popen("pyenv root 2>/dev/null", "r");

	if (!p || !fgets(pyenv, sizeof(pyenv), p))
		snprintf(pyenv, sizeof(pyenv), "%s/.pyenv",
			 getenv("HOME") ? getenv("HOME") : "/root");
	if (p)
		pclose(p);
	pyenv[strcspn(pyenv, "\n")] = '\0';
	RUN_SKIPPABLE(test_pyenv_311);
	RUN_SKIPPABLE(test_pyenv_312);
	RUN_SKIPPABLE(test_pyenv_313_debug_offsets);
	RUN_SKIPPABLE(test_older_versions_named);
	RUN_SKIPPABLE(test_debian_python311);
	RUN_SKIPPABLE(test_not_python);
	RUN_SKIPPABLE(test_alloc_exact);
	RUN_SKIPPABLE(test_alloc_stripped);
	RUN_SKIPPABLE(test_alloc_lto);
	return TEST_EXIT();
}
