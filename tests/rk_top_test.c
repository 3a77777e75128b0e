/* SPDX-License-Identifier: MIT */
/*
 * rk-top: runs the built program on directories and kernel regions this
 * test lays out itself with the public region API, and checks that what
 * it wrote comes back in --json (parsed here, so the output is valid JSON
 * too) and in the table: ring depths, counters, names, clients, the
 * owner's liveness. Tampered regions (absurd counts, names without a
 * terminator, impossible rings, offsets out of their section, garbage
 * files, loose modes) must give valid output, exit 0 and nothing from a
 * sanitizer.
 *
 * $RK_TOP names the program (default runtime/rk-top, from the build tree).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/layout.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>
#include <ringkernel/ringkernel.h>

#include "testutil.h"

/* ---- a small strict JSON reader --------------------------------------------------- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jt t;
	bool b;
	double num;
	char *str;
	unsigned n;
	char **keys;	   /* J_OBJ */
	struct jv **items; /* J_ARR, J_OBJ */
};

struct jp {
	const char *p;
	int depth;
};

static struct jv *jparse_value(struct jp *s);

static void jfree(struct jv *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->n; i++) {
		jfree(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

static void jws(struct jp *s)
{
	while (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r')
		s->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string; \u escapes below 0x100 become that byte (all rk-top writes). */
static char *jparse_str(struct jp *s)
{
	if (*s->p != '"')
		return NULL;
	s->p++;
	size_t cap = 16, len = 0;
	char *out = malloc(cap);
	while (out && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20) /* raw control characters (and the end) are invalid */
			goto bad;
		if (c == '\\') {
			s->p++;
			switch (*s->p) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int v = 0;
				for (int i = 1; i <= 4; i++) {
					int h = hexval(s->p[i]);
					if (h < 0)
						goto bad;
					v = v * 16 + h;
				}
				s->p += 4;
				c = v < 0x100 ? (unsigned char)v : '?';
				break;
			}
			default: goto bad;
			}
		}
		if (len + 2 > cap) {
			char *n = realloc(out, cap *= 2);
			if (!n)
				goto bad;
			out = n;
		}
		out[len++] = (char)c;
		s->p++;
	}
	if (!out)
		return NULL;
	out[len] = '\0';
	s->p++;
	return out;
bad:
	free(out);
	return NULL;
}

static bool jpush(struct jv *v, char *key, struct jv *item)
{
	struct jv **items = realloc(v->items, (v->n + 1) * sizeof(*items));
	if (!items)
		return false;
	v->items = items;
	if (v->t == J_OBJ) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));
		if (!keys)
			return false;
		v->keys = keys;
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
	return true;
}

static struct jv *jparse_container(struct jp *s, struct jv *v, char close)
{
	s->p++;
	jws(s);
	if (*s->p == close) {
		s->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		jws(s);
		if (v->t == J_OBJ) {
			if (!(key = jparse_str(s)))
				goto bad;
			jws(s);
			if (*s->p++ != ':') {
				free(key);
				goto bad;
			}
		}
		struct jv *item = jparse_value(s);
		if (!item || !jpush(v, key, item)) {
			free(key);
			jfree(item);
			goto bad;
		}
		jws(s);
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p++ != close)
			goto bad;
		return v;
	}
bad:
	jfree(v);
	return NULL;
}

static struct jv *jparse_value(struct jp *s)
{
	jws(s);
	if (++s->depth > 32)
		return NULL;
	struct jv *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	const char *p = s->p;
	if (*p == '{') {
		v->t = J_OBJ;
		v = jparse_container(s, v, '}');
	} else if (*p == '[') {
		v->t = J_ARR;
		v = jparse_container(s, v, ']');
	} else if (*p == '"') {
		v->t = J_STR;
		if (!(v->str = jparse_str(s))) {
			free(v);
			v = NULL;
		}
	} else if (!strncmp(p, "null", 4)) {
		v->t = J_NULL;
		s->p += 4;
	} else if (!strncmp(p, "true", 4)) {
		v->t = J_BOOL;
		v->b = true;
		s->p += 4;
	} else if (!strncmp(p, "false", 5)) {
		v->t = J_BOOL;
		s->p += 5;
	} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
		/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
		const char *q = p + (*p == '-');
		if (*q == '0')
			q++;
		else if (*q >= '1' && *q <= '9')
			while (*q >= '0' && *q <= '9')
				q++;
		else
			goto bad;
		if (*q == '.') {
			if (!(*++q >= '0' && *q <= '9'))
				goto bad;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		if (*q == 'e' || *q == 'E') {
			q++;
			if (*q == '+' || *q == '-')
				q++;
			if (!(*q >= '0' && *q <= '9'))
				goto bad;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		v->t = J_NUM;
		v->num = strtod(p, NULL);
		s->p = q;
	} else {
		goto bad;
	}
	s->depth--;
	return v;
bad:
	free(v);
	return NULL;
}

/* The whole text is one JSON value (and a newline), or NULL. */
static struct jv *jparse(const char *text)
{
	struct jp s = { text, 0 };
	struct jv *v = jparse_value(&s);
	if (!v)
		return NULL;
	jws(&s);
	if (*s.p) {
		jfree(v);
		return NULL;
	}
	return v;
}

static struct jv *jget(const struct jv *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->items[i];
	return NULL;
}

/* o[key] as a number; the test fails on a null or missing one. */
static double jnum(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);
	cr_assert(v && v->t == J_NUM, "\"%s\" is not a number", key);
	return v->num;
}

