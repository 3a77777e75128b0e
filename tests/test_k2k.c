/* SPDX-License-Identifier: MIT */
/* Kernel-to-kernel routes and hybrid logical clocks. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_common.h"

static rk_launch_options k2k_opts(void)
{
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_k2k(&o, true);
	return o;
}

struct chain_feed {
	rk_kernel *head;
	uint64_t n;
	int failures;
};

static void *feed(void *p)
{
	struct chain_feed *f = p;
	for (uint64_t i = 0; i < f->n; i++) {
		uint64_t w[3] = { i, i * 0x9e3779b97f4a7c15ull, ~i };
		if (rk_kernel_send(f->head, (uint32_t)i, w, sizeof(w), 10 * SEC) != 0)
			f->failures++;
	}
	return NULL;
}

/* host -> forward -> forward -> forward (no route) -> host */
Test(k2k, chain_of_three_forwards, .timeout = 600)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *f[3];
	for (int i = 0; i < 3; i++)
		f[i] = launch(rt, "forward", &o);
	cr_assert_eq(rk_kernel_connect(f[0], f[1]), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_connect(f[1], f[2]), 0, "%s", rk_last_error());
	struct chain_feed fd = { f[0], rk_test_count(1000000), 0 };
	pthread_t t;
	pthread_create(&t, NULL, feed, &fd);
	uint64_t last_hlc = 0;
	for (uint64_t i = 0; i < fd.n; i++) {
		rk_message m;
		int ret = rk_kernel_receive(f[2], &m, 10 * SEC);
		cr_assert_eq(ret, 0, "message %llu: %s", (unsigned long long)i, rk_last_error());
		uint64_t w[3];
		cr_assert_eq(m.len, sizeof(w));
		memcpy(w, m.payload, sizeof(w));
		cr_assert_eq(w[0], i, "chain reordered or lost: got %llu, want %llu",
			     (unsigned long long)w[0], (unsigned long long)i);
		cr_assert_eq(w[1], i * 0x9e3779b97f4a7c15ull);
		cr_assert_eq(w[2], ~i);
		cr_assert_eq(m.type, (uint32_t)i);
		cr_assert_eq(m.source, rk_kernel_id(f[2]), "the last hop replies");
		cr_assert_gt(m.hlc, last_hlc, "HLC not monotonic along the chain");
		last_hlc = m.hlc;
	}
	pthread_join(t, NULL);
	cr_assert_eq(fd.failures, 0);
	rk_route_status rs;
	cr_assert_eq(rk_kernel_route_count(f[0]), 1);
	/* A kernel frees its input slots after the batch it forwarded them in,
	 * and counts a send just after publishing it: the last reply can reach
	 * the host a moment before the counters say so. */
	for (int w = 0; w < 5000; w++) {
		cr_assert_eq(rk_kernel_route_status(f[0], 0, &rs), 0);
		if (rs.delivered == fd.n && rs.sent == fd.n)
			break;
		usleep(1000);
	}
	cr_assert_eq(rs.dest, rk_kernel_id(f[1]));
	cr_assert_eq(rs.sent, fd.n);
	cr_assert_eq(rs.delivered, fd.n);
	cr_assert_eq(rs.depth, 0);
	cr_assert(rs.open);
	cr_assert_eq(rs.error, 0);
	cr_assert_eq(rk_kernel_route_count(f[2]), 0);
	cr_assert_eq(rk_kernel_route_status(f[2], 0, &rs), -ENOENT);
	rk_runtime_shutdown(rt);
}

/* ---- fan-out / fan-in --------------------------------------------------------- */

/* A: sends each request on to B (tag 1) and C (tag 2). */
static uint64_t fan_b, fan_c;

static int fan_out(rk_ctx *ctx, const rk_message *in)
{
	uint64_t w[2];
	memcpy(&w[1], in->payload, 8);
	w[0] = 1;
	int r1 = rk_ctx_send_k2k(ctx, fan_b, 0, w, sizeof(w));
	w[0] = 2;
	int r2 = rk_ctx_send_k2k(ctx, fan_c, 0, w, sizeof(w));
	return r1 < 0 ? r1 : r2;
}
/* Routes 0 and 1 are B and C (connected in that order); sends copy from
 * global memory, so the message is staged in the kernel's state. */
