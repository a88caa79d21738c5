/* Decoder cross-check against Capstone (CS_ARCH_X86, CS_OPT_DETAIL).
 *
 * Every opcode of the one-byte map, the two-byte map (0F xx), the
 * three-byte maps (0F 38 xx, 0F 3A xx) and the VEX maps is decoded in 16-,
 * 32- and 64-bit mode by vp_decode and by Capstone, with prefix sequences
 * and ModRM/SIB/displacement/immediate bytes that reach every addressing
 * form (24 bytes are offered; the filler bytes are distinct and nonzero, in
 * a positive and a negative pattern, so displacements and immediates are
 * recognisable and sign extension shows):
 *
 *   tier A  every ModRM byte x 4 SIB bytes (scale 1-8, no index, index 4
 *           with REX.X, base 4 and 5) under no prefix, 66, 67, 66 67 and,
 *           in 64-bit mode, REX 40 41 42 44 48 4F, 66 48, 67 43, 66 4C.
 *   tier B  16 ModRM patterns (all eight ModRM.reg rows in register and
 *           memory form; SIB with and without base; disp8/16/32; [disp16],
 *           [disp32], RIP-relative) under every legacy prefix (66 67 F0 F2
 *           F3 26 2E 36 3E 64 65), every ordered pair of them, every
 *           ordered triple of distinct 66 67 F0 F2 F3 2E 64 and, in 64-bit
 *           mode, REX (40 41 42 44 48 4F) alone or after one legacy prefix,
 *           REX.W (48 4F) also after two, plus REX bytes that are not last
 *           (ignored) and two REX bytes.
 *   tier C  0-14 redundant DS overrides (then nothing, 66 or REX.W) before
 *           the longest and shortest ModRM forms: the 15-byte limit.
 *   tier V  C4 and C5 VEX prefixes (maps 0F, 0F 38, 0F 3A; W, L, pp, two
 *           vvvv values, R/X/B clear or set), every opcode, the tier B
 *           ModRM patterns bare and under 67, 2E and the prefixes that make
 *           VEX #UD (66 F2 F3 F0 REX); the tier A sweep where vp decodes.
 *   coverage  every opcode under none/66/F3/F2 (VEX: pp, W, L) in register
 *           and memory form for each ModRM.reg row: what Capstone decodes
 *           and Vanderpool maps to #UD, printed as a summary.
 * An opcode that vp decodes to #UD with no prefix, each single legacy
 * prefix and each tier A prefix is not run through tiers B and C (prefixes
 * cannot make an undefined opcode defined, except the mandatory 66/F2/F3
 * and REX.W, which that probe includes); tier A skips prefix sequences
 * under which none of the tier B patterns decodes.
 *
 * Scope. Only encodings that Vanderpool decodes to a real handler (not
 * op_ud; UD0/UD1/UD2 without LOCK count as real, they are defined
 * instructions) are compared. For them:
 *   - the length must equal Capstone's (over 15 bytes: vp_decode's -1 and
 *     Capstone's rejection agree); vp_decode with exactly the length must
 *     decode and with one byte fewer must return 0;
 *   - Capstone must accept the encoding (else a "validity" mismatch);
 *   - when both accept it with the same length: address size; memory vs
 *     register ModRM operand; base, index, scale, displacement (modulo the
 *     address size), segment (16/32-bit modes; FS/GS in 64-bit mode, where
 *     the others are ignored); MOV moffs offset and segment, the string
 *     instructions' source segment; the immediate bytes (at Capstone's
 *     encoding offset; ENTER and far pointers by value); the register
 *     numbers of ModRM.reg, ModRM.rm and opcode+r operands and AH..BH vs
 *     SPL..DIL; and the operand size, for the handlers in handler_checks[]
 *     (an operand whose Capstone size is the operand size).
 * Capstone 4 mishandles some prefix orders (66 before F2/F3 drops the
 * operand-size override; mandatory prefixes must come last). As legacy
 * prefix order is architecturally irrelevant (apart from F2 vs F3 and
 * segment vs segment, kept), a difference under such an order is retried
 * with 66 and/or F2/F3 moved last and counts as resolved if Capstone then
 * agrees completely.
 *
 * Every remaining difference must be matched by an entry of one of two
 * commented tables, else the test fails:
 *   quirks[]          Capstone (4.0.x) behaviour that is wrong or not
 *                     comparable (the SDM is the reference);
 *   known_failures[]  Vanderpool decoder bugs still outstanding. An entry
 *                     that no longer matches anything in a mode it names
 *                     also fails the test: delete it when decode.c is fixed.
 *
 * Environment: VP_DECODE_VERBOSE=1 prints the quirk and known-failure
 * groups, the handlers never compared and the coverage list with
 * Capstone's mnemonics; VP_DECODE_DUMP=<file> appends every mismatching
 * case to <file>. */
#include "testsuites/unit/lib/unit.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu/insn.h"
#include "emu/cpu/ops.h"

#define BUFLEN 24 /* bytes offered to both decoders (more than 15) */

/* Opcode maps: 0 one-byte, 1 0F, 2 0F 38, 3 0F 3A; 4-6 the VEX maps
 * 0F, 0F 38, 0F 3A (C4/C5 prefixes). */
#define NMAP 7

/* ---- modes ------------------------------------------------------------ */

enum { M16 = 1, M32 = 2, M64 = 4, MALL = 7 };

static const struct {
    int code_size;
    cs_mode csm;
    const char *name;
} modes[3] = {{2, CS_MODE_16, "16"}, {4, CS_MODE_32, "32"}, {8, CS_MODE_64, "64"}};

/* ---- prefix facts (for the tables) ------------------------------------ */

enum {
    P_66 = 1u << 0, P_67 = 1u << 1, P_F0 = 1u << 2, P_F2 = 1u << 3,
    P_F3 = 1u << 4, P_SEG = 1u << 5, P_FSGS = 1u << 6,
    P_REX = 1u << 7,    /* an effective REX (last prefix before the opcode) */
    P_REXW = 1u << 8, P_REXR = 1u << 9, P_REXX = 1u << 10, P_REXB = 1u << 11,
    P_REXIGN = 1u << 12, /* a REX byte followed by another prefix */
    P_REPF2 = 1u << 13,  /* the last of F2/F3 is F2 */
    P_REPF3 = 1u << 14,  /* the last of F2/F3 is F3 */
    P_SEGDUP = 1u << 15, /* two or more segment overrides */
    P_66NL = 1u << 16,   /* 66 followed by another legacy prefix */
    P_F2NL = 1u << 17,   /* F2 followed by another legacy prefix */
    P_F3NL = 1u << 18,   /* F3 followed by another legacy prefix */
};

/* ---- mismatch kinds ---------------------------------------------------- */

enum {
    K_LEN,    /* lengths differ (both accept, or vp says > 15 bytes) */
    K_VALID,  /* vp decodes a real handler, Capstone rejects the bytes */
    K_ASIZE,  /* address size */
    K_MEM,    /* memory vs register ModRM operand */
    K_BASE, K_INDEX, K_SCALE, K_DISP, K_SEGM,
    K_IMM,    /* immediate bytes */
    K_REG,    /* register number / AH..BH vs SPL..DIL */
    K_OSIZE,  /* operand size */
    K_TRUNC,  /* vp_decode with fewer bytes than the length is not 0 */
    NK
};
static const char *const kind_names[NK] = {
    "length", "validity", "address-size", "mem/reg", "base", "index",
    "scale", "disp", "segment", "immediate", "register", "operand-size",
    "truncated"};
#define KB(k) (1u << (k))

/* ---- exclusion tables -------------------------------------------------- */

enum { F_ANY, F_MEM, F_REG };

typedef struct drule {
    uint8_t modes;       /* M16 | M32 | M64 */
    uint8_t map;         /* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A,
                            4-6: VEX 0F, 0F 38, 0F 3A */
    uint8_t lo, hi;      /* opcode range */
    uint8_t rows;        /* ModRM.reg rows (bit n: row n), 0: any */
    int8_t form;         /* F_* by ModRM.mod (of the byte after the opcode) */
    uint32_t need;       /* P_* facts that must hold */
    uint32_t forbid;     /* P_* facts that must not hold */
    uint16_t kinds;      /* KB(K_*) covered */
    const char *why;
} drule;

#define ROW(n) (1u << (n))
#define KV KB(K_VALID)

/* Capstone 4.0.x behaviour that is not a Vanderpool bug. Each entry says
 * why; the SDM (Intel) is the reference. Entries that match nothing are
 * reported with VP_DECODE_VERBOSE=1 but do not fail the test (another
 * Capstone version may not have the quirk). */
