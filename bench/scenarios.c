/* SPDX-License-Identifier: MIT */
/*
 * rk-bench scenarios on our side: the raw ring, and the runtime's echo,
 * forward chain and lifecycle, each next to its floors and peers.
 * The runtime scenarios run in a forked child per spin mode (RK_SPIN_NS is
 * read once per process): see in_child() in rk_bench.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

#include "bench.h"
#include "ring_harness.h"

#define SEC 1000000000ull

static const uint32_t ring_payloads[] = { 64, 1024 };
static const unsigned ring_batches[] = { 1, 8, 32, 256 };

/* ---- ring ------------------------------------------------------------------------------- */

static inline unsigned rk_enq(struct rk_ring *r, const void *src, uint32_t len, unsigned n)
{
	return rk_ring_enqueue_burst(r, src, len, len, n);
}

static inline unsigned rk_deq(struct rk_ring *r, void *dst, uint32_t len, unsigned n)
{
	return rk_ring_dequeue_burst(r, dst, len, len, n);
}

/* Producer and consumer share one handle: their halves sit on separate lines. */
RING_HARNESS(rkring, struct rk_ring, rk_enq, rk_deq)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of o->runs runs of one ring implementation. */
static int ring_median(const struct bopts *o, const char *name, uint32_t payload, unsigned batch,
		       double *ns_p)
{
	uint32_t flags = strcmp(name, "rk_ring_asym") ? 0 : RK_RING_ASYM;
	double ns[16];
	unsigned runs = o->runs < 16 ? o->runs : 16;
	struct bopts one = *o;
	one.duration = o->duration / 10;
	for (unsigned i = 0; i < runs; i++) {
		int ret;
		if (!strncmp(name, "rk_ring", 7)) {
			size_t size;
			ret = rk_ring_mem_size(1024, payload, &size);
			if (ret < 0)
				return ret;
			void *mem = aligned_alloc(128, (size + 127) / 128 * 128);
			struct rk_ring *r = aligned_alloc(128, sizeof(struct rk_ring));
			if (!mem || !r) {
				free(mem);
				free(r);
				return -ENOMEM;
			}
			memset(mem, 0, size);
			ret = rk_ring_init(r, mem, size, 1024, payload, flags);
			if (ret == 0) {
				ns[i] = rkring_run(r, payload, batch, one.duration);
				ret = ns[i] < 0 ? (int)ns[i] : 0;
			}
			free(r);
			free(mem);
		} else if (!strcmp(name, "rte_ring")) {
			ret = peer_ring_dpdk(&one, payload, batch, &ns[i]);
		} else {
			ret = peer_ring_ck(&one, payload, batch, &ns[i]);
		}
		if (ret < 0)
			return ret;
	}
	qsort(ns, runs, sizeof(double), cmp_double);
	*ns_p = runs % 2 ? ns[runs / 2] : (ns[runs / 2 - 1] + ns[runs / 2]) / 2;
	return 0;
}

