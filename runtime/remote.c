/* SPDX-License-Identifier: MIT */
/*
 * Kernels of other hosts: rk_runtime_listen(), rk_attach_remote() and
 * rk_kernel_connect_remote(), over a transport plugin
 * (ringkernel/transport.h; rk-transport-ucx.so).
 *
 * A node is one transport context and the thread that drives it (the
 * progress thread): one per listening or routing runtime, one per remote
 * handle. It owns every connection and is the only thread that touches
 * the transport. It sleeps in poll() on three descriptors: the transport's
 * (ucp_worker_get_efd), the reactor's (an eventfd that turns readable when
 * a local ring it drains has data: runtime/reactor.h) and its own eventfd
 * for commands. No thread spins while idle.
 *
 * The protocol, per connection, in order:
 *   client -> HELLO (mode attach or route, runtime and kernel names, the
 *             reply credits it grants)
 *   server -> WELCOME (0 or a negative errno with the reason; the kernel's
 *             id, max payload, state, the client's tag, request credits)
 *   then both ways MSGS (a batch of messages: the 64-byte slot header and
 *   the payload of each), CREDIT (n slots freed) and, server to client,
 *   STATE (the kernel's lifecycle state).
 * Credits make backpressure end to end: a sender holds at most `credits`
 * messages the other side has not yet placed in its ring, so a full ring
 * at the far end stalls the sender's ring here, and nothing is dropped. A
 * message is placed in a remote kernel's input ring unchanged (id,
 * correlation, flags, HLC), so calls, replies and clocks work across
 * hosts as they do locally.
 *
 * Remote attach: the server side is an rk_attach() of its own runtime's
 * kernel, in process; replies come back through that client's reply ring.
 * Remote route: the sending kernel writes into a ring of this process (its
 * route j, bound like any K2K route); the node drains it to the server,
 * which places the messages in the receiver's input ring with their
 * source kept.
 *
 * Failure: a connection that fails (the peer died, the network went, a
 * malformed frame) ends the handle or closes the route. Every message
 * sent and not yet placed by the peer, and every message still in the
 * local ring, comes back to its sender flagged RK_MSG_F_UNDELIVERED;
 * blocked calls of a remote handle return -EPIPE.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ringkernel/plugin.h>
#include <ringkernel/transport.h>

#include "../shm/sys.h"
#include "internal.h"
#include "log.h"
#include "plugin_loader.h"
#include "reactor.h"

#define FRAME_MAGIC    0x314b5246u /* "FRK1" */
#define PROTO_VERSION  1u
#define FRAME_MAX      (64u * 1024u)
#define BATCH_MAX      64u
#define SERVER_CREDITS 256u /* requests a server takes ahead of its kernel */
#define CLIENT_CREDITS 256u /* replies a remote handle takes ahead of its reader */
#define HANDLE_SLOTS   256u
#define HELLO_TIMEOUT  5000000000ull

enum { F_HELLO = 1, F_WELCOME, F_MSGS, F_CREDIT, F_STATE };
enum { MODE_ATTACH = 1, MODE_ROUTE = 2 };
enum { C_ATTACH, C_ROUTE, S_NEW, S_ATTACH, S_ROUTE };

struct frame_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t count; /* MSGS: messages in the frame */
	uint32_t len;	/* the whole frame */
	uint32_t arg;	/* CREDIT: slots; STATE: the state */
};

struct hello {
	uint32_t version, mode, credits, pad;
	uint64_t from_id;
	char runtime[RK_NAME_MAX];
	char kernel[RK_NAME_MAX];
};

struct welcome {
	int32_t status;
	uint32_t credits;
	uint64_t kernel_id, tag;
	uint32_t max_payload, state;
	char registry[RK_NAME_MAX];
	char why[192];
};

/* A FIFO of messages, fixed capacity. */
struct mq {
	rk_message *v;
	unsigned head, len, cap;
};

struct rconn {
	struct rki_node *node;
	struct rconn *next;
	void *t; /* the transport's connection */
	int kind;
	int failed; /* 0, or the negative errno it failed with */
	bool dead;  /* failure handled: only draining what is left */
	bool welcomed;
	struct welcome w;
	uint32_t credits; /* messages this side may still send */
	uint32_t credits_max;
	uint32_t owed; /* slots freed here, not yet told the peer */
	uint32_t sent_state;
	struct mq pend;	    /* received, not yet placed in the local ring */
	struct mq fly;	    /* sent, not yet placed by the peer (clients) */
	struct mq back;	    /* remote handle, failed: undelivered, to its reply ring */
	struct rk_ring src; /* the ring this side drains, when src_ok */
	bool src_ok;
	struct rk_ring *watch; /* what the node's reactor watches for it */
	struct rk_ring dst;    /* the ring it fills (remote handle: k->out) */
	rk_kernel *k;	       /* handle, sender, server's attach handle or target */
	unsigned route;	       /* C_ROUTE: the sender's route index */
	void *ring_mem;	       /* C_ROUTE: the route ring (freed with the sender) */
	uint8_t *frame;	       /* outbound batch under construction */
	size_t flen;
	unsigned fcount;
};

enum { OP_LISTEN, OP_CONNECT, OP_ROUTE_READY, OP_FORGET, OP_CLOSE };

struct rcmd {
	int op;
	const char *addr;
	struct rconn *c;
	const rk_kernel *k;
	int ret;
	bool done;
	char why[256];
	struct rcmd *next;
};

struct rki_node {
	const struct rk_transport *tp;
	void *dl;
	void *t;
	rk_runtime *rt; /* the runtime it serves; NULL for a remote handle's */
	pthread_t thread;
	bool started;
	int wake;
	struct rki_reactor *reactor;
	int rfd;
	pthread_mutex_t lock; /* commands; connection setup for waiters */
	pthread_cond_t cond;
	struct rcmd *cmds;
	uint32_t stop;
	struct rconn *conns; /* the thread's */
	bool listening;
	uint32_t sleeping; /* atomic: about to sleep or asleep in poll() */
	char addr[128];
	rk_message scratch;
};

/* ---- loading the transport --------------------------------------------------------- */

