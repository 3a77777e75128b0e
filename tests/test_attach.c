/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
/*
 * Named runtimes and rk_attach(): other processes talking to a kernel.
 *
 * Every client here is a real process (fork, started before the runtime
 * has any thread, released through a pipe), talking over real shared
 * memory objects in /dev/shm. Runs on the backend RK_TEST_BACKEND names
 * (default cpu); tests/opencl_attach.sh runs it on OpenCL, and
 * tests/attach_reactors.sh with each reactor.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/region.h>
#include <ringkernel/ringkernel.h>

#include "testutil.h"

#define SEC 1000000000ull

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *backend(void)
{
	const char *be = getenv("RK_TEST_BACKEND");
	return be && *be ? be : "cpu";
}

static const char *uniq(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "rkt-%s-%d", tag, (int)getpid());
	return buf;
}

/* A runtime published under `name`, or NULL with the error (no assert:
 * children call it too). */
static int named_build(const char *name, rk_runtime **rt)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	if (!b)
		return -ENOMEM;
	rk_runtime_builder_backend_name(b, backend());
	rk_runtime_builder_name(b, name);
	return rk_runtime_builder_build(b, rt);
}

static rk_runtime *named_rt(const char *name)
{
	rk_runtime *rt = NULL;
	int ret = named_build(name, &rt);
	if (ret == -ENODEV || ret == -ENOENT)
		cr_skip_test("backend %s unavailable: %s", backend(), rk_last_error());
	cr_assert_eq(ret, 0, "named runtime %s: %s", name, rk_last_error());
	cr_assert_str_eq(rk_runtime_name(rt), name);
	return rt;
}

static rk_kernel *launch_named(rk_runtime *rt, const char *kernel, const char *name,
			       rk_launch_options *o)
{
	rk_launch_options d = o ? *o : rk_launch_options_default();
	rk_launch_options_with_name(&d, name);
	rk_kernel *k = NULL;
	int ret = rk_runtime_launch(rt, kernel, &d, &k);
	if (ret == -ENOTSUP)
		cr_skip_test("%s on %s: %s", kernel, backend(), rk_last_error());
	cr_assert_eq(ret, 0, "launch %s as %s: %s", kernel, name, rk_last_error());
	return k;
}

/* ---- child processes ------------------------------------------------------------ */

/* A process forked before the test starts any runtime thread; it runs
 * fn(arg) once the parent says go, and exits with its result. */
struct child {
	pid_t pid;
	int go;	 /* parent's end: write a byte to start it */
	int out; /* parent's end: what the child reports (child_report) */
};

static int child_fd = -1; /* in the child: where to report */

static void child_start(struct child *c, int (*fn)(void *), void *arg)
{
	int go[2], out[2];
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(out), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(go[1]);
		close(out[0]);
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		child_fd = out[1];
		int r = fn(arg);
		_exit(r < 0 ? 100 + (-r % 100) : r);
	}
	close(go[0]);
	close(out[1]);
	c->pid = pid;
	c->go = go[1];
	c->out = out[0];
}

static void child_go(struct child *c)
{
	cr_assert_eq(write(c->go, "g", 1), 1);
}

/* The child's exit status, or 200 + signal. */
static int child_wait(struct child *c)
{
	int st;
	cr_assert_eq(waitpid(c->pid, &st, 0), c->pid);
	close(c->go);
	close(c->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static void child_report(const void *p, size_t n)
{
	if (write(child_fd, p, n) != (ssize_t)n)
		_exit(98);
}

static bool child_read(struct child *c, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(c->out, (char *)p + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* ---- the stream: sequence numbers both ways ----------------------------------------- */

struct seqmsg {
	uint32_t who;
	uint32_t magic;
	uint64_t seq;
};

#define SEQ_MAGIC 0x5eb0c0deu
#define WINDOW	  64u
#define BURST	  16u

/*
 * Send n numbered messages from `who` and check that exactly those come
 * back, in order, each once. 0, or a negative errno / -EBADMSG when a
 * reply is wrong (what was wrong goes to stderr).
 */
static int stream(rk_kernel *k, uint32_t who, uint64_t n, volatile uint64_t *progress)
{
	rk_message *m = calloc(BURST, sizeof(*m));
	if (!m)
		return -ENOMEM;
	uint64_t sent = 0, got = 0;
	int ret = 0;
	while (got < n && ret == 0) {
		unsigned want = 0;
		while (want < BURST && sent + want < n && sent + want - got < WINDOW) {
			struct seqmsg p = { who, SEQ_MAGIC, sent + want };
			m[want].type = 7;
			m[want].len = sizeof(p);
			memcpy(m[want].payload, &p, sizeof(p));
			want++;
		}
		if (want) {
			unsigned ok = 0;
			ret = rk_kernel_send_burst(k, m, want, &ok);
			if (ret == -EAGAIN)
				ret = 0;
			sent += ok;
			if (ret < 0)
				break;
		}
		unsigned r = 0;
		ret = rk_kernel_receive_burst(k, m, BURST, &r, sent > got ? 10 * SEC : 0);
		if (ret == -EAGAIN)
			ret = 0;
		for (unsigned i = 0; i < r && ret == 0; i++) {
			struct seqmsg p;
			memcpy(&p, m[i].payload, sizeof(p));
			if (m[i].len != sizeof(p) || m[i].type != 7 || p.magic != SEQ_MAGIC ||
			    p.who != who || p.seq != got) {
				fprintf(stderr,
					"client %u: reply %llu: len %u type %u who %u seq %llu "
					"(magic %#x)\n",
					who, (unsigned long long)got, m[i].len, m[i].type, p.who,
					(unsigned long long)p.seq, p.magic);
				ret = -EBADMSG;
			}
			got++;
		}
		if (progress)
			*progress = got;
	}
	if (ret < 0 && ret != -EBADMSG)
		fprintf(stderr, "client %u: after %llu replies: %s (%s)\n", who,
			(unsigned long long)got, rk_strerror(ret), rk_last_error());
	free(m);
	return ret;
}

struct client_args {
	char runtime[64];
	char kernel[64];
	uint32_t who;
	uint64_t n;
	uint64_t *progress; /* shared mapping, or NULL */
};

static int client_stream(void *arg)
{
	struct client_args *a = arg;
	rk_kernel *k;
	int ret = rk_attach(a->runtime, a->kernel, &k);
	if (ret < 0) {
		fprintf(stderr, "attach: %s\n", rk_last_error());
		return ret;
	}
	ret = stream(k, a->who, a->n, a->progress);
	rk_detach(k);
	return ret;
}

/* Attach, waiting (up to 5 s) for the owner to free a slot that a client
 * left or died in. */
static int attach_retry(const char *runtime, const char *kernel, rk_kernel **out)
{
	int ret = -EUSERS;
	for (int t = 0; t < 5000 && ret == -EUSERS; t++)
		if ((ret = rk_attach(runtime, kernel, out)) == -EUSERS)
			usleep(1000);
	return ret;
}

/* ---- tests ------------------------------------------------------------------------ */

/* A client in another process calls the kernel and gets its own replies. */
static int client_calls(void *arg)
{
	struct client_args *a = arg;
	rk_kernel *k;
	int ret = rk_attach(a->runtime, a->kernel, &k);
	if (ret < 0)
		return ret;
	uint64_t id = rk_kernel_id(k);
	child_report(&id, sizeof(id));
	for (uint32_t i = 0; i < 100; i++) {
		char req[32], *want = req;
		int n = snprintf(req, sizeof(req), "request %u from %d", i, (int)getpid());
		rk_message m;
		if ((ret = rk_kernel_call(k, 40 + i, req, (uint32_t)n, &m, 10 * SEC)) < 0)
			return ret;
		if (m.len != (uint32_t)n || memcmp(m.payload, want, (size_t)n) ||
		    m.type != 40 + i || !(m.flags & RK_MSG_F_REPLY))
			return 3;
	}
	rk_kernel_status st;
	if (rk_kernel_status_get(k, &st) < 0 || st.id != id || st.messages_sent != 100 ||
	    st.messages_received != 100 || st.state != RK_STATE_ACTIVE)
		return 4;
	return rk_detach(k);
}

Test(attach, call_from_another_process, .timeout = 120)
{
	struct client_args a = { .kernel = "echo1" };
	uniq(a.runtime, sizeof(a.runtime), "call");
	struct child c;
	child_start(&c, client_calls, &a);
	rk_runtime *rt = named_rt(a.runtime);
	rk_kernel *k = launch_named(rt, "echo", "echo1", NULL);
	cr_assert_str_eq(rk_kernel_name(k), "echo1");
	child_go(&c);
	uint64_t id = 0;
	cr_assert(child_read(&c, &id, sizeof(id)));
	cr_assert_eq(id, rk_kernel_id(k), "the client sees the kernel's id");
	cr_assert_eq(child_wait(&c), 0);
	/* The owner's own calls are unaffected, and it saw 100 processed. */
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 9, "own", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(m.len, 3);
	cr_assert_eq(memcmp(m.payload, "own", 3), 0);
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status_get(k, &st), 0);
	cr_assert_eq(st.messages_sent, 1, "the client's requests are not the owner's");
	cr_assert_eq(st.messages_received, 1);
	cr_assert_geq(st.messages_processed, 100);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
	/* Shutdown removes what it published. */
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/rk.%s", a.runtime);
	cr_assert_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "/dev/shm/rk.%s.echo1", a.runtime);
	cr_assert_eq(access(path, F_OK), -1);
}

/* 4 client processes and the owner, 10^6 numbered messages each: every
 * reply comes back to its sender, once, in order. */
Test(attach, four_clients_and_owner_sequence_numbers, .timeout = 120)
{
	enum { NC = 4 };
	uint64_t n = rk_test_count(1000000);
	struct client_args a[NC];
	struct child c[NC];
	char name[64];
	uniq(name, sizeof(name), "stress");
	for (unsigned i = 0; i < NC; i++) {
		a[i] = (struct client_args){ .who = i + 1, .n = n };
		snprintf(a[i].runtime, sizeof(a[i].runtime), "%s", name);
		snprintf(a[i].kernel, sizeof(a[i].kernel), "echo");
		child_start(&c[i], client_stream, &a[i]);
	}
	rk_runtime *rt = named_rt(name);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_max_payload(&o, 64);
	rk_kernel *k = launch_named(rt, "echo", "echo", &o);
	double t0 = now_s();
	for (unsigned i = 0; i < NC; i++)
		child_go(&c[i]);
	cr_assert_eq(stream(k, 0, n, NULL), 0, "the owner's own stream");
	for (unsigned i = 0; i < NC; i++)
		cr_assert_eq(child_wait(&c[i]), 0, "client %u", i + 1);
	double dt = now_s() - t0;
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status_get(k, &st), 0);
	cr_assert_eq(st.errors, 0, "no reply was dropped");
	fprintf(stderr, "attach: %u clients + owner, %llu messages each: %.2f s (%.2f M msg/s)\n",
		NC, (unsigned long long)n, dt, (double)n * (NC + 1) / dt / 1e6);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* The owner's process is killed: clients blocked in a call, a receive and
 * a send (on a full ring) all return -EPIPE, RK_FOREVER included. */
struct owner_args {
	char runtime[64];
	bool deactivated; /* launch without activating: sends fill the ring */
};

static int owner_main(void *arg)
{
	struct owner_args *a = arg;
	rk_runtime *rt;
	int ret = named_build(a->runtime, &rt);
	if (ret < 0)
		return ret;
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "echo");
	rk_launch_options_with_queue_capacity(&o, 64);
	rk_kernel *k;
	if ((ret = rk_runtime_launch(rt, "echo", &o, &k)) < 0)
		return ret;
	rk_launch_options_with_name(&o, "quiet");
	rk_launch_options_without_auto_activate(&o);
	if ((ret = rk_runtime_launch(rt, "echo", &o, &k)) < 0)
		return ret;
	char ok = 1;
	child_report(&ok, 1);
	for (;;)
		pause();
}

struct blocked {
	rk_kernel *k;
	int what; /* 0 call, 1 receive, 2 send into a full ring */
	int ret;
	double took;
};

static void *block_in(void *arg)
{
	struct blocked *b = arg;
	rk_message m;
	double t0 = now_s();
	if (b->what == 0) {
		b->ret = rk_kernel_call(b->k, 1, "x", 1, &m, RK_FOREVER);
	} else if (b->what == 1) {
		b->ret = rk_kernel_receive(b->k, &m, RK_FOREVER);
	} else {
		for (;;)
			if ((b->ret = rk_kernel_send(b->k, 1, "y", 1, RK_FOREVER)) < 0)
				break;
	}
	b->took = now_s() - t0;
	return NULL;
}

Test(attach, owner_killed_clients_get_epipe, .timeout = 120)
{
	struct owner_args a = { 0 };
	uniq(a.runtime, sizeof(a.runtime), "kill");
	struct child c;
	child_start(&c, owner_main, &a);
	child_go(&c);
	char ok = 0;
	cr_assert(child_read(&c, &ok, 1), "the owner started (exit %d)", ok);
	rk_kernel *echo, *quiet;
	cr_assert_eq(rk_attach(a.runtime, "echo", &echo), 0, "%s", rk_last_error());
	cr_assert_eq(rk_attach(a.runtime, "quiet", &quiet), 0, "%s", rk_last_error());
	rk_message m;
	cr_assert_eq(rk_kernel_call(echo, 3, "abc", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "abc", 3), 0);
	cr_assert_eq(rk_kernel_state(quiet), RK_STATE_LAUNCHED);
	struct blocked b[3] = { { .k = quiet, .what = 0 },
				{ .k = echo, .what = 1 },
				{ .k = quiet, .what = 2 } };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, block_in, &b[i]), 0);
	usleep(200000); /* let them block */
	double killed = now_s();
	cr_assert_eq(kill(c.pid, SIGKILL), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(b[i].ret, -EPIPE, "waiter %d: %s (%s)", i, rk_strerror(b[i].ret),
			     rk_last_error());
	}
	fprintf(stderr, "attach: all waiters returned %.3f s after the kill\n", now_s() - killed);
	cr_assert_eq(child_wait(&c), 200 + SIGKILL);
	/* A call after that fails at once, too. */
	cr_assert_eq(rk_kernel_call(echo, 1, "z", 1, &m, RK_FOREVER), -EPIPE);
	cr_assert_eq(rk_detach(echo), 0);
	cr_assert_eq(rk_detach(quiet), 0);
	/* The dead owner's directory is stale: attach says so, clean removes it. */
	cr_assert_eq(rk_attach(a.runtime, "echo", &echo), -ECONNREFUSED);
	cr_assert_eq(rk_runtime_clean(a.runtime), 0, "%s", rk_last_error());
	cr_assert_eq(rk_runtime_clean(a.runtime), -ENOENT);
	cr_assert_eq(rk_attach(a.runtime, "echo", &echo), -ENOENT);
}

/* A client killed mid-stream: another one keeps going to the end, the
 * owner reclaims the dead one's slot, and the slot serves a new client. */
Test(attach, client_killed_is_reclaimed, .timeout = 120)
{
	char name[64];
	uniq(name, sizeof(name), "ckill");
	uint64_t *progress =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(progress, MAP_FAILED);
	struct client_args victim = { .who = 1, .n = UINT64_MAX / 2, .progress = &progress[0] };
	struct client_args other = { .who = 2,
				     .n = rk_test_count(200000),
				     .progress = &progress[1] };
	snprintf(victim.runtime, sizeof(victim.runtime), "%s", name);
	snprintf(other.runtime, sizeof(other.runtime), "%s", name);
	snprintf(victim.kernel, sizeof(victim.kernel), "echo");
	snprintf(other.kernel, sizeof(other.kernel), "echo");
	struct child cv, co;
	child_start(&cv, client_stream, &victim);
	child_start(&co, client_stream, &other);
	rk_runtime *rt = named_rt(name);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_max_clients(&o, 2);
	rk_kernel *k = launch_named(rt, "echo", "echo", &o);
	child_go(&cv);
	for (int t = 0; t < 60000 && __atomic_load_n(&progress[0], __ATOMIC_RELAXED) < 1000; t++)
		usleep(1000);
	cr_assert_geq(progress[0], 1000, "the victim streams");
	child_go(&co);
	for (int t = 0; t < 60000 && __atomic_load_n(&progress[1], __ATOMIC_RELAXED) < 100; t++)
		usleep(1000);
	cr_assert_geq(progress[1], 100, "the other client streams");
	cr_assert_eq(kill(cv.pid, SIGKILL), 0);
	cr_assert_eq(child_wait(&cv), 200 + SIGKILL);
	cr_assert_eq(child_wait(&co), 0, "the other client finished its stream");
	/* The owner takes the slot back: both slots serve new clients again. */
	rk_kernel *c1 = NULL, *c2 = NULL;
	cr_assert_eq(attach_retry(name, "echo", &c1), 0, "%s", rk_last_error());
	cr_assert_eq(attach_retry(name, "echo", &c2), 0, "%s", rk_last_error());
	rk_kernel *c3;
	cr_assert_eq(rk_attach(name, "echo", &c3), -EUSERS, "max clients is 2");
	rk_message m;
	cr_assert_eq(rk_kernel_call(c1, 5, "one", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "one", 3), 0);
	cr_assert_eq(rk_kernel_call(c2, 5, "two", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "two", 3), 0);
	cr_assert_eq(rk_kernel_call(k, 5, "own", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "own", 3), 0);
	/* Shared memory says one client was reclaimed. */
	char rname[128];
	snprintf(rname, sizeof(rname), "rk.%s.echo", name);
	rk_region *r;
	cr_assert_eq(rk_region_open(rname, RK_REGION_UNLOCKED, &r), 0, "%s", rk_last_error());
	struct rk_clients *cl;
	cr_assert_eq(rk_region_find(r, RK_SECT_CLIENTS, 0, (void **)&cl, NULL), 0);
	cr_assert_eq(cl->reclaimed, 1);
	cr_assert_eq(cl->max_clients, 2);
	rk_region_close(r);
	cr_assert_eq(rk_detach(c1), 0);
	cr_assert_eq(rk_detach(c2), 0);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
	munmap(progress, 4096);
}