int scn_ring(const struct bopts *o, struct rows *rs)
{
	/* rk_ring_asym: the same ring with RK_RING_ASYM (no seq_cst publish). */
	static const char *const impls[] = { "rk_ring", "rk_ring_asym", "rte_ring", "ck_ring" };
	const bool have[] = { true, true, peer_have_dpdk, peer_have_ck };
	const unsigned nimpl = sizeof(impls) / sizeof(impls[0]);
	unsigned np = o->payload ? 1 : 2, nb = o->batch ? 1 : 4;
	for (unsigned k = 2; k < nimpl; k++)
		if (!have[k])
			row_absent(rs, "ring", impls[k], peer_absent_why);
	for (unsigned p = 0; p < np; p++) {
		uint32_t payload = o->payload ? o->payload : ring_payloads[p];
		for (unsigned b = 0; b < nb; b++) {
			unsigned batch = o->batch ? o->batch : ring_batches[b];
			if (batch > RING_MAX_BATCH)
				batch = RING_MAX_BATCH;
			for (unsigned k = 0; k < nimpl; k++) {
				if (!have[k])
					continue;
				progress("ring: %s, %u B, batch %u", impls[k], payload, batch);
				double ns;
				int ret = ring_median(o, impls[k], payload, batch, &ns);
				if ((ret == -EINVAL && k > 1) || (ret == -ENOTSUP && k == 1)) {
					/* A payload this peer's harness does not carry, or
					 * no membarrier here: said once, not left out. */
					if (b == 0) {
						char why[128];
						snprintf(why, sizeof(why), "%u B: %s", payload,
							 k == 1 ? "no membarrier(2) here"
								: "its harness carries 64 and "
								  "1024 B only");
						row_absent(rs, "ring", impls[k], why);
					}
					continue;
				}
				if (ret < 0)
					return ret;
				struct row *r = rows_add(rs, "ring", impls[k], "spsc");
				r->payload = payload;
				r->batch = batch;
				r->ns_per_msg = ns;
				r->msgs_per_s = 1e9 / ns;
				if (k)
					snprintf(r->ref, sizeof(r->ref), "rk_ring");
			}
		}
	}
	return 0;
}

/* ---- runtime helpers ------------------------------------------------------------------------- */

static int open_rt(const struct bopts *o, rk_runtime **rt_p)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	if (!b)
		return -ENOMEM;
	rk_runtime_builder_backend_name(b, o->backend);
	int ret = rk_runtime_builder_build(b, rt_p);
	if (ret < 0)
		fprintf(stderr, "rk-bench: backend %s: %s: %s\n", o->backend, rk_strerror(ret),
			rk_last_error());
	return ret;
}

rk_launch_options opts_for(uint32_t payload, bool k2k)
{
	rk_launch_options lo = rk_launch_options_default();
	if (payload > RK_DEFAULT_MAX_PAYLOAD)
		rk_launch_options_with_max_payload(&lo, payload);
	rk_launch_options_with_k2k(&lo, k2k);
	return lo;
}

int launch(rk_runtime *rt, const char *name, rk_launch_options *lo, rk_kernel **k)
{
	int ret = rk_runtime_launch(rt, name, lo, k);
	if (ret < 0)
		fprintf(stderr, "rk-bench: launch %s: %s: %s\n", name, rk_strerror(ret),
			rk_last_error());
	return ret;
}

/* Closed loop: send to `in`, wait for the reply on `out`; one sample each. */
int closed_loop(const struct bopts *o, rk_kernel *in, rk_kernel *out, uint32_t payload,
		struct hist *h)
{
	uint8_t buf[RK_MAX_PAYLOAD] = { 0 };
	rk_message *m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9);
	uint64_t t0 = now_ns();
	int ret = 0;
	while (t0 < end) {
		if (in == out)
			ret = rk_kernel_call(in, 1, buf, payload, m, SEC);
		else if ((ret = rk_kernel_send(in, 1, buf, payload, SEC)) == 0)
			ret = rk_kernel_receive(out, m, SEC);
		if (ret < 0) {
			fprintf(stderr, "rk-bench: round trip: %s: %s\n", rk_strerror(ret),
				rk_last_error());
			break;
		}
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	free(m);
	return ret;
}

/* The replies of a pipelined run: copied into rk_messages, or seen in
 * their slots (zero copy: each payload's first word read in place). */
static volatile uint64_t zc_sink;
static int take_replies(rk_kernel *out, rk_message *rx, rk_msg_view *v, unsigned *n,
			uint64_t timeout_ns)
{
	if (!v)
		return rk_kernel_receive_burst(out, rx, 256, n, timeout_ns);
	int ret = rk_kernel_receive_zc(out, v, 256, n, timeout_ns);
	if (ret < 0)
		return ret;
	uint64_t sum = 0;
	for (unsigned i = 0; i < *n; i++) {
		uint64_t w = 0;
		memcpy(&w, v[i].payload, v[i].len < sizeof(w) ? v[i].len : sizeof(w));
		sum += w;
	}
	zc_sink += sum;
	return rk_kernel_receive_zc_done(out);
}

