// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The bench's floor: empty programs on exactly heapsnap's probe points,
 * taking a return exactly where heapsnap does, and on the mmap domain's
 * tracepoints. What any uprobe tracer pays before it does anything.
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
	__u64 fn = HS_COOKIE_FN(bpf_get_attach_cookie(ctx));

	return entry_only || fn == HS_FN_FREE || fn == HS_FN_WRAPPER;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(hs_floor_sys_enter, struct pt_regs *regs, long nr)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(hs_floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
