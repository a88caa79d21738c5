# Guest test images: every testsuites/guest/tests/<name>.c becomes
#   build/guest/<name>.elf   Multiboot 1 kernel (ELF32 wrapper of 64-bit code)
#   build/guest/<name>.img   BIOS-bootable disk image (for Bochs)
# plus build/guest/demo.elf from testsuites/guest/demo/demo.c.
# Companion assembly: tests/<name>.S and tests/<name>_*.S link into <name>.
# See testsuites/guest/README.md.

GUEST_BUILD := $(BUILD)/guest
GUEST_DIR := testsuites/guest
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_OBJCOPY ?= objcopy

GUEST_CFLAGS := -std=c17 -m64 -ffreestanding -fno-pic -fno-pie -mno-red-zone \
    -mgeneral-regs-only -mcmodel=small -fno-stack-protector -fno-builtin \
    -fno-asynchronous-unwind-tables -fcf-protection=none -fno-omit-frame-pointer \
    -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
    -Wstrict-prototypes -I$(GUEST_DIR)/runtime -MMD -MP
GUEST_ASFLAGS := -m64 -fno-pic -fno-pie -I$(GUEST_DIR)/runtime -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 \
    --build-id=none -z noexecstack --no-warn-rwx-segments -T $(GUEST_DIR)/runtime/link.ld

GUEST_RT_SRCS := $(sort $(wildcard $(GUEST_DIR)/runtime/*.c $(GUEST_DIR)/runtime/*.S))
GUEST_RT_OBJS := $(GUEST_RT_SRCS:$(GUEST_DIR)/%=$(GUEST_BUILD)/obj/%.o)
GUEST_TESTS := $(sort $(basename $(notdir $(wildcard $(GUEST_DIR)/tests/*.c))))
GUEST_ELFS := $(GUEST_TESTS:%=$(GUEST_BUILD)/%.elf) $(GUEST_BUILD)/demo.elf
GUEST_IMGS := $(GUEST_TESTS:%=$(GUEST_BUILD)/%.img) $(GUEST_BUILD)/demo.img
GUEST_BOOTSECT := $(GUEST_BUILD)/boot/bootsect.bin
GUEST_MKIMG := $(GUEST_DIR)/tools/mkimg.py

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_IMGS)

$(GUEST_BUILD)/obj/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_BUILD)/obj/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c -o $@ $<

# One link rule per test: its .c, its companion .S files, the runtime.
define guest_link_rule
$(GUEST_BUILD)/$(1).elf64: $(2) $(GUEST_RT_OBJS) $(GUEST_DIR)/runtime/link.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $$@ $(2) $(GUEST_RT_OBJS)
endef
guest_test_objs = $(GUEST_BUILD)/obj/tests/$(1).c.o \
    $(patsubst $(GUEST_DIR)/%,$(GUEST_BUILD)/obj/%.o,\
        $(wildcard $(GUEST_DIR)/tests/$(1).S $(GUEST_DIR)/tests/$(1)_*.S))
$(foreach t,$(GUEST_TESTS),$(eval $(call guest_link_rule,$(t),$(call guest_test_objs,$(t)))))
$(eval $(call guest_link_rule,demo,$(GUEST_BUILD)/obj/demo/demo.c.o))

# QEMU's multiboot loader refuses ELF64: same code, ELF32 container.
$(GUEST_BUILD)/%.elf: $(GUEST_BUILD)/%.elf64
	$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(GUEST_BUILD)/%.img: $(GUEST_BUILD)/%.elf64 $(GUEST_BOOTSECT) $(GUEST_MKIMG)
	$(PYTHON) $(GUEST_MKIMG) $(GUEST_BOOTSECT) $< $@

# The boot sector: 16-bit code in an x86-64 object, linked flat at 0x7C00.
$(GUEST_BOOTSECT): $(GUEST_BUILD)/obj/boot/bootsect.S.o
	@mkdir -p $(dir $@)
	$(GUEST_LD) -nostdlib -static -Ttext=0x7C00 -e _start --oformat=binary -o $@ $<

-include $(wildcard $(GUEST_BUILD)/obj/*/*.d $(GUEST_BUILD)/obj/*/*/*.d)
