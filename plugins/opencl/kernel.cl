/* SPDX-License-Identifier: MIT */
/*
 * The persistent kernel for the OpenCL plugin: the portable loop of
 * ringkernel/device.h compiled as OpenCL C 1.2 by the device's compiler.
 * The region is one buffer; the control block, rings and state are found
 * by offset inside it. Work-item 0 runs the loop; others return at once.
 */
__kernel void rk_persistent(__global uchar *base, ulong ctrl_off, ulong in_off, ulong out_off,
			    ulong state_off, uint state_size)
{
	if (get_global_id(0) != 0)
		return;
	struct rk_dev_kernel k;
	rk_dev_init(&k, (__global struct rk_ctrl *)(base + ctrl_off),
		    (__global struct rk_ring_hdr *)(base + in_off),
		    (__global struct rk_ring_hdr *)(base + out_off), base + state_off, state_size);
	while (rk_dev_turn(&k) != RK_TURN_TERMINATE)
		;
	rk_dev_exit(&k);
}
