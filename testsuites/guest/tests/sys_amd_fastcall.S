/* sys_amd_fastcall.S: the code of sys_fastcall.S. */
#include "sys_fastcall.S"
