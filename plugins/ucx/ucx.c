/* SPDX-License-Identifier: MIT */
/*
 * rk-transport-ucx.so: frames over UCP active messages.
 *
 * One UCP context and worker per rk_transport context, single-threaded
 * (the runtime calls everything on its progress thread). Every frame is one
 * active message (id RK_UCX_AM_ID), eager, with the reply flag so the
 * receiver learns which endpoint it came on; the frame travels as the AM
 * data, and the transport never looks inside it. Endpoints use
 * UCP_ERR_HANDLING_MODE_PEER: a peer that dies or closes fails its
 * endpoint, and that is the connection's failed().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ucp/api/ucp.h>

#include <ringkernel/plugin.h>
#include <ringkernel/transport.h>

#define RK_UCX_AM_ID 0x524b /* "RK" */

struct conn;

struct ctx {
	const struct rk_transport_events *ev;
	void *node;
	ucp_context_h uctx;
	ucp_worker_h worker;
	ucp_listener_h listener;
	int efd;
	struct conn *conns;
};

struct conn {
	struct ctx *c;
	struct conn *next;
	ucp_ep_h ep;
	void *arg;  /* the runtime's; NULL until accepted() answered */
	int failed; /* failed() was called, or is due */
	int fail_err;
	int accepting; /* created from a connection request */
};

static int ucs_errno(ucs_status_t s)
{
	switch (s) {
	case UCS_OK: return 0;
	case UCS_ERR_NO_MEMORY: return -ENOMEM;
	case UCS_ERR_INVALID_PARAM: return -EINVAL;
	case UCS_ERR_UNREACHABLE: return -EHOSTUNREACH;
	case UCS_ERR_INVALID_ADDR: return -EADDRNOTAVAIL;
	case UCS_ERR_BUSY: return -EADDRINUSE;
	case UCS_ERR_TIMED_OUT: return -ETIMEDOUT;
	case UCS_ERR_REJECTED: return -ECONNREFUSED;
	case UCS_ERR_CONNECTION_RESET: return -ECONNRESET;
	case UCS_ERR_ENDPOINT_TIMEOUT: return -ETIMEDOUT;
	case UCS_ERR_CANCELED: return -ECANCELED;
	case UCS_ERR_UNSUPPORTED: return -ENOTSUP;
	default: return -EPIPE;
	}
}

/* "host:port" into a socket address (IPv4 or IPv6, numeric or a name). */
static int parse_address(const char *address, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = address ? strrchr(address, ':') : NULL;
	if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host))
		return rk_error(-EINVAL, "ucx: address \"%s\" is not host:port",
				address ? address : "(null)");
	const char *port = colon + 1;
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || p > 65535)
		return rk_error(-EINVAL, "ucx: address \"%s\": port is not 0..65535", address);
	size_t n = (size_t)(colon - address);
	const char *h = address;
	if (h[0] == '[' && n >= 2 && h[n - 1] == ']') { /* [v6]:port */
		h++;
		n -= 2;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0)
		return rk_error(-EADDRNOTAVAIL, "ucx: address \"%s\": %s", address,
				gai_strerror(gai));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int format_address(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		return snprintf(buf, len, "%s:%u", host, port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		return snprintf(buf, len, "[%s]:%u", host, port);
	}
	return rk_error(-EAFNOSUPPORT, "ucx: listener has no IP address");
}

/* ---- connections ------------------------------------------------------------- */

static void ep_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
	(void)ep;
	struct conn *cn = arg;
	if (!cn->failed) {
		cn->failed = 1;
		cn->fail_err = ucs_errno(status);
		if (cn->fail_err == 0 || cn->fail_err == -ENOTSUP)
			cn->fail_err = -EPIPE;
	}
}

static struct conn *conn_new(struct ctx *c)
{
	struct conn *cn = calloc(1, sizeof(*cn));
	if (!cn)
		return NULL;
	cn->c = c;
	cn->next = c->conns;
	c->conns = cn;
	return cn;
}

static void conn_unlink(struct conn *cn)
{
	struct conn **pp = &cn->c->conns;
	while (*pp && *pp != cn)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cn->next;
}

/* Close an endpoint and wait for the close to finish (a force close of a
 * failed one finishes at once). */
