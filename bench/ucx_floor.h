/* SPDX-License-Identifier: MIT */
/*
 * ucx_floor.h - UCX's own active-message floor for the remote scenario
 * (bench/ucx_floor.c, compiled when configure found UCX; libucp is opened
 * with dlopen() on first use). Every call returns 0 or a negative errno,
 * with why (a line) where it takes one.
 */
#ifndef RK_BENCH_UCX_FLOOR_H
#define RK_BENCH_UCX_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bopts;
struct hist;
struct ucx_floor;

/* What a server tells its client on a pipe: status 0 with the address it
 * listens on ("127.0.0.1:PORT"), or a negative errno with the reason. */
struct floor_rec {
	int32_t status;
	char text[252];
};

/* Server: listen on 127.0.0.1:0, write a floor_rec to fd, then answer one
 * client until it closes its endpoint. peer_errors: endpoints with
 * UCP_ERR_HANDLING_MODE_PEER, as the transport plugin's; else NONE. */
int ucx_floor_serve(int fd, bool peer_errors);

/* Client: connect to the server at address; the first ping-pong finishes
 * the wire-up before it returns. */
int ucx_floor_connect(const char *address, bool peer_errors, struct ucx_floor **out, char *why,
		      size_t len);
/* The transports of the endpoint's AM lanes, "tcp/lo" or "posix/memory". */
void ucx_floor_lanes(struct ucx_floor *f, char *buf, size_t len);
const char *ucx_floor_am_lanes(const struct ucx_floor *f);
/* Closed-loop ping-pong of `payload` bytes; wakeup: both sides sleep on
 * the worker's event fd when idle, else both busy-poll. */
int ucx_floor_pingpong(struct ucx_floor *f, const struct bopts *o, uint32_t payload, bool wakeup,
		       struct hist *h);
/* One-way AMs for o->duration; messages/s as the server counted them. */
int ucx_floor_stream(struct ucx_floor *f, const struct bopts *o, uint32_t payload, double *mps);
/* Echoed AMs, sent in bursts of `batch`, up to `window` in flight. */
int ucx_floor_echo(struct ucx_floor *f, const struct bopts *o, uint32_t payload, unsigned batch,
		   unsigned window, double *mps);
void ucx_floor_close(struct ucx_floor *f);

#endif
