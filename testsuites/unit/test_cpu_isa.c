/* ISA extensions: POPCNT, LZCNT, TZCNT, BMI1, BMI2, ADX, MOVBE,
 * CMPXCHG16B, RDRAND/RDSEED, RDTSCP/RDPID, CLFLUSHOPT/CLWB, CLAC/STAC,
 * INVPCID, MONITOR/MWAIT; the decoder's three-byte maps, mandatory
 * prefixes and VEX. Each vector runs a few instructions (decode, then the
 * handler, as exec.c does) and states registers, flags, memory or the
 * exception it expects. Expected values come from each instruction's
 * "Operation" and "Flags Affected" in SDM Vol 2; the #UD vectors use a
 * model without the feature (vp-amd, vp-intel, or a copy of vp-intel with
 * the extension flags cleared). */
#include "testsuites/unit/test_cpu_sys.h"
#include "emu/cpu/ops.h"
#include "emu/apic/apic.h"

#define DATA 0x200000ull

enum { M_INTEL, M_AMD, M_BARE };             /* model */
enum { MD_64, MD_64U, MD_32, MD_REAL };      /* mode: long64 CPL 0/3 ... */
enum { X_NONE, X_UD, X_GP, X_SS, X_PF };     /* expected exception */
static const int x_vector[] = {-1, EXC_UD, EXC_GP, EXC_SS, EXC_PF};

#define B(r) (1u << (r))

typedef struct isa_vec {
    const char *name;
    int model, mode;
    uint8_t code[24];
    size_t len;
    uint64_t init[16];     /* initial GPRs (zeros are left alone) */
    uint64_t finit;        /* initial arithmetic flags and AC */
    uint64_t mem[2];       /* initial 16 bytes at DATA */
    uint16_t check;        /* B(reg) of the registers to compare */
    uint64_t want[16];
    uint64_t fmask, fwant; /* flags to compare */
    bool mcheck;
    uint64_t mwant[2];
    int exc;               /* X_*: the instruction sequence must fault */
} isa_vec;

#define ALLF (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define CZSO (FL_CF | FL_ZF | FL_SF | FL_OF)

