// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The bench's floor: empty programs on exactly heapsnap's probe points,
 * taking a return exactly where heapsnap does (the mmap domain's probes in
 * libc included). What any uprobe tracer pays before it does anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "heapsnap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Skip every return, as heapsnap's unsampled calls do. */
const volatile bool entry_only = false;

/* A session program, or a classic uprobe and uretprobe alike. */
SEC("uprobe")
int hs_floor(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), fn = HS_COOKIE_FN(cookie);

	if (fn == HS_FN_SYS_ENTRY)
		return entry_only || !(cookie & HS_COOKIE_SYS_RET);
	return entry_only || fn == HS_FN_FREE || fn == HS_FN_WRAPPER ||
	       fn == HS_FN_SYS_AFTER;
}
