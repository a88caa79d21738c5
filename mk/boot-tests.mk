# Loader test images: testsuites/guest/tests/loader_info.c linked for the
# boot protocols the standard guest build (mk/guests.mk, Multiboot 1 ELF32)
# does not cover. testsuites/harness/test_loaders.py runs them.
#
#   build/guest/loader_info-mb2.elf    Multiboot 2 header, ELF64
#   build/guest/loader_info-elf64.elf  no Multiboot header, entered in long mode
#   build/guest/loader_info-aout.bin   Multiboot 1 address fields, flat binary
#
# This file is read before mk/guests.mk, so the runtime's object list and
# tool variables appear only in recipes (expanded when they run); the link
# depends on the standard build's loader_info.elf64, which brings the test
# object and the runtime objects up to date.

LOADER_BUILD := $(BUILD)/guest
LOADER_SRC := testsuites/guest/boot
LOADER_LD := $(LOADER_SRC)/loader.ld
LOADER_IMAGES := $(LOADER_BUILD)/loader_info-mb2.elf \
    $(LOADER_BUILD)/loader_info-elf64.elf $(LOADER_BUILD)/loader_info-aout.bin
LOADER_LDFLAGS = -nostdlib -static -no-pie -z max-page-size=0x1000 \
    --build-id=none -z noexecstack --no-warn-rwx-segments -T $(LOADER_LD)
LOADER_BASE = $(LOADER_BUILD)/obj/tests/loader_info.c.o $(GUEST_RT_OBJS)

.PHONY: loader-images
loader-images: $(LOADER_IMAGES)
guests: $(LOADER_IMAGES)

$(LOADER_BUILD)/obj/loader/%.S.o: $(LOADER_SRC)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c -o $@ $<

$(LOADER_BUILD)/loader_info-mb2.elf: $(LOADER_BUILD)/obj/loader/loader_mb2.S.o \
        $(LOADER_BUILD)/loader_info.elf64 $(LOADER_LD)
	$(GUEST_LD) $(LOADER_LDFLAGS) -o $@ $< $(LOADER_BASE)

$(LOADER_BUILD)/loader_info-elf64.elf: $(LOADER_BUILD)/obj/loader/loader_elf64.S.o \
        $(LOADER_BUILD)/loader_info.elf64 $(LOADER_LD)
	$(GUEST_LD) $(LOADER_LDFLAGS) -e loader_start64 -o $@ $< $(LOADER_BASE)

$(LOADER_BUILD)/loader_info-aout.elf64: $(LOADER_BUILD)/obj/loader/loader_aout.S.o \
        $(LOADER_BUILD)/loader_info.elf64 $(LOADER_LD)
	$(GUEST_LD) $(LOADER_LDFLAGS) -o $@ $< $(LOADER_BASE)

$(LOADER_BUILD)/loader_info-aout.bin: $(LOADER_BUILD)/loader_info-aout.elf64
	$(GUEST_OBJCOPY) -O binary $< $@
