/* SPDX-License-Identifier: MIT */
/*
 * rk-top - what the named runtimes of this user are doing: per kernel its
 * state, ring depths, counters and rates, whether its loop still turns,
 * the owner process and the processes attached to it. Uses the public
 * headers only; reads shared memory and writes nothing there.
 *
 * Everything it reads was written by other processes of this user, any of
 * which may have scribbled on it: every count is clamped, every offset and
 * size is checked against the section it came with, every string is
 * copied and terminated here, and a name is shown with its non-printable
 * bytes replaced. A region truncated under our mapping (SIGBUS) costs the
 * runtime being read its row, not rk-top.
 *
 * Exit status: 0, 1 when --clean could not remove a runtime, 2 on a usage
 * error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/layout.h>
#include <ringkernel/region.h>
#include <ringkernel/ringkernel.h>

#define PROG	"rk-top"
#define SHM_DIR "/dev/shm"

/* A directory entry that keeps changing under us is given up after this
 * many reads (the owner rewrites one in microseconds). */
#define SEQ_TRIES 1000

/* ---- what one look at a runtime saw -------------------------------------------- */

struct ring_view {
	bool ok; /* a valid ring header: depth and capacity mean something */
	uint32_t capacity;
	uint64_t depth;
};

struct client_view {
	uint32_t slot;
	uint32_t pid;
	uint64_t sent, received;
	struct ring_view reply;
};

struct kern_view {
	char name[RK_NAME_MAX];
	char kernel[RK_NAME_MAX];
	char region[2 * RK_NAME_MAX];
	uint64_t id, launch_ns;
	uint32_t state;	 /* as in the directory: rk_state + 1 */
	int err;	 /* the entry or its region could not be read: -errno */
	const char *why; /* what err is about */
	bool ctrl_ok;
	uint64_t processed, sent, errors, stalls, heartbeat;
	uint32_t terminated;
	struct ring_view in, out;
	bool prof_ok; /* the kernel is profiled (RK_SECT_PROFILE) */
	uint64_t prof_messages, qw_p50, qw_p99, h_p50, h_p99, stall_ns;
	bool clients_ok;
	unsigned nclients;
	struct client_view client[RK_MAX_CLIENTS];
	/* derived from the previous look */
	bool rates_ok;
	double rate_in, rate_out;
	uint64_t hb_seen_ns; /* when this heartbeat value was first seen */
	int64_t hb_age_ms;   /* -1: unknown */
	const char *hb_word; /* live, idle, stalled, stopped; NULL: unknown */
};

struct rt_view {
	char name[RK_NAME_MAX]; /* from the file name "rk.NAME" */
	int err;		/* the directory could not be read: -errno */
	const char *why;
	uint32_t owner_pid;
	uint64_t owner_start;
	bool alive, closed;
	int64_t owner_hb_ms; /* -1: unknown */
	char backend[32];
	unsigned nk;
	struct kern_view *k;
};

struct snap {
	uint64_t t_ns; /* CLOCK_MONOTONIC when taken */
	unsigned n;
	struct rt_view *rt;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void snap_free(struct snap *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->rt[i].k);
	free(s->rt);
	s->rt = NULL;
	s->n = 0;
}

