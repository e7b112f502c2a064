// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The symbolizer against fixtures built by the Makefile into
 * $(BUILD)/tests/fixtures: libfix.so and libfix-clang.so (C, -g -O2, by gcc
 * and clang) are dlopened and their entry points record a return address and
 * the __LINE__ of each call, fixcc (C++, -no-pie) prints the same about
 * itself. Stripped, split and damaged copies must degrade or fail cleanly,
 * never crash.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "symbolize.h"
#include "test.h"

struct fix_site {
	void *ra;
	int line[3];
};

/* A return address in a fixture: its file offset and ELF address. */
struct site {
	uint64_t file_off, elf_addr;
	int line[3];
};

static char fixdir[PATH_MAX];
static char tmpdir[PATH_MAX];

static struct site plain, inline_a, inline_b, grow, op_new;
static struct site clang_plain, clang_inline_a, clang_inline_b;

static const char *fixture(const char *name)
{
	return path_in(fixdir, name);
}

static const char *base(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static uint64_t maps_file_off(void *addr)
{
	unsigned long a = (unsigned long)addr, start, end, off;
	char line[512];
	uint64_t res = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &off) == 3 &&
		    a >= start && a < end) {
			res = a - start + off;
			break;
		}
	}
	if (f)
		fclose(f);
	return res;
}

static int add(struct hs_symbolizer *sym, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), mod;

	if (fd < 0)
		return -errno;
	mod = hs_symbolizer_add_module(sym, path, fd);
	close(fd);
	return mod;
}

