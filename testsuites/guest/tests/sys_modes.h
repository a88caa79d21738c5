/* sys_modes.h: result slots (32-bit words in m_res) shared by sys_modes.c
 * and sys_modes.S. */
#ifndef SYS_MODES_H
#define SYS_MODES_H

#define R32_CS 0
#define R32_DEC 1
#define R32_PUSH 2
#define R32_EFER 3
#define R32_ESP 4
#define R32_UD_ESP 5
#define R32_AFTER_UD 6
#define R32_JMP_CS 7
#define R32_IRET_CS 8
#define R32_IRET_SS 9
#define R16_CS 10
#define R16_MOV 11
#define R16_PUSH 12
#define R16_CALL 13
#define R16_CALL_IP 14
#define R16_ISR_ESP 15
#define R16_ISR_IP 16
#define R16_ISR_CS 17
#define R16_ISR_FL 18
#define R16_INT_ESP 19
#define M_RES_COUNT 20

#define SEL_C16 0x60 /* 16-bit code, base m16_start, limit FFFFh */
#define SEL_S16 0x68 /* 16-bit stack (B = 0), limit FFFFh */

#endif