static void ep_close(struct ctx *c, ucp_ep_h ep, int force)
{
	ucp_request_param_t p = { .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
				  .flags = force ? UCP_EP_CLOSE_FLAG_FORCE : 0 };
	ucs_status_ptr_t r = ucp_ep_close_nbx(ep, &p);
	if (UCS_PTR_IS_PTR(r)) {
		for (int i = 0; i < 100000 && ucp_request_check_status(r) == UCS_INPROGRESS; i++)
			ucp_worker_progress(c->worker);
		ucp_request_free(r);
	}
}

static void conn_free(struct conn *cn)
{
	conn_unlink(cn);
	if (cn->ep)
		ep_close(cn->c, cn->ep, 1);
	free(cn);
}

static void on_conn_request(ucp_conn_request_h req, void *arg)
{
	struct ctx *c = arg;
	struct conn *cn = conn_new(c);
	if (!cn) {
		ucp_listener_reject(c->listener, req);
		return;
	}
	ucp_ep_params_t ep = {
		.field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST | UCP_EP_PARAM_FIELD_ERR_HANDLER |
			      UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
		.conn_request = req,
		.err_mode = UCP_ERR_HANDLING_MODE_PEER,
		.err_handler = { .cb = ep_error, .arg = cn },
	};
	if (ucp_ep_create(c->worker, &ep, &cn->ep) != UCS_OK) {
		cn->ep = NULL;
		conn_unlink(cn);
		free(cn);
		return;
	}
	cn->accepting = 1;
	cn->arg = c->ev->accepted(c->node, cn);
	if (!cn->arg)
		conn_free(cn);
}

static ucs_status_t on_am(void *arg, const void *header, size_t header_length, void *data,
			  size_t length, const ucp_am_recv_param_t *param)
{
	(void)header;
	(void)header_length;
	struct ctx *c = arg;
	struct conn *cn = NULL;
	if (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP)
		for (cn = c->conns; cn && cn->ep != param->reply_ep; cn = cn->next)
			;
	if (!cn || cn->failed || !cn->arg)
		return UCS_OK; /* a connection already closed here: dropped */
	if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
		/* Frames are sent eager: a rendezvous one is not ours. */
		cn->failed = 1;
		cn->fail_err = -EPROTO;
		return UCS_OK;
	}
	c->ev->received(cn->arg, data, length);
	return UCS_OK;
}

/* ---- ops ------------------------------------------------------------------------ */

/* The transport/device pairs a context gets here (UCX_TLS applied), from
 * ucp_context_print_info()'s "resource" lines, as `ucx_info -d` lists them. */
static void list_resources(char *out, size_t len)
{
	out[0] = '\0';
	ucp_config_t *cfg;
	ucp_context_h uctx;
	if (ucp_config_read(NULL, NULL, &cfg) != UCS_OK)
		return;
	ucp_params_t p = { .field_mask = UCP_PARAM_FIELD_FEATURES, .features = UCP_FEATURE_AM };
	ucs_status_t s = ucp_init(&p, cfg, &uctx);
	ucp_config_release(cfg);
	if (s != UCS_OK)
		return;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (f) {
		ucp_context_print_info(uctx, f);
		fclose(f);
	}
	size_t pos = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *dash = strstr(line, "flags -- ");
		if (!strstr(line, "resource") || !dash)
			continue;
		int w = snprintf(out + pos, len - pos, "%s%s", pos ? " " : "", dash + 9);
		if (w < 0 || (size_t)w >= len - pos)
			break;
		pos += (size_t)w;
	}
	free(text);
	ucp_cleanup(uctx);
}

static int t_describe(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	char res[400];
	list_resources(res, sizeof(res));
	const char *tls = getenv("UCX_TLS");
	return snprintf(buf, len, "UCX %s, active messages; UCX_TLS=%s; resources: %s",
			ucp_get_version_string(), tls && *tls ? tls : "(unset: all)",
			res[0] ? res : "none");
}