static const char fan_out_cl[] =
	"#define RK_DEV_USER_HANDLER fan_out_dev\n"
	"#include <ringkernel/device.h>\n"
	"RK_DEV_HANDLER(fan_out_dev)\n"
	"{\n"
	"	RK_GLOBAL rk_u64 *w = (RK_GLOBAL rk_u64 *)k->state;\n"
	"	w[1] = *(const RK_GLOBAL rk_u64 *)payload;\n"
	"	for (rk_u32 j = 0; j < 2; j++) {\n"
	"		w[0] = j + 1;\n"
	"		int r = rk_dev_send(k, k->routes->route[j].dest_id, 0,\n"
	"				    (const RK_GLOBAL rk_u8 *)w, 16);\n"
	"		if (r != RK_DEV_OK)\n"
	"			return r;\n"
	"	}\n"
	"	return RK_DEV_OK;\n"
	"}\n"
	"RK_DEV_ENTRY(fan_out_dev)\n";
RKT_KERNEL_CPU_OPENCL(fan_out, fan_out, fan_out_cl, "fan_out_dev_persistent")

Test(k2k, fan_out_fan_in_keeps_per_producer_order, .timeout = 300)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *a = launch(rt, "fan_out", &o);
	rk_kernel *b = launch(rt, "forward", &o);
	rk_kernel *c = launch(rt, "forward", &o);
	rk_kernel *d = launch(rt, "forward", &o); /* no route: back to the host */
	fan_b = rk_kernel_id(b);
	fan_c = rk_kernel_id(c);
	cr_assert_eq(rk_kernel_connect(a, b), 0);
	cr_assert_eq(rk_kernel_connect(a, c), 0);
	cr_assert_eq(rk_kernel_connect(b, d), 0);
	cr_assert_eq(rk_kernel_connect(c, d), 0);
	const uint64_t n = rk_test_count(100000);
	struct {
		rk_kernel *a;
		uint64_t n;
	} arg = { a, n };
	uint64_t next[3] = { 0, 0, 0 };
	uint64_t sent = 0, got = 0;
	(void)arg;
	while (got < 2 * n) {
		while (sent < n && rk_kernel_try_send(a, 0, &sent, 8) == 0)
			sent++;
		rk_message m;
		int ret = rk_kernel_receive(d, &m, sent < n ? 1000000 : 10 * SEC);
		if (ret == -ETIMEDOUT && sent < n)
			continue;
		cr_assert_eq(ret, 0, "after %llu: %s", (unsigned long long)got, rk_last_error());
		uint64_t w[2];
		memcpy(w, m.payload, sizeof(w));
		cr_assert(w[0] == 1 || w[0] == 2, "bad producer tag %llu",
			  (unsigned long long)w[0]);
		cr_assert_eq(w[1], next[w[0]], "producer %llu: got %llu, want %llu",
			     (unsigned long long)w[0], (unsigned long long)w[1],
			     (unsigned long long)next[w[0]]);
		next[w[0]]++;
		got++;
	}
	cr_assert_eq(next[1], n);
	cr_assert_eq(next[2], n);
	rk_message m;
	cr_assert_eq(rk_kernel_receive(d, &m, 20000000), -ETIMEDOUT, "a duplicate arrived");
	rk_kernel_status st;
	rk_kernel_status(a, &st);
	cr_assert_eq(st.errors, 0);
	rk_runtime_shutdown(rt);
}

/* Built-ins only, so it runs on every backend: two host threads feed two
 * forwards, both routed into a third that hands everything to the host. */
struct fan_feed {
	rk_kernel *k;
	uint64_t tag, n;
	int failures;
};

static void *fan_feed_main(void *p)
{
	struct fan_feed *f = p;
	for (uint64_t i = 0; i < f->n; i++) {
		uint64_t w[2] = { f->tag, i };
		if (rk_kernel_send(f->k, 7, w, sizeof(w), 10 * SEC) != 0)
			f->failures++;
	}
	return NULL;
}

