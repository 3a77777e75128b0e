/* SPDX-License-Identifier: MIT */
/*
 * Named runtimes: the directory other processes read ("rk.NAME"), stale
 * directories of dead owners, and the service thread that attaches other
 * processes to this runtime's kernels and reclaims the ones that died.
 *
 * Everything a client can write (its slot in a kernel's client table) is
 * read here as numbers to check: a pid whose start time and uid must match
 * the process that really has it, a state word, a request counter. The
 * rings and addresses the kernel loop follows for a client come from this
 * process's own records, never from the table.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/region.h>

#include "../shm/sys.h"
#include "internal.h"
#include "log.h"

/* The service thread looks at its clients this often (attach latency,
 * and how soon a dead client's slot is reclaimed). */
#define SVC_PERIOD_NS 2000000u
/* A slot left half-claimed or refused is freed after this long. */
#define SLOT_LINGER_NS 1000000000ull

int rki_name_valid(const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	if (n == 0 || n >= RK_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

uint64_t rki_pid_start(pid_t pid)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S f4 ... f22": comm may hold anything but the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return 0;
	char *end;
	unsigned long long v = strtoull(p + 1, &end, 10);
	return end == p + 1 ? 0 : (uint64_t)v;
}

/* The owner recorded in a directory is alive: the pid exists, is not a
 * zombie, and started when the directory says (not a recycled pid). */
static bool owner_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && !rk_sys_pid_dead(pid) && start && rki_pid_start(pid) == start;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void copy_name(rk_u8 *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, cap - n);
}

/* ---- stale directories --------------------------------------------------------- */

/* Unlink "rk.NAME" and every "rk.NAME.*" of this user; how many went. */
static int remove_all(const char *name)
{
	char prefix[RK_NAME_MAX + 8];
	int n = snprintf(prefix, sizeof(prefix), "rk.%s.", name);
	int removed = 0;
	DIR *d = opendir("/dev/shm");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			struct stat st;
			if (strncmp(e->d_name, prefix, (size_t)n) != 0)
				continue;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode) || st.st_uid != getuid())
				continue;
			if (rk_region_unlink(e->d_name) == 0)
				removed++;
		}
		closedir(d);
	}
	prefix[n - 1] = '\0'; /* the directory itself */
	if (rk_region_unlink(prefix) == 0)
		removed++;
	return removed;
}

int rk_runtime_clean(const char *name)
{
	if (!rki_name_valid(name))
		return rk_error(-EINVAL,
				"rk_runtime_clean: runtime name \"%s\": expected 1..63 of "
				"[A-Za-z0-9_-]",
				name ? name : "(null)");
	char rname[RK_NAME_MAX + 4];
	snprintf(rname, sizeof(rname), "rk.%s", name);
	rk_region *r;
	int ret = rk_region_open(rname, RK_REGION_UNLOCKED, &r);
	if (ret == -EACCES)
		return rk_error(-EACCES, "runtime \"%s\" belongs to another user", name);
	if (ret == 0) {
		const struct rk_region_hdr *h = rk_region_base(r);
		struct rk_dir *dir = NULL;
		size_t sz;
		pid_t pid = (pid_t)h->creator_pid;
		bool alive;
		if (rk_region_find(r, RK_SECT_DIR, 0, (void **)&dir, &sz) < 0 || sz < sizeof(*dir))
			dir = NULL;
		if (dir)
			alive = !__atomic_load_n(&dir->closed, __ATOMIC_ACQUIRE) &&
				owner_alive((pid_t)dir->owner_pid, dir->owner_start);
		else /* being created, or never finished: its creator decides */
			alive = pid > 0 && !rk_sys_pid_dead(pid);
		pid = dir ? (pid_t)dir->owner_pid : pid;
		rk_region_close(r);
		if (alive)
			return rk_error(-EBUSY, "runtime \"%s\" is in use by process %d", name,
					(int)pid);
	} else if (ret != -ENOENT && ret != -EBADMSG && ret != -ERANGE && ret != -EPROTONOSUPPORT) {
		return ret;
	}
	/* No directory, a dead owner's, or one that is not a directory at all:
	 * what is left under the name goes. */
	if (remove_all(name) == 0)
		return rk_error(-ENOENT, "no runtime \"%s\" in /dev/shm", name);
	rki_log_info("removed stale runtime \"%s\"", name);
	return 0;
}

/* ---- the directory ------------------------------------------------------------- */

/*
 * Entries are written between two bumps of seq (odd while changing), a
 * seqlock. Every word goes through an atomic access, so a reader in this
 * process (an rk_attach() to our own runtime) races with nothing: the
 * first bump is an acquire RMW (no store below moves above it), the words
 * are acquire loads on the reader's side (the second seq read stays after
 * them).
 */
