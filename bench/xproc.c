/* SPDX-License-Identifier: MIT */
/*
 * xproc: the echo kernel of a named runtime driven from another process
 * through rk_attach(), next to the same kernel driven by its owner, in the
 * same run, and next to iceoryx between two processes.
 *
 * Per mode (spin, blocking: RK_SPIN_NS as in roundtrip; default for the
 * pipelined rate, as in throughput) one forked owner process:
 *
 *   1. forks the client first, while it has no runtime and no threads yet
 *      (a fork of a process with worker threads inherits their locks), and
 *      the client waits on a pipe;
 *   2. builds the runtime "rkbench-PID" and launches "echo" under that
 *      name, with a client reply ring as large as its output queue;
 *   3. measures in-process: row "rk echo";
 *   4. lets the client go: it attaches, measures the same loop (warm-up
 *      included) and sends its rows back over a pipe: row "rk echo xproc",
 *      compared with the owner's row (ratio = cross-process / in-process).
 *
 * Only one side runs at a time: the other waits in read() on a pipe.
 * The attach API is referenced weakly: a libringkernel without it, or with
 * an rk_attach() that says -ENOSYS, gives an "absent" row, not a failure.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "bench.h"

/* The attach API, weakly (NULL where the library lacks it), declared here
 * as in ringkernel.h so this file also builds against an older header. */
#define RK_WEAK __attribute__((weak))
RK_WEAK void rk_runtime_builder_name(rk_runtime_builder *b, const char *name);
RK_WEAK void rk_launch_options_with_name(rk_launch_options *o, const char *name);
RK_WEAK void rk_launch_options_with_client_capacity(rk_launch_options *o, uint32_t slots);
RK_WEAK int rk_attach(const char *runtime, const char *kernel, rk_kernel **out);
RK_WEAK int rk_detach(rk_kernel *k);

#define XPROC	 "xproc"
#define OURS	 "rk echo"
#define ATTACHED "rk echo xproc"
#define KERNEL	 "echo"
#define WINDOW	 512u /* pipelined: in flight, as in throughput */

static bool have_attach_api(void)
{
	return rk_runtime_builder_name && rk_launch_options_with_name &&
	       rk_launch_options_with_client_capacity && rk_attach && rk_detach;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0 with all of buf, 1 at end of file before the first byte, else -EIO. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			return got ? -EIO : 1;
		got += (size_t)n;
	}
	return 0;
}

static uint32_t payload_of(const struct bopts *o)
{
	return o->payload ? o->payload : 64;
}

static unsigned batch_of(const struct bopts *o)
{
	unsigned batch = o->batch ? o->batch : 32;
	return batch > 256 ? 256 : batch;
}

/*
 * The measurement both sides run on their handle: a closed loop (spin,
 * blocking) or the pipelined rate (default), each after a warm-up of a
 * twentieth of the duration. One row named `name`.
 */
static int measure(const struct bopts *o, rk_kernel *k, const char *mode, const char *name,
		   struct rows *rs)
{
	uint32_t payload = payload_of(o);
	struct bopts warm = *o;
	warm.duration = o->duration / 20;
	int ret;
	if (!strcmp(mode, "default")) {
		unsigned batch = batch_of(o);
		double mps;
		progress("xproc: %s, pipelined, batch %u", name, batch);
		pipelined(&warm, k, k, payload, batch, WINDOW, &mps);
		if ((ret = pipelined(o, k, k, payload, batch, WINDOW, &mps)) < 0)
			return ret;
		struct row *r = rows_add(rs, XPROC, name, "pipelined");
		r->payload = payload;
		r->batch = batch;
		r->msgs_per_s = mps;
		r->ns_per_msg = 1e9 / mps;
		return 0;
	}
	struct hist *h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	progress("xproc: %s, %s", name, mode);
	hist_init(h);
	closed_loop(&warm, k, k, payload, h);
	hist_init(h);
	if ((ret = closed_loop(o, k, k, payload, h)) == 0) {
		struct row *r = rows_add(rs, XPROC, name, mode);
		r->payload = payload;
		row_set_hist(r, h);
	}
	free(h);
	return ret;
}

/* The client process: wait for the owner's word, attach, measure. */
static int client(const struct bopts *o, const char *mode, const char *runtime, int go,
		  struct rows *rs)
{
	char byte;
	int ret = read_all(go, &byte, 1);
	if (ret != 0) /* the owner failed before launching: it says why */
		return 0;
	rk_kernel *k;
	if ((ret = rk_attach(runtime, KERNEL, &k)) < 0) {
		if (ret == -ENOSYS) {
			row_absent(rs, XPROC, ATTACHED, "rk_attach: not implemented (-ENOSYS)");
			return 0;
		}
		fprintf(stderr, "rk-bench: rk_attach %s/%s: %s: %s\n", runtime, KERNEL,
			rk_strerror(ret), rk_last_error());
		return ret;
	}
	ret = measure(o, k, mode, ATTACHED, rs);
	rk_detach(k);
	return ret;
}

/* Fork the client; it reads the go byte from *go_p and writes to *res_p. */
static pid_t fork_client(const struct bopts *o, const char *mode, const char *runtime, int *go_p,
			 int *res_p)
{
	int go[2], res[2];
	if (pipe(go) < 0)
		return -1;
	if (pipe(res) < 0) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(go[0]);
		close(go[1]);
		close(res[0]);
		close(res[1]);
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		close(res[0]);
		struct rows *mine = calloc(1, sizeof(*mine));
		int ret = mine ? client(o, mode, runtime, go[0], mine) : -ENOMEM;
		if (mine && write_all(res[1], mine, sizeof(*mine)) < 0)
			ret = -EIO;
		fflush(stdout);
		fflush(stderr);
		_exit(ret < 0 ? 1 : 0);
	}
	close(go[0]);
	close(res[1]);
	*go_p = go[1];
	*res_p = res[0];
	return pid;
}

/* The client's rows into rs, each compared with the owner's row. */
static int collect(int res, pid_t pid, struct rows *rs, const char *ref)
{
	struct rows *theirs = calloc(1, sizeof(*theirs));
	int ret = theirs ? read_all(res, theirs, sizeof(*theirs)) : -ENOMEM;
	close(res);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret == 0) {
		for (unsigned i = 0; i < theirs->n && rs->n < MAX_ROWS; i++) {
			struct row *r = &rs->r[rs->n++];
			*r = theirs->r[i];
			if (!r->absent)
				snprintf(r->ref, sizeof(r->ref), "%s", ref);
		}
	} else {
		ret = -EIO;
	}
	free(theirs);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rk-bench: xproc client failed (status %d)\n", status);
		ret = -ECHILD;
	}
	return ret;
}

static int owner(const struct bopts *o, struct rows *rs, const char *mode)
{
	char runtime[64];
	snprintf(runtime, sizeof(runtime), "rkbench-%d", (int)getpid());
	int go = -1, res = -1;
	pid_t pid = fork_client(o, mode, runtime, &go, &res);
	if (pid < 0)
		return -errno;

	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime *rt = NULL;
	rk_kernel *k;
	int ret = b ? 0 : -ENOMEM;
	if (b) {
		rk_runtime_builder_backend_name(b, o->backend);
		rk_runtime_builder_name(b, runtime);
		if ((ret = rk_runtime_builder_build(b, &rt)) < 0)
			fprintf(stderr, "rk-bench: runtime %s on %s: %s: %s\n", runtime, o->backend,
				rk_strerror(ret), rk_last_error());
	}
	if (ret == 0) {
		rk_launch_options lo = opts_for(payload_of(o), false);
		rk_launch_options_with_name(&lo, KERNEL);
		/* the pipelined window fits the client's replies as the owner's */
		rk_launch_options_with_client_capacity(&lo, lo.output_capacity);
		ret = launch(rt, "echo", &lo, &k);
	}
	if (ret == 0)
		ret = measure(o, k, mode, OURS, rs);
	if (ret == 0 && write_all(go, "g", 1) < 0)
		ret = -EIO;
	close(go); /* without the go byte the client leaves at once */
	char ref[40];
	snprintf(ref, sizeof(ref), "%s/%s", OURS, !strcmp(mode, "default") ? "pipelined" : mode);
	int cret = collect(res, pid, rs, ref);
	if (rt)
		rk_runtime_shutdown(rt);
	return ret < 0 ? ret : cret;
}

/* ---- iceoryx ------------------------------------------------------------------------------ */

static int iox_child(const struct bopts *o, struct rows *rs, const char *mode)
{
	if (!peer_have_iceoryx) {
		row_absent(rs, XPROC, "iceoryx", peer_absent_why);
		return 0;
	}
	uint32_t payload = payload_of(o);
	struct hist *h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	progress("xproc: iceoryx pub/sub ping-pong");
	hist_init(h);
	char why[48] = "";
	int ret = peer_iceoryx_roundtrip(o, payload, h, why, sizeof(why));
	if (ret == 0) {
		struct row *r = rows_add(rs, XPROC, "iceoryx", "spin");
		r->payload = payload;
		row_set_hist(r, h);
		snprintf(r->ref, sizeof(r->ref), ATTACHED "/spin");
	} else {
		/* a machine where RouDi cannot run is not our failure */
		row_absent(rs, XPROC, "iceoryx", why[0] ? why : rk_strerror(ret));
		fprintf(stderr, "rk-bench: xproc: iceoryx: %s\n", why[0] ? why : rk_strerror(ret));
		ret = 0;
	}
	free(h);
	return ret;
}

/* ---- the scenario ------------------------------------------------------------------------- */

/* In each mode the owner's and the attached client's measurement (after a
 * warm-up of 1/20 each), and iceoryx's before the rates */
void plan_xproc(const struct bopts *o, struct plan *p)
{
	p->steps = (have_attach_api() ? 6 : 0) + peer_have_iceoryx;
	p->secs = p->steps * 1.05 * o->duration;
}

int scn_xproc(const struct bopts *o, struct rows *rs)
{
	static const char *const modes[] = { "spin", "blocking", "default" };
	int ret = 0;
	/* latency rows first, then the rates: one table header each */
	for (unsigned i = 0; i < 3 && ret == 0; i++) {
		if (i == 2)
			ret = in_child("peers", iox_child, o, rs);
		if (ret == 0 && !have_attach_api() && i == 0)
			row_absent(rs, XPROC, ATTACHED, "this libringkernel has no rk_attach()");
		if (ret == 0 && have_attach_api())
			ret = in_child(modes[i], owner, o, rs);
	}
	return ret;
}
