/* SPDX-License-Identifier: MIT */
/*
 * One handler for every backend, written against ringkernel/device.h:
 *  - host C: scale.c (and tests/test_user_kernel.c) includes it and gets
 *    scale_cpu(), the CPU handler, which calls the very function below;
 *  - OpenCL C: this file is the kernel's "opencl" image; the plugin builds
 *    it and launches scale_persistent;
 *  - CUDA / HIP: scale.cu (.hip) includes it; nvcc and hipcc build the
 *    kernel's "cuda" / "hip" images, entry scale_persistent.
 *
 * scale: type SCALE_SET (one float) sets the factor kept in the kernel's
 * persistent state; any other type replies with the number of requests
 * seen so far (u64) followed by the request's floats times the factor.
 */
#define RK_DEV_USER_HANDLER scale
#include <ringkernel/device.h>

#define SCALE_SET 1
#define SCALE_BAD 16 /* a malformed request: counted in the kernel's errors */

struct scale_state {
	float factor;
	rk_u32 pad;
	rk_u64 count;
};

RK_DEV_HANDLER(scale)
{
	RK_GLOBAL struct scale_state *st = (RK_GLOBAL struct scale_state *)k->state;
	const RK_GLOBAL float *v = (const RK_GLOBAL float *)payload;
	rk_u32 n = len / 4;
	if (in->type == SCALE_SET) {
		if (len != 4)
			return SCALE_BAD;
		st->factor = v[0];
		n = 0;
	}
	if (8 + 4 * n > k->out.slot_size - RK_MSG_HDR_SIZE)
		return SCALE_BAD;
	RK_GLOBAL rk_u8 *out;
	int r = rk_dev_reply_begin(k, in, in->type, 8 + 4 * n, &out);
	if (r != RK_DEV_OK)
		return r;
	st->count += 1;
	*(RK_GLOBAL rk_u64 *)out = st->count;
	RK_GLOBAL float *o = (RK_GLOBAL float *)(out + 8);
	for (rk_u32 i = 0; i < n; i++)
		o[i] = st->factor * v[i];
	rk_dev_emit_end(k);
	return RK_DEV_OK;
}

RK_DEV_ENTRY(scale)
