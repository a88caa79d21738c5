/* sys_strict_exc.S: the fault sites of sys_exceptions.S. */
#include "sys_exceptions.S"