/* Lifecycle changes from a client are -EPERM unless the owner allowed
 * them; then they happen, and the owner sees them. */
Test(attach, client_lifecycle, .timeout = 120)
{
	char name[64];
	uniq(name, sizeof(name), "lc");
	rk_runtime *rt = named_rt(name);
	rk_kernel *k = launch_named(rt, "echo", "locked", NULL);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_client_lifecycle(&o, true);
	rk_kernel *k2 = launch_named(rt, "echo", "open", &o);
	rk_kernel *c, *c2;
	cr_assert_eq(rk_attach(name, "locked", &c), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_terminate(c), -EPERM);
	cr_assert_eq(rk_kernel_deactivate(c), -EPERM);
	cr_assert_eq(rk_kernel_state(k), RK_STATE_ACTIVE, "nothing changed");
	cr_assert_eq(rk_attach(name, "open", &c2), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_deactivate(c2), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_state(k2), RK_STATE_DEACTIVATED);
	cr_assert_eq(rk_kernel_state(c2), RK_STATE_DEACTIVATED);
	cr_assert_eq(rk_kernel_deactivate(c2), -EPERM, "the owner's transition table applies");
	cr_assert_eq(rk_kernel_activate(c2), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_state(k2), RK_STATE_ACTIVE);
	rk_message m;
	cr_assert_eq(rk_kernel_call(c2, 1, "a", 1, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_terminate(c2), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_state(k2), RK_STATE_TERMINATED);
	cr_assert_eq(rk_kernel_call(c2, 1, "a", 1, &m, 10 * SEC), -ESHUTDOWN);
	cr_assert_eq(rk_detach(c), 0);
	cr_assert_eq(rk_detach(c2), 0);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* Bad names, unknown names, duplicates, a live owner's name. */
/* An attached handle's zero-copy receive sees its own replies, in order
 * and byte for byte, while the owner's calls on the same kernel get theirs. */
Test(attach, zero_copy_receive_on_an_attached_handle, .timeout = 120)
{
	char name[64];
	uniq(name, sizeof(name), "zc");
	rk_runtime *rt = named_rt(name);
	rk_kernel *k = launch_named(rt, "echo", "e", NULL);
	rk_kernel *c;
	cr_assert_eq(rk_attach(name, "e", &c), 0, "%s", rk_last_error());
	const uint32_t n = 500;
	uint32_t next = 0;
	rk_msg_view v[16];
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(rk_kernel_send(c, i, &i, sizeof(i), 5 * SEC), 0, "%s",
			     rk_last_error());
		rk_message m;
		uint32_t w = 1000000 + i, back;
		cr_assert_eq(rk_kernel_call(k, 9, &w, sizeof(w), &m, 5 * SEC), 0, "%s",
			     rk_last_error());
		memcpy(&back, m.payload, sizeof(back));
		cr_assert(m.type == 9 && back == w, "owner's call %u got type %u value %u", i,
			  m.type, back);
		if (i % 8 != 7 && i != n - 1)
			continue;
		while (next <= i) {
			unsigned got = 0;
			cr_assert_eq(rk_kernel_receive_zc(c, v, 16, &got, 5 * SEC), 0, "%s",
				     rk_last_error());
			for (unsigned j = 0; j < got; j++, next++) {
				uint32_t seq;
				cr_assert_eq(v[j].len, sizeof(seq));
				memcpy(&seq, v[j].payload, sizeof(seq));
				cr_assert(v[j].type == next && seq == next,
					  "client expected %u, got type %u value %u", next,
					  v[j].type, seq);
			}
			cr_assert_eq(rk_kernel_receive_zc_done(c), 0);
		}
	}
	rk_message m;
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EAGAIN, "the owner got a client's reply");
	cr_assert_eq(rk_kernel_receive(c, &m, 0), -EAGAIN, "the client got more than it sent");
	cr_assert_eq(rk_detach(c), 0);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

Test(attach, names_and_errors, .timeout = 120)
{
	char name[64], other[64];
	rk_kernel *c = (rk_kernel *)1;
	uniq(name, sizeof(name), "err");
	uniq(other, sizeof(other), "none");
	cr_assert_eq(rk_attach(NULL, "echo", &c), -EINVAL);
	cr_assert_null(c, "out is cleared");
	cr_assert_eq(rk_attach(name, NULL, &c), -EINVAL);
	cr_assert_eq(rk_attach(name, "echo", NULL), -EINVAL);
	cr_assert_eq(rk_attach("../x", "echo", &c), -EINVAL);
	cr_assert_eq(rk_attach(name, "a.b", &c), -EINVAL);
	cr_assert_eq(rk_attach("", "echo", &c), -EINVAL);
	cr_assert_eq(rk_attach(other, "echo", &c), -ENOENT);
	cr_assert_eq(rk_detach(NULL), -EINVAL);
	cr_assert_eq(rk_runtime_clean("no/slash"), -EINVAL);

	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_name(b, "bad name");
	rk_runtime *bad;
	cr_assert_eq(rk_runtime_builder_build(b, &bad), -EINVAL);

	rk_runtime *rt = named_rt(name);
	rk_runtime *rt2;
	cr_assert_eq(named_build(name, &rt2), -EEXIST, "a live owner keeps its name");
	cr_assert_eq(rk_runtime_clean(name), -EBUSY);
	rk_kernel *k = launch_named(rt, "echo", "e1", NULL);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "e1");
	rk_kernel *dup;
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &dup), -EEXIST, "%s", rk_last_error());
	rk_launch_options_with_name(&o, "has space");
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &dup), -EINVAL);
	rk_launch_options_with_name(&o, "e2");
	rk_launch_options_with_max_clients(&o, RK_MAX_CLIENTS + 1);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &dup), -EINVAL);
	rk_launch_options_with_max_clients(&o, 0);
	rk_kernel *k0 = launch_named(rt, "echo", "noclients", &o);
	cr_assert_eq(rk_attach(name, "noclients", &c), -EUSERS);
	cr_assert_eq(rk_attach(name, "e9", &c), -ENOENT);
	/* An owner handle is not detachable; an attached one is not the owner. */
	cr_assert_eq(rk_detach(k), -EINVAL);
	cr_assert_eq(rk_attach(name, "e1", &c), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_kernel_name(c), "e1");
	cr_assert_eq(rk_kernel_id(c), rk_kernel_id(k));
	rk_kernel_release(c); /* the same as rk_detach */
	(void)k0;
	cr_assert_eq(rk_runtime_shutdown(rt), 0);

	/* An unnamed runtime publishes nothing; RK_RUNTIME_NAME names it. */
	setenv("RK_RUNTIME_NAME", other, 1);
	rk_runtime_builder *b2 = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b2, backend());
	cr_assert_eq(rk_runtime_builder_build(b2, &rt), 0, "%s", rk_last_error());
	unsetenv("RK_RUNTIME_NAME");
	cr_assert_str_eq(rk_runtime_name(rt), other);
	launch_named(rt, "echo", "env", NULL);
	cr_assert_eq(rk_attach(other, "env", &c), 0, "%s", rk_last_error());
	cr_assert_eq(rk_detach(c), 0);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
	setenv("RK_RUNTIME_NAME", "not valid!", 1);
	b2 = rk_runtime_builder_new();
	cr_assert_eq(rk_runtime_builder_build(b2, &rt), -EINVAL);
	unsetenv("RK_RUNTIME_NAME");
}