Test(k2k, fan_in_of_forwards_keeps_per_producer_order, .timeout = 300)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *a = launch(rt, "forward", &o);
	rk_kernel *b = launch(rt, "forward", &o);
	rk_kernel *d = launch(rt, "forward", &o);
	cr_assert_eq(rk_kernel_connect(a, d), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_connect(b, d), 0, "%s", rk_last_error());
	const uint64_t n = rk_test_count(200000);
	struct fan_feed fa = { a, 1, n, 0 }, fb = { b, 2, n, 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, fan_feed_main, &fa);
	pthread_create(&tb, NULL, fan_feed_main, &fb);
	uint64_t next[3] = { 0, 0, 0 };
	for (uint64_t got = 0; got < 2 * n; got++) {
		rk_message m;
		int ret = rk_kernel_receive(d, &m, 10 * SEC);
		cr_assert_eq(ret, 0, "after %llu: %s", (unsigned long long)got, rk_last_error());
		uint64_t w[2];
		cr_assert_eq(m.len, sizeof(w));
		memcpy(w, m.payload, sizeof(w));
		cr_assert(w[0] == 1 || w[0] == 2, "bad producer tag %llu",
			  (unsigned long long)w[0]);
		cr_assert_eq(w[1], next[w[0]], "producer %llu: got %llu, want %llu",
			     (unsigned long long)w[0], (unsigned long long)w[1],
			     (unsigned long long)next[w[0]]);
		cr_assert_eq(m.type, 7);
		cr_assert_eq(m.source, rk_kernel_id(d));
		next[w[0]]++;
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	cr_assert_eq(fa.failures + fb.failures, 0);
	cr_assert_eq(next[1], n);
	cr_assert_eq(next[2], n);
	rk_message m;
	cr_assert_eq(rk_kernel_receive(d, &m, 20000000), -ETIMEDOUT, "a duplicate arrived");
	rk_kernel *senders[2] = { a, b };
	for (int i = 0; i < 2; i++) { /* a send is counted just after it is published */
		rk_route_status rs;
		for (int t = 0; t < 5000; t++) {
			cr_assert_eq(rk_kernel_route_status(senders[i], 0, &rs), 0);
			if (rs.sent == n)
				break;
			usleep(1000);
		}
		cr_assert_eq(rs.sent, n);
	}
	rk_kernel_status st = await_processed(d, 2 * n);
	cr_assert_eq(st.messages_processed, 2 * n);
	cr_assert_eq(st.errors, 0);
	rk_runtime_shutdown(rt);
}

/* ---- back-pressure -------------------------------------------------------------- */

static int slow_sink_echo(rk_ctx *ctx, const rk_message *in)
{
	struct timespec ts = { 0, 500000 };
	nanosleep(&ts, NULL);
	return rk_ctx_reply(ctx, in->type, in->payload, in->len);
}
RKT_KERNEL_CPU_OPENCL(slow_receiver, slow_sink_echo, rkt_slow_echo_cl, "slow_echo_dev_persistent")

Test(k2k, slow_receiver_stalls_sender_loses_nothing, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_launch_options_with_k2k_capacity(&o, 4);
	rk_kernel *fwd = launch(rt, "forward", &o);
	rk_kernel *slow = launch(rt, "slow_receiver", &o);
	cr_assert_eq(rk_kernel_connect(fwd, slow), 0);
	const uint32_t n = 300;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_send(fwd, 1, &i, 4, 10 * SEC), 0);
	for (uint32_t i = 0; i < n; i++) {
		rk_message m;
		cr_assert_eq(rk_kernel_receive(slow, &m, 10 * SEC), 0, "message %u lost", i);
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_eq(v, i);
	}
	/* The receiver hands its batch back after the batch's replies. */
	rk_route_status rs;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_route_status(fwd, 0, &rs), 0);
		if (rs.delivered == n && rs.sent == n)
			break;
		usleep(1000);
	}
	cr_assert_gt(rs.stalls, 0, "a 4-slot route behind a slow receiver never stalled");
	cr_assert_eq(rs.sent, n);
	cr_assert_eq(rs.delivered, n);
	rk_kernel_status st;
	rk_kernel_status(fwd, &st);
	cr_assert_geq(st.stalls, rs.stalls);
	rk_runtime_shutdown(rt);
}

