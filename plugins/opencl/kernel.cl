/* SPDX-License-Identifier: MIT */
/*
 * The persistent kernel for the OpenCL plugin: the portable loop of
 * ringkernel/device.h compiled as OpenCL C 1.2 by the device's compiler.
 * The region is one buffer; the control block, rings and state are found
 * by offset inside it. Work-item 0 runs the loop; others return at once.
 */
RK_DEV_ENTRY(rk) /* rk_persistent(base, ctrl_off, in_off, out_off, state_off, state_size) */

/*
 * Where the device sees host memory: writes the device address of `p`, and
 * only when that is the host's address `host` (one address space), writes
 * through `other`, the host address of a second buffer, as a K2K send
 * would. The plugin allows K2K routes only when both came back.
 */
__kernel void rk_where(__global ulong *p, ulong host, ulong other)
{
	if (get_global_id(0) != 0)
		return;
	p[0] = (ulong)p;
	if ((ulong)p == host)
		*(__global ulong *)other = host ^ other;
	mem_fence(CLK_GLOBAL_MEM_FENCE);
}
