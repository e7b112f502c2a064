# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# bpf -> skeleton -> user -> tests.   V=1 shows commands, SAN=1 builds the
# unit tests with ASan and UBSan, EXTRA_CFLAGS adds flags.

PREFIX ?= /usr/local
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BUILD := build
ifeq ($(SAN),1)
BUILD := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -fno-omit-frame-pointer -D_GNU_SOURCE -I$(BUILD) -Ibpf -Iuser \
	  $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(SANFLAGS)
LIBS := -lbpf -lelf -ldw -lzstd -ljson-c -lcapstone -lstdc++ -lz

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux -Ibpf \
	      -Wall -Werror

# Pure stages: no libbpf, no libdw, no root. The unit tests link only these.
PURE_SRCS := snapshot.c snapfile.c stats.c render.c
# Kernel-facing and symbolization stages.
TOOL_SRCS := main.c cmd_analyze.c record.c probes.c collect.c procmaps.c \
	     symbolize.c sideband.c snapbuild.c status.c targets.c

PURE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PURE_SRCS))
TOOL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TOOL_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

PROG_SRCS := $(wildcard tests/progs/*.c tests/progs/*.cc)

.PHONY: all clean deps test unit progs demo bench install fmt
all: heapsnap

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/heapsnap.bpf.o: bpf/heapsnap.bpf.c bpf/heapsnap.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/heapsnap.skel.h: $(BUILD)/heapsnap.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name heapsnap_bpf > $@

# Only the probe and collect stages see the skeleton.
$(BUILD)/probes.o $(BUILD)/collect.o $(BUILD)/record.o: $(BUILD)/heapsnap.skel.h

$(BUILD)/%.o: user/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

heapsnap: $(PURE_OBJS) $(TOOL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(PURE_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(PURE_OBJS) $(LDFLAGS) -ljson-c -lzstd -o $@

unit: $(UNIT_BINS)
	$(Q)scripts/run-tests --unit-only $(BUILD)/tests

progs:
	$(Q)$(MAKE) -s -C tests/progs

test: heapsnap $(UNIT_BINS) progs
	$(Q)scripts/run-tests $(BUILD)/tests

deps:
	$(Q)scripts/deps

demo: deps
	$(Q)$(MAKE) -s heapsnap progs
	$(Q)scripts/demo

bench: heapsnap
	$(Q)$(MAKE) -s -C bench
	$(Q)scripts/bench

install: heapsnap
	install -D -m 0755 heapsnap $(DESTDIR)$(PREFIX)/bin/heapsnap

fmt:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h tests/unit/*.c tests/progs/*.c

clean:
	$(Q)rm -rf build build-san heapsnap
	$(Q)$(MAKE) -s -C tests/progs clean

-include $(wildcard $(BUILD)/*.d)
