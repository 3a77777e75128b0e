/* SPDX-License-Identifier: MIT */
/*
 * trapper: a user kernel that dies on request, for the device check's
 * trap step (tests/gpu/gpu_checks.c). Type TRAP_NOW executes a trap
 * instruction on CUDA and HIP; anything else is echoed. As host C (the
 * CPU handler) it never traps: a dead kernel is a GPU's failure mode.
 */
#define RK_DEV_USER_HANDLER trapper
#include <ringkernel/device.h>

#define TRAP_NOW 99

RK_DEV_HANDLER(trapper)
{
	if (in->type == TRAP_NOW) {
#if defined(__CUDACC__) && !defined(__HIPCC__)
		__trap();
#elif defined(__HIPCC__)
		__builtin_trap();
#endif
	}
	return rk_dev_reply(k, in, in->type, payload, len);
}

RK_DEV_ENTRY(trapper)
