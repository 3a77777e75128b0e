/* SPDX-License-Identifier: MIT */
/* scale_cpu() for gpu_checks: the CPU build of tests/scale_kernel.h (one
 * handler per file: device.h is included once per translation unit). */
#include "../scale_kernel.h"
