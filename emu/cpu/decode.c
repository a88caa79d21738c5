/* x86 decoder: prefixes, REX, ModRM/SIB, displacement and immediates into
 * a vp_insn (SDM Vol 2, "Instruction Format" and Appendix A "Opcode Map").
 * The tables below are the opcode maps written as data. */
#include "emu/cpu/insn.h"
#include "emu/cpu/ops.h"

#include <string.h>

#define M D_MODRM
#define B D_BYTE
#define E D_END

/* Groups: ModRM.reg selects the row. */
enum { G1 = 1, G2, G3, G4, G5, G6, G7, G8, G9, G11, G15, G17, G1A, NGROUPS };

/* Rows selected by ModRM.mod: [0] memory form, [1] register form. */
enum {
    MS_G7_0 = 1, MS_G7_1, MS_G7_2, MS_G7_3, MS_G7_7, MS_G9_1, MS_G9_6,
    MS_G9_7, MS_G15_5, MS_G15_6, MS_G15_7, MS_G7_5, NMODSEL
};

/* Rows selected by ModRM.rm (register forms of 0F 01). */
enum { RM_G7_1 = 1, RM_G7_7, RM_G7_5, NRMSEL };

/* Rows selected by the mandatory prefix: [0] none, [1] 66, [2] F3, [3] F2
 * (the last of F2/F3 wins, and either outranks 66, which then still sets
 * the operand size unless the row says D_OP32); for VEX, VEX.pp. */
enum {
    P_B8 = 1, P_BC, P_BD, P_G9_6, P_G9_7, P_G15_5M, P_G15_6M, P_G15_7M,
    P_G15_5R, P_G15_6R, P_G15_7R, P_INVPCID, P_38F0, P_38F1, P_38F6,
    P_V38F2, P_V38F3, P_V38F5, P_V38F6, P_V38F7, P_V3AF0, NPFX
};