static const drule quirks[] = {
    /* (a) Encodings the SDM leaves undefined (#UD). Capstone rejects the
     * bytes; Vanderpool decodes them to a handler that raises #UD when it
     * runs, which is the same architectural result (a fault does not
     * depend on the length). */
    {MALL, 0, 0x8d, 0x8d, 0, F_REG, 0, 0, KV,
     "LEA with a register operand: op_lea raises #UD"},
    {MALL, 0, 0x62, 0x62, 0, F_REG, 0, 0, KV,
     "BOUND with a register operand (EVEX on AVX-512 parts, which are not "
     "modelled): op_bound raises #UD"},
    {MALL, 0, 0x8c, 0x8c, ROW(6) | ROW(7), F_ANY, 0, 0, KV,
     "MOV r/m, Sreg with Sreg 6/7: op_mov_e_sreg raises #UD"},
    {MALL, 0, 0x8e, 0x8e, ROW(6) | ROW(7), F_ANY, 0, 0, KV,
     "MOV Sreg, r/m with Sreg 6/7: op_mov_sreg_e raises #UD"},
    {MALL, 0, 0xff, 0xff, ROW(3) | ROW(5), F_REG, 0, 0, KV,
     "CALLF/JMPF m16:x with a register operand: far_ptr() raises #UD"},
    {MALL, 0, 0xd8, 0xdf, 0, F_ANY, 0, 0, KV,
     "reserved x87 encodings: op_x87 raises #NM or #UD for every x87 "
     "instruction (no FPU), so which x87 encodings exist does not matter"},
    {MALL, 1, 0xb2, 0xb5, 0, F_REG, 0, 0, KV,
     "LSS/LFS/LGS with a register operand: op_lxs raises #UD"},
    {MALL, 2, 0xf0, 0xf1, 0, F_REG, 0, 0, KV,
     "MOVBE with a register operand: op_movbe raises #UD"},
    {MALL, 2, 0x82, 0x82, 0, F_REG, P_66, 0, KV,
     "INVPCID with a register operand: op_invpcid raises #UD"},

    /* (b) Capstone 4 gaps and bugs against the SDM. */
    {MALL, 1, 0x18, 0x1f, 0, F_REG, 0, 0, KV,
     "0F 18-1F register forms (reserved NOP / hint space, SDM Table A-3; "
     "0F 1F /0 is NOP r/m): Capstone rejects them, Vanderpool runs them as "
     "NOP with the ModRM length"},
    {MALL, 1, 0x0d, 0x0d, 0, F_ANY, 0, 0, KV,
     "0F 0D: Capstone accepts only /1 with memory (PREFETCHW); the opcode "
     "is a ModRM prefetch/NOP for every row (AMD PREFETCH /0, aliases), "
     "Vanderpool runs it as NOP with the ModRM length"},
    {MALL, 1, 0xae, 0xae, ROW(5) | ROW(6) | ROW(7), F_REG, 0, 0, KV,
     "LFENCE/MFENCE/SFENCE with ModRM.rm != 0: Capstone accepts only rm 0; "
     "SDM Table A-6 (group 15, mod 11B) leaves rm free"},
    {MALL, 1, 0x01, 0x01, ROW(5), F_REG, 0, 0, KV,
     "0F 01 EE/EF RDPKRU/WRPKRU: unknown to Capstone 4"},
    {MALL, 1, 0xb9, 0xb9, 0, F_ANY, 0, 0, KB(K_LEN) | KV,
     "UD1 is 0F B9 /r (SDM): Capstone 4 decodes it without ModRM (ud2b)"},
    {MALL, 1, 0xff, 0xff, 0, F_ANY, 0, 0, KB(K_LEN) | KV,
     "UD0 is 0F FF /r (SDM): Capstone 4 decodes it without ModRM and "
     "rejects it with prefixes"},
    {M16, 1, 0xb8, 0xb8, 0, F_ANY, P_F3, 0, KV,
     "POPCNT in 16-bit code: Capstone rejects it (valid in every mode)"},
    {M16, 2, 0x82, 0x82, 0, F_ANY, P_66, 0, KV,
     "INVPCID in 16-bit code: Capstone rejects it (SDM: valid in real "
     "mode)"},
    {M16, 2, 0xf6, 0xf6, 0, F_ANY, 0, 0, KV,
     "ADCX/ADOX in 16-bit code: Capstone rejects them (valid in every mode)"},
    {M64, 0, 0xe8, 0xe9, 0, F_ANY, P_66, 0, KB(K_LEN),
     "66 E8/E9 in 64-bit mode: Capstone decodes rel16 (AMD); the SDM "
     "(Intel) forces the operand size to 64 and keeps rel32, as Vanderpool "
     "(whose decoder does not depend on the CPU model, vp-amd included)"},
    {M64, 1, 0x80, 0x8f, 0, F_ANY, P_66, 0, KB(K_LEN),
     "66 0F 8x (Jcc) in 64-bit mode: Capstone decodes rel16 (AMD); Intel "
     "keeps rel32, as Vanderpool"},
    {M64, 0, 0xc2, 0xc2, 0, F_ANY, P_REXW, 0, KB(K_LEN),
     "RET imm16 with REX.W after 66 or 67: Capstone reads a 4-byte "
     "immediate (the immediate is always 16 bits)"},
    {M64, 0, 0xff, 0xff, ROW(6), F_ANY, P_66 | P_REXW, 0, KB(K_OSIZE),
     "PUSH r/m with 66 and REX.W: REX.W takes precedence (SDM Vol 1 "
     "3.6.1), 64-bit; Capstone says 16-bit"},
    {M64, 0, 0x8f, 0x8f, ROW(0), F_ANY, P_66 | P_REXW, 0, KB(K_OSIZE),
     "POP r/m with 66 and REX.W: 64-bit (REX.W wins); Capstone says 16-bit"},
    {M64, 0, 0x6c, 0x6f, 0, F_ANY, P_67 | P_REXW, 0, KB(K_OSIZE),
     "67 with REX.W: Capstone 4 gives INS/OUTS a 16-bit operand size, as "
     "if 67 were 66"},
    {M64, 0, 0xe4, 0xe7, 0, F_ANY, P_67 | P_REXW, 0, KB(K_OSIZE),
     "67 with REX.W: Capstone 4 gives IN/OUT imm8 a 16-bit operand size"},
    {M64, 0, 0xec, 0xef, 0, F_ANY, P_67 | P_REXW, 0, KB(K_OSIZE),
     "67 with REX.W: Capstone 4 gives IN/OUT DX a 16-bit operand size"},
    {M64, 0, 0x8f, 0x8f, ROW(0), F_ANY, P_67 | P_REXW, 0, KB(K_OSIZE),
     "67 with REX.W: Capstone 4 gives POP r/m a 16-bit operand size"},
    {M64, 0, 0xff, 0xff, ROW(6), F_ANY, P_67 | P_REXW, 0, KB(K_OSIZE),
     "67 with REX.W: Capstone 4 gives PUSH r/m a 16-bit operand size"},
    {M64, 0, 0xe8, 0xe8, 0, F_ANY, P_67 | P_REXW, 0, KB(K_LEN),
     "67 REX.W E8: Capstone 4 reads rel16 as if 67 were 66"},
    {M64, 0, 0x63, 0x63, 0, F_ANY, 0, P_REXW, KB(K_OSIZE),
     "MOVSXD without REX.W is MOVSXD r32, r/m32 (SDM); Capstone 4 shows a "
     "64-bit destination"},

    /* (c) Not documented by the SDM; Vanderpool's choice noted. */
    {M64, 0, 0x8c, 0x8e, 0, F_ANY, P_REXR, 0, KV,
     "MOV to/from Sreg with REX.R: Capstone rejects it; the SDM names the "
     "segment register with the 3-bit ModRM.reg and says nothing of REX.R; "
     "Vanderpool (like QEMU) ignores REX.R"},
    {M64, 0, 0x6c, 0x6f, 0, F_ANY, P_66 | P_REXW, 0, KB(K_OSIZE),
     "INS/OUTS with 66 and REX.W: there is no 64-bit form; Vanderpool "
     "lets REX.W win (SDM Vol 1 3.6.1) and does a 32-bit access "
     "(io_size), Capstone a 16-bit one"},
    {M64, 0, 0xe4, 0xe7, 0, F_ANY, P_66 | P_REXW, 0, KB(K_OSIZE),
     "IN/OUT imm8 with 66 and REX.W: as INS/OUTS (io_osize)"},
    {M64, 0, 0xec, 0xef, 0, F_ANY, P_66 | P_REXW, 0, KB(K_OSIZE),
     "IN/OUT DX with 66 and REX.W: as INS/OUTS (io_osize)"},
};

/* Vanderpool decoder bugs found by this test and not fixed yet. The test
 * passes with them; an entry that matches nothing in a mode it names fails
 * the test (remove it once decode.c is fixed). */
static const drule known_failures[] = {
    /* None outstanding. Found by this test and fixed in decode.c:
     * MOV to/from CR/DR (0F 20-23) read SIB/displacement for ModRM.mod
     * 0-2 ("the mod field is ignored"); VEX RORX accepted VEX.vvvv other
     * than 1111b. Entry format:
     * {MALL, 1, 0x20, 0x23, 0, F_MEM, 0, 0, KB(K_LEN) | KB(K_MEM), "why"} */
    {0, 0, 0, 0, 0, F_ANY, 0, 0, 0, NULL},
};

#define NQUIRK (sizeof(quirks) / sizeof(quirks[0]))
#define NKNOWN (sizeof(known_failures) / sizeof(known_failures[0]))

/* ---- handler names and per-handler operand checks ---------------------- */

static const struct {
    vp_handler fn;
    const char *name;
} handler_names[] = {
#define X(n) {op_##n, #n},
#include "emu/cpu/ops.def"
#undef X
};

#define NHANDLERS (sizeof(handler_names) / sizeof(handler_names[0]))

static int handler_index(vp_handler fn)
{
    static vp_handler last;
    static int last_i = -1;
    if (fn == last)
        return last_i;
    for (size_t k = 0; k < NHANDLERS; k++)
        if (handler_names[k].fn == fn) {
            last = fn;
            last_i = (int)k;
            return last_i;
        }
    return -1;
}

static const char *handler_name(vp_handler fn)
{
    for (size_t k = 0; k < sizeof(handler_names) / sizeof(handler_names[0]); k++)
        if (handler_names[k].fn == fn)
            return handler_names[k].name;
    return "?";
}

/* Which register operands and which operand size are checked against
 * Capstone's operands, per handler. Handlers not listed get the length,
 * address-size, addressing and immediate checks only. */
enum {
    HC_G = 1u << 0,     /* ModRM.reg (with REX.R) is a GPR operand */
    HC_E = 1u << 1,     /* ModRM.rm (with REX.B) is a GPR operand (mod 3) */
    HC_R = 1u << 2,     /* opcode+r (with REX.B) is a GPR operand */
    HC_OS0 = 1u << 3,   /* osize == size of Capstone's first operand */
    HC_OSL = 1u << 4,   /* osize == size of Capstone's last operand */
    HC_OSREG = 1u << 5, /* ...register forms only */
    HC_OS64 = 1u << 6,  /* ...64-bit mode only */
    HC_OSIO = 1u << 7,  /* ...with osize 8 read as 4: the I/O handlers
                           ignore REX.W (io_osize, io_size), as the SDM
                           says IN/OUT/INS/OUTS do */
    HC_IMM2 = 1u << 8,  /* two immediates (ENTER, far pointer) */
    HC_MOFFS = 1u << 9, /* moffs: offset in imm, segment */
    HC_SRC = 1u << 10,  /* string source DS:rSI: segment */
};

