/* SPDX-License-Identifier: MIT */
/*
 * remote: the echo kernel of a named runtime in another process, reached
 * over the network (rk_attach_remote() on 127.0.0.1), next to UCX's own
 * active-message floor between the same two processes in the same run.
 *
 * Per UCX transport (tcp: UCX_TLS=tcp; shm: UCX_TLS=sm,tcp, for the
 * client/server connection itself needs a socket transport) one forked
 * client process sets UCX_TLS, then forks its peer before either has
 * threads or a UCX context. The peer:
 *
 *   1. builds the runtime "rkbench-remote-PID", launches "echo" and
 *      listens on 127.0.0.1:0; tells the client where (a floor_rec);
 *   2. when the client is done with it, shuts the runtime down and serves
 *      the UCX floor (bench/ucx_floor.c) with the plugin's endpoint
 *      settings (peer error handling);
 *   3. shm only: serves the floor once more without peer error handling,
 *      the one way UCX 1.13 puts active messages on shared memory.
 *
 * The client measures, in order: rk_kernel_call() of a 64-byte payload,
 * closed loop ("rk echo T", call) and the pipelined rate ("rk echo T",
 * pipelined, bursts of --batch, up to WINDOW in flight), each after a
 * warm-up of a twentieth of the duration; then the floor's ping-pong
 * (poll: both sides busy-poll, as ucx_perftest; wakeup: both sleep on the
 * worker's event fd, as our progress threads do), its one-way stream and
 * its echo with the same window. Our round trip's ref is the polling
 * ping-pong, our rate's the stream; the notes give the ratios to the
 * wakeup ping-pong and the echo, the floors of the same shape as ours.
 *
 * Without UCX at configure time, or with no transport plugin on the
 * plugin path (rk_transport_describe("ucx") fails), the scenario is one
 * absent row with the reason.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "bench.h"
#ifdef RK_BENCH_UCX
#include "ucx_floor.h"
#endif

#define REMOTE "remote"
#define KERNEL "echo"
#define WINDOW 256u /* in flight: a remote handle's rings have 256 slots */

/* ---- can it run here? ------------------------------------------------------------------ */

static struct {
	bool done;
	int ret;
	char text[160]; /* the transport's description, or why not */
	char why[48];	/* why not, for the absent row */
} probe;

/* rk_transport_describe("ucx") in a child (it loads UCX; this process
 * forks every scenario's children), once. */
static int probe_transport(void)
{
	if (probe.done)
		return probe.ret;
	probe.done = true;
#ifndef RK_BENCH_UCX
	probe.ret = -ENOSYS;
	snprintf(probe.text, sizeof(probe.text),
		 "rk-bench was built without UCX (configure found no libucx-dev)");
	snprintf(probe.why, sizeof(probe.why), "built without UCX (configure found none)");
	return probe.ret;
#else
	int fds[2];
	if (pipe(fds) < 0) {
		probe.ret = -errno;
		snprintf(probe.text, sizeof(probe.text), "pipe: %s", strerror(errno));
		return probe.ret;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct {
			int ret;
			char text[sizeof(probe.text)];
		} r = { 0 };
		r.ret = rk_transport_describe("ucx", r.text, sizeof(r.text));
		if (r.ret < 0)
			snprintf(r.text, sizeof(r.text), "no UCX transport: %s", rk_last_error());
		_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	struct {
		int ret;
		char text[sizeof(probe.text)];
	} r = { .ret = -ECHILD, .text = "the probing child died" };
	if (pid > 0) {
		if (read(fds[0], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
			r.ret = -ECHILD;
			snprintf(r.text, sizeof(r.text), "the probing child died");
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(fds[0]);
	probe.ret = r.ret;
	memcpy(probe.text, r.text, sizeof(probe.text));
	probe.text[sizeof(probe.text) - 1] = '\0';
	if (r.ret == -ENOENT)
		snprintf(probe.why, sizeof(probe.why), "no rk-transport-ucx.so on the plugin path");
	else if (r.ret < 0)
		snprintf(probe.why, sizeof(probe.why), "UCX transport: %s", rk_strerror(r.ret));
	return probe.ret;
#endif
}

/* The transports: the name in the rows and UCX_TLS. */
static const struct {
	const char *name, *tls;
} tls[] = { { "tcp", "tcp" }, { "shm", "sm,tcp" } };
#define NTLS (sizeof(tls) / sizeof(tls[0]))

/* Per transport: rk call and pipelined, then ucx poll, wakeup, stream and
 * echo; shm also the floor without peer errors (poll, stream). */
void plan_remote(const struct bopts *o, struct plan *p)
{
	if (probe_transport() < 0) {
		p->steps = 1;
		p->secs = 0;
		return;
	}
	p->steps = 6 * NTLS + 2;
	p->secs = (p->steps + 2 * NTLS * 0.05) * o->duration + NTLS * 1.0; /* set-ups */
}

#ifdef RK_BENCH_UCX

static uint32_t payload_of(const struct bopts *o)
{
	return o->payload ? o->payload : 64;
}

static unsigned batch_of(const struct bopts *o)
{
	unsigned batch = o->batch ? o->batch : 32;
	return batch > 128 ? 128 : batch;
}

static int write_rec(int fd, int status, const char *text)
{
	struct floor_rec r = { .status = status };
	snprintf(r.text, sizeof(r.text), "%s", text);
	return write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : -EIO;
}

/* 0 with the record, or -EIO when the peer went before it said anything. */
static int read_rec(int fd, struct floor_rec *r)
{
	size_t got = 0;
	while (got < sizeof(*r)) {
		ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	r->text[sizeof(r->text) - 1] = '\0';
	return 0;
}

/* ---- the peer ---------------------------------------------------------------------------- */

static int peer(const struct bopts *o, const char *runtime, bool shm, int cmd, int res)
{
	char why[252];
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt = NULL;
	rk_kernel *k;
	int ret = b ? 0 : -ENOMEM;
	if (b) {
		rk_runtime_builder_backend_name(b, o->backend);
		rk_runtime_builder_name(b, runtime);
		ret = rk_runtime_builder_build(b, &rt);
	}
	if (ret == 0) {
		rk_launch_options lo = opts_for(payload_of(o), false);
		rk_launch_options_with_name(&lo, KERNEL);
		rk_launch_options_with_client_capacity(&lo, lo.output_capacity);
		ret = rk_runtime_launch(rt, "echo", &lo, &k);
	}
	char addr[128] = "";
	if (ret == 0 && (ret = rk_runtime_listen(rt, "127.0.0.1:0")) == 0)
		ret = rk_runtime_listen_address(rt, addr, sizeof(addr));
	if (ret < 0)
		snprintf(why, sizeof(why), "%s: %s", rk_strerror(ret), rk_last_error());
	if (write_rec(res, ret, ret < 0 ? why : addr) < 0 || ret < 0) {
		if (rt)
			rk_runtime_shutdown(rt);
		return ret < 0 ? ret : -EIO;
	}
	char byte;
	ssize_t n = read(cmd, &byte, 1); /* the client is done with it, or gone */
	rk_runtime_shutdown(rt);
	if (n != 1)
		return 0;
	/* the floors, one client each */
	if ((ret = ucx_floor_serve(res, true)) < 0 || !shm)
		return ret;
	if (read(cmd, &byte, 1) != 1)
		return 0;
	return ucx_floor_serve(res, false);
}

/* ---- the client -------------------------------------------------------------------------- */

static struct row *lat_row(struct rows *rs, const char *name, const char *mode, uint32_t payload,
			   const struct hist *h)
{
	struct row *r = rows_add(rs, REMOTE, name, mode);
	r->payload = payload;
	row_set_hist(r, h);
	return r;
}

static struct row *rate_row(struct rows *rs, const char *name, const char *mode, uint32_t payload,
			    unsigned batch, double mps)
{
	struct row *r = rows_add(rs, REMOTE, name, mode);
	r->payload = payload;
	r->batch = batch;
	r->msgs_per_s = mps;
	r->ns_per_msg = mps > 0 ? 1e9 / mps : 0;
	return r;
}

/* Ours: a remote attach to the peer's echo. */
static int measure_rk(const struct bopts *o, const char *t, const char *addr, const char *runtime,
		      struct hist *h, struct rows *rs)
{
	char name[40], ref[40];
	uint32_t payload = payload_of(o);
	unsigned batch = batch_of(o);
	rk_kernel *k;
	int ret = rk_attach_remote(addr, runtime, KERNEL, &k);
	if (ret < 0) {
		fprintf(stderr, "rk-bench: rk_attach_remote %s %s/%s: %s: %s\n", addr, runtime,
			KERNEL, rk_strerror(ret), rk_last_error());
		return ret;
	}
	struct bopts warm = *o;
	warm.duration = o->duration / 20;
	snprintf(name, sizeof(name), "rk echo %s", t);
	progress("remote: %s, rk_kernel_call, %u B", name, payload);
	hist_init(h);
	closed_loop(&warm, k, k, payload, h);
	hist_init(h);
	if ((ret = closed_loop(o, k, k, payload, h)) == 0) {
		struct row *r = lat_row(rs, name, "call", payload, h);
		snprintf(ref, sizeof(ref), "ucx am %s/poll", t);
		snprintf(r->ref, sizeof(r->ref), "%s", ref);
	}
	if (ret == 0) {
		progress("remote: %s, pipelined, batch %u", name, batch);
		double mps;
		pipelined(&warm, k, k, payload, batch, WINDOW, &mps);
		if ((ret = pipelined(o, k, k, payload, batch, WINDOW, &mps)) == 0) {
			struct row *r = rate_row(rs, name, "pipelined", payload, batch, mps);
			snprintf(r->ref, sizeof(r->ref), "ucx am %s/stream", t);
		}
	}
	rk_detach(k);
	return ret;
}

/* UCX's: the floor server the peer started; which depends on `full`:
 * every measurement, or (without peer errors) the ping-pong and stream. */
static int measure_floor(const struct bopts *o, const char *name, const char *addr,
			 bool peer_errors, bool full, struct hist *h, struct rows *rs)
{
	uint32_t payload = payload_of(o);
	unsigned batch = batch_of(o);
	char why[256];
	struct ucx_floor *f;
	int ret = ucx_floor_connect(addr, peer_errors, &f, why, sizeof(why));
	if (ret < 0) {
		fprintf(stderr, "rk-bench: %s: %s\n", name, why);
		return ret;
	}
	char lanes[48];
	snprintf(lanes, sizeof(lanes), "AM on %.40s", ucx_floor_am_lanes(f));
	for (int wakeup = 0; wakeup <= (int)full && ret == 0; wakeup++) {
		progress("remote: %s, ping-pong, %s", name, wakeup ? "wakeup" : "poll");
		hist_init(h);
		if ((ret = ucx_floor_pingpong(f, o, payload, wakeup, h)) == 0) {
			struct row *r = lat_row(rs, name, wakeup ? "wakeup" : "poll", payload, h);
			snprintf(r->note, sizeof(r->note), "%s", lanes);
		}
	}
	double mps;
	if (ret == 0) {
		progress("remote: %s, stream", name);
		if ((ret = ucx_floor_stream(f, o, payload, &mps)) == 0) {
			struct row *r = rate_row(rs, name, "stream", payload, 1, mps);
			snprintf(r->note, sizeof(r->note), "%s", lanes);
		}
	}
	if (ret == 0 && full) {
		progress("remote: %s, echo, batch %u", name, batch);
		if ((ret = ucx_floor_echo(f, o, payload, batch, WINDOW, &mps)) == 0) {
			struct row *r = rate_row(rs, name, "echo", payload, batch, mps);
			snprintf(r->note, sizeof(r->note), "%s", lanes);
		}
	}
	if (ret < 0)
		fprintf(stderr, "rk-bench: %s: %s\n", name, rk_strerror(ret));
	ucx_floor_close(f);
	return ret;
}

static int client(const struct bopts *o, const char *t, bool shm, const char *runtime, int cmd,
		  int res, struct rows *rs)
{
	char name[40];
	struct floor_rec rec;
	int ret = read_rec(res, &rec);
	if (ret == 0 && rec.status < 0) {
		fprintf(stderr, "rk-bench: remote: the %s peer: %s\n", t, rec.text);
		return rec.status;
	}
	struct hist *h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (ret == 0)
		ret = measure_rk(o, t, rec.text, runtime, h, rs);
	/* the runtime goes, the floor comes */
	if (ret == 0 && write(cmd, "n", 1) != 1)
		ret = -EIO;
	if (ret == 0 && (ret = read_rec(res, &rec)) == 0 && rec.status < 0) {
		fprintf(stderr, "rk-bench: remote: the %s floor: %s\n", t, rec.text);
		ret = rec.status;
	}
	snprintf(name, sizeof(name), "ucx am %s", t);
	if (ret == 0)
		ret = measure_floor(o, name, rec.text, true, true, h, rs);
	if (shm && ret == 0 && write(cmd, "n", 1) != 1)
		ret = -EIO;
	if (shm && ret == 0 && (ret = read_rec(res, &rec)) == 0 && rec.status < 0) {
		fprintf(stderr, "rk-bench: remote: the %s floor: %s\n", t, rec.text);
		ret = rec.status;
	}
	snprintf(name, sizeof(name), "ucx am %s no-peer", t);
	if (shm && ret == 0)
		ret = measure_floor(o, name, rec.text, false, false, h, rs);
	free(h);
	return ret;
}

/* One transport, in a child of its own (UCX_TLS is read as UCX starts). */
static int remote_child(const struct bopts *o, struct rows *rs, const char *t)
{
	unsigned i = 0;
	while (i < NTLS && strcmp(tls[i].name, t))
		i++;
	if (i == NTLS)
		return -EINVAL;
	bool shm = !strcmp(t, "shm");
	setenv("UCX_TLS", tls[i].tls, 1);
	char runtime[64];
	snprintf(runtime, sizeof(runtime), "rkbench-remote-%d", (int)getpid());
	int cmd[2], res[2];
	if (pipe(cmd) < 0)
		return -errno;
	if (pipe(res) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(cmd[0]);
		close(cmd[1]);
		close(res[0]);
		close(res[1]);
		return err;
	}
	if (pid == 0) {
		close(cmd[1]);
		close(res[0]);
		int ret = peer(o, runtime, shm, cmd[0], res[1]);
		fflush(stdout);
		fflush(stderr);
		_exit(ret < 0 ? 1 : 0);
	}
	close(cmd[0]);
	close(res[1]);
	int ret = client(o, t, shm, runtime, cmd[1], res[0], rs);
	close(cmd[1]); /* a peer still waiting for a word leaves */
	close(res[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "rk-bench: remote: the %s peer failed (status %d)\n", t, status);
		ret = -ECHILD;
	}
	return ret;
}

#endif /* RK_BENCH_UCX */

int scn_remote(const struct bopts *o, struct rows *rs)
{
	if (probe_transport() < 0) {
		progress("remote: skipped: %s", probe.text);
		row_absent(rs, REMOTE, "rk echo", probe.why);
		return 0;
	}
#ifdef RK_BENCH_UCX
	unsigned first = rs->n;
	int ret = 0;
	for (unsigned i = 0; i < NTLS && ret == 0; i++)
		ret = in_child(tls[i].name, remote_child, o, rs);
	/* latency rows first, then rates: one table header each */
	struct row *tmp = calloc(MAX_ROWS, sizeof(*tmp));
	unsigned n = 0;
	for (unsigned pass = 0; tmp && pass < 2; pass++)
		for (unsigned i = first; i < rs->n; i++)
			if (rs->r[i].has_lat == (pass == 0))
				tmp[n++] = rs->r[i];
	if (tmp && n == rs->n - first)
		memcpy(&rs->r[first], tmp, n * sizeof(*tmp));
	free(tmp);
	return ret;
#else
	return 0;
#endif
}
