/* dev_exit16.c: QEMU's isa-debug-exit device (iobase 0xF4, iosize 4):
 * a 16-bit write at 0xF4 of 99 stops the machine with exit status
 * (99 << 1) | 1. Also: reads of the device and of the port 0xE9 debug
 * console.
 * engines: vanderpool qemu
 * qemu-args: -debugcon null
 * exit-code: 99
 *
 * QEMU hw/misc/debugexit.c behaviour as the test harnesses use it; the
 * port 0xE9 readback is the Bochs "port E9 hack" convention.
 */
#include "vp.h"

void test_main(void)
{
    report_eq("debug console reads 0xE9", inb(0xE9), 0xE9);
    outb(0xE9, '.');
    report_eq("debug-exit reads 0", inb(0xF4), 0);
    report_summary();
    outw(0xF4, 99);
    /* Still running: the write did not stop the machine. */
    vp_exit(1);
}