/* Pipelined: keep up to `window` messages in flight, bursts of `batch`. */
int pipelined(const struct bopts *o, rk_kernel *in, rk_kernel *out, uint32_t payload,
	      unsigned batch, unsigned window, double *mps)
{
	return pipelined_rx(o, in, out, payload, batch, window, false, mps);
}

int pipelined_rx(const struct bopts *o, rk_kernel *in, rk_kernel *out, uint32_t payload,
		 unsigned batch, unsigned window, bool zero_copy, double *mps)
{
	rk_message *tx = calloc(batch, sizeof(rk_message));
	rk_message *rx = zero_copy ? NULL : calloc(256, sizeof(rk_message));
	rk_msg_view *v = zero_copy ? calloc(256, sizeof(rk_msg_view)) : NULL;
	if (!tx || (!rx && !v)) {
		free(tx);
		free(rx);
		free(v);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < batch; i++) {
		tx[i].type = 1;
		tx[i].len = payload;
	}
	uint64_t sent = 0, got = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	int ret = 0;
	for (;;) {
		bool stop = now_ns() >= end;
		if (stop && got == sent)
			break;
		if (!stop && sent - got + batch <= window) {
			unsigned n = 0;
			ret = rk_kernel_send_burst(in, tx, batch, &n);
			if (ret < 0 && ret != -EAGAIN)
				break;
			sent += n;
		}
		unsigned n = 0;
		bool must_wait = stop || sent - got + batch > window;
		ret = take_replies(out, rx, v, &n, must_wait ? SEC : RK_NO_WAIT);
		if (ret < 0 && ret != -EAGAIN && ret != -ETIMEDOUT)
			break;
		if (ret == -ETIMEDOUT)
			break;
		ret = 0;
		got += n;
	}
	if (ret < 0)
		fprintf(stderr, "rk-bench: pipelined: %s: %s\n", rk_strerror(ret), rk_last_error());
	*mps = (double)got / ((double)(now_ns() - t0) / 1e9);
	free(tx);
	free(rx);
	free(v);
	return ret;
}

void plan_ring(const struct bopts *o, struct plan *p)
{
	unsigned impls = 2 + peer_have_dpdk + peer_have_ck;
	unsigned configs = (o->payload ? 1 : 2) * (o->batch ? 1 : 4);
	p->steps = configs * impls;
	/* each: the median of o->runs runs of a tenth of the duration */
	p->secs = p->steps * o->runs * o->duration / 10;
}

/* ---- roundtrip ----------------------------------------------------------------------------------
 */

/* rk echo's round trip row of `mode` against `ref`, after a warm-up of 1/20
 * that faults in the rings and wakes the worker. */
static int echo_row(const struct bopts *o, struct rows *rs, rk_kernel *k, uint32_t payload,
		    struct hist *h, const char *mode, const char *ref)
{
	progress("roundtrip: rk echo, %s", mode);
	struct bopts warm = *o;
	warm.duration = o->duration / 20;
	hist_init(h);
	closed_loop(&warm, k, k, payload, h);
	hist_init(h);
	int ret = closed_loop(o, k, k, payload, h);
	if (ret == 0) {
		struct row *r = rows_add(rs, "roundtrip", "rk echo", mode);
		r->payload = payload;
		row_set_hist(r, h);
		snprintf(r->ref, sizeof(r->ref), "%s", ref);
	}
	return ret;
}

/*
 * Blocking round trips with the two threads placed by hand: both on one
 * CPU (`block 1cpu`), and one on each of two (`block 2cpu`), each next to
 * the eventfd ping-pong placed the same way. Unplaced, the scheduler
 * decides: where waking an idle CPU is dear (a VM whose idle vCPUs halt)
 * the two cases differ tenfold, and the plain rows show whichever it
 * chose. The runtime's threads start on the CPU they are created on.
 */
