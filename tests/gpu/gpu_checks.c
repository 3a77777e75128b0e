/* SPDX-License-Identifier: MIT */
/*
 * The device check's steps that need more than one kernel (gpu-bundle's
 * run.sh runs each as its own process, under a timeout):
 *
 *   gpu_checks concurrency BACKEND [MAX]  how many kernels really run at
 *       once: launch echo kernels (up to MAX, 40) until a launch fails;
 *       each answers a call when launched and again once all are up. A
 *       refusal must be -EBUSY at once, not a launch that hangs.
 *   gpu_checks shutdown BACKEND     shutdown with two resident kernels.
 *   gpu_checks usermod BACKEND      a user module loaded while a kernel runs.
 *   gpu_checks threads BACKEND [N]  8 kernels from 4 threads, N calls each.
 *   gpu_checks trap BACKEND         a user kernel traps: terminate says -EIO
 *       quickly instead of timing out.
 *
 * Each prints RESULT: lines (the figures of the summary), then PASS or
 * FAIL; exit 0, 1, or 77 (skipped: the backend or the feature is not here).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "trap_kernel.h" /* trapper_cpu(): the CPU build of the trapping kernel */

#define SEC 1000000000ull

int scale_register(void); /* examples/kernel/scale_register.c */
int scale_cpu(rk_ctx *ctx, const rk_message *m);

#if RKT_HAVE_CUDA
extern const unsigned char rkt_trap_cuda[];
extern const size_t rkt_trap_cuda_size;
#endif
#if RKT_HAVE_HIP
extern const unsigned char rkt_trap_hip[];
extern const size_t rkt_trap_hip_size;
#endif

static const char *backend;
static int failed;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static double ms_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e6;
}

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failed = 1;
}

static rk_runtime *open_rt(void)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, backend);
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT) {
		printf("SKIP: %s backend unavailable: %s\n", backend, rk_last_error());
		exit(77);
	}
	if (ret < 0) {
		printf("FAIL: runtime on %s: %s\n", backend, rk_last_error());
		exit(1);
	}
	return rt;
}

/* One echo round trip; 0 when the value came back. */
static int echo_once(rk_kernel *k, uint64_t v, uint64_t timeout_ns)
{
	rk_message *reply = malloc(sizeof(*reply));
	int ret = rk_kernel_call(k, 7, &v, sizeof(v), reply, timeout_ns);
	if (ret == 0) {
		uint64_t got;
		memcpy(&got, reply->payload, sizeof(got));
		if (reply->len != sizeof(v) || got != v)
			ret = -EBADMSG;
	}
	free(reply);
	return ret;
}

static int launch(rk_runtime *rt, const char *name, rk_kernel **k)
{
	rk_launch_options o = rk_launch_options_single_block(32);
	return rk_runtime_launch(rt, name, &o, k);
}

/* ---- concurrency ---------------------------------------------------------------- */

static int check_concurrency(unsigned max)
{
	rk_runtime *rt = open_rt();
	rk_kernel *k[64];
	unsigned n;
	int ret = 0;
	double refuse_ms = 0;
	char why[512] = "";
	if (max > 64)
		max = 64;
	for (n = 0; n < max; n++) {
		uint64_t t0 = now_ns();
		ret = launch(rt, "echo", &k[n]);
		refuse_ms = ms_since(t0);
		if (ret < 0) {
			snprintf(why, sizeof(why), "%s", rk_last_error());
			break;
		}
		if ((ret = echo_once(k[n], n, 5 * SEC)) < 0) {
			fail("kernel %u launched but did not answer: %s", n + 1, rk_last_error());
			n++;
			break;
		}
	}
	printf("RESULT: %u kernels resident at once on %s (asked for up to %u)\n", n, backend, max);
	if (ret == -EBUSY) {
		printf("RESULT: launch %u refused in %.1f ms: %s\n", n + 1, refuse_ms, why);
		if (refuse_ms > 2000)
			fail("the refusal took %.0f ms: the residency op promised a kernel the "
			     "device could not start",
			     refuse_ms);
	} else if (ret < 0 && !failed) {
		fail("launch %u: %s: %s", n + 1, rk_strerror(ret), why);
	}
	if (n == 0)
		fail("no kernel became resident");
	/* They all run at the same time: each answers again. */
	unsigned answered = 0;
	for (unsigned i = 0; i < n; i++)
		answered += echo_once(k[i], 1000 + i, 5 * SEC) == 0;
	printf("RESULT: %u of %u answered with all of them resident\n", answered, n);
	if (answered != n)
		fail("%u kernels did not answer while the others were resident", n - answered);
	uint64_t t0 = now_ns();
	ret = rk_runtime_shutdown(rt);
	printf("RESULT: shutdown of %u kernels: %s in %.1f ms\n", n, rk_strerror(ret),
	       ms_since(t0));
	if (ret < 0)
		fail("shutdown: %s", rk_last_error());
	return failed;
}