/* Code ends with HLT (F4) unless it faults. */
static const isa_vec vecs[] = {
    /* ---- POPCNT: all flags cleared, ZF = (SRC = 0) ---- */
    {"popcnt r64", .code = {0xf3, 0x48, 0x0f, 0xb8, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 0xf0f0000000000001ull}, .finit = ALLF,
     .check = B(R_AX), .want = {[R_AX] = 9}, .fmask = ALLF, .fwant = 0},
    {"popcnt r32 of zero sets ZF", .code = {0xf3, 0x0f, 0xb8, 0xc3, 0xf4},
     .len = 5, .init = {[R_AX] = ~0ull}, .finit = FL_CF | FL_OF,
     .check = B(R_AX), .want = {[R_AX] = 0}, .fmask = ALLF, .fwant = FL_ZF},
    {"popcnt r16 keeps bits 63:16", .code = {0x66, 0xf3, 0x0f, 0xb8, 0xc3, 0xf4},
     .len = 6, .init = {[R_AX] = 0x1111222233334444ull, [R_BX] = 0xffff},
     .check = B(R_AX), .want = {[R_AX] = 0x1111222233330010ull}},
    /* ---- TZCNT / LZCNT: CF = (SRC = 0), ZF = (DEST = 0) ---- */
    {"tzcnt", .code = {0xf3, 0x0f, 0xbc, 0xc3, 0xf4}, .len = 5,
     .init = {[R_BX] = 0x80}, .finit = FL_CF | FL_ZF, .check = B(R_AX),
     .want = {[R_AX] = 7}, .fmask = FL_CF | FL_ZF, .fwant = 0},
    {"tzcnt of zero is the operand size", .code = {0xf3, 0x0f, 0xbc, 0xc3, 0xf4},
     .len = 5, .init = {[R_AX] = 0x55}, .check = B(R_AX),
     .want = {[R_AX] = 32}, .fmask = FL_CF | FL_ZF, .fwant = FL_CF},
    {"tzcnt r64 zero result", .code = {0xf3, 0x48, 0x0f, 0xbc, 0xc3, 0xf4},
     .len = 6, .init = {[R_BX] = 1, [R_AX] = 5}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = FL_CF | FL_ZF, .fwant = FL_ZF},
    {"tzcnt without BMI1 is BSF", M_BARE,
     .code = {0xf3, 0x0f, 0xbc, 0xc3, 0xf4}, .len = 5,
     .init = {[R_BX] = 0x80}, .check = B(R_AX), .want = {[R_AX] = 7},
     .fmask = FL_ZF, .fwant = 0},
    {"tzcnt without BMI1: BSF of zero", M_BARE,
     .code = {0xf3, 0x0f, 0xbc, 0xc3, 0xf4}, .len = 5,
     .init = {[R_AX] = 0x55}, .check = B(R_AX), .want = {[R_AX] = 0x55},
     .fmask = FL_ZF, .fwant = FL_ZF},
    {"lzcnt", .code = {0xf3, 0x0f, 0xbd, 0xc3, 0xf4}, .len = 5,
     .init = {[R_BX] = 0x00010000}, .finit = FL_CF | FL_ZF,
     .check = B(R_AX), .want = {[R_AX] = 15}, .fmask = FL_CF | FL_ZF,
     .fwant = 0},
    {"lzcnt of zero", .code = {0xf3, 0x0f, 0xbd, 0xc3, 0xf4}, .len = 5,
     .check = B(R_AX), .want = {[R_AX] = 32}, .fmask = FL_CF | FL_ZF,
     .fwant = FL_CF},
    {"lzcnt r16", .code = {0x66, 0xf3, 0x0f, 0xbd, 0xc3, 0xf4}, .len = 6,
     .init = {[R_AX] = 0xaaaa0000, [R_BX] = 1}, .check = B(R_AX),
     .want = {[R_AX] = 0xaaaa000f}},
    {"lzcnt r64 zero result", .code = {0xf3, 0x48, 0x0f, 0xbd, 0xc3, 0xf4},
     .len = 6, .init = {[R_BX] = 1ull << 63, [R_AX] = 3}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = FL_CF | FL_ZF, .fwant = FL_ZF},
    {"lzcnt without LZCNT is BSR", M_BARE,
     .code = {0xf3, 0x0f, 0xbd, 0xc3, 0xf4}, .len = 5,
     .init = {[R_BX] = 0x00010000}, .check = B(R_AX), .want = {[R_AX] = 16}},
    /* ---- BMI1 ---- */
    {"andn", .code = {0xc4, 0xe2, 0x60, 0xf2, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x0f0f0f0f, [R_CX] = 0xffff0000},
     .finit = FL_CF | FL_OF, .check = B(R_AX), .want = {[R_AX] = 0xf0f00000},
     .fmask = CZSO, .fwant = FL_SF},
    {"andn r64 (VEX.W1)", .code = {0xc4, 0xe2, 0xe0, 0xf2, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0xffffffff00000000ull, [R_CX] = ~0ull},
     .check = B(R_AX), .want = {[R_AX] = 0xffffffffull}, .fmask = CZSO},
    {"andn zero result", .code = {0xc4, 0xe2, 0x60, 0xf2, 0xc1, 0xf4}, .len = 6,
     .init = {[R_AX] = 7, [R_BX] = ~0ull, [R_CX] = ~0ull}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = CZSO, .fwant = FL_ZF},
    {"andn memory operand",
     .code = {0xc4, 0xe2, 0x60, 0xf2, 0x44, 0x24, 0x10, 0xf4}, .len = 8,
     .init = {[R_BX] = 0x0f, [R_SP] = DATA - 0x10}, .mem = {0xff},
     .check = B(R_AX), .want = {[R_AX] = 0xf0}},
    {"bextr", .code = {0xc4, 0xe2, 0x70, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x12345678, [R_CX] = 0x0804}, .finit = FL_CF | FL_OF,
     .check = B(R_AX), .want = {[R_AX] = 0x67}, .fmask = FL_CF | FL_OF | FL_ZF,
     .fwant = 0},
    {"bextr start beyond the operand", .code = {0xc4, 0xe2, 0x70, 0xf7, 0xc3, 0xf4},
     .len = 6, .init = {[R_AX] = 9, [R_BX] = ~0ull, [R_CX] = 0x0820},
     .check = B(R_AX), .want = {[R_AX] = 0}, .fmask = FL_ZF, .fwant = FL_ZF},
    {"bextr length past the top", .code = {0xc4, 0xe2, 0x70, 0xf7, 0xc3, 0xf4},
     .len = 6, .init = {[R_BX] = 0xf0000000, [R_CX] = 0xff1c},
     .check = B(R_AX), .want = {[R_AX] = 0xf}},
    {"bextr r64", .code = {0xc4, 0xe2, 0xf0, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 1ull << 63, [R_CX] = 0x013f}, .check = B(R_AX),
     .want = {[R_AX] = 1}},
    {"blsi", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xdb, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x58}, .finit = FL_OF | FL_ZF, .check = B(R_AX),
     .want = {[R_AX] = 8}, .fmask = CZSO, .fwant = FL_CF},
    {"blsi of zero", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xdb, 0xf4}, .len = 6,
     .init = {[R_AX] = ~0ull}, .finit = FL_CF, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = CZSO, .fwant = FL_ZF},
    {"blsmsk", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xd3, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x58}, .finit = FL_CF | FL_ZF, .check = B(R_AX),
     .want = {[R_AX] = 0x0f}, .fmask = CZSO, .fwant = 0},
    {"blsmsk of zero", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xd3, 0xf4}, .len = 6,
     .check = B(R_AX), .want = {[R_AX] = 0xffffffffull}, .fmask = CZSO,
     .fwant = FL_CF | FL_SF},
    {"blsr", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xcb, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x58}, .finit = FL_CF, .check = B(R_AX),
     .want = {[R_AX] = 0x50}, .fmask = CZSO, .fwant = 0},
    {"blsr of zero", .code = {0xc4, 0xe2, 0x78, 0xf3, 0xcb, 0xf4}, .len = 6,
     .init = {[R_AX] = 5}, .check = B(R_AX), .want = {[R_AX] = 0},
     .fmask = CZSO, .fwant = FL_CF | FL_ZF},
    {"blsr r64", .code = {0xc4, 0xe2, 0xf8, 0xf3, 0xcb, 0xf4}, .len = 6,
     .init = {[R_BX] = 1ull << 63, [R_AX] = 5}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = CZSO, .fwant = FL_ZF},
    /* ---- BMI2 ---- */
    {"bzhi", .code = {0xc4, 0xe2, 0x70, 0xf5, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = ~0ull, [R_CX] = 8}, .finit = FL_CF | FL_OF,
     .check = B(R_AX), .want = {[R_AX] = 0xff}, .fmask = CZSO, .fwant = 0},
    {"bzhi index past the size sets CF", .code = {0xc4, 0xe2, 0x70, 0xf5, 0xc3, 0xf4},
     .len = 6, .init = {[R_BX] = ~0ull, [R_CX] = 32}, .check = B(R_AX),
     .want = {[R_AX] = 0xffffffffull}, .fmask = CZSO, .fwant = FL_CF | FL_SF},
    {"bzhi index is bits 7:0", .code = {0xc4, 0xe2, 0x70, 0xf5, 0xc3, 0xf4},
     .len = 6, .init = {[R_BX] = ~0ull, [R_CX] = 0x100}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = CZSO, .fwant = FL_ZF},
    {"bzhi r64", .code = {0xc4, 0xe2, 0xf0, 0xf5, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = ~0ull, [R_CX] = 40}, .check = B(R_AX),
     .want = {[R_AX] = 0xffffffffffull}},
    {"mulx leaves flags", .code = {0xc4, 0xe2, 0x63, 0xf6, 0xc1, 0xf4}, .len = 6,
     .init = {[R_DX] = 0xffffffff, [R_CX] = 0xffffffff}, .finit = FL_CF | FL_ZF,
     .check = B(R_AX) | B(R_BX), .want = {[R_AX] = 0xfffffffe, [R_BX] = 1},
     .fmask = ALLF, .fwant = FL_CF | FL_ZF},
    {"mulx r64", .code = {0xc4, 0xe2, 0xe3, 0xf6, 0xc1, 0xf4}, .len = 6,
     .init = {[R_DX] = ~0ull, [R_CX] = 2}, .check = B(R_AX) | B(R_BX),
     .want = {[R_AX] = 1, [R_BX] = 0xfffffffffffffffeull}},
    {"mulx same destination gets the high half",
     .code = {0xc4, 0xe2, 0x7b, 0xf6, 0xc1, 0xf4}, .len = 6,
     .init = {[R_DX] = 0x80000000, [R_CX] = 4}, .check = B(R_AX),
     .want = {[R_AX] = 2}},
    {"pdep", .code = {0xc4, 0xe2, 0x63, 0xf5, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 5, [R_CX] = 0xf0}, .check = B(R_AX),
     .want = {[R_AX] = 0x50}},
    {"pdep r64", .code = {0xc4, 0xe2, 0xe3, 0xf5, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0xff, [R_CX] = 0x8000000000000001ull},
     .check = B(R_AX), .want = {[R_AX] = 0x8000000000000001ull}},
    {"pext", .code = {0xc4, 0xe2, 0x62, 0xf5, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x12345678, [R_CX] = 0xff00}, .check = B(R_AX),
     .want = {[R_AX] = 0x56}},
    {"pext sparse mask", .code = {0xc4, 0xe2, 0x62, 0xf5, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x80000001, [R_CX] = 0x80000001}, .check = B(R_AX),
     .want = {[R_AX] = 3}},
    {"rorx", .code = {0xc4, 0xe3, 0x7b, 0xf0, 0xc3, 0x08, 0xf4}, .len = 7,
     .init = {[R_BX] = 0x12345678}, .finit = FL_CF, .check = B(R_AX),
     .want = {[R_AX] = 0x78123456}, .fmask = ALLF, .fwant = FL_CF},
    {"rorx r64", .code = {0xc4, 0xe3, 0xfb, 0xf0, 0xc3, 0x04, 0xf4}, .len = 7,
     .init = {[R_BX] = 0x123456789abcdef0ull}, .check = B(R_AX),
     .want = {[R_AX] = 0x0123456789abcdefull}},
    {"rorx count masked", .code = {0xc4, 0xe3, 0x7b, 0xf0, 0xc3, 0x24, 0xf4},
     .len = 7, .init = {[R_BX] = 0x12345678}, .check = B(R_AX),
     .want = {[R_AX] = 0x81234567}},
    {"shlx count masked", .code = {0xc4, 0xe2, 0x71, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 1, [R_CX] = 33}, .finit = FL_ZF, .check = B(R_AX),
     .want = {[R_AX] = 2}, .fmask = ALLF, .fwant = FL_ZF},
    {"sarx", .code = {0xc4, 0xe2, 0x72, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x80000000, [R_CX] = 4}, .check = B(R_AX),
     .want = {[R_AX] = 0xf8000000}},
    {"shrx", .code = {0xc4, 0xe2, 0x73, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 0x80000000, [R_CX] = 4}, .check = B(R_AX),
     .want = {[R_AX] = 0x08000000}},
    {"shrx r64", .code = {0xc4, 0xe2, 0xf3, 0xf7, 0xc3, 0xf4}, .len = 6,
     .init = {[R_BX] = 1ull << 63, [R_CX] = 68}, .check = B(R_AX),
     .want = {[R_AX] = 1ull << 59}},
    /* ---- ADX ---- */
    {"adcx carries into CF only", .code = {0xf9, 0x66, 0x0f, 0x38, 0xf6, 0xc3, 0xf4},
     .len = 7, .init = {[R_AX] = 0xffffffff}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = FL_CF | FL_ZF | FL_OF, .fwant = FL_CF},
    {"adcx r64", .code = {0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc3, 0xf4}, .len = 7,
     .init = {[R_AX] = ~0ull, [R_BX] = 1}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = FL_CF, .fwant = FL_CF},
    {"adox adds OF, keeps CF", .code = {0xf3, 0x0f, 0x38, 0xf6, 0xc3, 0xf4},
     .len = 6, .init = {[R_AX] = 5, [R_BX] = 6}, .finit = FL_OF | FL_CF,
     .check = B(R_AX), .want = {[R_AX] = 12}, .fmask = FL_CF | FL_OF,
     .fwant = FL_CF},
    {"adox carry out", .code = {0xf3, 0x0f, 0x38, 0xf6, 0xc3, 0xf4}, .len = 6,
     .init = {[R_AX] = 0xffffffff, [R_BX] = 1}, .check = B(R_AX),
     .want = {[R_AX] = 0}, .fmask = FL_CF | FL_OF | FL_ZF, .fwant = FL_OF},
    /* ---- MOVBE ---- */
    {"movbe load r32", .code = {0x0f, 0x38, 0xf0, 0x06, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA}, .mem = {0x8877665544332211ull},
     .check = B(R_AX), .want = {[R_AX] = 0x11223344}},
    {"movbe load r64", .code = {0x48, 0x0f, 0x38, 0xf0, 0x06, 0xf4}, .len = 6,
     .init = {[R_SI] = DATA}, .mem = {0x8877665544332211ull},
     .check = B(R_AX), .want = {[R_AX] = 0x1122334455667788ull}},
    {"movbe load r16", .code = {0x66, 0x0f, 0x38, 0xf0, 0x06, 0xf4}, .len = 6,
     .init = {[R_SI] = DATA, [R_AX] = 0xaaaaaaaaaaaaaaaaull},
     .mem = {0x8877665544332211ull}, .check = B(R_AX),
     .want = {[R_AX] = 0xaaaaaaaaaaaa1122ull}},
    {"movbe store r32", .code = {0x0f, 0x38, 0xf1, 0x06, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA, [R_AX] = 0x11223344}, .mem = {~0ull, 0},
     .mcheck = true, .mwant = {0xffffffff44332211ull, 0}},
    {"movbe register form", .code = {0x0f, 0x38, 0xf0, 0xc3}, .len = 4,
     .exc = X_UD},
    /* ---- CMPXCHG16B ---- */
    {"cmpxchg16b equal", .code = {0x48, 0x0f, 0xc7, 0x0e, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA, [R_AX] = 0xa, [R_DX] = 0xb, [R_BX] = 0xc,
              [R_CX] = 0xd},
     .mem = {0xa, 0xb}, .check = B(R_AX) | B(R_DX),
     .want = {[R_AX] = 0xa, [R_DX] = 0xb}, .fmask = FL_ZF, .fwant = FL_ZF,
     .mcheck = true, .mwant = {0xc, 0xd}},
    {"cmpxchg16b not equal", .code = {0x48, 0x0f, 0xc7, 0x0e, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA, [R_AX] = 0xa, [R_DX] = 0xf, [R_BX] = 0xc,
              [R_CX] = 0xd},
     .finit = FL_ZF, .mem = {0xa, 0xb}, .check = B(R_AX) | B(R_DX),
     .want = {[R_AX] = 0xa, [R_DX] = 0xb}, .fmask = FL_ZF, .fwant = 0,
     .mcheck = true, .mwant = {0xa, 0xb}},
    {"lock cmpxchg16b", .code = {0xf0, 0x48, 0x0f, 0xc7, 0x0e, 0xf4}, .len = 6,
     .init = {[R_SI] = DATA, [R_AX] = 5, [R_DX] = 6, [R_BX] = 0xc,
              [R_CX] = 0xd},
     .mem = {5, 6},
     .fmask = FL_ZF, .fwant = FL_ZF, .mcheck = true, .mwant = {0xc, 0xd}},
    {"cmpxchg16b misaligned", .code = {0x48, 0x0f, 0xc7, 0x0e}, .len = 4,
     .init = {[R_SI] = DATA + 8}, .exc = X_GP},
    {"cmpxchg16b register form", .code = {0x48, 0x0f, 0xc7, 0xc9}, .len = 4,
     .exc = X_UD},
    /* ---- RDRAND / RDSEED: CF = 1, OF SF ZF AF PF = 0 ---- */
    {"rdrand flags", .code = {0x0f, 0xc7, 0xf0, 0xf4}, .len = 4,
     .finit = FL_ZF | FL_OF | FL_SF, .fmask = ALLF, .fwant = FL_CF},
    {"rdseed flags", .code = {0x48, 0x0f, 0xc7, 0xf8, 0xf4}, .len = 5,
     .finit = FL_ZF, .fmask = ALLF, .fwant = FL_CF},
    {"rdrand with F2 is #UD", .code = {0xf2, 0x0f, 0xc7, 0xf0}, .len = 4,
     .exc = X_UD},
    /* ---- cache lines ---- */
    {"clflush", .code = {0x0f, 0xae, 0x3e, 0xf4}, .len = 4,
     .init = {[R_SI] = DATA}},
    {"clflushopt", .code = {0x66, 0x0f, 0xae, 0x3e, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA}},
    {"clwb absent on vp-intel", M_INTEL, .code = {0x66, 0x0f, 0xae, 0x36},
     .len = 4, .init = {[R_SI] = DATA}, .exc = X_UD},
    {"clwb on vp-amd", M_AMD, .code = {0x66, 0x0f, 0xae, 0x36, 0xf4}, .len = 5,
     .init = {[R_SI] = DATA}},
    {"clflushopt non-canonical", .code = {0x66, 0x0f, 0xae, 0x3e}, .len = 4,
     .init = {[R_SI] = 1ull << 47}, .exc = X_GP},
    {"clflushopt non-canonical stack", .code = {0x66, 0x0f, 0xae, 0x3c, 0x24},
     .len = 5, .init = {[R_SP] = 1ull << 47}, .exc = X_SS},
    {"clflushopt not present", .code = {0x66, 0x0f, 0xae, 0x3e}, .len = 4,
     .init = {[R_SI] = 0x80000000}, .exc = X_PF},
    {"lfence with 66 is #UD", .code = {0x66, 0x0f, 0xae, 0xe8}, .len = 4,
     .exc = X_UD},
    /* ---- CLAC / STAC ---- */
    {"clac", .code = {0x0f, 0x01, 0xca, 0xf4}, .len = 4, .finit = FL_AC,
     .fmask = FL_AC, .fwant = 0},
    {"stac", .code = {0x0f, 0x01, 0xcb, 0xf4}, .len = 4, .fmask = FL_AC,
     .fwant = FL_AC},
    {"stac at CPL 3", .mode = MD_64U, .code = {0x0f, 0x01, 0xcb}, .len = 3,
     .exc = X_UD},
    {"clac in real mode", .mode = MD_REAL, .code = {0x0f, 0x01, 0xca, 0xf4},
     .len = 4, .finit = FL_AC, .fmask = FL_AC, .fwant = 0},
    /* ---- INVPCID (66 0F 38 82 /r: invpcid rax, [rsi]) ---- */
    {"invpcid type 2", .code = {0x66, 0x0f, 0x38, 0x82, 0x06, 0xf4}, .len = 6,
     .init = {[R_AX] = 2, [R_SI] = DATA}},
    {"invpcid type 0", .code = {0x66, 0x0f, 0x38, 0x82, 0x06, 0xf4}, .len = 6,
     .init = {[R_SI] = DATA}, .mem = {0, 0x7fffffff0000ull}},
    {"invpcid type 4", .code = {0x66, 0x0f, 0x38, 0x82, 0x06}, .len = 5,
     .init = {[R_AX] = 4, [R_SI] = DATA}, .exc = X_GP},
    {"invpcid type above 32 bits", .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_AX] = 1ull << 32 | 1, [R_SI] = DATA}, .exc = X_GP},
    {"invpcid reserved descriptor bits", .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_AX] = 3, [R_SI] = DATA}, .mem = {0x1000},
     .exc = X_GP},
    {"invpcid PCID without CR4.PCIDE", .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_AX] = 1, [R_SI] = DATA}, .mem = {1}, .exc = X_GP},
    {"invpcid type 3 ignores the PCID", .code = {0x66, 0x0f, 0x38, 0x82, 0x06, 0xf4},
     .len = 6, .init = {[R_AX] = 3, [R_SI] = DATA}, .mem = {1}},
    {"invpcid non-canonical address", .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_SI] = DATA}, .mem = {0, 1ull << 47}, .exc = X_GP},
    {"invpcid at CPL 3", .mode = MD_64U, .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_AX] = 2, [R_SI] = DATA}, .exc = X_GP},
    {"invpcid register form", .code = {0x66, 0x0f, 0x38, 0x82, 0xc0}, .len = 5,
     .exc = X_UD},
    {"invpcid absent on vp-amd", M_AMD, .code = {0x66, 0x0f, 0x38, 0x82, 0x06},
     .len = 5, .init = {[R_AX] = 2, [R_SI] = DATA}, .exc = X_UD},
    {"invpcid in 32-bit mode", .mode = MD_32,
     .code = {0x66, 0x0f, 0x38, 0x82, 0x06, 0xf4}, .len = 6,
     .init = {[R_AX] = 2, [R_SI] = DATA}},
    /* ---- MONITOR / MWAIT (SDM Vol 2B; the waits: test_mwait_*) ---- */
    {"monitor then mwait", .code = {0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, 0xf4},
     .len = 7, .init = {[R_AX] = DATA}},
    {"monitor on vp-amd", M_AMD, .code = {0x0f, 0x01, 0xc8, 0xf4}, .len = 4,
     .init = {[R_AX] = DATA}},
    {"monitor with ECX not 0", .code = {0x0f, 0x01, 0xc8}, .len = 3,
     .init = {[R_AX] = DATA, [R_CX] = 1}, .exc = X_GP},
    {"monitor of a non-canonical address", .code = {0x0f, 0x01, 0xc8},
     .len = 3, .init = {[R_AX] = 1ull << 47}, .exc = X_GP},
    {"monitor at CPL 3", .mode = MD_64U, .code = {0x0f, 0x01, 0xc8}, .len = 3,
     .init = {[R_AX] = DATA}, .exc = X_UD},
    {"mwait at CPL 3", .mode = MD_64U, .code = {0x0f, 0x01, 0xc9}, .len = 3,
     .exc = X_UD},
    {"mwait with interrupts as break events (ECX[0])",
     .code = {0x0f, 0x01, 0xc9, 0xf4}, .len = 4, .init = {[R_CX] = 1}},
    {"mwait with ECX[1] set", .code = {0x0f, 0x01, 0xc9}, .len = 3,
     .init = {[R_CX] = 2}, .exc = X_GP},
    {"mwait with RCX[32] set", .code = {0x0f, 0x01, 0xc9}, .len = 3,
     .init = {[R_CX] = 1ull << 32}, .exc = X_GP},
    {"mwait without a monitor does not wait", .code = {0x0f, 0x01, 0xc9, 0xf4},
     .len = 4},
    {"no MONITOR", M_BARE, .code = {0x0f, 0x01, 0xc8}, .len = 3,
     .init = {[R_AX] = DATA}, .exc = X_UD},
    /* IA32_MISC_ENABLE[18] cleared (rdmsr; and eax, ~bit 18; wrmsr):
     * MONITOR is #UD (SDM Vol 4, IA32_MISC_ENABLE). */
    {"monitor with IA32_MISC_ENABLE.MONITOR clear",
     .code = {0xb9, 0xa0, 0x01, 0x00, 0x00, 0x0f, 0x32, 0x25, 0xff, 0xff,
              0xfb, 0xff, 0x0f, 0x30, 0x31, 0xc9, 0x0f, 0x01, 0xc8},
     .len = 19, .exc = X_UD},
    /* ---- #UD without the CPUID bit (a vp-intel copy without them) ---- */
    {"no POPCNT", M_BARE, .code = {0xf3, 0x0f, 0xb8, 0xc3}, .len = 4, .exc = X_UD},
    {"no BMI1: andn", M_BARE, .code = {0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 5,
     .exc = X_UD},
    {"no BMI1: blsr", M_BARE, .code = {0xc4, 0xe2, 0x78, 0xf3, 0xcb}, .len = 5,
     .exc = X_UD},
    {"no BMI2: bzhi", M_BARE, .code = {0xc4, 0xe2, 0x70, 0xf5, 0xc3}, .len = 5,
     .exc = X_UD},
    {"no BMI2: rorx", M_BARE, .code = {0xc4, 0xe3, 0x7b, 0xf0, 0xc3, 0x08},
     .len = 6, .exc = X_UD},
    {"no ADX", M_BARE, .code = {0x66, 0x0f, 0x38, 0xf6, 0xc3}, .len = 5,
     .exc = X_UD},
    {"no MOVBE", M_BARE, .code = {0x0f, 0x38, 0xf0, 0x06}, .len = 4,
     .init = {[R_SI] = DATA}, .exc = X_UD},
    {"no CX16", M_BARE, .code = {0x48, 0x0f, 0xc7, 0x0e}, .len = 4,
     .init = {[R_SI] = DATA}, .exc = X_UD},
    {"no RDRAND", M_BARE, .code = {0x0f, 0xc7, 0xf0}, .len = 3, .exc = X_UD},
    {"no RDSEED", M_BARE, .code = {0x0f, 0xc7, 0xf8}, .len = 3, .exc = X_UD},
    {"no RDTSCP", M_BARE, .code = {0x0f, 0x01, 0xf9}, .len = 3, .exc = X_UD},
    {"no RDPID (vp-intel)", M_INTEL, .code = {0xf3, 0x0f, 0xc7, 0xf8}, .len = 4,
     .exc = X_UD},
    {"no CLFLUSHOPT", M_BARE, .code = {0x66, 0x0f, 0xae, 0x3e}, .len = 4,
     .init = {[R_SI] = DATA}, .exc = X_UD},
    {"no SMAP: clac", M_BARE, .code = {0x0f, 0x01, 0xca}, .len = 3, .exc = X_UD},
    {"no INVPCID", M_BARE, .code = {0x66, 0x0f, 0x38, 0x82, 0x06}, .len = 5,
     .init = {[R_AX] = 2, [R_SI] = DATA}, .exc = X_UD},
    /* ---- VEX rules (SDM Vol 2A, "The VEX Prefix") ---- */
    {"VEX.L = 1 is #UD for BMI", .code = {0xc4, 0xe2, 0x64, 0xf2, 0xc1}, .len = 5,
     .exc = X_UD},
    {"VEX.pp = 66 where none is defined", .code = {0xc4, 0xe2, 0x61, 0xf2, 0xc1},
     .len = 5, .exc = X_UD},
    {"66 before VEX", .code = {0x66, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 6,
     .exc = X_UD},
    {"F3 before VEX", .code = {0xf3, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 6,
     .exc = X_UD},
    {"REX before VEX", .code = {0x48, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 6,
     .exc = X_UD},
    {"LOCK before VEX", .code = {0xf0, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 6,
     .exc = X_UD},
    {"VEX map 4 is reserved", .code = {0xc4, 0xe4, 0x60, 0xf2, 0xc1}, .len = 5,
     .exc = X_UD},
    {"VEX in real mode is #UD", .mode = MD_REAL,
     .code = {0xc4, 0xe2, 0x60, 0xf2, 0xc1}, .len = 5, .exc = X_UD},
    {"VEX.W ignored in 32-bit mode", .mode = MD_32,
     .code = {0xc4, 0xe2, 0xe0, 0xf2, 0xc1, 0xf4}, .len = 6,
     .init = {[R_CX] = 0xffffffff12345678ull}, .check = B(R_AX),
     .want = {[R_AX] = 0x12345678}},
    {"VEX.vvvv bit 3 ignored in 32-bit mode", .mode = MD_32,
     .code = {0xc4, 0xe2, 0x20, 0xf2, 0xc1, 0xf4}, .len = 6,
     .init = {[R_BX] = 0xff, [R_CX] = 0xfff}, .check = B(R_AX),
     .want = {[R_AX] = 0xf00}},
    {"VEX registers r8-r15 (VEX.R, VEX.B, vvvv)", /* andn r9, r10, r11 */
     .code = {0xc4, 0x42, 0xa8, 0xf2, 0xcb, 0xf4}, .len = 6,
     .init = {[R_R10] = 0xff, [R_R11] = 0xfff}, .check = B(R_R9),
     .want = {[R_R9] = 0xf00}},
    {"VEX.X with an index register", /* andn eax, ebx, [rsi + r9*8] */
     .code = {0xc4, 0xa2, 0x60, 0xf2, 0x04, 0xce, 0xf4}, .len = 7,
     .init = {[R_SI] = DATA - 8, [R_R9] = 1, [R_BX] = 0xf}, .mem = {0xff},
     .check = B(R_AX), .want = {[R_AX] = 0xf0}},
    {"two-byte VEX (C5) names map 0F: undefined here", .code = {0xc5, 0xf8, 0xf2, 0xc1},
     .len = 4, .exc = X_UD},
};

static const vp_cpu_model *bare_model(void)
{
    static vp_cpu_model bare;
    bare = vp_cpu_models[0];
    bare.name = "test-bare";
    bare.f1_ecx &= ~(FEAT_BIT(POPCNT) | FEAT_BIT(MOVBE) | FEAT_BIT(CX16) |
                     FEAT_BIT(RDRAND) | FEAT_BIT(MONITOR));
    bare.f7_ebx = 0;
    bare.f7_ecx = 0;
    bare.e1_ecx &= ~FEAT_BIT(ABM);
    bare.e1_edx &= ~FEAT_BIT(RDTSCP);
    return &bare;
}

static vp_machine *isa_machine(int model)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = 16ull << 20;
    cfg.ncpus = 1;
    cfg.cpu_model = model == M_AMD ? "vp-amd" : "vp-intel";
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    if (model == M_BARE)
        m->cpus[0]->model = bare_model();
    return m;
}

static void set_mode(vp_cpu *c, int mode)
{
    switch (mode) {
    case MD_64: long64(c, 0); break;
    case MD_64U: long64(c, 3); break;
    case MD_32: prot32(c, 0); break;
    default: real16(c); break;
    }
}

/* Runs the code at CS:RIP one instruction at a time, decode then handler,
 * as exec.c does, until HLT. Returns the vector of the first exception,
 * or -1. */
static int step_code(vp_cpu *c, const uint8_t *code, size_t len)
{
    uint64_t start = c->rip;
    ck_assert_int_eq(vp_phys_load(&c->m->mem,
                                  (c->seg[S_CS].base + start) & 0xffffffffull,
                                  code, len), 0);
    for (int n = 0; n < 16; n++) {
        uint64_t off = c->rip - start;
        ck_assert_msg(off < len, "ran past the code");
        vp_insn in;
        int l = vp_decode(code + off, (int)(len - off), c->code_size, &in);
        ck_assert_msg(l > 0, "decode at +%llu returned %d",
                      (unsigned long long)off, l);
        if (in.fn == op_hlt)
            return -1;
        c->insn_rip = c->rip;
        c->rip = (c->rip + (uint64_t)l) & c->rip_mask;
        c->exc.vector = -1;
        if (in.fn(c, &in) == VP_EXC)
            return c->exc.vector;
        c->icount++;
    }
    ck_abort_msg("no HLT");
    return -1;
}

START_TEST(test_isa_vectors)
{
    const isa_vec *v = &vecs[_i];
    vp_machine *m = isa_machine(v->model);
    vp_cpu *c = m->cpus[0];
    set_mode(c, v->mode);
    for (int r = 0; r < 16; r++)
        if (v->init[r])
            c->gpr[r] = v->init[r];
    vp_flags(c);
    c->flags = (c->flags & ~(FL_ARITH | FL_AC)) | v->finit;
    wr64(m, DATA, v->mem[0]);
    wr64(m, DATA + 8, v->mem[1]);

    int exc = step_code(c, v->code, v->len);
    ck_assert_msg(exc == x_vector[v->exc], "%s: exception %d, want %d",
                  v->name, exc, x_vector[v->exc]);
    if ((v->exc == X_GP || v->exc == X_SS) && exc >= 0)
        ck_assert_msg(c->exc.error == 0, "%s: error code %#x", v->name,
                      c->exc.error);
    for (int r = 0; r < 16; r++)
        if (v->check & B(r))
            ck_assert_msg(c->gpr[r] == v->want[r],
                          "%s: reg %d = %#llx, want %#llx", v->name, r,
                          (unsigned long long)c->gpr[r],
                          (unsigned long long)v->want[r]);
    if (v->fmask) {
        uint64_t f = vp_flags(c) & v->fmask;
        ck_assert_msg(f == v->fwant, "%s: flags %#llx, want %#llx", v->name,
                      (unsigned long long)f, (unsigned long long)v->fwant);
    }
    if (v->mcheck)
        for (int k = 0; k < 2; k++)
            ck_assert_msg(rd(m, DATA + 8 * k, 8) == v->mwant[k],
                          "%s: memory +%d = %#llx, want %#llx", v->name,
                          8 * k, (unsigned long long)rd(m, DATA + 8 * k, 8),
                          (unsigned long long)v->mwant[k]);
    vp_machine_destroy(m);
}
END_TEST

/* RDRAND/RDSEED are reproducible: two machines running the same code read
 * the same numbers, and consecutive reads differ. */
START_TEST(test_rdrand_deterministic)
{
    static const uint8_t code[] = {
        0x48, 0x0f, 0xc7, 0xf0,     /* rdrand rax */
        0x48, 0x0f, 0xc7, 0xf3,     /* rdrand rbx */
        0x48, 0x0f, 0xc7, 0xf9,     /* rdseed rcx */
        0x66, 0x0f, 0xc7, 0xf2,     /* rdrand dx */
        0xf4};
    uint64_t got[2][4];
    for (int run = 0; run < 2; run++) {
        vp_machine *m = isa_machine(M_INTEL);
        vp_cpu *c = m->cpus[0];
        long64(c, 0);
        c->gpr[R_DX] = 0x1234567800000000ull;
        ck_assert_int_eq(step_code(c, code, sizeof(code)), -1);
        memcpy(got[run], c->gpr, sizeof(got[run]));
        ck_assert(vp_flags(c) & FL_CF);
        vp_machine_destroy(m);
    }
    for (int r = 0; r < 4; r++)
        ck_assert_msg(got[0][r] == got[1][r], "reg %d differs between runs",
                      r);
    ck_assert(got[0][R_AX] != got[0][R_BX]);
    ck_assert(got[0][R_BX] != got[0][R_CX]);
    ck_assert_uint_eq(got[0][R_DX] >> 16, 0x1234567800000000ull >> 16);
}
END_TEST

/* RDTSCP: EDX:EAX = TSC, ECX = TSC_AUX, #GP(0) at CPL 3 with CR4.TSD.
 * RDPID: TSC_AUX zero-extended (64-bit mode) or 32 bits. */
START_TEST(test_rdtscp_rdpid)
{
    static const uint8_t rdtscp[] = {0x0f, 0x01, 0xf9, 0xf4};
    static const uint8_t rdpid[] = {0xf3, 0x0f, 0xc7, 0xf8, 0xf4};
    vp_machine *m = isa_machine(M_AMD);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    c->tsc_aux = 0x8765;
    c->gpr[R_CX] = ~0ull;
    c->gpr[R_AX] = ~0ull;
    ck_assert_int_eq(step_code(c, rdtscp, sizeof(rdtscp)), -1);
    ck_assert_uint_eq(c->gpr[R_CX], 0x8765);
    ck_assert_uint_eq(c->gpr[R_AX] >> 32, 0);
    uint64_t tsc = vp_cpu_tsc(c);
    ck_assert_uint_le((c->gpr[R_DX] << 32) | c->gpr[R_AX], tsc);

    c->gpr[R_AX] = ~0ull;
    ck_assert_int_eq(step_code(c, rdpid, sizeof(rdpid)), -1);
    ck_assert_uint_eq(c->gpr[R_AX], 0x8765);

    /* CPL 3 with CR4.TSD: RDTSCP faults, RDPID does not. */
    long64(c, 3);
    c->cr4 |= CR4_TSD;
    ck_assert_int_eq(step_code(c, rdtscp, sizeof(rdtscp)), EXC_GP);
    ck_assert_uint_eq(c->exc.error, 0);
    long64(c, 3);
    c->cr4 |= CR4_TSD;
    ck_assert_int_eq(step_code(c, rdpid, sizeof(rdpid)), -1);
    ck_assert_uint_eq(c->gpr[R_AX], 0x8765);

    /* 32-bit mode: RDPID r32. */
    prot32(c, 0);
    c->gpr[R_AX] = ~0ull;
    ck_assert_int_eq(step_code(c, rdpid, sizeof(rdpid)), -1);
    ck_assert_uint_eq(c->gpr[R_AX], 0x8765);
    vp_machine_destroy(m);
}
END_TEST

/* STAC then a supervisor read of a user page with CR4.SMAP: allowed with
 * AC = 1, #PF after CLAC (SDM Vol 3A, "Access Rights"). */
START_TEST(test_smap_clac_stac)
{
    static const uint8_t stac_load[] = {
        0x0f, 0x01, 0xcb,           /* stac */
        0x8b, 0x06,                 /* mov eax, [rsi] */
        0xf4};
    static const uint8_t clac_load[] = {
        0x0f, 0x01, 0xca,           /* clac */
        0x8b, 0x06,                 /* mov eax, [rsi] */
        0xf4};
    vp_machine *m = isa_machine(M_INTEL);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);                   /* the 1-GiB page is user-accessible */
    ck_assert_int_eq(vp_write_cr(c, 4, c->cr4 | CR4_SMAP), VP_OK);
    wr64(m, DATA, 0x1234);
    c->gpr[R_SI] = DATA;
    ck_assert_int_eq(step_code(c, stac_load, sizeof(stac_load)), -1);
    ck_assert_uint_eq(c->gpr[R_AX], 0x1234);
    c->rip = T_CODE;
    ck_assert_int_eq(step_code(c, clac_load, sizeof(clac_load)), EXC_PF);
    vp_machine_destroy(m);
}
END_TEST

/* What CPUID advertises now, per model (features.def impl & models.c). */
START_TEST(test_cpuid_bits)
{
    uint32_t r[4];
    vp_machine *m = isa_machine(M_INTEL);
    vp_cpu *c = m->cpus[0];
    vp_cpuid(c, 1, 0, r);
    uint32_t want1 = FEAT_BIT(POPCNT) | FEAT_BIT(MOVBE) | FEAT_BIT(CX16) |
                     FEAT_BIT(RDRAND);
    ck_assert_uint_eq(r[2] & want1, want1);
    ck_assert_uint_eq(r[2] & FEAT_BIT(MONITOR), FEAT_BIT(MONITOR));
    vp_cpuid(c, 5, 0, r);       /* 64-byte lines, EMX and IBE, one C1 */
    ck_assert_uint_eq(r[0], 64);
    ck_assert_uint_eq(r[1], 64);
    ck_assert_uint_eq(r[2], 3);
    ck_assert_uint_eq(r[3], 0x10);
    uint64_t misc;
    ck_assert_int_eq(vp_rdmsr(c, 0x1a0, &misc), VP_OK);
    ck_assert(misc & MISC_MONITOR);
    ck_assert_int_eq(vp_wrmsr(c, 0x1a0, misc & ~MISC_MONITOR), VP_OK);
    vp_cpuid(c, 1, 0, r);
    ck_assert_uint_eq(r[2] & FEAT_BIT(MONITOR), 0);
    vp_cpuid(c, 5, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    ck_assert_int_eq(vp_wrmsr(c, 0x1a0, misc), VP_OK);
    vp_cpuid(c, 7, 0, r);
    uint32_t want7 = FEAT_BIT(BMI1) | FEAT_BIT(BMI2) | FEAT_BIT(ADX) |
                     FEAT_BIT(RDSEED) | FEAT_BIT(SMAP) | FEAT_BIT(INVPCID) |
                     FEAT_BIT(CLFLUSHOPT);
    ck_assert_uint_eq(r[1] & want7, want7);
    ck_assert_uint_eq(r[1] & FEAT_BIT(CLWB), 0);       /* not on Skylake-S */
    ck_assert_uint_eq(r[2] & FEAT_BIT(RDPID), 0);
    vp_cpuid(c, 0x80000001, 0, r);
    ck_assert(r[2] & FEAT_BIT(ABM));
    ck_assert(r[3] & FEAT_BIT(RDTSCP));
    vp_machine_destroy(m);

    m = isa_machine(M_AMD);
    c = m->cpus[0];
    vp_cpuid(c, 1, 0, r);
    ck_assert_uint_eq(r[2] & want1, want1);
    vp_cpuid(c, 7, 0, r);
    want7 = (want7 & ~FEAT_BIT(INVPCID)) | FEAT_BIT(CLWB);
    ck_assert_uint_eq(r[1] & want7, want7);
    ck_assert_uint_eq(r[1] & FEAT_BIT(INVPCID), 0);    /* not on Zen 2 */
    ck_assert(r[2] & FEAT_BIT(RDPID));
    vp_cpuid(c, 0x80000001, 0, r);
    ck_assert(r[2] & FEAT_BIT(ABM));
    ck_assert(r[3] & FEAT_BIT(RDTSCP));
    vp_machine_destroy(m);
}
END_TEST

/* Decoder: lengths and handlers of three-byte-map, mandatory-prefix and
 * VEX encodings, and VEX versus LES/LDS outside 64-bit mode. */
START_TEST(test_decode_isa)
{
    static const struct {
        uint8_t b[16];
        int code, len;
        vp_handler fn;
        int osize;          /* 0: not checked */
    } t[] = {
        {{0xf3, 0x0f, 0xb8, 0xc3}, 8, 4, op_popcnt, 4},
        {{0x66, 0xf3, 0x0f, 0xb8, 0xc3}, 8, 5, op_popcnt, 2},
        {{0x0f, 0xb8, 0xc3}, 8, 3, op_ud, 0},              /* JMPE */
        {{0xf2, 0x0f, 0xbc, 0xc3}, 8, 4, op_bsf_bsr, 4},   /* F2: still BSF */
        {{0xf3, 0x0f, 0xbd, 0xc3}, 4, 4, op_lzcnt, 4},
        {{0x0f, 0x38, 0xf0, 0x06}, 8, 4, op_movbe, 4},
        {{0x0f, 0x38, 0xf0, 0x46, 0x08}, 2, 5, op_movbe, 2},
        {{0xf2, 0x0f, 0x38, 0xf0, 0xc1}, 8, 5, op_ud, 0},  /* CRC32 */
        {{0x66, 0x0f, 0x38, 0xf6, 0xc3}, 8, 5, op_adx, 4}, /* 66 mandatory */
        {{0x66, 0x0f, 0x38, 0xf6, 0xc3}, 2, 5, op_adx, 4},
        {{0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc3}, 8, 6, op_adx, 8},
        {{0xf3, 0x0f, 0x38, 0xf6, 0xc3}, 8, 5, op_adx, 4},
        {{0x66, 0x0f, 0x38, 0x82, 0x06}, 8, 5, op_invpcid, 8},
        {{0x66, 0x0f, 0x38, 0x82, 0x06}, 4, 5, op_invpcid, 4},
        {{0x0f, 0x38, 0x00, 0xc1}, 8, 4, op_ud, 0},        /* PSHUFB */
        {{0x0f, 0x3a, 0x0f, 0xc1, 0x08}, 8, 5, op_ud, 0},  /* PALIGNR */
        {{0xc4, 0xe2, 0x60, 0xf2, 0xc1}, 8, 5, op_andn, 4},
        {{0xc4, 0xe2, 0xe0, 0xf2, 0xc1}, 8, 5, op_andn, 8},
        {{0xc4, 0xe2, 0xe0, 0xf2, 0xc1}, 4, 5, op_andn, 4},
        {{0xc4, 0xe2, 0x60, 0xf2, 0xc1}, 2, 5, op_andn, 4},
        {{0xc4, 0xe2, 0x60, 0xf2, 0x84, 0x24, 0x10, 0, 0, 0}, 8, 10, op_andn, 4},
        {{0x67, 0xc4, 0xe2, 0x60, 0xf2, 0x00}, 8, 6, op_andn, 4},
        {{0xc4, 0xe2, 0x78, 0xf3, 0xcb}, 8, 5, op_bls, 4},
        {{0xc4, 0xe2, 0x78, 0xf3, 0xc3}, 8, 5, op_ud, 0},  /* group 17 /0 */
        {{0xc4, 0xe3, 0x7b, 0xf0, 0xc3, 0x08}, 8, 6, op_rorx, 4},
        {{0xc4, 0xe3, 0x73, 0xf0, 0xc3, 0x08}, 8, 6, op_ud, 0}, /* vvvv used */
        {{0xc4, 0xe3, 0x3b, 0xf0, 0xc3, 0x08}, 8, 6, op_ud, 0}, /* vvvv = r8 */
        {{0xc4, 0xe3, 0x3b, 0xf0, 0xc3, 0x08}, 4, 6, op_rorx, 4}, /* bit 3 off */
        {{0x0f, 0x20, 0x00}, 8, 3, op_mov_r_cr, 0},        /* mod ignored */
        {{0x0f, 0x22, 0x84}, 8, 3, op_mov_cr_r, 0},
        {{0x0f, 0x23, 0x46}, 2, 3, op_mov_dr_r, 0},
        {{0xc4, 0xe2, 0x63, 0xf6, 0xc1}, 8, 5, op_mulx, 4},
        {{0xc4, 0xe2, 0x60, 0xf6, 0xc1}, 8, 5, op_ud, 0},  /* MULX needs F2 */
        {{0xc4, 0xe2, 0x64, 0xf2, 0xc1}, 8, 5, op_ud, 0},  /* L = 1 */
        {{0x66, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, 8, 6, op_ud, 0},
        {{0x40, 0xc4, 0xe2, 0x60, 0xf2, 0xc1}, 8, 6, op_ud, 0},
        {{0xc5, 0xf8, 0xf2, 0xc1}, 8, 4, op_ud, 0},
        {{0xc4, 0x06}, 4, 2, op_lxs, 4},                   /* LES eax,[esi] */
        {{0xc5, 0x06}, 4, 2, op_lxs, 4},                   /* LDS eax,[esi] */
        {{0xc4, 0x46, 0x02}, 2, 3, op_lxs, 2},             /* LES ax,[bp+2] */
        {{0xc4, 0x06}, 8, 0, NULL, 0},                     /* VEX: truncated */
        {{0x0f, 0x01, 0xf9}, 8, 3, op_rdtscp, 0},
        {{0x0f, 0x01, 0xf8}, 8, 3, op_grp7, 0},            /* SWAPGS */
        {{0x0f, 0x01, 0xc8}, 8, 3, op_monitor, 0},
        {{0x0f, 0x01, 0xc9}, 8, 3, op_mwait, 0},
        {{0x0f, 0x01, 0xca}, 8, 3, op_clac_stac, 0},
        {{0x0f, 0x01, 0xd0}, 8, 3, op_ud, 0},              /* XGETBV */
        {{0x0f, 0x01, 0x3e}, 8, 3, op_grp7, 0},            /* INVLPG */
        {{0x0f, 0xc7, 0xf0}, 8, 3, op_rdrand, 4},
        {{0x66, 0x0f, 0xc7, 0xf0}, 8, 4, op_rdrand, 2},
        {{0x48, 0x0f, 0xc7, 0xf8}, 8, 4, op_rdrand, 8},    /* RDSEED */
        {{0xf3, 0x0f, 0xc7, 0xf8}, 8, 4, op_rdpid, 0},
        {{0xf3, 0x0f, 0xc7, 0xf0}, 8, 4, op_ud, 0},
        {{0x0f, 0xc7, 0x0e}, 8, 3, op_cmpxchg8b, 4},
        {{0xf0, 0x48, 0x0f, 0xc7, 0x0e}, 8, 5, op_cmpxchg8b, 8},
        {{0x0f, 0xc7, 0x36}, 8, 3, op_ud, 0},              /* VMPTRLD */
        {{0x0f, 0xae, 0x3e}, 8, 3, op_cacheline, 0},
        {{0x66, 0x0f, 0xae, 0x3e}, 8, 4, op_cacheline, 0},
        {{0x66, 0x0f, 0xae, 0x36}, 8, 4, op_cacheline, 0},
        {{0x0f, 0xae, 0x36}, 8, 3, op_ud, 0},              /* XSAVEOPT */
        {{0x0f, 0xae, 0xe8}, 8, 3, op_fence, 0},
        {{0x0f, 0xae, 0xf0}, 8, 3, op_fence, 0},
        {{0x0f, 0xae, 0xf8}, 8, 3, op_fence, 0},
        {{0xf3, 0x0f, 0xae, 0xc0}, 8, 4, op_ud, 0},        /* RDFSBASE */
        {{0x0f, 0xff, 0xc0}, 8, 3, op_ud, 0},              /* UD0 */
        {{0x0f, 0xb9, 0x40, 0x01}, 8, 4, op_ud, 0},        /* UD1 */
        {{0x0f, 0x0b}, 8, 2, op_ud, 0},                    /* UD2 */
        {{0xf0, 0xf3, 0x0f, 0xb8, 0x06}, 8, 5, op_ud, 0},  /* LOCK POPCNT */
        {{0xf3, 0x90}, 8, 2, op_xchg_ax, 0},               /* PAUSE */
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        vp_insn in;
        int avail = t[k].len ? 16 : 2;
        int len = vp_decode(t[k].b, avail, t[k].code, &in);
        ck_assert_msg(len == t[k].len, "entry %zu: len %d want %d", k, len,
                      t[k].len);
        if (!t[k].len)
            continue;
        ck_assert_msg(in.fn == t[k].fn, "entry %zu: wrong handler", k);
        if (t[k].osize)
            ck_assert_msg(in.osize == t[k].osize, "entry %zu: osize %d want %d",
                          k, in.osize, t[k].osize);
    }
    /* VEX fields: andn r9, r10, r11 = C4 42 A8 F2 CB. */
    vp_insn in;
    static const uint8_t andn_r9[] = {0xc4, 0x42, 0xa8, 0xf2, 0xcb};
    ck_assert_int_eq(vp_decode(andn_r9, 5, 8, &in), 5);
    ck_assert(in.flags & I_VEX);
    ck_assert_uint_eq(in.reg, R_R9);
    ck_assert_uint_eq(in.rm, R_R11);
    ck_assert_uint_eq(VEX_REG(&in), R_R10);
    ck_assert_uint_eq(VEX_W(&in), 1);
    ck_assert_uint_eq(VEX_L(&in), 0);
    ck_assert_uint_eq(in.op, 0x2f2);
    /* MOV CR with ModRM.mod = 0: still the register form. */
    static const uint8_t mov_cr[] = {0x0f, 0x20, 0x05};
    ck_assert_int_eq(vp_decode(mov_cr, 3, 8, &in), 3);
    ck_assert(!(in.flags & (I_MEM | I_RIPREL)));
    ck_assert_uint_eq(in.rm, R_BP);
    /* 15-byte limit with VEX: ten segment prefixes + 5 bytes fit. */
    uint8_t b[16];
    memset(b, 0x2e, sizeof(b));
    memcpy(b + 10, andn_r9, 5);
    ck_assert_int_eq(vp_decode(b, 16, 8, &in), 15);
    memset(b, 0x2e, sizeof(b));
    memcpy(b + 11, andn_r9, 5);
    ck_assert_int_eq(vp_decode(b, 16, 8, &in), -1);
    /* Outside 64-bit mode a lone C4 needs the next byte to decide. */
    ck_assert_int_eq(vp_decode((const uint8_t[]){0xc4}, 1, 4, &in), 0);
}
END_TEST

/* MWAIT waits as HLT does, the CPU halted until a store to the monitored
 * line (here by another agent, as a device or CPU would) or an event. */
static vp_cpu *mwait_cpu(vp_machine *m, const uint8_t *code, size_t len)
{
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, T_CODE, code, len), 0);
    c->gpr[R_AX] = DATA;
    c->gpr[R_CX] = 0;
    vp_cpu_exec(c, 100);
    ck_assert_msg(c->halted && c->mwait, "waits in MWAIT");
    vp_cpu_exec(c, 100);
    ck_assert_msg(c->halted && c->mwait, "still waits with nothing changed");
    return c;
}

START_TEST(test_mwait_store)
{
    /* monitor; mwait; mov eax, 1; hlt */
    static const uint8_t code[] = {0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, 0xb8,
                                   0x01, 0x00, 0x00, 0x00, 0xf4};
    vp_machine *m = isa_machine(M_INTEL);
    wr64(m, DATA + 56, 7);
    vp_cpu *c = mwait_cpu(m, code, sizeof(code));
    wr64(m, DATA + 64, 1);          /* the next line: no wake */
    vp_cpu_exec(c, 100);
    ck_assert(c->halted && c->mwait);
    wr64(m, DATA + 56, 8);          /* the monitored line */
    vp_cpu_exec(c, 100);
    ck_assert_msg(c->halted && !c->mwait, "woke, ran on to the HLT");
    ck_assert_uint_eq(c->gpr[R_AX], 1);
    /* The wait disarmed the monitor: MWAIT alone does not wait again. */
    c->halted = false;
    c->rip = T_CODE + 3;
    vp_cpu_exec(c, 100);
    ck_assert(c->halted && !c->mwait);
    vp_machine_destroy(m);
}
END_TEST

/* Between MONITOR and MWAIT, a CR3 write (an architectural TLB
 * invalidation) triggers the monitor: MWAIT does not wait. */
START_TEST(test_mwait_triggered_by_cr3)
{
    /* monitor; mov rdx, cr3; mov cr3, rdx; mwait; hlt */
    static const uint8_t code[] = {0x0f, 0x01, 0xc8, 0x0f, 0x20, 0xda, 0x0f,
                                   0x22, 0xda, 0x0f, 0x01, 0xc9, 0xf4};
    vp_machine *m = isa_machine(M_INTEL);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, T_CODE, code, sizeof(code)), 0);
    c->gpr[R_AX] = DATA;
    c->gpr[R_CX] = 0;
    vp_cpu_exec(c, 100);
    ck_assert_msg(c->halted && !c->mwait, "ran on to the HLT");
    ck_assert_uint_eq(c->rip, T_CODE + sizeof(code));
    vp_machine_destroy(m);
}
END_TEST

