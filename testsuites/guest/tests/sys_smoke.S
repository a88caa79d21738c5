#define SYS_LIB_ASM
#include "sys_lib.h"
    .code32
    .globl sm_ret, sm_user
sm_ret: inc %eax
    ret
    ud2
    ret
sm_user: inc %eax
    int $0x81
    .section .note.GNU-stack, "", @progbits
