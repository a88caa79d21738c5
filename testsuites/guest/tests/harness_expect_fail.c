/* harness_expect_fail.c: the failure path end to end. One check fails on
 * purpose: the runtime must print and count it and exit with code 1
 * (status 3 on QEMU and Vanderpool), and the harness must see exactly that
 * (it passes this test only if the named check FAILs and nothing else does).
 * engines: vanderpool qemu bochs
 * expect-fail: deliberate failure
 */
#include "vp.h"

void test_main(void)
{
    report("a passing check", true);
    report_msg("deliberate failure", false, "this check fails on purpose");
    report_skip("a skipped check", "skips are counted too");
    report_eq("failure count seen by the runtime", (uint64_t)report_failures(), 1);
}