static const vp_opdesc groups[NGROUPS][8] = {
    [G1] = {{op_alu_ei, 0, 0}, {op_alu_ei, 0, 1}, {op_alu_ei, 0, 2},
            {op_alu_ei, 0, 3}, {op_alu_ei, 0, 4}, {op_alu_ei, 0, 5},
            {op_alu_ei, 0, 6}, {op_alu_ei, 0, 7}},
    [G2] = {{op_shift, 0, 0}, {op_shift, 0, 1}, {op_shift, 0, 2},
            {op_shift, 0, 3}, {op_shift, 0, 4}, {op_shift, 0, 5},
            {op_shift, 0, 6}, {op_shift, 0, 7}},
    [G3] = {{op_test_ei, 0, 0}, {op_test_ei, 0, 0}, {op_not, 0, 0},
            {op_neg, 0, 0}, {op_mul, 0, 0}, {op_imul1, 0, 0},
            {op_div, 0, 0}, {op_idiv, 0, 0}},
    [G4] = {{op_incdec, 0, 0}, {op_incdec, 0, 1}, {op_ud, 0, 0},
            {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
            {op_ud, 0, 0}},
    [G5] = {{op_incdec, 0, 0}, {op_incdec, 0, 1},
            {op_call_ind, D_F64 | E, 0}, {op_callf_ind, E, 0},
            {op_jmp_ind, D_F64 | E, 0}, {op_jmpf_ind, E, 0},
            {op_push_e, D_DEF64, 0}, {op_ud, 0, 0}},
    [G6] = {{op_sldt_str, 0, 0}, {op_sldt_str, 0, 1}, {op_lldt, E, 0},
            {op_ltr, E, 0}, {op_verrw, 0, 0}, {op_verrw, 0, 1},
            {op_ud, 0, 0}, {op_ud, 0, 0}},
    /* 0F 01. Register forms of /0 (VMX), /2 (XGETBV, XSETBV), /3 (SVM)
     * and /5 are not implemented: #UD, as on a part without them. */
    [G7] = {{NULL, D_MODSEL, MS_G7_0}, {NULL, D_MODSEL, MS_G7_1},
            {NULL, D_MODSEL, MS_G7_2}, {NULL, D_MODSEL, MS_G7_3},
            {op_grp7, E, 4}, {NULL, D_MODSEL, MS_G7_5},
            {op_grp7, E, 6}, {NULL, D_MODSEL, MS_G7_7}},
    [G8] = {{op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
            {op_bt_i, 0, 0}, {op_bt_i, 0, 1}, {op_bt_i, 0, 2},
            {op_bt_i, 0, 3}},
    /* 0F C7. Memory forms of /3-/7 (XRSTORS, XSAVEC, XSAVES, VMPTRLD,
     * VMCLEAR, VMXON, VMPTRST) are not implemented yet. */
    [G9] = {{op_ud, 0, 0}, {NULL, D_MODSEL, MS_G9_1}, {op_ud, 0, 0},
            {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
            {NULL, D_MODSEL, MS_G9_6}, {NULL, D_MODSEL, MS_G9_7}},
    [G11] = {{op_mov_ei, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
             {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}},
    /* 0F AE. /0-/4 (FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE; F3: the
     * FSGSBASE and CET forms) are not implemented. */
    [G15] = {{op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
             {op_ud, 0, 0}, {NULL, D_MODSEL, MS_G15_5},
             {NULL, D_MODSEL, MS_G15_6}, {NULL, D_MODSEL, MS_G15_7}},
    /* VEX.0F38 F3: BLSR BLSMSK BLSI (SDM Vol 2, Table A-6 group 17). */
    [G17] = {{op_ud, 0, 0}, {op_bls, 0, 1}, {op_bls, 0, 2}, {op_bls, 0, 3},
             {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}},
    [G1A] = {{op_pop_e, D_DEF64, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
             {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0}, {op_ud, 0, 0},
             {op_ud, 0, 0}},
};

static const vp_opdesc modsel[NMODSEL][2] = {
    [MS_G7_0] = {{op_grp7, E, 0}, {op_ud, 0, 0}},       /* SGDT | VMX */
    [MS_G7_1] = {{op_grp7, E, 1}, {NULL, D_RMSEL, RM_G7_1}}, /* SIDT */
    [MS_G7_2] = {{op_grp7, E, 2}, {op_ud, 0, 0}},       /* LGDT | XCR */
    [MS_G7_3] = {{op_grp7, E, 3}, {op_ud, 0, 0}},       /* LIDT | SVM */
    [MS_G7_7] = {{op_grp7, E, 7}, {NULL, D_RMSEL, RM_G7_7}}, /* INVLPG */
    [MS_G7_5] = {{op_ud, 0, 0}, {NULL, D_RMSEL, RM_G7_5}},  /* RSTORSSP */
    [MS_G9_1] = {{op_cmpxchg8b, 0, 1}, {op_ud, 0, 0}},  /* CMPXCHG8B/16B */
    [MS_G9_6] = {{op_ud, 0, 0}, {NULL, D_PFX, P_G9_6}},
    [MS_G9_7] = {{op_ud, 0, 0}, {NULL, D_PFX, P_G9_7}},
    [MS_G15_5] = {{NULL, D_PFX, P_G15_5M}, {NULL, D_PFX, P_G15_5R}},
    [MS_G15_6] = {{NULL, D_PFX, P_G15_6M}, {NULL, D_PFX, P_G15_6R}},
    [MS_G15_7] = {{NULL, D_PFX, P_G15_7M}, {NULL, D_PFX, P_G15_7R}},
};

static const vp_opdesc rmsel[NRMSEL][8] = {
    /* 0F 01 C8-CF: MONITOR MWAIT CLAC STAC - - - ENCLS */
    [RM_G7_1] = {{op_monitor, 0, 0}, {op_mwait, 0, 0}, {op_clac_stac, 0, 0},
                 {op_clac_stac, 0, 1}},
    /* 0F 01 F8-FF: SWAPGS RDTSCP MONITORX MWAITX CLZERO RDPRU - - */
    [RM_G7_7] = {{op_grp7, E, 7}, {op_rdtscp, 0, 0}},
    /* 0F 01 E8-EF: - - - - - - RDPKRU WRPKRU (ops_sys.c) */
    [RM_G7_5] = {[6] = {op_pkru, 0, 0}, [7] = {op_pkru, 0, 1}},
};

static const vp_opdesc pfxsel[NPFX][4] = {
    /* 0F B8: JMPE (IA-64 only) | POPCNT. 0F BC/BD: without F3 (or on a
     * part without BMI1/LZCNT) BSF/BSR, with F3 TZCNT/LZCNT. */
    [P_B8] = {[2] = {op_popcnt, 0, 0}},
    [P_BC] = {{op_bsf_bsr, 0, 0}, {op_bsf_bsr, 0, 0}, {op_tzcnt, 0, 0},
              {op_bsf_bsr, 0, 0}},
    [P_BD] = {{op_bsf_bsr, 0, 1}, {op_bsf_bsr, 0, 1}, {op_lzcnt, 0, 1},
              {op_bsf_bsr, 0, 1}},
    /* 0F C7 /6 /7 register forms: RDRAND, RDSEED (NFx), F3: RDPID. */
    [P_G9_6] = {{op_rdrand, 0, 0}, {op_rdrand, 0, 0}},
    [P_G9_7] = {{op_rdrand, 0, 1}, {op_rdrand, 0, 1}, {op_rdpid, 0, 0}},
    /* 0F AE memory forms: /5 XRSTOR; /6 XSAVEOPT | 66: CLWB;
     * /7 CLFLUSH | 66: CLFLUSHOPT. */
    [P_G15_5M] = {{op_ud, 0, 0}},
    [P_G15_6M] = {[1] = {op_cacheline, 0, 2}},
    [P_G15_7M] = {{op_cacheline, 0, 0}, {op_cacheline, 0, 1}},
    /* 0F AE register forms: LFENCE MFENCE SFENCE are NP; the prefixed
     * forms (INCSSP, TPAUSE, UMONITOR, UMWAIT) are not implemented. */
    [P_G15_5R] = {{op_fence, 0, 5}},
    [P_G15_6R] = {{op_fence, 0, 6}},
    [P_G15_7R] = {{op_fence, 0, 7}},
    /* 66 0F 38 82: INVPCID r32/r64, m128. */
    [P_INVPCID] = {[1] = {op_invpcid, D_OP32 | D_F64 | E, 0}},
    /* 0F 38 F0/F1: MOVBE (66: 16-bit) | F2: CRC32 (SSE4.2, not built). */
    [P_38F0] = {{op_movbe, 0, 0}, {op_movbe, 0, 0}},
    [P_38F1] = {{op_movbe, 0, 1}, {op_movbe, 0, 1}},
    /* 0F 38 F6: 66 ADCX, F3 ADOX. */
    [P_38F6] = {[1] = {op_adx, D_OP32, 0}, [2] = {op_adx, D_OP32, 1}},
    /* VEX.LZ.0F38 F2-F7 (BMI1, BMI2) and VEX.LZ.0F3A F0 (RORX). */
    [P_V38F2] = {{op_andn, D_VEXL0, 0}},
    [P_V38F3] = {{NULL, D_GROUP | D_VEXL0, G17}},
    [P_V38F5] = {[0] = {op_bzhi, D_VEXL0, 0}, [2] = {op_pdep_pext, D_VEXL0, 1},
                 [3] = {op_pdep_pext, D_VEXL0, 0}},
    [P_V38F6] = {[3] = {op_mulx, D_VEXL0, 0}},
    [P_V38F7] = {{op_bextr, D_VEXL0, 0}, {op_shiftx, D_VEXL0, 0},
                 {op_shiftx, D_VEXL0, 1}, {op_shiftx, D_VEXL0, 2}},
    [P_V3AF0] = {[3] = {op_rorx, D_VEXL0 | D_NOVVVV, 0}},
};

#define ALU_ROW(base, n)                                              \
    [base + 0] = {op_alu_eg, M | B, n}, [base + 1] = {op_alu_eg, M, n}, \
    [base + 2] = {op_alu_ge, M | B, n}, [base + 3] = {op_alu_ge, M, n}, \
    [base + 4] = {op_alu_ai, B | D_IB, n}, [base + 5] = {op_alu_ai, D_IZ, n}

static const vp_opdesc map1[256] = {
    ALU_ROW(0x00, 0), ALU_ROW(0x08, 1), ALU_ROW(0x10, 2), ALU_ROW(0x18, 3),
    ALU_ROW(0x20, 4), ALU_ROW(0x28, 5), ALU_ROW(0x30, 6), ALU_ROW(0x38, 7),
    [0x06] = {op_push_sreg, D_NO64, S_ES}, [0x07] = {op_pop_sreg, D_NO64 | E, S_ES},
    [0x0e] = {op_push_sreg, D_NO64, S_CS},
    [0x16] = {op_push_sreg, D_NO64, S_SS}, [0x17] = {op_pop_sreg, D_NO64 | E, S_SS},
    [0x1e] = {op_push_sreg, D_NO64, S_DS}, [0x1f] = {op_pop_sreg, D_NO64 | E, S_DS},
    [0x27] = {op_daa_das, D_NO64, 0}, [0x2f] = {op_daa_das, D_NO64, 1},
    [0x37] = {op_aaa_aas, D_NO64, 0}, [0x3f] = {op_aaa_aas, D_NO64, 1},
    [0x40] = {op_incdec_r, D_REGOP, 0}, [0x41] = {op_incdec_r, D_REGOP, 0},
    [0x42] = {op_incdec_r, D_REGOP, 0}, [0x43] = {op_incdec_r, D_REGOP, 0},
    [0x44] = {op_incdec_r, D_REGOP, 0}, [0x45] = {op_incdec_r, D_REGOP, 0},
    [0x46] = {op_incdec_r, D_REGOP, 0}, [0x47] = {op_incdec_r, D_REGOP, 0},
    [0x48] = {op_incdec_r, D_REGOP, 1}, [0x49] = {op_incdec_r, D_REGOP, 1},
    [0x4a] = {op_incdec_r, D_REGOP, 1}, [0x4b] = {op_incdec_r, D_REGOP, 1},
    [0x4c] = {op_incdec_r, D_REGOP, 1}, [0x4d] = {op_incdec_r, D_REGOP, 1},
    [0x4e] = {op_incdec_r, D_REGOP, 1}, [0x4f] = {op_incdec_r, D_REGOP, 1},
    [0x50] = {op_push_r, D_REGOP | D_DEF64, 0}, [0x51] = {op_push_r, D_REGOP | D_DEF64, 0},
    [0x52] = {op_push_r, D_REGOP | D_DEF64, 0}, [0x53] = {op_push_r, D_REGOP | D_DEF64, 0},
    [0x54] = {op_push_r, D_REGOP | D_DEF64, 0}, [0x55] = {op_push_r, D_REGOP | D_DEF64, 0},
    [0x56] = {op_push_r, D_REGOP | D_DEF64, 0}, [0x57] = {op_push_r, D_REGOP | D_DEF64, 0},
    [0x58] = {op_pop_r, D_REGOP | D_DEF64, 0}, [0x59] = {op_pop_r, D_REGOP | D_DEF64, 0},
    [0x5a] = {op_pop_r, D_REGOP | D_DEF64, 0}, [0x5b] = {op_pop_r, D_REGOP | D_DEF64, 0},
    [0x5c] = {op_pop_r, D_REGOP | D_DEF64, 0}, [0x5d] = {op_pop_r, D_REGOP | D_DEF64, 0},
    [0x5e] = {op_pop_r, D_REGOP | D_DEF64, 0}, [0x5f] = {op_pop_r, D_REGOP | D_DEF64, 0},
    [0x60] = {op_pusha, D_NO64, 0}, [0x61] = {op_popa, D_NO64, 0},
    [0x62] = {op_bound, M | D_NO64, 0},
    [0x63] = {op_movsxd_arpl, M, 0},
    [0x68] = {op_push_i, D_IZ | D_DEF64, 0}, [0x69] = {op_imul3, M | D_IZ, 0},
    [0x6a] = {op_push_i, D_IB | D_DEF64, 0}, [0x6b] = {op_imul3, M | D_IB, 0},
    [0x6c] = {op_ins, B, 0}, [0x6d] = {op_ins, 0, 0},
    [0x6e] = {op_outs, B, 0}, [0x6f] = {op_outs, 0, 0},
    [0x70] = {op_jcc, D_IB | D_F64 | E, 0x0}, [0x71] = {op_jcc, D_IB | D_F64 | E, 0x1},
    [0x72] = {op_jcc, D_IB | D_F64 | E, 0x2}, [0x73] = {op_jcc, D_IB | D_F64 | E, 0x3},
    [0x74] = {op_jcc, D_IB | D_F64 | E, 0x4}, [0x75] = {op_jcc, D_IB | D_F64 | E, 0x5},
    [0x76] = {op_jcc, D_IB | D_F64 | E, 0x6}, [0x77] = {op_jcc, D_IB | D_F64 | E, 0x7},
    [0x78] = {op_jcc, D_IB | D_F64 | E, 0x8}, [0x79] = {op_jcc, D_IB | D_F64 | E, 0x9},
    [0x7a] = {op_jcc, D_IB | D_F64 | E, 0xa}, [0x7b] = {op_jcc, D_IB | D_F64 | E, 0xb},
    [0x7c] = {op_jcc, D_IB | D_F64 | E, 0xc}, [0x7d] = {op_jcc, D_IB | D_F64 | E, 0xd},
    [0x7e] = {op_jcc, D_IB | D_F64 | E, 0xe}, [0x7f] = {op_jcc, D_IB | D_F64 | E, 0xf},
    [0x80] = {NULL, M | B | D_IB | D_GROUP, G1}, [0x81] = {NULL, M | D_IZ | D_GROUP, G1},
    [0x82] = {NULL, M | B | D_IB | D_GROUP | D_NO64, G1}, [0x83] = {NULL, M | D_IB | D_GROUP, G1},
    [0x84] = {op_test_eg, M | B, 0}, [0x85] = {op_test_eg, M, 0},
    [0x86] = {op_xchg_eg, M | B, 0}, [0x87] = {op_xchg_eg, M, 0},
    [0x88] = {op_mov_eg, M | B, 0}, [0x89] = {op_mov_eg, M, 0},
    [0x8a] = {op_mov_ge, M | B, 0}, [0x8b] = {op_mov_ge, M, 0},
    [0x8c] = {op_mov_e_sreg, M, 0}, [0x8d] = {op_lea, M, 0},
    [0x8e] = {op_mov_sreg_e, M | E, 0}, [0x8f] = {NULL, M | D_GROUP, G1A},
    [0x90] = {op_xchg_ax, D_REGOP, 0}, [0x91] = {op_xchg_ax, D_REGOP, 0},
    [0x92] = {op_xchg_ax, D_REGOP, 0}, [0x93] = {op_xchg_ax, D_REGOP, 0},
    [0x94] = {op_xchg_ax, D_REGOP, 0}, [0x95] = {op_xchg_ax, D_REGOP, 0},
    [0x96] = {op_xchg_ax, D_REGOP, 0}, [0x97] = {op_xchg_ax, D_REGOP, 0},
    [0x98] = {op_cbw, 0, 0}, [0x99] = {op_cwd, 0, 0},
    [0x9a] = {op_callf, D_FARPTR | D_NO64 | E, 0}, [0x9b] = {op_fwait, 0, 0},
    [0x9c] = {op_pushf, D_DEF64, 0}, [0x9d] = {op_popf, D_DEF64 | E, 0},
    [0x9e] = {op_sahf, 0, 0}, [0x9f] = {op_lahf, 0, 0},
    [0xa0] = {op_mov_moffs, B | D_MOFFS, 0}, [0xa1] = {op_mov_moffs, D_MOFFS, 0},
    [0xa2] = {op_mov_moffs, B | D_MOFFS, 1}, [0xa3] = {op_mov_moffs, D_MOFFS, 1},
    [0xa4] = {op_movs, B, 0}, [0xa5] = {op_movs, 0, 0},
    [0xa6] = {op_cmps, B, 0}, [0xa7] = {op_cmps, 0, 0},
    [0xa8] = {op_test_ai, B | D_IB, 0}, [0xa9] = {op_test_ai, D_IZ, 0},
    [0xaa] = {op_stos, B, 0}, [0xab] = {op_stos, 0, 0},
    [0xac] = {op_lods, B, 0}, [0xad] = {op_lods, 0, 0},
    [0xae] = {op_scas, B, 0}, [0xaf] = {op_scas, 0, 0},
    [0xb0] = {op_mov_ri, D_REGOP | B | D_IB, 0}, [0xb1] = {op_mov_ri, D_REGOP | B | D_IB, 0},
    [0xb2] = {op_mov_ri, D_REGOP | B | D_IB, 0}, [0xb3] = {op_mov_ri, D_REGOP | B | D_IB, 0},
    [0xb4] = {op_mov_ri, D_REGOP | B | D_IB, 0}, [0xb5] = {op_mov_ri, D_REGOP | B | D_IB, 0},
    [0xb6] = {op_mov_ri, D_REGOP | B | D_IB, 0}, [0xb7] = {op_mov_ri, D_REGOP | B | D_IB, 0},
    [0xb8] = {op_mov_ri, D_REGOP | D_IV, 0}, [0xb9] = {op_mov_ri, D_REGOP | D_IV, 0},
    [0xba] = {op_mov_ri, D_REGOP | D_IV, 0}, [0xbb] = {op_mov_ri, D_REGOP | D_IV, 0},
    [0xbc] = {op_mov_ri, D_REGOP | D_IV, 0}, [0xbd] = {op_mov_ri, D_REGOP | D_IV, 0},
    [0xbe] = {op_mov_ri, D_REGOP | D_IV, 0}, [0xbf] = {op_mov_ri, D_REGOP | D_IV, 0},
    [0xc0] = {NULL, M | B | D_IB | D_GROUP, G2}, [0xc1] = {NULL, M | D_IB | D_GROUP, G2},
    [0xc2] = {op_ret, D_IW | D_F64 | E, 0}, [0xc3] = {op_ret, D_F64 | E, 0},
    [0xc4] = {op_lxs, M | D_NO64 | E, S_ES}, [0xc5] = {op_lxs, M | D_NO64 | E, S_DS},
    [0xc6] = {NULL, M | B | D_IB | D_GROUP, G11}, [0xc7] = {NULL, M | D_IZ | D_GROUP, G11},
    [0xc8] = {op_enter, D_ENTER | D_DEF64, 0}, [0xc9] = {op_leave, D_DEF64, 0},
    [0xca] = {op_retf, D_IW | E, 0}, [0xcb] = {op_retf, E, 0},
    [0xcc] = {op_int3, E, 0}, [0xcd] = {op_int, D_IB | E, 0},
    [0xce] = {op_into, D_NO64 | E, 0}, [0xcf] = {op_iret, E, 0},
    [0xd0] = {NULL, M | B | D_GROUP, G2}, [0xd1] = {NULL, M | D_GROUP, G2},
    [0xd2] = {NULL, M | B | D_GROUP, G2}, [0xd3] = {NULL, M | D_GROUP, G2},
    [0xd4] = {op_aam, D_IB | D_NO64, 0}, [0xd5] = {op_aad, D_IB | D_NO64, 0},
    [0xd7] = {op_xlat, 0, 0},
    [0xd8] = {op_x87, M, 0}, [0xd9] = {op_x87, M, 0}, [0xda] = {op_x87, M, 0},
    [0xdb] = {op_x87, M, 0}, [0xdc] = {op_x87, M, 0}, [0xdd] = {op_x87, M, 0},
    [0xde] = {op_x87, M, 0}, [0xdf] = {op_x87, M, 0},
    [0xe0] = {op_loop, D_IB | D_F64 | E, 0}, [0xe1] = {op_loop, D_IB | D_F64 | E, 1},
    [0xe2] = {op_loop, D_IB | D_F64 | E, 2}, [0xe3] = {op_jcxz, D_IB | D_F64 | E, 0},
    [0xe4] = {op_in, B | D_IB, 0}, [0xe5] = {op_in, D_IB, 0},
    [0xe6] = {op_out, B | D_IB, 0}, [0xe7] = {op_out, D_IB, 0},
    [0xe8] = {op_call, D_IZ | D_F64 | E, 0}, [0xe9] = {op_jmp, D_IZ | D_F64 | E, 0},
    [0xea] = {op_jmpf, D_FARPTR | D_NO64 | E, 0}, [0xeb] = {op_jmp, D_IB | D_F64 | E, 0},
    [0xec] = {op_in, B, 1}, [0xed] = {op_in, 0, 1},
    [0xee] = {op_out, B, 1}, [0xef] = {op_out, 0, 1},
    [0xf1] = {op_int1, E, 0}, [0xf4] = {op_hlt, E, 0}, [0xf5] = {op_cmc, 0, 0},
    [0xf6] = {NULL, M | B | D_GROUP, G3}, [0xf7] = {NULL, M | D_GROUP, G3},
    [0xf8] = {op_flagop, 0, 0}, [0xf9] = {op_flagop, 0, 1},
    [0xfa] = {op_cli, 0, 0}, [0xfb] = {op_sti, E, 0},
    [0xfc] = {op_flagop, 0, 2}, [0xfd] = {op_flagop, 0, 3},
    [0xfe] = {NULL, M | B | D_GROUP, G4}, [0xff] = {NULL, M | D_GROUP, G5},
};

static const vp_opdesc map2[256] = {
    [0x00] = {NULL, M | D_GROUP, G6}, [0x01] = {NULL, M | D_GROUP, G7},
    [0x02] = {op_lar_lsl, M, 0}, [0x03] = {op_lar_lsl, M, 1},
    [0x05] = {op_syscall, E, 0}, [0x06] = {op_clts, 0, 0},
    [0x07] = {op_sysret, E, 0}, [0x08] = {op_wbinvd, 0, 0},
    [0x09] = {op_wbinvd, 0, 1}, [0x0b] = {op_ud, 0, 2}, /* UD2 */
    [0x0d] = {op_nop_e, M, 0},
    [0x18] = {op_nop_e, M, 0}, [0x19] = {op_nop_e, M, 0},
    [0x1a] = {op_nop_e, M, 0}, [0x1b] = {op_nop_e, M, 0},
    [0x1c] = {op_nop_e, M, 0}, [0x1d] = {op_nop_e, M, 0},
    [0x1e] = {op_nop_e, M, 0}, [0x1f] = {op_nop_e, M, 0},
    /* MOV to/from CR/DR: "the mod field is ignored" (SDM Vol 2B). */
    [0x20] = {op_mov_r_cr, M | D_MODREG | E, 0},
    [0x21] = {op_mov_r_dr, M | D_MODREG | E, 0},
    [0x22] = {op_mov_cr_r, M | D_MODREG | E, 0},
    [0x23] = {op_mov_dr_r, M | D_MODREG | E, 0},
    [0x30] = {op_wrmsr, E, 0}, [0x31] = {op_rdtsc, 0, 0},
    [0x32] = {op_rdmsr, 0, 0}, [0x33] = {op_rdpmc, 0, 0},
    [0x34] = {op_sysenter, E, 0}, [0x35] = {op_sysexit, E, 0},
    [0x40] = {op_cmov, M, 0x0}, [0x41] = {op_cmov, M, 0x1},
    [0x42] = {op_cmov, M, 0x2}, [0x43] = {op_cmov, M, 0x3},
    [0x44] = {op_cmov, M, 0x4}, [0x45] = {op_cmov, M, 0x5},
    [0x46] = {op_cmov, M, 0x6}, [0x47] = {op_cmov, M, 0x7},
    [0x48] = {op_cmov, M, 0x8}, [0x49] = {op_cmov, M, 0x9},
    [0x4a] = {op_cmov, M, 0xa}, [0x4b] = {op_cmov, M, 0xb},
    [0x4c] = {op_cmov, M, 0xc}, [0x4d] = {op_cmov, M, 0xd},
    [0x4e] = {op_cmov, M, 0xe}, [0x4f] = {op_cmov, M, 0xf},
    [0x80] = {op_jcc, D_IZ | D_F64 | E, 0x0}, [0x81] = {op_jcc, D_IZ | D_F64 | E, 0x1},
    [0x82] = {op_jcc, D_IZ | D_F64 | E, 0x2}, [0x83] = {op_jcc, D_IZ | D_F64 | E, 0x3},
    [0x84] = {op_jcc, D_IZ | D_F64 | E, 0x4}, [0x85] = {op_jcc, D_IZ | D_F64 | E, 0x5},
    [0x86] = {op_jcc, D_IZ | D_F64 | E, 0x6}, [0x87] = {op_jcc, D_IZ | D_F64 | E, 0x7},
    [0x88] = {op_jcc, D_IZ | D_F64 | E, 0x8}, [0x89] = {op_jcc, D_IZ | D_F64 | E, 0x9},
    [0x8a] = {op_jcc, D_IZ | D_F64 | E, 0xa}, [0x8b] = {op_jcc, D_IZ | D_F64 | E, 0xb},
    [0x8c] = {op_jcc, D_IZ | D_F64 | E, 0xc}, [0x8d] = {op_jcc, D_IZ | D_F64 | E, 0xd},
    [0x8e] = {op_jcc, D_IZ | D_F64 | E, 0xe}, [0x8f] = {op_jcc, D_IZ | D_F64 | E, 0xf},
    [0x90] = {op_setcc, M | B, 0x0}, [0x91] = {op_setcc, M | B, 0x1},
    [0x92] = {op_setcc, M | B, 0x2}, [0x93] = {op_setcc, M | B, 0x3},
    [0x94] = {op_setcc, M | B, 0x4}, [0x95] = {op_setcc, M | B, 0x5},
    [0x96] = {op_setcc, M | B, 0x6}, [0x97] = {op_setcc, M | B, 0x7},
    [0x98] = {op_setcc, M | B, 0x8}, [0x99] = {op_setcc, M | B, 0x9},
    [0x9a] = {op_setcc, M | B, 0xa}, [0x9b] = {op_setcc, M | B, 0xb},
    [0x9c] = {op_setcc, M | B, 0xc}, [0x9d] = {op_setcc, M | B, 0xd},
    [0x9e] = {op_setcc, M | B, 0xe}, [0x9f] = {op_setcc, M | B, 0xf},
    [0xa0] = {op_push_sreg, D_DEF64, S_FS}, [0xa1] = {op_pop_sreg, D_DEF64 | E, S_FS},
    [0xa2] = {op_cpuid, 0, 0}, [0xa3] = {op_bt_g, M, 0},
    [0xa4] = {op_shld_shrd, M | D_IB, 0}, [0xa5] = {op_shld_shrd, M, 0},
    [0xa8] = {op_push_sreg, D_DEF64, S_GS}, [0xa9] = {op_pop_sreg, D_DEF64 | E, S_GS},
    [0xab] = {op_bt_g, M, 1},
    [0xac] = {op_shld_shrd, M | D_IB, 1}, [0xad] = {op_shld_shrd, M, 1},
    [0xae] = {NULL, M | D_GROUP, G15}, [0xaf] = {op_imul2, M, 0},
    [0xb0] = {op_cmpxchg, M | B, 0}, [0xb1] = {op_cmpxchg, M, 0},
    [0xb2] = {op_lxs, M | E, S_SS}, [0xb3] = {op_bt_g, M, 2},
    [0xb4] = {op_lxs, M | E, S_FS}, [0xb5] = {op_lxs, M | E, S_GS},
    [0xb6] = {op_movzx, M, 1}, [0xb7] = {op_movzx, M, 2},
    [0xb8] = {NULL, M | D_PFX, P_B8}, [0xb9] = {op_ud, M, 1}, /* UD1 */
    [0xba] = {NULL, M | D_IB | D_GROUP, G8}, [0xbb] = {op_bt_g, M, 3},
    [0xbc] = {NULL, M | D_PFX, P_BC}, [0xbd] = {NULL, M | D_PFX, P_BD},
    [0xbe] = {op_movsx, M, 1}, [0xbf] = {op_movsx, M, 2},
    [0xc0] = {op_xadd, M | B, 0}, [0xc1] = {op_xadd, M, 0},
    [0xc7] = {NULL, M | D_GROUP, G9},
    [0xc8] = {op_bswap, D_REGOP, 0}, [0xc9] = {op_bswap, D_REGOP, 0},
    [0xca] = {op_bswap, D_REGOP, 0}, [0xcb] = {op_bswap, D_REGOP, 0},
    [0xcc] = {op_bswap, D_REGOP, 0}, [0xcd] = {op_bswap, D_REGOP, 0},
    [0xce] = {op_bswap, D_REGOP, 0}, [0xcf] = {op_bswap, D_REGOP, 0},
    [0xff] = {op_ud, M, 0}, /* UD0 (Intel: with ModRM) */
};

/* Three-byte maps (SDM Vol 2, Appendix A, "Three-byte Opcode Map"). */
static const vp_opdesc map0f38[256] = {
    [0x82] = {NULL, M | D_PFX, P_INVPCID},
    [0xf0] = {NULL, M | D_PFX, P_38F0}, [0xf1] = {NULL, M | D_PFX, P_38F1},
    [0xf6] = {NULL, M | D_PFX, P_38F6},
};

/* Every 0F 3A opcode takes an imm8; none is implemented yet. */
static const vp_opdesc map0f3a[256] = {
    [0x00] = {NULL, 0, 0},
};

/* What an undefined opcode of the three-byte and VEX maps decodes as
 * (every opcode there has a ModRM byte, and those of 0F 3A an imm8). */
static const vp_opdesc undef_modrm = {NULL, M, 0};
static const vp_opdesc undef_modrm_ib = {NULL, M | D_IB, 0};

/* VEX opcode maps, selected by VEX.m-mmmm (1: 0F, 2: 0F 38, 3: 0F 3A).
 * The same opcode byte means different things with and without VEX, so
 * each map has its own table. Nothing in the VEX 0F map is implemented
 * yet (AVX). */
static const vp_opdesc vex0f[256] = {
    [0x00] = {NULL, 0, 0},
};

static const vp_opdesc vex0f38[256] = {
    [0xf2] = {NULL, M | D_PFX, P_V38F2}, [0xf3] = {NULL, M | D_PFX, P_V38F3},
    [0xf5] = {NULL, M | D_PFX, P_V38F5}, [0xf6] = {NULL, M | D_PFX, P_V38F6},
    [0xf7] = {NULL, M | D_PFX, P_V38F7},
};

static const vp_opdesc vex0f3a[256] = {
    [0xf0] = {NULL, M | D_IB | D_PFX, P_V3AF0},
};

/* LOCK is allowed only on the read-modify-write forms the SDM lists under
 * "LOCK—Assert LOCK# Signal Prefix", and only with a memory destination. */
static bool lockable(const vp_insn *i, unsigned modrm_reg)
{
    if (!(i->flags & I_MEM) || (i->flags & I_VEX))
        return false;
    unsigned op = i->op;
    if (op < 0x40 && (op & 7) < 2)
        return (op & 0x38) != 0x38; /* not CMP */
    switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83:
        return modrm_reg != 7;
    case 0x86: case 0x87: return true;
    case 0xf6: case 0xf7: return modrm_reg == 2 || modrm_reg == 3;
    case 0xfe: case 0xff: return modrm_reg < 2;
    case 0x1ab: case 0x1b3: case 0x1bb: case 0x1b0: case 0x1b1:
    case 0x1c0: case 0x1c1: return true;
    case 0x1ba: return modrm_reg >= 5;
    case 0x1c7: return modrm_reg == 1;
    default: return false;
    }
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

int vp_decode(const uint8_t *bytes, int avail, int code_size, vp_insn *out)
{
    vp_insn i;
    memset(&i, 0, sizeof(i));
    int p = 0, limit = avail < 15 ? avail : 15;
    bool o16 = false, a16 = false, bad = false;
    int segovr = -1;
    uint8_t rex = 0;
#define NEED(n)                                   \
    do {                                          \
        if (p + (n) > limit)                      \
            return avail >= 15 ? -1 : 0;          \
    } while (0)

    /* Legacy prefixes, then REX (only the last one counts in 64-bit mode). */
    for (;;) {
        NEED(1);
        uint8_t b = bytes[p];
        if (b == 0x66) o16 = true;
        else if (b == 0x67) a16 = true;
        else if (b == 0xf0) i.flags |= I_LOCK;
        else if (b == 0xf2) { i.flags |= I_REPNE; i.flags &= ~I_REP; }
        else if (b == 0xf3) { i.flags |= I_REP; i.flags &= ~I_REPNE; }
        else if (b == 0x26) segovr = S_ES;
        else if (b == 0x2e) segovr = S_CS;
        else if (b == 0x36) segovr = S_SS;
        else if (b == 0x3e) segovr = S_DS;
        else if (b == 0x64) segovr = S_FS;
        else if (b == 0x65) segovr = S_GS;
        else if (code_size == 8 && (b & 0xf0) == 0x40) {
            rex = b;
            p++;
            NEED(1);
            uint8_t nb = bytes[p];
            /* A REX followed by another prefix is ignored. */
            if (nb == 0x66 || nb == 0x67 || nb == 0xf0 || nb == 0xf2 ||
                nb == 0xf3 || nb == 0x26 || nb == 0x2e || nb == 0x36 ||
                nb == 0x3e || nb == 0x64 || nb == 0x65 ||
                (nb & 0xf0) == 0x40) {
                rex = 0;
                continue;
            }
            break;
        } else
            break;
        p++;
    }
    if (rex)
        i.flags |= I_REX;
    if (o16)
        i.flags |= I_O16;

    /* The mandatory-prefix index of D_PFX rows (SDM Vol 2, "Instruction
     * Prefixes": 66/F2/F3 as opcode extensions). */
    unsigned pfx = (i.flags & I_REP) ? 2 : (i.flags & I_REPNE) ? 3 : o16 ? 1 : 0;

    NEED(1);
    uint8_t opb = bytes[p++];
    const vp_opdesc *d;
    bool vex = false;
    unsigned vex_w = 0;
    if (code_size != 8 && (opb == 0xc4 || opb == 0xc5))
        NEED(1);
    if ((opb == 0xc4 || opb == 0xc5) &&
        (code_size == 8 || (bytes[p] & 0xc0) == 0xc0)) {
        /* VEX (SDM Vol 2, "The VEX Prefix"). Outside 64-bit mode C4/C5
         * are LES/LDS unless the next byte has bits 7:6 = 11b (the ModRM
         * of LES/LDS would name a register, which is invalid), and there
         * VEX.R, VEX.X, VEX.B and the top bit of VEX.vvvv are ignored.
         * 66, F2, F3, LOCK or REX before VEX is #UD. */
        vex = true;
        unsigned b1, b2, map, rb = 0;
        if (opb == 0xc5) {
            NEED(1);
            b1 = bytes[p++];
            b2 = b1;                   /* R vvvv L pp, implied 0F, W0 */
            map = 1;
            rb = (~b1 >> 5) & 4;       /* R -> REX.R position */
        } else {
            NEED(2);
            b1 = bytes[p++];           /* R X B m-mmmm */
            b2 = bytes[p++];           /* W vvvv L pp */
            map = b1 & 0x1f;
            rb = ((~b1 >> 5) & 7);     /* R X B -> REX.R X B */
            vex_w = b2 >> 7;
        }
        unsigned vvvv = (~b2 >> 3) & 0xf;
        if (code_size != 8) {
            rb = 0;
            vvvv &= 7;
        }
        if (o16 || (i.flags & (I_REP | I_REPNE | I_LOCK)) || rex)
            bad = true;
        rex = (uint8_t)(rb | (vex_w << 3));
        pfx = b2 & 3;
        i.flags |= I_VEX;
        i.vex = (uint8_t)(vvvv | (((b2 >> 2) & 1) << 5) | (vex_w << 7));
        NEED(1);
        opb = bytes[p++];
        i.op = (uint16_t)(map << 8 | opb);
        static const vp_opdesc *const vmaps[4] = {NULL, vex0f, vex0f38,
                                                  vex0f3a};
        d = map >= 1 && map <= 3 ? &vmaps[map][opb] : &undef_modrm;
        if (!d->attr)
            d = map == 3 ? &undef_modrm_ib : &undef_modrm;
    } else if (opb == 0x0f) {
        NEED(1);
        opb = bytes[p++];
        if (opb == 0x38 || opb == 0x3a) {
            unsigned map = opb == 0x38 ? 2 : 3;
            NEED(1);
            opb = bytes[p++];
            i.op = (uint16_t)(map << 8 | opb);
            d = map == 2 ? &map0f38[opb] : &map0f3a[opb];
            if (!d->attr)
                d = map == 3 ? &undef_modrm_ib : &undef_modrm;
        } else {
            i.op = 0x100 | opb;
            d = &map2[opb];
        }
    } else {
        i.op = opb;
        d = &map1[opb];
    }

    /* ModRM, then the selectors it and the prefixes drive. */
    uint8_t modrm = 0;
    uint32_t attr = d->attr;
    if (attr & D_MODRM) {
        NEED(1);
        modrm = bytes[p];
    }
    unsigned mod = (attr & D_MODREG) ? 3 : modrm >> 6;
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    for (int depth = 0; depth < 4; depth++) {
        if (attr & D_PFX)
            d = &pfxsel[d->sub][pfx];
        else if (attr & D_GROUP)
            d = &groups[d->sub][reg];
        else if (attr & D_MODSEL)
            d = &modsel[d->sub][mod == 3];
        else if (attr & D_RMSEL)
            d = &rmsel[d->sub][rm];
        else
            break;
        attr = (attr & ~(uint32_t)(D_PFX | D_GROUP | D_MODSEL | D_RMSEL)) |
               d->attr;
    }
    vp_handler fn = d->fn;
    i.sub = d->sub;

    /* Sizes. */
    if (code_size == 8) {
        i.asize = a16 ? 4 : 8;
        if (rex & 8)
            i.osize = 8;
        else if (attr & D_F64)
            i.osize = 8;
        else if (o16)
            i.osize = 2;
        else
            i.osize = (attr & D_DEF64) ? 8 : 4;
    } else {
        bool big = code_size == 4;
        i.asize = (big ^ a16) ? 4 : 2;
        i.osize = (big ^ o16) ? 4 : 2;
    }
    /* VEX-encoded general-purpose instructions are 32-bit, or 64-bit
     * with VEX.W1 in 64-bit mode (VEX.W is ignored elsewhere for them). */
    if (vex || (attr & D_OP32))
        i.osize = code_size == 8 && ((rex & 8) || (attr & D_F64)) ? 8 : 4;
    if (vex && (((attr & D_VEXL0) && VEX_L(&i)) ||
                ((attr & D_NOVVVV) && VEX_REG(&i))))
        bad = true;              /* SDM Vol 2A, "VEX.vvvv" and "VEX.L" */

    /* ModRM addressing, SIB, displacement. */
    i.base = i.index = REG_NONE;
    i.seg = S_DS;
    if (attr & D_MODRM) {
        p++;
        i.reg = (uint8_t)(reg | ((rex & 4) << 1));
        i.rm = (uint8_t)(rm | ((rex & 1) << 3));
        if (mod != 3) {
            i.flags |= I_MEM;
            if (i.asize == 2) {
                static const uint8_t b16[8] = {R_BX, R_BX, R_BP, R_BP,
                                               R_SI, R_DI, R_BP, R_BX};
                static const uint8_t x16[8] = {R_SI, R_DI, R_SI, R_DI,
                                               REG_NONE, REG_NONE,
                                               REG_NONE, REG_NONE};
                if (mod == 0 && rm == 6) {
                    NEED(2);
                    i.disp = (int16_t)le(bytes + p, 2);
                    p += 2;
                } else {
                    i.base = b16[rm];
                    i.index = x16[rm];
                    if (i.base == R_BP)
                        i.seg = S_SS;
                    if (mod == 1) {
                        NEED(1);
                        i.disp = (int8_t)bytes[p++];
                    } else if (mod == 2) {
                        NEED(2);
                        i.disp = (int16_t)le(bytes + p, 2);
                        p += 2;
                    }
                }
            } else {
                unsigned base = rm;
                bool nobase = false;
                if (rm == 4) {
                    NEED(1);
                    uint8_t sib = bytes[p++];
                    unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
                    base = sib & 7;
                    if (idx != 4)
                        i.index = (uint8_t)idx;
                    i.scale = sib >> 6;
                    if (base == 5 && mod == 0)
                        nobase = true;
                } else if (rm == 5 && mod == 0) {
                    nobase = true;
                    if (code_size == 8)
                        i.flags |= I_RIPREL;
                }
                if (!nobase) {
                    i.base = (uint8_t)(base | ((rex & 1) << 3));
                    if (i.base == R_SP || i.base == R_BP)
                        i.seg = S_SS;
                }
                if (mod == 1) {
                    NEED(1);
                    i.disp = (int8_t)bytes[p++];
                } else if (mod == 2 || nobase) {
                    NEED(4);
                    i.disp = (int32_t)le(bytes + p, 4);
                    p += 4;
                }
            }
        }
    } else if (attr & D_REGOP) {
        i.reg = (uint8_t)((opb & 7) | ((rex & 1) << 3));
    }
    if (segovr >= 0)
        i.seg = (uint8_t)segovr;
    if (attr & D_BYTE)
        i.osize = 1;

    /* Immediates. */
    if (attr & D_IB) {
        NEED(1);
        i.imm = bytes[p++];
    } else if (attr & D_IW) {
        NEED(2);
        i.imm = le(bytes + p, 2);
        p += 2;
    } else if (attr & D_IZ) {
        int n = i.osize == 2 ? 2 : 4;
        NEED(n);
        i.imm = sign_ext(le(bytes + p, n), (unsigned)n);
        p += n;
    } else if (attr & D_IV) {
        int n = i.osize;
        NEED(n);
        i.imm = le(bytes + p, n);
        p += n;
    } else if (attr & D_MOFFS) {
        int n = i.asize;
        NEED(n);
        i.imm = le(bytes + p, n);
        p += n;
    } else if (attr & D_FARPTR) {
        int n = i.osize == 2 ? 2 : 4;
        NEED(n + 2);
        i.imm = le(bytes + p, n);
        i.imm2 = (uint16_t)le(bytes + p + n, 2);
        p += n + 2;
    } else if (attr & D_ENTER) {
        NEED(3);
        i.imm = le(bytes + p, 2);
        i.imm2 = bytes[p + 2];
        p += 3;
    }
    /* Group 3's TEST (F6/F7 /0 and /1) carries an immediate. */
    if ((i.op == 0xf6 || i.op == 0xf7) && reg < 2 && !vex) {
        int n = i.osize == 1 ? 1 : i.osize == 2 ? 2 : 4;
        NEED(n);
        i.imm = sign_ext(le(bytes + p, n), (unsigned)n);
        p += n;
    }
#undef NEED
    if (!fn || bad || ((attr & D_NO64) && code_size == 8))
        fn = op_ud;
    i.len = (uint8_t)p;
    i.endblk = (attr & D_END) ? 1 : 0;
    if ((i.flags & I_LOCK) && !lockable(&i, reg))
        fn = op_ud;
    i.fn = fn;
    *out = i;
    return p;
}
