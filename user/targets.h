/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The processes to trace: validated pids, or a command started stopped. */
#ifndef HEAPSNAP_TARGETS_H
#define HEAPSNAP_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hs_target {
	pid_t pid;
	int pidfd; /* readable once the process has exited */
	char *command; /* its command line, space separated */
	bool exited;
	bool exec_pending; /* it called exec: drop its old image's blocks */
	bool child; /* started by us: reap it */
	int status; /* wait status of a child */
	char *exe; /* a command: the executable it runs; NULL for a pid */
};

/*
 * Checks that pid is a live user-space process we can trace. Returns 0, or
 * -1 with a one-line reason in err.
 */
int hs_target_check(pid_t pid, char *err, size_t errlen);

/* Opens a target for a running process; -1 with err on failure. */
int hs_target_open(struct hs_target *t, pid_t pid, char *err, size_t errlen);

/*
 * Checks that heapsnap can find the allocator of the target's executable:
 * a statically linked one must have a symbol table that defines malloc.
 * Returns 0 (also for a file that is not ELF, such as a script), or -1 with
 * a one-line reason in err.
 */
int hs_target_check_exe(const struct hs_target *t, char *err, size_t errlen);

/* Holds a spawned command before its exec. */
struct hs_gate {
	int release_fd; /* a byte written here lets it exec */
	int report_fd; /* gives its exec error, or EOF when exec worked */
};

/* Forks argv[0] held before exec; hs_target_release() lets it exec. */
int hs_target_spawn(struct hs_target *t, char *const *argv,
		    struct hs_gate *gate, char *err, size_t errlen);
/* Returns 0 once the command runs, or the negative errno of its exec. */
int hs_target_release(struct hs_gate *gate);

/* Notes that the target has exited; reaps it if it is our child. */
void hs_target_reap(struct hs_target *t);
void hs_target_close(struct hs_target *t);

/* "/proc/PID/cmdline" joined by spaces; NULL when unreadable. */
char *hs_read_cmdline(pid_t pid);

#endif
