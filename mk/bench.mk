# Benchmark guests (docs/bench.md): every testsuites/bench/<name>.c except
# common.c, linked with common.c and the guest runtime, becomes
#   build/bench/<name>.elf   Multiboot 1 kernel (Vanderpool, qemu -kernel)
#   build/bench/<name>.img   BIOS-bootable disk image (Bochs)
# with the compiler, flags, linker script, boot block and image tool of
# mk/guests.mk.
#
#   make bench                   build, run every benchmark on Vanderpool,
#                                QEMU (TCG) and Bochs, print the table
#   make bench BENCH_RUNS=1      one run per engine and benchmark (quick)
#   make bench BENCH_ONLY="alu branch" BENCH_ENGINES=vanderpool,qemu
#   make bench-images            build the images only
# memchase's chase also runs natively (testsuites/bench/host), printed
# beside the table: the floor host memory sets for it.
#
# Not part of `make test`: benchmarks are not tests.
#
# This file is read before mk/guests.mk, so its variables appear only in
# recipes (expanded when they run). The link depends on the standard
# build's demo.elf64, which brings the runtime objects up to date, as
# mk/boot-tests.mk does.

BENCH_DIR := testsuites/bench
BENCH_BUILD := $(BUILD)/bench
BENCH_NAMES := $(filter-out common,$(sort $(basename $(notdir $(wildcard $(BENCH_DIR)/*.c)))))
BENCH_ELFS := $(BENCH_NAMES:%=$(BENCH_BUILD)/%.elf)
BENCH_IMGS := $(BENCH_NAMES:%=$(BENCH_BUILD)/%.img)
BENCH_RUNS ?= 3
BENCH_ONLY ?=
BENCH_ENGINES ?= vanderpool,qemu,bochs

.PHONY: bench bench-images
bench-images: $(BENCH_ELFS) $(BENCH_IMGS)

bench: $(VANDERPOOL) bench-images $(BENCH_BUILD)/memchase_native
	$(PYTHON) $(BENCH_DIR)/run.py --build $(BUILD) --runs $(BENCH_RUNS) \
	    --engines $(BENCH_ENGINES) --native $(BENCH_BUILD)/memchase_native \
	    $(BENCH_ONLY)

# memchase's pointer chase as a host program: the floor host memory sets.
$(BENCH_BUILD)/memchase_native: $(BENCH_DIR)/host/memchase_native.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(BENCH_BUILD)/obj/%.c.o: $(BENCH_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -I$(BENCH_DIR) -c -o $@ $<

$(BENCH_BUILD)/%.elf64: $(BENCH_BUILD)/obj/%.c.o $(BENCH_BUILD)/obj/common.c.o \
        $(BUILD)/guest/demo.elf64 testsuites/guest/runtime/link.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(BENCH_BUILD)/obj/common.c.o $(GUEST_RT_OBJS)

# ELF32 container for QEMU's multiboot loader, as in mk/guests.mk.
$(BENCH_BUILD)/%.elf: $(BENCH_BUILD)/%.elf64
	$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(BENCH_BUILD)/%.img: $(BENCH_BUILD)/%.elf64 $(BUILD)/guest/boot/bootsect.bin \
        testsuites/guest/tools/mkimg.py
	$(PYTHON) $(GUEST_MKIMG) $(GUEST_BOOTSECT) $< $@

-include $(wildcard $(BENCH_BUILD)/obj/*.d)
