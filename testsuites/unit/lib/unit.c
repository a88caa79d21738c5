/* Unit-test helpers. */
#include "testsuites/unit/lib/unit.h"

#include <stdio.h>

vp_machine *unit_machine(unsigned mem_mb)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = (uint64_t)mem_mb << 20;
    cfg.ncpus = 1;
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    if (!m) {
        fprintf(stderr, "unit_machine: %s\n", err.msg);
        abort();
    }
    return m;
}
