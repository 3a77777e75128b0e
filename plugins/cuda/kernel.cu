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

extern "C" __global__ void rk_persistent(struct rk_ctrl *ctrl, struct rk_ring_hdr *in,
					 struct rk_ring_hdr *out, rk_u8 *state, rk_u32 state_size)
{
	if (blockIdx.x != 0 || threadIdx.x != 0)
		return;
	struct rk_dev_kernel k;
	rk_dev_init(&k, ctrl, in, out, state, state_size);
	for (;;) {
		int t = rk_dev_turn(&k);
		if (t == RK_TURN_TERMINATE)
			break;
		if (t == RK_TURN_IDLE)
			RK_RELAX();
	}
	rk_dev_exit(&k);
}
