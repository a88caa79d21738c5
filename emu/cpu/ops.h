/* Instruction handler declarations (from ops.def). */
#ifndef VP_CPU_OPS_H
#define VP_CPU_OPS_H

#include "emu/cpu/insn.h"

#define X(n) int op_##n(vp_cpu *c, const vp_insn *i);
#include "emu/cpu/ops.def"
#undef X

#endif