static const struct {
    vp_handler fn;
    unsigned chk;
} handler_checks[] = {
    {op_alu_eg, HC_G | HC_E | HC_OS0}, {op_alu_ge, HC_G | HC_E | HC_OS0},
    {op_alu_ai, HC_OS0}, {op_alu_ei, HC_E | HC_OS0},
    {op_test_eg, HC_G | HC_E | HC_OS0}, {op_test_ai, HC_OS0},
    {op_test_ei, HC_E | HC_OS0}, {op_incdec, HC_E | HC_OS0},
    {op_incdec_r, HC_R | HC_OS0}, {op_not, HC_E | HC_OS0},
    {op_neg, HC_E | HC_OS0}, {op_mul, HC_E | HC_OS0},
    {op_imul1, HC_E | HC_OS0}, {op_imul2, HC_G | HC_E | HC_OS0},
    {op_imul3, HC_G | HC_E | HC_OS0}, {op_div, HC_E | HC_OS0},
    {op_idiv, HC_E | HC_OS0}, {op_shift, HC_E | HC_OS0},
    {op_shld_shrd, HC_G | HC_E | HC_OS0}, {op_bt_g, HC_G | HC_E | HC_OS0},
    {op_bt_i, HC_E | HC_OS0}, {op_bsf_bsr, HC_G | HC_E | HC_OS0},
    {op_cmpxchg, HC_G | HC_E | HC_OS0}, {op_xadd, HC_G | HC_E | HC_OS0},
    {op_setcc, HC_E | HC_OS0}, {op_cmov, HC_G | HC_E | HC_OS0},
    {op_bswap, HC_R | HC_OS0},
    {op_mov_eg, HC_G | HC_E | HC_OS0}, {op_mov_ge, HC_G | HC_E | HC_OS0},
    {op_mov_ei, HC_E | HC_OS0}, {op_mov_ri, HC_R | HC_OS0},
    {op_mov_moffs, HC_OS0 | HC_MOFFS}, {op_movzx, HC_G | HC_E | HC_OS0},
    {op_movsx, HC_G | HC_E | HC_OS0},
    {op_movsxd_arpl, HC_G | HC_E | HC_OS0 | HC_OS64},
    {op_lea, HC_G | HC_OS0}, {op_xchg_eg, HC_G | HC_E | HC_OS0},
    {op_xchg_ax, HC_R | HC_OS0}, {op_push_r, HC_R | HC_OS0},
    {op_pop_r, HC_R | HC_OS0}, {op_push_e, HC_E | HC_OS0},
    {op_pop_e, HC_E | HC_OS0}, {op_mov_e_sreg, HC_E | HC_OS0 | HC_OSREG},
    {op_mov_sreg_e, HC_E}, {op_lxs, HC_G | HC_OS0},
    {op_movs, HC_OS0 | HC_SRC}, {op_cmps, HC_OS0 | HC_SRC},
    {op_stos, HC_OS0}, {op_lods, HC_OS0 | HC_SRC}, {op_scas, HC_OS0},
    {op_ins, HC_OS0 | HC_OSIO}, {op_outs, HC_OSL | HC_OSIO | HC_SRC},
    {op_in, HC_OS0 | HC_OSIO}, {op_out, HC_OSL | HC_OSIO},
    {op_enter, HC_IMM2}, {op_callf, HC_IMM2}, {op_jmpf, HC_IMM2},
    {op_jmp_ind, HC_E | HC_OS0}, {op_call_ind, HC_E | HC_OS0},
    {op_mov_r_cr, HC_E}, {op_mov_cr_r, HC_E}, {op_mov_r_dr, HC_E},
    {op_mov_dr_r, HC_E}, {op_sldt_str, HC_E | HC_OS0 | HC_OSREG},
    {op_lldt, HC_E}, {op_ltr, HC_E}, {op_verrw, HC_E},
    {op_lar_lsl, HC_G | HC_OS0},
};

static unsigned handler_chk(vp_handler fn)
{
    for (size_t k = 0; k < sizeof(handler_checks) / sizeof(handler_checks[0]); k++)
        if (handler_checks[k].fn == fn)
            return handler_checks[k].chk;
    return 0;
}

/* UD0 (0F FF), UD1 (0F B9) and UD2 (0F 0B) are defined instructions whose
 * handler is op_ud: their length is compared like any other. */
static bool vp_is_ud(const vp_insn *i)
{
    if (i->fn != op_ud)
        return false;
    if (i->flags & (I_LOCK | I_VEX)) /* LOCK, VEX: every form is #UD */
        return true;
    return !(i->op == 0x10b || i->op == 0x1b9 || i->op == 0x1ff);
}

/* ---- Capstone registers ------------------------------------------------ */

/* GPR number 0-15 of a Capstone register (AH..BH are 4-7 with *hi set),
 * or -1. *size is the register width in bytes. */