#define ENTRY_WORDS (sizeof(struct rk_dir_kernel) / 8)

static void entry_write(struct rk_dir_kernel *e, const struct rk_dir_kernel *v)
{
	uint64_t *dst = (uint64_t *)(void *)e;
	const uint64_t *src = (const uint64_t *)(const void *)v;
	uint32_t seq = __atomic_fetch_add(&e->seq, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&e->state, v->state, __ATOMIC_RELAXED);
	for (size_t i = 1; i < ENTRY_WORDS; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

bool rki_dir_entry_read(const struct rk_dir_kernel *e, struct rk_dir_kernel *copy)
{
	const uint64_t *src = (const uint64_t *)(const void *)e;
	uint64_t *dst = (uint64_t *)(void *)copy;
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		uint32_t state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
		for (size_t i = 1; i < ENTRY_WORDS; i++)
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1) {
			copy->seq = s1;
			copy->state = state;
			copy->name[sizeof(copy->name) - 1] = 0;
			copy->registry[sizeof(copy->registry) - 1] = 0;
			copy->region[sizeof(copy->region) - 1] = 0;
			return true;
		}
	}
	return false;
}

int rki_publish_kernel(rk_runtime *rt, rk_kernel *k)
{
	struct rk_dir *d = rt->dir;
	pthread_mutex_lock(&rt->svc_lock);
	unsigned i = 0;
	while (i < RK_DIR_MAX_KERNELS && rt->published[i])
		i++;
	if (i == RK_DIR_MAX_KERNELS) {
		pthread_mutex_unlock(&rt->svc_lock);
		return rk_error(-ENOSPC, "runtime \"%s\": its directory holds %u kernels", rt->name,
				RK_DIR_MAX_KERNELS);
	}
	struct rk_dir_kernel v = { 0 };
	v.id = k->id;
	copy_name(v.name, sizeof(v.name), k->name);
	copy_name(v.registry, sizeof(v.registry), k->def_name);
	copy_name(v.region, sizeof(v.region), rk_region_name(k->region));
	v.launch_ns = realtime_ns();
	v.state = (uint32_t)k->state + 1;
	entry_write(&d->entry[i], &v);
	if (i >= d->nkernels)
		__atomic_store_n(&d->nkernels, i + 1, __ATOMIC_RELEASE);
	k->dir_index = (int)i;
	rt->published[i] = k;
	pthread_mutex_unlock(&rt->svc_lock);
	return 0;
}

static void close_client(rk_kernel *k, unsigned i)
{
	struct rki_client *c = &k->client[i];
	__atomic_store_n(&k->k2k->client[i].state, RK_ROUTE_CLOSED, __ATOMIC_SEQ_CST);
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->active = false;
}

void rki_unpublish_kernel(rk_runtime *rt, rk_kernel *k)
{
	if (k->dir_index < 0)
		return;
	pthread_mutex_lock(&rt->svc_lock);
	for (unsigned i = 0; i < k->nclients; i++)
		if (k->client[i].active)
			close_client(k, i);
	struct rk_dir_kernel v = { 0 };
	entry_write(&rt->dir->entry[k->dir_index], &v);
	rt->published[k->dir_index] = NULL;
	k->dir_index = -1;
	pthread_mutex_unlock(&rt->svc_lock);
}

/* ---- clients --------------------------------------------------------------------- */

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static bool client_dead(const struct rki_client *c)
{
	if (c->pidfd >= 0) {
		struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
		return poll(&p, 1, 0) > 0;
	}
	return rk_sys_pid_dead(c->pid) || rki_pid_start(c->pid) != c->start;
}

/* Why the process in a REQUEST may not attach (0: it may). */
static int check_client(pid_t pid, uint64_t start)
{
	char path[32];
	struct stat st;
	if (pid <= 0 || !start)
		return -EINVAL;
	if (rki_pid_start(pid) != start)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0)
		return -ESRCH;
	if (st.st_uid != getuid())
		return -EACCES;
	return 0;
}

