# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# bpf -> skeleton -> user -> tests.   V=1 shows commands, SAN=1 builds
# heapsnap and the tests with ASan and UBSan, EXTRA_CFLAGS adds flags,
# ALLOW_SKIP=1 lets make test pass with end-to-end tests skipped. The tests
# and the demo's recording run as root: through sudo when make is not root.

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
# ASan's runtime linked in (clang's default): as a shared library it refuses
# to start behind one in LD_PRELOAD, which heapsnap hands on to its command
LDFLAGS += $(if $(findstring clang,$(CC)),,-static-libasan)
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -fno-omit-frame-pointer -D_GNU_SOURCE -I$(BUILD) -Ibpf -Iuser \
	  $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(SANFLAGS)
LIBS := -lbpf -lelf -ldw -lzstd -ljson-c -lcapstone -lprotobuf-c -lstdc++ -lz -lm
LIBS += $(shell pkg-config --libs libcurl)

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux -Ibpf \
	      -Wall -Werror

# Pure stages: no libbpf, no libdw, no root. The unit tests link only these.
PURE_SRCS := snapshot.c snapfile.c snapfile_payload.c snapfile_unwind.c render_unwind.c stats.c render.c sampling.c placement.c sysplace.c mmapdom.c \
	     export.c flamegraph.c allocators.c live_render.c
# Unwind tables from call-frame information (libdw), and symbolization.
CFI_SRCS := cfi.c cfi_source.c cfi_fde.c cfi_rows.c cfi_pack.c
SYM_SRCS := symbolize.c sym_module.c sym_lookup.c sym_strings.c
# Kernel-facing and symbolization stages.
TOOL_SRCS := main.c cmd_analyze.c cmd_export.c record.c record_bpf.c record_procs.c \
	     record_gone.c \
	     record_snap.c probes.c probes_attach.c links.c bpfload.c collect.c \
	     livetable.c procmaps.c $(CFI_SRCS) $(SYM_SRCS) sideband.c snapbuild.c \
	     status.c targets.c discover.c \
	     unwind.c unwind_loader.c live.c

# info --plot (the series and the chart) and progress lines: pure.
PURE_SRCS += progress.c series.c plot.c

# The aggregation stage under stats, exports and flame graphs; the parts of
# those, and of rendering, that have files of their own.
PURE_SRCS += aggregate.c stats_key.c pprof.c flamegraph_svg.c render_stats.c

# Snapshot files written as they are made, and their checksum.
PURE_SRCS += snapwrite.c crc32c.c

# Arrays grown by doubling, for every stage.
PURE_SRCS += grow.c
# The clocks, for every stage.
PURE_SRCS += clock.c
TOOL_SRCS += cmd_plot.c

# record --push: the backend's naming rules (pure), its HTTP client (libcurl).
PURE_SRCS += pushname.c
TOOL_SRCS += push.c record_push.c

# The moment of a snapshot: the live set when its read began.
TOOL_SRCS += readcut.c

# The layer under the commands: errors, options, snapshot loading, the hint
# of a query that kept nothing (pure).
PURE_SRCS += cli.c cli_hint.c
TOOL_SRCS += record_opts.c

# Python targets: CPython code objects and strs, decoded (pure); which
# files are CPython and how their runtime is laid out (libelf).
PURE_SRCS += pycode.c pyframes.c
TOOL_SRCS += elffile.c pylayout.c pyalloc.c pytarget.c pyprocs.c entrystop.c

PURE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PURE_SRCS)) $(BUILD)/profile.pb-c.o
TOOL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TOOL_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

