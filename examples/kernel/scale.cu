/* SPDX-License-Identifier: MIT */
/* The example handler (scale_kernel.h) built by nvcc and hipcc. */
#if defined(__HIPCC__)
#include <hip/hip_runtime.h>
#endif
#include "scale_kernel.h"
