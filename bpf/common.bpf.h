/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What every part of the programs starts from: the kernel's types, libbpf's
 * helpers, the types shared with user space, and the global counters.
 */
#ifndef HEAPSNAP_COMMON_BPF_H
#define HEAPSNAP_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "heapsnap.h"

#define HS_EEXIST 17

/* Losses that cannot be charged to a process, and the spill map's size. */
struct hs_global_val global;

#endif
