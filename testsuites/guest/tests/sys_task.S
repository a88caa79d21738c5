/* sys_task.S: the tasks of sys_task.c (32-bit, run in legacy protected
 * mode under pm32_run) and the snippets task A (the pm32 environment,
 * TR = SEL_TSS32) runs. Results go to t_res[]. */
#define SYS_LIB_ASM
#include "sys_lib.h"
#include "sys_task.h"

    .text
    .code32
    .globl t_jmp_b, t_jmp_b_next, task_b_entry, task_b_after, t_call_gate, t_call_tss
    .globl t_call_f, task_c_entry, task_c_after, task_d_entry, task_f_entry, task_e_entry
    .globl t_int60, t_gp_site, t_gp_insn, t_call_self, t_iret_nt, t_user_call_gate
    .globl t_jmp_sel, task_bad_entry

/* Task A: JMP to TSS B. EBX/ESI carry values that must survive in A's
 * TSS; EAX = TR after the return. */
t_jmp_b:
    mov $0x12345678, %ebx
    mov $0x9ABCDEF0, %esi
    ljmp $SEL_TSS_B, $0
t_jmp_b_next:
    str %ax
    movzwl %ax, %eax
    ret

/* Task B (entered by JMP): records its view, then JMPs back to A. */
task_b_entry:
    str %ax
    movzwl %ax, %eax
    mov %eax, t_res + 0
    pushfl
    popl t_res + 4
    mov %cr0, %eax
    mov %eax, t_res + 8
    mov vp_gdt + SEL_TSS32 + 4, %eax
    mov %eax, t_res + 12
    mov vp_gdt + SEL_TSS_B + 4, %eax
    mov %eax, t_res + 16
    mov %ebx, t_res + 20
    mov %ds, %eax
    mov %eax, t_res + 24
    sldt %ax
    movzwl %ax, %eax
    mov %eax, t_res + 28
    movzwl t_tss_b, %eax
    mov %eax, t_res + 32
    mov %esp, t_res + 36
    movl $0x0B0B0B0B, %ebx
    ljmp $SEL_TSS32, $0
task_b_after:
    jmp task_b_entry

/* Task A: CALL through the task gate / to TSS C directly / to TSS F. */
t_call_gate:
    mov $0x12345678, %ebx
    lcall $SEL_GATE_C, $0
    pushfl
    pop %ecx
    ret
t_call_tss:
    lcall $SEL_TSS_C, $0
    pushfl
    pop %ecx
    ret
/* EAX = [VA_PROBE] before, EDX = [VA_PROBE] after, ECX = CR3 after. */
t_call_f:
    mov VA_PROBE, %eax
    lcall $SEL_TSS_F, $0
    mov VA_PROBE, %edx
    mov %cr3, %ecx
    ret

/* A nested task: records TR, EFLAGS, its link field and the busy bits
 * of A and of itself, then IRET (task return). */
#define NESTED_TASK(name, after, tss, sel, res)      \
name:                                                \
    str %ax;                                         \
    movzwl %ax, %eax;                                \
    mov %eax, t_res + res + 0;                       \
    pushfl;                                          \
    popl t_res + res + 4;                            \
    movzwl tss, %eax;                                \
    mov %eax, t_res + res + 8;                       \
    mov vp_gdt + SEL_TSS32 + 4, %eax;                \
    mov %eax, t_res + res + 12;                      \
    mov vp_gdt + sel + 4, %eax;                      \
    mov %eax, t_res + res + 16;                      \
    mov %ebx, t_res + res + 20;                      \
    iret;                                            \
after:                                               \
    jmp name

NESTED_TASK(task_c_entry, task_c_after, t_tss_c, SEL_TSS_C, 0)
NESTED_TASK(task_d_entry, task_d_after, t_tss_d, SEL_TSS_D, 32)

/* Task F: its CR3 and what VA_PROBE reads there. */
task_f_entry:
    mov %cr3, %eax
    mov %eax, t_res + 0
    mov VA_PROBE, %eax
    mov %eax, t_res + 4
    iret
    jmp task_f_entry

/* Task E: #GP handler task. Records the error code on its stack, skips
 * the 2-byte faulting instruction in A's TSS, IRET. */
task_e_entry:
    str %ax
    movzwl %ax, %eax
    mov %eax, t_res + 64
    mov (%esp), %eax
    mov %eax, t_res + 68
    pushfl
    popl t_res + 72
    movzwl t_tss_e, %eax
    mov %eax, t_res + 76
    mov %esp, t_res + 80
    addl $2, pm32_tss + 0x20
    iret
    jmp task_e_entry

/* pm32 handler for #TS: records TR, ends the run. */
    .globl t_ts_handler
t_ts_handler:
    str %ax
    movzwl %ax, %eax
    mov %eax, t_res + 96
    mov $1, %eax
    ret

/* A task whose body must never run (its switch faults). */
task_bad_entry:
    ud2

/* Task A: INT 60h (a task gate in the IDT). */
t_int60:
    mov $0x12345678, %ebx
    int $0x60
    ret

/* Task A: #GP(0x1F8) (selector beyond the GDT limit). */
t_gp_site:
    mov $0x1F8, %eax
t_gp_insn:
    mov %eax, %ds
    mov $0x600D, %eax
    ret

/* Task A: CALL to its own (busy) TSS. */
t_call_self:
    lcall $SEL_TSS32, $0
    ret

/* Task A: IRET with NT = 1 (the link field names the task to return to). */
t_iret_nt:
    pushfl
    orl $0x4000, (%esp)
    popfl
    iret

/* Task A: JMP to the selector in EBX (through memory). */
t_jmp_sel:
    mov %ebx, t_far + 4
    ljmp *t_far
    ret

/* Ring 3: CALL through the selector in EBX. */
t_user_call_gate:
    mov %ebx, %ss:t_far + 4
    lcall *%ss:t_far
    int $PM32_EXIT_VEC

    .data
    .balign 8
t_far: .long 0, 0

    .text
    .code64
    .section .note.GNU-stack, "", @progbits