/* ---- errors and documented behaviour ----------------------------------------------- */

Test(k2k, connect_errors)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *a = launch(rt, "forward", &o);
	rk_kernel *b = launch(rt, "forward", &o);
	rk_kernel *plain = launch(rt, "echo", NULL);
	cr_assert_eq(rk_kernel_connect(a, plain), -EINVAL);
	cr_assert(strstr(rk_last_error(), "with_k2k"));
	cr_assert_eq(rk_kernel_connect(plain, a), -EINVAL);
	cr_assert_eq(rk_kernel_connect(a, a), -EINVAL);
	cr_assert_eq(rk_kernel_connect(a, NULL), -EINVAL);
	cr_assert_eq(rk_kernel_connect(a, b), 0);
	cr_assert_eq(rk_kernel_connect(a, b), -EEXIST);
	cr_assert_eq(rk_kernel_route_count(a), 1);
	rk_kernel *t = launch(rt, "forward", &o);
	cr_assert_eq(rk_kernel_terminate(t), 0);
	cr_assert_eq(rk_kernel_connect(a, t), -ESHUTDOWN);
	cr_assert_eq(rk_kernel_connect(t, a), -ESHUTDOWN);
	cr_assert_eq(rk_kernel_route_count(a), 1, "a failed connect changed the table");
	/* Route table bounds. */
	rk_launch_options one = k2k_opts();
	rk_launch_options_with_max_routes(&one, 1);
	rk_kernel *x = launch(rt, "forward", &one);
	cr_assert_eq(rk_kernel_connect(x, a), 0);
	cr_assert_eq(rk_kernel_connect(x, b), -ENOSPC);
	rk_launch_options bad = k2k_opts();
	rk_launch_options_with_max_routes(&bad, RK_MAX_ROUTES + 1);
	rk_kernel *y;
	cr_assert_eq(rk_runtime_launch(rt, "forward", &bad, &y), -EINVAL);
	rk_runtime_shutdown(rt);
}

static int send_nowhere(rk_ctx *ctx, const rk_message *in)
{
	int r = rk_ctx_send_k2k(ctx, 999999, 0, in->payload, in->len);
	return rk_ctx_reply(ctx, 0, &r, sizeof(r));
}
/* The device build replies with the same code: RK_DEV_NOROUTE is what
 * rk_ctx_send_k2k turns into -ENOENT (2 on Linux). */
static const char send_nowhere_cl[] =
	"#define RK_DEV_USER_HANDLER send_nowhere_dev\n"
	"#include <ringkernel/device.h>\n"
	"RK_DEV_HANDLER(send_nowhere_dev)\n"
	"{\n"
	"	int r = rk_dev_send(k, 999999, 0, payload, len);\n"
	"	RK_GLOBAL int *e = (RK_GLOBAL int *)k->state;\n"
	"	*e = r == RK_DEV_NOROUTE ? -2 : r;\n"
	"	return rk_dev_reply(k, in, 0, (const RK_GLOBAL rk_u8 *)e, 4);\n"
	"}\n"
	"RK_DEV_ENTRY(send_nowhere_dev)\n";
RKT_KERNEL_CPU_OPENCL(send_nowhere, send_nowhere, send_nowhere_cl, "send_nowhere_dev_persistent")

Test(k2k, unknown_destination_is_an_error_the_handler_sees)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *k = launch(rt, "send_nowhere", &o);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 0, "x", 1, &m, 5 * SEC), 0);
	int r;
	memcpy(&r, m.payload, sizeof(r));
	cr_assert_eq(r, -ENOENT);
	rk_runtime_shutdown(rt);
}

/* Terminating a kernel others route to: the route closes, forward sends
 * the message back to the host instead, and what was in flight towards the
 * terminated kernel is returned as undelivered. Nothing is lost. */
