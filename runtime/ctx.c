/* SPDX-License-Identifier: MIT */
/* The handler context of CPU kernels: the calls a handler makes. */
#include "config.h"

#include <errno.h>

#include <ringkernel/device.h>
#include <ringkernel/ringkernel.h>

/* 0 for a context made from this library's device.h, else -EPROTO with why:
 * a plugin built against another version must not have its fields read. */
static int check_ctx(const rk_ctx *ctx, const char *fn)
{
	if (ctx->magic != RK_CTX_MAGIC || ctx->kernel_size != sizeof(struct rk_dev_kernel))
		return rk_error(-EPROTO,
				"%s: the context is not this library's (magic 0x%08x, kernel "
				"struct %u bytes, here %zu): the plugin was built against "
				"another ringkernel/device.h",
				fn, ctx->magic, ctx->kernel_size, sizeof(struct rk_dev_kernel));
	return 0;
}

int rk_ctx_reply(rk_ctx *ctx, uint32_t type, const void *payload, uint32_t len)
{
	if (!ctx || (len && !payload))
		return rk_error(-EINVAL, "rk_ctx_reply: NULL context or payload");
	int ret = check_ctx(ctx, "rk_ctx_reply");
	if (ret < 0)
		return ret;
	if (len > ctx->k->out.slot_size - RK_MSG_HDR_SIZE)
		return rk_error(-EMSGSIZE, "reply of %u bytes exceeds the output slot's %u", len,
				ctx->k->out.slot_size - RK_MSG_HDR_SIZE);
	int r = rk_dev_reply(ctx->k, ctx->in, type, payload, len);
	if (r == RK_DEV_TERMINATING) {
		ctx->terminating = 1;
		return rk_error(-ESHUTDOWN, "kernel is terminating: reply not sent");
	}
	if (r == RK_DEV_CLOSED)
		return rk_error(-EUCLEAN, "the output ring is corrupt: reply not sent");
	return 0;
}

int rk_ctx_send_k2k(rk_ctx *ctx, uint64_t dst_id, uint32_t type, const void *payload, uint32_t len)
{
	if (!ctx || (len && !payload))
		return rk_error(-EINVAL, "rk_ctx_send_k2k: NULL context or payload");
	int ret = check_ctx(ctx, "rk_ctx_send_k2k");
	if (ret < 0)
		return ret;
	struct rk_dev_kernel *k = ctx->k;
	int r = rk_dev_send(k, dst_id, type, payload, len);
	switch (r) {
	case RK_DEV_OK: return 0;
	case RK_DEV_TERMINATING:
		ctx->terminating = 1;
		return rk_error(-ESHUTDOWN, "kernel is terminating: K2K message not sent");
	case RK_DEV_CLOSED:
		return rk_error(-ESHUTDOWN, "kernel %llu terminated: route closed",
				(unsigned long long)dst_id);
	case RK_DEV_TOOBIG:
		return rk_error(-EMSGSIZE, "K2K payload of %u bytes exceeds the receiver's slots",
				len);
	default:
		return rk_error(-ENOENT, "no route from kernel %llu to kernel %llu",
				(unsigned long long)k->id, (unsigned long long)dst_id);
	}
}

uint64_t rk_ctx_kernel_id(const rk_ctx *ctx)
{
	return ctx && check_ctx(ctx, "rk_ctx_kernel_id") == 0 ? ctx->k->id : 0;
}

void *rk_ctx_state(rk_ctx *ctx)
{
	return ctx && check_ctx(ctx, "rk_ctx_state") == 0 ? (void *)ctx->k->state : NULL;
}

uint32_t rk_ctx_state_size(const rk_ctx *ctx)
{
	return ctx && check_ctx(ctx, "rk_ctx_state_size") == 0 ? ctx->k->state_size : 0;
}
