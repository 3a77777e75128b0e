/* SPDX-License-Identifier: MIT */
/* The handler context of CPU kernels: the calls a handler makes. */
#include "config.h"

#include <errno.h>

#include <ringkernel/device.h>
#include <ringkernel/ringkernel.h>

#include "ctx.h"

/* 0 for a caller built against this library's device.h, else -EPROTO with
 * why: its struct rk_dev_kernel is not the one this library would read. */
static int check_build(size_t kernel_size, const char *fn)
{
	if (kernel_size != sizeof(struct rk_dev_kernel))
		return rk_error(-EPROTO,
				"%s: the caller's struct rk_dev_kernel is %zu bytes, here %zu: it "
				"was built against another ringkernel/device.h",
				fn, kernel_size, sizeof(struct rk_dev_kernel));
	return 0;
}

/* 0 for a context rk_ctx_invoke() made, else -EPROTO with why. */
static int check_ctx(const rk_ctx *ctx, const char *fn)
{
	if (ctx->magic != RK_CTX_MAGIC)
		return rk_error(-EPROTO,
				"%s: the context is not this library's (magic 0x%08x): only the "
				"handler rk_ctx_invoke() calls gets one",
				fn, ctx->magic);
	return 0;
}

int rk_ctx_invoke(rk_cpu_handler fn, struct rk_dev_kernel *k, const struct rk_msg_hdr *req,
		  const rk_message *m, size_t kernel_size, int *terminating)
{
	if (terminating)
		*terminating = 0;
	if (!fn || !k || !req || !m)
		return rk_error(-EINVAL, "rk_ctx_invoke: NULL handler, kernel, request or message");
	int ret = check_build(kernel_size, "rk_ctx_invoke");
	if (ret < 0)
		return ret;
	struct rk_ctx ctx = { .magic = RK_CTX_MAGIC, .k = k, .in = req, .m = m };
	ret = fn(&ctx, m);
	if (terminating)
		*terminating = ctx.terminating;
	return ret;
}

int rk_ctx_run_dev_handler(rk_ctx *ctx, rk_dev_handler_fn fn, size_t kernel_size)
{
	if (!ctx || !fn)
		return rk_error(-EINVAL, "rk_ctx_run_dev_handler: NULL context or handler");
	int ret = check_build(kernel_size, "rk_ctx_run_dev_handler");
	if (ret == 0)
		ret = check_ctx(ctx, "rk_ctx_run_dev_handler");
	if (ret < 0)
		return ret;
	/* The payload is the slot's, in place; its length the checked copy's. */
	int r = fn(ctx->k, ctx->in, (const rk_u8 *)(ctx->in + 1), ctx->m->len);
	if (r == RK_DEV_TERMINATING)
		ctx->terminating = 1;
	return r == RK_DEV_OK || r == RK_DEV_TERMINATING ? 0 : -EIO;
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
