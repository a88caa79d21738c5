# Differential tester (testsuites/difftest/README.md): random instruction
# sequences run natively in ring 3 on the host CPU and in Vanderpool's core
# (libvp.a), compared register by register. x86-64 Linux hosts only.
#
#   make difftest                      build build/difftest
#   make fuzz-diff SEED=7 COUNT=5000000
#                                      a longer campaign; on a mismatch it
#                                      prints a minimised reproducer
#   make fuzz-diff ... DIFFTEST_ARGS="--mode 32 --only 'shift*'"
#
# `make test` runs a fixed-seed sample through
# testsuites/harness/test_difftest.py. Only this binary links Capstone (for
# the reproducer's disassembly).

DIFFTEST := $(BUILD)/difftest
DIFFTEST_SRCS := $(sort $(wildcard testsuites/difftest/*.c))
DIFFTEST_OBJS := $(DIFFTEST_SRCS:%.c=$(BUILD)/%.o) \
    $(BUILD)/testsuites/difftest/native_entry.o
SEED ?= 1
COUNT ?= 1000000
DIFFTEST_ARGS ?=

.PHONY: difftest fuzz-diff

difftest: $(DIFFTEST)

$(BUILD)/testsuites/difftest/%.o: CFLAGS += $(CAPSTONE_CFLAGS)

$(BUILD)/testsuites/difftest/native_entry.o: testsuites/difftest/native_entry.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

$(DIFFTEST): $(DIFFTEST_OBJS) $(LIBVP)
	$(CC) $(LDFLAGS) -o $@ $(DIFFTEST_OBJS) $(LIBVP) $(CAPSTONE_LIBS) -lm

fuzz-diff: $(DIFFTEST)
	$(DIFFTEST) --seed $(SEED) --count $(COUNT) --keep-going 5 $(DIFFTEST_ARGS)

-include $(DIFFTEST_OBJS:.o=.d)
