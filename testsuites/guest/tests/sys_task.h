/* sys_task.h: selectors and addresses shared by sys_task.c and .S. */
#ifndef SYS_TASK_H
#define SYS_TASK_H

#define SEL_TSS_B 0x60   /* task B: entered by JMP */
#define SEL_TSS_C 0x68   /* task C: entered by CALL, leaves by IRET */
#define SEL_TSS_D 0x70   /* task D: INT 60h through a task gate */
#define SEL_GATE_C 0x78  /* task gate (GDT) to task C */
#define SEL_TSS_E 0x80   /* task E: #GP through a task gate */
#define SEL_LDT_B 0x88   /* task B's LDT */
#define SEL_TSS_F 0x90   /* task F: another CR3 */
#define SEL_TSS_X 0x98   /* scratch TSS for the fault cases */
#define SEL_GATE_X 0xA0  /* scratch task gate */
#define VA_PROBE 0x40000000 /* mapped to a different page in task F */

#endif