static void accept_client(rk_kernel *k, unsigned i, uint64_t now)
{
	struct rk_client_slot *sl = &k->clients->slot[i];
	struct rki_client *c = &k->client[i];
	pid_t pid = (pid_t)__atomic_load_n(&sl->pid, __ATOMIC_ACQUIRE);
	uint64_t start = __atomic_load_n(&sl->start, __ATOMIC_ACQUIRE);
	int err = check_client(pid, start);
	int fd = -1;
	if (!err && rk_kernel_state(k) == RK_STATE_TERMINATED)
		err = -ESHUTDOWN;
	if (!err) {
		fd = pidfd_of(pid);
		/* The pid could have been recycled between the check and here. */
		if (rki_pid_start(pid) != start)
			err = -ESRCH;
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		__atomic_store_n(&sl->result, (uint32_t)err, __ATOMIC_RELAXED);
		__atomic_store_n(&sl->state, RK_CLIENT_REFUSED, __ATOMIC_RELEASE);
		c->refused_ns = now;
		rki_log_info("kernel %llu: refused client pid %d: %s", (unsigned long long)k->id,
			     (int)pid, rk_strerror(err));
		return;
	}
	static uint64_t gen; /* under svc_lock of some runtime: atomic */
	uint64_t g = __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED) & 0xffffffffffull;
	uint64_t tag = RK_CLIENT_TAG | g << 8 | i;
	__atomic_store_n(&k->k2k->client[i].tag, tag, __ATOMIC_RELAXED);
	__atomic_store_n(&k->k2k->client[i].state, RK_ROUTE_OPEN, __ATOMIC_SEQ_CST);
	*c = (struct rki_client){
		.active = true,
		.pidfd = fd,
		.pid = pid,
		.start = start,
		.tag = tag,
		.lc_done = __atomic_load_n(&sl->lc_seq, __ATOMIC_ACQUIRE),
	};
	__atomic_store_n(&sl->lc_done, c->lc_done, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->tag, tag, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->result, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->attached_ns, realtime_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&k->clients->attaches, k->clients->attaches + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->state, RK_CLIENT_READY, __ATOMIC_RELEASE);
	rk_sys_futex_wake(&sl->state);
	rki_log_info("kernel %llu: client pid %d attached (slot %u)", (unsigned long long)k->id,
		     (int)pid, i);
}

/* A lifecycle request of an attached client, when the owner allows them. */
static void serve_lifecycle(rk_kernel *k, unsigned i)
{
	struct rk_client_slot *sl = &k->clients->slot[i];
	struct rki_client *c = &k->client[i];
	uint32_t seq = __atomic_load_n(&sl->lc_seq, __ATOMIC_ACQUIRE);
	if (seq == c->lc_done)
		return;
	uint32_t req = __atomic_load_n(&sl->lc_request, __ATOMIC_RELAXED);
	int ret;
	if (!k->opts.client_lifecycle)
		ret = -EPERM;
	else if (req == RK_CLIENT_LC_ACTIVATE)
		ret = rk_kernel_activate(k);
	else if (req == RK_CLIENT_LC_DEACTIVATE)
		ret = rk_kernel_deactivate(k);
	else if (req == RK_CLIENT_LC_TERMINATE)
		ret = rk_kernel_terminate(k);
	else
		ret = -EINVAL;
	c->lc_done = seq;
	__atomic_store_n(&sl->lc_result, (uint32_t)ret, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->lc_done, seq, __ATOMIC_RELEASE);
	rk_sys_futex_wake(&sl->lc_done);
}

static void serve_clients(rk_kernel *k, uint64_t now)
{
	for (unsigned i = 0; i < k->nclients; i++) {
		struct rk_client_slot *sl = &k->clients->slot[i];
		struct rki_client *c = &k->client[i];
		uint32_t st = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE);
		if (c->active) {
			/* One that detached and then exited is not counted dead. */
			bool dead = st != RK_CLIENT_LEAVING && client_dead(c);
			if (!dead && st == RK_CLIENT_READY) {
				serve_lifecycle(k, i);
				continue;
			}
			/* Detached, dead, or its slot was overwritten: the route
			 * closes (the kernel drops replies to it from now on) and
			 * the slot is free for the next client. */
			close_client(k, i);
			if (dead) {
				__atomic_store_n(&k->clients->reclaimed, k->clients->reclaimed + 1,
						 __ATOMIC_RELAXED);
				rki_log_info("kernel %llu: client pid %d died; slot %u reclaimed",
					     (unsigned long long)k->id, (int)c->pid, i);
			}
			c->refused_ns = 0;
			__atomic_store_n(&sl->state, RK_CLIENT_FREE, __ATOMIC_RELEASE);
			continue;
		}
		switch (st) {
		case RK_CLIENT_FREE: c->refused_ns = 0; break;
		case RK_CLIENT_REQUEST: accept_client(k, i, now); break;
		case RK_CLIENT_CLAIMED:
		case RK_CLIENT_REFUSED:
			/* A client between its claim and its request, or one that
			 * has not read its refusal yet: freed once it lingers. */
			if (!c->refused_ns)
				c->refused_ns = now;
			else if (now - c->refused_ns > SLOT_LINGER_NS)
				__atomic_compare_exchange_n(&sl->state, &st, RK_CLIENT_FREE, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
			break;
		default: /* LEAVING, or READY that we never granted */
			__atomic_store_n(&sl->state, RK_CLIENT_FREE, __ATOMIC_RELEASE);
			break;
		}
	}
}

