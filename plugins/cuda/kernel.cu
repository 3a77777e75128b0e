/* SPDX-License-Identifier: MIT */
/*
 * The persistent kernel of rk-plugin-cuda (and, through plugins/hip/
 * kernel.hip, of rk-plugin-hip): the portable loop of ringkernel/device.h,
 * the very code the CPU plugin runs on host threads.
 *
 * Launched once per rk_kernel. Lane 0 of block 0 runs the whole loop over
 * the zero-copy mapped region; every other lane and block returns at once,
 * freeing its slot on the SM (the loop is single-producer/single-consumer
 * per ring, and a block's lanes are a loop on every backend). The grid and
 * block sizes the user asked for are still what the launch reserves and
 * what residency is checked against.
 *
 * Arguments are device addresses (the plugin translates the host addresses
 * of the registered region: device base + offset).
 */
#if defined(__HIPCC__)
#include <hip/hip_runtime.h>
#endif
#include <ringkernel/device.h>

RK_DEV_ENTRY(rk) /* rk_persistent(ctrl, in, out, state, state_size) */
