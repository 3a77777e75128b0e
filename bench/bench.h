/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what rk-bench's scenarios, floors and peers share: options,
 * result rows, clocks and thread placement.
 */
#ifndef RK_BENCH_H
#define RK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

#define MAX_ROWS 128

struct bopts {
	const char *backend; /* plugin name, default "cpu" */
	double duration;     /* seconds per measurement */
	uint32_t payload;    /* 0: the scenario's defaults */
	unsigned batch;	     /* 0: the scenario's defaults */
	unsigned runs;	     /* ring: runs per configuration (median) */
	unsigned chain;	     /* k2k: kernels in the chain */
	unsigned launches;   /* launch: iterations */
	unsigned rate;	     /* open-loop: messages per second */
	bool quick;
};

/*
 * One line of the table. A row measures either a latency distribution
 * (has_lat: p50..max in ns) or a rate (ns_per_msg / msgs_per_s). `ref` names
 * the row it is compared with and `ratio` is this row's figure over the
 * reference's (time for latency and ring rows, so > 1 = slower than ref).
 */
struct row {
	char scenario[16];
	char name[40];
	char mode[16];
	uint32_t payload;
	unsigned batch;
	bool absent;
	bool has_lat;
	uint64_t count;
	double p50, p90, p99, p999, max, mean;
	double ns_per_msg, msgs_per_s;
	char ref[40];
	double ratio;
	char note[48];
};

struct rows {
	unsigned n;
	struct row r[MAX_ROWS];
};

struct row *rows_add(struct rows *rs, const char *scenario, const char *name, const char *mode);
struct row *rows_find(struct rows *rs, const char *scenario, const char *name, const char *mode,
		      uint32_t payload, unsigned batch);
void row_set_hist(struct row *r, const struct hist *h);
void row_absent(struct rows *rs, const char *scenario, const char *name, const char *why);

uint64_t now_ns(void);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Two distinct CPUs from our affinity mask, or -1/-1 (do not pin). */
void choose_cpus(int *a, int *b);
void pin_self(int cpu);
/* Busy-wait step: pause, then yield now and then so an oversubscribed
 * machine still makes progress. */
void backoff(unsigned *spins);

/* What a scenario is about to do, for the ETA of the progress lines: how
 * many progress() calls it makes (one as each measurement starts) and the
 * seconds its measurements take, by o->duration. An estimate: rk-bench
 * scales it by how the run is keeping to it. */
struct plan {
	unsigned steps;
	double secs;
};
void plan_ring(const struct bopts *o, struct plan *p);
void plan_roundtrip(const struct bopts *o, struct plan *p);
void plan_throughput(const struct bopts *o, struct plan *p);
void plan_k2k(const struct bopts *o, struct plan *p);
void plan_launch(const struct bopts *o, struct plan *p);
void plan_open_loop(const struct bopts *o, struct plan *p);
void plan_xproc(const struct bopts *o, struct plan *p);
void plan_remote(const struct bopts *o, struct plan *p);

/* Scenarios: each appends its rows; 0 or a negative errno. */
int scn_ring(const struct bopts *o, struct rows *rs);
int scn_roundtrip(const struct bopts *o, struct rows *rs);
int scn_throughput(const struct bopts *o, struct rows *rs);
int scn_k2k(const struct bopts *o, struct rows *rs);
int scn_launch(const struct bopts *o, struct rows *rs);
int scn_open_loop(const struct bopts *o, struct rows *rs);
int scn_xproc(const struct bopts *o, struct rows *rs);
int scn_remote(const struct bopts *o, struct rows *rs);

/* The runtime drivers of scenarios.c, shared with xproc.c. */
struct rk_launch_options;
struct rk_kernel;
struct rk_runtime;
struct rk_launch_options opts_for(uint32_t payload, bool k2k);
int launch(struct rk_runtime *rt, const char *name, struct rk_launch_options *lo,
	   struct rk_kernel **k);
/* Closed loop: one round trip at a time (rk_kernel_call when in == out). */
int closed_loop(const struct bopts *o, struct rk_kernel *in, struct rk_kernel *out,
		uint32_t payload, struct hist *h);
/* Pipelined: up to `window` in flight, bursts of `batch`; messages/s. */
int pipelined(const struct bopts *o, struct rk_kernel *in, struct rk_kernel *out, uint32_t payload,
	      unsigned batch, unsigned window, double *mps);
/* The same, receiving with rk_kernel_receive_zc() when zero_copy is set. */
int pipelined_rx(const struct bopts *o, struct rk_kernel *in, struct rk_kernel *out,
		 uint32_t payload, unsigned batch, unsigned window, bool zero_copy, double *mps);

/* Floors (floors.c): closed-loop ping-pong between two threads. */
int floor_cacheline(const struct bopts *o, struct hist *h);
/* me, echo: the CPUs of the measuring thread and of the echo thread, -1
 * where the scheduler places it (the plain floor). */
int floor_eventfd(const struct bopts *o, struct hist *h, int me, int echo);
int floor_futex(const struct bopts *o, struct hist *h);
int floor_ideal_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h);
int floor_ideal_throughput(const struct bopts *o, uint32_t payload, unsigned batch, double *mps);

/* Peers (peers.c): -ENOSYS when not compiled in. */
extern const bool peer_have_dpdk, peer_have_ck, peer_have_zmq;
extern const char *const peer_absent_why; /* why a peer is absent */
int peer_ring_dpdk(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg);
int peer_ring_ck(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg);
int peer_zmq_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h);
int peer_zmq_throughput(const struct bopts *o, uint32_t payload, unsigned batch,
			double *msgs_per_s);
/* iceoryx (iceoryx.c): pub/sub ping-pong between two processes through a
 * RouDi it starts; a negative errno with `why` when it cannot run here. */
extern const bool peer_have_iceoryx;
int peer_iceoryx_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h, char *why,
			   size_t why_len);

/* Run fn in a forked child with env `mode` ("spin" or "blocking"; NULL =
 * as inherited), its rows copied back into rs. */
int in_child(const char *mode, int (*fn)(const struct bopts *, struct rows *, const char *),
	     const struct bopts *o, struct rows *rs);

#endif
