/* SPDX-License-Identifier: MIT */
/*
 * The iceoryx peer of the xproc scenario (HAVE_PEER_ICEORYX): zero-copy
 * publish/subscribe between two processes through iceoryx's C binding,
 * as iceoryx's own latency benchmark measures it.
 *
 *   RouDi    iceoryx's broker: the iox-roudi configure found (config.h
 *            RK_IOX_ROUDI, or $RK_IOX_ROUDI), started here with a private
 *            config sized for the payload, waited for until it says it is
 *            ready, stopped at the end
 *   server   a forked process: subscribes "ping", publishes every chunk it
 *            takes back on "pong"
 *   client   another forked process: loans a chunk, publishes it on "ping",
 *            busy-polls "pong" (iox_sub_take_chunk in a loop, never a
 *            WaitSet), one clock read per round trip, as our closed loop
 *            does; its histogram comes back over a pipe
 *
 * The calling process never joins iceoryx itself: it only runs RouDi and
 * reaps the two.
 *
 * Both sides spin with backoff(): the spin-mode counterpart of an rk_attach
 * client calling rk_kernel_call() with RK_SPIN_NS = 1 s.
 *
 * Only one RouDi can run on a machine (it holds a lock): when another one
 * is running, or RouDi cannot start, the peer is absent with the reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#if defined(__SANITIZE_THREAD__)
#undef HAVE_PEER_ICEORYX
#endif

#ifdef HAVE_PEER_ICEORYX
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

const bool peer_have_iceoryx = true;

#define STOP_MARK   UINT64_MAX /* first 8 bytes of the server's last message */
#define READY_LINE  "RouDi is ready for clients"
#define START_LIMIT 5000000000ull /* RouDi up, subscriptions made */

struct roudi {
	pid_t pid;
	int log; /* RouDi's stdout and stderr: an unlinked file */
	char dir[64];
	char cfg[96];
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000 };
	nanosleep(&ts, NULL);
}

/* One line without its colour escapes, its time stamp and level. */
static void clean_line(const char *line, size_t n, char *out, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < len; i++) {
		if (line[i] == '\033') {
			while (i < n && line[i] != 'm')
				i++;
			continue;
		}
		out[j++] = line[i];
	}
	out[j] = '\0';
	char *msg = strstr(out, "]: ");
	if (msg)
		memmove(out, msg + 3, strlen(msg + 3) + 1);
}

/* Why RouDi exited: its first fatal or error line, else its last line. */
static void roudi_why(const struct roudi *r, char *why, size_t len)
{
	char buf[4096], first[128] = "", last[128] = "";
	ssize_t n = pread(r->log, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	for (char *line = buf; *line;) {
		size_t l = strcspn(line, "\n");
		if (l) {
			bool bad =
				memmem(line, l, "[ Fatal ]", 9) || memmem(line, l, "[ Error ]", 9);
			clean_line(line, l, last, sizeof(last));
			if (bad && !first[0])
				snprintf(first, sizeof(first), "%s", last);
		}
		line += l + (line[l] == '\n');
	}
	if (strstr(buf, "Could not acquire lock"))
		snprintf(why, len, "another iox-roudi is running");
	else
		snprintf(why, len, "iox-roudi: %s", first[0] ? first : last[0] ? last : "exited");
}

static bool roudi_ready(const struct roudi *r)
{
	char buf[8192];
	ssize_t n = pread(r->log, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, READY_LINE) != NULL;
}

static void roudi_stop(struct roudi *r)
{
	if (r->pid > 0) {
		int status;
		kill(r->pid, SIGTERM);
		for (unsigned i = 0; i < 300; i++) {
			if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
				r->pid = 0;
				break;
			}
			sleep_ms(10);
		}
		if (r->pid > 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
			r->pid = 0;
		}
	}
	if (r->log >= 0)
		close(r->log);
	r->log = -1;
	if (r->cfg[0])
		unlink(r->cfg);
	if (r->dir[0])
		rmdir(r->dir);
}

/*
 * Start RouDi with one mempool for this payload (and monitoring off: no
 * process here dies unannounced, and its keep-alive checks would only add
 * noise). 0 once it is ready, or a negative errno with `why`.
 */
static int roudi_start(struct roudi *r, uint32_t payload, char *why, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->log = -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/rk-bench-iox.XXXXXX");
	if (!mkdtemp(r->dir)) {
		int err = errno;
		r->dir[0] = '\0';
		snprintf(why, len, "mkdtemp: %s", strerror(err));
		return -err;
	}
	snprintf(r->cfg, sizeof(r->cfg), "%s/roudi.toml", r->dir);
	FILE *f = fopen(r->cfg, "w");
	if (!f) {
		r->cfg[0] = '\0';
		roudi_stop(r);
		snprintf(why, len, "cannot write RouDi's config");
		return -EIO;
	}
	/* chunks of the payload rounded up to 64 bytes; iceoryx adds its own
	 * chunk header to each */
	fprintf(f,
		"[general]\nversion = 1\n\n[[segment]]\n\n[[segment.mempool]]\nsize = %u\n"
		"count = 1024\n",
		(payload + 63) / 64 * 64);
	fclose(f);
	char logname[96];
	snprintf(logname, sizeof(logname), "%s/roudi.log", r->dir);
	r->log = open(logname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->log < 0) {
		int err = errno;
		roudi_stop(r);
		snprintf(why, len, "cannot create RouDi's log");
		return -err;
	}
	unlink(logname);
	const char *path = getenv("RK_IOX_ROUDI");
	if (!path || !*path)
		path = RK_IOX_ROUDI;
	fflush(stdout);
	fflush(stderr);
	r->pid = fork();
	if (r->pid < 0) {
		int err = errno;
		roudi_stop(r);
		snprintf(why, len, "fork: %s", strerror(err));
		return -err;
	}
	if (r->pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		dup2(r->log, 1);
		dup2(r->log, 2);
		execl(path, "iox-roudi", "-c", r->cfg, "-m", "off", "-l", "info", (char *)NULL);
		dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	uint64_t end = now_ns() + START_LIMIT;
	while (!roudi_ready(r)) {
		int status;
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			r->pid = 0;
			roudi_why(r, why, len);
			roudi_stop(r);
			return -ENODEV;
		}
		if (now_ns() > end) {
			snprintf(why, len, "iox-roudi not ready within 5 s");
			roudi_stop(r);
			return -ETIMEDOUT;
		}
		sleep_ms(5);
	}
	return 0;
}

struct iox_ends {
	iox_pub_storage_t pub_mem;
	iox_sub_storage_t sub_mem;
	iox_pub_t pub;
	iox_sub_t sub;
};

static void ends_open(struct iox_ends *e, const char *instance, const char *out, const char *in)
{
	iox_pub_options_t po;
	iox_pub_options_init(&po);
	iox_sub_options_t so;
	iox_sub_options_init(&so);
	so.queueCapacity = 16;
	e->pub = iox_pub_init(&e->pub_mem, "rk-bench", instance, out, &po);
	e->sub = iox_sub_init(&e->sub_mem, "rk-bench", instance, in, &so);
}

static void ends_close(struct iox_ends *e)
{
	iox_sub_deinit(e->sub);
	iox_pub_deinit(e->pub);
}

/* Connected both ways: our subscription is up and the peer subscribes us. */
static bool ends_connected(struct iox_ends *e)
{
	return iox_sub_get_subscription_state(e->sub) == SubscribeState_SUBSCRIBED &&
	       iox_pub_has_subscribers(e->pub);
}

static int publish(struct iox_ends *e, const void *src, uint32_t payload)
{
	void *chunk;
	if (iox_pub_loan_chunk(e->pub, &chunk, payload) != AllocationResult_SUCCESS)
		return -ENOBUFS;
	memcpy(chunk, src, payload);
	iox_pub_publish_chunk(e->pub, chunk);
	return 0;
}

/*
 * The two iceoryx processes leave with exit(): the runtime's static
 * destructor is what unregisters a process from RouDi, and RouDi, when it
 * stops, sends SIGTERM to every process still registered. Leak checking is
 * off in them: what iceoryx keeps until exit is not ours to report.
 */
static void __attribute__((noreturn)) iox_exit(int status)
{
#if defined(__SANITIZE_ADDRESS__)
	__lsan_disable();
#endif
	fflush(stdout);
	fflush(stderr);
	exit(status);
}

static void iox_join(const char *kind)
{
	char name[64];
	snprintf(name, sizeof(name), "rk-bench-%s-%d", kind, (int)getpid());
	iox_set_loglevel(Iceoryx_LogLevel_Error);
	iox_runtime_init(name);
}

/* The server process: echo until the stop mark. */
static void __attribute__((noreturn)) echo_server(const char *instance, uint32_t payload)
{
	iox_join("echo");
	struct iox_ends *e = calloc(1, sizeof(*e));
	if (!e)
		iox_exit(1);
	ends_open(e, instance, "pong", "ping");
	int ret = 0;
	unsigned spins = 0;
	for (;;) {
		const void *chunk;
		if (iox_sub_take_chunk(e->sub, &chunk) != ChunkReceiveResult_SUCCESS) {
			backoff(&spins);
			continue;
		}
		spins = 0;
		uint64_t mark;
		memcpy(&mark, chunk, sizeof(mark));
		ret = publish(e, chunk, payload);
		iox_sub_release_chunk(e->sub, chunk);
		if (ret < 0 || mark == STOP_MARK)
			break;
	}
	ends_close(e);
	free(e);
	iox_exit(ret < 0 ? 1 : 0);
}

/* Wait for a reply; -ETIMEDOUT after a second (the server died). */
static int take_reply(struct iox_ends *e, uint8_t *buf, uint32_t payload)
{
	unsigned spins = 0;
	uint64_t t0 = 0;
	const void *chunk;
	while (iox_sub_take_chunk(e->sub, &chunk) != ChunkReceiveResult_SUCCESS) {
		backoff(&spins);
		if (spins == 0) { /* every 4096 turns */
			uint64_t t = now_ns();
			if (!t0)
				t0 = t;
			else if (t - t0 > 1000000000ull)
				return -ETIMEDOUT;
		}
	}
	memcpy(buf, chunk, payload);
	iox_sub_release_chunk(e->sub, chunk);
	return 0;
}

static int ping_pong(struct iox_ends *e, double seconds, uint32_t payload, struct hist *h)
{
	uint8_t *buf = calloc(1, payload);
	if (!buf)
		return -ENOMEM;
	int ret = 0;
	uint64_t seq = 0, end = now_ns() + (uint64_t)(seconds * 1e9), t0 = now_ns();
	while (t0 < end) {
		++seq;
		memcpy(buf, &seq, sizeof(seq));
		if ((ret = publish(e, buf, payload)) < 0 || (ret = take_reply(e, buf, payload)) < 0)
			break;
		uint64_t back;
		memcpy(&back, buf, sizeof(back));
		if (back != seq) {
			ret = -EBADMSG;
			break;
		}
		uint64_t t1 = now_ns();
		if (h)
			hist_record(h, t1 - t0);
		t0 = t1;
	}
	free(buf);
	return ret;
}

/* What the client process sends back. */
struct client_result {
	int ret;
	char why[48];
	struct hist h;
};

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

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The client process: connect, warm up, measure, stop the server. */
static void __attribute__((noreturn))
ping_client(const struct bopts *o, const char *instance, uint32_t payload, int out)
{
	struct client_result *res = calloc(1, sizeof(*res));
	if (!res)
		iox_exit(1);
	hist_init(&res->h);
	iox_join("ping");
	struct iox_ends *e = calloc(1, sizeof(*e));
	if (!e)
		iox_exit(1);
	ends_open(e, instance, "ping", "pong");
	uint64_t end = now_ns() + START_LIMIT;
	while (!ends_connected(e) && now_ns() < end)
		sleep_ms(1);
	if (!ends_connected(e)) {
		res->ret = -ETIMEDOUT;
		snprintf(res->why, sizeof(res->why), "iceoryx: no subscription within 5 s");
	} else {
		/* warm up as our closed loop does, then measure */
		res->ret = ping_pong(e, o->duration / 20, payload, NULL);
		if (res->ret == 0)
			res->ret = ping_pong(e, o->duration, payload, &res->h);
		if (res->ret < 0)
			snprintf(res->why, sizeof(res->why), "iceoryx ping-pong: %s",
				 strerror(-res->ret));
		uint8_t *stop = calloc(1, payload);
		uint64_t mark = STOP_MARK;
		if (stop) {
			memcpy(stop, &mark, sizeof(mark));
			if (publish(e, stop, payload) == 0)
				take_reply(e, stop, payload);
		}
		free(stop);
	}
	ends_close(e);
	free(e);
	int ret = write_all(out, res, sizeof(*res));
	free(res);
	iox_exit(ret < 0 ? 1 : 0);
}

/* Reap a child, killing it after `ms` milliseconds. */
static void reap(pid_t pid, unsigned ms)
{
	int status;
	for (unsigned i = 0; i < ms; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		sleep_ms(1);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

int peer_iceoryx_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h, char *why,
			   size_t why_len)
{
	if (payload < sizeof(uint64_t))
		return -EINVAL;
	struct roudi r;
	int ret = roudi_start(&r, payload, why, why_len);
	if (ret < 0)
		return ret;
	char instance[32];
	snprintf(instance, sizeof(instance), "p%d", (int)getpid());
	int fds[2];
	if (pipe(fds) < 0) {
		ret = -errno;
		roudi_stop(&r);
		return ret;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t server = fork();
	if (server == 0) {
		close(fds[0]);
		close(fds[1]);
		echo_server(instance, payload);
	}
	pid_t client = server < 0 ? -1 : fork();
	if (client == 0) {
		close(fds[0]);
		ping_client(o, instance, payload, fds[1]);
	}
	close(fds[1]);
	struct client_result *res = calloc(1, sizeof(*res));
	if (server < 0 || client < 0) {
		ret = -EAGAIN;
		snprintf(why, why_len, "fork: %s", strerror(errno));
	} else if (!res) {
		ret = -ENOMEM;
	} else if (read_all(fds[0], res, sizeof(*res)) < 0) {
		ret = -EIO;
		snprintf(why, why_len, "iceoryx client died");
	} else if ((ret = res->ret) < 0) {
		snprintf(why, why_len, "%s", res->why);
	} else {
		hist_merge(h, &res->h);
	}
	close(fds[0]);
	free(res);
	/* both leave by themselves once the server saw the stop mark */
	if (client > 0)
		reap(client, 2000);
	if (server > 0)
		reap(server, 2000);
	roudi_stop(&r);
	return ret;
}
#else
const bool peer_have_iceoryx = false;
int peer_iceoryx_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h, char *why,
			   size_t why_len)
{
	return -ENOSYS;
}
#endif
