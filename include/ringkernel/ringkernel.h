/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/ringkernel.h - the umbrella header of libringkernel.
 */
#ifndef RINGKERNEL_RINGKERNEL_H
#define RINGKERNEL_RINGKERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/layout.h>
#include <ringkernel/msg.h>
#include <ringkernel/plugin.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0" */
const char *rk_version(void);

#define RK_NO_WAIT ((uint64_t)0)
#define RK_FOREVER UINT64_MAX

/* ---- runtime (spec: RuntimeBuilder, Backend, RingKernelRuntime) ---------- */

typedef enum { RK_BACKEND_AUTO, RK_BACKEND_CPU, RK_BACKEND_CUDA, RK_BACKEND_HIP } rk_backend;

typedef struct rk_runtime rk_runtime;
typedef struct rk_runtime_builder rk_runtime_builder;
typedef struct rk_kernel rk_kernel;

rk_runtime_builder *rk_runtime_builder_new(void);
void rk_runtime_builder_backend(rk_runtime_builder *b, rk_backend backend);
void rk_runtime_builder_backend_name(rk_runtime_builder *b, const char *plugin);
void rk_runtime_builder_device(rk_runtime_builder *b, int ordinal);
void rk_runtime_builder_profiling(rk_runtime_builder *b, bool on);
void rk_runtime_builder_plugin_path(rk_runtime_builder *b, const char *colon_list);
/* Frees the builder, whatever the outcome. */
int rk_runtime_builder_build(rk_runtime_builder *b, rk_runtime **out);
void rk_runtime_builder_free(rk_runtime_builder *b);
int rk_runtime_new(rk_backend backend, rk_runtime **out);
const char *rk_runtime_backend_name(const rk_runtime *rt);

/* ---- launch options (spec: LaunchOptions) ------------------------------- */

typedef struct rk_launch_options {
	uint32_t grid, block;
	uint32_t input_capacity, output_capacity; /* slots, rounded up to 2^n */
	uint32_t max_payload;			  /* bytes; slot = 64 + payload, 64-aligned */
	bool k2k;
	bool auto_activate;
	uint32_t max_routes;   /* K2K routes per kernel, each way (<= 16) */
	uint32_t state_size;   /* per-kernel scratch bytes */
	uint32_t k2k_capacity; /* slots of each inbound K2K route */
} rk_launch_options;

#define RK_DEFAULT_QUEUE_CAPACITY 1024u
#define RK_DEFAULT_MAX_PAYLOAD	  192u

rk_launch_options rk_launch_options_default(void);
rk_launch_options rk_launch_options_single_block(uint32_t block_size);
rk_launch_options rk_launch_options_multi_block(uint32_t grid, uint32_t block);
void rk_launch_options_with_queue_capacity(rk_launch_options *o, uint32_t slots);
void rk_launch_options_with_input_capacity(rk_launch_options *o, uint32_t slots);
void rk_launch_options_with_output_capacity(rk_launch_options *o, uint32_t slots);
void rk_launch_options_with_max_payload(rk_launch_options *o, uint32_t bytes);
void rk_launch_options_with_k2k(rk_launch_options *o, bool on);
void rk_launch_options_without_auto_activate(rk_launch_options *o);

/* ---- kernels (spec: KernelHandle, KernelState, KernelStatus) ------------- */

typedef enum {
	RK_STATE_CREATED,
	RK_STATE_LAUNCHED,
	RK_STATE_ACTIVE,
	RK_STATE_DEACTIVATED,
	RK_STATE_TERMINATED
} rk_state;

typedef struct rk_kernel_status {
	uint64_t id;
	rk_state state;
	uint32_t input_depth, output_depth;
	uint64_t messages_processed, messages_sent, messages_received, errors, uptime_ns;
	/* added fields */
	uint64_t undelivered; /* inputs returned unprocessed by terminate */
	uint64_t heartbeat;
	uint64_t stalls;      /* times the kernel found its output or a route full */
	uint64_t hlc_clamped; /* received timestamps clamped by the skew rule */
} rk_kernel_status;

typedef struct rk_runtime_metrics {
	uint32_t active_kernels;
	uint64_t total_launched;
	uint64_t messages_sent, messages_received;
	uint64_t host_memory_bytes, device_memory_bytes;
} rk_runtime_metrics;

int rk_runtime_launch(rk_runtime *rt, const char *kernel, const rk_launch_options *opts,
		      rk_kernel **out);
int rk_runtime_metrics_get(const rk_runtime *rt, rk_runtime_metrics *out);
/* DESIGN names both the record type and this call rk_runtime_metrics, which C
 * cannot declare in one scope: the call is rk_runtime_metrics_get(), and a
 * function-like macro keeps the spelled-in-DESIGN call working. */
#define rk_runtime_metrics(rt, out) rk_runtime_metrics_get((rt), (out))
int rk_runtime_fd(rk_runtime *rt);
int rk_runtime_shutdown(rk_runtime *rt);

