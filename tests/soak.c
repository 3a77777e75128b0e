/* SPDX-License-Identifier: MIT */
/*
 * The soak: SOAK_N messages (default 10^8) through an echo kernel, through
 * the public API only, and an account of every one of them.
 *
 *   pipelined    rk_kernel_send_burst / rk_kernel_receive_burst, up to a
 *                queue's worth in flight (SOAK_N messages)
 *   closed-loop  rk_kernel_call, one at a time (SOAK_CALLS, default
 *                SOAK_N / 100, at least 2000)
 *
 * Each payload carries its sequence number, its phase, its length and an
 * FNV-1a checksum of all of that and of filler bytes derived from the
 * sequence number; lengths vary from 24 bytes to the maximum payload. A
 * reply is corrupt when any of that does not hold (or it is not a reply
 * from this kernel); a duplicate when its number came back before; a
 * reordering when a higher number came back before it (the echo kernel has
 * one queue each way: order must hold); lost is what was sent and never
 * came back correct. The program prints the counts and exits 1 when any is
 * non-zero, 77 when the backend is not available here.
 *
 *   make soak                       RK_BACKEND=cpu, then opencl
 *   RK_BACKEND=opencl SOAK_N=1000000 RK_PLUGIN_PATH=plugins/.libs-all tests/soak
 *
 * make check runs tests/soak-check, this program with SOAK_N defaulting to
 * 20000 (SOAK_DEFAULT_N), on the CPU backend unless RK_BACKEND says
 * otherwise; and tests/soak-selftest (SOAK_SELF_TEST), the same against a
 * kernel that misbehaves on purpose, which must count exactly its faults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/ringkernel.h>

#ifndef SOAK_DEFAULT_N
#define SOAK_DEFAULT_N 100000000ull
#endif

#define BURST	 64u
#define CAPACITY 1024u
#define HDR	 16u /* seq (8), phase (4), len (4) */
#define MINLEN	 (HDR + 8u)
#define SEC	 1000000000ull
#define STALL_NS (10 * SEC) /* no reply for this long: the rest is lost */

enum { PIPELINED = 1, CLOSED_LOOP = 2 };

struct counts {
	uint64_t sent, received, lost, duplicated, reordered, corrupt;
	double seconds;
};

struct phase {
	uint32_t phase;
	uint64_t n;
	uint8_t *seen; /* one bit per sequence number */
	uint64_t max_seen;
	bool any;
	uint64_t unique;
	struct counts c;
};

static uint64_t kernel_id;
static uint32_t max_payload = RK_DEFAULT_MAX_PAYLOAD;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	double v = strtod(s, &end); /* accepts 1e8 as well as 100000000 */
	if (*end || v < 0 || v > 1e15) {
		fprintf(stderr, "soak: %s=\"%s\" is not a count\n", name, s);
		exit(2);
	}
	return (uint64_t)v;
}

/* The payload of message `seq`: its length is a function of seq too. */
static uint32_t build(uint8_t *p, uint64_t seq, uint32_t phase)
{
	uint32_t len =
		MINLEN + (uint32_t)(mix(seq ^ (uint64_t)phase << 56) % (max_payload - MINLEN + 1));
	memcpy(p, &seq, 8);
	memcpy(p + 8, &phase, 4);
	memcpy(p + 12, &len, 4);
	uint64_t x = mix(seq * 3 + phase);
	for (uint32_t i = HDR; i < len - 8; i++) {
		if ((i - HDR) % 8 == 0)
			x = mix(x);
		p[i] = (uint8_t)(x >> (8 * ((i - HDR) % 8)));
	}
	uint64_t sum = fnv(p, len - 8);
	memcpy(p + len - 8, &sum, 8);
	return len;
}

/* Account for one reply. `expect` is the number a closed-loop call must
 * get back (UINT64_MAX in the pipeline, where order is checked instead). */