PROG_SRCS := $(wildcard tests/progs/*.c tests/progs/*.cc)

.PHONY: all clean deps test unit progs demo bench install uninstall fmt
all: heapsnap

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

# heapsnap.bpf.c over its parts (bpf/*.bpf.h); floor.bpf.c, the bench's.
BPF_PARTS := bpf/heapsnap.h $(wildcard bpf/*.bpf.h)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_PARTS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

.PRECIOUS: $(BUILD)/%.bpf.o $(BUILD)/%.skel.h $(BUILD)/tests/%.bpf.o \
	   $(BUILD)/tests/%.skel.h
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The pprof message code, generated from our proto/profile.proto.
$(BUILD)/%.pb-c.c $(BUILD)/%.pb-c.h: proto/%.proto | $(BUILD)
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --c_out=$(BUILD) --proto_path=proto $<

$(BUILD)/profile.pb-c.o: $(BUILD)/profile.pb-c.c $(BUILD)/profile.pb-c.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/pprof.o: $(BUILD)/profile.pb-c.h

# Only the loader and the collect stages see the skeleton.
$(BUILD)/bpfload.o $(BUILD)/collect.o $(BUILD)/livetable.o $(BUILD)/record.o $(BUILD)/record_bpf.o \
	$(BUILD)/unwind.o: $(BUILD)/heapsnap.skel.h

# Only the probe and collect stages see the skeleton.
$(BUILD)/probes.o $(BUILD)/collect.o $(BUILD)/livetable.o $(BUILD)/record.o $(BUILD)/record_bpf.o \
	$(BUILD)/unwind.o $(BUILD)/pyprocs.o $(BUILD)/readcut.o: $(BUILD)/heapsnap.skel.h

$(BUILD)/%.o: user/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

heapsnap: $(PURE_OBJS) $(TOOL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(PURE_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(PURE_OBJS) $(LDFLAGS) -ljson-c -lzstd -lcapstone -lprotobuf-c -lz -lm -o $@

# test_symbolize links libdw and reads ELF fixtures: built -g -O2 (by gcc,
# and by clang, which emits no .debug_aranges), then copies without debug
# info, split with a debuglink, and fully stripped.
FIX := $(BUILD)/tests/fixtures
FIX_BINS := $(addprefix $(FIX)/,libfix.so libfix-nodebug.so libfix-split.so \
	    libfix-stripped.so libfix-clang.so fixcc fixcc-nodebug)

$(FIX)/libfix.so: tests/unit/fixtures/fix.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -g -O2 -fPIC -shared -Wl,--build-id $< -o $@

$(FIX)/libfix-clang.so: tests/unit/fixtures/fix.c
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) -g -O2 -fPIC -shared $< -o $@

$(FIX)/fixcc: tests/unit/fixtures/fixcc.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D) && $(CXX) -g -O2 -no-pie -Wl,--build-id $< -o $@

$(FIX)/libfix-nodebug.so: $(FIX)/libfix.so
	$(Q)objcopy --strip-debug $< $@

$(FIX)/fixcc-nodebug: $(FIX)/fixcc
	$(Q)objcopy --strip-debug $< $@

$(FIX)/libfix-stripped.so: $(FIX)/libfix.so
	$(Q)objcopy --strip-all $< $@

$(FIX)/libfix-split.so: $(FIX)/libfix.so
	$(Q)objcopy --only-keep-debug $< $(FIX)/libfix-split.debug
	$(Q)objcopy --strip-debug --add-gnu-debuglink=$(FIX)/libfix-split.debug $< $@

SYM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SYM_SRCS))
$(BUILD)/tests/test_symbolize: tests/unit/test_symbolize.c tests/unit/test.h \
			       $(SYM_OBJS) $(BUILD)/grow.o $(FIX_BINS) \
			       | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(SYM_OBJS) \
		$(BUILD)/grow.o $(LDFLAGS) \
		-ldw -lelf -lstdc++ -o $@

# test_cfi compares unwind tables with readelf's: one C file built -O2
# without and with frame pointers, by clang, and with .debug_frame only
# (also compressed, and split out to a debug file); copies without
# .eh_frame, and a library linked above 4 GiB.
CFI_FIX := $(addprefix $(FIX)/,cfi-nofp cfi-fp cfi-clang cfi-debugframe \
	   cfi-zdebug cfi-split cfi-noeh libcfi-high.so)
CFI_FIX_FLAGS := -g -O2 -Wl,-z,lazy -Wl,--build-id

$(FIX)/cfi-nofp: tests/unit/fixtures/cfi_fix.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFI_FIX_FLAGS) -fomit-frame-pointer $< -o $@

$(FIX)/cfi-fp: tests/unit/fixtures/cfi_fix.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFI_FIX_FLAGS) -fno-omit-frame-pointer $< -o $@

$(FIX)/cfi-clang: tests/unit/fixtures/cfi_fix.c
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(CFI_FIX_FLAGS) -fomit-frame-pointer $< -o $@

$(FIX)/cfi-debugframe: tests/unit/fixtures/cfi_fix.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFI_FIX_FLAGS) -fomit-frame-pointer \
		-fno-asynchronous-unwind-tables -fno-unwind-tables $< -o $@

$(FIX)/libcfi-high.so: tests/unit/fixtures/cfi_fix.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -fPIC -shared \
		-Wl,-Ttext-segment=0x100000000 $< -o $@

$(FIX)/cfi-zdebug: $(FIX)/cfi-debugframe
	$(Q)objcopy --compress-debug-sections=zlib $< $@

$(FIX)/cfi-split: $(FIX)/cfi-debugframe
	$(Q)objcopy --only-keep-debug $< $(FIX)/cfi-split.debug
	$(Q)objcopy --strip-debug $< $@

$(FIX)/cfi-noeh: $(FIX)/cfi-nofp
	$(Q)objcopy --remove-section .eh_frame --remove-section .eh_frame_hdr $< $@

CFI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CFI_SRCS))
$(BUILD)/tests/test_cfi: tests/unit/test_cfi.c tests/unit/test.h $(CFI_OBJS) \
			 $(BUILD)/grow.o $(CFI_FIX) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(CFI_OBJS) $(BUILD)/grow.o \
		$(LDFLAGS) -ldw -lelf \
		-o $@

# The verifier test loads the BPF objects as record and the bench load them.
VERIFIER_OBJS := $(addprefix $(BUILD)/,bpfload.o links.o sampling.o grow.o \
		 bench/floorbpf.o)

$(BUILD)/tests/test_verifier: tests/unit/test_verifier.c tests/unit/test.h \
			      $(VERIFIER_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Ibench $< $(VERIFIER_OBJS) \
		$(LDFLAGS) -lbpf -lelf -lz -lm -o $@

# test_bpf_sampler runs the sampler part in a program of its own.
$(BUILD)/tests/%.bpf.o: tests/unit/%.bpf.c $(BPF_PARTS) | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.skel.h: $(BUILD)/tests/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/tests/test_bpf_sampler: tests/unit/test_bpf_sampler.c tests/unit/test.h \
				 $(BUILD)/tests/sampler_test.skel.h \
				 $(BUILD)/sampling.o $(BUILD)/snapshot.o $(BUILD)/grow.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -I$(BUILD)/tests $< $(BUILD)/sampling.o \
		$(BUILD)/snapshot.o $(BUILD)/grow.o $(LDFLAGS) -lbpf -lelf -lz \
		-lm -o $@

PY_FILE_OBJS := $(addprefix $(BUILD)/,pylayout.o pyalloc.o elffile.o \
		allocators.o grow.o)
# test_pylayout reads the CPython builds of the machine (pyenv's, Debian's).
$(BUILD)/tests/test_pylayout: tests/unit/test_pylayout.c tests/unit/test.h \
			      $(PY_FILE_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(PY_FILE_OBJS) $(LDFLAGS) \
		-lelf -lcapstone -o $@

unit: $(UNIT_BINS)
	$(Q)scripts/run-tests --unit-only $(BUILD)/tests

progs:
	$(Q)$(MAKE) -s -C tests/progs

test: heapsnap $(UNIT_BINS) progs $(BUILD)/tools/snaptool
	$(Q)$(MAKE) -s fuzz >/dev/null 2>&1 || \
		echo "fuzz targets not built (clang with libFuzzer?): make fuzz"
	$(Q)$(if $(ALLOW_SKIP),scripts/run-tests --allow-skip,scripts/asroot scripts/run-tests) $(BUILD)/tests

deps:
	$(Q)scripts/deps

$(BUILD)/demo/server: demo/server.c
	$(Q)mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls $< -o $@

demo: deps
	$(Q)$(MAKE) -s heapsnap $(BUILD)/demo/server
	$(Q)scripts/demo

bench: heapsnap $(BUILD)/bench/floor progs
	$(Q)$(MAKE) -s -C bench
	$(Q)scripts/bench $(BENCH_ARGS)

# The bench's floor: its own BPF object, attached by record's discovery.
FLOOR_OBJS := $(addprefix $(BUILD)/,bench/floor.o bench/floorbpf.o discover.o \
	      procmaps.o probes.o probes_attach.o links.o placement.o sysplace.o \
	      allocators.o targets.o grow.o pytarget.o pylayout.o pyalloc.o \
	      elffile.o)

$(BUILD)/bench/%.o: bench/%.c $(BUILD)/floor.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Ibench -MMD -MP -c $< -o $@

$(BUILD)/bench/floor: $(FLOOR_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -lbpf -lelf -lcapstone -o $@

MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALLED := $(DESTDIR)$(PREFIX)/bin/heapsnap $(DESTDIR)$(MANDIR)/man1/heapsnap.1 \
	     $(DESTDIR)$(BASHCOMPDIR)/heapsnap

install: heapsnap
	install -D -m 0755 heapsnap $(DESTDIR)$(PREFIX)/bin/heapsnap
	install -D -m 0644 man/heapsnap.1 $(DESTDIR)$(MANDIR)/man1/heapsnap.1
	install -D -m 0644 completion/heapsnap.bash $(DESTDIR)$(BASHCOMPDIR)/heapsnap

uninstall:
	rm -f $(INSTALLED)

fmt:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h tests/unit/*.c tests/progs/*.c

# libFuzzer targets for every reader entry point (clang, ASan, UBSan):
# "make fuzz" builds them, "make fuzz-run FUZZ_SECONDS=N" runs each for N
# seconds from the seed corpus in tests/fuzz/corpus/TARGET; what they find
# goes to build-fuzz/corpus/TARGET and build-fuzz/crash-*.
FUZZ := build-fuzz
FUZZ_TARGETS := fuzz_parse fuzz_analyze fuzz_payload
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror \
	       -Wno-missing-field-initializers -D_GNU_SOURCE -Ibpf -Iuser \
	       -Itests/fuzz -fno-omit-frame-pointer \
	       -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The reader and the analysis: what a snapshot file reaches.
READER_SRCS := snapshot.c snapfile.c snapfile_payload.c snapfile_unwind.c render_unwind.c stats.c render.c grow.c \
	       aggregate.c stats_key.c render_stats.c
READER_SRCS += snapwrite.c crc32c.c
FUZZ_OBJS := $(patsubst %.c,$(FUZZ)/%.o,$(READER_SRCS)) $(FUZZ)/fuzz_common.o
FUZZ_BINS := $(addprefix $(FUZZ)/,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-run
.SECONDARY: $(FUZZ_OBJS)
fuzz: $(FUZZ_BINS)

$(FUZZ)/%.o: user/%.c | $(FUZZ)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ)/fuzz_common.o: tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h | $(FUZZ)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< $(FUZZ_OBJS) \
		-ljson-c -lzstd -lm -o $@

$(FUZZ):
	$(Q)mkdir -p $@

# Wraps and unwraps payloads for the malformed-file tests; writes the seeds.
SNAPTOOL := $(BUILD)/tools/snaptool
READER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(READER_SRCS))
$(SNAPTOOL): tests/fuzz/snaptool.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h \
	     $(wildcard user/*.h) \
	     $(READER_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Itests/fuzz $< \
		tests/fuzz/fuzz_common.c $(READER_OBJS) $(LDFLAGS) -ljson-c \
		-lzstd -lm -o $@

fuzz-run: $(FUZZ_BINS)
	$(Q)scripts/fuzz-run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

-include $(wildcard $(FUZZ)/*.d)

clean:
	$(Q)rm -rf build build-san build-fuzz heapsnap
	$(Q)$(MAKE) -s -C tests/progs clean

-include $(wildcard $(BUILD)/*.d $(BUILD)/bench/*.d)
