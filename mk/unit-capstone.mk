# testsuites/unit/test_decode_capstone.c checks vp_decode against the
# Capstone disassembler (libcapstone-dev, installed by mk/deps.sh). Only
# that test's object and binary get Capstone's compile and link flags.
ifndef CAPSTONE_LIBS
CAPSTONE_CFLAGS := $(shell pkg-config --cflags capstone 2>/dev/null)
CAPSTONE_LIBS := $(shell pkg-config --libs capstone 2>/dev/null || echo -lcapstone)
endif

$(BUILD)/testsuites/unit/test_decode_capstone.o: CHECK_CFLAGS += $(CAPSTONE_CFLAGS)
$(BUILD)/unit/test_decode_capstone: CHECK_LIBS += $(CAPSTONE_LIBS)
