#!/bin/bash
# Installs the Debian packages Vanderpool's build and tests need, when run
# as root; otherwise prints the one apt-get command needed and fails.
set -e
PKGS="build-essential pkg-config check python3-pytest libcapstone-dev gdb
      qemu-system-x86 bochs bochsbios vgabios bochs-sdl seabios"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "vanderpool: missing packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "vanderpool: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
apt-get install -y -qq $missing >/dev/null || apt-get install -y $missing
