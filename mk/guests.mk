# Guest test images: filled in by testsuites/guest (see its README).
GUEST_BUILD := $(BUILD)/guest
guests:
