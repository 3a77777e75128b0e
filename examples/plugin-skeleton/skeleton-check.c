/* SPDX-License-Identifier: MIT */
/*
 * skeleton-check: run kernels on the backend named on the command line
 * (default "skeleton") and check what comes back, byte for byte. The
 * plugin is found through $RK_PLUGIN_PATH (or the installed plugin
 * directory). Exit 0 when every check holds, 1 otherwise.
 *
 *   RK_PLUGIN_PATH=. ./skeleton-check [BACKEND]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

#define TIMEOUT_NS 5000000000ull /* generous: a loaded CI machine */
#define NMSG	   200

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fprintf(stderr, " (%s)\n", rk_last_error());         \
			failures++;                                          \
		}                                                            \
	} while (0)

/* Request i: 1..180 bytes, each a function of i and its offset. */
static uint32_t fill(uint8_t *buf, unsigned i)
{
	uint32_t len = (i % 180) + 1;
	for (uint32_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(i * 31 + j * 7 + 1);
	return len;
}

/* Echo: every reply has the request's type, length and bytes, in order,
 * answering the request's id; and the kernel counted them all. */
static void check_echo(rk_kernel *k)
{
	uint8_t buf[256];
	for (unsigned i = 0; i < NMSG; i++) {
		uint32_t len = fill(buf, i);
		int ret = rk_kernel_send(k, 100 + i, buf, len, TIMEOUT_NS);
		CHECK(ret == 0, "echo: send %u: %d", i, ret);
	}
	for (unsigned i = 0; i < NMSG; i++) {
		rk_message m;
		uint32_t len = fill(buf, i);
		int ret = rk_kernel_receive(k, &m, TIMEOUT_NS);
		CHECK(ret == 0, "echo: receive %u: %d", i, ret);
		if (ret < 0)
			return;
		CHECK(m.type == 100 + i, "echo: reply %u has type %u", i, m.type);
		CHECK(m.len == len, "echo: reply %u has %u bytes, not %u", i, m.len, len);
		CHECK(m.len == len && memcmp(m.payload, buf, len) == 0,
		      "echo: reply %u differs from its request", i);
		CHECK(m.source == rk_kernel_id(k), "echo: reply %u from %llu", i,
		      (unsigned long long)m.source);
	}
	rk_kernel_status st;
	CHECK(rk_kernel_status_get(k, &st) == 0, "status");
	CHECK(st.messages_processed == NMSG, "echo: processed %llu, not %d",
	      (unsigned long long)st.messages_processed, NMSG);
	CHECK(st.errors == 0, "echo: %llu errors", (unsigned long long)st.errors);
	printf("ok: echo: %d replies, bytes as sent\n", NMSG);
}

/* Deactivated, the kernel consumes nothing (signal() reached it); once
 * activated again the queued request is answered. */
static void check_lifecycle(rk_kernel *k)
{
	rk_message m;
	int ret = rk_kernel_deactivate(k);
	CHECK(ret == 0, "deactivate: %d", ret);
	CHECK(rk_kernel_state(k) == RK_STATE_DEACTIVATED, "state %s",
	      rk_state_name(rk_kernel_state(k)));
	ret = rk_kernel_send(k, 7, "queued", 6, TIMEOUT_NS);
	CHECK(ret == 0, "send while deactivated: %d", ret);
	ret = rk_kernel_receive(k, &m, 100000000ull);
	CHECK(ret == -ETIMEDOUT || ret == -EAGAIN, "a deactivated kernel replied: %d", ret);
	ret = rk_kernel_activate(k);
	CHECK(ret == 0, "activate: %d", ret);
	ret = rk_kernel_receive(k, &m, TIMEOUT_NS);
	CHECK(ret == 0 && m.len == 6 && memcmp(m.payload, "queued", 6) == 0,
	      "the queued request after activate: %d", ret);
	printf("ok: lifecycle: nothing while deactivated, the queued request after activate\n");
}

/* Counter: the kernel's state persists across messages. */
static void check_counter(rk_kernel *k)
{
	for (uint64_t want = 1; want <= 5; want++) {
		rk_message m;
		uint64_t got = 0;
		int ret = rk_kernel_call(k, 1, NULL, 0, &m, TIMEOUT_NS);
		CHECK(ret == 0 && m.len == 8, "counter: call %llu: %d", (unsigned long long)want,
		      ret);
		if (ret == 0)
			memcpy(&got, m.payload, sizeof(got));
		CHECK(got == want, "counter: %llu, not %llu", (unsigned long long)got,
		      (unsigned long long)want);
	}
	printf("ok: counter: 1..5\n");
}

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "skeleton";
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt;
	rk_kernel *echo, *counter;
	if (!b)
		return 1;
	rk_runtime_builder_backend_name(b, backend);
	int ret = rk_runtime_builder_build(b, &rt); /* frees b */
	if (ret < 0) {
		fprintf(stderr, "FAIL: runtime on %s: %s: %s\n", backend, rk_strerror(ret),
			rk_last_error());
		return 1;
	}
	CHECK(strcmp(rk_runtime_backend_name(rt), backend) == 0, "runs on %s, not %s",
	      rk_runtime_backend_name(rt), backend);
	printf("ok: runtime on %s\n", rk_runtime_backend_name(rt));

	rk_launch_options o = rk_launch_options_default();
	ret = rk_runtime_launch(rt, "echo", &o, &echo);
	CHECK(ret == 0, "launch echo: %d", ret);
	if (ret == 0) {
		CHECK(rk_kernel_is_active(echo), "echo is %s",
		      rk_state_name(rk_kernel_state(echo)));
		check_echo(echo);
		check_lifecycle(echo);
		ret = rk_kernel_terminate(echo);
		CHECK(ret == 0, "terminate echo: %d", ret);
		CHECK(rk_kernel_state(echo) == RK_STATE_TERMINATED, "echo is %s",
		      rk_state_name(rk_kernel_state(echo)));
	}
	ret = rk_runtime_launch(rt, "counter", &o, &counter);
	CHECK(ret == 0, "launch counter: %d", ret);
	if (ret == 0)
		check_counter(counter);

	ret = rk_runtime_shutdown(rt); /* terminates the counter */
	CHECK(ret == 0, "shutdown: %d", ret);
	if (failures) {
		fprintf(stderr, "%d check(s) failed on %s\n", failures, backend);
		return 1;
	}
	printf("ok: all checks on %s\n", backend);
	return 0;
}