static void account(struct phase *ph, const rk_message *m, uint64_t expect)
{
	uint64_t seq, sum;
	uint32_t phase, len;
	ph->c.received++;
	if (m->len < MINLEN || m->len > max_payload || !(m->flags & RK_MSG_F_REPLY) ||
	    m->source != kernel_id) {
		ph->c.corrupt++;
		return;
	}
	memcpy(&seq, m->payload, 8);
	memcpy(&phase, m->payload + 8, 4);
	memcpy(&len, m->payload + 12, 4);
	memcpy(&sum, m->payload + m->len - 8, 8);
	if (phase != ph->phase || len != m->len || seq >= ph->c.sent || m->type != (uint32_t)seq ||
	    sum != fnv(m->payload, m->len - 8)) {
		ph->c.corrupt++;
		return;
	}
	/* The checksum covers the filler, but not how it was made: rebuild. */
	static uint8_t want[RK_MAX_PAYLOAD];
	if (build(want, seq, ph->phase) != m->len || memcmp(want, m->payload, m->len)) {
		ph->c.corrupt++;
		return;
	}
	if (ph->seen[seq / 8] & (1u << (seq % 8))) {
		ph->c.duplicated++;
		return;
	}
	ph->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	ph->unique++;
	if ((expect != UINT64_MAX && seq != expect) || (ph->any && seq < ph->max_seen))
		ph->c.reordered++;
	if (!ph->any || seq > ph->max_seen)
		ph->max_seen = seq;
	ph->any = true;
}

#ifdef SOAK_SELF_TEST
/*
 * The self-test (tests/soak-selftest, SOAK_SELF_TEST): a CPU kernel that
 * misbehaves on purpose in the pipelined phase, so make check proves the
 * soak counts what it claims to. Of every 1000 sequence numbers it drops
 * ...007, echoes ...017 twice, flips a bit of ...027, and holds ...037
 * back until after the next one.
 */
struct held {
	bool full;
	uint32_t type, len;
	uint8_t payload[RK_DEFAULT_MAX_PAYLOAD];
};

enum { DROP = 7, TWICE = 17, FLIP = 27, HOLD = 37 };

static int faulty_echo(rk_ctx *ctx, const rk_message *in)
{
	uint64_t seq = 0;
	uint32_t phase = 0;
	struct held *h = rk_ctx_state(ctx);
	if (in->len >= MINLEN) {
		memcpy(&seq, in->payload, 8);
		memcpy(&phase, in->payload + 8, 4);
	}
	if (phase != PIPELINED || in->len > sizeof(h->payload))
		return rk_ctx_reply(ctx, in->type, in->payload, in->len);
	switch (seq % 1000) {
	case DROP: return 0;
	case TWICE: (void)rk_ctx_reply(ctx, in->type, in->payload, in->len); break;
	case FLIP: {
		uint8_t p[RK_DEFAULT_MAX_PAYLOAD];
		memcpy(p, in->payload, in->len);
		p[HDR] ^= 0x10; /* filler, or the checksum's first byte */
		return rk_ctx_reply(ctx, in->type, p, in->len);
	}
	case HOLD:
		h->full = true;
		h->type = in->type;
		h->len = in->len;
		memcpy(h->payload, in->payload, in->len);
		return 0;
	}
	int ret = rk_ctx_reply(ctx, in->type, in->payload, in->len);
	if (h->full) {
		h->full = false;
		ret = rk_ctx_reply(ctx, h->type, h->payload, h->len);
	}
	return ret;
}
RK_KERNEL(soak_faulty_echo, faulty_echo)

/* What the soak must count for the faulty kernel over n pipelined messages. */
static bool self_test_agrees(const struct counts *c, uint64_t n)
{
	uint64_t per[1000] = { 0 };
	for (uint64_t r = 0; r < 1000 && r < n; r++)
		per[r] = (n - r + 999) / 1000;	 /* sequence numbers < n ending in r */
	bool last_held = (n - 1) % 1000 == HOLD; /* nothing came after it */
	struct counts want = {
		.sent = n,
		.received = n - per[DROP] + per[TWICE] - last_held,
		.lost = per[DROP] + per[FLIP] + last_held,
		.duplicated = per[TWICE],
		.reordered = per[HOLD] - last_held,
		.corrupt = per[FLIP],
	};
	printf("soak self-test: expected sent %" PRIu64 " received %" PRIu64 " lost %" PRIu64
	       " duplicated %" PRIu64 " reordered %" PRIu64 " corrupt %" PRIu64 "\n",
	       want.sent, want.received, want.lost, want.duplicated, want.reordered, want.corrupt);
	return c->sent == want.sent && c->received == want.received && c->lost == want.lost &&
	       c->duplicated == want.duplicated && c->reordered == want.reordered &&
	       c->corrupt == want.corrupt;
}

#endif /* SOAK_SELF_TEST */

static void progress(const char *what, uint64_t done, uint64_t n, uint64_t t0, uint64_t *next)
{
	if (n < 1000000 || done < *next)
		return;
	double s = (double)(now_ns() - t0) / 1e9;
	fprintf(stderr, "soak: %s %" PRIu64 "/%" PRIu64 " (%.1f M msg/s)\n", what, done, n,
		s > 0 ? (double)done / s / 1e6 : 0.0);
	*next += n / 10;
}

