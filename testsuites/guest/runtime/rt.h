/* rt.h: declarations shared by the runtime's own files (not for tests). */
#ifndef VP_GUEST_RT_H
#define VP_GUEST_RT_H

#include "vp.h"

struct vp_jmpbuf {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};
int vp_setjmp(struct vp_jmpbuf *b) __attribute__((returns_twice));
VP_NORETURN void vp_longjmp(struct vp_jmpbuf *b, int val);

void vp_serial_init(void);
void vp_intr_init(void);
void vp_mem_init(void);
/* Every report line goes through here so the counts stay exact. */
void vp_report_line(const char *kind, const char *name, const char *msg);

#endif