START_TEST(test_mwait_interrupt_break)
{
    /* monitor; mov ecx, <break>; mwait; mov eax, 1; hlt */
    for (int ibe = 0; ibe <= 1; ibe++) {
        uint8_t code[] = {0x0f, 0x01, 0xc8, 0xb9, (uint8_t)ibe, 0x00, 0x00,
                          0x00, 0x0f, 0x01, 0xc9, 0xb8, 0x01, 0x00, 0x00,
                          0x00, 0xf4};
        vp_machine *m = isa_machine(M_INTEL);
        vp_cpu *c = mwait_cpu(m, code, sizeof(code));
        ck_assert(!(c->flags & FL_IF));
        vp_phys_write_n(&m->mem, 0xfee000f0, 0x1ff, 4);  /* APIC enabled */
        vp_apic_msi(m, 0xfee00000, 0x40);                /* fixed, vector 40h */
        vp_cpu_exec(c, 100);
        if (ibe) {
            /* Woken under IF = 0; the interrupt stays pending. */
            ck_assert_msg(c->halted && !c->mwait, "ECX[0] = 1: woken");
            ck_assert_uint_eq(c->gpr[R_AX], 1);
            ck_assert(vp_apic_intr_ready(c));
        } else {
            ck_assert_msg(c->halted && c->mwait, "ECX[0] = 0: masked");
        }
        vp_machine_destroy(m);
    }
}
END_TEST

static Suite *suite_cpu_isa(void)
{
    Suite *s = suite_create("cpu_isa");
    TCase *tc = tcase_create("isa");
    tcase_add_loop_test(tc, test_isa_vectors, 0,
                        (int)(sizeof(vecs) / sizeof(vecs[0])));
    tcase_add_test(tc, test_rdrand_deterministic);
    tcase_add_test(tc, test_rdtscp_rdpid);
    tcase_add_test(tc, test_smap_clac_stac);
    tcase_add_test(tc, test_cpuid_bits);
    tcase_add_test(tc, test_mwait_store);
    tcase_add_test(tc, test_mwait_interrupt_break);
    tcase_add_test(tc, test_mwait_triggered_by_cr3);
    tcase_add_test(tc, test_decode_isa);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_isa)
