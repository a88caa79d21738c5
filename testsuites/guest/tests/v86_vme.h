/* v86_vme.h: constants shared by v86_vme.c and v86_vme.S. */
#ifndef V86_VME_H
#define V86_VME_H

#define V86_BASE 0x4000          /* the 16-bit blob is copied here */
#define V86_SEG (V86_BASE >> 4)  /* CS = DS = ES of the snippets */
#define V86_STACK 0x3FF0         /* SS:SP = 0000:3FF0 */
#define V86_BLOB_MAX 0x1000

/* struct v86_state, in bytes (the IRET frame, then EAX and EBX). */
#define V86S_EIP 0
#define V86S_CS 4
#define V86S_EFLAGS 8
#define V86S_ESP 12
#define V86S_SS 16
#define V86S_ES 20
#define V86S_DS 24
#define V86S_FS 28
#define V86S_GS 32
#define V86S_EAX 36
#define V86S_EBX 40

#endif
