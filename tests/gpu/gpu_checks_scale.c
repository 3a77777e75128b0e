/* SPDX-License-Identifier: MIT */
/* scale_cpu() for gpu_checks: the CPU build of examples/kernel/scale_kernel.h
 * (one handler per file: device.h is included once per translation unit). */
#include "../../examples/kernel/scale_kernel.h"
