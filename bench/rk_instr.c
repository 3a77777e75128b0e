/* SPDX-License-Identifier: MIT */
/*
 * rk-instr: the work of one message, counted, not timed.
 *
 *   rk-instr MODE N      MODE: rt | pipe | pipe-zc | ideal-rt | ideal-pipe
 *
 * One thread does everything: send, one turn of the kernel's loop (the
 * inline bench backend runs it inside the runtime's poll), receive. So
 * the instruction count of instr_loop() under callgrind, divided by N, is
 * the cost of one round trip (rt) or one pipelined message (pipe, bursts
 * of 32; pipe-zc receives them with rk_kernel_receive_zc, reading each
 * payload's first word in place instead of copying it), with no scheduler
 * or cache-line transfer in it. bench/instr.sh
 * runs it under callgrind; run plainly it prints the clock reads per
 * message, counted here by interposing clock_gettime (callgrind cannot
 * see the vDSO's work, so clock reads are stated on their own).
 *
 * ideal-*: the same echo written by hand over two SPSC rings with the same
 * 64-byte slot header checks: the architecture's floor.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>
#include <ringkernel/ringkernel.h>

#include "ideal.h"

#define PAYLOAD 64
#define BURST	32

/* ---- clock reads, counted ---------------------------------------------------- */

static unsigned long long clock_reads;
static int (*real_clock_gettime)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!real_clock_gettime)
		real_clock_gettime =
			(int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	clock_reads++;
	return real_clock_gettime(id, ts);
}

/* ---- the runtime ---------------------------------------------------------------- */

static rk_kernel *k;
static rk_message *req, *rep;

static int open_inline(const char *dir)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt;
	rk_runtime_builder_backend_name(b, "inline");
	rk_runtime_builder_plugin_path(b, dir);
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret < 0) {
		fprintf(stderr, "rk-instr: %s: %s\n", rk_strerror(ret), rk_last_error());
		return ret;
	}
	if ((ret = rk_runtime_launch(rt, "echo", NULL, &k)) < 0) {
		fprintf(stderr, "rk-instr: launch: %s\n", rk_last_error());
		return ret;
	}
	return 0;
}

__attribute__((noinline)) static int instr_loop_rt(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		int ret = rk_kernel_call(k, 1, req->payload, PAYLOAD, rep, RK_FOREVER);
		if (ret < 0 || rep->len != PAYLOAD)
			return -1;
	}
	return 0;
}

static volatile uint64_t zc_sink; /* the payload words pipe-zc reads */

/* Replies to one burst: copied (rk_kernel_receive_burst), or seen in place
 * (rk_kernel_receive_zc, each payload's first word read). */
static int take_burst_back(int zc)
{
	static rk_msg_view v[BURST];
	unsigned got, back = 0;
	while (back < BURST) {
		if (!zc) {
			if (rk_kernel_receive_burst(k, rep, BURST - back, &got, RK_FOREVER) < 0)
				return -1;
		} else {
			if (rk_kernel_receive_zc(k, v, BURST - back, &got, RK_FOREVER) < 0)
				return -1;
			uint64_t sum = 0;
			for (unsigned j = 0; j < got; j++) {
				uint64_t w;
				memcpy(&w, v[j].payload, sizeof(w));
				sum += w;
			}
			zc_sink += sum;
			if (rk_kernel_receive_zc_done(k) < 0)
				return -1;
		}
		back += got;
	}
	return 0;
}

__attribute__((noinline)) static int instr_loop_pipe(unsigned long n, int zc)
{
	for (unsigned long i = 0; i < n; i += BURST) {
		unsigned sent;
		if (rk_kernel_send_burst(k, req, BURST, &sent) < 0 || sent != BURST)
			return -1;
		if (take_burst_back(zc) < 0)
			return -1;
	}
	return 0;
}

/* ---- the hand-written floor ------------------------------------------------------ */