static const char *jstr(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);
	cr_assert(v && v->t == J_STR, "\"%s\" is not a string", key);
	return v->str;
}

static bool jbool(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);
	cr_assert(v && v->t == J_BOOL, "\"%s\" is not a boolean", key);
	return v->b;
}

static bool jnull(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);
	cr_assert(v, "no \"%s\"", key);
	return v->t == J_NULL;
}

static const struct jv *jarr(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);
	cr_assert(v && v->t == J_ARR, "\"%s\" is not an array", key);
	return v;
}

/* The element of array `a` whose "name" is `name`. */
static const struct jv *jnamed(const struct jv *a, const char *name)
{
	for (unsigned i = 0; a && i < a->n; i++) {
		struct jv *n = jget(a->items[i], "name");
		if (n && n->t == J_STR && !strcmp(n->str, name))
			return a->items[i];
	}
	return NULL;
}

/* ---- running rk-top ------------------------------------------------------------------ */

struct run {
	int status; /* waitpid's */
	char *out, *err;
};

static const char *rk_top_path(void)
{
	const char *p = getenv("RK_TOP");
	return p && *p ? p : "runtime/rk-top";
}

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	for (;;) {
		if (len + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static pid_t spawn(const char *const *args, int *out_fd, int *err_fd)
{
	int po[2], pe[2];
	cr_assert_eq(pipe(po), 0);
	cr_assert_eq(pipe(pe), 0);
	const char *argv[16];
	unsigned n = 0;
	argv[n++] = rk_top_path();
	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	*out_fd = po[0];
	*err_fd = pe[0];
	return pid;
}

/* Run rk-top with `args` (NULL-terminated) to its end. stderr is read
 * after stdout: rk-top writes little there, far less than a pipe holds. */
static struct run run_top(const char *const *args)
{
	int ofd, efd;
	pid_t pid = spawn(args, &ofd, &efd);
	struct run r = { 0 };
	r.out = slurp_fd(ofd);
	r.err = slurp_fd(efd);
	close(ofd);
	close(efd);
	cr_assert_eq(waitpid(pid, &r.status, 0), pid);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Exit status 0 and no sanitizer report. */
static void assert_clean_exit(const struct run *r)
{
	cr_assert(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
		  "rk-top ended with status 0x%x; stderr: %s", r->status, r->err);
	cr_assert_null(strstr(r->err, "Sanitizer"), "a sanitizer spoke: %s", r->err);
	cr_assert_null(strstr(r->err, "runtime error"), "UBSan spoke: %s", r->err);
}

/* rk-top --json ARGS: the parsed object, after checking it is valid. */
static struct jv *top_json(const char *const *args)
{
	const char *a[16] = { "--json", "--interval", "50" };
	unsigned n = 3;
	for (unsigned i = 0; args && args[i] && n < 15; i++)
		a[n++] = args[i];
	a[n] = NULL;
	struct run r = run_top(a);
	assert_clean_exit(&r);
	struct jv *v = jparse(r.out);
	cr_assert_not_null(v, "rk-top --json printed invalid JSON: %s", r.out);
	run_free(&r);
	return v;
}

/* ---- laying out runtimes ------------------------------------------------------------------ */

#define MAX_REGIONS 16
static rk_region *made[MAX_REGIONS];
static unsigned nmade;
static char made_raw[4][80]; /* objects made without the region API */

static void cleanup(void)
{
	for (unsigned i = 0; i < nmade; i++)
		rk_region_close(made[i]); /* ours: unlinks the name */
	nmade = 0;
	for (unsigned i = 0; i < 4; i++)
		if (made_raw[i][0]) {
			shm_unlink(made_raw[i]);
			made_raw[i][0] = '\0';
		}
}

/* A runtime name of this test process: "rktop<pid><tag>". */
static const char *rt_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "rktop%ld%s", (long)getpid(), tag);
	return buf;
}

struct sect {
	uint32_t kind, id;
	size_t size;
	void *p; /* out */
};

static rk_region *make_region(const char *name, struct sect *s, unsigned n)
{
	size_t sizes[8];
	cr_assert_leq(n, 8u);
	for (unsigned i = 0; i < n; i++)
		sizes[i] = s[i].size;
	rk_region *r;
	int ret = rk_region_create(name, rk_region_size_for(sizes, n), RK_REGION_UNLOCKED, &r);
	cr_assert_eq(ret, 0, "create %s: %s", name, rk_strerror(ret));
	cr_assert_lt(nmade, MAX_REGIONS);
	made[nmade++] = r;
	for (unsigned i = 0; i < n; i++) {
		uint64_t off;
		size_t got;
		cr_assert_eq(rk_region_alloc(r, s[i].kind, s[i].id, s[i].size, &off), 0);
		cr_assert_eq(rk_region_find(r, s[i].kind, s[i].id, &s[i].p, &got), 0);
	}
	return r;
}

/* Our own start time, /proc/self/stat field 22, as the owner records it. */
static uint64_t self_start(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY);
	cr_assert_geq(fd, 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	cr_assert_not_null(p);
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		cr_assert_not_null(p);
	}
	return strtoull(p + 1, NULL, 10);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The directory "rk.NAME" of a runtime owned by `pid`. */
static struct rk_dir *make_dir(const char *name, uint32_t pid, uint64_t start, uint32_t nkernels)
{
	char rname[80];
	snprintf(rname, sizeof(rname), "rk.%s", name);
	struct sect s = { RK_SECT_DIR, 0, sizeof(struct rk_dir), NULL };
	make_region(rname, &s, 1);
	struct rk_dir *d = s.p;
	d->owner_uid = (uint32_t)getuid();
	d->owner_pid = pid;
	d->owner_start = start;
	d->heartbeat_ns = mono_ns();
	d->created_ns = 1;
	d->nkernels = nkernels;
	snprintf((char *)d->name, sizeof(d->name), "%s", name);
	snprintf((char *)d->backend, sizeof(d->backend), "cpu");
	return d;
}

static void dir_entry(struct rk_dir *d, unsigned i, rk_state state, uint64_t id, const char *name,
		      const char *kernel, const char *region)
{
	struct rk_dir_kernel *e = &d->entry[i];
	e->state = (uint32_t)state + 1;
	e->id = id;
	snprintf((char *)e->name, sizeof(e->name), "%s", name);
	snprintf((char *)e->registry, sizeof(e->registry), "%s", kernel);
	snprintf((char *)e->region, sizeof(e->region), "%s", region);
	e->launch_ns = 1000 + id;
}

static size_t ring_bytes(uint32_t cap, uint32_t slot)
{
	size_t n;
	cr_assert_eq(rk_ring_mem_size(cap, slot, &n), 0);
	return (n + RK_LINE - 1) / RK_LINE * RK_LINE;
}

/* A real ring at `mem` holding `depth` messages, its indexes near `start`. */
static struct rk_ring_hdr *ring_at(void *mem, size_t size, uint32_t cap, uint32_t slot,
				   uint64_t start, uint64_t depth)
{
	struct rk_ring r;
	cr_assert_eq(rk_ring_init_at(&r, mem, size, cap, slot, 0, start), 0);
	struct rk_ring_hdr *h = mem;
	h->prod_head = h->prod_tail = start + depth;
	return h;
}

struct kregion {
	struct rk_ctrl *ctrl;
	struct rk_ring_hdr *in, *out;
	struct rk_clients *clients; /* NULL without a clients section */
	size_t clients_size;
};

/* A kernel region as the owner lays it out: control block, input and
 * output rings, and (max_clients > 0) the clients section with one reply
 * ring of 16 slots per client. */
static struct kregion make_kernel(const char *region, uint32_t in_cap, uint64_t in_depth,
				  uint32_t out_cap, uint64_t out_depth, uint32_t max_clients)
{
	size_t cring = ring_bytes(16, 64);
	struct sect s[4] = {
		{ RK_SECT_CTRL, 0, sizeof(struct rk_ctrl), NULL },
		{ RK_SECT_RING, 1, ring_bytes(in_cap, 128), NULL },
		{ RK_SECT_RING, 2, ring_bytes(out_cap, 128), NULL },
		{ RK_SECT_CLIENTS, 0, sizeof(struct rk_clients) + max_clients * cring, NULL },
	};
	make_region(region, s, max_clients ? 4 : 3);
	struct kregion k = { 0 };
	k.ctrl = s[0].p;
	k.ctrl->desired = RK_CTRL_ACTIVE;
	k.ctrl->observed = RK_CTRL_ACTIVE;
	/* indexes past 2^32: depth is a 64-bit difference */
	k.in = ring_at(s[1].p, s[1].size, in_cap, 128, (1ull << 32) - 2, in_depth);
	k.out = ring_at(s[2].p, s[2].size, out_cap, 128, 0, out_depth);
	if (max_clients) {
		k.clients = s[3].p;
		k.clients_size = s[3].size;
		k.clients->max_clients = max_clients;
		k.clients->ring_offset = sizeof(struct rk_clients);
		k.clients->ring_stride = cring;
		for (uint32_t i = 0; i < max_clients; i++)
			ring_at((uint8_t *)s[3].p + sizeof(struct rk_clients) + i * cring, cring,
				16, 64, 0, 0);
	}
	return k;
}

static struct rk_ring_hdr *client_ring(struct kregion *k, uint32_t slot)
{
	return (struct rk_ring_hdr *)((uint8_t *)k->clients + k->clients->ring_offset +
				      slot * k->clients->ring_stride);
}

/* A counter thread: the "busy" kernel's loop, turning while rk-top looks. */
static volatile int busy_stop;
static void *busy_loop(void *arg)
{
	struct rk_ctrl *c = arg;
	while (!__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&c->messages_processed, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&c->messages_sent, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&c->heartbeat, 16, __ATOMIC_RELEASE);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---- what a well-formed runtime shows ------------------------------------------------------- */

/* Every test closes (and so unlinks) what it made, pass or fail. */
#define TOP_TEST(name) Test(rk_top, name, .fini = cleanup, .timeout = 120)

struct good {
	char name[64];
	struct kregion echo, busy, idle;
};

/* "echo": 5 waiting in 64, 2 in 128 out, counters set, client 1 attached
 * (pid 4242) with one reply waiting; "busy": counters moving; "idle":
 * deactivated, no clients section. Entry 1 is unused. */
static void make_good(struct good *g, const char *tag)
{
	char region[128];
	rt_name(g->name, sizeof(g->name), tag);
	struct rk_dir *d = make_dir(g->name, (uint32_t)getpid(), self_start(), 4);
	snprintf(region, sizeof(region), "rk.%s.echo", g->name);
	dir_entry(d, 0, RK_STATE_ACTIVE, 7, "echo", "echo", region);
	g->echo = make_kernel(region, 64, 5, 128, 2, 4);
	struct rk_ctrl *c = g->echo.ctrl;
	c->messages_processed = 1234;
	c->messages_sent = 1230;
	c->errors = 3;
	c->stalls = 7;
	c->heartbeat = 99;
	struct rk_client_slot *sl = &g->echo.clients->slot[1];
	sl->state = RK_CLIENT_READY;
	sl->pid = 4242;
	sl->sent = 10;
	sl->received = 9;
	client_ring(&g->echo, 1)->prod_tail = 1;
	g->echo.clients->slot[2].state = RK_CLIENT_REQUEST; /* not attached yet */
	g->echo.clients->slot[2].pid = 4343;

	snprintf(region, sizeof(region), "rk.%s.busy", g->name);
	dir_entry(d, 2, RK_STATE_ACTIVE, 9, "busy", "counter", region);
	g->busy = make_kernel(region, 32, 0, 32, 0, 2);

	snprintf(region, sizeof(region), "rk.%s.idle", g->name);
	dir_entry(d, 3, RK_STATE_DEACTIVATED, 11, "idle", "sink", region);
	g->idle = make_kernel(region, 16, 0, 16, 0, 0);
}

TOP_TEST(json_shows_what_the_regions_hold)
{
	struct good g;
	make_good(&g, "g");
	pthread_t t;
	busy_stop = 0;
	cr_assert_eq(pthread_create(&t, NULL, busy_loop, g.busy.ctrl), 0);
	/* a longer interval: the counter thread surely turns within it */
	const char *args[] = { "--runtime", g.name, "--interval", "300", NULL };
	struct jv *top = top_json(args);
	__atomic_store_n(&busy_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);

	const struct jv *rts = jarr(top, "runtimes");
	cr_assert_eq(rts->n, 1u, "--runtime shows that runtime only");
	const struct jv *rt = jnamed(rts, g.name);
	cr_assert_not_null(rt);
	cr_assert_eq(jnum(rt, "owner_pid"), (double)getpid());
	cr_assert(jbool(rt, "alive"));
	cr_assert_not(jbool(rt, "stale"));
	cr_assert_str_eq(jstr(rt, "backend"), "cpu");
	cr_assert_geq(jnum(rt, "heartbeat_age_ms"), 0);
	cr_assert(jnull(rt, "error"));

	const struct jv *ks = jarr(rt, "kernels");
	cr_assert_eq(ks->n, 3u, "the unused entry is not a kernel");
	const struct jv *e = jnamed(ks, "echo");
	cr_assert_not_null(e);
	cr_assert_str_eq(jstr(e, "kernel"), "echo");
	cr_assert_eq(jnum(e, "id"), 7);
	cr_assert_str_eq(jstr(e, "state"), "active");
	cr_assert_eq(jnum(e, "input_depth"), 5);
	cr_assert_eq(jnum(e, "input_capacity"), 64);
	cr_assert_eq(jnum(e, "output_depth"), 2);
	cr_assert_eq(jnum(e, "output_capacity"), 128);
	cr_assert_eq(jnum(e, "processed"), 1234);
	cr_assert_eq(jnum(e, "sent"), 1230);
	cr_assert_eq(jnum(e, "errors"), 3);
	cr_assert_eq(jnum(e, "stalls"), 7);
	cr_assert_eq(jnum(e, "rate_in"), 0);
	cr_assert_eq(jnum(e, "rate_out"), 0);
	cr_assert_geq(jnum(e, "heartbeat_age_ms"), 0);
	cr_assert_str_eq(jstr(e, "heartbeat"), "stalled", "work waits, the heartbeat stands");
	cr_assert(jnull(e, "error"));
	const struct jv *cl = jarr(e, "clients");
	cr_assert_eq(cl->n, 1u, "only the READY slot is an attached client");
	cr_assert_eq(jnum(cl->items[0], "slot"), 1);
	cr_assert_eq(jnum(cl->items[0], "pid"), 4242);
	cr_assert_eq(jnum(cl->items[0], "sent"), 10);
	cr_assert_eq(jnum(cl->items[0], "received"), 9);
	cr_assert_eq(jnum(cl->items[0], "reply_depth"), 1);
	cr_assert_eq(jnum(cl->items[0], "reply_capacity"), 16);

	const struct jv *b = jnamed(ks, "busy");
	cr_assert_not_null(b);
	cr_assert_str_eq(jstr(b, "kernel"), "counter");
	cr_assert_gt(jnum(b, "processed"), 0);
	cr_assert_gt(jnum(b, "rate_in"), 0, "its counters moved between the two looks");
	cr_assert_gt(jnum(b, "rate_out"), 0);
	cr_assert_str_eq(jstr(b, "heartbeat"), "live");
	cr_assert_eq(jnum(b, "heartbeat_age_ms"), 0);
	cr_assert_eq(jnum(b, "input_depth"), 0);
	cr_assert_eq(jarr(b, "clients")->n, 0u);

	const struct jv *i = jnamed(ks, "idle");
	cr_assert_not_null(i);
	cr_assert_str_eq(jstr(i, "state"), "deactivated");
	cr_assert_str_eq(jstr(i, "heartbeat"), "idle");
	cr_assert_eq(jnum(i, "input_capacity"), 16);
	cr_assert_eq(jarr(i, "clients")->n, 0u);
	jfree(top);
}

/* The line of `out` that holds both strings, copied, or NULL. */
static char *line_with(const char *out, const char *a, const char *b)
{
	for (const char *l = out; *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char *line = strndup(l, n);
		if (strstr(line, a) && strstr(line, b))
			return line;
		free(line);
		if (!end)
			break;
		l = end + 1;
	}
	return NULL;
}

TOP_TEST(table_and_verbose_rows)
{
	struct good g;
	make_good(&g, "t");
	const char *args[] = { "--runtime", g.name, "-i", "20", NULL };
	struct run r = run_top(args);
	assert_clean_exit(&r);
	cr_assert_not_null(strstr(r.out, "RUNTIME"), "a header: %s", r.out);
	char *echo = line_with(r.out, g.name, " echo ");
	cr_assert_not_null(echo, "a row for echo: %s", r.out);
	cr_assert_not_null(strstr(echo, " 5/64 "), "%s", echo);
	cr_assert_not_null(strstr(echo, " 2/128 "), "%s", echo);
	cr_assert_not_null(strstr(echo, " 1234 "), "%s", echo);
	cr_assert_not_null(strstr(echo, " active "), "%s", echo);
	free(echo);
	cr_assert_null(strstr(r.out, "client 1: pid 4242"), "clients only with -v");
	run_free(&r);

	const char *vargs[] = { "--runtime", g.name, "-i", "20", "-v", NULL };
	r = run_top(vargs);
	assert_clean_exit(&r);
	cr_assert_not_null(
		strstr(r.out, "client 1: pid 4242, sent 10, received 9, reply ring 1/16"), "%s",
		r.out);
	run_free(&r);
}

TOP_TEST(watch_redraws_until_interrupted)
{
	struct good g;
	make_good(&g, "w");
	const char *args[] = { "--watch", "--json", "-i", "20", "--runtime", g.name, NULL };
	int ofd, efd;
	pid_t pid = spawn(args, &ofd, &efd);
	/* Two refreshes: two JSON lines that see the runtime. */
	char buf[1 << 16];
	size_t len = 0;
	unsigned lines = 0;
	while (lines < 2 && len + 1 < sizeof(buf)) {
		ssize_t n = read(ofd, buf + len, sizeof(buf) - 1 - len);
		cr_assert_gt(n, 0, "rk-top --watch stopped printing");
		for (ssize_t i = 0; i < n; i++)
			lines += buf[len + (size_t)i] == '\n';
		len += (size_t)n;
	}
	buf[len] = '\0';
	cr_assert_eq(kill(pid, SIGINT), 0);
	char *rest = slurp_fd(ofd);
	char *err = slurp_fd(efd);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: %s", st, err);
	char *nl = strchr(buf, '\n');
	*nl = '\0';
	struct jv *first = jparse(buf);
	cr_assert_not_null(first, "%s", buf);
	cr_assert_not_null(jnamed(jarr(first, "runtimes"), g.name));
	char *second_end = strchr(nl + 1, '\n');
	*second_end = '\0';
	struct jv *second = jparse(nl + 1);
	cr_assert_not_null(second, "%s", nl + 1);
	const struct jv *rt = jnamed(jarr(second, "runtimes"), g.name);
	cr_assert_not_null(rt);
	cr_assert_eq(jnum(jnamed(jarr(rt, "kernels"), "echo"), "input_depth"), 5);
	jfree(first);
	jfree(second);
	free(rest);
	free(err);
	close(ofd);
	close(efd);
}

/* ---- liveness ---------------------------------------------------------------------------------
 */

TOP_TEST(a_dead_or_recycled_owner_is_stale)
{
	char dead[64], recycled[64], live[64], zero[64];
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child); /* reaped: the pid is gone */
	make_dir(rt_name(dead, sizeof(dead), "dead"), (uint32_t)child, 12345, 0);
	make_dir(rt_name(recycled, sizeof(recycled), "recycled"), (uint32_t)getpid(),
		 self_start() + 1, 0);
	make_dir(rt_name(live, sizeof(live), "live"), (uint32_t)getpid(), self_start(), 0);
	make_dir(rt_name(zero, sizeof(zero), "zero"), 0, 0, 0);

	struct jv *top = top_json(NULL);
	const struct jv *rts = jarr(top, "runtimes");
	const struct jv *d = jnamed(rts, dead), *r = jnamed(rts, recycled), *l = jnamed(rts, live),
			*z = jnamed(rts, zero);
	cr_assert(d && r && l && z, "all four listed");
	cr_assert(jbool(d, "stale"));
	cr_assert_not(jbool(d, "alive"));
	cr_assert_eq(jnum(d, "owner_pid"), (double)child);
	cr_assert(jbool(r, "stale"), "our pid, another start time: not the owner");
	cr_assert_not(jbool(r, "alive"));
	cr_assert(jbool(z, "stale"), "pid 0 is nobody");
	cr_assert(jbool(l, "alive"));
	cr_assert_not(jbool(l, "stale"));
	cr_assert_eq(jarr(l, "kernels")->n, 0u);
	jfree(top);

	const char *args[] = { "-i", "1", NULL };
	struct run t = run_top(args);
	assert_clean_exit(&t);
	char *row = line_with(t.out, dead, " stale");
	cr_assert_not_null(row, "the table marks it stale: %s", t.out);
	free(row);
	row = line_with(t.out, live, " cpu ");
	cr_assert_not_null(row);
	cr_assert_null(strstr(row, "stale"), "%s", row);
	free(row);
	run_free(&t);
}

TOP_TEST(clean_removes_a_stale_runtime_and_keeps_a_live_one)
{
	char dead[64], live[64], region[128];
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	struct rk_dir *d = make_dir(rt_name(dead, sizeof(dead), "cdead"), (uint32_t)child, 1, 1);
	snprintf(region, sizeof(region), "rk.%s.echo", dead);
	dir_entry(d, 0, RK_STATE_ACTIVE, 1, "echo", "echo", region);
	make_kernel(region, 16, 0, 16, 0, 0);
	make_dir(rt_name(live, sizeof(live), "clive"), (uint32_t)getpid(), self_start(), 0);

	const char *a1[] = { "--clean", "--runtime", dead, NULL };
	struct run r = run_top(a1);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status 0x%x: %s %s", r.status,
		  r.out, r.err);
	cr_assert_not_null(strstr(r.out, "removed stale runtime"), "%s", r.out);
	run_free(&r);
	char path[160];
	snprintf(path, sizeof(path), "/dev/shm/rk.%s", dead);
	cr_assert_neq(access(path, F_OK), 0, "the directory went");
	snprintf(path, sizeof(path), "/dev/shm/%s", region);
	cr_assert_neq(access(path, F_OK), 0, "its kernel region went");

	const char *a2[] = { "--clean", "--runtime", live, NULL };
	r = run_top(a2);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1, "status 0x%x: %s %s", r.status,
		  r.out, r.err);
	cr_assert_not_null(strstr(r.out, "-EBUSY"), "%s", r.out);
	run_free(&r);
	snprintf(path, sizeof(path), "/dev/shm/rk.%s", live);
	cr_assert_eq(access(path, F_OK), 0, "a live runtime stays");
}