static int cs_gpr(unsigned r, bool *hi, int *size)
{
    static const struct { unsigned r; int8_t n, sz, hi; } t[] = {
        {X86_REG_AL, 0, 1, 0}, {X86_REG_CL, 1, 1, 0}, {X86_REG_DL, 2, 1, 0},
        {X86_REG_BL, 3, 1, 0}, {X86_REG_AH, 4, 1, 1}, {X86_REG_CH, 5, 1, 1},
        {X86_REG_DH, 6, 1, 1}, {X86_REG_BH, 7, 1, 1}, {X86_REG_SPL, 4, 1, 0},
        {X86_REG_BPL, 5, 1, 0}, {X86_REG_SIL, 6, 1, 0}, {X86_REG_DIL, 7, 1, 0},
        {X86_REG_AX, 0, 2, 0}, {X86_REG_CX, 1, 2, 0}, {X86_REG_DX, 2, 2, 0},
        {X86_REG_BX, 3, 2, 0}, {X86_REG_SP, 4, 2, 0}, {X86_REG_BP, 5, 2, 0},
        {X86_REG_SI, 6, 2, 0}, {X86_REG_DI, 7, 2, 0},
        {X86_REG_EAX, 0, 4, 0}, {X86_REG_ECX, 1, 4, 0}, {X86_REG_EDX, 2, 4, 0},
        {X86_REG_EBX, 3, 4, 0}, {X86_REG_ESP, 4, 4, 0}, {X86_REG_EBP, 5, 4, 0},
        {X86_REG_ESI, 6, 4, 0}, {X86_REG_EDI, 7, 4, 0},
        {X86_REG_RAX, 0, 8, 0}, {X86_REG_RCX, 1, 8, 0}, {X86_REG_RDX, 2, 8, 0},
        {X86_REG_RBX, 3, 8, 0}, {X86_REG_RSP, 4, 8, 0}, {X86_REG_RBP, 5, 8, 0},
        {X86_REG_RSI, 6, 8, 0}, {X86_REG_RDI, 7, 8, 0},
        {X86_REG_R8, 8, 8, 0}, {X86_REG_R9, 9, 8, 0}, {X86_REG_R10, 10, 8, 0},
        {X86_REG_R11, 11, 8, 0}, {X86_REG_R12, 12, 8, 0}, {X86_REG_R13, 13, 8, 0},
        {X86_REG_R14, 14, 8, 0}, {X86_REG_R15, 15, 8, 0},
        {X86_REG_R8D, 8, 4, 0}, {X86_REG_R9D, 9, 4, 0}, {X86_REG_R10D, 10, 4, 0},
        {X86_REG_R11D, 11, 4, 0}, {X86_REG_R12D, 12, 4, 0}, {X86_REG_R13D, 13, 4, 0},
        {X86_REG_R14D, 14, 4, 0}, {X86_REG_R15D, 15, 4, 0},
        {X86_REG_R8W, 8, 2, 0}, {X86_REG_R9W, 9, 2, 0}, {X86_REG_R10W, 10, 2, 0},
        {X86_REG_R11W, 11, 2, 0}, {X86_REG_R12W, 12, 2, 0}, {X86_REG_R13W, 13, 2, 0},
        {X86_REG_R14W, 14, 2, 0}, {X86_REG_R15W, 15, 2, 0},
        {X86_REG_R8B, 8, 1, 0}, {X86_REG_R9B, 9, 1, 0}, {X86_REG_R10B, 10, 1, 0},
        {X86_REG_R11B, 11, 1, 0}, {X86_REG_R12B, 12, 1, 0}, {X86_REG_R13B, 13, 1, 0},
        {X86_REG_R14B, 14, 1, 0}, {X86_REG_R15B, 15, 1, 0},
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
        if (t[k].r == r) {
            *hi = t[k].hi;
            *size = t[k].sz;
            return t[k].n;
        }
    return -1;
}

static int cs_sreg(unsigned r)
{
    switch (r) {
    case X86_REG_ES: return S_ES;
    case X86_REG_CS: return S_CS;
    case X86_REG_SS: return S_SS;
    case X86_REG_DS: return S_DS;
    case X86_REG_FS: return S_FS;
    case X86_REG_GS: return S_GS;
    default: return -1;
    }
}

/* ---- one test case ------------------------------------------------------ */

typedef struct dcase {
    uint8_t buf[BUFLEN];
    int mode;       /* index into modes[] */
    int map;        /* 0-3 */
    uint8_t op;     /* opcode byte within the map */
    int opoff;      /* offset of the first byte after the prefixes */
    int tail;       /* offset of the byte after the opcode (ModRM if any) */
    unsigned pf;    /* P_* facts of the prefix sequence */
} dcase;

/* A mismatch group: (disposition, kind, map, opcode) within one mode. */
enum { D_UNEXPLAINED, D_KNOWN, D_QUIRK, ND };
static const char *const disp_names[ND] = {"UNEXPLAINED", "known failure",
                                           "Capstone quirk"};

typedef struct mgroup {
    unsigned count;
    uint8_t rows;      /* ModRM.reg rows seen (when a ModRM byte exists) */
    uint8_t forms;     /* 1 memory, 2 register, 4 no ModRM */
    unsigned pf_or;    /* union of prefix facts */
    char example[320];
} mgroup;

typedef struct ctx {
    csh cs;
    cs_insn *ci, *ci2; /* ci2: second opinions */
    int mode;
    mgroup *groups;    /* [ND][NK][NMAP][256] */
    unsigned quirk_hits[NQUIRK];
    unsigned known_hits[NKNOWN];
    unsigned long cases, vp_real, vp_ud, vp_long, cs_calls;
    unsigned long compared, mismatches[ND], skipped_ud, reordered;
    unsigned long handler_hits[NHANDLERS]; /* compared cases per handler */
    FILE *dump;        /* VP_DECODE_DUMP=<file>: every mismatching case */
} ctx;

static mgroup *group_at(ctx *x, int d, int k, int map, int op)
{
    return &x->groups[(((size_t)d * NK + k) * NMAP + map) * 256 + op];
}

static bool verbose(void)
{
    const char *v = getenv("VP_DECODE_VERBOSE");
    return v && *v && *v != '0';
}

static uint64_t le_bytes(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n && k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static const char *map_prefix(int map)
{
    static const char *const s[NMAP] = {"", "0f ", "0f 38 ", "0f 3a ",
                                        "vex 0f ", "vex 0f 38 ",
                                        "vex 0f 3a "};
    return s[map];
}

static bool rule_match(const drule *r, const dcase *k, int kind)
{
    if (!r->why || !(r->modes & (1u << k->mode)) || r->map != k->map ||
        k->op < r->lo || k->op > r->hi || !(r->kinds & KB(kind)))
        return false;
    uint8_t modrm = k->buf[k->tail];
    if (r->rows && !(r->rows & (1u << ((modrm >> 3) & 7))))
        return false;
    if (r->form == F_MEM && (modrm >> 6) == 3)
        return false;
    if (r->form == F_REG && (modrm >> 6) != 3)
        return false;
    return (k->pf & r->need) == r->need && !(k->pf & r->forbid);
}

static void describe_vp(char *s, size_t n, int len, const vp_insn *i)
{
    if (len < 0) {
        snprintf(s, n, "vp: >15 bytes (-1)");
        return;
    }
    int o = snprintf(s, n, "vp: len %d %s os%u as%u", len, handler_name(i->fn),
                     i->osize, i->asize);
    if (i->flags & I_MEM)
        o += snprintf(s + o, n - (size_t)o, " mem[%s%d+%d*%d%+d seg%u]",
                      (i->flags & I_RIPREL) ? "rip" : "r",
                      i->base == REG_NONE ? -1 : i->base,
                      i->index == REG_NONE ? -1 : i->index, 1 << i->scale,
                      i->disp, i->seg);
    else
        o += snprintf(s + o, n - (size_t)o, " reg %u rm %u", i->reg, i->rm);
    snprintf(s + o, n - (size_t)o, " imm %#" PRIx64, i->imm);
}

static void record(ctx *x, const dcase *k, int kind, int vlen,
                   const vp_insn *vi, const cs_insn *ci, const char *detail)
{
    int d = D_UNEXPLAINED;
    for (size_t r = 0; r < NKNOWN && d == D_UNEXPLAINED; r++)
        if (rule_match(&known_failures[r], k, kind)) {
            x->known_hits[r]++;
            d = D_KNOWN;
        }
    for (size_t r = 0; r < NQUIRK && d == D_UNEXPLAINED; r++)
        if (rule_match(&quirks[r], k, kind)) {
            x->quirk_hits[r]++;
            d = D_QUIRK;
        }
    x->mismatches[d]++;
    if (x->dump) {
        char vs[160];
        describe_vp(vs, sizeof(vs), vlen, vi);
        fprintf(x->dump, "%s %s %s %s%02x:", modes[k->mode].name,
                kind_names[kind], d == D_UNEXPLAINED ? "new" : d == D_KNOWN ? "known" : "quirk",
                map_prefix(k->map), k->op);
        for (int b = 0; b < BUFLEN; b++)
            fprintf(x->dump, " %02x", k->buf[b]);
        fprintf(x->dump, " | %s | cs: %s%s %s | %s\n", vs, ci ? ci->mnemonic : "invalid",
                "", ci ? ci->op_str : "", detail);
    }
    mgroup *g = group_at(x, d, kind, k->map, k->op);
    uint8_t modrm = k->buf[k->tail];
    if (ci && !ci->detail->x86.encoding.modrm_offset)
        g->forms |= 4;
    else {
        g->rows |= (uint8_t)(1u << ((modrm >> 3) & 7));
        g->forms |= (modrm >> 6) == 3 ? 2 : 1;
    }
    g->pf_or |= k->pf;
    if (g->count++ == 0) {
        char vs[160];
        describe_vp(vs, sizeof(vs), vlen, vi);
        int show = vlen > 0 ? vlen : 15;
        if (ci && ci->size > show)
            show = ci->size;
        int o = 0;
        for (int b = 0; b < show && b < BUFLEN; b++)
            o += snprintf(g->example + o, sizeof(g->example) - (size_t)o,
                          "%02x ", k->buf[b]);
        if (ci)
            snprintf(g->example + o, sizeof(g->example) - (size_t)o,
                     "| %s | cs: len %u %s %s%s%s", vs, ci->size,
                     ci->mnemonic, ci->op_str, *detail ? " | " : "", detail);
        else
            snprintf(g->example + o, sizeof(g->example) - (size_t)o,
                     "| %s | cs: invalid", vs);
    }
}

/* Decodes with Capstone; returns true when it accepts the bytes. */
static bool cs_decode(ctx *x, const uint8_t *buf, int n)
{
    const uint8_t *p = buf;
    size_t size = (size_t)n;
    uint64_t addr = 0;
    x->cs_calls++;
    return cs_disasm_iter(x->cs, &p, &size, &addr, x->ci);
}

/* Segment of a memory operand: Capstone names overrides only (else the
 * default `dflt`); in 64-bit mode only FS and GS matter. */
static bool seg_ok(int code_size, unsigned vseg, int cseg, int dflt)
{
    if (code_size != 8)
        return (int)vseg == (cseg >= 0 ? cseg : dflt);
    if (cseg == S_FS || cseg == S_GS || vseg == S_FS || vseg == S_GS)
        return (int)vseg == cseg;
    return true;
}

/* Operand comparison for a case both decoders accept with the same length.
 * Returns a mask of KB(kind); `why` describes the first difference. */
static unsigned compare_operands(const dcase *k, const vp_insn *vi,
                                 const cs_insn *ci, char *why, size_t wn)
{
    const cs_x86 *d = &ci->detail->x86;
    unsigned bad = 0;
    int code_size = modes[k->mode].code_size;
    why[0] = 0;
#define BAD(kind, ...)                                         \
    do {                                                       \
        if (!bad)                                              \
            snprintf(why, wn, __VA_ARGS__);                    \
        bad |= KB(kind);                                       \
    } while (0)

    if (vi->asize != d->addr_size)
        BAD(K_ASIZE, "asize vp %u cs %u", vi->asize, d->addr_size);

    bool cs_modrm = d->encoding.modrm_offset != 0;
    int memop = -1;
    for (int o = 0; o < d->op_count; o++)
        if (d->operands[o].type == X86_OP_MEM) {
            memop = o;
            break;
        }
    bool cs_mem = cs_modrm && memop >= 0;
    bool vp_mem = vi->flags & I_MEM;
    if (cs_mem != vp_mem)
        BAD(K_MEM, "mem vp %d cs %d", vp_mem, cs_mem);
    if (cs_mem && vp_mem) {
        const x86_op_mem *m = &d->operands[memop].mem;
        bool hi = false;
        int sz = 0;
        int cb = m->base == X86_REG_INVALID ? -1
                 : (m->base == X86_REG_RIP || m->base == X86_REG_EIP) ? 16
                 : cs_gpr(m->base, &hi, &sz);
        int vb = (vi->flags & I_RIPREL) ? 16
                 : vi->base == REG_NONE ? -1 : vi->base;
        if (cb != vb)
            BAD(K_BASE, "base vp %d cs %d", vb, cb);
        int cx = m->index == X86_REG_INVALID ? -1 : cs_gpr(m->index, &hi, &sz);
        int vx = vi->index == REG_NONE ? -1 : vi->index;
        if (cx != vx)
            BAD(K_INDEX, "index vp %d cs %d", vx, cx);
        else if (cx >= 0 && m->scale != (1 << vi->scale))
            BAD(K_SCALE, "scale vp %d cs %d", 1 << vi->scale, m->scale);
        uint64_t amask = size_mask(vi->asize);
        if (((uint64_t)m->disp ^ (uint64_t)(int64_t)vi->disp) & amask)
            BAD(K_DISP, "disp vp %#x cs %#" PRIx64, (unsigned)vi->disp,
                (uint64_t)m->disp);
        int cseg = cs_sreg(m->segment);
        if (!seg_ok(code_size, vi->seg, cseg,
                    (vb == R_SP || vb == R_BP) ? S_SS : S_DS))
            BAD(K_SEGM, "seg vp %u cs %d", vi->seg, cseg);
    }

    unsigned chk = handler_chk(vi->fn);
    /* Memory operands without ModRM: MOV moffs (the offset is vp's imm)
     * and the DS:rSI source of the string instructions (its segment). */
    if (!cs_modrm && (chk & (HC_MOFFS | HC_SRC))) {
        for (int o = 0; o < d->op_count; o++) {
            const cs_x86_op *op = &d->operands[o];
            bool hi = false;
            int sz = 0;
            if (op->type != X86_OP_MEM)
                continue;
            if ((chk & HC_SRC) && cs_gpr(op->mem.base, &hi, &sz) != R_SI)
                continue;
            if ((chk & HC_MOFFS) &&
                (((uint64_t)op->mem.disp ^ vi->imm) & size_mask(vi->asize)))
                BAD(K_DISP, "moffs vp %#" PRIx64 " cs %#" PRIx64, vi->imm,
                    (uint64_t)op->mem.disp);
            if (!seg_ok(code_size, vi->seg, cs_sreg(op->mem.segment), S_DS))
                BAD(K_SEGM, "seg vp %u cs %d", vi->seg,
                    cs_sreg(op->mem.segment));
            break;
        }
    }

    /* Immediates. ENTER (imm16, imm8) and the far pointers (offset,
     * selector) have two: compared with Capstone's operand values. Others:
     * the bytes at Capstone's immediate offset (its size clipped to the
     * instruction: Capstone 4 reports the operand size for IN/OUT imm8
     * and with some prefix orders). */
    if (chk & HC_IMM2) {
        int o0 = -1, o1 = -1;
        for (int o = 0; o < d->op_count; o++)
            if (d->operands[o].type == X86_OP_IMM) {
                if (o0 < 0)
                    o0 = o;
                else if (o1 < 0)
                    o1 = o;
            }
        /* ENTER: imm, imm2. Far pointer: Capstone lists selector first. */
        uint64_t a = o0 >= 0 ? (uint64_t)d->operands[o0].imm : ~0ull;
        uint64_t b = o1 >= 0 ? (uint64_t)d->operands[o1].imm : ~0ull;
        if (vi->fn != op_enter) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        if (((a ^ vi->imm) & size_mask(vi->fn == op_enter ? 2 : vi->osize)) ||
            ((b ^ vi->imm2) & (vi->fn == op_enter ? 0xff : 0xffff)))
            BAD(K_IMM, "imm vp %#" PRIx64 ",%#x cs %#" PRIx64 ",%#" PRIx64,
                vi->imm, vi->imm2, a, b);
    } else if (d->encoding.imm_size && d->encoding.imm_offset < ci->size) {
        int n = d->encoding.imm_size;
        if (n > ci->size - d->encoding.imm_offset)
            n = ci->size - d->encoding.imm_offset;
        if (n > 8)
            n = 8;
        uint64_t raw = le_bytes(ci->bytes + d->encoding.imm_offset, n);
        if ((vi->imm ^ raw) & size_mask((unsigned)n))
            BAD(K_IMM, "imm vp %#" PRIx64 " cs bytes %#" PRIx64 " (%d at %u)",
                vi->imm, raw, n, d->encoding.imm_offset);
    }

    /* Register operands. */
    if (chk & (HC_G | HC_E | HC_R)) {
        int want[2], nw = 0;
        if ((chk & HC_G) && cs_modrm)
            want[nw++] = vi->reg;
        if ((chk & HC_E) && cs_modrm && !vp_mem)
            want[nw++] = vi->rm;
        if ((chk & HC_R) && !cs_modrm)
            want[nw++] = vi->reg;
        int ngpr = 0;
        for (int o = 0; o < d->op_count; o++) {
            bool hi = false;
            int sz = 0;
            if (d->operands[o].type == X86_OP_REG &&
                cs_gpr(d->operands[o].reg, &hi, &sz) >= 0)
                ngpr++;
        }
        for (int w = 0; w < nw && ngpr; w++) {
            bool found = false, hi_ok = true;
            for (int o = 0; o < d->op_count; o++) {
                bool hi = false;
                int sz = 0;
                if (d->operands[o].type != X86_OP_REG ||
                    cs_gpr(d->operands[o].reg, &hi, &sz) != want[w])
                    continue;
                found = true;
                if (sz == 1 && want[w] >= 4 && want[w] < 8)
                    hi_ok = hi == !(vi->flags & I_REX);
            }
            if (!found)
                BAD(K_REG, "register %d not among Capstone's", want[w]);
            else if (!hi_ok)
                BAD(K_REG, "byte register %d: vp REX %d, cs %s", want[w],
                    !!(vi->flags & I_REX), "other form");
        }
    }
    /* Operand size. */
    if ((chk & (HC_OS0 | HC_OSL)) && d->op_count > 0 &&
        !((chk & HC_OSREG) && vp_mem) && !((chk & HC_OS64) && code_size != 8)) {
        int o = (chk & HC_OSL) ? d->op_count - 1 : 0;
        unsigned os = vi->osize;
        if ((chk & HC_OSIO) && os == 8)
            os = 4;
        if (d->operands[o].size != os)
            BAD(K_OSIZE, "osize vp %u cs %u", os, d->operands[o].size);
    }
#undef BAD
    return bad;
}

static bool is_legacy_prefix(uint8_t b);

/* Compares vp's decode of k (vlen, vi; ref: the same opcode without
 * prefixes, for vlen -1) with Capstone's (ci, NULL when it rejects the
 * bytes or they exceed 15). Returns the first differing kind, or -1. */
static int judge(const dcase *k, int vlen, const vp_insn *vi,
                 const vp_insn *ref, const cs_insn *ci, char *why, size_t wn)
{
    why[0] = 0;
    if (vlen < 0)
        return ci && ref ? K_LEN : -1;
    if (!ci)
        return K_VALID;
    if (ci->size != vlen)
        return K_LEN;
    unsigned bad = compare_operands(k, vi, ci, why, wn);
    for (int kind = 0; kind < NK; kind++)
        if (bad & KB(kind))
            return kind; /* `why` describes this first difference */
    return -1;
}

/* Second opinion for Capstone 4's prefix-order bugs: with 66 before F2/F3
 * (and, in 64-bit mode, before 67 or a segment override) it drops the
 * operand-size override, and it wants a mandatory prefix (66 F2 F3) last.
 * The order of legacy prefixes is architecturally irrelevant except among
 * F2/F3 and among segment overrides (the last one counts), so the prefix
 * bytes are reordered keeping those relative orders: 66 last, F2/F3 last,
 * or both. Returns true when Capstone then agrees completely. */
static bool agrees_reordered(ctx *x, const dcase *k, int vlen,
                             const vp_insn *vi, const vp_insn *ref)
{
    /* Legacy prefix positions; REX bytes (ignored ones in the middle, the
     * effective one last) keep theirs. */
    int pos[16], n = 0;
    for (int b = 0; b < k->opoff && n < 16; b++)
        if (is_legacy_prefix(k->buf[b]))
            pos[n++] = b;
    for (int alt = 1; alt <= 3; alt++) {
        dcase a = *k;
        int o = 0;
        /* classes: 0 other, 1 66, 2 F2/F3; emitted in order 0, then the
         * classes moved last. */
        for (int pass = 0; pass < 3; pass++)
            for (int b = 0; b < n; b++) {
                uint8_t c = k->buf[pos[b]];
                int cls = c == 0x66 ? 1 : (c == 0xf2 || c == 0xf3) ? 2 : 0;
                if (!(alt & 1) && cls == 1)
                    cls = 0;
                if (!(alt & 2) && cls == 2)
                    cls = 0;
                if (cls == pass)
                    a.buf[pos[o++]] = c;
            }
        if (!memcmp(a.buf, k->buf, (size_t)k->opoff))
            continue;
        const uint8_t *p = a.buf;
        size_t size = BUFLEN;
        uint64_t addr = 0;
        x->cs_calls++;
        bool ok = cs_disasm_iter(x->cs, &p, &size, &addr, x->ci2) &&
                  x->ci2->size <= 15;
        char why[160];
        if (judge(&a, vlen, vi, ref, ok ? x->ci2 : NULL, why, sizeof(why)) < 0)
            return true;
    }
    return false;
}

/* Decodes `k` with both decoders and records any difference. */
static void run_case(ctx *x, const dcase *k)
{
    vp_insn vi;
    int code_size = modes[k->mode].code_size;
    int vlen = vp_decode(k->buf, BUFLEN, code_size, &vi);
    x->cases++;
    if (vlen > 0 && vp_is_ud(&vi)) {
        x->vp_ud++;
        return;
    }
    /* Over 15 bytes is #GP for both (Capstone 4 rejects such bytes). */
    bool ok = cs_decode(x, k->buf, BUFLEN) && x->ci->size <= 15;
    const cs_insn *ci = ok ? x->ci : NULL;
    vp_insn ri;
    const vp_insn *ref = NULL;
    if (vlen < 0) {
        x->vp_long++;
        /* Compared only if the same opcode without prefixes is real. */
        int rl = vp_decode(k->buf + k->opoff, BUFLEN - k->opoff, code_size,
                           &ri);
        if (rl > 0 && !vp_is_ud(&ri))
            ref = &ri;
    } else {
        x->vp_real++;
        /* The length contract: exactly `vlen` bytes decode, one fewer asks
         * for more (0). */
        vp_insn ti;
        int t1 = vp_decode(k->buf, vlen, code_size, &ti);
        int t0 = vp_decode(k->buf, vlen - 1, code_size, &ti);
        if (t1 != vlen || t0 != 0) {
            char why[96];
            snprintf(why, sizeof(why), "with %d bytes: %d, with %d: %d "
                     "(want %d, 0)", vlen, t1, vlen - 1, t0, vlen);
            record(x, k, K_TRUNC, vlen, &vi, ci, why);
        }
        if (ci && ci->size == vlen) {
            x->compared++;
            int h = handler_index(vi.fn);
            if (h >= 0)
                x->handler_hits[h]++;
        }
    }
    char why[160];
    int kind = judge(k, vlen, &vi, ref, ci, why, sizeof(why));
    if (kind < 0)
        return;
    if ((k->pf & (P_66NL | P_F2NL | P_F3NL)) &&
        agrees_reordered(x, k, vlen, &vi, ref)) {
        x->reordered++;
        return;
    }
    record(x, k, kind, vlen, ref ? ref : &vi, ci, why);
}

/* ---- case construction ---------------------------------------------------- */

static const uint8_t fill_p[16] = {0x12, 0x34, 0x56, 0x78, 0x1a, 0x2b, 0x3c, 0x4d,
                                   0x5e, 0x6f, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76};
static const uint8_t fill_n[16] = {0x9a, 0xbc, 0xde, 0xf1, 0x87, 0xa5, 0xc3, 0xe9,
                                   0x8f, 0x9e, 0xad, 0xbc, 0xcb, 0xda, 0xe9, 0xf8};

static bool is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        return true;
    default:
        return false;
    }
}