/* ---- names ----------------------------------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* A runtime name as rk_runtime_builder_name() takes it: 1..63 of [A-Za-z0-9_-]. */
static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= RK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* A string field of shared memory: at most cap-1 bytes, up to a NUL or not. */
static void copy_field(char *dst, const rk_u8 *src, size_t cap)
{
	size_t i = 0;
	for (; i + 1 < cap && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = '\0';
}

/* ---- reading shared memory ------------------------------------------------------------ */

/*
 * The shared objects are mapped at their size when opened; another process
 * of this user may truncate one after that, and a read past its new end is
 * SIGBUS. While `guarded` is set the handler jumps back to the look at the
 * runtime in progress, which reports the runtime as unreadable.
 */
static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guarded;

static void on_sigbus(int sig)
{
	if (guarded) {
		guarded = 0;
		siglongjmp(guard_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint32_t ld32(const rk_u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint64_t ld64(const rk_u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* A section of `kind`/`id` at least `need` bytes long and line-aligned (the
 * header could have been rewritten since rk_region_open() checked it). */
static int find_section(rk_region *r, uint32_t kind, uint32_t id, size_t need, void **p,
			size_t *size)
{
	int ret = rk_region_find(r, kind, id, p, size);
	if (ret < 0)
		return ret;
	if (*size < need || (uintptr_t)*p % RK_LINE)
		return -ERANGE;
	return 0;
}

/* A ring header at `p` with `size` bytes of section behind it. */
static struct ring_view ring_read(const void *p, size_t size)
{
	struct ring_view v = { 0 };
	const struct rk_ring_hdr *h = p;
	if (size < sizeof(*h) || (uintptr_t)p % RK_LINE)
		return v;
	uint32_t magic = ld32(&h->magic), cap = ld32(&h->capacity), ss = ld32(&h->slot_size);
	if (magic != RK_RING_MAGIC || cap == 0 || cap > RK_RING_MAX_CAPACITY || (cap & (cap - 1)) ||
	    ss < RK_SLOT_ALIGN || ss > RK_SLOT_MAX || ss % RK_SLOT_ALIGN)
		return v;
	if ((uint64_t)cap * ss > size - sizeof(*h)) /* slots past the section */
		return v;
	/* prod_tail - cons_head with cons_head unchanged around the read of
	 * prod_tail: 0..capacity, unless someone scribbled on them. */
	for (int tries = 0; tries < 64; tries++) {
		uint64_t c1 = ld64(&h->cons_head);
		uint64_t t = ld64(&h->prod_tail);
		uint64_t c2 = ld64(&h->cons_head);
		if (c1 != c2)
			continue;
		if (t - c1 > cap)
			return v;
		v.ok = true;
		v.capacity = cap;
		v.depth = t - c1;
		return v;
	}
	return v;
}

/* /proc/PID/stat: its state letter and start time (field 22). */
static bool proc_stat(uint32_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S f4 ... f22 ...": comm may hold anything, ')' included */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return false;
	*state = p[2];
	p += 2; /* field 3 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return false;
	*start = v;
	return true;
}

/* The owner is alive: the pid is there and ours to signal, is not a zombie,
 * and started when the directory says (a recycled pid is not the owner). */
static bool owner_alive(uint32_t pid, uint64_t start)
{
	char st;
	uint64_t t;
	if (pid == 0 || pid > INT_MAX || start == 0)
		return false;
	if (kill((pid_t)pid, 0) < 0)
		return false;
	if (!proc_stat(pid, &st, &t))
		return false;
	return st != 'Z' && st != 'X' && t == start;
}

/* The upper bound (ns) of the power-of-two bucket holding the quantile
 * (permille) of a kernel-written histogram; counts may be anything. */
static uint64_t prof_quantile(const uint64_t *hist, unsigned permille)
{
	uint64_t h[RK_PROF_BUCKETS], total = 0, seen = 0;
	for (unsigned b = 0; b < RK_PROF_BUCKETS; b++) {
		h[b] = ld64(&hist[b]);
		total = total + h[b] < total ? UINT64_MAX : total + h[b];
	}
	if (!total)
		return 0;
	uint64_t want = total / 1000 * permille + (total % 1000) * permille / 1000;
	if (!want)
		want = 1;
	for (unsigned b = 0; b < RK_PROF_BUCKETS; b++) {
		seen = seen + h[b] < seen ? UINT64_MAX : seen + h[b];
		if (seen >= want)
			return (2ull << b) - 1;
	}
	return UINT64_MAX;
}

/* A consistent copy of a directory entry (seqlock), or false. */
static bool entry_copy(const struct rk_dir_kernel *src, struct rk_dir_kernel *dst)
{
	memset(dst, 0, sizeof(*dst));
	for (int tries = 0; tries < SEQ_TRIES; tries++) {
		uint32_t s1 = ld32(&src->seq);
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		/* word by word, acquire: the second seq read stays after them */
		const uint64_t *w = (const uint64_t *)(const void *)src;
		uint64_t *d = (uint64_t *)(void *)dst;
		for (size_t i = 0; i < sizeof(*dst) / 8; i++)
			d[i] = __atomic_load_n(&w[i], __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == s1)
			return true;
	}
	return false;
}

static void kern_set_err(struct kern_view *k, int err, const char *why)
{
	k->err = err;
	k->why = why;
}

/* The kernel's own region: its control block, rings and clients. */
static void read_kernel(const char *rtname, struct kern_view *k, rk_region *volatile *kr)
{
	char prefix[RK_NAME_MAX + 8];
	int n = snprintf(prefix, sizeof(prefix), "rk.%s.", rtname);
	size_t len = strlen(k->region);
	bool ok = len > (size_t)n && !strncmp(k->region, prefix, (size_t)n);
	for (size_t i = (size_t)n; ok && i < len; i++)
		ok = name_char(k->region[i]);
	if (!ok) {
		kern_set_err(k, -EINVAL, "its region name is not rk.RUNTIME.NAME");
		return;
	}
	rk_region *r;
	int ret = rk_region_open(k->region, RK_REGION_UNLOCKED, &r);
	if (ret < 0) {
		kern_set_err(k, ret, "opening its region");
		return;
	}
	*kr = r;
	void *p;
	size_t size;
	if (find_section(r, RK_SECT_CTRL, 0, sizeof(struct rk_ctrl), &p, &size) == 0) {
		const struct rk_ctrl *c = p;
		k->ctrl_ok = true;
		k->processed = ld64(&c->messages_processed);
		k->sent = ld64(&c->messages_sent);
		k->errors = ld64(&c->errors);
		k->stalls = ld64(&c->stalls);
		k->heartbeat = ld64(&c->heartbeat);
		k->terminated = ld32(&c->terminated);
	}
	if (find_section(r, RK_SECT_PROFILE, 0, sizeof(struct rk_profile), &p, &size) == 0) {
		const struct rk_profile *pf = p;
		k->prof_ok = true;
		k->prof_messages = ld64(&pf->messages);
		k->stall_ns = ld64(&pf->stall_ns);
		k->qw_p50 = prof_quantile(pf->queue_wait, 500);
		k->qw_p99 = prof_quantile(pf->queue_wait, 990);
		k->h_p50 = prof_quantile(pf->handler, 500);
		k->h_p99 = prof_quantile(pf->handler, 990);
	}
	if (rk_region_find(r, RK_SECT_RING, 1, &p, &size) == 0)
		k->in = ring_read(p, size);
	if (rk_region_find(r, RK_SECT_RING, 2, &p, &size) == 0)
		k->out = ring_read(p, size);
	if (find_section(r, RK_SECT_CLIENTS, 0, sizeof(struct rk_clients), &p, &size) == 0) {
		const struct rk_clients *c = p;
		uint32_t max = ld32(&c->max_clients);
		uint64_t off = ld64(&c->ring_offset), stride = ld64(&c->ring_stride);
		if (max > RK_MAX_CLIENTS)
			max = RK_MAX_CLIENTS;
		k->clients_ok = true;
		for (uint32_t i = 0; i < max; i++) {
			const struct rk_client_slot *s = &c->slot[i];
			if (ld32(&s->state) != RK_CLIENT_READY)
				continue;
			struct client_view *cv = &k->client[k->nclients++];
			cv->slot = i;
			cv->pid = ld32(&s->pid);
			cv->sent = ld64(&s->sent);
			cv->received = ld64(&s->received);
			/* Its reply ring, where it lies inside the section. */
			uint64_t at;
			if (!__builtin_mul_overflow((uint64_t)i, stride, &at) &&
			    !__builtin_add_overflow(at, off, &at) && at < size)
				cv->reply = ring_read((const uint8_t *)p + at, size - (size_t)at);
		}
	}
	*kr = NULL;
	rk_region_close(r);
}

/* One look at the runtime "rk.NAME". */
static void read_runtime(struct rt_view *v)
{
	char rname[RK_NAME_MAX + 4];
	/* Regions open when a SIGBUS jumps back here; volatile for the jump. */
	rk_region *volatile dr = NULL, *volatile kr = NULL;
	snprintf(rname, sizeof(rname), "rk.%s", v->name);
	v->owner_hb_ms = -1;
	if (sigsetjmp(guard_jmp, 1)) {
		if (kr)
			rk_region_close(kr);
		if (dr)
			rk_region_close(dr);
		free(v->k);
		v->k = NULL;
		v->nk = 0;
		v->err = -EFAULT;
		v->why = "a region shrank while it was read (SIGBUS)";
		return;
	}
	rk_region *r;
	int ret = rk_region_open(rname, RK_REGION_UNLOCKED, &r);
	if (ret < 0) {
		v->err = ret;
		v->why = "opening its directory";
		return;
	}
	dr = r;
	guarded = 1;
	void *p;
	size_t size;
	if ((ret = find_section(r, RK_SECT_DIR, 0, sizeof(struct rk_dir), &p, &size)) < 0) {
		v->err = ret;
		v->why = "its directory section";
		goto out;
	}
	const struct rk_dir *d = p;
	uint64_t now = mono_ns();
	v->owner_pid = ld32(&d->owner_pid);
	v->owner_start = ld64(&d->owner_start);
	v->closed = ld32(&d->closed) != 0;
	uint64_t hb = ld64(&d->heartbeat_ns);
	/* The owner's CLOCK_MONOTONIC: the same clock; a value in the future
	 * (by more than a clock read apart) is not a heartbeat. */
	if (hb && hb <= now + 1000000000u)
		v->owner_hb_ms = hb >= now ? 0 : (int64_t)((now - hb) / 1000000u);
	copy_field(v->backend, d->backend, sizeof(v->backend));
	v->alive = owner_alive(v->owner_pid, v->owner_start);
	uint32_t nk = ld32(&d->nkernels);
	if (nk > RK_DIR_MAX_KERNELS)
		nk = RK_DIR_MAX_KERNELS;
	v->k = calloc(nk ? nk : 1, sizeof(*v->k));
	if (!v->k) {
		v->err = -ENOMEM;
		v->why = "its kernels";
		goto out;
	}
	for (uint32_t i = 0; i < nk; i++) {
		struct rk_dir_kernel e;
		struct kern_view *k = &v->k[v->nk];
		memset(k, 0, sizeof(*k));
		if (!entry_copy(&d->entry[i], &e)) {
			snprintf(k->name, sizeof(k->name), "?");
			kern_set_err(k, -EAGAIN, "its directory entry kept changing");
			v->nk++;
			continue;
		}
		if (e.state == 0)
			continue; /* unused */
		k->state = e.state;
		k->id = e.id;
		k->launch_ns = e.launch_ns;
		copy_field(k->name, e.name, sizeof(k->name));
		copy_field(k->kernel, e.registry, sizeof(k->kernel));
		copy_field(k->region, e.region, sizeof(k->region));
		read_kernel(v->name, k, &kr);
		v->nk++;
	}
out:
	guarded = 0;
	dr = NULL;
	rk_region_close(r);
}

static int rt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rt_view *)a)->name, ((const struct rt_view *)b)->name);
}

/*
 * Every "rk.NAME" of this user in /dev/shm (exactly one dot: "rk.NAME.K"
 * are kernel regions), or just `only`. Unreadable ones are views with err.
 */
static int take_snap(struct snap *s, const char *only)
{
	memset(s, 0, sizeof(*s));
	DIR *dir = opendir(SHM_DIR);
	if (!dir) {
		int err = -errno;
		fprintf(stderr, PROG ": %s: %s\n", SHM_DIR, strerror(-err));
		return err;
	}
	unsigned cap = 0;
	struct dirent *de;
	uid_t uid = getuid();
	while ((de = readdir(dir))) {
		const char *f = de->d_name;
		if (strncmp(f, "rk.", 3) || !name_valid(f + 3))
			continue;
		if (only && strcmp(f + 3, only))
			continue;
		struct stat st;
		if (fstatat(dirfd(dir), f, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != uid)
			continue;
		if (s->n == cap) {
			unsigned ncap = cap ? 2 * cap : 16;
			struct rt_view *nrt = realloc(s->rt, ncap * sizeof(*nrt));
			if (!nrt)
				break;
			s->rt = nrt;
			cap = ncap;
		}
		struct rt_view *v = &s->rt[s->n++];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", f + 3);
	}
	closedir(dir);
	if (s->n)
		qsort(s->rt, s->n, sizeof(*s->rt), rt_cmp);
	for (unsigned i = 0; i < s->n; i++)
		read_runtime(&s->rt[i]);
	s->t_ns = mono_ns();
	return 0;
}

/* ---- two looks: rates and heartbeats ------------------------------------------------ */

static const struct kern_view *find_prev(const struct snap *prev, const char *rt,
					 const struct kern_view *k)
{
	for (unsigned i = 0; prev && i < prev->n; i++) {
		if (strcmp(prev->rt[i].name, rt))
			continue;
		for (unsigned j = 0; j < prev->rt[i].nk; j++) {
			const struct kern_view *p = &prev->rt[i].k[j];
			if (!p->err && p->id == k->id && p->launch_ns == k->launch_ns &&
			    !strcmp(p->name, k->name))
				return p;
		}
	}
	return NULL;
}

static void derive(struct snap *cur, const struct snap *prev)
{
	double dt = prev ? (double)(cur->t_ns - prev->t_ns) / 1e9 : 0;
	for (unsigned i = 0; i < cur->n; i++) {
		for (unsigned j = 0; j < cur->rt[i].nk; j++) {
			struct kern_view *k = &cur->rt[i].k[j];
			k->hb_age_ms = -1;
			if (k->err || !k->ctrl_ok)
				continue;
			const struct kern_view *p = find_prev(prev, cur->rt[i].name, k);
			if (p && p->ctrl_ok && dt > 0 && k->processed >= p->processed &&
			    k->sent >= p->sent) {
				k->rates_ok = true;
				k->rate_in = (double)(k->processed - p->processed) / dt;
				k->rate_out = (double)(k->sent - p->sent) / dt;
			}
			/* A heartbeat that moved was seen now; one that did not
			 * is at least as old as the first look that had it. */
			if (!p || !p->ctrl_ok || p->heartbeat != k->heartbeat)
				k->hb_seen_ns = cur->t_ns;
			else
				k->hb_seen_ns = p->hb_seen_ns;
			if (!p)
				continue; /* one look says nothing about it */
			k->hb_age_ms = (int64_t)((cur->t_ns - k->hb_seen_ns) / 1000000u);
			if (k->state == RK_STATE_TERMINATED + 1 || k->terminated)
				k->hb_word = "stopped";
			else if (k->hb_seen_ns == cur->t_ns)
				k->hb_word = "live";
			else if (k->state == RK_STATE_ACTIVE + 1 && k->in.ok && k->in.depth)
				k->hb_word = "stalled"; /* work waits and the loop does not turn */
			else
				k->hb_word = "idle"; /* a loop with nothing to do parks */
		}
	}
}

/* ---- output -------------------------------------------------------------------------- */

/* The directory's state (rk_state + 1) as a word; "invalid" for what no
 * owner writes. */
static const char *state_word(uint32_t s)
{
	static const char *const words[] = { "created", "launched", "active", "deactivated",
					     "terminated" };
	return s >= 1 && s <= RK_STATE_TERMINATED + 1 ? words[s - 1] : "invalid";
}

/* "-ENOENT" out of rk_strerror()'s "-ENOENT (no such ...)". */
static const char *err_symbol(int err, char *buf, size_t len)
{
	const char *s = rk_strerror(err);
	size_t n = strcspn(s, " ");
	snprintf(buf, len, "%.*s", (int)n, s);
	return buf;
}

/* A JSON string: quotes, backslashes, control and non-ASCII bytes escaped
 * (names are ASCII; anything else came from a scribbled region). */
static void json_str(const char *v)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

static void json_u64(const char *key, bool ok, uint64_t v)
{
	if (ok)
		printf(", \"%s\": %" PRIu64, key, v);
	else
		printf(", \"%s\": null", key);
}

static void json_ring(const char *depth, const char *cap, const struct ring_view *r)
{
	json_u64(depth, r->ok, r->depth);
	json_u64(cap, r->ok, r->capacity);
}

static void json_err(int err, const char *why)
{
	printf(", \"error\": ");
	if (!err) {
		printf("null");
		return;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s: %s", why ? why : "", rk_strerror(err));
	json_str(buf);
}

static void print_json(const struct snap *s)
{
	printf("{\"runtimes\": [");
	for (unsigned i = 0; i < s->n; i++) {
		const struct rt_view *v = &s->rt[i];
		bool known = v->err == 0;
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(v->name);
		json_u64("owner_pid", known, v->owner_pid);
		printf(", \"alive\": %s, \"stale\": %s", known && v->alive ? "true" : "false",
		       known && !v->alive ? "true" : "false");
		printf(", \"closed\": %s", v->closed ? "true" : "false");
		printf(", \"backend\": ");
		if (known)
			json_str(v->backend);
		else
			printf("null");
		json_u64("heartbeat_age_ms", v->owner_hb_ms >= 0, (uint64_t)v->owner_hb_ms);
		json_err(v->err, v->why);
		printf(", \"kernels\": [");
		for (unsigned j = 0; j < v->nk; j++) {
			const struct kern_view *k = &v->k[j];
			bool c = k->ctrl_ok;
			printf("%s{\"name\": ", j ? ", " : "");
			json_str(k->name);
			printf(", \"kernel\": ");
			json_str(k->kernel);
			printf(", \"region\": ");
			json_str(k->region);
			printf(", \"id\": %" PRIu64 ", \"state\": ", k->id);
			if (k->state)
				json_str(state_word(k->state));
			else
				printf("null");
			json_ring("input_depth", "input_capacity", &k->in);
			json_ring("output_depth", "output_capacity", &k->out);
			json_u64("processed", c, k->processed);
			json_u64("sent", c, k->sent);
			json_u64("errors", c, k->errors);
			json_u64("stalls", c, k->stalls);
			if (k->rates_ok)
				printf(", \"rate_in\": %.1f, \"rate_out\": %.1f", k->rate_in,
				       k->rate_out);
			else
				printf(", \"rate_in\": null, \"rate_out\": null");
			json_u64("heartbeat_age_ms", k->hb_age_ms >= 0, (uint64_t)k->hb_age_ms);
			printf(", \"heartbeat\": ");
			if (k->hb_word)
				json_str(k->hb_word);
			else
				printf("null");
			json_err(k->err, k->why);
			if (k->prof_ok)
				printf(", \"profile\": {\"messages\": %" PRIu64
				       ", \"queue_wait_p50_ns\": %" PRIu64
				       ", \"queue_wait_p99_ns\": %" PRIu64
				       ", \"handler_p50_ns\": %" PRIu64
				       ", \"handler_p99_ns\": %" PRIu64 ", \"stall_ns\": %" PRIu64
				       "}",
				       k->prof_messages, k->qw_p50, k->qw_p99, k->h_p50, k->h_p99,
				       k->stall_ns);
			else
				printf(", \"profile\": null");
			printf(", \"clients\": [");
			for (unsigned m = 0; m < k->nclients; m++) {
				const struct client_view *cl = &k->client[m];
				printf("%s{\"slot\": %u, \"pid\": %u, \"sent\": %" PRIu64
				       ", \"received\": %" PRIu64,
				       m ? ", " : "", cl->slot, cl->pid, cl->sent, cl->received);
				json_ring("reply_depth", "reply_capacity", &cl->reply);
				printf("}");
			}
			printf("]}");
		}
		printf("]}");
	}
	printf("]}\n");
}

/* The table: cells collected first, then printed at their column widths. */
enum {
	C_RUNTIME,
	C_NAME,
	C_KERNEL,
	C_ID,
	C_STATE,
	C_BACKEND,
	C_IN,
	C_OUT,
	C_PROC,
	C_SENT,
	C_ERR,
	C_STALL,
	C_RIN,
	C_ROUT,
	C_HB,
	C_OWNER,
	C_OWNERHB,
	C_CLIENTS,
	NCOL
};

static const char *const col_head[NCOL] = { "RUNTIME",	 "NAME",    "KERNEL",	 "ID",
					    "STATE",	 "BACKEND", "INPUT",	 "OUTPUT",
					    "PROCESSED", "SENT",    "ERRORS",	 "STALLS",
					    "IN/S",	 "OUT/S",   "HEARTBEAT", "OWNER",
					    "OWNER-HB",	 "CLIENTS" };
/* Numbers are right-aligned. */
static const bool col_right[NCOL] = {
	[C_ID] = true,	[C_IN] = true,	  [C_OUT] = true, [C_PROC] = true, [C_SENT] = true,
	[C_ERR] = true, [C_STALL] = true, [C_RIN] = true, [C_ROUT] = true, [C_CLIENTS] = true
};

#define CELL 80
struct row {
	char c[NCOL][CELL];
	char *extra; /* -v: the clients, printed under the row */
};

/* What a terminal gets of a name from shared memory: printable ASCII. */
static void cell(struct row *r, int col, const char *v)
{
	size_t i = 0;
	for (; v[i] && i + 1 < CELL; i++)
		r->c[col][i] = v[i] > 0x20 && v[i] < 0x7f ? v[i] : '?';
	r->c[col][i] = '\0';
}

static void cellf(struct row *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cellf(struct row *r, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->c[col], CELL, fmt, ap);
	va_end(ap);
}

static void cell_ring(struct row *r, int col, const struct ring_view *v)
{
	if (v->ok)
		cellf(r, col, "%" PRIu64 "/%u", v->depth, v->capacity);
	else
		cell(r, col, "?");
}

static void cell_rate(struct row *r, int col, bool ok, double v)
{
	if (!ok)
		cell(r, col, "-");
	else if (v >= 1e6)
		cellf(r, col, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		cellf(r, col, "%.1fk", v / 1e3);
	else
		cellf(r, col, "%.0f", v);
}

static void row_runtime(struct row *r, const struct rt_view *v)
{
	for (int i = 0; i < NCOL; i++)
		cell(r, i, "-");
	cell(r, C_RUNTIME, v->name);
	if (v->err) {
		cell(r, C_OWNER, "?");
		return;
	}
	cell(r, C_BACKEND, v->backend[0] ? v->backend : "?");
	cellf(r, C_OWNER, "%u%s", v->owner_pid, !v->alive ? " stale" : v->closed ? " closing" : "");
	if (v->owner_hb_ms >= 0)
		cellf(r, C_OWNERHB, "%" PRId64 "ms", v->owner_hb_ms);
	else
		cell(r, C_OWNERHB, "?");
}

static void row_kernel(struct row *r, const struct kern_view *k, bool verbose)
{
	cell(r, C_NAME, k->name[0] ? k->name : "?");
	cell(r, C_KERNEL, k->kernel[0] ? k->kernel : "?");
	cellf(r, C_ID, "%" PRIu64, k->id);
	cell(r, C_STATE, k->state ? state_word(k->state) : "?");
	if (k->err) {
		char sym[32];
		cell(r, C_IN, "?");
		cell(r, C_OUT, "?");
		cell(r, C_HB, err_symbol(k->err, sym, sizeof(sym)));
		return;
	}
	cell_ring(r, C_IN, &k->in);
	cell_ring(r, C_OUT, &k->out);
	if (k->ctrl_ok) {
		cellf(r, C_PROC, "%" PRIu64, k->processed);
		cellf(r, C_SENT, "%" PRIu64, k->sent);
		cellf(r, C_ERR, "%" PRIu64, k->errors);
		cellf(r, C_STALL, "%" PRIu64, k->stalls);
	} else {
		cell(r, C_PROC, "?");
	}
	cell_rate(r, C_RIN, k->rates_ok, k->rate_in);
	cell_rate(r, C_ROUT, k->rates_ok, k->rate_out);
	if (!k->hb_word)
		cell(r, C_HB, k->ctrl_ok ? "-" : "?");
	else if (!strcmp(k->hb_word, "live") || !strcmp(k->hb_word, "stopped"))
		cell(r, C_HB, k->hb_word);
	else
		cellf(r, C_HB, "%s %" PRId64 "ms", k->hb_word, k->hb_age_ms);
	if (k->clients_ok)
		cellf(r, C_CLIENTS, "%u", k->nclients);
	if (!verbose || !k->nclients)
		return;
	size_t cap = (size_t)k->nclients * 128, len = 0;
	r->extra = malloc(cap);
	if (!r->extra)
		return;
	for (unsigned m = 0; m < k->nclients; m++) {
		const struct client_view *cl = &k->client[m];
		char reply[48] = "?";
		if (cl->reply.ok)
			snprintf(reply, sizeof(reply), "%" PRIu64 "/%u", cl->reply.depth,
				 cl->reply.capacity);
		int n = snprintf(r->extra + len, cap - len,
				 "    client %u: pid %u, sent %" PRIu64 ", received %" PRIu64
				 ", reply ring %s\n",
				 cl->slot, cl->pid, cl->sent, cl->received, reply);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
}

static void print_table(const struct snap *s, bool verbose)
{
	unsigned nrows = 1;
	for (unsigned i = 0; i < s->n; i++)
		nrows += s->rt[i].nk ? s->rt[i].nk : 1;
	struct row *rows = calloc(nrows, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, PROG ": out of memory\n");
		return;
	}
	for (int c = 0; c < NCOL; c++)
		cell(&rows[0], c, col_head[c]);
	unsigned n = 1;
	for (unsigned i = 0; i < s->n; i++) {
		const struct rt_view *v = &s->rt[i];
		row_runtime(&rows[n], v);
		if (!v->nk) {
			n++;
			continue;
		}
		for (unsigned j = 0; j < v->nk; j++) {
			row_runtime(&rows[n], v);
			row_kernel(&rows[n], &v->k[j], verbose);
			n++;
		}
	}
	int w[NCOL] = { 0 };
	for (unsigned i = 0; i < n; i++)
		for (int c = 0; c < NCOL; c++) {
			int l = (int)strlen(rows[i].c[c]);
			if (l > w[c])
				w[c] = l;
		}
	for (unsigned i = 0; i < n; i++) {
		for (int c = 0; c < NCOL; c++) {
			const char *sep = c + 1 < NCOL ? "  " : "";
			if (col_right[c])
				printf("%*s%s", w[c], rows[i].c[c], sep);
			else if (c + 1 < NCOL)
				printf("%-*s%s", w[c], rows[i].c[c], sep);
			else
				printf("%s", rows[i].c[c]);
		}
		putchar('\n');
		if (rows[i].extra)
			fputs(rows[i].extra, stdout);
		free(rows[i].extra);
	}
	free(rows);
	/* Why a row has question marks. */
	for (unsigned i = 0; i < s->n; i++) {
		const struct rt_view *v = &s->rt[i];
		struct row tmp;
		cell(&tmp, 0, v->name);
		if (v->err)
			printf("%s: %s: %s\n", tmp.c[0], v->why, rk_strerror(v->err));
		for (unsigned j = 0; j < v->nk; j++) {
			if (!v->k[j].err)
				continue;
			cell(&tmp, 1, v->k[j].name);
			printf("%s/%s: %s: %s\n", tmp.c[0], tmp.c[1], v->k[j].why,
			       rk_strerror(v->k[j].err));
		}
	}
}

static void print_none(const char *only)
{
	if (only)
		printf("no runtime named %s of uid %u in " SHM_DIR "\n", only, (unsigned)getuid());
	else
		printf("no named runtimes of uid %u in " SHM_DIR "\n", (unsigned)getuid());
}

/* ---- modes ---------------------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep `ms`, cut short by SIGINT/SIGTERM. */
static void nap(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Two looks `ms` apart: rates and heartbeats over that interval. */
static int two_looks(struct snap *cur, const char *only, unsigned ms)
{
	struct snap first;
	int ret = take_snap(&first, only);
	if (ret < 0)
		return ret;
	derive(&first, NULL);
	nap(ms);
	ret = take_snap(cur, only);
	if (ret == 0)
		derive(cur, &first);
	snap_free(&first);
	return ret;
}

static void show(const struct snap *s, const char *only, bool json, bool verbose)
{
	if (json)
		print_json(s);
	else if (!s->n)
		print_none(only);
	else
		print_table(s, verbose);
}

static int watch(const char *only, unsigned ms, bool json, bool verbose)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct snap prev = { 0 }, cur;
	bool have_prev = false;
	while (!stop) {
		if (take_snap(&cur, only) < 0)
			return 1;
		derive(&cur, have_prev ? &prev : NULL);
		if (json) {
			print_json(&cur);
		} else {
			time_t t = time(NULL);
			struct tm tm;
			char when[16] = "";
			if (localtime_r(&t, &tm))
				strftime(when, sizeof(when), "%H:%M:%S", &tm);
			printf("\033[H\033[2J" PROG " %s, every %u ms (Ctrl-C quits)\n\n", when,
			       ms);
			show(&cur, only, false, verbose);
		}
		fflush(stdout);
		snap_free(&prev);
		prev = cur;
		have_prev = true;
		nap(ms);
	}
	snap_free(&prev);
	return 0;
}

static int clean_one(const char *name, bool json, bool *first)
{
	int ret = rk_runtime_clean(name);
	if (json) {
		printf("%s{\"name\": ", *first ? "" : ", ");
		json_str(name);
		printf(", \"removed\": %s", ret == 0 ? "true" : "false");
		json_err(ret, "clean");
		printf("}");
	} else if (ret == 0) {
		printf("removed stale runtime %s\n", name);
	} else {
		printf("%s: not removed: %s%s\n", name, rk_strerror(ret),
		       ret == -EBUSY ? ", its owner is alive" : "");
	}
	*first = false;
	return ret;
}

/* --clean: remove what dead owners left; with --runtime, that one (the
 * library decides whether it is stale). */
static int clean(const char *only, bool json)
{
	struct snap s;
	int failed = 0;
	bool first = true;
	if (take_snap(&s, only) < 0)
		return 1;
	if (json)
		printf("{\"cleaned\": [");
	if (only) {
		failed |= clean_one(only, json, &first) < 0;
	} else {
		for (unsigned i = 0; i < s.n; i++)
			if (!s.rt[i].err && !s.rt[i].alive)
				failed |= clean_one(s.rt[i].name, json, &first) < 0;
		if (first && !json)
			printf("no stale runtimes of uid %u\n", (unsigned)getuid());
	}
	if (json)
		printf("]}\n");
	snap_free(&s);
	return failed ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-j] [-v] [-w] [-i MS] [-r NAME] [--clean]\n"
		   "Show the named ringkernel runtimes of this user (those in " SHM_DIR "):\n"
		   "each kernel's state, ring depths, counters, rates, heartbeat, owner and\n"
		   "attached clients. Runtimes whose owner died are marked stale.\n"
		   "\n"
		   "  -i, --interval MS   look twice MS apart for the rates (default 200);\n"
		   "                      with --watch, the refresh period\n"
		   "  -j, --json          one JSON object (with --watch, one per refresh)\n"
		   "  -v, --verbose       each attached client's pid and counters\n"
		   "  -w, --watch         redraw every interval until interrupted\n"
		   "  -r, --runtime NAME  only the runtime NAME\n"
		   "      --clean         remove the runtimes whose owner died\n"
		   "  -V, --version       the library's version\n"
		   "  -h, --help          this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "watch", no_argument, NULL, 'w' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "clean", no_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned interval = 200;
	bool json = false, verbose = false, watching = false, cleaning = false;
	const char *only = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "i:jvwr:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 3600000) {
				fprintf(stderr, PROG ": --interval wants 1..3600000 ms, not '%s'\n",
					optarg);
				return 2;
			}
			interval = (unsigned)v;
			break;
		}
		case 'j': json = true; break;
		case 'v': verbose = true; break;
		case 'w': watching = true; break;
		case 'r':
			if (!name_valid(optarg)) {
				fprintf(stderr,
					PROG ": --runtime wants 1..63 of [A-Za-z0-9_-], not '%s'\n",
					optarg);
				return 2;
			}
			only = optarg;
			break;
		case 'c': cleaning = true; break;
		case 'V': printf(PROG " (ringkernel-c) %s\n", rk_version()); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cleaning && watching) {
		fprintf(stderr, PROG ": --clean and --watch do not go together\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_sigbus };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (cleaning)
		return clean(only, json);
	if (watching)
		return watch(only, interval, json, verbose);
	struct snap s;
	if (two_looks(&s, only, interval) < 0)
		return 1;
	show(&s, only, json, verbose);
	snap_free(&s);
	return 0;
}
