/* sys_strict_modes.S: the code of sys_modes.S. */
#include "sys_modes.S"
