/* Intel 8259A programmable interrupt controller pair (master at 0x20,
 * slave at 0xA0 on IRQ2) with the ELCR at 0x4D0/0x4D1. */
#ifndef VP_DEV_PIC8259_H
#define VP_DEV_PIC8259_H

#include "emu/machine.h"

/* Interrupt acknowledge cycle (the CPU's INTA, through the local APIC's
 * ExtINT delivery): returns the vector of the highest-priority request and
 * moves it to in-service, or the spurious IRQ7/IRQ15 vector. */
int vp_pic_intack(vp_pic *p);
/* Level of the master's INTR output. */
bool vp_pic_intr_level(const vp_pic *p);

#endif
