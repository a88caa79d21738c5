/* tmp
 * engines: vanderpool qemu bochs
 */
#include "vp.h"
void test_main(void)
{
    struct cpuid_regs r = cpuid(0);
    char v[13];
    memcpy(v, &r.b, 4); memcpy(v + 4, &r.d, 4); memcpy(v + 8, &r.c, 4); v[12] = 0;
    printf("vendor %s sep %d syscall %x\n", v, (int)((cpuid(1).d >> 11) & 1), cpuid(0x80000001).d);
    report("x", true);
}