/* ---- what a scribbled region must not do ------------------------------------------------------
 */

TOP_TEST(tampered_regions_give_valid_output)
{
	char name[64], region[128];
	rt_name(name, sizeof(name), "tamper");
	struct rk_dir *d = make_dir(name, (uint32_t)getpid(), self_start(), 1000000);
	memset(d->backend, 'Z', sizeof(d->backend)); /* no terminator */

	/* 0: names without a terminator; its region name is 128 bytes of 'B' */
	struct rk_dir_kernel *e = &d->entry[0];
	e->state = RK_STATE_ACTIVE + 1;
	memset(e->name, 'A', sizeof(e->name));
	memset(e->registry, 'K', sizeof(e->registry));
	memset(e->region, 'B', sizeof(e->region));

	/* 1: an impossible state, a name with quotes and escapes, rings of
	 * capacity 3 and with an impossible depth, clients all over */
	snprintf(region, sizeof(region), "rk.%s.k1", name);
	dir_entry(d, 1, RK_STATE_ACTIVE, 21, "we\"ird\\\x1b[31m\n", "echo", region);
	d->entry[1].state = 99;
	struct kregion k = make_kernel(region, 16, 0, 16, 0, 4);
	k.in->capacity = 3;
	k.out->prod_tail = 1ull << 40;
	k.ctrl->messages_processed = 55;
	k.clients->max_clients = 1000;			/* more than the table has */
	for (unsigned i = 0; i < RK_MAX_CLIENTS; i++) { /* every slot READY */
		k.clients->slot[i].state = RK_CLIENT_READY;
		k.clients->slot[i].pid = 100 + i;
	}
	k.clients->ring_offset = k.clients_size + RK_LINE; /* outside the section */
	k.clients->ring_stride = 1ull << 63;		   /* and i * stride overflows */

	/* 2: an entry forever being written (odd seq) */
	d->entry[2].seq = 1;
	d->entry[2].state = RK_STATE_ACTIVE + 1;

	/* 3: its region does not exist */
	snprintf(region, sizeof(region), "rk.%s.missing", name);
	dir_entry(d, 3, RK_STATE_TERMINATED, 23, "missing", "echo", region);

	/* 4: a region with sections too small for what they should hold */
	snprintf(region, sizeof(region), "rk.%s.small", name);
	dir_entry(d, 4, RK_STATE_ACTIVE, 24, "small", "echo", region);
	struct sect s[3] = { { RK_SECT_CTRL, 0, 128, NULL },
			     { RK_SECT_RING, 1, 256, NULL },
			     { RK_SECT_CLIENTS, 0, 128, NULL } };
	struct rk_region_hdr *h = rk_region_base(make_region(region, s, 3));
	h->sect[0].size = 64; /* sections are whole lines: the table says less */

	/* 5: a region of another runtime's name */
	dir_entry(d, 5, RK_STATE_ACTIVE, 25, "other", "echo", "rk.someoneelse.echo");

	/* Whole runtimes that cannot be read: garbage, a loose mode, a
	 * directory section too small. */
	char garbage[64], loose[64], small[64], path[80];
	rt_name(garbage, sizeof(garbage), "garbage");
	snprintf(made_raw[0], sizeof(made_raw[0]), "/rk.%s", garbage);
	int fd = shm_open(made_raw[0], O_CREAT | O_EXCL | O_RDWR, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 8192), 0);
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)rk_test_mix(i);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);

	rt_name(loose, sizeof(loose), "loose");
	make_dir(loose, (uint32_t)getpid(), self_start(), 0);
	cr_assert_eq(fchmod(rk_region_fd(made[nmade - 1]), 0644), 0);

	rt_name(small, sizeof(small), "small");
	snprintf(path, sizeof(path), "rk.%s", small);
	struct sect ds = { RK_SECT_DIR, 0, 64, NULL };
	make_region(path, &ds, 1);

	struct jv *top = top_json(NULL);
	const struct jv *rts = jarr(top, "runtimes");
	const struct jv *rt = jnamed(rts, name);
	cr_assert_not_null(rt);
	cr_assert(jnull(rt, "error"));
	char zs[32];
	memset(zs, 'Z', 31);
	zs[31] = '\0';
	cr_assert_str_eq(jstr(rt, "backend"), zs, "cut at its field, terminated here");
	const struct jv *ks = jarr(rt, "kernels");
	cr_assert_eq(ks->n, 6u, "nkernels 1000000 is clamped; unused entries skipped");

	char as[64];
	memset(as, 'A', 63);
	as[63] = '\0';
	const struct jv *k0 = jnamed(ks, as);
	cr_assert_not_null(k0, "the name cut at 63 bytes");
	cr_assert_eq(strlen(jstr(k0, "kernel")), 63u);
	cr_assert_not(jnull(k0, "error"), "a region name that is not rk.RUNTIME.NAME");
	cr_assert(jnull(k0, "processed"));

	const struct jv *k1 = jnamed(ks, "we\"ird\\\x1b[31m\n");
	cr_assert_not_null(k1, "escaped in JSON, and back");
	cr_assert_str_eq(jstr(k1, "state"), "invalid");
	cr_assert(jnull(k1, "input_depth"), "capacity 3 is not a ring");
	cr_assert(jnull(k1, "input_capacity"));
	cr_assert(jnull(k1, "output_depth"), "a depth over the capacity is not a ring");
	cr_assert_eq(jnum(k1, "processed"), 55);
	const struct jv *cl = jarr(k1, "clients");
	cr_assert_eq(cl->n, RK_MAX_CLIENTS, "max_clients is clamped to the table");
	for (unsigned i = 0; i < cl->n; i++) {
		cr_assert_eq(jnum(cl->items[i], "pid"), 100 + i);
		cr_assert(jnull(cl->items[i], "reply_depth"), "its ring lies outside");
	}

	const struct jv *k2 = jnamed(ks, "?");
	cr_assert_not_null(k2, "the entry that kept changing is a row");
	cr_assert_not(jnull(k2, "error"));

	const struct jv *k3 = jnamed(ks, "missing");
	cr_assert_not_null(k3);
	cr_assert_str_eq(jstr(k3, "state"), "terminated");
	cr_assert_not_null(strstr(jstr(k3, "error"), "-ENOENT"));

	const struct jv *k4 = jnamed(ks, "small");
	cr_assert_not_null(k4);
	cr_assert(jnull(k4, "error"), "the region opens");
	cr_assert(jnull(k4, "processed"), "a 64-byte control block is not one");
	cr_assert(jnull(k4, "input_depth"), "nor a 256-byte ring");
	cr_assert(jnull(k4, "output_depth"), "absent");
	cr_assert_eq(jarr(k4, "clients")->n, 0u);

	const struct jv *k5 = jnamed(ks, "other");
	cr_assert_not_null(k5);
	cr_assert_not(jnull(k5, "error"), "a region outside this runtime's names");

	const struct jv *g = jnamed(rts, garbage);
	cr_assert_not_null(g, "an unreadable directory is a row");
	cr_assert_not_null(strstr(jstr(g, "error"), "-EBADMSG"), "%s", jstr(g, "error"));
	cr_assert(jnull(g, "owner_pid"));
	cr_assert_eq(jarr(g, "kernels")->n, 0u);
	const struct jv *lo = jnamed(rts, loose);
	cr_assert_not_null(lo);
	cr_assert_not_null(strstr(jstr(lo, "error"), "-EACCES"), "%s", jstr(lo, "error"));
	const struct jv *sm = jnamed(rts, small);
	cr_assert_not_null(sm);
	cr_assert_not_null(strstr(jstr(sm, "error"), "-ERANGE"), "%s", jstr(sm, "error"));
	jfree(top);

	/* The table and -v: exit 0, and no byte from a region reaches the
	 * terminal as a control character. */
	const char *targs[] = { "-v", "-i", "1", NULL };
	struct run r = run_top(targs);
	assert_clean_exit(&r);
	cr_assert_null(strchr(r.out, '\x1b'), "an escape sequence got through");
	char *row = line_with(r.out, name, "invalid");
	cr_assert_not_null(row, "%s", r.out);
	cr_assert_not_null(strstr(row, "we\"ird\\?[31m?"), "the ESC and newline are '?': %s", row);
	free(row);
	cr_assert_not_null(strstr(r.out, garbage), "%s", r.out);
	run_free(&r);
}