/* Every message sent has been processed and every reply taken: nothing
 * more will come (a kernel publishes its counters after its replies). */
static bool drained(rk_kernel *k, uint64_t sent)
{
	rk_kernel_status st;
	return rk_kernel_status(k, &st) == 0 && st.messages_processed >= sent &&
	       st.output_depth == 0;
}

static int pipelined(rk_kernel *k, struct phase *ph)
{
	rk_message *in = calloc(BURST, sizeof(*in)), *out = calloc(BURST, sizeof(*out));
	uint64_t got = 0, t0 = now_ns(), last = t0, next_report = ph->n / 10;
	int ret = 0;
	for (;;) {
		/* In flight is an estimate (a lost reply keeps its place); a full
		 * queue only makes the send take fewer. */
		uint64_t inflight = ph->c.sent > got ? ph->c.sent - got : 0;
		uint64_t want = ph->n - ph->c.sent;
		if (want > BURST)
			want = BURST;
		if (want > CAPACITY - inflight)
			want = CAPACITY - inflight;
		unsigned sent = 0;
		if (want) {
			for (unsigned i = 0; i < want; i++) {
				in[i].len = build(in[i].payload, ph->c.sent + i, ph->phase);
				in[i].type = (uint32_t)(ph->c.sent + i);
			}
			ret = rk_kernel_send_burst(k, in, (unsigned)want, &sent);
			if (ret < 0 && ret != -EAGAIN) {
				fprintf(stderr, "soak: send_burst: %s (%s)\n", rk_strerror(ret),
					rk_last_error());
				break;
			}
			ph->c.sent += sent;
		}
		/* Wait for a reply when nothing more can go out; else just look. */
		unsigned n = 0;
		bool must_wait = ph->c.sent == ph->n || sent < want || want == 0;
		ret = rk_kernel_receive_burst(k, out, BURST, &n, must_wait ? SEC / 10 : 0);
		if (ret == 0) {
			for (unsigned i = 0; i < n; i++)
				account(ph, &out[i], UINT64_MAX);
			got += n;
			last = now_ns();
			progress("pipelined", got, ph->n, t0, &next_report);
			continue;
		}
		if (ret != -EAGAIN && ret != -ETIMEDOUT) {
			fprintf(stderr, "soak: receive_burst: %s (%s)\n", rk_strerror(ret),
				rk_last_error());
			break;
		}
		ret = 0;
		if (ph->c.sent == ph->n && drained(k, ph->c.sent))
			break;
		if (now_ns() - last > STALL_NS) {
			fprintf(stderr,
				"soak: no reply for %llu s with %" PRIu64
				" in flight: counting them lost\n",
				STALL_NS / SEC, inflight);
			break;
		}
	}
	ph->c.seconds = (double)(now_ns() - t0) / 1e9;
	free(in);
	free(out);
	return ret;
}

static int closed_loop(rk_kernel *k, struct phase *ph)
{
	uint8_t *p = malloc(RK_MAX_PAYLOAD);
	rk_message *m = malloc(sizeof(*m));
	uint64_t t0 = now_ns(), next_report = ph->n / 10;
	unsigned failures = 0;
	int ret = 0;
	for (uint64_t i = 0; i < ph->n; i++) {
		uint32_t len = build(p, i, ph->phase);
		ph->c.sent++;
		ret = rk_kernel_call(k, (uint32_t)i, p, len, m, STALL_NS);
		if (ret < 0) {
			fprintf(stderr, "soak: call %" PRIu64 ": %s (%s)\n", i, rk_strerror(ret),
				rk_last_error());
			if (++failures == 10) /* the kernel is gone: stop counting */
				break;
			continue;
		}
		account(ph, m, i);
		progress("closed-loop", i + 1, ph->n, t0, &next_report);
	}
	ph->c.seconds = (double)(now_ns() - t0) / 1e9;
	free(p);
	free(m);
	return failures ? -EIO : 0;
}

static bool report(const char *backend, const char *what, struct phase *ph)
{
	struct counts *c = &ph->c;
	c->lost = c->sent - ph->unique;
	printf("soak %s %-11s sent %" PRIu64 " received %" PRIu64 " lost %" PRIu64
	       " duplicated %" PRIu64 " reordered %" PRIu64 " corrupt %" PRIu64
	       "  (%.2f s, %.2f M msg/s)\n",
	       backend, what, c->sent, c->received, c->lost, c->duplicated, c->reordered,
	       c->corrupt, c->seconds, c->seconds > 0 ? (double)c->sent / c->seconds / 1e6 : 0.0);
	return c->lost == 0 && c->duplicated == 0 && c->reordered == 0 && c->corrupt == 0 &&
	       c->received == c->sent;
}