static void *svc_main(void *arg)
{
	rk_runtime *rt = arg;
	while (!__atomic_load_n(&rt->svc_stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = rk_sys_now_ns();
		__atomic_store_n(&rt->dir->heartbeat_ns, now, __ATOMIC_RELEASE);
		pthread_mutex_lock(&rt->svc_lock);
		for (unsigned i = 0; i < RK_DIR_MAX_KERNELS; i++) {
			rk_kernel *k = rt->published[i];
			if (!k)
				continue;
			serve_clients(k, now);
			struct rk_dir_kernel *e = &rt->dir->entry[i], v;
			uint32_t s = (uint32_t)rk_kernel_state(k) + 1;
			if (rki_dir_entry_read(e, &v) && v.state != s) {
				v.state = s;
				entry_write(e, &v);
			}
		}
		pthread_mutex_unlock(&rt->svc_lock);
		rk_sys_futex_wait_until(&rt->svc_stop, 0, rk_sys_deadline(SVC_PERIOD_NS));
	}
	return NULL;
}

/* ---- runtime ------------------------------------------------------------------- */

int rki_publish_start(rk_runtime *rt, const char *backend)
{
	char rname[RK_NAME_MAX + 4];
	snprintf(rname, sizeof(rname), "rk.%s", rt->name);
	size_t sz = sizeof(struct rk_dir);
	rk_region *r = NULL;
	int ret = rk_region_create(rname, rk_region_size_for(&sz, 1), 0, &r);
	if (ret == -EEXIST) {
		/* A directory a dead owner left is cleaned; a live one's is not. */
		ret = rk_runtime_clean(rt->name);
		if (ret == -EBUSY)
			return rk_error(-EEXIST, "runtime name \"%s\": %s", rt->name,
					rk_last_error());
		if (ret == -EACCES)
			return rk_error(-EEXIST, "runtime name \"%s\" is taken by another user",
					rt->name);
		ret = rk_region_create(rname, rk_region_size_for(&sz, 1), 0, &r);
		if (ret == -EEXIST)
			return rk_error(-EEXIST, "runtime name \"%s\" was taken meanwhile",
					rt->name);
	}
	if (ret < 0)
		return ret;
	uint64_t off;
	if ((ret = rk_region_alloc(r, RK_SECT_DIR, 0, sz, &off)) < 0) {
		rk_region_close(r);
		return ret;
	}
	struct rk_dir *d = (struct rk_dir *)((uint8_t *)rk_region_base(r) + off);
	d->owner_uid = (uint32_t)getuid();
	d->owner_pid = (uint32_t)getpid();
	d->owner_start = rki_pid_start(getpid());
	d->created_ns = realtime_ns();
	d->heartbeat_ns = rk_sys_now_ns();
	copy_name(d->name, sizeof(d->name), rt->name);
	copy_name(d->backend, sizeof(d->backend), backend);
	rt->dir_region = r;
	rt->dir = d;
	pthread_mutex_init(&rt->svc_lock, NULL);
	if ((ret = pthread_create(&rt->svc, NULL, svc_main, rt)) != 0) {
		pthread_mutex_destroy(&rt->svc_lock);
		rk_region_close(r);
		rt->dir = NULL;
		rt->dir_region = NULL;
		return rk_error(-ret, "runtime \"%s\": service thread: %s", rt->name,
				strerror(ret));
	}
	pthread_setname_np(rt->svc, "rk-svc");
	rt->svc_running = true;
	rki_log_info("runtime published as \"%s\" (/dev/shm/%s)", rt->name, rname);
	return 0;
}

void rki_publish_stop(rk_runtime *rt)
{
	if (!rt->svc_running)
		return;
	__atomic_store_n(&rt->svc_stop, 1, __ATOMIC_RELEASE);
	rk_sys_futex_wake(&rt->svc_stop);
	pthread_join(rt->svc, NULL);
	rt->svc_running = false;
	__atomic_store_n(&rt->dir->closed, 1, __ATOMIC_RELEASE);
	pthread_mutex_destroy(&rt->svc_lock);
	rk_region_close(rt->dir_region); /* the creator's close unlinks it */
	rt->dir_region = NULL;
	rt->dir = NULL;
}