/* ---- the command line --------------------------------------------------------------------------
 */

TOP_TEST(usage_errors_exit_2)
{
	const char *bad[][4] = {
		{ "--interval", "0", NULL },
		{ "--interval", "12x", NULL },
		{ "--runtime", "a.b", NULL },
		{ "--runtime", "", NULL },
		{ "--bogus", NULL },
		{ "extra", NULL },
		{ "--clean", "--watch", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r = run_top(bad[i]);
		cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2, "%s: status 0x%x",
			  bad[i][0], r.status);
		cr_assert_neq(r.err[0], '\0', "%s: says why", bad[i][0]);
		run_free(&r);
	}
	const char *v[] = { "--version", NULL };
	struct run r = run_top(v);
	assert_clean_exit(&r);
	cr_assert_eq(strncmp(r.out, "rk-top (ringkernel-c) ", 22), 0, "%s", r.out);
	run_free(&r);
	const char *h[] = { "--help", NULL };
	r = run_top(h);
	assert_clean_exit(&r);
	cr_assert_not_null(strstr(r.out, "--json"));
	run_free(&r);
}

TOP_TEST(no_such_runtime_is_an_empty_list)
{
	char name[64];
	const char *args[] = { "--runtime", rt_name(name, sizeof(name), "nothere"), NULL };
	struct jv *top = top_json(args);
	cr_assert_eq(jarr(top, "runtimes")->n, 0u);
	jfree(top);
}