const char *rk_state_name(rk_state s);
uint64_t rk_kernel_id(const rk_kernel *k);
const char *rk_kernel_name(const rk_kernel *k);
rk_state rk_kernel_state(const rk_kernel *k);
bool rk_kernel_is_active(const rk_kernel *k);
int rk_kernel_activate(rk_kernel *k);
int rk_kernel_deactivate(rk_kernel *k);
int rk_kernel_terminate(rk_kernel *k);
void rk_kernel_release(rk_kernel *k);
int rk_kernel_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   uint64_t timeout_ns);
int rk_kernel_try_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len);
int rk_kernel_receive(rk_kernel *k, rk_message *out, uint64_t timeout_ns);
int rk_kernel_try_receive(rk_kernel *k, rk_message *out);
int rk_kernel_call(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   rk_message *reply, uint64_t timeout_ns);
int rk_kernel_send_burst(rk_kernel *k, const rk_message *msgs, unsigned n, unsigned *sent);
int rk_kernel_receive_burst(rk_kernel *k, rk_message *out, unsigned n, unsigned *got,
			    uint64_t timeout_ns);
/* As with rk_runtime_metrics: the record type and DESIGN's call share a
 * name; the call is rk_kernel_status_get(), spelled rk_kernel_status(). */
int rk_kernel_status_get(const rk_kernel *k, rk_kernel_status *out);
#define rk_kernel_status(k, out) rk_kernel_status_get((k), (out))
int rk_kernel_connect(rk_kernel *from, rk_kernel *to);

/* ---- kernel-to-kernel routes -------------------------------------------------- */

typedef struct rk_route_status {
	uint64_t dest;	    /* receiving kernel's id */
	uint64_t sent;	    /* messages the sender put on the route */
	uint64_t delivered; /* messages the receiver took off it */
	uint64_t stalls;    /* times the sender found it full and waited */
	uint32_t depth;	    /* in flight now */
	bool open;	    /* false once the receiver terminated */
} rk_route_status;

/* Number of outbound routes of `k` (>= 0), or a negative errno. */
int rk_kernel_route_count(const rk_kernel *k);
int rk_kernel_route_status(const rk_kernel *k, unsigned idx, rk_route_status *out);
void rk_launch_options_with_max_routes(rk_launch_options *o, uint32_t routes);
void rk_launch_options_with_k2k_capacity(rk_launch_options *o, uint32_t slots);

/* ---- hybrid logical clock -------------------------------------------------------- */

/* 48-bit physical microseconds << 16 | 16-bit logical counter. */
static inline uint64_t rk_hlc_pack(uint64_t physical_us, uint16_t logical)
{
	return (physical_us & 0xffffffffffffull) << 16 | logical;
}
static inline uint64_t rk_hlc_physical_us(uint64_t ts)
{
	return ts >> 16;
}
static inline uint16_t rk_hlc_logical(uint64_t ts)
{
	return (uint16_t)(ts & 0xffff);
}

/* The process's clock: stamp a send (strictly increasing), observe a
 * received stamp (skew rule: more than 1 s ahead is clamped and counted). */
uint64_t rk_hlc_now(void);
uint64_t rk_hlc_observe(uint64_t seen);
uint64_t rk_hlc_clamped(void);
uint64_t rk_hlc_physical_now(void);

/* ---- user kernels ----------------------------------------------------------- */

typedef struct rk_kernel_def {
	const char *name;
	rk_cpu_handler cpu; /* int (*)(rk_ctx *, const rk_message *in) */
	/* GPU implementations: device code image + entry, per backend name */
	struct {
		const char *backend; /* "cuda", "hip", "opencl" */
		const void *image;
		size_t image_size;
		const char *entry;
	} device[4];
	uint32_t state_size; /* scratch bytes the handler needs (default 4096) */
} rk_kernel_def;

int rk_register_kernel(const rk_kernel_def *def);

/* Static registration, like Criterion's Test(): RK_KERNEL(name, handler). */
#define RK_KERNEL(kname, cpu_handler)                                                      \
	__attribute__((constructor)) static void rk_kernel_register_##kname(void)          \
	{                                                                                  \
		static const rk_kernel_def def = { .name = #kname, .cpu = (cpu_handler) }; \
		(void)rk_register_kernel(&def);                                            \
	}

/* ---- inside a CPU handler ------------------------------------------------------ */

int rk_ctx_reply(rk_ctx *ctx, uint32_t type, const void *payload, uint32_t len);
int rk_ctx_send_k2k(rk_ctx *ctx, uint64_t dst_id, uint32_t type, const void *payload, uint32_t len);
uint64_t rk_ctx_kernel_id(const rk_ctx *ctx);
void *rk_ctx_state(rk_ctx *ctx);
uint32_t rk_ctx_state_size(const rk_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_RINGKERNEL_H */