static int t_open(const struct rk_transport_events *ev, void *node, void **out)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return rk_error(-ENOMEM, "ucx: out of memory");
	c->ev = ev;
	c->node = node;
	c->efd = -1;
	ucp_config_t *cfg;
	ucs_status_t s = ucp_config_read(NULL, NULL, &cfg);
	if (s != UCS_OK) {
		free(c);
		return rk_error(ucs_errno(s), "ucx: ucp_config_read: %s", ucs_status_string(s));
	}
	ucp_params_t p = {
		.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_NAME,
		.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP,
		.name = "ringkernel",
	};
	s = ucp_init(&p, cfg, &c->uctx);
	ucp_config_release(cfg);
	if (s != UCS_OK) {
		free(c);
		return rk_error(ucs_errno(s), "ucx: ucp_init: %s", ucs_status_string(s));
	}
	ucp_worker_params_t wp = { .field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
				   .thread_mode = UCS_THREAD_MODE_SINGLE };
	s = ucp_worker_create(c->uctx, &wp, &c->worker);
	if (s != UCS_OK) {
		ucp_cleanup(c->uctx);
		free(c);
		return rk_error(ucs_errno(s), "ucx: ucp_worker_create: %s", ucs_status_string(s));
	}
	ucp_am_handler_param_t h = {
		.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
			      UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG,
		.id = RK_UCX_AM_ID,
		.flags = UCP_AM_FLAG_WHOLE_MSG,
		.cb = on_am,
		.arg = c,
	};
	if ((s = ucp_worker_set_am_recv_handler(c->worker, &h)) != UCS_OK ||
	    (s = ucp_worker_get_efd(c->worker, &c->efd)) != UCS_OK) {
		ucp_worker_destroy(c->worker);
		ucp_cleanup(c->uctx);
		free(c);
		return rk_error(ucs_errno(s), "ucx: worker setup: %s", ucs_status_string(s));
	}
	*out = c;
	return 0;
}

static void t_close(void *ctx)
{
	struct ctx *c = ctx;
	while (c->conns)
		conn_free(c->conns);
	if (c->listener)
		ucp_listener_destroy(c->listener);
	ucp_worker_destroy(c->worker);
	ucp_cleanup(c->uctx);
	free(c);
}

static int t_listen(void *ctx, const char *address)
{
	struct ctx *c = ctx;
	if (c->listener)
		return rk_error(-EALREADY, "ucx: this context listens already");
	struct sockaddr_storage ss;
	socklen_t len;
	int ret = parse_address(address, &ss, &len);
	if (ret < 0)
		return ret;
	ucp_listener_params_t lp = {
		.field_mask =
			UCP_LISTENER_PARAM_FIELD_SOCK_ADDR | UCP_LISTENER_PARAM_FIELD_CONN_HANDLER,
		.sockaddr = { .addr = (const struct sockaddr *)&ss, .addrlen = len },
		.conn_handler = { .cb = on_conn_request, .arg = c },
	};
	ucs_status_t s = ucp_listener_create(c->worker, &lp, &c->listener);
	if (s != UCS_OK) {
		c->listener = NULL;
		return rk_error(ucs_errno(s), "ucx: listen on %s: %s", address,
				ucs_status_string(s));
	}
	return 0;
}

static int t_listen_address(void *ctx, char *buf, size_t len)
{
	struct ctx *c = ctx;
	if (!c->listener)
		return rk_error(-ENOTCONN, "ucx: not listening");
	ucp_listener_attr_t a = { .field_mask = UCP_LISTENER_ATTR_FIELD_SOCKADDR };
	ucs_status_t s = ucp_listener_query(c->listener, &a);
	if (s != UCS_OK)
		return rk_error(ucs_errno(s), "ucx: ucp_listener_query: %s", ucs_status_string(s));
	int n = format_address(&a.sockaddr, buf, len);
	return n < 0 ? n
		     : ((size_t)n >= len ? rk_error(-ENOSPC, "ucx: address buffer too small") : 0);
}

static int t_connect(void *ctx, const char *address, void *arg, void **out)
{
	struct ctx *c = ctx;
	struct sockaddr_storage ss;
	socklen_t len;
	int ret = parse_address(address, &ss, &len);
	if (ret < 0)
		return ret;
	struct conn *cn = conn_new(c);
	if (!cn)
		return rk_error(-ENOMEM, "ucx: out of memory");
	cn->arg = arg;
	ucp_ep_params_t ep = {
		.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
			      UCP_EP_PARAM_FIELD_ERR_HANDLER | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
		.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
		.sockaddr = { .addr = (const struct sockaddr *)&ss, .addrlen = len },
		.err_mode = UCP_ERR_HANDLING_MODE_PEER,
		.err_handler = { .cb = ep_error, .arg = cn },
	};
	ucs_status_t s = ucp_ep_create(c->worker, &ep, &cn->ep);
	if (s != UCS_OK) {
		cn->ep = NULL;
		conn_unlink(cn);
		free(cn);
		return rk_error(ucs_errno(s), "ucx: connect to %s: %s", address,
				ucs_status_string(s));
	}
	*out = cn;
	return 0;
}

