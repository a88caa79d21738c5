/* sys_strict_seg.S: the code fragments of sys_segmentation.S. */
#include "sys_segmentation.S"