/* A stale directory from a killed owner is cleaned when the name is built again. */
static int owner_then_wait(void *arg)
{
	return owner_main(arg);
}

Test(attach, stale_runtime_cleaned_on_recreate, .timeout = 120)
{
	struct owner_args a = { 0 };
	uniq(a.runtime, sizeof(a.runtime), "stale");
	struct child c;
	child_start(&c, owner_then_wait, &a);
	child_go(&c);
	char ok = 0;
	cr_assert(child_read(&c, &ok, 1));
	cr_assert_eq(kill(c.pid, SIGKILL), 0);
	cr_assert_eq(child_wait(&c), 200 + SIGKILL);
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/rk.%s.quiet", a.runtime);
	cr_assert_eq(access(path, F_OK), 0, "the dead owner left its kernels behind");
	rk_kernel *k;
	cr_assert_eq(rk_attach(a.runtime, "echo", &k), -ECONNREFUSED);
	rk_runtime *rt = named_rt(a.runtime); /* cleans, then creates */
	cr_assert_eq(access(path, F_OK), -1, "the stale kernel region is gone");
	rk_kernel *e = launch_named(rt, "echo", "echo", NULL);
	cr_assert_eq(rk_attach(a.runtime, "echo", &k), 0, "%s", rk_last_error());
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, "new", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(rk_detach(k), 0);
	(void)e;
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* Another uid gets -EACCES and learns nothing but that. */
static int attach_as_nobody(void *arg)
{
	struct client_args *a = arg;
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 2;
	rk_kernel *k;
	int ret = rk_attach(a->runtime, a->kernel, &k);
	return ret == -EACCES ? 0 : 10 + (ret < 0 ? -ret % 100 : 99);
}

Test(attach, other_uid_is_refused, .timeout = 120)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to switch to uid 65534");
	struct client_args a = { .kernel = "echo" };
	uniq(a.runtime, sizeof(a.runtime), "uid");
	struct child c;
	child_start(&c, attach_as_nobody, &a);
	rk_runtime *rt = named_rt(a.runtime);
	launch_named(rt, "echo", "echo", NULL);
	child_go(&c);
	cr_assert_eq(child_wait(&c), 0, "uid 65534 gets -EACCES");
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* What a client may write is checked by the owner: a forged request for a
 * process that does not exist is refused, a scribbled slot is reclaimed,
 * and nothing stops the owner or the honest clients. */
Test(attach, forged_client_table, .timeout = 120)
{
	char name[64];
	uniq(name, sizeof(name), "forge");
	rk_runtime *rt = named_rt(name);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_max_clients(&o, 3);
	rk_kernel *k = launch_named(rt, "echo", "echo", &o);
	char rname[128];
	snprintf(rname, sizeof(rname), "rk.%s.echo", name);
	rk_region *r;
	cr_assert_eq(rk_region_open(rname, RK_REGION_UNLOCKED, &r), 0, "%s", rk_last_error());
	struct rk_clients *cl;
	cr_assert_eq(rk_region_find(r, RK_SECT_CLIENTS, 0, (void **)&cl, NULL), 0);
	/* slot 0: a request for a pid that started at another time */
	cl->slot[0].pid = (uint32_t)getpid();
	cl->slot[0].start = 12345;
	__atomic_store_n(&cl->slot[0].state, RK_CLIENT_REQUEST, __ATOMIC_RELEASE);
	/* slot 1: READY that the owner never granted */
	__atomic_store_n(&cl->slot[1].state, RK_CLIENT_READY, __ATOMIC_RELEASE);
	for (int t = 0; t < 5000; t++) {
		if (cl->slot[0].state == RK_CLIENT_REFUSED && cl->slot[1].state == RK_CLIENT_FREE)
			break;
		usleep(1000);
	}
	cr_assert_eq(cl->slot[0].state, RK_CLIENT_REFUSED);
	cr_assert_eq((int)cl->slot[0].result, -ESRCH);
	cr_assert_eq(cl->slot[1].state, RK_CLIENT_FREE);
	/* An honest client still attaches (slot 1 or 2) and is served. */
	rk_kernel *c;
	cr_assert_eq(rk_attach(name, "echo", &c), 0, "%s", rk_last_error());
	rk_message m;
	cr_assert_eq(rk_kernel_call(c, 2, "ok", 2, &m, 10 * SEC), 0, "%s", rk_last_error());
	/* Its slot scribbled over: the owner closes it; the client learns so. */
	for (unsigned i = 0; i < 3; i++)
		if (cl->slot[i].state == RK_CLIENT_READY)
			__atomic_store_n(&cl->slot[i].state, RK_CLIENT_CLAIMED, __ATOMIC_RELEASE);
	int ret = 0;
	for (int t = 0; t < 100 && ret == 0; t++)
		ret = rk_kernel_call(c, 2, "ok", 2, &m, 100000000ull);
	cr_assert(ret == -ECONNRESET || ret == -ETIMEDOUT, "%s", rk_strerror(ret));
	cr_assert_eq(rk_detach(c), 0);
	cr_assert_eq(rk_kernel_call(k, 2, "own", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	/* A tampered client table geometry makes attach refuse, not crash. */
	uint64_t keep = cl->ring_stride;
	cl->ring_stride = 1ull << 40;
	cr_assert_eq(rk_attach(name, "echo", &c), -ERANGE);
	cl->ring_stride = keep;
	struct rk_ctrl *ctrl;
	cr_assert_eq(rk_region_find(r, RK_SECT_CTRL, 0, (void **)&ctrl, NULL), 0);
	uint64_t id = ctrl->kernel_id;
	ctrl->kernel_id = id + 1000;
	cr_assert_eq(rk_attach(name, "echo", &c), -EBADMSG);
	ctrl->kernel_id = id;
	rk_region_close(r);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* A slot handed to a new client: replies still due to the old one are
 * dropped by the kernel (counted), never delivered to the new one. */
Test(attach, stale_replies_never_reach_the_next_client, .timeout = 120)
{
	char name[64];
	uniq(name, sizeof(name), "gen");
	rk_runtime *rt = named_rt(name);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_max_clients(&o, 1);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *k = launch_named(rt, "echo", "echo", &o);
	rk_kernel *a, *b;
	cr_assert_eq(rk_attach(name, "echo", &a), 0, "%s", rk_last_error());
	for (int i = 0; i < 10; i++)
		cr_assert_eq(rk_kernel_send(a, 1, "old", 3, SEC), 0, "%s", rk_last_error());
	cr_assert_eq(rk_detach(a), 0);
	cr_assert_eq(attach_retry(name, "echo", &b), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_activate(k), 0);
	rk_message m;
	cr_assert_eq(rk_kernel_call(b, 2, "new", 3, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "new", 3), 0);
	cr_assert_eq(rk_kernel_receive(b, &m, 100000000ull), -ETIMEDOUT, "nothing else for b");
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status_get(k, &st), 0);
	cr_assert_eq(st.errors, 10, "the 10 replies to the old client were dropped");
	cr_assert_eq(rk_detach(b), 0);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

/* A device that cannot follow the route table the reply rings need still
 * runs the named kernel, without clients: attach says so (-EUSERS). */
Test(attach, a_device_without_routes_runs_the_kernel_without_clients, .timeout = 120)
{
	if (strcmp(backend(), "opencl"))
		cr_skip_test("needs the OpenCL backend's RK_OPENCL_NO_HOST_VA");
	setenv("RK_OPENCL_NO_HOST_VA", "1", 1);
	char name[64];
	uniq(name, sizeof(name), "nova");
	rk_runtime *rt = named_rt(name);
	rk_kernel *k;
	cr_assert_eq(rk_runtime_launch(rt, "echo", NULL, &k), 0, "%s", rk_last_error());
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, "up", 2, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(m.payload, "up", 2), 0);
	rk_kernel *c;
	cr_assert_eq(rk_attach(name, "echo", &c), -EUSERS, "%s", rk_last_error());
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
	unsetenv("RK_OPENCL_NO_HOST_VA");
}