static int load_transport(struct rki_node *n, const char *name)
{
	char path[4096];
	int ret = rki_transport_open(name, &n->dl, path, sizeof(path));
	if (ret < 0)
		return ret;
	void *sym = dlsym(n->dl, RK_TRANSPORT_ENTRY);
	rk_transport_entry_fn entry;
	if (!sym) {
		dlclose(n->dl);
		n->dl = NULL;
		return rk_error(-ENOEXEC, "transport %s: no %s symbol", path, RK_TRANSPORT_ENTRY);
	}
	memcpy(&entry, &sym, sizeof(entry));
	const struct rk_transport *tp = entry();
	const struct rk_transport_ops *o = tp ? tp->ops : NULL;
	if (!tp || tp->abi_major != RK_TRANSPORT_ABI_MAJOR ||
	    tp->struct_size < sizeof(struct rk_transport) || !o ||
	    o->struct_size < sizeof(struct rk_transport_ops) || !tp->name ||
	    strcmp(tp->name, name) != 0 || !o->open || !o->close || !o->listen ||
	    !o->listen_address || !o->connect || !o->send || !o->disconnect || !o->fd ||
	    !o->progress || !o->arm) {
		dlclose(n->dl);
		n->dl = NULL;
		return rk_error(-EPROTO,
				"transport %s: not a transport of ABI %u with every op (it says "
				"ABI %u, name \"%s\")",
				path, RK_TRANSPORT_ABI_MAJOR, tp ? tp->abi_major : 0,
				tp && tp->name ? tp->name : "(null)");
	}
	n->tp = tp;
	return 0;
}

int rk_transport_describe(const char *name, char *buf, size_t len)
{
	rki_log_init();
	if (!name || !buf || len == 0)
		return rk_error(-EINVAL, "rk_transport_describe: NULL name or buffer");
	struct rki_node n = { 0 };
	int ret = load_transport(&n, name);
	if (ret < 0)
		return ret;
	if (n.tp->ops->describe)
		n.tp->ops->describe(NULL, buf, len);
	else
		snprintf(buf, len, "%s", n.tp->version ? n.tp->version : "");
	dlclose(n.dl);
	return 0;
}

/* ---- message queues ---------------------------------------------------------------- */

static int mq_init(struct mq *q, unsigned cap)
{
	q->v = calloc(cap ? cap : 1, sizeof(*q->v));
	q->head = q->len = 0;
	q->cap = cap;
	return q->v ? 0 : -ENOMEM;
}

static rk_message *mq_at(struct mq *q, unsigned i)
{
	return &q->v[(q->head + i) % q->cap];
}

static rk_message *mq_push(struct mq *q)
{
	if (q->len == q->cap)
		return NULL;
	return &q->v[(q->head + q->len++) % q->cap];
}

static void mq_pop(struct mq *q, unsigned n)
{
	q->head = (q->head + n) % (q->cap ? q->cap : 1);
	q->len -= n;
}

/* ---- frames ------------------------------------------------------------------------ */

static int send_frame(struct rconn *c, uint16_t type, uint32_t arg, const void *body, size_t len)
{
	uint8_t buf[sizeof(struct frame_hdr) + 512];
	if (len > sizeof(buf) - sizeof(struct frame_hdr))
		return -EINVAL;
	struct frame_hdr h = { FRAME_MAGIC, type, 0, (uint32_t)(sizeof(h) + len), arg };
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	return c->node->tp->ops->send(c->t, buf, sizeof(h) + len);
}

static size_t msg_wire_size(uint32_t len)
{
	return RK_MSG_HDR_SIZE + ((len + 7u) & ~7u);
}

/* Append one message to the batch being built. */
static void frame_add(struct rconn *c, const rk_message *m)
{
	if (c->fcount == 0)
		c->flen = sizeof(struct frame_hdr);
	/* A message on the wire is a slot sized to it (len fits: frame_room). */
	uint32_t size = (uint32_t)msg_wire_size(m->len);
	rk_msg_write(c->frame + c->flen, size, m);
	c->flen += size;
	c->fcount++;
}

static bool frame_room(const struct rconn *c, uint32_t len)
{
	size_t used = c->fcount ? c->flen : sizeof(struct frame_hdr);
	return c->fcount < BATCH_MAX && used + msg_wire_size(len) <= FRAME_MAX;
}

static int frame_flush(struct rconn *c)
{
	if (!c->fcount)
		return 0;
	/* The credits owed ride along: one message less each way. */
	struct frame_hdr h = { FRAME_MAGIC, F_MSGS, (uint16_t)c->fcount, (uint32_t)c->flen,
			       c->owed };
	memcpy(c->frame, &h, sizeof(h));
	int ret = c->node->tp->ops->send(c->t, c->frame, c->flen);
	if (ret == 0)
		c->owed = 0;
	c->fcount = 0;
	c->flen = sizeof(h);
	return ret;
}

/* ---- failure --------------------------------------------------------------------------- */