/* Runs the entry points of a libfix build dlopened in this process. */
static int record_lib(const char *lib, struct site *sites[3])
{
	const char *names[] = { "fix_plain", "fix_inline_a", "fix_inline_b" };
	void (*fn)(struct fix_site *);
	struct fix_site s;
	Dl_info info;
	void *h;
	int i;

	h = dlopen(fixture(lib), RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -1;
	for (i = 0; i < 3; i++) {
		fn = (void (*)(struct fix_site *))dlsym(h, names[i]);
		if (!fn)
			return -1;
		memset(&s, 0, sizeof(s));
		fn(&s);
		if (!dladdr(s.ra, &info))
			return -1;
		sites[i]->file_off = maps_file_off(s.ra);
		sites[i]->elf_addr =
			(uintptr_t)s.ra - (uintptr_t)info.dli_fbase;
		memcpy(sites[i]->line, s.line, sizeof(s.line));
	}
	return 0;
}

static int setup_sites(void)
{
	struct site *gcc[] = { &plain, &inline_a, &inline_b };
	struct site *clang[] = { &clang_plain, &clang_inline_a,
				 &clang_inline_b };
	unsigned long off, addr;
	struct site *site;
	char what[16];
	int line;
	FILE *p;

	if (record_lib("libfix.so", gcc) ||
	    record_lib("libfix-clang.so", clang))
		return -1;
	p = popen(fixture("fixcc"), "r");
	if (!p)
		return -1;
	while (fscanf(p, "%15s %lx %lx %d", what, &off, &addr, &line) == 4) {
		site = !strcmp(what, "grow") ? &grow : &op_new;
		site->file_off = off;
		site->elf_addr = addr;
		site->line[0] = line;
	}
	if (pclose(p) || !grow.file_off || !op_new.file_off)
		return -1;
	return 0;
}

static void check_frame(const struct hs_sym_frame *f, const char *function,
			const char *file, int line, bool inlined)
{
	ASSERT_STREQ(f->function, function, "function");
	ASSERT_STREQ(base(f->file), file, "file");
	ASSERT_EQ(f->line, line, "line");
	ASSERT_EQ(f->inlined, inlined, "inlined");
}

static void check_inline_chain(struct hs_symbolizer *sym, int mod,
			       const struct site *site, const char *outer)
{
	struct hs_sym_frame frames[8];
	uint64_t elf_addr = 0;
	int n;

	n = hs_symbolizer_resolve(sym, mod, site->file_off, &elf_addr, frames,
				  8);
	if (!ASSERT_EQ(n, 3, "inline frames"))
		return;
	ASSERT_EQ(elf_addr, site->elf_addr, "elf_addr");
	check_frame(&frames[0], "fix_leaf", "fix.c", site->line[0], true);
	check_frame(&frames[1], "fix_mid", "fix.c", site->line[1], true);
	check_frame(&frames[2], outer, "fix.c", site->line[2], false);
}

static void test_plain_call(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	uint64_t elf_addr = 0;
	int mod, n;

	mod = add(sym, fixture("libfix.so"));
	ASSERT_TRUE(mod >= 0, "add libfix.so");
	n = hs_symbolizer_resolve(sym, mod, plain.file_off, &elf_addr, frames,
				  8);
	if (ASSERT_EQ(n, 1, "frames")) {
		check_frame(&frames[0], "fix_plain", "fix.c", plain.line[0],
			    false);
		ASSERT_TRUE(frames[0].file[0] == '/', "absolute file name");
	}
	ASSERT_EQ(elf_addr, plain.elf_addr, "elf_addr");
	hs_symbolizer_free(sym);
}

static void test_inlined_chain(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	int mod = add(sym, fixture("libfix.so"));

	ASSERT_TRUE(inline_a.line[2] != inline_b.line[2], "distinct callers");
	check_inline_chain(sym, mod, &inline_a, "fix_inline_a");
	check_inline_chain(sym, mod, &inline_b, "fix_inline_b");
	hs_symbolizer_free(sym);
}

/* clang emits no .debug_aranges, which libdw 0.188 relies on. */
static void test_clang_no_aranges(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	int mod, n;

	mod = add(sym, fixture("libfix-clang.so"));
	ASSERT_TRUE(mod >= 0, "add libfix-clang.so");
	n = hs_symbolizer_resolve(sym, mod, clang_plain.file_off, NULL, frames,
				  8);
	if (ASSERT_EQ(n, 1, "frames"))
		check_frame(&frames[0], "fix_plain", "fix.c",
			    clang_plain.line[0], false);
	check_inline_chain(sym, mod, &clang_inline_a, "fix_inline_a");
	check_inline_chain(sym, mod, &clang_inline_b, "fix_inline_b");
	hs_symbolizer_free(sym);
}

static void test_cxx_demangled(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	uint64_t elf_addr = 0;
	int mod, n;

	mod = add(sym, fixture("fixcc"));
	ASSERT_TRUE(mod >= 0, "add fixcc");
	n = hs_symbolizer_resolve(sym, mod, grow.file_off, &elf_addr, frames,
				  8);
	if (ASSERT_EQ(n, 1, "grow frames"))
		check_frame(&frames[0], "fix::Widget::grow(fix_site*, int)",
			    "fixcc.cc", grow.line[0], false);
	/* ET_EXEC: the ELF address is the runtime address. */
	ASSERT_EQ(elf_addr, grow.elf_addr, "grow elf_addr");
	n = hs_symbolizer_resolve(sym, mod, op_new.file_off, &elf_addr, frames,
				  8);
	if (ASSERT_EQ(n, 1, "new frames"))
		check_frame(&frames[0], "operator new[](unsigned long)",
			    "fixcc.cc", op_new.line[0], false);
	ASSERT_EQ(elf_addr, op_new.elf_addr, "new elf_addr");
	hs_symbolizer_free(sym);
}

static void test_no_debuginfo(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	int mod, n;

	mod = add(sym, fixture("libfix-nodebug.so"));
	ASSERT_TRUE(mod >= 0, "add libfix-nodebug.so");
	n = hs_symbolizer_resolve(sym, mod, plain.file_off, NULL, frames, 8);
	if (ASSERT_EQ(n, 1, "plain frames"))
		check_frame(&frames[0], "fix_plain", NULL, 0, false);
	n = hs_symbolizer_resolve(sym, mod, inline_a.file_off, NULL, frames, 8);
	if (ASSERT_EQ(n, 1, "inlined frames"))
		check_frame(&frames[0], "fix_inline_a", NULL, 0, false);

	mod = add(sym, fixture("fixcc-nodebug"));
	ASSERT_TRUE(mod >= 0, "add fixcc-nodebug");
	n = hs_symbolizer_resolve(sym, mod, grow.file_off, NULL, frames, 8);
	if (ASSERT_EQ(n, 1, "grow frames"))
		check_frame(&frames[0], "fix::Widget::grow(fix_site*, int)",
			    NULL, 0, false);
	n = hs_symbolizer_resolve(sym, mod, op_new.file_off, NULL, frames, 8);
	if (ASSERT_EQ(n, 1, "new frames"))
		check_frame(&frames[0], "operator new[](unsigned long)", NULL,
			    0, false);
	hs_symbolizer_free(sym);
}

static void test_debuglink(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	int mod = add(sym, fixture("libfix-split.so"));

	ASSERT_TRUE(mod >= 0, "add libfix-split.so");
	check_inline_chain(sym, mod, &inline_a, "fix_inline_a");
	hs_symbolizer_free(sym);
}

/*
 * A container's module: its path is not ours, so the .gnu_debuglink next to
 * it is not followed; it symbolizes from its own symbol table only.
 */
static void test_foreign_no_debuglink(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	int fd, local, foreign, n;

	fd = open(fixture("libfix-split.so"), O_RDONLY | O_CLOEXEC);
	if (!ASSERT_TRUE(fd >= 0, "open libfix-split.so"))
		return;
	foreign = hs_symbolizer_add_module_flags(
		sym, fixture("libfix-split.so"), fd, HS_SYM_FOREIGN);
	local = hs_symbolizer_add_module(sym, fixture("libfix-split.so"), fd);
	ASSERT_TRUE(foreign >= 0 && local >= 0, "add both");
	ASSERT_TRUE(foreign != local, "one module per kind");
	n = hs_symbolizer_resolve(sym, foreign, inline_a.file_off, NULL, frames,
				  8);
	if (ASSERT_EQ(n, 1, "foreign frames"))
		check_frame(&frames[0], "fix_inline_a", NULL, 0, false);
	check_inline_chain(sym, local, &inline_a, "fix_inline_a");
	ASSERT_EQ(hs_symbolizer_add_module_flags(sym, "x", fd, 0x80), -EINVAL,
		  "unknown flag");
	close(fd);
	hs_symbolizer_free(sym);
}

/* Copies len bytes of from (all of it when len < 0) to the fd out. */
static int copy_to(const char *from, int out, off_t len)
{
	char buf[65536];
	size_t want;
	int in, ret = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
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
	return ret;
}

static int copy_file(const char *from, const char *to, off_t len)
{
	int out, ret;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -1;
	ret = copy_to(from, out, len);
	close(out);
	return ret;
}

static int build_id_hex(const char *path, char *hex, size_t size)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	const uint8_t *id;
	int len, i;

	len = hs_symbolizer_build_id(sym, add(sym, path), &id);
	for (i = 0; i < len && (size_t)(2 * i + 2) < size; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	hs_symbolizer_free(sym);
	return len > 0 ? 0 : -1;
}

/* The module without debug info or debuglink gets full DWARF from a
 * separate debug file found some other way (build-id dir, debuginfod). */
static void check_found_debuginfo(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	int mod = add(sym, fixture("libfix-stripped.so"));

	ASSERT_TRUE(mod >= 0, "add libfix-stripped.so");
	check_inline_chain(sym, mod, &inline_b, "fix_inline_b");
	ASSERT_EQ(hs_symbolizer_resolve(sym, mod, plain.file_off, NULL, frames,
					8),
		  1, "plain frames");
	ASSERT_EQ(frames[0].line, plain.line[0], "plain line");
	hs_symbolizer_free(sym);
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug, in a private mount namespace so
 * that nothing outside this process sees the file. */
static void test_build_id_dir(void)
{
	char hex[64], dir[PATH_MAX], name[80];
	int status;
	pid_t pid;

	if (!ASSERT_EQ(build_id_hex(fixture("libfix-stripped.so"), hex,
				    sizeof(hex)),
		       0, "build-id"))
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/usr/lib/debug", "tmpfs", 0, NULL))
			_exit(77);
		snprintf(dir, sizeof(dir), "/usr/lib/debug/.build-id/%.2s",
			 hex);
		snprintf(name, sizeof(name), "%s.debug", hex + 2);
		if (mkdir("/usr/lib/debug/.build-id", 0755) ||
		    mkdir(dir, 0755) ||
		    copy_file(fixture("libfix-split.debug"), path_in(dir, name),
			      -1))
			_exit(2);
		check_found_debuginfo();
		_exit(test_failed);
	}
	if (!ASSERT_TRUE(pid > 0, "fork"))
		return;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip_reason = "needs root and /usr/lib/debug";
	else
		ASSERT_EQ(status, 0, "child status");
}

/* Answers GET <want> with the file and anything else with 404. */
static void serve(int lfd, const char *want, const char *file)
{
	const char *not_found =
		"HTTP/1.1 404 Not Found\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n";
	char req[4096], hdr[256];
	struct stat st;
	ssize_t len, r;
	int c;

	while ((c = accept(lfd, NULL, NULL)) >= 0) {
		len = 0;
		while ((size_t)len < sizeof(req) - 1 &&
		       (r = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
			req[len += r] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (len > 4 && !strncmp(req + 4, want, strlen(want)) &&
		    req[4 + strlen(want)] == ' ' && !stat(file, &st)) {
			r = snprintf(
				hdr, sizeof(hdr),
				"HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
				"Connection: close\r\n\r\n",
				(long long)st.st_size);
			if (write(c, hdr, r) == r)
				copy_to(file, c, -1);
		} else if (write(c, not_found, strlen(not_found)) < 0) {
			_exit(1);
		}
		close(c);
	}
	_exit(0);
}

/* A local debuginfod server: libdwfl finds it through DEBUGINFOD_URLS. */
static void test_debuginfod(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);
	char hex[64], want[128], url[64];
	int lfd, status;
	pid_t server, pid;

	if (!dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD) &&
	    !dlopen("libdebuginfod.so.1", RTLD_LAZY)) {
		skip_reason = "libdebuginfod.so.1 is not installed";
		return;
	}
	if (!ASSERT_EQ(build_id_hex(fixture("libfix-stripped.so"), hex,
				    sizeof(hex)),
		       0, "build-id"))
		return;
	snprintf(want, sizeof(want), "/buildid/%s/debuginfo", hex);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_TRUE(
		    lfd >= 0 &&
			    !bind(lfd, (struct sockaddr *)&addr,
				  sizeof(addr)) &&
			    !listen(lfd, 8) &&
			    !getsockname(lfd, (struct sockaddr *)&addr, &alen),
		    "listen"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(addr.sin_port));
	fflush(NULL);
	server = fork();
	if (server == 0)
		serve(lfd, want, fixture("libfix-split.debug"));
	close(lfd);
	pid = fork();
	if (pid == 0) {
		setenv("DEBUGINFOD_URLS", url, 1);
		setenv("DEBUGINFOD_CACHE_PATH", path_in(tmpdir, "cache"), 1);
		setenv("DEBUGINFOD_TIMEOUT", "10", 1);
		unsetenv("http_proxy");
		unsetenv("HTTP_PROXY");
		check_found_debuginfo();
		_exit(test_failed);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	if (ASSERT_TRUE(pid > 0 && server > 0, "fork"))
		ASSERT_EQ(status, 0, "child status");
}

/*
 * Whatever add_module and resolve return on a damaged file, it must be an
 * error or a well-formed answer. Returns how many lookups found a function.
 */
static int poke(const char *path, bool must_fail)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	const struct site *sites[] = { &plain, &inline_a, &clang_inline_a,
				       &grow };
	struct hs_sym_frame frames[8];
	int mod, n, i, j, found = 0;
	const uint8_t *id;
	bool sane;

	mod = add(sym, path);
	if (must_fail)
		ASSERT_TRUE(mod < 0, path);
	for (i = 0; mod >= 0 && i < 4; i++) {
		n = hs_symbolizer_resolve(sym, mod, sites[i]->file_off, NULL,
					  frames, 8);
		ASSERT_TRUE(n < 0 ? n > -4096 : n >= 1 && n <= 8, path);
		for (j = 0; j < n; j++) {
			sane = (!frames[j].function ||
				strlen(frames[j].function) < 4096) &&
			       (!frames[j].file ||
				strlen(frames[j].file) < 4096);
			ASSERT_TRUE(sane, path);
		}
		found += n > 0 && frames[0].function;
	}
	if (mod >= 0)
		ASSERT_TRUE(hs_symbolizer_build_id(sym, mod, &id) >= 0, path);
	hs_symbolizer_free(sym);
	return found;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_truncated(void)
{
	const char *names[] = { "libfix.so", "libfix-clang.so", "fixcc",
				"libfix-split.so" };
	int i, fds = open_fds(), copies = 0, found = 0;
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
			found += poke(copy, len < 64);
			copies++;
		}
	}
	unlink(copy);
	ASSERT_EQ(open_fds(), fds, "descriptors leaked");
	printf("# %d truncated copies, %d lookups found a function\n", copies,
	       found);
}

