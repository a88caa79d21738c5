/* sys_smoke.c: temporary.
 * engines: vanderpool qemu bochs
 */
#include "sys_lib.h"
extern char sm_ret[], sm_user[];
static void u_fn(void *p) { *(volatile int *)p = 42; }
void test_main(void)
{
    sys_init();
    struct x32 r = {.fn = addr32(sm_ret), .eax = 5};
    int v = x32_run(&r);
    report_eq("x32 ring0 vec", (uint64_t)(int64_t)v, (uint64_t)-1);
    report_eq("x32 ring0 eax", r.eax, 6);
    struct x32 u = {.fn = addr32(sm_user), .eax = 7};
    v = x32_run_user(&u);
    report_eq("x32 ring3 vec", (uint64_t)(int64_t)v, (uint64_t)-1);
    report_eq("x32 ring3 eax", u.eax, 8);
    report_eq("x32 ring3 cs", pm32_last.cs, 0x43);
    volatile int x = 0;
    v = user64_call(u_fn, (void *)&x);
    report_eq("u64 vec", (uint64_t)(int64_t)v, (uint64_t)-1);
    report_eq("u64 x", x, 42);
    struct x32 g = {.fn = addr32(sm_ret) + 2};
    v = x32_run(&g);
    report_eq("x32 fault", (uint64_t)(int64_t)v, 6);
    printf("eip %x\n", pm32_last.eip);
}
