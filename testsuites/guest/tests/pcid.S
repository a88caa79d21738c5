/* pcid.S: the assembly half of sys_lib.h (mode switches, ring-3
 * trampolines). */
#define SYS_LIB_ASM
#include "sys_lib.h"
    .section .note.GNU-stack, "", @progbits