static int rt_placed(const struct bopts *o, struct rows *rs, uint32_t payload, struct hist *h)
{
	int a, b, ret = 0;
	choose_cpus(&a, &b);
	for (int two = 0; two < 2 && a >= 0 && b >= 0 && ret == 0; two++) {
		const char *cpus = two ? "2cpu" : "1cpu";
		char mode[16], ref[40];
		snprintf(mode, sizeof(mode), "block %s", cpus);
		snprintf(ref, sizeof(ref), "floor eventfd/%s", cpus);
		rk_runtime *rt;
		rk_kernel *k;
		pin_self(two ? b : a); /* where the runtime starts its workers */
		if ((ret = open_rt(o, &rt)) < 0) {
			pin_self(-1);
			break;
		}
		rk_launch_options lo = opts_for(payload, false);
		if ((ret = launch(rt, "echo", &lo, &k)) == 0) {
			pin_self(a);
			ret = echo_row(o, rs, k, payload, h, mode, ref);
		}
		rk_runtime_shutdown(rt);
		pin_self(-1);
		if (ret < 0)
			break;
		progress("roundtrip: floor eventfd, %s", cpus);
		hist_init(h);
		if ((ret = floor_eventfd(o, h, a, two ? b : a)) == 0) {
			struct row *r = rows_add(rs, "roundtrip", "floor eventfd", cpus);
			r->payload = 8;
			row_set_hist(r, h);
		}
	}
	return ret;
}

static int rt_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	uint32_t payload = o->payload ? o->payload : 64;
	struct hist *h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	int ret = 0;
	if (!strcmp(mode, "placed")) {
		ret = rt_placed(o, rs, payload, h);
		free(h);
		return ret;
	}
	if (!strcmp(mode, "peers")) {
		if (!peer_have_zmq) {
			row_absent(rs, "roundtrip", "zmq inproc PAIR", peer_absent_why);
		} else {
			progress("roundtrip: zmq inproc PAIR");
			hist_init(h);
			if ((ret = peer_zmq_roundtrip(o, payload, h)) == 0) {
				struct row *r =
					rows_add(rs, "roundtrip", "zmq inproc PAIR", "blocking");
				r->payload = payload;
				row_set_hist(r, h);
				/* a blocking peer against our blocking row */
				snprintf(r->ref, sizeof(r->ref), "rk echo/blocking");
			}
		}
		free(h);
		return ret;
	}
	rk_runtime *rt;
	rk_kernel *k;
	if ((ret = open_rt(o, &rt)) < 0)
		goto out;
	rk_launch_options lo = opts_for(payload, false);
	if ((ret = launch(rt, "echo", &lo, &k)) == 0)
		ret = echo_row(o, rs, k, payload, h, mode,
			       !strcmp(mode, "spin") ? "floor cache-line" : "floor eventfd");
	rk_runtime_shutdown(rt);
	if (ret < 0)
		goto out;
	/* the floors, in the same process, right after */
	static const char *const spin_floors[] = { "floor cache-line" };
	static const char *const block_floors[] = { "floor eventfd", "floor futex" };
	bool spin = !strcmp(mode, "spin");
	for (unsigned i = 0; i < (spin ? 1u : 2u); i++) {
		const char *name = spin ? spin_floors[i] : block_floors[i];
		progress("roundtrip: %s", name);
		hist_init(h);
		ret = spin     ? floor_cacheline(o, h)
		      : i == 0 ? floor_eventfd(o, h, -1, -1)
			       : floor_futex(o, h);
		if (ret < 0)
			break;
		struct row *r = rows_add(rs, "roundtrip", name, "");
		r->payload = 8;
		row_set_hist(r, h);
	}
	if (spin && ret == 0) {
		progress("roundtrip: floor ideal");
		hist_init(h);
		if ((ret = floor_ideal_roundtrip(o, payload, h)) == 0) {
			struct row *r = rows_add(rs, "roundtrip", "floor ideal", "spin");
			r->payload = payload;
			row_set_hist(r, h);
			snprintf(r->ref, sizeof(r->ref), "floor cache-line");
		}
	}