Test(k2k, terminating_a_receiver_loses_nothing, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_launch_options_with_k2k_capacity(&o, 64);
	rk_kernel *fwd = launch(rt, "forward", &o);
	rk_kernel *slow = launch(rt, "slow_receiver", &o);
	cr_assert_eq(rk_kernel_connect(fwd, slow), 0);
	const uint32_t n = 200;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_send(fwd, 1, &i, 4, 10 * SEC), 0);
	/* At once: the sends take microseconds, the receiver needs tens of
	 * microseconds a message even where the slow loop runs fastest (a
	 * 10 ms pause let PoCL on a quiet machine finish all 200). */
	cr_assert_eq(rk_kernel_terminate(slow), 0);
	rk_route_status rs;
	cr_assert_eq(rk_kernel_route_status(fwd, 0, &rs), 0);
	cr_assert_not(rs.open);
	cr_assert_eq(rs.error, -ESHUTDOWN, "why the route closed: %d", rs.error);
	static uint8_t seen[200];
	uint32_t total = 0, from_slow = 0, undelivered = 0, bounced = 0;
	rk_message m;
	while (rk_kernel_receive(slow, &m, SEC) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_lt(v, n);
		cr_assert_eq(seen[v], 0, "message %u twice", v);
		seen[v] = 1;
		total++;
		if (m.flags & RK_MSG_F_UNDELIVERED)
			undelivered++;
		else
			from_slow++;
	}
	while (total < n && rk_kernel_receive(fwd, &m, 5 * SEC) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_lt(v, n);
		cr_assert_eq(seen[v], 0, "message %u twice", v);
		seen[v] = 1;
		total++;
		bounced++;
	}
	cr_assert_eq(total, n, "%u processed by the receiver + %u undelivered + %u bounced != %u",
		     from_slow, undelivered, bounced, n);
	cr_assert_gt(undelivered + bounced, 0, "the receiver was too fast for this test");
	rk_runtime_shutdown(rt);
}

/* The same with built-ins only, so every backend runs it: the receiver is
 * left Launched (not consuming), its route fills, then it is terminated. */
Test(k2k, terminating_an_idle_receiver_loses_nothing, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_launch_options_with_k2k_capacity(&o, 64);
	rk_kernel *fwd = launch(rt, "forward", &o);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *idle = launch(rt, "forward", &o);
	cr_assert_eq(rk_kernel_connect(fwd, idle), 0);
	const uint32_t n = 500;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_send(fwd, 1, &i, 4, 10 * SEC), 0);
	rk_route_status rs;
	for (int t = 0; t < 5000; t++) { /* until the route is full and stalls */
		cr_assert_eq(rk_kernel_route_status(fwd, 0, &rs), 0);
		if (rs.depth == 64 && rs.stalls > 0)
			break;
		usleep(1000);
	}
	cr_assert_eq(rs.depth, 64, "route depth %llu", (unsigned long long)rs.depth);
	cr_assert_gt(rs.stalls, 0, "a full route stalls its sender");
	cr_assert_eq(rk_kernel_terminate(idle), 0);
	cr_assert_eq(rk_kernel_route_status(fwd, 0, &rs), 0);
	cr_assert_not(rs.open);
	static uint8_t seen[500];
	uint32_t total = 0, undelivered = 0, bounced = 0;
	rk_message m;
	int ret;
	while ((ret = rk_kernel_receive(idle, &m, SEC)) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_lt(v, n);
		cr_assert_eq(seen[v], 0, "message %u twice", v);
		cr_assert(m.flags & RK_MSG_F_UNDELIVERED, "an idle receiver replied");
		seen[v] = 1;
		total++;
		undelivered++;
	}
	cr_assert_eq(ret, -ESHUTDOWN);
	cr_assert_eq(undelivered, 64, "the route held 64");
	while (total < n && rk_kernel_receive(fwd, &m, 5 * SEC) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_lt(v, n);
		cr_assert_eq(seen[v], 0, "message %u twice", v);
		cr_assert_not(m.flags & RK_MSG_F_UNDELIVERED);
		seen[v] = 1;
		total++;
		bounced++;
	}
	cr_assert_eq(total, n, "%u undelivered + %u bounced != %u", undelivered, bounced, n);
	cr_assert_eq(rk_kernel_receive(fwd, &m, 20000000), -ETIMEDOUT, "a duplicate arrived");
	rk_runtime_shutdown(rt);
}

