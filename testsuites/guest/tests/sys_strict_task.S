/* sys_strict_task.S: the tasks of sys_task.S. */
#include "sys_task.S"