static void test_garbage(void)
{
	char path[PATH_MAX], buf[8192];
	size_t i;
	int fd, fds = open_fds();

	strcpy(path, path_in(tmpdir, "garbage"));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	memcpy(buf, "\177ELF\2\1\1", 7);
	for (i = 0; i < 3; i++) {
		if (i == 2)
			memcpy(buf, "#!/bin/sh\nexit 0\n", 17);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			ASSERT_TRUE(write(fd, buf, i ? sizeof(buf) : 64) > 0,
				    "write");
			close(fd);
		}
		poke(path, true);
	}
	unlink(path);
	poke("/dev/null", true);
	poke(fixdir, true);
	ASSERT_EQ(open_fds(), fds, "descriptors leaked");
}

static void test_out_of_range(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	struct stat st;
	int mod = add(sym, fixture("libfix.so"));

	stat(fixture("libfix.so"), &st);
	ASSERT_EQ(hs_symbolizer_resolve(sym, mod, 1ULL << 40, NULL, frames, 8),
		  -ERANGE, "far offset");
	/* The section headers are at the end, in no loadable segment. */
	ASSERT_EQ(hs_symbolizer_resolve(sym, mod, st.st_size - 1, NULL, frames,
					8),
		  -ERANGE, "section headers");
	hs_symbolizer_free(sym);
}

