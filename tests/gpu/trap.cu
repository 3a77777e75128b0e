/* SPDX-License-Identifier: MIT */
/* The trapping kernel (tests/gpu/trap_kernel.h) built by nvcc and hipcc. */
#if defined(__HIPCC__)
#include <hip/hip_runtime.h>
#endif
#include "trap_kernel.h"