static bool alloc_phase(struct phase *ph, uint32_t phase, uint64_t n)
{
	memset(ph, 0, sizeof(*ph));
	ph->phase = phase;
	ph->n = n;
	ph->seen = calloc(n / 8 + 1, 1);
	return ph->seen != NULL;
}

int main(void)
{
	uint64_t n = env_u64("SOAK_N", SOAK_DEFAULT_N);
	/* N / 100 calls, but at least 2000 (or N): a short run tests both. */
	uint64_t calls = env_u64("SOAK_CALLS", n / 100 > 2000 ? n / 100 : n < 2000 ? n : 2000);
	const char *backend = getenv("RK_BACKEND");
	if (!backend || !*backend)
		backend = "cpu";

	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt = NULL;
	if (!b)
		return 2;
	rk_runtime_builder_backend_name(b, backend);
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT) {
		printf("[SKIP] soak: backend %s unavailable: %s\n", backend, rk_last_error());
		return 77;
	}
	if (ret < 0) {
		fprintf(stderr, "soak: runtime: %s (%s)\n", rk_strerror(ret), rk_last_error());
		return 2;
	}
	char name[64]; /* the runtime's copy goes with rk_runtime_shutdown() */
	snprintf(name, sizeof(name), "%s", rk_runtime_backend_name(rt));
	backend = name;
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, CAPACITY);
	rk_kernel *k = NULL;
#ifdef SOAK_SELF_TEST
	const char *kernel = "soak_faulty_echo";
#else
	const char *kernel = "echo";
#endif
	if ((ret = rk_runtime_launch(rt, kernel, &o, &k)) < 0) {
		fprintf(stderr, "soak: launch %s on %s: %s (%s)\n", kernel, backend,
			rk_strerror(ret), rk_last_error());
		rk_runtime_shutdown(rt);
		return ret == -ENOTSUP ? 77 : 2;
	}
	kernel_id = rk_kernel_id(k);
	max_payload = o.max_payload;

	struct phase pipe, loop;
	if (!alloc_phase(&pipe, PIPELINED, n) || !alloc_phase(&loop, CLOSED_LOOP, calls)) {
		fprintf(stderr, "soak: out of memory for %" PRIu64 " sequence numbers\n", n);
		return 2;
	}
	printf("soak %s: %" PRIu64 " pipelined messages, %" PRIu64
	       " calls, payloads %u..%u bytes\n",
	       backend, n, calls, MINLEN, max_payload);
	fflush(stdout);
	int pret = pipelined(k, &pipe);
	int cret = closed_loop(k, &loop);

	/* A reply received was counted before it was published; requests
	 * whose replies a phase stopped waiting for may still be in flight. */
	rk_kernel_status st = { 0 };
	for (int t = 0; t < 5000; t++) {
		if (rk_kernel_status(k, &st) < 0 ||
		    st.messages_processed >= pipe.c.sent + loop.c.sent)
			break;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	bool pipe_ok = report(backend, "pipelined", &pipe);
	bool loop_ok = report(backend, "closed-loop", &loop);
	struct phase all = { .unique = pipe.unique + loop.unique };
	all.c = (struct counts){
		.sent = pipe.c.sent + loop.c.sent,
		.received = pipe.c.received + loop.c.received,
		.duplicated = pipe.c.duplicated + loop.c.duplicated,
		.reordered = pipe.c.reordered + loop.c.reordered,
		.corrupt = pipe.c.corrupt + loop.c.corrupt,
		.seconds = pipe.c.seconds + loop.c.seconds,
	};
	bool all_ok = report(backend, "total", &all);
	printf("soak %s kernel: processed %" PRIu64 " errors %" PRIu64 "\n", backend,
	       st.messages_processed, st.errors);
	rk_runtime_shutdown(rt);
	free(pipe.seen);
	free(loop.seen);
	bool ran = pret == 0 && cret == 0 && st.errors == 0;
#ifdef SOAK_SELF_TEST
	/* The pipelined counts must be exactly the faults; the calls clean. */
	(void)pipe_ok;
	(void)all_ok;
	bool ok = ran && self_test_agrees(&pipe.c, n) && loop_ok;
	printf("soak self-test: %s\n", ok ? "every fault counted" : "FAILED");
#else
	bool ok = ran && pipe_ok && loop_ok && all_ok;
	printf("soak %s: %s\n", backend, ok ? "every message accounted for" : "FAILED");
#endif
	return ok ? 0 : 1;
}