out:
	free(h);
	return ret;
}

/* spin: rk echo (after a warm-up of 1/20), cache-line, ideal; blocking: rk
 * echo, eventfd, futex; placed (on two CPUs or more): rk echo and eventfd
 * on one CPU, then on two; peers: zmq */
void plan_roundtrip(const struct bopts *o, struct plan *p)
{
	int a, b;
	choose_cpus(&a, &b);
	unsigned placed = a >= 0 && b >= 0 ? 2 : 0;
	p->steps = 6 + 2 * placed + peer_have_zmq;
	p->secs = (p->steps + (2 + placed) * 0.05) * o->duration;
}

int scn_roundtrip(const struct bopts *o, struct rows *rs)
{
	int ret = in_child("spin", rt_child, o, rs);
	if (ret == 0)
		ret = in_child("blocking", rt_child, o, rs);
	if (ret == 0)
		ret = in_child("placed", rt_child, o, rs);
	if (ret == 0)
		ret = in_child("peers", rt_child, o, rs);
	return ret;
}

/* ---- throughput -------------------------------------------------------------------------------
 */

static int tp_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	uint32_t payload = o->payload ? o->payload : 64;
	unsigned batch = o->batch ? o->batch : 32;
	if (batch > 256)
		batch = 256;
	rk_runtime *rt;
	rk_kernel *k;
	int ret = open_rt(o, &rt);
	if (ret < 0)
		return ret;
	rk_launch_options lo = opts_for(payload, false);
	if ((ret = launch(rt, "echo", &lo, &k)) == 0) {
		/* the copying receive, then the zero-copy one */
		for (int zc = 0; zc <= 1 && ret == 0; zc++) {
			progress("throughput: rk echo%s, batch %u", zc ? " zero-copy" : "", batch);
			double mps;
			if ((ret = pipelined_rx(o, k, k, payload, batch, 512, zc, &mps)) == 0) {
				struct row *r = rows_add(rs, "throughput", "rk echo",
							 zc ? "zero-copy" : "pipelined");
				r->payload = payload;
				r->batch = batch;
				r->msgs_per_s = mps;
				r->ns_per_msg = 1e9 / mps;
			}
		}
	}
	rk_runtime_shutdown(rt);
	if (ret < 0)
		return ret;
	progress("throughput: floor ideal, batch %u", batch);
	double ideal;
	if ((ret = floor_ideal_throughput(o, payload, batch, &ideal)) < 0)
		return ret;
	struct row *fr = rows_add(rs, "throughput", "floor ideal", "pipelined");
	fr->payload = payload;
	fr->batch = batch;
	fr->msgs_per_s = ideal;
	fr->ns_per_msg = 1e9 / ideal;
	if (!peer_have_zmq) {
		row_absent(rs, "throughput", "zmq inproc PAIR", peer_absent_why);
		return 0;
	}
	progress("throughput: zmq inproc PAIR, batch %u", batch);
	double mps;
	if ((ret = peer_zmq_throughput(o, payload, batch, &mps)) == 0) {
		struct row *r = rows_add(rs, "throughput", "zmq inproc PAIR", "pipelined");
		r->payload = payload;
		r->batch = batch;
		r->msgs_per_s = mps;
		r->ns_per_msg = 1e9 / mps;
		snprintf(r->ref, sizeof(r->ref), "rk echo/pipelined");
	}
	return ret;
}

void plan_throughput(const struct bopts *o, struct plan *p)
{
	p->steps = 3 + peer_have_zmq;
	p->secs = p->steps * o->duration;
}

int scn_throughput(const struct bopts *o, struct rows *rs)
{
	return in_child("default", tp_child, o, rs);
}

/* ---- k2k
 * ------------------------------------------------------------------------------------------- */

static int k2k_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	uint32_t payload = o->payload ? o->payload : 64;
	/* in flight <= 128, half a route's 256 slots: a kernel that finds its
	 * route full spins, and on few cores that starves the receiver */
	unsigned batch = o->batch ? o->batch : 32;
	if (batch > 128)
		batch = 128;
	unsigned n = o->chain;
	rk_kernel *k[16];
	rk_runtime *rt;
	int ret = open_rt(o, &rt);
	if (ret < 0)
		return ret;
	rk_launch_options lo = opts_for(payload, true);
	for (unsigned i = 0; i < n && ret == 0; i++)
		ret = launch(rt, "forward", &lo, &k[i]);
	for (unsigned i = 0; i + 1 < n && ret == 0; i++) {
		ret = rk_kernel_connect(k[i], k[i + 1]);
		if (ret < 0)
			fprintf(stderr, "rk-bench: connect: %s\n", rk_last_error());
	}
	char name[40];
	snprintf(name, sizeof(name), "rk forward x%u", n);
	mode = !strcmp(mode, "blocking") ? "blocking" : "default";
	struct hist *h = malloc(sizeof(*h));
	if (ret == 0 && h) {
		progress("k2k: chain of %u, closed loop, %s", n, mode);
		hist_init(h);
		if ((ret = closed_loop(o, k[0], k[n - 1], payload, h)) == 0) {
			struct row *r = rows_add(rs, "k2k", name, mode);
			r->payload = payload;
			row_set_hist(r, h);
		}
	}
	free(h);
	if (ret == 0) {
		progress("k2k: chain of %u, pipelined, %s", n, mode);
		double mps;
		if ((ret = pipelined(o, k[0], k[n - 1], payload, batch, 128, &mps)) == 0) {
			struct row *r = rows_add(rs, "k2k", name, mode);
			r->payload = payload;
			r->batch = batch;
			r->msgs_per_s = mps;
			r->ns_per_msg = 1e9 / mps;
		}
	}
	rk_runtime_shutdown(rt);
	return ret;
}

/* closed loop and pipelined, in each of two children */
void plan_k2k(const struct bopts *o, struct plan *p)
{
	p->steps = 4;
	p->secs = 4 * o->duration;
}

/* Default spin settings and blocking: with more spinning threads than cores
 * the two differ by an order of magnitude, so both are shown. */
int scn_k2k(const struct bopts *o, struct rows *rs)
{
	unsigned first = rs->n;
	int ret = in_child("default", k2k_child, o, rs);
	if (ret == 0)
		ret = in_child("blocking", k2k_child, o, rs);
	/* latency rows first, then rates: one table header each */
	struct row tmp[8];
	unsigned n = 0;
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = first; i < rs->n && n < 8; i++)
			if (rs->r[i].has_lat == (pass == 0))
				tmp[n++] = rs->r[i];
	if (n == rs->n - first)
		memcpy(&rs->r[first], tmp, n * sizeof(tmp[0]));
	return ret;
}

/* ---- open loop
 * ------------------------------------------------------------------------------------------- */

/*
 * Messages leave on a fixed schedule (o->rate per second) whether or not
 * earlier replies came back, and each latency is counted from the time the
 * message was due to leave, not from when it left: a stall delays every
 * message scheduled behind it, and they all count (coordinated omission
 * corrected, as in wrk2). One thread sends and receives, never sleeping.
 */
static int open_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	uint32_t payload = o->payload ? o->payload : 64;
	rk_runtime *rt;
	rk_kernel *k;
	int ret = open_rt(o, &rt);
	if (ret < 0)
		return ret;
	struct hist *h = malloc(sizeof(*h));
	rk_message *m = malloc(sizeof(*m));
	rk_launch_options lo = opts_for(payload, false);
	if (!h || !m)
		ret = -ENOMEM;
	else
		ret = launch(rt, "echo", &lo, &k);
	if (ret == 0) {
		progress("open-loop: rk echo at %u messages/s", o->rate);
		hist_init(h);
		uint8_t buf[RK_MAX_PAYLOAD] = { 0 };
		const uint64_t interval = 1000000000ull / o->rate;
		uint64_t t0 = now_ns(), due = t0, end = t0 + (uint64_t)(o->duration * 1e9);
		/* a kernel that cannot keep up falls ever further behind: stop
		 * sending at twice the duration, and say how far behind it was */
		uint64_t hard_end = t0 + 2 * (uint64_t)(o->duration * 1e9);
		uint64_t sent = 0, got = 0;
		while (ret == 0) {
			uint64_t now = now_ns();
			bool sending = due < end && now < hard_end;
			if (!sending && got == sent)
				break;
			if (sending && due <= now) {
				memcpy(buf, &due, sizeof(due));
				ret = rk_kernel_try_send(k, 1, buf, payload);
				if (ret == 0) {
					sent++;
					due += interval;
				} else if (ret == -EAGAIN) {
					ret = 0; /* input full: the due time stays, lateness counts
						  */
				}
			}
			int r = rk_kernel_try_receive(k, m);
			if (r == 0) {
				uint64_t when;
				memcpy(&when, m->payload, sizeof(when));
				hist_record(h, now_ns() - when);
				got++;
			} else if (r != -EAGAIN) {
				ret = r;
			}
			if (now > end + 10 * SEC)
				ret = -ETIMEDOUT;
		}
		if (ret < 0)
			fprintf(stderr, "rk-bench: open loop: %s: %s\n", rk_strerror(ret),
				rk_last_error());
		if (ret == 0) {
			char name[40];
			snprintf(name, sizeof(name), "rk echo @%uk/s", o->rate / 1000);
			struct row *r = rows_add(rs, "open-loop", name, "default");
			r->payload = payload;
			row_set_hist(r, h);
			if (due < end)
				snprintf(r->note, sizeof(r->note),
					 "fell behind: sent %.0f%% of schedule",
					 100.0 * (double)(due - t0) / (double)(end - t0));
		}
	}
	free(m);
	free(h);
	rk_runtime_shutdown(rt);
	return ret;
}

void plan_open_loop(const struct bopts *o, struct plan *p)
{
	p->steps = 1;
	p->secs = o->duration;
}

int scn_open_loop(const struct bopts *o, struct rows *rs)
{
	return in_child("default", open_child, o, rs);
}

/* ---- launch
 * ------------------------------------------------------------------------------------------ */

static int launch_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	rk_runtime *rt;
	int ret = open_rt(o, &rt);
	if (ret < 0)
		return ret;
	struct hist *h = malloc(sizeof(*h));
	if (!h) {
		rk_runtime_shutdown(rt);
		return -ENOMEM;
	}
	hist_init(h);
	progress("launch: %u x launch + activate + terminate", o->launches);
	for (unsigned i = 0; i < o->launches && ret == 0; i++) {
		rk_launch_options lo = rk_launch_options_default();
		rk_launch_options_without_auto_activate(&lo);
		rk_kernel *k;
		uint64_t t0 = now_ns();
		if ((ret = launch(rt, "echo", &lo, &k)) < 0)
			break;
		if ((ret = rk_kernel_activate(k)) == 0)
			ret = rk_kernel_terminate(k);
		uint64_t t1 = now_ns();
		if (ret < 0)
			fprintf(stderr, "rk-bench: lifecycle: %s\n", rk_last_error());
		rk_kernel_release(k);
		hist_record(h, t1 - t0);
	}
	if (ret == 0) {
		struct row *r = rows_add(rs, "launch", "rk echo", "lifecycle");
		row_set_hist(r, h);
	}
	free(h);
	rk_runtime_shutdown(rt);
	return ret;
}

/* one step of o->launches cycles, some milliseconds each */
void plan_launch(const struct bopts *o, struct plan *p)
{
	p->steps = 1;
	p->secs = o->launches * 0.002;
}

int scn_launch(const struct bopts *o, struct rows *rs)
{
	return in_child("default", launch_child, o, rs);
}