/* ---- shutdown with two resident kernels ----------------------------------------- */

static int check_shutdown(void)
{
	rk_runtime *rt = open_rt();
	rk_kernel *a, *b;
	int ret;
	if ((ret = launch(rt, "echo", &a)) < 0 || (ret = launch(rt, "echo", &b)) < 0) {
		fail("launch: %s", rk_last_error());
		return 1;
	}
	if (echo_once(a, 1, 5 * SEC) || echo_once(b, 2, 5 * SEC))
		fail("a kernel did not answer: %s", rk_last_error());
	uint64_t t0 = now_ns();
	ret = rk_runtime_shutdown(rt);
	printf("RESULT: shutdown with 2 resident kernels: %s in %.1f ms\n", rk_strerror(ret),
	       ms_since(t0));
	if (ret < 0)
		fail("shutdown: %s", rk_last_error());
	return failed;
}

/* ---- a user module loaded while a kernel runs ---------------------------------------- */

static int check_usermod(void)
{
	if (scale_register() < 0) {
		printf("FAIL: register scale: %s\n", rk_last_error());
		return 1;
	}
	rk_runtime *rt = open_rt();
	rk_kernel *e, *s;
	if (launch(rt, "echo", &e) < 0 || echo_once(e, 1, 5 * SEC) < 0) {
		fail("echo: %s", rk_last_error());
		return 1;
	}
	uint64_t t0 = now_ns();
	int ret = launch(rt, "scale", &s);
	double ms = ms_since(t0);
	if (ret == -ENOENT && strstr(rk_last_error(), "implementation")) {
		printf("SKIP: scale has no %s image: %s\n", backend, rk_last_error());
		rk_runtime_shutdown(rt);
		return 77;
	}
	if (ret < 0) {
		fail("launch of the user kernel while echo runs: %s", rk_last_error());
		rk_runtime_shutdown(rt);
		return 1;
	}
	printf("RESULT: user module loaded and launched in %.1f ms while a kernel ran\n", ms);
	float f = 2.5f, v[4] = { 1, 2, 3, 4 };
	rk_message *r = malloc(sizeof(*r));
	if (rk_kernel_call(s, 1 /* SCALE_SET */, &f, sizeof(f), r, 5 * SEC) < 0 ||
	    rk_kernel_call(s, 2, v, sizeof(v), r, 5 * SEC) < 0) {
		fail("scale did not answer: %s", rk_last_error());
	} else {
		float got[4];
		memcpy(got, r->payload + 8, sizeof(got));
		if (r->len != 8 + sizeof(v) || got[3] != 10.0f)
			fail("scale replied %u bytes, last %g (want 10)", r->len, (double)got[3]);
	}
	free(r);
	if (echo_once(e, 2, 5 * SEC) < 0)
		fail("echo stopped answering after the user module loaded: %s", rk_last_error());
	if ((ret = rk_runtime_shutdown(rt)) < 0)
		fail("shutdown: %s", rk_last_error());
	return failed;
}

/* ---- 8 kernels from 4 threads ------------------------------------------------ */

struct worker {
	rk_runtime *rt;
	unsigned id, calls, refused;
	int ret;
	char why[256];
};

/* Two kernels at once per thread; a refused launch (a backend with less
 * residency) gives back the first kernel and retries. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t deadline = now_ns() + 60 * SEC;
	for (;;) {
		rk_kernel *k[2] = { NULL, NULL };
		int ret = launch(w->rt, "echo", &k[0]);
		if (ret == 0)
			ret = launch(w->rt, "echo", &k[1]);
		if (ret == -EBUSY && now_ns() < deadline) {
			w->refused++;
			for (int i = 0; i < 2; i++)
				if (k[i]) {
					rk_kernel_terminate(k[i]);
					rk_kernel_release(k[i]);
				}
			usleep(1000 * (1 + w->id));
			continue;
		}
		for (unsigned i = 0; ret == 0 && i < w->calls; i++)
			ret = echo_once(k[i % 2], ((uint64_t)w->id << 32) | i, 5 * SEC);
		if (ret < 0)
			snprintf(w->why, sizeof(w->why), "%s", rk_last_error());
		for (int i = 0; i < 2; i++)
			if (k[i]) {
				int t = rk_kernel_terminate(k[i]);
				if (t < 0 && ret == 0) {
					ret = t;
					snprintf(w->why, sizeof(w->why), "%s", rk_last_error());
				}
				rk_kernel_release(k[i]);
			}
		w->ret = ret;
		return NULL;
	}
}

static int check_threads(unsigned calls)
{
	rk_runtime *rt = open_rt();
	struct worker w[4];
	pthread_t t[4];
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ .rt = rt, .id = i, .calls = calls };
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	unsigned refused = 0;
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		refused += w[i].refused;
		if (w[i].ret < 0)
			fail("thread %u: %s: %s", i, rk_strerror(w[i].ret), w[i].why);
	}
	printf("RESULT: 8 kernels from 4 threads, %u calls each: %.1f ms, %u launches refused "
	       "(-EBUSY) and retried\n",
	       calls, ms_since(t0), refused);
	int ret = rk_runtime_shutdown(rt);
	if (ret < 0)
		fail("shutdown: %s", rk_last_error());
	return failed;
}

/* ---- a trap -------------------------------------------------------------------- */

