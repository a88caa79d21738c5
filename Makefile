# Vanderpool top-level build. Sources are found by wildcard: adding a .c file
# under emu/, frontend/ or testsuites/unit/ needs no edit here.
#
#   make            build build/vanderpool
#   make demo       install missing packages (as root), build, run the demo
#   make test       install missing packages, build, run every test tier
#   make asan       everything (tests included) with ASan + UBSan in build-asan/
#   make portable   the plain-C17 build (-DVP_PORTABLE), one guest run on it
#   make unit       libcheck unit tests only
#   make guests     guest test images only
#   make bench      benchmarks on Vanderpool, QEMU and Bochs (mk/bench.mk)
#   make fuzz-diff SEED=n COUNT=n   differential tester campaign

BUILD ?= build
CC ?= cc
CFLAGS_BASE := -std=c17 -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
    -Wno-unused-parameter -Wshadow -Wstrict-prototypes -I. -MMD -MP
# No SLP vectorization: GCC merges neighbouring 8-byte stores of CPU state
# (the lazy-flag operands, RIP and icount) into 16-byte ones, and the next
# handler's 8-byte loads of them then miss store forwarding (~20% on alu
# when it was measured).
OPT ?= -O2 -g -fno-tree-slp-vectorize
SAN ?=
CFLAGS += $(CFLAGS_BASE) $(OPT) $(SAN)
LDFLAGS += $(SAN)

EMU_SRCS := $(sort $(shell find emu -name '*.c'))
FRONT_SRCS := $(sort $(wildcard frontend/*.c))
UNIT_SRCS := $(sort $(wildcard testsuites/unit/test_*.c))
UNIT_LIB_SRCS := $(sort $(wildcard testsuites/unit/lib/*.c))

EMU_OBJS := $(EMU_SRCS:%.c=$(BUILD)/%.o)
FRONT_OBJS := $(FRONT_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
UNIT_LIB_OBJS := $(UNIT_LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:testsuites/unit/%.c=$(BUILD)/unit/%)

LIBVP := $(BUILD)/libvp.a
VANDERPOOL := $(BUILD)/vanderpool

# Capstone disassembles instruction traces in the frontend's trace sink;
# the library (emu/) never uses it.
CAPSTONE_CFLAGS := $(shell pkg-config --cflags capstone 2>/dev/null)
CAPSTONE_LIBS := $(shell pkg-config --libs capstone 2>/dev/null || echo -lcapstone)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

PYTHON := /usr/bin/python3

.PHONY: all demo test asan asan-bin portable unit run-unit guests deps clean

all: $(VANDERPOOL)

$(LIBVP): $(EMU_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(VANDERPOOL): $(FRONT_OBJS) $(LIBVP)
	$(CC) $(LDFLAGS) -o $@ $(FRONT_OBJS) $(LIBVP) $(CAPSTONE_LIBS) -lm

$(FRONT_OBJS): CFLAGS += $(CAPSTONE_CFLAGS)

$(BUILD)/testsuites/unit/%.o: testsuites/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: $(BUILD)/testsuites/unit/%.o $(UNIT_LIB_OBJS) $(LIBVP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_LIB_OBJS) $(LIBVP) $(CHECK_LIBS) -lm

# Runs every unit-test binary; each prints libcheck's summary line.
run-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

include $(sort $(wildcard mk/*.mk))

deps:
	@bash mk/deps.sh

unit: run-unit

demo: deps
	@$(MAKE) --no-print-directory $(VANDERPOOL) guests
	@# The demo ends through isa-debug-exit with code 0: status 1.
	$(VANDERPOOL) run $(GUEST_BUILD)/demo.elf; test $$? -eq 1

test: deps
	@$(MAKE) --no-print-directory all guests
	@$(MAKE) --no-print-directory run-unit
	@$(MAKE) --no-print-directory portable
	@$(MAKE) --no-print-directory asan-bin
	$(PYTHON) -m pytest -q testsuites/harness

# The plain-C17 build (-DVP_PORTABLE: no GNU extensions), checked by
# running one guest test on it.
portable: guests
	$(MAKE) BUILD=build-portable OPT="-O2 -DVP_PORTABLE" build-portable/vanderpool
	build-portable/vanderpool run --serial null $(GUEST_BUILD)/exceptions.elf; \
	    test $$? -eq 1 && echo "portable build: exceptions guest passed"

ASAN_VARS := BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

# The sanitized emulator alone: the harness runs its command-line and
# bad-input tests on it too when it exists (make test builds it).
asan-bin:
	$(MAKE) $(ASAN_VARS) build-asan/vanderpool

asan:
	$(MAKE) $(ASAN_VARS) build-asan/vanderpool run-unit

clean:
	rm -rf build build-asan build-portable

-include $(EMU_OBJS:.o=.d) $(FRONT_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(UNIT_LIB_OBJS:.o=.d)
.SECONDARY:
