/* SPDX-License-Identifier: MIT */
/*
 * UCX's own floor for the remote scenario: UCP active messages between
 * two processes, written against the UCX the transport plugin uses, with
 * what rk-transport-ucx.so asks of it (UCP_FEATURE_AM | UCP_FEATURE_WAKEUP,
 * a client/server endpoint by socket address with peer error handling,
 * eager sends with the reply flag), and nothing of ours on top.
 *
 *   ping-pong  one AM of `payload` bytes there, one back, closed loop, as
 *              ucx_perftest's ucp_am_lat: "poll" busy-polls the worker on
 *              both sides (with backoff(): a yield every 4096 idle turns,
 *              or two spinners on a busy 2-CPU machine wait out whole time
 *              slices); "wakeup" sleeps in poll(2) on the worker's event
 *              fd after ucp_worker_arm(), as our progress threads do
 *   stream     AMs one way as fast as they go, as ucp_am_bw; a last AM asks
 *              the server how many arrived and the clock stops at its answer
 *   echo       each AM echoed back, up to `window` in flight: the shape of
 *              our pipelined rate over a remote handle
 *
 * libucp is opened with dlopen() when the scenario runs, so rk-bench does
 * not depend on UCX to start; it is compiled only when configure found
 * UCX (its headers).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <ucp/api/ucp.h>

#include "bench.h"
#include "ucx_floor.h"

/* ---- libucp, by dlopen ------------------------------------------------------------------ */

#define UCP_FNS(X)                        \
	X(ucp_config_read)                \
	X(ucp_config_release)             \
	X(ucp_init_version)               \
	X(ucp_cleanup)                    \
	X(ucp_worker_create)              \
	X(ucp_worker_destroy)             \
	X(ucp_worker_progress)            \
	X(ucp_worker_get_efd)             \
	X(ucp_worker_arm)                 \
	X(ucp_worker_set_am_recv_handler) \
	X(ucp_listener_create)            \
	X(ucp_listener_query)             \
	X(ucp_listener_destroy)           \
	X(ucp_ep_create)                  \
	X(ucp_ep_close_nbx)               \
	X(ucp_ep_print_info)              \
	X(ucp_am_send_nbx)                \
	X(ucp_request_check_status)       \
	X(ucp_request_free)               \
	X(ucp_get_version_string)         \
	X(ucs_status_string)

#define UCP_PTR(f) static __typeof__(f) *p_##f;
UCP_FNS(UCP_PTR)
#undef UCP_PTR

static int load_ucp(char *why, size_t len)
{
	static void *dl;
	if (dl)
		return 0;
	void *h = dlopen("libucp.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "libucp.so.0: %s", dlerror());
		return -ENOENT;
	}
#define UCP_SYM(f)                                                       \
	{                                                                \
		void *s = dlsym(h, #f);                                  \
		if (!s) {                                                \
			snprintf(why, len, "libucp.so.0 has no %s", #f); \
			dlclose(h);                                      \
			return -ENOENT;                                  \
		}                                                        \
		memcpy(&p_##f, &s, sizeof(s));                           \
	}
	UCP_FNS(UCP_SYM)
#undef UCP_SYM
	dl = h;
	return 0;
}

/* AM ids: far from the transport's 0x524b, though a floor never meets it. */
enum { AM_PING = 0x4601, AM_PONG, AM_STREAM, AM_FIN, AM_COUNT, AM_MODE };

#define MAX_LEN 4096u
#define SLOTS	1024u /* replies whose sends may still be in flight */

struct side {
	ucp_context_h ctx;
	ucp_worker_h worker;
	ucp_listener_h listener;
	ucp_ep_h ep;
	int efd;
	int failed;
	bool wakeup; /* server: sleep on the event fd when idle */
	/* received, not yet answered (server) or taken (client) */
	uint64_t pings, streamed, fins, pongs, counted;
	uint64_t count; /* AM_COUNT's value */
	unsigned head;	/* server: the next reply slot */
	struct {
		void *req;
		uint8_t buf[MAX_LEN];
	} * slot;
	uint8_t last[MAX_LEN]; /* server: payloads waiting for their echo */
	uint32_t last_len;
	uint8_t *queue; /* server: echo payloads, SLOTS of MAX_LEN, FIFO */
	uint32_t qlens[SLOTS];
	unsigned qhead, qlen;
	ucp_conn_request_h conn_req;
};

static int ucs_err(ucs_status_t s, const char *what, char *why, size_t len)
{
	snprintf(why, len, "ucx floor: %s: %s", what, p_ucs_status_string(s));
	return -EPROTO;
}

static ucs_status_t on_am(void *arg, const void *header, size_t header_length, void *data,
			  size_t length, const ucp_am_recv_param_t *param, unsigned id)
{
	(void)header;
	(void)header_length;
	(void)param;
	struct side *s = arg;
	switch (id) {
	case AM_PING:
		if (s->qlen < SLOTS && length <= MAX_LEN) {
			unsigned i = (s->qhead + s->qlen++) % SLOTS;
			memcpy(s->queue + (size_t)i * MAX_LEN, data, length);
			s->qlens[i] = (uint32_t)length;
		}
		s->pings++;
		break;
	case AM_PONG:
		if (length <= MAX_LEN)
			memcpy(s->last, data, length);
		s->pongs++;
		break;
	case AM_STREAM: s->streamed++; break;
	case AM_FIN: s->fins++; break;
	case AM_COUNT:
		if (length == sizeof(uint64_t))
			memcpy(&s->count, data, sizeof(uint64_t));
		s->counted++;
		break;
	case AM_MODE: {
		uint32_t m = 0;
		if (length == sizeof(m))
			memcpy(&m, data, sizeof(m));
		s->wakeup = m != 0;
		break;
	}
	}
	return UCS_OK;
}

#define AM_CB(ID)                                                                         \
	static ucs_status_t on_##ID(void *arg, const void *header, size_t hl, void *data, \
				    size_t length, const ucp_am_recv_param_t *param)      \
	{                                                                                 \
		return on_am(arg, header, hl, data, length, param, ID);                   \
	}
AM_CB(AM_PING)
AM_CB(AM_PONG)
AM_CB(AM_STREAM)
AM_CB(AM_FIN)
AM_CB(AM_COUNT)
AM_CB(AM_MODE)

static void ep_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
	(void)ep;
	(void)status;
	((struct side *)arg)->failed = 1;
}

static int side_open(struct side *s, char *why, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->efd = -1;
	int ret = load_ucp(why, len);
	if (ret < 0)
		return ret;
	s->slot = calloc(SLOTS, sizeof(*s->slot));
	s->queue = malloc((size_t)SLOTS * MAX_LEN);
	if (!s->slot || !s->queue) {
		snprintf(why, len, "ucx floor: out of memory");
		return -ENOMEM;
	}
	ucp_config_t *cfg;
	ucs_status_t st = p_ucp_config_read(NULL, NULL, &cfg);
	if (st != UCS_OK)
		return ucs_err(st, "ucp_config_read", why, len);
	ucp_params_t p = {
		.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_NAME,
		.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP,
		.name = "rk-bench-floor",
	};
	st = p_ucp_init_version(UCP_API_MAJOR, UCP_API_MINOR, &p, cfg, &s->ctx);
	p_ucp_config_release(cfg);
	if (st != UCS_OK) {
		s->ctx = NULL;
		return ucs_err(st, "ucp_init", why, len);
	}
	ucp_worker_params_t wp = { .field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
				   .thread_mode = UCS_THREAD_MODE_SINGLE };
	if ((st = p_ucp_worker_create(s->ctx, &wp, &s->worker)) != UCS_OK) {
		s->worker = NULL;
		return ucs_err(st, "ucp_worker_create", why, len);
	}
	static const struct {
		unsigned id;
		ucp_am_recv_callback_t cb;
	} h[] = { { AM_PING, on_AM_PING }, { AM_PONG, on_AM_PONG },   { AM_STREAM, on_AM_STREAM },
		  { AM_FIN, on_AM_FIN },   { AM_COUNT, on_AM_COUNT }, { AM_MODE, on_AM_MODE } };
	for (unsigned i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		ucp_am_handler_param_t hp = {
			.field_mask =
				UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
				UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG,
			.id = h[i].id,
			.flags = UCP_AM_FLAG_WHOLE_MSG,
			.cb = h[i].cb,
			.arg = s,
		};
		if ((st = p_ucp_worker_set_am_recv_handler(s->worker, &hp)) != UCS_OK)
			return ucs_err(st, "ucp_worker_set_am_recv_handler", why, len);
	}
	if ((st = p_ucp_worker_get_efd(s->worker, &s->efd)) != UCS_OK)
		return ucs_err(st, "ucp_worker_get_efd", why, len);
	return 0;
}

static void wait_req(struct side *s, void *req)
{
	while (p_ucp_request_check_status(req) == UCS_INPROGRESS && !s->failed)
		p_ucp_worker_progress(s->worker);
	p_ucp_request_free(req);
}

static void side_close(struct side *s)
{
	if (s->ep) {
		ucp_request_param_t p = { .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
					  .flags = UCP_EP_CLOSE_FLAG_FORCE };
		ucs_status_ptr_t r = p_ucp_ep_close_nbx(s->ep, &p);
		if (UCS_PTR_IS_PTR(r))
			wait_req(s, r);
	}
	if (s->listener)
		p_ucp_listener_destroy(s->listener);
	if (s->worker) {
		for (unsigned i = 0; s->slot && i < SLOTS; i++)
			if (s->slot[i].req)
				p_ucp_request_free(s->slot[i].req);
		p_ucp_worker_destroy(s->worker);
	}
	if (s->ctx)
		p_ucp_cleanup(s->ctx);
	free(s->slot);
	free(s->queue);
	memset(s, 0, sizeof(*s));
}

static void free_on_done(void *request, ucs_status_t status, void *user_data)
{
	(void)status;
	if (user_data)
		(*(unsigned *)user_data)--;
	p_ucp_request_free(request);
}

/* One eager AM with the reply flag, as the transport sends its frames;
 * the buffer must stay as it is until the send completes (*inflight
 * counts those that did not complete at once). */
static int am_send(struct side *s, unsigned id, const void *buf, size_t len, unsigned *inflight)
{
	ucp_request_param_t p = {
		.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
				UCP_OP_ATTR_FIELD_FLAGS,
		.cb.send = free_on_done,
		.user_data = inflight,
		.flags = UCP_AM_SEND_FLAG_EAGER | UCP_AM_SEND_FLAG_REPLY,
	};
	ucs_status_ptr_t r = p_ucp_am_send_nbx(s->ep, id, NULL, 0, buf, len, &p);
	if (UCS_PTR_IS_PTR(r)) {
		if (inflight)
			(*inflight)++;
		return 0;
	}
	return UCS_PTR_STATUS(r) == UCS_OK ? 0 : -EPIPE;
}

/* Server: one reply from slot i's own buffer, kept until its send is done. */
static int send_reply(struct side *s, unsigned id, const void *data, uint32_t len)
{
	unsigned i = s->head++ % SLOTS;
	if (s->slot[i].req) {
		wait_req(s, s->slot[i].req);
		s->slot[i].req = NULL;
	}
	memcpy(s->slot[i].buf, data, len);
	ucp_request_param_t p = { .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
				  .flags = UCP_AM_SEND_FLAG_EAGER | UCP_AM_SEND_FLAG_REPLY };
	ucs_status_ptr_t r = p_ucp_am_send_nbx(s->ep, id, NULL, 0, s->slot[i].buf, len, &p);
	if (UCS_PTR_IS_PTR(r))
		s->slot[i].req = r;
	else if (UCS_PTR_STATUS(r) != UCS_OK)
		return -EPIPE;
	return 0;
}

/* Sleep until the worker has something (after arming it), or poll once. */
static void idle(struct side *s, int timeout_ms)
{
	if (p_ucp_worker_arm(s->worker) != UCS_OK)
		return; /* busy: events are waiting */
	struct pollfd pf = { .fd = s->efd, .events = POLLIN };
	poll(&pf, 1, timeout_ms);
}

/* ---- server ---------------------------------------------------------------------------- */

static void on_conn(ucp_conn_request_h req, void *arg)
{
	struct side *s = arg;
	if (!s->conn_req)
		s->conn_req = req;
}

int ucx_floor_serve(int fd, bool peer_errors)
{
	struct floor_rec rec = { 0 };
	char *why = rec.text;
	size_t len = sizeof(rec.text);
	struct side *s = malloc(sizeof(*s));
	int ret = -ENOMEM;
	if (!s) {
		snprintf(why, len, "ucx floor: out of memory");
		goto tell;
	}
	if ((ret = side_open(s, why, len)) < 0)
		goto out;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ucp_listener_params_t lp = {
		.field_mask =
			UCP_LISTENER_PARAM_FIELD_SOCK_ADDR | UCP_LISTENER_PARAM_FIELD_CONN_HANDLER,
		.sockaddr = { .addr = (const struct sockaddr *)&sin, .addrlen = sizeof(sin) },
		.conn_handler = { .cb = on_conn, .arg = s },
	};
	ucs_status_t st = p_ucp_listener_create(s->worker, &lp, &s->listener);
	if (st != UCS_OK) {
		s->listener = NULL;
		ret = ucs_err(st, "ucp_listener_create", why, len);
		goto out;
	}
	ucp_listener_attr_t la = { .field_mask = UCP_LISTENER_ATTR_FIELD_SOCKADDR };
	if ((st = p_ucp_listener_query(s->listener, &la)) != UCS_OK) {
		ret = ucs_err(st, "ucp_listener_query", why, len);
		goto out;
	}
	const struct sockaddr_in *a = (const struct sockaddr_in *)&la.sockaddr;
	snprintf(rec.text, sizeof(rec.text), "127.0.0.1:%u", ntohs(a->sin_port));
	if (write(fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
		ret = -EIO;
		goto out;
	}
	rec.status = 1; /* told */
	/* one client, then done: it leaves by closing its endpoint */
	while (!s->conn_req)
		if (!p_ucp_worker_progress(s->worker))
			idle(s, 100);
	ucp_ep_params_t ep = {
		.field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST | UCP_EP_PARAM_FIELD_ERR_HANDLER |
			      UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
		.conn_request = s->conn_req,
		.err_mode = peer_errors ? UCP_ERR_HANDLING_MODE_PEER : UCP_ERR_HANDLING_MODE_NONE,
		.err_handler = { .cb = ep_error, .arg = s },
	};
	if ((st = p_ucp_ep_create(s->worker, &ep, &s->ep)) != UCS_OK) {
		s->ep = NULL;
		ret = ucs_err(st, "ucp_ep_create (server)", why, len);
		goto out;
	}
	unsigned spins = 0;
	while (!s->failed) {
		unsigned work = p_ucp_worker_progress(s->worker);
		while (s->qlen && ret == 0) {
			unsigned i = s->qhead;
			ret = send_reply(s, AM_PONG, s->queue + (size_t)i * MAX_LEN, s->qlens[i]);
			s->qhead = (s->qhead + 1) % SLOTS;
			s->qlen--;
			work++;
		}
		if (s->fins) {
			s->fins = 0;
			uint64_t n = s->streamed;
			s->streamed = 0;
			ret = send_reply(s, AM_COUNT, &n, sizeof(n));
			work++;
		}
		if (ret < 0)
			break;
		if (work)
			spins = 0;
		else if (s->wakeup)
			idle(s, 100);
		else
			backoff(&spins);
	}
	ret = 0; /* the client closed */
out:
	if (s)
		side_close(s);
	free(s);
tell:
	if (rec.status == 0 && ret < 0) { /* the client waits for a word */
		rec.status = ret;
		if (write(fd, &rec, sizeof(rec)) < 0)
			ret = -EIO;
	}
	return ret;
}

/* ---- client ---------------------------------------------------------------------------- */

struct ucx_floor {
	struct side s;
	unsigned inflight;
	char lanes[48];
};

int ucx_floor_connect(const char *address, bool peer_errors, struct ucx_floor **out, char *why,
		      size_t len)
{
	struct ucx_floor *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(why, len, "ucx floor: out of memory");
		return -ENOMEM;
	}
	struct side *s = &f->s;
	int ret = side_open(s, why, len);
	if (ret < 0)
		goto fail;
	char host[64];
	snprintf(host, sizeof(host), "%s", address);
	char *colon = strrchr(host, ':');
	if (!colon) {
		snprintf(why, len, "ucx floor: address %s", address);
		ret = -EINVAL;
		goto fail;
	}
	*colon = '\0';
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)atoi(colon + 1)) };
	inet_pton(AF_INET, host, &sin.sin_addr);
	ucp_ep_params_t ep = {
		.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
			      UCP_EP_PARAM_FIELD_ERR_HANDLER | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
		.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
		.sockaddr = { .addr = (const struct sockaddr *)&sin, .addrlen = sizeof(sin) },
		.err_mode = peer_errors ? UCP_ERR_HANDLING_MODE_PEER : UCP_ERR_HANDLING_MODE_NONE,
		.err_handler = { .cb = ep_error, .arg = s },
	};
	ucs_status_t st = p_ucp_ep_create(s->worker, &ep, &s->ep);
	if (st != UCS_OK) {
		s->ep = NULL;
		ret = ucs_err(st, "ucp_ep_create", why, len);
		goto fail;
	}
	/* One ping-pong: the wire-up is done when it comes back. */
	uint8_t b[8] = { 0 };
	if ((ret = am_send(s, AM_PING, b, sizeof(b), &f->inflight)) < 0)
		goto fail;
	uint64_t end = now_ns() + 10000000000ull;
	while (!s->pongs && !s->failed && now_ns() < end)
		p_ucp_worker_progress(s->worker);
	if (!s->pongs) {
		snprintf(why, len, "ucx floor: the server did not answer");
		ret = -ETIMEDOUT;
		goto fail;
	}
	s->pongs = 0;
	ucx_floor_lanes(f, f->lanes, sizeof(f->lanes));
	*out = f;
	return 0;
fail:
	side_close(s);
	free(f);
	return ret;
}

/* The transports of the endpoint's AM lane, from ucp_ep_print_info(), as
 * "tcp/lo" or "posix/memory". */
void ucx_floor_lanes(struct ucx_floor *f, char *buf, size_t len)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	snprintf(buf, len, "?");
	if (!m)
		return;
	p_ucp_ep_print_info(f->s.ep, m);
	fclose(m);
	/* a line like "#   lane[0]:  1:posix/memory.0 md[1]  ... am am_bw#0" */
	size_t used = 0;
	buf[0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "lane[") || !strstr(line, " am"))
			continue;
		char *colon = strstr(line, "]:");
		if (!colon)
			continue;
		char *t = strchr(colon + 2, ':');
		if (!t)
			continue;
		t++;
		size_t n = strcspn(t, " .");
		if (strstr(line, " am ") || strstr(line, " am_bw")) {
			if (used && used + 1 < len)
				buf[used++] = '+', buf[used] = '\0';
			int w = snprintf(buf + used, len - used, "%.*s", (int)n, t);
			if (w > 0)
				used += (size_t)w < len - used ? (size_t)w : len - used - 1;
		}
	}
	if (!buf[0])
		snprintf(buf, len, "?");
	free(text);
}

const char *ucx_floor_am_lanes(const struct ucx_floor *f)
{
	return f->lanes;
}

static int set_mode(struct ucx_floor *f, bool wakeup)
{
	static uint32_t mode[2] = { 0, 1 };
	return am_send(&f->s, AM_MODE, &mode[wakeup], sizeof(uint32_t), &f->inflight);
}

int ucx_floor_pingpong(struct ucx_floor *f, const struct bopts *o, uint32_t payload, bool wakeup,
		       struct hist *h)
{
	struct side *s = &f->s;
	static uint8_t buf[MAX_LEN];
	if (payload > MAX_LEN)
		return -EINVAL;
	int ret = set_mode(f, wakeup);
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	while (ret == 0 && t0 < end) {
		s->pongs = 0;
		if ((ret = am_send(s, AM_PING, buf, payload, &f->inflight)) < 0)
			break;
		unsigned spins = 0;
		while (!s->pongs && !s->failed) {
			if (p_ucp_worker_progress(s->worker) || s->pongs)
				continue;
			if (wakeup)
				idle(s, 1000);
			else
				backoff(&spins); /* a yield now and then, as every floor here */
		}
		if (s->failed) {
			ret = -EPIPE;
			break;
		}
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	if (ret == 0)
		ret = set_mode(f, false);
	return ret;
}

/* Progress until *v <= max (inflight) or failure: 0 or -EPIPE. */
static int progress_down(struct side *s, const unsigned *v, unsigned max)
{
	while (*v > max && !s->failed)
		p_ucp_worker_progress(s->worker);
	return s->failed ? -EPIPE : 0;
}

int ucx_floor_stream(struct ucx_floor *f, const struct bopts *o, uint32_t payload, double *mps)
{
	struct side *s = &f->s;
	static uint8_t buf[MAX_LEN]; /* never written: every send may use it */
	if (payload > MAX_LEN)
		return -EINVAL;
	uint64_t sent = 0;
	int ret = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	while (ret == 0) {
		for (unsigned i = 0; i < 64 && ret == 0; i++, sent++)
			ret = am_send(s, AM_STREAM, buf, payload, &f->inflight);
		p_ucp_worker_progress(s->worker);
		/* what UCX could not put on the wire at once waits here */
		if (f->inflight > SLOTS)
			ret = progress_down(s, &f->inflight, SLOTS / 2);
		if (now_ns() >= end)
			break;
	}
	s->counted = 0;
	if (ret == 0 && (ret = am_send(s, AM_FIN, buf, 8, &f->inflight)) == 0)
		while (!s->counted && !s->failed)
			p_ucp_worker_progress(s->worker);
	if (ret == 0 && s->failed)
		ret = -EPIPE;
	double secs = (double)(now_ns() - t0) / 1e9;
	if (ret == 0 && s->count != sent)
		fprintf(stderr, "rk-bench: ucx stream: %llu sent, %llu arrived\n",
			(unsigned long long)sent, (unsigned long long)s->count);
	*mps = (double)s->count / secs;
	return ret;
}

int ucx_floor_echo(struct ucx_floor *f, const struct bopts *o, uint32_t payload, unsigned batch,
		   unsigned window, double *mps)
{
	struct side *s = &f->s;
	static uint8_t buf[MAX_LEN];
	if (payload > MAX_LEN)
		return -EINVAL;
	if (window > SLOTS)
		window = SLOTS;
	uint64_t sent = 0;
	int ret = 0;
	s->pongs = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	for (;;) {
		bool stop = now_ns() >= end;
		if (stop && s->pongs == sent)
			break;
		if (!stop && sent - s->pongs + batch <= window)
			for (unsigned i = 0; i < batch && ret == 0; i++, sent++)
				ret = am_send(s, AM_PING, buf, payload, &f->inflight);
		if (ret < 0)
			break;
		p_ucp_worker_progress(s->worker);
		if (s->failed) {
			ret = -EPIPE;
			break;
		}
	}
	*mps = (double)s->pongs / ((double)(now_ns() - t0) / 1e9);
	return ret;
}

void ucx_floor_close(struct ucx_floor *f)
{
	if (!f)
		return;
	progress_down(&f->s, &f->inflight, 0);
	side_close(&f->s);
	free(f);
}