/* ---- a real named runtime ------------------------------------------------------------------ */

/* A child forked before the runtime's threads exist: on "go" it attaches
 * to the kernel and makes `calls` calls, writes "ok" (or what failed) on
 * the ready pipe, and stays attached until told to leave. */
static pid_t attach_child(const char *runtime, const char *kernel, int calls, int *go_fd,
			  int *ready_fd)
{
	int go[2], ready[2];
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char c, msg[400] = "ok";
		rk_kernel *k = NULL;
		int ret = 0;
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		if ((ret = rk_attach(runtime, kernel, &k)) < 0)
			snprintf(msg, sizeof(msg), "attach: %s (%s)", rk_strerror(ret),
				 rk_last_error());
		for (int i = 0; k && ret == 0 && i < calls; i++) {
			rk_message m;
			ret = rk_kernel_call(k, 1, &i, sizeof(i), &m, 10 * 1000000000ull);
			if (ret < 0)
				snprintf(msg, sizeof(msg), "call %d: %s (%s)", i, rk_strerror(ret),
					 rk_last_error());
		}
		if (write(ready[1], msg, strlen(msg)) < 0)
			_exit(13);
		close(ready[1]);
		if (read(go[0], &c, 1) != 1) /* leave */
			_exit(14);
		if (k)
			rk_detach(k);
		_exit(ret < 0 ? 1 : 0);
	}
	close(go[0]);
	close(ready[1]);
	*go_fd = go[1];
	*ready_fd = ready[0];
	return pid;
}