/* Wake every thread parked on either side of a ring. */
static void wake_ring(struct rk_ring_hdr *h)
{
	__atomic_add_fetch(&h->cons_bell, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(&h->cons_bell);
	__atomic_add_fetch(&h->prod_bell, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(&h->prod_bell);
}

/* One message back to its sender, flagged undelivered. */
static void give_back(struct rconn *c, const rk_message *m)
{
	rki_kernel_return_undelivered(c->k, m);
	if (c->kind == C_ROUTE)
		__atomic_add_fetch(&c->k->remote_returned[c->route], 1, __ATOMIC_RELEASE);
}

/* Everything sent and not yet placed by the peer, back to its sender. */
static void give_back_flying(struct rconn *c)
{
	for (unsigned i = 0; i < c->fly.len; i++)
		give_back(c, mq_at(&c->fly, i));
	mq_pop(&c->fly, c->fly.len);
}

static int place_replies(struct rconn *c);

/* A failed remote handle: what its senders left and what the far end
 * never placed, into its reply ring as room appears; the handle reads as
 * gone once all of it is there. */
static void return_to_reader(struct rconn *c)
{
	uint64_t idx;
	while (c->src_ok && c->back.len < c->back.cap && rk_ring_peek(&c->src, 1, &idx) == 1) {
		rk_message *m = mq_push(&c->back);
		if (rk_msg_read(rk_ring_slot(&c->src, idx), c->src.slot_size, m) < 0)
			c->back.len--;
		rk_ring_release(&c->src, 1);
	}
	while (c->back.len && rk_ring_reserve(&c->dst, 1, &idx) == 1) {
		rk_message *m = mq_at(&c->back, 0);
		m->flags |= RK_MSG_F_UNDELIVERED;
		m->dest = c->k->source;
		if (rk_msg_write(rk_ring_slot(&c->dst, idx), c->dst.slot_size, m) == 0) {
			rk_ring_commit(&c->dst, 1);
			__atomic_fetch_add(&c->k->undelivered, 1, __ATOMIC_RELAXED);
		}
		mq_pop(&c->back, 1);
	}
	if (!c->back.len && !__atomic_load_n(&c->k->att->owner_gone, __ATOMIC_RELAXED)) {
		__atomic_store_n(&c->k->att->owner_gone, 1, __ATOMIC_SEQ_CST);
		wake_ring(c->k->in.hdr);
		wake_ring(c->k->out.hdr);
	}
}

/* What is still in the ring this side drains, back to its sender. */
static void return_ring(struct rconn *c)
{
	uint64_t idx;
	if (!c->src_ok)
		return;
	while (!rk_ring_corrupt(&c->src) && rk_ring_peek(&c->src, 1, &idx) == 1) {
		rk_message *m = &c->node->scratch;
		int ok = rk_msg_read(rk_ring_slot(&c->src, idx), c->src.slot_size, m);
		rk_ring_release(&c->src, 1);
		if (ok == 0)
			give_back(c, m);
	}
}

static void conn_fail(struct rconn *c, int err)
{
	if (c->dead)
		return;
	pthread_mutex_lock(&c->node->lock); /* conn_open() waits on these */
	c->dead = true;
	__atomic_store_n(&c->failed, err ? err : -EPIPE, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->node->lock);
	switch (c->kind) {
	case C_ATTACH:
		if (c->welcomed)
			rki_log_warn("remote kernel %llu: connection lost: %s",
				     (unsigned long long)c->k->id, rk_strerror(c->failed));
		/* The handle's reader gets, in order: the replies that came,
		 * then every request not placed at the far end, flagged; only
		 * then do its calls say -EPIPE (return_to_reader). */
		place_replies(c);
		if (mq_init(&c->back, c->fly.len + c->src.capacity + 1) == 0) {
			for (unsigned i = 0; i < c->fly.len; i++)
				*mq_push(&c->back) = *mq_at(&c->fly, i);
		} else {
			give_back_flying(c); /* no memory: the stash, out of order */
		}
		mq_pop(&c->fly, c->fly.len);
		return_to_reader(c);
		break;
	case C_ROUTE:
		if (c->src_ok) {
			rki_log_warn("kernel %llu: remote route %u closed: %s",
				     (unsigned long long)c->k->id, c->route,
				     rk_strerror(c->failed));
			/* The far kernel terminated, or the connection failed. */
			rki_kernel_close_remote_route(
				c->k, c->route, c->failed == -ESHUTDOWN ? -ESHUTDOWN : -EPIPE);
			give_back_flying(c);
			return_ring(c);
		}
		break;
	default: break;
	}
	pthread_mutex_lock(&c->node->lock);
	pthread_cond_broadcast(&c->node->cond);
	pthread_mutex_unlock(&c->node->lock);
}

static void conn_free(struct rconn *c)
{
	struct rki_node *n = c->node;
	for (struct rconn **pp = &n->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->watch)
		rki_reactor_unwatch(n->reactor, c->watch);
	if (c->t)
		n->tp->ops->disconnect(c->t);
	if (c->kind == S_ATTACH && c->k)
		rk_detach(c->k);
	free(c->pend.v);
	free(c->fly.v);
	free(c->back.v);
	free(c->frame);
	free(c);
}

/* A connection with room for `pending` received messages; the node's
 * thread links it (accept here, OP_CONNECT for clients). */
static struct rconn *conn_alloc(struct rki_node *n, int kind, unsigned pending)
{
	struct rconn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->frame = malloc(FRAME_MAX);
	if (!c->frame || mq_init(&c->pend, pending) < 0) {
		free(c->frame);
		free(c);
		return NULL;
	}
	c->flen = sizeof(struct frame_hdr);
	c->node = n;
	c->kind = kind;
	return c;
}

/* ---- the transport's events -------------------------------------------------------- */

static void *ev_accepted(void *node, void *t)
{
	struct rki_node *n = node;
	if (!n->rt)
		return NULL;
	struct rconn *c = conn_alloc(n, S_NEW, SERVER_CREDITS);
	if (!c)
		return NULL;
	c->t = t;
	c->next = n->conns;
	n->conns = c;
	return c;
}

static void ev_failed(void *arg, int err)
{
	struct rconn *c = arg;
	if (c->kind == S_NEW || c->kind == S_ATTACH || c->kind == S_ROUTE) {
		rki_log_info("remote client gone: %s", rk_strerror(err));
		conn_free(c);
		return;
	}
	conn_fail(c, err);
}

static void welcome_refuse(struct rconn *c, int err, const char *why)
{
	struct welcome w = { .status = err };
	snprintf(w.why, sizeof(w.why), "%s", why);
	send_frame(c, F_WELCOME, 0, &w, sizeof(w));
	/* Nothing more is taken from it; the client disconnects once it has
	 * read why (closing here could lose the answer). */
	c->dead = true;
}

static rk_kernel *find_local(rk_runtime *rt, const char *name)
{
	rk_kernel *found = NULL;
	pthread_mutex_lock(&rt->lock);
	for (rk_kernel *k = rt->kernels; k; k = k->next)
		if (!strcmp(k->name, name) && rk_kernel_state(k) != RK_STATE_TERMINATED) {
			found = k;
			break;
		}
	pthread_mutex_unlock(&rt->lock);
	return found;
}

static void on_hello(struct rconn *c, const struct hello *h)
{
	rk_runtime *rt = c->node->rt;
	char rname[RK_NAME_MAX], kname[RK_NAME_MAX], why[192];
	memcpy(rname, h->runtime, sizeof(rname));
	memcpy(kname, h->kernel, sizeof(kname));
	rname[sizeof(rname) - 1] = kname[sizeof(kname) - 1] = '\0';
	if (!memchr(h->runtime, 0, sizeof(h->runtime)) || !memchr(h->kernel, 0, sizeof(h->kernel)))
		return welcome_refuse(c, -EINVAL, "a name without its terminator");
	if (h->version != PROTO_VERSION)
		return welcome_refuse(c, -EPROTONOSUPPORT, "protocol version mismatch");
	if (h->credits == 0 || h->credits > 4096)
		return welcome_refuse(c, -EPROTO, "credits out of range");
	if (strcmp(rname, rt->name) != 0) {
		snprintf(why, sizeof(why), "this address serves runtime \"%s\", not \"%s\"",
			 rt->name, rname);
		return welcome_refuse(c, -ENOENT, why);
	}
	if (!rki_name_valid(kname))
		return welcome_refuse(c, -EINVAL, "malformed kernel name");
	struct welcome w = { .credits = SERVER_CREDITS };
	rk_kernel *k;
	if (h->mode == MODE_ATTACH) {
		int ret = rk_attach(rname, kname, &k);
		if (ret < 0)
			return welcome_refuse(c, ret, rk_last_error());
		c->kind = S_ATTACH;
		w.tag = k->source;
		/* Its replies wake the node. */
		if (rki_reactor_watch(c->node->reactor, &k->out) == 0)
			c->watch = &k->out;
	} else if (h->mode == MODE_ROUTE) {
		k = find_local(rt, kname);
		if (!k) {
			snprintf(why, sizeof(why), "runtime \"%s\" has no kernel \"%s\" running",
				 rname, kname);
			return welcome_refuse(c, -ENOENT, why);
		}
		c->kind = S_ROUTE;
	} else {
		return welcome_refuse(c, -EPROTO, "unknown mode");
	}
	c->k = k;
	c->credits = c->credits_max = h->credits;
	w.kernel_id = k->id;
	w.max_payload = k->opts.max_payload;
	w.state = (uint32_t)rk_kernel_state(k);
	c->sent_state = w.state;
	snprintf(w.registry, sizeof(w.registry), "%s", k->def_name);
	c->welcomed = true;
	send_frame(c, F_WELCOME, 0, &w, sizeof(w));
	rki_log_info("remote %s of kernel %llu (\"%s\")",
		     c->kind == S_ATTACH ? "client attached" : "route opened",
		     (unsigned long long)k->id, kname);
}

/* A MSGS frame: every message checked before any is queued. */
static int on_msgs(struct rconn *c, const uint8_t *p, size_t len, unsigned count)
{
	if (!c->welcomed || c->pend.cap - c->pend.len < count)
		return -EPROTO; /* more than the credits it was given */
	uint32_t max = c->kind == C_ATTACH ? c->k->out.slot_size - RK_MSG_HDR_SIZE
					   : c->k->opts.max_payload;
	size_t off = sizeof(struct frame_hdr);
	for (unsigned i = 0; i < count; i++) {
		struct rk_msg_hdr h;
		if (len - off < sizeof(h))
			return -EPROTO;
		memcpy(&h, p + off, sizeof(h));
		if (h.magic != RK_MSG_MAGIC || h.version != RK_MSG_VERSION || h.len > max ||
		    len - off - sizeof(h) < h.len)
			return -EPROTO;
		off += msg_wire_size(h.len);
		if (off > len)
			return -EPROTO;
	}
	if (off != len)
		return -EPROTO;
	/* Checked: each is a slot of its own wire size (the frame does not
	 * change under us: it is the transport's, for this call). */
	off = sizeof(struct frame_hdr);
	for (unsigned i = 0; i < count; i++) {
		struct rk_msg_hdr h;
		memcpy(&h, p + off, sizeof(h));
		uint32_t size = (uint32_t)msg_wire_size(h.len);
		if (rk_msg_read(p + off, size, mq_push(&c->pend)) < 0)
			return -EPROTO;
		off += size;
	}
	return 0;
}

/* n slots the peer placed: as many more may be sent. */
static int take_credits(struct rconn *c, uint32_t n)
{
	if (n > c->credits_max - c->credits)
		return -EPROTO;
	if (c->kind == C_ATTACH || c->kind == C_ROUTE) {
		if (n > c->fly.len)
			return -EPROTO;
		mq_pop(&c->fly, n);
		if (c->kind == C_ROUTE)
			__atomic_add_fetch(&c->k->remote_placed[c->route], n, __ATOMIC_RELEASE);
	}
	c->credits += n;
	return 0;
}

static void ev_received(void *arg, const void *frame, size_t len)
{
	struct rconn *c = arg;
	struct frame_hdr h;
	const uint8_t *p = frame;
	int err = -EPROTO;
	if (c->dead)
		return;
	if (len < sizeof(h))
		goto bad;
	memcpy(&h, p, sizeof(h));
	if (h.magic != FRAME_MAGIC || h.len != len)
		goto bad;
	switch (h.type) {
	case F_HELLO: {
		struct hello hl;
		if (c->kind != S_NEW || len != sizeof(h) + sizeof(hl))
			goto bad;
		memcpy(&hl, p + sizeof(h), sizeof(hl));
		on_hello(c, &hl);
		return;
	}
	case F_WELCOME:
		if ((c->kind != C_ATTACH && c->kind != C_ROUTE) || c->welcomed ||
		    len != sizeof(h) + sizeof(c->w))
			goto bad;
		pthread_mutex_lock(&c->node->lock);
		memcpy(&c->w, p + sizeof(h), sizeof(c->w));
		c->w.registry[sizeof(c->w.registry) - 1] = '\0';
		c->w.why[sizeof(c->w.why) - 1] = '\0';
		if (c->w.status > 0 || c->w.status < -4095)
			c->w.status = -EPROTO;
		if (c->w.status == 0 &&
		    (c->w.credits == 0 || c->w.credits > 4096 || c->w.max_payload > RK_MAX_PAYLOAD))
			c->w.status = -EPROTO;
		c->credits = c->credits_max = c->w.status == 0 ? c->w.credits : 0;
		/* Copies of what is sent until the peer places it: no more
		 * than its credits. */
		if (c->w.status == 0 && mq_init(&c->fly, c->credits) < 0)
			c->w.status = -ENOMEM;
		c->welcomed = true;
		pthread_cond_broadcast(&c->node->cond);
		pthread_mutex_unlock(&c->node->lock);
		return;
	case F_MSGS:
		/* Credits first: they are for what was placed before these
		 * messages were sent. */
		if (c->kind == C_ROUTE || c->kind == S_NEW || h.count == 0 ||
		    (h.arg && take_credits(c, h.arg) < 0) || on_msgs(c, p, len, h.count) < 0)
			goto bad;
		return;
	case F_CREDIT:
		if (len != sizeof(h) || h.arg == 0 || take_credits(c, h.arg) < 0)
			goto bad;
		return;
	case F_STATE:
		if ((c->kind != C_ATTACH && c->kind != C_ROUTE) || len != sizeof(h) ||
		    h.arg > RK_STATE_TERMINATED)
			goto bad;
		if (c->kind == C_ATTACH) {
			struct rk_ctrl *ctl = c->k->ctrl;
			if (h.arg == RK_STATE_TERMINATED) {
				/* What it never placed will not be placed now. */
				give_back_flying(c);
				__atomic_store_n(&ctl->terminated, 1, __ATOMIC_SEQ_CST);
				wake_ring(c->k->in.hdr);
				wake_ring(c->k->out.hdr);
			} else {
				__atomic_store_n(&ctl->observed,
						 h.arg == RK_STATE_ACTIVE ? RK_CTRL_ACTIVE
						 : h.arg == RK_STATE_DEACTIVATED
							 ? RK_CTRL_DEACTIVATED
							 : 0,
						 __ATOMIC_RELEASE);
			}
		} else if (h.arg == RK_STATE_TERMINATED) {
			conn_fail(c, -ESHUTDOWN);
		}
		return;
	default: goto bad;
	}
bad:
	rki_log_warn("remote: malformed frame (type %u, %zu bytes): connection closed",
		     len >= sizeof(h) ? h.type : 0, len);
	if (c->kind == S_NEW || c->kind == S_ATTACH || c->kind == S_ROUTE) {
		c->dead = true;
		return;
	}
	conn_fail(c, err);
}

static const struct rk_transport_events events = {
	.accepted = ev_accepted,
	.received = ev_received,
	.failed = ev_failed,
};

/* ---- moving messages ---------------------------------------------------------------- */

/* Drain the local ring into MSGS frames, as far as credits go. */
static int pump_out(struct rconn *c)
{
	int work = 0;
	uint64_t idx;
	if (!c->src_ok)
		return 0;
	while (c->credits && c->fly.len < c->fly.cap && rk_ring_peek(&c->src, 1, &idx) == 1) {
		rk_message *m = mq_push(&c->fly);
		int ok = rk_msg_read(rk_ring_slot(&c->src, idx), c->src.slot_size, m);
		if (ok < 0) { /* a malformed slot (shared memory): skipped, said */
			c->fly.len--;
			rk_ring_release(&c->src, 1);
			rki_log_warn("remote: dropped a malformed slot: %s", rk_last_error());
			continue;
		}
		if (!frame_room(c, m->len) && frame_flush(c) < 0) {
			c->fly.len--; /* still in the ring: returned from there */
			return -EPIPE;
		}
		frame_add(c, m);
		rk_ring_release(&c->src, 1);
		c->credits--;
		work++;
	}
	if (frame_flush(c) < 0)
		return -EPIPE;
	return work;
}

/* Remote handle: received replies into the handle's reply ring. */
static int place_replies(struct rconn *c)
{
	int work = 0;
	uint64_t idx;
	while (c->pend.len && rk_ring_reserve(&c->dst, 1, &idx) == 1) {
		const rk_message *m = mq_at(&c->pend, 0);
		if (rk_msg_write(rk_ring_slot(&c->dst, idx), c->dst.slot_size, m) == 0)
			rk_ring_commit(&c->dst, 1);
		mq_pop(&c->pend, 1);
		c->owed++;
		work++;
	}
	return work;
}

/* Server: received messages into the kernel's input ring. */
static int place_requests(struct rconn *c)
{
	int work = 0;
	while (c->pend.len) {
		int ret = rki_kernel_inject(c->k, mq_at(&c->pend, 0), c->kind == S_ROUTE);
		if (ret == -EAGAIN)
			break;
		if (ret < 0) /* the kernel stopped: its state tells the client */
			break;
		mq_pop(&c->pend, 1);
		c->owed++;
		work++;
	}
	return work;
}

/* Server, attach: the kernel's replies to the client, as far as credits go. */
static int pump_replies(struct rconn *c)
{
	int work = 0;
	rk_message *m = &c->node->scratch;
	while (c->credits) {
		if (!frame_room(c, RK_MAX_PAYLOAD) && frame_flush(c) < 0)
			return -EPIPE;
		if (rk_kernel_try_receive(c->k, m) < 0)
			break;
		frame_add(c, m);
		c->credits--;
		work++;
	}
	if (frame_flush(c) < 0)
		return -EPIPE;
	return work;
}

static int pump_state(struct rconn *c)
{
	rk_state s = rk_kernel_state(c->k);
	if ((uint32_t)s == c->sent_state)
		return 0;
	/* Its last replies go first: pump_replies() stopped short only for
	 * want of credits, and the client's come back as it reads. */
	if (s == RK_STATE_TERMINATED && c->kind == S_ATTACH && c->credits == 0)
		return 0;
	c->sent_state = (uint32_t)s;
	send_frame(c, F_STATE, (uint32_t)s, NULL, 0);
	return 1;
}

/* One connection's turn: >0 work done, 0 idle, and *blocked when it has
 * something it cannot move until the other side makes room. */
static int pump(struct rconn *c, bool *blocked)
{
	int work = 0, r;
	if (c->failed == 0 && c->dead && c->kind >= S_NEW)
		return 0;
	switch (c->kind) {
	case C_ATTACH:
	case C_ROUTE:
		if (c->dead) { /* what the kernel or the handle's senders still wrote */
			if (c->kind == C_ROUTE)
				return_ring(c);
			else if (c->back.v)
				return_to_reader(c);
			if (c->back.len)
				*blocked = true;
			return 0;
		}
		if (!c->welcomed || c->w.status)
			return 0;
		if (c->kind == C_ATTACH)
			work += place_replies(c);
		if ((r = pump_out(c)) < 0)
			return 0;
		work += r;
		if (c->src_ok && rk_ring_count(&c->src) && !c->credits)
			*blocked = true; /* waiting for credits: they come by the transport */
		if (c->pend.len)
			*blocked = true; /* waiting for the reader */
		break;
	case S_ATTACH:
	case S_ROUTE:
		work += place_requests(c);
		/* The credits for what was placed go with or before any reply
		 * to it (in the same frame: taken first): a client that loses
		 * the connection then never returns as undelivered a request it
		 * has a reply to. */
		if (c->kind == S_ATTACH) {
			if ((r = pump_replies(c)) < 0)
				return 0;
			work += r;
		}
		work += pump_state(c);
		if (c->pend.len)
			*blocked = true;
		break;
	default: return 0;
	}
	if (c->owed) {
		if (send_frame(c, F_CREDIT, c->owed, NULL, 0) == 0)
			c->owed = 0;
		work++;
	}
	return work;
}

/* ---- the node's thread -------------------------------------------------------------- */

static void run_command(struct rki_node *n, struct rcmd *cmd)
{
	const struct rk_transport_ops *o = n->tp->ops;
	int ret = 0;
	switch (cmd->op) {
	case OP_LISTEN:
		ret = o->listen(n->t, cmd->addr);
		if (ret == 0)
			ret = o->listen_address(n->t, n->addr, sizeof(n->addr));
		if (ret == 0)
			n->listening = true;
		break;
	case OP_CONNECT: {
		struct rconn *c = cmd->c;
		c->next = n->conns;
		n->conns = c;
		ret = o->connect(n->t, cmd->addr, c, &c->t);
		if (ret == 0) {
			struct hello h = { .version = PROTO_VERSION,
					   .mode = c->kind == C_ATTACH ? MODE_ATTACH : MODE_ROUTE,
					   .credits = c->pend.cap ? c->pend.cap : 1 };
			memcpy(h.runtime, c->w.registry, sizeof(h.runtime));
			memcpy(h.kernel, c->w.why, sizeof(h.kernel));
			memset(&c->w, 0, sizeof(c->w));
			ret = send_frame(c, F_HELLO, 0, &h, sizeof(h));
		}
		if (ret < 0)
			c->dead = true; /* the caller's OP_CLOSE frees it */
		break;
	}
	case OP_ROUTE_READY:
		cmd->c->src_ok = true;
		/* A remote handle's senders kick the node themselves
		 * (rki_remote_kick): no reactor hop for its requests. */
		if (cmd->c->kind != C_ATTACH && rki_reactor_watch(n->reactor, &cmd->c->src) == 0)
			cmd->c->watch = &cmd->c->src;
		break;
	case OP_CLOSE: conn_free(cmd->c); break;
	case OP_FORGET:
		for (struct rconn *c = n->conns, *next; c; c = next) {
			next = c->next;
			if (c->k == cmd->k && (c->kind == C_ROUTE || c->kind == S_ROUTE)) {
				if (c->kind == C_ROUTE && !c->dead) {
					c->src_ok = false; /* the sender is gone: nothing to return
							      to */
					c->dead = true;
				}
				conn_free(c);
			}
		}
		break;
	}
	cmd->ret = ret;
	if (ret < 0)
		snprintf(cmd->why, sizeof(cmd->why), "%s", rk_last_error());
}

static void run_commands(struct rki_node *n)
{
	pthread_mutex_lock(&n->lock);
	while (n->cmds) {
		struct rcmd *cmd = n->cmds;
		n->cmds = cmd->next;
		pthread_mutex_unlock(&n->lock);
		run_command(n, cmd);
		pthread_mutex_lock(&n->lock);
		cmd->done = true;
		pthread_cond_broadcast(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
}

static void *node_thread(void *arg)
{
	struct rki_node *n = arg;
	const struct rk_transport_ops *o = n->tp->ops;
	pthread_setname_np(pthread_self(), "rk-net");
	while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
		run_commands(n);
		int work = o->progress(n->t);
		bool blocked = false, servers = false;
		for (struct rconn *c = n->conns, *next; c; c = next) {
			next = c->next;
			work += pump(c, &blocked);
			servers |= c->kind == S_ATTACH || c->kind == S_ROUTE;
		}
		if (work > 0)
			continue;
		if (o->arm(n->t) == -EAGAIN)
			continue;
		rki_reactor_rearm(n->reactor);
		/* Dekker with rki_remote_kick(): say we sleep, then look at the
		 * rings senders kick for once more. */
		__atomic_store_n(&n->sleeping, 1, __ATOMIC_SEQ_CST);
		bool pending = false;
		for (struct rconn *c = n->conns; c && !pending; c = c->next)
			pending = c->kind == C_ATTACH && c->src_ok && !c->dead && c->credits &&
				  __atomic_load_n(&c->src.hdr->prod_tail, __ATOMIC_SEQ_CST) !=
					  __atomic_load_n(&c->src.hdr->cons_head, __ATOMIC_RELAXED);
		if (pending) {
			__atomic_store_n(&n->sleeping, 0, __ATOMIC_RELAXED);
			continue;
		}
		struct pollfd p[3] = { { .fd = o->fd(n->t), .events = POLLIN },
				       { .fd = n->wake, .events = POLLIN },
				       { .fd = n->rfd, .events = POLLIN } };
		/* Blocked: the reactor's fd stays readable while a ring it
		 * watches has data, so it is left out and the turn comes back
		 * in 1 ms; servers look at their kernels' states every 20 ms.
		 * Never unbounded: a transport event that does not make its
		 * fd readable (a connection still wiring up) costs at most
		 * 100 ms, not a handshake that never completes. */
		int timeout = blocked ? 1 : servers ? 20 : 100;
		poll(p, blocked || n->rfd < 0 ? 2 : 3, timeout);
		__atomic_store_n(&n->sleeping, 0, __ATOMIC_RELAXED);
		if (p[1].revents & POLLIN) {
			uint64_t v;
			if (read(n->wake, &v, sizeof(v)) < 0)
				(void)0;
		}
	}
	return NULL;
}

static void node_wake(struct rki_node *n)
{
	uint64_t one = 1;
	if (write(n->wake, &one, sizeof(one)) < 0)
		(void)0;
}

/* Run a command on the node's thread and wait for it. */
static int node_call(struct rki_node *n, struct rcmd *cmd)
{
	pthread_mutex_lock(&n->lock);
	cmd->next = NULL;
	struct rcmd **pp = &n->cmds;
	while (*pp)
		pp = &(*pp)->next;
	*pp = cmd;
	node_wake(n);
	while (!cmd->done)
		pthread_cond_wait(&n->cond, &n->lock);
	pthread_mutex_unlock(&n->lock);
	if (cmd->ret < 0)
		return rk_error(cmd->ret, "%s", cmd->why);
	return 0;
}

static void node_destroy(struct rki_node *n)
{
	if (!n)
		return;
	if (n->started) {
		__atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
		node_wake(n);
		pthread_join(n->thread, NULL);
	}
	while (n->conns)
		conn_free(n->conns);
	if (n->t)
		n->tp->ops->close(n->t);
	if (n->reactor)
		rki_reactor_destroy(n->reactor);
	if (n->wake >= 0)
		close(n->wake);
	if (n->dl)
		dlclose(n->dl);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static int node_create(rk_runtime *rt, struct rki_node **out)
{
	struct rki_node *n = calloc(1, sizeof(*n));
	if (!n)
		return rk_error(-ENOMEM, "remote: out of memory");
	n->rt = rt;
	n->wake = -1;
	n->rfd = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	int ret;
	const char *name = "ucx";
	if ((ret = load_transport(n, name)) < 0)
		goto fail;
	n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake < 0) {
		ret = rk_error(-errno, "remote: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((ret = rki_reactor_create(&n->reactor)) < 0)
		goto fail;
	n->rfd = rki_reactor_fd(n->reactor);
	if (n->rfd < 0) {
		ret = n->rfd;
		goto fail;
	}
	if ((ret = n->tp->ops->open(&events, n, &n->t)) < 0) {
		n->t = NULL;
		goto fail;
	}
	if ((ret = pthread_create(&n->thread, NULL, node_thread, n)) != 0) {
		ret = rk_error(-ret, "remote: cannot start the progress thread");
		goto fail;
	}
	n->started = true;
	*out = n;
	return 0;
fail:
	node_destroy(n);
	return ret;
}

/* The runtime's node, created on first use. */
static int runtime_node(rk_runtime *rt, struct rki_node **out)
{
	pthread_mutex_lock(&rt->lock);
	struct rki_node *n = rt->node;
	pthread_mutex_unlock(&rt->lock);
	if (!n) {
		int ret = node_create(rt, &n);
		if (ret < 0)
			return ret;
		pthread_mutex_lock(&rt->lock);
		if (rt->node) { /* another thread was first */
			pthread_mutex_unlock(&rt->lock);
			node_destroy(n);
			pthread_mutex_lock(&rt->lock);
			n = rt->node;
		} else {
			rt->node = n;
		}
		pthread_mutex_unlock(&rt->lock);
	}
	*out = n;
	return 0;
}

void rki_remote_stop(rk_runtime *rt)
{
	node_destroy(rt->node);
	rt->node = NULL;
}

void rki_remote_forget(rk_kernel *k)
{
	rk_runtime *rt = k->rt;
	pthread_mutex_lock(&rt->lock);
	struct rki_node *n = rt->node;
	pthread_mutex_unlock(&rt->lock);
	if (!n)
		return;
	struct rcmd cmd = { .op = OP_FORGET, .k = k };
	node_call(n, &cmd);
}

/* ---- connecting ---------------------------------------------------------------------- */

/* Connect `c` and wait for the server's WELCOME: 0, or the refusal. */
static int conn_open(struct rki_node *n, struct rconn *c, const char *address, const char *runtime,
		     const char *kernel)
{
	/* The names ride in w until OP_CONNECT builds the HELLO. */
	snprintf(c->w.registry, sizeof(c->w.registry), "%s", runtime);
	snprintf(c->w.why, sizeof(c->w.why), "%s", kernel);
	struct rcmd cmd = { .op = OP_CONNECT, .c = c, .addr = address };
	int ret = node_call(n, &cmd);
	if (ret == 0) {
		uint64_t deadline = rk_sys_deadline(HELLO_TIMEOUT);
		pthread_mutex_lock(&n->lock);
		while (!c->welcomed && !c->dead && rk_sys_left(deadline)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&n->cond, &n->lock, &ts);
		}
		bool welcomed = c->welcomed, dead = c->dead;
		int failed = c->failed;
		pthread_mutex_unlock(&n->lock);
		if (welcomed && c->w.status < 0)
			ret = rk_error(c->w.status, "%s: %s", address, c->w.why);
		else if (welcomed)
			ret = 0;
		else if (dead)
			/* A connection that ended before the WELCOME was not
			 * accepted: nothing listens there (UCX says reset or
			 * a plain failure, depending on timing). */
			ret = rk_error(failed == -EPIPE || failed == -ECONNRESET ? -ECONNREFUSED
										 : failed,
				       "cannot reach runtime \"%s\" at %s: %s", runtime, address,
				       rk_strerror(failed));
		else
			ret = rk_error(-ETIMEDOUT, "runtime \"%s\" at %s did not answer in 5 s",
				       runtime, address);
	}
	if (ret < 0) {
		struct rcmd close_cmd = { .op = OP_CLOSE, .c = c };
		char why[256];
		snprintf(why, sizeof(why), "%s", rk_last_error());
		node_call(n, &close_cmd);
		rk_error(ret, "%s", why);
	}
	return ret;
}

static bool names_ok(const char *fn, const char *address, const char *runtime, const char *kernel)
{
	if (!address || !*address || !rki_name_valid(runtime) || !rki_name_valid(kernel)) {
		rk_error(-EINVAL,
			 "%s: address \"%s\", runtime \"%s\", kernel \"%s\": an address is "
			 "host:port, names are 1..63 of [A-Za-z0-9_-]",
			 fn, address ? address : "(null)", runtime ? runtime : "(null)",
			 kernel ? kernel : "(null)");
		return false;
	}
	return true;
}

int rk_runtime_listen(rk_runtime *rt, const char *address)
{
	if (!rt || !address || !*address)
		return rk_error(-EINVAL, "rk_runtime_listen: NULL runtime or address");
	if (rt->attached_rt || !rt->name[0])
		return rk_error(-EINVAL,
				"rk_runtime_listen: the runtime has no name; remote peers name it "
				"(rk_runtime_builder_name or RK_RUNTIME_NAME)");
	struct rki_node *n;
	int ret = runtime_node(rt, &n);
	if (ret < 0)
		return ret;
	if (n->listening)
		return rk_error(-EALREADY, "runtime \"%s\" already listens on %s", rt->name,
				n->addr);
	struct rcmd cmd = { .op = OP_LISTEN, .addr = address };
	if ((ret = node_call(n, &cmd)) < 0)
		return ret;
	rki_log_info("runtime \"%s\" listens on %s (%s)", rt->name, n->addr, n->tp->name);
	return 0;
}

int rk_runtime_listen_address(rk_runtime *rt, char *buf, size_t len)
{
	if (!rt || !buf || len == 0)
		return rk_error(-EINVAL, "rk_runtime_listen_address: NULL runtime or buffer");
	pthread_mutex_lock(&rt->lock);
	struct rki_node *n = rt->node;
	pthread_mutex_unlock(&rt->lock);
	if (!n || !n->listening)
		return rk_error(-ENOTCONN, "runtime does not listen (rk_runtime_listen)");
	if (strlen(n->addr) >= len)
		return rk_error(-ENOSPC, "rk_runtime_listen_address: %zu bytes needed",
				strlen(n->addr) + 1);
	memcpy(buf, n->addr, strlen(n->addr) + 1);
	return 0;
}

int rk_kernel_connect_remote(rk_kernel *from, const char *address, const char *runtime,
			     const char *kernel)
{
	if (!from)
		return rk_error(-EINVAL, "rk_kernel_connect_remote: NULL kernel");
	if (!names_ok("rk_kernel_connect_remote", address, runtime, kernel))
		return -EINVAL;
	if (from->att)
		return rk_error(-EINVAL,
				"rk_kernel_connect_remote: an attached handle has no routes");
	if (!from->opts.k2k || !from->k2k)
		return rk_error(
			-EINVAL,
			"kernel %llu: remote routes need rk_launch_options_with_k2k(&o, true)",
			(unsigned long long)from->id);
	rk_runtime *rt = from->rt;
	struct rki_node *n;
	int ret = runtime_node(rt, &n);
	if (ret < 0)
		return ret;
	struct rconn *c = conn_alloc(n, C_ROUTE, 0);
	if (!c)
		return rk_error(-ENOMEM, "rk_kernel_connect_remote: out of memory");
	c->k = from;
	if ((ret = conn_open(n, c, address, runtime, kernel)) < 0)
		return ret;
	/* The route's ring: the receiver's max payload sets its slots. */
	uint32_t slot =
		(RK_MSG_HDR_SIZE + c->w.max_payload + RK_SLOT_ALIGN - 1) & ~(RK_SLOT_ALIGN - 1);
	uint32_t cap = from->opts.k2k_capacity;
	size_t size;
	void *mem = NULL;
	if ((ret = rk_ring_mem_size(cap, slot, &size)) < 0 ||
	    posix_memalign(&mem, RK_LINE, size) != 0) {
		free(mem);
		ret = rk_error(ret < 0 ? ret : -ENOMEM, "rk_kernel_connect_remote: no memory");
		goto close;
	}
	memset(mem, 0, size);
	if ((ret = rk_ring_init(&c->src, mem, size, cap, slot, 0)) < 0) {
		free(mem);
		goto close;
	}
	ret = rki_kernel_add_remote_route(from, c->w.kernel_id, &c->src, mem, &c->route);
	if (ret < 0) {
		free(mem);
		goto close;
	}
	c->ring_mem = mem;
	struct rcmd ready = { .op = OP_ROUTE_READY, .c = c };
	node_call(n, &ready);
	rki_log_info("kernel %llu routes to kernel %llu (\"%s\") of runtime \"%s\" at %s",
		     (unsigned long long)from->id, (unsigned long long)c->w.kernel_id, kernel,
		     runtime, address);
	return 0;
close:;
	char why[256];
	snprintf(why, sizeof(why), "%s", rk_last_error());
	struct rcmd close_cmd = { .op = OP_CLOSE, .c = c };
	node_call(n, &close_cmd);
	return rk_error(ret, "%s", why);
}

/* ---- remote handles ------------------------------------------------------------------ */

struct rki_remote {
	struct rki_node *node;
	struct rconn *conn;
	void *mem; /* ctrl, slot, client table, both rings */
};

int rk_attach_remote(const char *address, const char *runtime, const char *kernel, rk_kernel **out)
{
	rki_log_init();
	if (!out)
		return rk_error(-EINVAL, "rk_attach_remote: NULL out");
	*out = NULL;
	if (!names_ok("rk_attach_remote", address, runtime, kernel))
		return -EINVAL;
	struct rki_remote *r = calloc(1, sizeof(*r));
	if (!r)
		return rk_error(-ENOMEM, "rk_attach_remote: out of memory");
	rk_kernel *k;
	int ret = rki_attached_alloc(runtime, kernel, &k);
	if (ret < 0) {
		free(r);
		return ret;
	}
	struct rki_attached *a = k->att;
	a->remote = r;
	a->owner_pidfd = -1;
	/* Private memory in the layout of an attached kernel's: the node
	 * plays the owner's part. */
	size_t ring_size, off_ctrl = 0, off_slot = sizeof(struct rk_ctrl);
	size_t off_clients =
		off_slot + ((sizeof(struct rk_client_slot) + RK_LINE - 1) & ~(size_t)(RK_LINE - 1));
	size_t off_in =
		off_clients + ((sizeof(struct rk_clients) + RK_LINE - 1) & ~(size_t)(RK_LINE - 1));
	rk_ring_mem_size(HANDLE_SLOTS, RK_SLOT_MAX, &ring_size);
	size_t off_out = off_in + ring_size, total = off_out + ring_size;
	if (posix_memalign(&r->mem, RK_LINE, total) != 0) {
		r->mem = NULL;
		ret = rk_error(-ENOMEM, "rk_attach_remote: out of memory");
		goto fail;
	}
	memset(r->mem, 0, total);
	uint8_t *base = r->mem;
	k->ctrl = (struct rk_ctrl *)(base + off_ctrl);
	a->slot = (struct rk_client_slot *)(base + off_slot);
	a->clients = (struct rk_clients *)(base + off_clients);
	if ((ret = rk_ring_init(&k->in, base + off_in, ring_size, HANDLE_SLOTS, RK_SLOT_MAX,
				RK_RING_MP)) < 0 ||
	    (ret = rk_ring_init(&k->out, base + off_out, ring_size, HANDLE_SLOTS, RK_SLOT_MAX, 0)) <
		    0)
		goto fail;
	if ((ret = node_create(NULL, &r->node)) < 0)
		goto fail;
	struct rconn *c = conn_alloc(r->node, C_ATTACH, CLIENT_CREDITS);
	if (!c) {
		ret = rk_error(-ENOMEM, "rk_attach_remote: out of memory");
		goto fail;
	}
	c->k = k;
	rk_ring_attach(&c->src, k->in.hdr, ring_size);
	rk_ring_attach(&c->dst, k->out.hdr, ring_size);
	if ((ret = conn_open(r->node, c, address, runtime, kernel)) < 0)
		goto fail;
	r->conn = c;
	k->id = c->w.kernel_id;
	k->source = c->w.tag;
	k->opts.max_payload = c->w.max_payload;
	snprintf(k->def_name, sizeof(k->def_name), "%s", c->w.registry);
	__atomic_store_n(&k->ctrl->kernel_id, k->id, __ATOMIC_RELAXED);
	__atomic_store_n(&k->ctrl->max_payload, c->w.max_payload, __ATOMIC_RELAXED);
	__atomic_store_n(&k->ctrl->observed,
			 c->w.state == RK_STATE_ACTIVE	      ? RK_CTRL_ACTIVE
			 : c->w.state == RK_STATE_DEACTIVATED ? RK_CTRL_DEACTIVATED
							      : 0,
			 __ATOMIC_RELEASE);
	if (c->w.state == RK_STATE_TERMINATED)
		__atomic_store_n(&k->ctrl->terminated, 1, __ATOMIC_RELEASE);
	a->slot->tag = k->source;
	__atomic_store_n(&a->slot->state, RK_CLIENT_READY, __ATOMIC_RELEASE);
	struct rcmd ready = { .op = OP_ROUTE_READY, .c = c };
	node_call(r->node, &ready);
	rki_log_info("attached to kernel %llu (\"%s\") of runtime \"%s\" at %s",
		     (unsigned long long)k->id, kernel, runtime, address);
	*out = k;
	return 0;
fail:;
	char why[256];
	snprintf(why, sizeof(why), "%s", rk_last_error());
	rki_remote_free(k);
	rki_attached_free(k);
	return rk_error(ret, "%s", why);
}

void rki_remote_kick(rk_kernel *k)
{
	struct rki_node *n = k->att->remote->node;
	uint32_t one = 1;
	if (__atomic_load_n(&n->sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_compare_exchange_n(&n->sleeping, &one, 0, false, __ATOMIC_SEQ_CST,
					__ATOMIC_RELAXED))
		node_wake(n);
}

const char *rki_remote_why(const rk_kernel *k)
{
	const struct rki_remote *r = k->att->remote;
	return r && r->conn ? rk_strerror(__atomic_load_n(&r->conn->failed, __ATOMIC_ACQUIRE)) : "";
}

/* The node and the private memory; the caller frees the handle. */
void rki_remote_free(rk_kernel *k)
{
	struct rki_remote *r = k->att->remote;
	if (!r)
		return;
	node_destroy(r->node); /* disconnects: the server detaches its side */
	free(r->mem);
	free(r);
	k->att->remote = NULL;
}