static void test_unknown_address(void)
{
	const char *names[] = { "libfix.so", "libfix-nodebug.so" };
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame frames[8];
	uint64_t elf_addr;
	int i, mod;

	/* The ELF header: loaded, but no function or line covers it. */
	for (i = 0; i < 2; i++) {
		mod = add(sym, fixture(names[i]));
		ASSERT_EQ(hs_symbolizer_resolve(sym, mod, 0x10, &elf_addr,
						frames, 8),
			  1, names[i]);
		ASSERT_EQ(elf_addr, 0x10, "elf_addr");
		check_frame(&frames[0], NULL, NULL, 0, false);
	}
	hs_symbolizer_free(sym);
}

static void test_dedupe_and_build_id(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	const uint8_t *id, *id2;
	struct hs_sym_frame f;
	int a, b, c, fd;

	fd = open(fixture("libfix.so"), O_RDONLY | O_CLOEXEC);
	a = hs_symbolizer_add_module(sym, "/some/name/libfix.so", fd);
	close(fd);
	ASSERT_TRUE(a >= 0, "add");
	b = add(sym, fixture("libfix.so"));
	ASSERT_EQ(b, a, "same inode, same handle");
	c = add(sym, fixture("libfix-nodebug.so"));
	ASSERT_TRUE(c >= 0 && c != a, "other file, other handle");
	/* The caller's descriptor is closed: the module has its own. */
	ASSERT_EQ(hs_symbolizer_resolve(sym, a, plain.file_off, NULL, &f, 1), 1,
		  "resolve after close");
	ASSERT_EQ(hs_symbolizer_build_id(sym, a, &id), 20, "build-id length");
	ASSERT_EQ(hs_symbolizer_build_id(sym, c, &id2), 20, "copy build-id");
	ASSERT_TRUE(!memcmp(id, id2, 20), "strip keeps the build-id");
	ASSERT_EQ(hs_symbolizer_build_id(sym, 99, &id), -EINVAL, "bad handle");
	hs_symbolizer_free(sym);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cache_and_interning(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame a[8], b[8], c[8];
	int mod = add(sym, fixture("libfix.so")), i, n = 1000000;
	double t;

	ASSERT_EQ(
		hs_symbolizer_resolve(sym, mod, inline_a.file_off, NULL, a, 8),
		3, "first");
	ASSERT_EQ(
		hs_symbolizer_resolve(sym, mod, inline_a.file_off, NULL, b, 8),
		3, "cached");
	ASSERT_TRUE(!memcmp(a, b, sizeof(a[0]) * 3), "same frames");
	ASSERT_EQ(
		hs_symbolizer_resolve(sym, mod, inline_b.file_off, NULL, c, 8),
		3, "other");
	ASSERT_TRUE(a[0].function == c[0].function && a[0].file == c[0].file,
		    "interned strings");
	ASSERT_EQ(
		hs_symbolizer_resolve(sym, mod, inline_a.file_off, NULL, c, 1),
		1, "max 1");
	ASSERT_STREQ(c[0].function, "fix_leaf", "innermost kept");

	t = now();
	for (i = 0; i < n; i++)
		hs_symbolizer_resolve(sym, mod, inline_a.file_off, NULL, b, 8);
	printf("# cached lookup: %.0f ns\n", (now() - t) / n * 1e9);
	hs_symbolizer_free(sym);
}

static void test_bad_arguments(void)
{
	struct hs_symbolizer *sym = hs_symbolizer_new();
	struct hs_sym_frame f;
	int mod = add(sym, fixture("libfix.so"));

	ASSERT_EQ(hs_symbolizer_add_module(NULL, "x", 0), -EINVAL, "NULL sym");
	ASSERT_EQ(hs_symbolizer_add_module(sym, "x", -1), -EINVAL, "bad fd");
	ASSERT_EQ(hs_symbolizer_resolve(sym, mod + 1, plain.file_off, NULL, &f,
					1),
		  -EINVAL, "bad handle");
	ASSERT_EQ(hs_symbolizer_resolve(sym, -1, plain.file_off, NULL, &f, 1),
		  -EINVAL, "negative handle");
	ASSERT_EQ(hs_symbolizer_resolve(sym, mod, plain.file_off, NULL, &f, 0),
		  -EINVAL, "max 0");
	hs_symbolizer_free(sym);
	hs_symbolizer_free(NULL);
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
	/* Only test_debuginfod talks to a server, its own. */
	unsetenv("DEBUGINFOD_URLS");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 1;
	exe[n] = 0;
	snprintf(fixdir, sizeof(fixdir), "%s/fixtures", dirname(exe));
	snprintf(tmpdir, sizeof(tmpdir), "%s/hs-symbolize-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir) || setup_sites()) {
		printf("FAIL setup: fixtures in %s\n", fixdir);
		return 1;
	}

	RUN_TEST(test_plain_call);
	RUN_TEST(test_inlined_chain);
	RUN_TEST(test_clang_no_aranges);
	RUN_TEST(test_cxx_demangled);
	RUN_TEST(test_no_debuginfo);
	RUN_TEST(test_debuglink);
	RUN_TEST(test_foreign_no_debuglink);
	RUN_SKIPPABLE(test_build_id_dir);
	RUN_SKIPPABLE(test_debuginfod);
	RUN_TEST(test_truncated);
	RUN_TEST(test_garbage);
	RUN_TEST(test_out_of_range);
	RUN_TEST(test_unknown_address);
	RUN_TEST(test_dedupe_and_build_id);
	RUN_TEST(test_cache_and_interning);
	RUN_TEST(test_bad_arguments);

	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return TEST_EXIT();
}