static unsigned prefix_facts(const uint8_t *p, int n, int mode)
{
    unsigned f = 0;
    int nseg = 0;
    for (int k = 0; k < n; k++) {
        uint8_t b = p[k];
        for (int l = k + 1; l < n; l++)
            if (is_legacy_prefix(p[l]))
                f |= b == 0x66 ? P_66NL : b == 0xf2 ? P_F2NL
                     : b == 0xf3 ? P_F3NL : 0;
        switch (b) {
        case 0x66: f |= P_66; break;
        case 0x67: f |= P_67; break;
        case 0xf0: f |= P_F0; break;
        case 0xf2: f = (f | P_F2 | P_REPF2) & ~P_REPF3; break;
        case 0xf3: f = (f | P_F3 | P_REPF3) & ~P_REPF2; break;
        case 0x64: case 0x65: f |= P_FSGS; /* fall through */
        case 0x26: case 0x2e: case 0x36: case 0x3e: f |= P_SEG; nseg++; break;
        default:
            if (mode == 2 && (b & 0xf0) == 0x40) {
                if (k == n - 1) {
                    f |= P_REX;
                    if (b & 8) f |= P_REXW;
                    if (b & 4) f |= P_REXR;
                    if (b & 2) f |= P_REXX;
                    if (b & 1) f |= P_REXB;
                } else
                    f |= P_REXIGN;
            }
        }
    }
    if (nseg > 1)
        f |= P_SEGDUP;
    return f;
}

/* Builds prefixes + opcode bytes (escapes or VEX prefix, then the opcode)
 * + the tail bytes into k; the rest of the buffer is filler. */
static void build_raw(dcase *k, int mode, const uint8_t *pfx, int npfx,
                      const uint8_t *opb, int nopb, int map,
                      const uint8_t *tail, int ntail)
{
    memset(k->buf, 0, sizeof(k->buf));
    if (npfx)
        memcpy(k->buf, pfx, (size_t)npfx);
    memcpy(k->buf + npfx, opb, (size_t)nopb);
    int p = npfx + nopb;
    k->opoff = npfx;
    k->tail = p;
    for (int t = 0; p < BUFLEN; p++, t++)
        k->buf[p] = t < ntail ? tail[t] : fill_p[(t - ntail) & 15];
    k->mode = mode;
    k->map = map;
    k->op = opb[nopb - 1];
    k->pf = prefix_facts(pfx, npfx, mode);
}