TOP_TEST(a_real_named_runtime_with_an_attached_client)
{
	char name[64];
	rt_name(name, sizeof(name), "real");
	int go, ready;
	pid_t child = attach_child(name, "e1", 7, &go, &ready);

	rk_runtime_builder *b = rk_runtime_builder_new();
	cr_assert_not_null(b);
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_name(b, name);
	/* what the owner publishes, unlinked at the end should a check fail */
	snprintf(made_raw[0], sizeof(made_raw[0]), "/rk.%s", name);
	snprintf(made_raw[1], sizeof(made_raw[1]), "/rk.%s.e1", name);
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		cr_skip_test("no CPU backend here: %s", rk_last_error());
	}
	cr_assert_eq(ret, 0, "build: %s (%s)", rk_strerror(ret), rk_last_error());
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "e1");
	rk_launch_options_with_input_capacity(&o, 256);
	rk_launch_options_with_output_capacity(&o, 128);
	rk_kernel *k = NULL;
	ret = rk_runtime_launch(rt, "echo", &o, &k);
	cr_assert_eq(ret, 0, "launch: %s (%s)", rk_strerror(ret), rk_last_error());
	for (int i = 0; i < 25; i++) {
		rk_message m;
		ret = rk_kernel_call(k, 1, &i, sizeof(i), &m, 10 * 1000000000ull);
		cr_assert_eq(ret, 0, "call %d: %s", i, rk_strerror(ret));
	}
	char c = 'g';
	cr_assert_eq(write(go, &c, 1), 1);
	char said[400];
	ssize_t n = read(ready, said, sizeof(said) - 1);
	said[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(said, "ok", "the client attaches and calls: %s", said);

	const char *args[] = { "--runtime", name, NULL };
	struct jv *top = top_json(args);
	const struct jv *r = jnamed(jarr(top, "runtimes"), name);
	cr_assert_not_null(r);
	cr_assert_eq(jnum(r, "owner_pid"), (double)getpid());
	cr_assert(jbool(r, "alive"), "the owner is this process");
	cr_assert_not(jbool(r, "stale"));
	cr_assert_str_eq(jstr(r, "backend"), "cpu");
	cr_assert_geq(jnum(r, "heartbeat_age_ms"), 0);
	const struct jv *ks = jarr(r, "kernels");
	cr_assert_eq(ks->n, 1u);
	const struct jv *e = jnamed(ks, "e1");
	cr_assert_not_null(e);
	cr_assert_str_eq(jstr(e, "kernel"), "echo");
	cr_assert_eq(jnum(e, "id"), (double)rk_kernel_id(k));
	cr_assert_str_eq(jstr(e, "state"), "active");
	cr_assert_eq(jnum(e, "processed"), 25 + 7, "the owner's 25 calls and the client's 7");
	cr_assert_eq(jnum(e, "sent"), 25 + 7);
	cr_assert_eq(jnum(e, "errors"), 0);
	cr_assert_eq(jnum(e, "input_depth"), 0);
	cr_assert_eq(jnum(e, "input_capacity"), 256);
	cr_assert_eq(jnum(e, "output_depth"), 0);
	cr_assert_eq(jnum(e, "output_capacity"), 128);
	cr_assert_eq(jnum(e, "rate_in"), 0, "nothing moved while rk-top looked");
	const struct jv *cl = jarr(e, "clients");
	cr_assert_eq(cl->n, 1u, "the child is attached");
	cr_assert_eq(jnum(cl->items[0], "pid"), (double)child);
	cr_assert_eq(jnum(cl->items[0], "sent"), 7);
	cr_assert_eq(jnum(cl->items[0], "received"), 7);
	cr_assert_eq(jnum(cl->items[0], "reply_depth"), 0);
	jfree(top);

	cr_assert_eq(write(go, &c, 1), 1); /* leave */
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client status 0x%x", st);
	close(go);
	close(ready);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	rk_kernel_release(k);
	cr_assert_eq(rk_runtime_shutdown(rt), 0);

	/* Shut down, the owner took its directory with it. */
	top = top_json(args);
	cr_assert_eq(jarr(top, "runtimes")->n, 0u);
	jfree(top);
}
