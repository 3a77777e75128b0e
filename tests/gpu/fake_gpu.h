/* SPDX-License-Identifier: MIT */
/* tests/gpu/fake_gpu.h - the knobs and counters of rk-plugin-fakegpu. */
#ifndef RKT_FAKE_GPU_H
#define RKT_FAKE_GPU_H

struct rkt_fakegpu {
	/* knobs, read at open (configured = 1: these, else the environment) */
	int configured;
	unsigned hw_queues;   /* emulated hardware queues; 0: one per stream */
	int report_hw;	      /* the plugin knows the queue count (hw_max) */
	int unregister_waits; /* unregistering waits for every stream (HIP) */
	unsigned sms;
	int occ_builtin, occ_user; /* resident blocks per SM of each function */
	int trap;		   /* set at any time: every kernel dies */

	/* counters */
	unsigned enters;      /* gpu_enter calls */
	unsigned unbracketed; /* driver calls without our device current */
	unsigned registered, unregistered;
	unsigned unregistered_while_busy; /* a deadlock on HIP */
	unsigned destroyed_while_busy;
	unsigned launched, modules_loaded, modules_unloaded, closed;
};

extern struct rkt_fakegpu rkt_fakegpu_state;
/* The calling thread's current fake device (-1: none), as the driver's
 * cuCtxGetCurrent / hipGetDevice would say. */
int rkt_fakegpu_current(void);
void rkt_fakegpu_set_current(int device);

#endif
