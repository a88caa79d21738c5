/* sys_sysret_ss.S: the code of sys_fastcall.S. */
#include "sys_fastcall.S"