static struct rk_ring to_k, from_k; /* host produces to_k, consumes from_k */
static struct rk_ring k_in, k_out;  /* the "kernel" side handles */
static uint8_t slotbuf[RK_MSG_HDR_SIZE + PAYLOAD];

static int ideal_open(void)
{
	size_t sz;
	rk_ring_mem_size(1024, 128, &sz);
	void *a = aligned_alloc(RK_LINE, (sz + RK_LINE - 1) / RK_LINE * RK_LINE);
	void *b = aligned_alloc(RK_LINE, (sz + RK_LINE - 1) / RK_LINE * RK_LINE);
	if (!a || !b || rk_ring_init(&to_k, a, sz, 1024, 128, 0) < 0 ||
	    rk_ring_init(&from_k, b, sz, 1024, 128, 0) < 0 || rk_ring_attach(&k_in, a, sz) < 0 ||
	    rk_ring_attach(&k_out, b, sz) < 0)
		return -1;
	return 0;
}

static inline void put(struct rk_ring *r, uint64_t id, uint64_t corr, const uint8_t *p)
{
	while (!rk_ideal_try_put(r, id, corr, p, PAYLOAD))
		;
}

__attribute__((noinline)) static int instr_loop_ideal(unsigned long n, unsigned burst)
{
	uint64_t id;
	for (unsigned long i = 0; i < n; i += burst) {
		for (unsigned j = 0; j < burst; j++)
			put(&to_k, i + j + 1, 0, req->payload);
		for (unsigned j = 0; j < burst; j++) { /* the kernel's turn */
			if (rk_ideal_take(&k_in, &id, slotbuf) != 1)
				return -1;
			put(&k_out, id, id, slotbuf);
		}
		for (unsigned j = 0; j < burst; j++)
			if (rk_ideal_take(&from_k, &id, rep->payload) != 1)
				return -1;
	}
	return 0;
}

/* ---- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
			"usage: rk-instr rt|pipe|pipe-zc|ideal-rt|ideal-pipe N [plugin-dir]\n");
		return 2;
	}
	const char *mode = argv[1];
	unsigned long n = strtoul(argv[2], NULL, 10);
	const char *dir = argc > 3 ? argv[3] : "bench/.libs";
	n = (n + BURST - 1) / BURST * BURST;
	req = calloc(BURST, sizeof(*req));
	rep = calloc(BURST, sizeof(*rep));
	if (!req || !rep || n == 0)
		return 2;
	for (unsigned i = 0; i < BURST; i++) {
		req[i].type = 1;
		req[i].len = PAYLOAD;
		memset(req[i].payload, (int)i, PAYLOAD);
	}
	int ideal = !strncmp(mode, "ideal-", 6);
	int zc = !strcmp(mode, "pipe-zc");
	int pipe = zc || !strcmp(mode, ideal ? "ideal-pipe" : "pipe");
	if (!pipe && strcmp(mode, ideal ? "ideal-rt" : "rt")) {
		fprintf(stderr, "rk-instr: unknown mode %s\n", mode);
		return 2;
	}
	if ((ideal ? ideal_open() : open_inline(dir)) < 0)
		return 1;
	/* warm up: first-touch faults and lazy binding stay out of the count */
	int ret = ideal	 ? instr_loop_ideal(BURST, pipe ? BURST : 1)
		  : pipe ? instr_loop_pipe(BURST, zc)
			 : instr_loop_rt(BURST);
	unsigned long long c0 = clock_reads;
	if (ret == 0)
		ret = ideal  ? instr_loop_ideal(n, pipe ? BURST : 1)
		      : pipe ? instr_loop_pipe(n, zc)
			     : instr_loop_rt(n);
	if (ret < 0) {
		fprintf(stderr, "rk-instr: %s failed: %s\n", mode, rk_last_error());
		return 1;
	}
	printf("%s messages %lu clock_reads %llu per_message %.3f\n", mode, n, clock_reads - c0,
	       (double)(clock_reads - c0) / (double)n);
	return 0;
}