/* The opcode bytes of `op` in legacy map 0-3. */
static int legacy_opbytes(int map, uint8_t op, uint8_t *opb)
{
    int n = 0;
    if (map >= 1)
        opb[n++] = 0x0f;
    if (map == 2)
        opb[n++] = 0x38;
    if (map == 3)
        opb[n++] = 0x3a;
    opb[n++] = op;
    return n;
}

static void build(dcase *k, int mode, const uint8_t *pfx, int npfx, int map,
                  uint8_t op, const uint8_t *tail, int ntail)
{
    uint8_t opb[4];
    int n = legacy_opbytes(map, op, opb);
    build_raw(k, mode, pfx, npfx, opb, n, map, tail, ntail);
}

/* Opcode bytes that are not opcodes of their map: prefixes, escapes and,
 * in 64-bit mode, REX. */
static bool skip_opcode(int mode, int map, unsigned op)
{
    if (map == 0)
        return op == 0x0f || is_legacy_prefix((uint8_t)op) ||
               (mode == 2 && (op & 0xf0) == 0x40);
    if (map == 1)
        return op == 0x38 || op == 0x3a;
    return false;
}

/* Whether either decoder reads a ModRM byte for this opcode under some
 * mandatory prefix (none, 66, F3, F2) and some ModRM.reg row. */
static bool opcode_has_modrm(ctx *x, int mode, int map, unsigned op)
{
    static const uint8_t pv[4] = {0, 0x66, 0xf3, 0xf2};
    for (int v = 0; v < 4; v++)
        for (int row = 0; row < 8; row++) {
            dcase a, b;
            uint8_t ta[2] = {(uint8_t)(0x84 | row << 3), 0x25};
            uint8_t tb[2] = {(uint8_t)(0xc1 | row << 3), 0x25};
            build(&a, mode, &pv[v], v ? 1 : 0, map, (uint8_t)op, ta, 2);
            build(&b, mode, &pv[v], v ? 1 : 0, map, (uint8_t)op, tb, 2);
            vp_insn ia, ib;
            int code_size = modes[mode].code_size;
            if (vp_decode(a.buf, BUFLEN, code_size, &ia) !=
                vp_decode(b.buf, BUFLEN, code_size, &ib))
                return true;
            if (cs_decode(x, a.buf, BUFLEN) &&
                x->ci->detail->x86.encoding.modrm_offset)
                return true;
            if (cs_decode(x, b.buf, BUFLEN) &&
                x->ci->detail->x86.encoding.modrm_offset)
                return true;
        }
    return false;
}

/* A prefix sequence. */
typedef struct pseq {
    uint8_t n;
    uint8_t b[5];
} pseq;

static int add_seq(pseq *s, int n, const uint8_t *b, int len)
{
    s[n].n = (uint8_t)len;
    memcpy(s[n].b, b, (size_t)len);
    return n + 1;
}

/* Tier A: the ModRM/SIB sweep prefixes. */
static int tier_a_prefixes(int mode, pseq *s)
{
    static const uint8_t common[][2] = {{0}, {0x66}, {0x67}, {0x66, 0x67}};
    static const int common_n[] = {0, 1, 1, 2};
    static const uint8_t rex[][2] = {{0x40}, {0x41}, {0x42}, {0x44}, {0x48},
                                     {0x4f}, {0x66, 0x48}, {0x67, 0x43},
                                     {0x66, 0x4c}};
    static const int rex_n[] = {1, 1, 1, 1, 1, 1, 2, 2, 2};
    int n = 0;
    for (int k = 0; k < 4; k++)
        n = add_seq(s, n, common[k], common_n[k]);
    if (mode == 2)
        for (int k = 0; k < 9; k++)
            n = add_seq(s, n, rex[k], rex_n[k]);
    return n;
}

/* Tier B: prefix combinations. */
static const uint8_t legacy[11] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26,
                                   0x2e, 0x36, 0x3e, 0x64, 0x65};
static const uint8_t legacy3[7] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x64};
static const uint8_t rexb[6] = {0x40, 0x41, 0x42, 0x44, 0x48, 0x4f};

static int tier_b_prefixes(int mode, pseq *s)
{
    int n = 0;
    uint8_t b[5];
    for (int i = 0; i < 11; i++) {
        b[0] = legacy[i];
        n = add_seq(s, n, b, 1);
    }
    for (int i = 0; i < 11; i++)
        for (int j = 0; j < 11; j++) {
            b[0] = legacy[i];
            b[1] = legacy[j];
            n = add_seq(s, n, b, 2);
        }
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
            for (int l = 0; l < 7; l++) {
                if (i == j || j == l || i == l)
                    continue;
                b[0] = legacy3[i];
                b[1] = legacy3[j];
                b[2] = legacy3[l];
                n = add_seq(s, n, b, 3);
            }
    if (mode == 2) {
        int base = n;
        /* REX after nothing or one legacy prefix; REX.W (48, 4F) also
         * after two (R, X and B do not interact with legacy prefixes). */
        for (int r = 0; r < 6; r++) {
            b[0] = rexb[r];
            n = add_seq(s, n, b, 1);
            for (int i = 0; i < 11 + 121 && i < base; i++) {
                if (s[i].n > (rexb[r] & 8 ? 2 : 1))
                    continue;
                memcpy(b, s[i].b, s[i].n);
                b[s[i].n] = rexb[r];
                n = add_seq(s, n, b, s[i].n + 1);
            }
        }
        /* REX not last: ignored; two REX bytes: the last counts. */
        static const uint8_t odd[][3] = {
            {0x48, 0x66}, {0x41, 0xf3}, {0x44, 0x67}, {0x4f, 0x2e},
            {0x48, 0xf0}, {0x48, 0x41}, {0x41, 0x48}, {0x4f, 0x40},
            {0x48, 0x66, 0x41}, {0x66, 0x48, 0x67}};
        static const int odd_n[] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3};
        for (int k = 0; k < 10; k++)
            n = add_seq(s, n, odd[k], odd_n[k]);
    }
    return n;
}

/* Tier B ModRM patterns: {modrm, sib}; all eight reg rows in register and
 * memory forms, SIB with and without base, disp8/16/32, RIP-relative. */
static const uint8_t tier_b_modrm[16][2] = {
    {0xc1, 0}, {0xca, 0}, {0xd3, 0}, {0xdc, 0}, {0xe5, 0}, {0xee, 0},
    {0xf7, 0}, {0xf8, 0},
    {0x04, 0x25}, {0x0d, 0x11}, {0x16, 0x11}, {0x5c, 0xcc},
    {0x65, 0x11}, {0xae, 0x11}, {0xb4, 0x5a}, {0x3f, 0x11},
};

static const uint8_t sib_a[4] = {0x25, 0xcc, 0x5a, 0xa5};

/* Whether vp_decode gives a real handler (or -1) for any tier B pattern
 * or filler tail after these prefix and opcode bytes: when it does not,
 * the full ModRM sweep of tier A is skipped for them (the opcode is #UD
 * under these prefixes). */
static bool any_real(int mode, const pseq *ps, const uint8_t *opb, int nopb,
                     int map)
{
    int code_size = modes[mode].code_size;
    for (int m = 0; m < 18; m++) {
        uint8_t tail[18];
        if (m < 16) {
            tail[0] = tier_b_modrm[m][0];
            tail[1] = tier_b_modrm[m][1];
            memcpy(tail + 2, (m & 1) ? fill_n : fill_p, 16);
        } else
            memcpy(tail, m == 17 ? fill_n : fill_p, 16);
        dcase k;
        build_raw(&k, mode, ps->b, ps->n, opb, nopb, map, tail, m < 16 ? 18 : 16);
        vp_insn vi;
        int l = vp_decode(k.buf, BUFLEN, code_size, &vi);
        if (l < 0 || !vp_is_ud(&vi))
            return true;
    }
    return false;
}

/* Tiers A, B and C for one opcode (its escape or VEX bytes in opb). An
 * opcode that Vanderpool decodes to #UD with no prefix, with each tier A
 * prefix sequence and with each single prefix of `single` is skipped in
 * tiers B and C: prefixes do not turn an undefined opcode into a defined
 * one, except the mandatory prefixes (66 F2 F3) and REX.W, which these
 * probes include. */
static void sweep_opcode(ctx *x, int mode, int map, const uint8_t *opb,
                         int nopb, bool modrm, const pseq *pa, int npa,
                         const pseq *pb, int npb, bool tier_c,
                         const pseq *single, int nsingle)
{
    dcase k;
    uint8_t tail[18];
    bool real = false;
    for (int s = 0; s < npa && !real; s++)
        real = any_real(mode, &pa[s], opb, nopb, map);
    for (int s = 0; s < nsingle && !real; s++)
        real = any_real(mode, &single[s], opb, nopb, map);
    if (!real && nsingle) {
        x->skipped_ud++;
        return;
    }
    /* Tier A: no prefix and the tier A prefixes. */
    for (int s = 0; s < npa; s++) {
        if (!any_real(mode, &pa[s], opb, nopb, map)) {
            x->skipped_ud++;
            continue;
        }
        if (modrm) {
            for (unsigned m = 0; m < 256; m++)
                for (int v = 0; v < 4; v++) {
                    const uint8_t *fill = (v & 1) ? fill_n : fill_p;
                    tail[0] = (uint8_t)m;
                    tail[1] = sib_a[v];
                    memcpy(tail + 2, fill, 16);
                    build_raw(&k, mode, pa[s].b, pa[s].n, opb, nopb, map,
                              tail, 18);
                    run_case(x, &k);
                }
        } else {
            for (int v = 0; v < 2; v++) {
                memcpy(tail, v ? fill_n : fill_p, 16);
                build_raw(&k, mode, pa[s].b, pa[s].n, opb, nopb, map, tail,
                          16);
                run_case(x, &k);
            }
        }
    }
    /* Tier C: the 15-byte limit. 0-14 redundant DS overrides (then
     * nothing, 66 or, in 64-bit mode, REX.W) before the longest and the
     * shortest ModRM forms. */
    for (int npad = 0; tier_c && npad <= 14; npad++)
        for (int v = 0; v < (mode == 2 ? 3 : 2); v++) {
            uint8_t pfx[16];
            memset(pfx, 0x3e, (size_t)npad);
            int np = npad;
            if (v)
                pfx[np++] = v == 1 ? 0x66 : 0x48;
            for (int f = 0; f < 2; f++) {
                tail[0] = f ? 0xc0 : 0x84;
                tail[1] = 0x88;
                memcpy(tail + 2, fill_p, 16);
                build_raw(&k, mode, pfx, np, opb, nopb, map, tail, 18);
                run_case(x, &k);
            }
        }
    /* Tier B: prefix combinations. */
    for (int s = 0; s < npb; s++) {
        if (modrm) {
            for (int m = 0; m < 16; m++) {
                const uint8_t *fill = (m & 1) ? fill_n : fill_p;
                tail[0] = tier_b_modrm[m][0];
                tail[1] = tier_b_modrm[m][1];
                memcpy(tail + 2, fill, 16);
                build_raw(&k, mode, pb[s].b, pb[s].n, opb, nopb, map, tail,
                          18);
                run_case(x, &k);
            }
        } else {
            for (int v = 0; v < 2; v++) {
                memcpy(tail, v ? fill_n : fill_p, 16);
                build_raw(&k, mode, pb[s].b, pb[s].n, opb, nopb, map, tail,
                          16);
                run_case(x, &k);
            }
        }
    }
}

