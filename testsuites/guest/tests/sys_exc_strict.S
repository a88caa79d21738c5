/* sys_exc_strict.S: the fault sites of sys_exceptions.S. */
#include "sys_exceptions.S"
