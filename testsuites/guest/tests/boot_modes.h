/* boot_modes.h: constants shared by boot_modes.c and boot_modes.S. */
#ifndef BOOT_MODES_H
#define BOOT_MODES_H

#define RM_BASE 0x3000          /* the 16-bit blob is copied here */
#define RM_SEG (RM_BASE >> 4)   /* its real-mode code segment */
#define RM_STACK 0x2FF0         /* real-mode SS:SP = 0000:2FF0 */
#define RM_BLOB_MAX 0x1000

/* Result slots: 32-bit words in the blob, preset to RES_UNSET. */
#define R_COMPAT_EFER 0     /* EFER read in compatibility mode */
#define R_COMPAT_DEC 1      /* 5, then byte 0x48 (DEC EAX outside 64-bit mode) */
#define R_PM32_CR0 2        /* CR0 after paging is turned off */
#define R_PM32_EFER 3
#define R_PM32_DEC 4        /* 7, then byte 0x48 */
#define R_PM16_EAX 5        /* 0x11110000, then B8 2222 (MOV AX in 16-bit code) */
#define R_RM_CR0 6
#define R_RM_CS 7
#define R_RM_ALIAS1 8       /* word written at RM_SEG:X, read at (RM_SEG+1):(X-16) */
#define R_RM_ALIAS2 9       /* ... and at 0000:(RM_BASE+X) */
#define R_RM_SUM 10         /* far call: sum of a table with LODSW */
#define R_RM_A20 11         /* dword at FFFF:0010 (= 1 MiB with A20 on) */
#define R_RM_OPSIZE 12      /* 0x33330000, then B8 4444 */
#define R_RM_STACK 13       /* (popped value << 16) | bytes one PUSH took */
#define R_BACK_CR0 14       /* CR0 back in protected mode */
#define R_BACK_CS 15
#define R_LM_EFER 16        /* EFER back in long mode */
#define R_COUNT 17
#define RES_UNSET 0xFFFFFFFF

#endif