/* Tier V: the VEX maps. C4 (three-byte VEX: R/X/B all clear or, in 64-bit
 * mode, all set; maps 0F, 0F 38, 0F 3A) and C5 (two-byte VEX, map 0F) with
 * W (C5: R), L, pp and two vvvv values, every opcode, the tier B ModRM
 * patterns. With vvvv 1111b and L 0: the full ModRM sweep of tier A without
 * prefix (where Vanderpool decodes something) and the tier B patterns
 * under 67, a segment override and the prefixes that make VEX #UD (66 F2
 * F3 F0, REX); other variants: the tier B patterns bare and with 67. */
static void sweep_vex(ctx *x, int mode)
{
    static const uint8_t vpfx[][1] = {{0x67}, {0x2e}, {0x66}, {0xf3},
                                      {0xf2}, {0xf0}, {0x41}};
    pseq pa[1] = {{0, {0}}}, pb[8], pp2[2] = {{0, {0}}, {1, {0x67}}};
    int npb = 0;
    for (int k = 0; k < (mode == 2 ? 7 : 6); k++)
        npb = add_seq(pb, npb, vpfx[k], 1);
    for (int vmap = 1; vmap <= 3; vmap++)
        for (int form = 3; form >= 2; form--) {
            if (form == 2 && vmap != 1)
                continue;
            for (int var = 0; var < (form == 3 ? 64 : 32); var++) {
                uint8_t opb[4];
                /* var: bit 0 VEX.W (C5: VEX.R), 1 VEX.L, 2-3 VEX.pp, 4
                 * vvvv 1111b or 0000b, 5 (C4) R X B clear or set. */
                int w = var & 1, l = (var >> 1) & 1, pp = (var >> 2) & 3;
                int vvvv = (var >> 4) & 1 ? 0x0 : 0xf; /* encoded (inverted) */
                int rxb = (var >> 5) & 1 ? 0x0 : 0x7;  /* encoded (inverted) */
                /* Outside 64-bit mode C4/C5 with ModRM.mod != 3 are LES and
                 * LDS, swept as such in map 0. */
                if (mode != 2 && (form == 3 ? rxb != 7 : w))
                    continue;
                if (form == 3) {
                    opb[0] = 0xc4;
                    opb[1] = (uint8_t)(rxb << 5 | vmap);
                    opb[2] = (uint8_t)(w << 7 | vvvv << 3 | l << 2 | pp);
                } else {
                    opb[0] = 0xc5;
                    opb[1] = (uint8_t)((w ? 0 : 0x80) | vvvv << 3 | l << 2 | pp);
                }
                /* The full ModRM sweep and the prefixes only with vvvv
                 * 1111b and L 0; the other variants bare and with 67. */
                bool full = vvvv == 0xf && !l;
                for (unsigned op = 0; op < 256; op++) {
                    opb[form] = (uint8_t)op;
                    if (full)
                        sweep_opcode(x, mode, 3 + vmap, opb, form + 1, true,
                                     pa, 1, pb, npb, false, NULL, 0);
                    else
                        sweep_opcode(x, mode, 3 + vmap, opb, form + 1, true,
                                     pa, 0, pp2, 2, false, NULL, 0);
                }
            }
        }
}

static void ctx_open(ctx *x, int mode)
{
    memset(x, 0, sizeof(*x));
    x->mode = mode;
    ck_assert_int_eq(cs_open(CS_ARCH_X86, modes[mode].csm, &x->cs), CS_ERR_OK);
    ck_assert_int_eq(cs_option(x->cs, CS_OPT_DETAIL, CS_OPT_ON), CS_ERR_OK);
    x->ci = cs_malloc(x->cs);
    x->ci2 = cs_malloc(x->cs);
    ck_assert_ptr_nonnull(x->ci);
    ck_assert_ptr_nonnull(x->ci2);
    x->groups = calloc((size_t)ND * NK * NMAP * 256, sizeof(mgroup));
    ck_assert_ptr_nonnull(x->groups);
    const char *dump = getenv("VP_DECODE_DUMP");
    if (dump && *dump)
        x->dump = fopen(dump, "a");
}

static void ctx_close(ctx *x)
{
    cs_free(x->ci, 1);
    cs_free(x->ci2, 1);
    cs_close(&x->cs);
    free(x->groups);
    if (x->dump)
        fclose(x->dump);
}