static int register_trapper(void)
{
	rk_kernel_def def = { .name = "trapper", .cpu = trapper_cpu, .state_size = 64 };
	unsigned i = 0;
#if RKT_HAVE_CUDA
	def.device[i].backend = "cuda";
	def.device[i].image = rkt_trap_cuda;
	def.device[i].image_size = rkt_trap_cuda_size;
	def.device[i++].entry = "trapper_persistent";
#endif
#if RKT_HAVE_HIP
	def.device[i].backend = "hip";
	def.device[i].image = rkt_trap_hip;
	def.device[i].image_size = rkt_trap_hip_size;
	def.device[i++].entry = "trapper_persistent";
#endif
	static const char fake[] = "FAKE trapper"; /* tests/gpu/fake_gpu.c */
	def.device[i].backend = "fakegpu";
	def.device[i].image = fake;
	def.device[i].image_size = sizeof(fake);
	def.device[i++].entry = "trapper_persistent";
	return rk_register_kernel(&def);
}

struct trap_waiter {
	rk_kernel *k;
	int ret;
	char why[256];
};

static void *trap_waiter_main(void *arg)
{
	struct trap_waiter *w = arg;
	rk_message m;
	w->ret = rk_kernel_receive(w->k, &m, RK_FOREVER);
	snprintf(w->why, sizeof(w->why), "%s", rk_last_error());
	return NULL;
}

static int check_trap(void)
{
	if (!strcmp(backend, "cpu") || !strcmp(backend, "opencl")) {
		printf("SKIP: a trap needs a GPU (%s kernels cannot trap)\n", backend);
		return 77;
	}
	if (!strcmp(backend, "hip")) {
		/* ROCm aborts the process on a queue error: nothing to report. */
		printf("SKIP: on ROCm a trapped kernel abort()s the process\n");
		return 77;
	}
	if (register_trapper() < 0) {
		printf("FAIL: register trapper: %s\n", rk_last_error());
		return 1;
	}
	rk_runtime *rt = open_rt();
	rk_kernel *k;
	int ret = launch(rt, "trapper", &k);
	if (ret == -ENOENT && strstr(rk_last_error(), "implementation")) {
		printf("SKIP: trapper has no %s image\n", backend);
		return 77;
	}
	if (ret < 0 || echo_once(k, 5, 5 * SEC) < 0) {
		fail("trapper before its trap: %s", rk_last_error());
		return 1;
	}
	/* A thread blocked forever in receive is woken with -EIO. */
	struct trap_waiter w = { .k = k };
	pthread_t t;
	if (pthread_create(&t, NULL, trap_waiter_main, &w)) {
		fail("pthread_create");
		return 1;
	}
	usleep(50000);
	uint64_t v = 0;
	rk_kernel_try_send(k, TRAP_NOW, &v, sizeof(v));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
		fail("a receive blocked on the trapped kernel was not woken within 5 s");
		return 1;
	}
	printf("RESULT: a blocked receive after the trap: %s (%s)\n", rk_strerror(w.ret), w.why);
	if (w.ret != -EIO)
		fail("a blocked receive on a trapped kernel returned %s, not -EIO",
		     rk_strerror(w.ret));
	uint64_t t0 = now_ns();
	ret = rk_kernel_terminate(k);
	double ms = ms_since(t0);
	printf("RESULT: terminate after a trap: %s in %.1f ms (%s)\n", rk_strerror(ret), ms,
	       rk_last_error());
	if (ret != -EIO)
		fail("terminate of a trapped kernel returned %s, not -EIO", rk_strerror(ret));
	if (ms > 2000)
		fail("the trap took %.0f ms to be noticed", ms);
	rk_kernel_release(k); /* terminate fails again: the handle is kept */
	rk_runtime_shutdown(rt);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gpu_checks concurrency|shutdown|usermod|threads|trap "
				"BACKEND [N]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	backend = argv[2];
	unsigned n = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
	int ret;
	if (!strcmp(argv[1], "concurrency"))
		ret = check_concurrency(n ? n : 40);
	else if (!strcmp(argv[1], "shutdown"))
		ret = check_shutdown();
	else if (!strcmp(argv[1], "usermod"))
		ret = check_usermod();
	else if (!strcmp(argv[1], "threads"))
		ret = check_threads(n ? n : 2000);
	else if (!strcmp(argv[1], "trap"))
		ret = check_trap();
	else {
		fprintf(stderr, "gpu_checks: unknown check %s\n", argv[1]);
		return 2;
	}
	if (ret == 0)
		printf("PASS\n");
	return ret;
}
