/* SPDX-License-Identifier: MIT */
/* rk-plugin-hip's persistent kernel: the same source as the CUDA one. */
#include "../cuda/kernel.cu"