static void print_groups(ctx *x, int d)
{
    int shown = 0, more = 0;
    for (int kind = 0; kind < NK; kind++)
        for (int map = 0; map < NMAP; map++)
            for (int op = 0; op < 256; op++) {
                mgroup *g = group_at(x, d, kind, map, op);
                if (!g->count)
                    continue;
                if (shown++ >= 200) {
                    more++;
                    continue;
                }
                printf("  [%s] mode %s %s%02x %s x%u rows %02x forms %s%s%s pf %#x\n"
                       "      e.g. %s\n",
                       disp_names[d], modes[x->mode].name, map_prefix(map), op,
                       kind_names[kind], g->count, g->rows,
                       (g->forms & 1) ? "m" : "", (g->forms & 2) ? "r" : "",
                       (g->forms & 4) ? "-" : "", g->pf_or, g->example);
            }
    if (more)
        printf("  ... and %d more %s groups\n", more, disp_names[d]);
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(test_sweep)
{
    int mode = _i;
    static ctx x;
    ctx_open(&x, mode);
    static pseq pa[16], pb[2048];
    int npa = tier_a_prefixes(mode, pa);
    int npb = tier_b_prefixes(mode, pb);
    ck_assert_int_le(npb, (int)(sizeof(pb) / sizeof(pb[0])));
    for (int map = 0; map < 4; map++)
        for (unsigned op = 0; op < 256; op++)
            if (!skip_opcode(mode, map, op)) {
                uint8_t opb[4];
                int n = legacy_opbytes(map, (uint8_t)op, opb);
                sweep_opcode(&x, mode, map, opb, n,
                             opcode_has_modrm(&x, mode, map, op), pa, npa,
                             pb, npb, true, pb, 11);
            }
    sweep_vex(&x, mode);

    int csmaj = 0, csmin = 0;
    cs_version(&csmaj, &csmin);
    printf("decode-vs-capstone (Capstone %d.%d) mode %s: %lu cases (%d+%d "
           "prefix sequences), "
           "%lu real, %lu #UD, %lu over 15 bytes; %lu Capstone calls; "
           "%lu same length and operands checked; mismatches: %lu unexplained, "
           "%lu known failures, %lu Capstone quirks\n",
           csmaj, csmin, modes[mode].name, x.cases, npa, npb, x.vp_real,
           x.vp_ud, x.vp_long,
           x.cs_calls, x.compared, x.mismatches[D_UNEXPLAINED],
           x.mismatches[D_KNOWN], x.mismatches[D_QUIRK]);
    for (size_t r = 0; r < NKNOWN; r++)
        if (known_failures[r].why && (known_failures[r].modes & (1u << mode)))
            printf("  known failure %zu (%u cases): %s\n", r, x.known_hits[r],
                   known_failures[r].why);
    if (verbose()) {
        print_groups(&x, D_KNOWN);
        print_groups(&x, D_QUIRK);
        for (size_t r = 0; r < NQUIRK; r++)
            if (quirks[r].why && (quirks[r].modes & (1u << mode)))
                printf("  quirk %zu (%u cases): %s\n", r, x.quirk_hits[r],
                       quirks[r].why);
    }
    int nh = 0, nreal = 0;
    for (size_t h = 0; h < NHANDLERS; h++) {
        nh += x.handler_hits[h] != 0;
        nreal += handler_names[h].fn != op_ud;
    }
    printf("  %d of %d handlers reached and compared; %lu opcode/prefix "
           "sequences skipped as #UD; %lu differences resolved by reordering "
           "the prefixes for Capstone\n", nh, nreal, x.skipped_ud,
           x.reordered);
    if (verbose()) {
        printf("  handlers not compared in mode %s:", modes[mode].name);
        for (size_t h = 0; h < NHANDLERS; h++)
            if (!x.handler_hits[h] && handler_names[h].fn != op_ud)
                printf(" %s", handler_names[h].name);
        printf("\n");
    }
    print_groups(&x, D_UNEXPLAINED);
    int stale = 0;
    for (size_t r = 0; r < NKNOWN; r++)
        if (known_failures[r].why && (known_failures[r].modes & (1u << mode)) &&
            !x.known_hits[r]) {
            printf("  known failure %zu matches nothing in mode %s: fixed? "
                   "remove it from known_failures[]: %s\n",
                   r, modes[mode].name, known_failures[r].why);
            stale++;
        }
    fflush(stdout);
    unsigned long unexplained = x.mismatches[D_UNEXPLAINED];
    ctx_close(&x);
    ck_assert_msg(unexplained == 0, "%lu unexplained decoder mismatches in "
                  "mode %s (listed above)", unexplained, modes[mode].name);
    ck_assert_msg(stale == 0, "%d stale known_failures[] entries", stale);
}
END_TEST


/* ---- coverage: what Capstone decodes and Vanderpool maps to #UD ---------- */

static const uint8_t cov_pfx[4] = {0, 0x66, 0xf3, 0xf2};
static const char *const cov_pfx_name[4] = {"", "66 ", "f3 ", "f2 "};

typedef struct covdata {
    uint16_t gap[3][NMAP][256][4];   /* bit row*2+mem: Capstone ok, vp #UD */
    uint8_t real[3][NMAP][256];      /* some form decodes to a real handler */
    char mn[3][NMAP][256][4][8][12]; /* Capstone's mnemonic per row */
} covdata;

static void coverage_mode(covdata *cd, int mode, unsigned long *ncs)
{
    ctx x;
    ctx_open(&x, mode);
    int code_size = modes[mode].code_size;
    for (int map = 0; map < NMAP; map++)
        for (unsigned op = 0; op < 256; op++) {
            if (map < 4 && skip_opcode(mode, map, op))
                continue;
            /* Legacy maps: v is the prefix (none 66 F3 F2). VEX maps
             * (three-byte VEX, R X B clear): v is VEX.pp, with W and L. */
            for (int v = 0; v < 4; v++)
                for (int wl = 0; wl < (map < 4 ? 1 : 4); wl++)
                for (int row = 0; row < 8; row++)
                    for (int mem = 0; mem < 2; mem++) {
                        uint8_t tail[18], opb[4];
                        tail[0] = (uint8_t)(mem ? 0x04 | row << 3
                                                : 0xc1 | row << 3);
                        tail[1] = 0x88;
                        memcpy(tail + 2, fill_p, 16);
                        dcase k;
                        if (map < 4)
                            build(&k, mode, &cov_pfx[v], v ? 1 : 0, map,
                                  (uint8_t)op, tail, 18);
                        else {
                            opb[0] = 0xc4;
                            opb[1] = (uint8_t)(0xe0 | (map - 3));
                            opb[2] = (uint8_t)((wl & 1) << 7 | 0x78 |
                                               (wl & 2) << 1 | v);
                            opb[3] = (uint8_t)op;
                            build_raw(&k, mode, NULL, 0, opb, 4, map, tail, 18);
                        }
                        vp_insn vi;
                        int vl = vp_decode(k.buf, BUFLEN, code_size, &vi);
                        bool ud = vl > 0 && vp_is_ud(&vi);
                        if (vl > 0 && !ud)
                            cd->real[mode][map][op] = 1;
                        if (!ud || !cs_decode(&x, k.buf, BUFLEN))
                            continue;
                        cd->gap[mode][map][op][v] |=
                            (uint16_t)(1u << (row * 2 + mem));
                        char *m = cd->mn[mode][map][op][v][row];
                        if (!m[0])
                            snprintf(m, 12, "%.11s", x.ci->mnemonic);
                    }
        }
    *ncs += x.cs_calls;
    ctx_close(&x);
}

static void print_coverage(const covdata *cd)
{
    static const char *const map_names[NMAP] = {
        "one-byte", "0F", "0F 38", "0F 3A", "VEX 0F", "VEX 0F38", "VEX 0F3A"};
    printf("coverage: opcodes that Capstone decodes (some ModRM.reg row, "
           "register or memory form, under none/66/F3/F2) and Vanderpool "
           "maps to #UD (VEX maps: VEX.pp, W and L instead of the prefix); "
           "* = Vanderpool implements other forms of it\n");
    for (int map = 0; map < NMAP; map++)
        for (int mode = 0; mode < 3; mode++) {
            char line[2048];
            int o = 0, n = 0, part = 0;
            for (int op = 0; op < 256; op++) {
                bool g = false;
                for (int v = 0; v < 4; v++)
                    g |= cd->gap[mode][map][op][v] != 0;
                if (!g)
                    continue;
                n++;
                part += cd->real[mode][map][op];
                /* Runs of opcodes without '*' print as ranges. */
                int end = op;
                while (end + 1 < 256 && !cd->real[mode][map][op] &&
                       !cd->real[mode][map][end + 1]) {
                    bool g2 = false;
                    for (int v = 0; v < 4; v++)
                        g2 |= cd->gap[mode][map][end + 1][v] != 0;
                    if (!g2)
                        break;
                    end++;
                }
                n += end - op;
                if (end > op + 1)
                    o += snprintf(line + o, sizeof(line) - (size_t)o,
                                  " %02x-%02x", op, end);
                else
                    for (int q = op; q <= end; q++)
                        o += snprintf(line + o, sizeof(line) - (size_t)o,
                                      " %02x%s", q,
                                      cd->real[mode][map][q] ? "*" : "");
                op = end;
            }
            printf("  %-8s %s-bit: %3d opcodes (%d partly implemented):%s\n",
                   map_names[map], modes[mode].name, n, part, line);
        }
    if (!verbose())
        return;
    printf("coverage detail (prefix or VEX.pp: mnemonic per ModRM.reg row; "
           "modes if not all):\n");
    for (int map = 0; map < NMAP; map++)
        for (int op = 0; op < 256; op++)
            for (int v = 0; v < 4; v++) {
                char line[1024];
                int o = 0;
                unsigned mset = 0;
                const char *rowmn[8] = {0};
                bool same = true;
                const char *first = NULL;
                /* Mnemonics from 64-bit mode first: in 16-bit mode
                 * Capstone 4 ignores the SSE mandatory prefixes. */
                for (int mode = 2; mode >= 0; mode--) {
                    if (!cd->gap[mode][map][op][v])
                        continue;
                    mset |= 1u << mode;
                    for (int row = 0; row < 8; row++) {
                        const char *m = cd->mn[mode][map][op][v][row];
                        if (!m[0] || rowmn[row])
                            continue;
                        rowmn[row] = m;
                        if (!first)
                            first = m;
                        else if (strcmp(first, m))
                            same = false;
                    }
                }
                if (!mset)
                    continue;
                o += snprintf(line + o, sizeof(line) - (size_t)o, "  %s%s%02x:",
                              cov_pfx_name[v], map_prefix(map), op);
                if (same)
                    o += snprintf(line + o, sizeof(line) - (size_t)o, " %s",
                                  first);
                else
                    for (int row = 0; row < 8; row++)
                        if (rowmn[row])
                            o += snprintf(line + o, sizeof(line) - (size_t)o,
                                          " /%d %s", row, rowmn[row]);
                if (mset != 7) {
                    o += snprintf(line + o, sizeof(line) - (size_t)o, " (");
                    for (int mode = 0; mode < 3; mode++)
                        if (mset & (1u << mode))
                            o += snprintf(line + o, sizeof(line) - (size_t)o,
                                          "%s%s", modes[mode].name,
                                          (mset >> (mode + 1)) ? "," : "");
                    snprintf(line + o, sizeof(line) - (size_t)o, ")");
                }
                printf("%s\n", line);
            }
}

START_TEST(test_coverage)
{
    static covdata cd;
    memset(&cd, 0, sizeof(cd));
    unsigned long ncs = 0;
    for (int mode = 0; mode < 3; mode++)
        coverage_mode(&cd, mode, &ncs);
    print_coverage(&cd);
    fflush(stdout);
    /* A summary, not a check; but the tables must have been filled. */
    ck_assert_uint_gt(ncs, 0);
}
END_TEST

/* ---- the comparator itself ----------------------------------------------- */

/* Corrupting one field of a correct decode must be reported as that kind,
 * so that a silent comparator cannot pass the sweep. */
START_TEST(test_comparator)
{
    static const struct {
        int mode;
        uint8_t b[16];
    } t[] = {
        {2, {0x48, 0x8b, 0x84, 0x8b, 0x10, 0x20, 0x30, 0x40}}, /* SIB disp32 */
        {1, {0x66, 0x81, 0x44, 0x24, 0xf0, 0x34, 0x12}},       /* disp8 imm16 */
        {0, {0x8b, 0x42, 0x7f}},                               /* [bp+si+d8] */
        {2, {0x44, 0x88, 0x25, 1, 2, 3, 4}},                   /* RIP-rel, r12b */
        {1, {0x64, 0x88, 0x26, 0x11, 0x22, 0x33, 0x44}},       /* fs:, ah */
        {2, {0x88, 0xe0}},                                     /* al, ah */
        {2, {0x40, 0x88, 0xe0}},                               /* al, spl */
        {0, {0x67, 0xc7, 0x44, 0x58, 0x80, 0x34, 0x12}},       /* SIB, imm16 */
    };
    for (size_t n = 0; n < sizeof(t) / sizeof(t[0]); n++) {
        ctx x;
        ctx_open(&x, t[n].mode);
        dcase k;
        memset(&k, 0, sizeof(k));
        memcpy(k.buf, t[n].b, sizeof(t[n].b));
        k.mode = t[n].mode;
        vp_insn vi;
        int vl = vp_decode(k.buf, BUFLEN, modes[k.mode].code_size, &vi);
        ck_assert_int_gt(vl, 0);
        ck_assert(cs_decode(&x, k.buf, BUFLEN));
        ck_assert_int_eq(x.ci->size, vl);
        char why[160];
        ck_assert_msg(compare_operands(&k, &vi, x.ci, why, sizeof(why)) == 0,
                      "vector %zu: %s", n, why);
        static const struct { int kind; } bends[] = {
            {K_ASIZE}, {K_MEM}, {K_DISP}, {K_SEGM}, {K_IMM}, {K_OSIZE},
            {K_REG},
        };
        for (size_t b = 0; b < sizeof(bends) / sizeof(bends[0]); b++) {
            vp_insn w = vi;
            int kind = bends[b].kind;
            if ((kind == K_DISP || kind == K_SEGM) && !(w.flags & I_MEM))
                continue;
            switch (kind) {
            case K_ASIZE: w.asize = w.asize == 2 ? 4 : 2; break;
            case K_MEM: w.flags ^= I_MEM; break;
            case K_DISP: w.disp ^= 0x10; break;
            case K_SEGM: w.seg = w.seg == S_FS ? S_ES : S_FS; break;
            case K_IMM:
                if (!x.ci->detail->x86.encoding.imm_size)
                    continue;
                w.imm ^= 1;
                break;
            case K_OSIZE: w.osize = w.osize == 2 ? 4 : 2; break;
            case K_REG: {
                unsigned chk = handler_chk(w.fn);
                if ((chk & HC_G) && w.osize == 1 && (w.reg & ~3u) == 4)
                    w.flags ^= I_REX; /* AH..BH vs SPL..DIL */
                else if (chk & HC_G)
                    w.reg ^= 1;
                else if ((chk & HC_E) && !(w.flags & I_MEM))
                    w.rm ^= 1;
                else
                    continue;
                break;
            }
            }
            unsigned bad = compare_operands(&k, &w, x.ci, why, sizeof(why));
            ck_assert_msg(bad & KB(kind), "vector %zu: %s not detected",
                          n, kind_names[kind]);
        }
        ctx_close(&x);
    }
}
END_TEST

static Suite *suite_decode_capstone(void)
{
    Suite *s = suite_create("decode_capstone");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_comparator);
    tcase_add_loop_test(tc, test_sweep, 0, 3);
    tcase_add_test(tc, test_coverage);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_decode_capstone)