static void send_done(void *request, ucs_status_t status, void *user_data)
{
	(void)status;
	free(user_data);
	ucp_request_free(request);
}

static int t_send(void *conn, const void *frame, size_t len)
{
	struct conn *cn = conn;
	if (cn->failed)
		return rk_error(-EPIPE, "ucx: the connection failed");
	/* The data must stay valid until the send completes: a copy, freed
	 * by the completion (or now, when it completed inline). */
	void *copy = malloc(len ? len : 1);
	if (!copy)
		return rk_error(-ENOMEM, "ucx: out of memory");
	memcpy(copy, frame, len);
	ucp_request_param_t p = {
		.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
				UCP_OP_ATTR_FIELD_FLAGS,
		.cb.send = send_done,
		.user_data = copy,
		.flags = UCP_AM_SEND_FLAG_EAGER | UCP_AM_SEND_FLAG_REPLY,
	};
	ucs_status_ptr_t r = ucp_am_send_nbx(cn->ep, RK_UCX_AM_ID, NULL, 0, copy, len, &p);
	if (UCS_PTR_IS_PTR(r))
		return 0; /* send_done frees it */
	free(copy);
	ucs_status_t s = UCS_PTR_STATUS(r);
	if (s != UCS_OK) {
		if (!cn->failed) {
			cn->failed = 1;
			cn->fail_err = -EPIPE;
		}
		return rk_error(-EPIPE, "ucx: send: %s", ucs_status_string(s));
	}
	return 0;
}

static void t_disconnect(void *conn)
{
	conn_free(conn);
}

static int t_fd(void *ctx)
{
	return ((struct ctx *)ctx)->efd;
}

/* Failures are reported here, outside UCX's callbacks, so the runtime may
 * disconnect from inside failed(). */
static int report_failures(struct ctx *c)
{
	int n = 0;
	for (struct conn *cn = c->conns, *next; cn; cn = next) {
		next = cn->next;
		if (cn->failed == 1 && cn->arg) {
			cn->failed = 2;
			n++;
			c->ev->failed(cn->arg, cn->fail_err);
			return n; /* the list may have changed: the caller loops */
		}
	}
	return n;
}

static int t_progress(void *ctx)
{
	struct ctx *c = ctx;
	int n = 0;
	while (ucp_worker_progress(c->worker))
		n++;
	int f;
	while ((f = report_failures(c)) > 0)
		n += f;
	return n;
}

static int t_arm(void *ctx)
{
	struct ctx *c = ctx;
	for (struct conn *cn = c->conns; cn; cn = cn->next)
		if (cn->failed == 1 && cn->arg)
			return -EAGAIN;
	ucs_status_t s = ucp_worker_arm(c->worker);
	if (s == UCS_ERR_BUSY)
		return -EAGAIN;
	return s == UCS_OK ? 0 : rk_error(ucs_errno(s), "ucx: arm: %s", ucs_status_string(s));
}

static const struct rk_transport_ops ops = {
	.struct_size = sizeof(struct rk_transport_ops),
	.open = t_open,
	.close = t_close,
	.describe = t_describe,
	.listen = t_listen,
	.listen_address = t_listen_address,
	.connect = t_connect,
	.send = t_send,
	.disconnect = t_disconnect,
	.fd = t_fd,
	.progress = t_progress,
	.arm = t_arm,
};

static const struct rk_transport transport = {
	.abi_major = RK_TRANSPORT_ABI_MAJOR,
	.abi_minor = RK_TRANSPORT_ABI_MINOR,
	.struct_size = sizeof(struct rk_transport),
	.name = "ucx",
	.version = PACKAGE_VERSION,
	.ops = &ops,
};

__attribute__((visibility("default"))) const struct rk_transport *rk_transport_entry(void);
const struct rk_transport *rk_transport_entry(void)
{
	return &transport;
}
