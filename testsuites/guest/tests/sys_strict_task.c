/* sys_strict_task.c: the task-switch check of sys_task.c that QEMU 7.2's
 * TCG gets wrong, proven on Bochs instead: a fault while loading the new
 * task's segment registers is delivered in the new task, with the new
 * task's EIP saved (QEMU saves the old task's EIP, although TR and CS are
 * the new task's). The code is sys_task.c and .S built with TASK_STRICT =
 * 1.
 * engines: vanderpool bochs
 *
 * SDM Vol 3A, "Task Switching" (errors after the commit occur in the
 * context of the new task), "Interrupt 10 - Invalid TSS Exception (#TS)".
 */
#define TASK_STRICT 1
#include "sys_task.c"
