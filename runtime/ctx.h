/* SPDX-License-Identifier: MIT */
/*
 * runtime/ctx.h - the handler context of a CPU kernel (rk_ctx in
 * ringkernel.h), private to the library. A plugin never sees its fields:
 * it hands the library the kernel and the request (rk_ctx_invoke(), with
 * the size of struct rk_dev_kernel it was built with), and the library
 * makes the context on its own stack and calls the handler with it.
 */
#ifndef RK_RUNTIME_CTX_H
#define RK_RUNTIME_CTX_H

#include <ringkernel/device.h>

#define RK_CTX_MAGIC 0x58544352u /* "RCTX": made by rk_ctx_invoke() */

struct rk_ctx {
	uint32_t magic;	 /* RK_CTX_MAGIC */
	int terminating; /* a send saw Terminate */
	struct rk_dev_kernel *k;
	const struct rk_msg_hdr *in; /* the request being handled */
	const rk_message *m;	     /* its unpacked copy: m->len is checked */
};

#endif /* RK_RUNTIME_CTX_H */