/* Releasing a receiver while its sender lives keeps the sender safe. */
Test(k2k, release_receiver_before_sender)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = k2k_opts();
	rk_kernel *fwd = launch(rt, "forward", &o);
	rk_kernel *dst = launch(rt, "forward", &o);
	cr_assert_eq(rk_kernel_connect(fwd, dst), 0);
	cr_assert_eq(rk_kernel_terminate(dst), 0);
	rk_kernel_release(dst);
	rk_message m;
	uint32_t v = 77;
	cr_assert_eq(rk_kernel_call(fwd, 3, &v, 4, &m, 5 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(m.source, rk_kernel_id(fwd), "a closed route falls back to the host");
	rk_route_status rs;
	cr_assert_eq(rk_kernel_route_status(fwd, 0, &rs), 0);
	cr_assert_not(rs.open);
	rk_runtime_shutdown(rt);
}

/* ---- hybrid logical clocks ------------------------------------------------------------ */

Test(hlc, pack_unpack_round_trip)
{
	uint64_t us[] = { 0, 1, 1700000000000ull, 0xffffffffffffull };
	uint16_t lg[] = { 0, 1, 0x1234, 0xffff };
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++) {
			uint64_t t = rk_hlc_pack(us[i], lg[j]);
			cr_assert_eq(rk_hlc_physical_us(t), us[i]);
			cr_assert_eq(rk_hlc_logical(t), lg[j]);
		}
	}
	cr_assert_lt(rk_hlc_pack(5, 0xffff), rk_hlc_pack(6, 0), "order is physical first");
}

Test(hlc, reply_is_later_than_request)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	for (int i = 0; i < 1000; i++) {
		uint64_t before = rk_hlc_now();
		rk_message m;
		cr_assert_eq(rk_kernel_call(k, 0, NULL, 0, &m, 5 * SEC), 0);
		/* the request was stamped after `before`, the reply after it */
		cr_assert_gt(m.hlc, before + 1);
		cr_assert_gt(rk_hlc_now(), m.hlc, "receive did not advance the host clock");
	}
	rk_runtime_shutdown(rt);
}

struct mono_arg {
	uint64_t *out;
	unsigned n;
};

static void *stamp_many(void *p)
{
	struct mono_arg *a = p;
	for (unsigned i = 0; i < a->n; i++)
		a->out[i] = rk_hlc_now();
	return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

Test(hlc, strictly_monotonic_per_sender_under_concurrency)
{
	enum { T = 4 };
	unsigned n = (unsigned)rk_test_count(200000);
	uint64_t *all = malloc(sizeof(uint64_t) * n * T);
	struct mono_arg a[T];
	pthread_t t[T];
	for (int i = 0; i < T; i++) {
		a[i] = (struct mono_arg){ all + (size_t)i * n, n };
		pthread_create(&t[i], NULL, stamp_many, &a[i]);
	}
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < T; i++)
		for (unsigned j = 1; j < n; j++)
			cr_assert_gt(a[i].out[j], a[i].out[j - 1], "thread %d not monotonic", i);
	qsort(all, (size_t)n * T, sizeof(uint64_t), cmp_u64);
	for (size_t j = 1; j < (size_t)n * T; j++)
		cr_assert_neq(all[j], all[j - 1], "two sends got the same timestamp");
	free(all);
}

/* Skew rule: more than 1 s ahead of the local physical clock is clamped to
 * now + 1 s and counted, on the host and in kernels alike. */
Test(hlc, skew_rule_clamps_and_counts)
{
	uint64_t before = rk_hlc_clamped();
	uint64_t now = rk_hlc_physical_now();
	uint64_t future = now + rk_hlc_pack(3600ull * 1000000, 0);
	uint64_t t = rk_hlc_observe(future);
	cr_assert_eq(rk_hlc_clamped(), before + 1);
	cr_assert_lt(t, future, "a far-future stamp was adopted");
	cr_assert_leq(t, rk_hlc_physical_now() + rk_hlc_pack(1000000, 0) + 2);
	/* within the bound: adopted, not counted */
	uint64_t near = rk_hlc_physical_now() + rk_hlc_pack(1000, 0);
	cr_assert_gt(rk_hlc_observe(near), near);
	cr_assert_eq(rk_hlc_clamped(), before + 1);
}
