/* SPDX-License-Identifier: MIT */
/*
 * ring-bench - two-thread throughput of an SPSC ring, by payload and batch.
 *
 * One producer thread and one consumer thread, each pinned to its own core
 * when the affinity mask has two, move messages through a ring with the
 * copying burst calls (rk_ring_enqueue_burst / rk_ring_dequeue_burst), the
 * path most callers take. Every message carries its sequence number in its
 * first 8 bytes and the consumer checks it, so a broken ring cannot post a
 * good figure. Each configuration runs --runs times; the table shows the
 * median. Modelled on DPDK's app/test/test_ring_perf.c.
 *
 *   ring-bench [--quick] [--runs N] [--messages N] [--capacity N] [--json]
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/error.h>
#include <ringkernel/ring.h>

static const uint32_t payloads[] = { 64, 1024 };
static const unsigned batches[] = { 1, 8, 32, 256 };
#define NPAYLOADS (sizeof(payloads) / sizeof(payloads[0]))
#define NBATCHES  (sizeof(batches) / sizeof(batches[0]))
#define MAX_BATCH 256
#define MAX_RUNS  101

struct opts {
	bool quick, json;
	unsigned runs;
	uint64_t messages; /* 0: a default per payload */
	uint32_t capacity;
};

/* Where the two threads run: cpu -1 = not pinned. */
struct placement {
	int prod_cpu, cons_cpu;
};

struct run {
	struct rk_ring prod, cons; /* separate handles, as two processes would have */
	uint32_t payload;
	unsigned batch;
	uint64_t messages;
	struct placement where;
	int go;		/* set by the main thread once both sides are up */
	int ready;	/* threads that reached the start line */
	uint64_t t_end; /* consumer: when the last message arrived */
	uint64_t bad;	/* consumer: messages out of sequence */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Pick two distinct CPUs from our affinity mask; fall back to no pinning. */
static struct placement choose_cpus(void)
{
	struct placement p = { -1, -1 };
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return p;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (p.prod_cpu < 0)
			p.prod_cpu = c;
		else {
			p.cons_cpu = c;
			break;
		}
	}
	return p;
}

/*
 * A side that finds the ring full or empty spins, then yields: pinned on two
 * idle cores it never yields; on an oversubscribed host it must not burn
 * the time slice the other side needs.
 */
static void backoff(unsigned *spins)
{
	if (++*spins < 4096) {
		RK_CPU_RELAX();
		return;
	}
	*spins = 0;
	sched_yield();
}

static void start_line(struct run *r)
{
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		RK_CPU_RELAX();
}

static void *producer(void *arg)
{
	struct run *r = arg;
	uint8_t *src = aligned_alloc(64, (size_t)MAX_BATCH * r->payload);
	if (!src)
		abort();
	memset(src, 0xab, (size_t)MAX_BATCH * r->payload);
	pin(r->where.prod_cpu);
	start_line(r);
	uint64_t seq = 0;
	unsigned spins = 0;
	while (seq < r->messages) {
		uint64_t left = r->messages - seq;
		unsigned n = left < r->batch ? (unsigned)left : r->batch;
		for (unsigned i = 0; i < n; i++) {
			uint64_t s = seq + i;
			memcpy(src + (size_t)i * r->payload, &s, sizeof(s));
		}
		unsigned k = rk_ring_enqueue_burst(&r->prod, src, r->payload, r->payload, n);
		if (k == 0)
			backoff(&spins);
		seq += k;
	}
	free(src);
	return NULL;
}

static void *consumer(void *arg)
{
	struct run *r = arg;
	uint8_t *dst = aligned_alloc(64, (size_t)MAX_BATCH * r->payload);
	if (!dst)
		abort();
	memset(dst, 0, (size_t)MAX_BATCH * r->payload);
	pin(r->where.cons_cpu);
	start_line(r);
	uint64_t seq = 0, bad = 0;
	unsigned spins = 0;
	while (seq < r->messages) {
		unsigned k = rk_ring_dequeue_burst(&r->cons, dst, r->payload, r->payload, r->batch);
		if (k == 0) {
			backoff(&spins);
			continue;
		}
		for (unsigned i = 0; i < k; i++) {
			uint64_t s;
			memcpy(&s, dst + (size_t)i * r->payload, sizeof(s));
			bad += s != seq + i;
		}
		seq += k;
	}
	r->t_end = now_ns();
	r->bad = bad;
	free(dst);
	return NULL;
}

/* One timed run; returns ns per message, or a negative errno. */
static double run_once(const struct opts *o, uint32_t payload, unsigned batch, uint64_t messages,
		       struct placement where, void *mem, size_t memsize)
{
	static struct run r; /* big-aligned handles; one run at a time */
	memset(&r, 0, sizeof(r));
	int ret = rk_ring_init(&r.prod, mem, memsize, o->capacity, payload, 0);
	if (ret < 0)
		return ret;
	rk_ring_attach(&r.cons, mem, memsize);
	r.payload = payload;
	r.batch = batch;
	r.messages = messages;
	r.where = where;

	pthread_t tp, tc;
	if (pthread_create(&tc, NULL, consumer, &r) || pthread_create(&tp, NULL, producer, &r))
		return -EAGAIN;
	while (__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
	uint64_t t0 = now_ns();
	__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	if (r.bad) {
		fprintf(stderr,
			"ring-bench: %llu messages out of sequence (payload %u, batch %u)\n",
			(unsigned long long)r.bad, payload, batch);
		return -EBADMSG;
	}
	return (double)(r.t_end - t0) / (double)messages;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint64_t default_messages(const struct opts *o, uint32_t payload)
{
	if (o->messages)
		return o->messages;
	if (o->quick)
		return payload <= 64 ? 500000 : 100000;
	return payload <= 64 ? 20000000 : 4000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ring-bench [--quick] [--runs N] [--messages N] [--capacity N] [--json]\n"
		   "  SPSC ring throughput, two threads, payloads 64 B and 1 KiB,\n"
		   "  batches 1/8/32/256; prints the median of N runs (default 3).\n"
		   "  --quick     short run (well under 3 s)\n"
		   "  --messages  messages per run (default 20M for 64 B, 4M for 1 KiB)\n"
		   "  --capacity  ring slots (default 1024)\n"
		   "  --json      one JSON document instead of the table\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "runs", required_argument, NULL, 'r' },
		{ "messages", required_argument, NULL, 'm' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	*o = (struct opts){ .runs = 3, .capacity = 1024 };
	while ((c = getopt_long(argc, argv, "qjr:m:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true; break;
		case 'j': o->json = true; break;
		case 'r':
			o->runs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->runs == 0 || o->runs > MAX_RUNS) {
				fprintf(stderr, "ring-bench: --runs takes 1..%d\n", MAX_RUNS);
				return -EINVAL;
			}
			break;
		case 'm':
			o->messages = strtoull(optarg, &end, 10);
			if (*end || o->messages == 0) {
				fprintf(stderr, "ring-bench: --messages takes a positive count\n");
				return -EINVAL;
			}
			break;
		case 'c':
			o->capacity = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || o->capacity < MAX_BATCH || o->capacity > RK_RING_MAX_CAPACITY) {
				fprintf(stderr, "ring-bench: --capacity takes %d..%u\n", MAX_BATCH,
					RK_RING_MAX_CAPACITY);
				return -EINVAL;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

struct result {
	uint32_t payload;
	unsigned batch;
	uint64_t messages;
	double ns[MAX_RUNS];
	double median_ns;
};

int main(int argc, char **argv)
{
	struct opts o;
	static struct result res[NPAYLOADS * NBATCHES];
	if (parse(argc, argv, &o) < 0)
		return 2;
	struct placement where = choose_cpus();

	size_t memsize;
	int ret = rk_ring_mem_size(o.capacity, payloads[NPAYLOADS - 1], &memsize);
	if (ret < 0) {
		fprintf(stderr, "ring-bench: %s: %s\n", rk_strerror(ret), rk_last_error());
		return 1;
	}
	void *mem = aligned_alloc(RK_LINE, (memsize + RK_LINE - 1) / RK_LINE * RK_LINE);
	if (!mem) {
		fprintf(stderr, "ring-bench: out of memory\n");
		return 1;
	}
	memset(mem, 0, memsize); /* fault the pages in before any timing */

	if (!o.json) {
		printf("ring-bench: SPSC ring, %u slots, copying burst enqueue/dequeue, ",
		       o.capacity);
		if (where.prod_cpu >= 0)
			printf("producer on cpu %d, consumer on cpu %d", where.prod_cpu,
			       where.cons_cpu);
		else
			printf("threads not pinned (one cpu available)");
		printf(", median of %u run%s%s\n\n", o.runs, o.runs == 1 ? "" : "s",
		       o.quick ? " (quick)" : "");
		printf("%8s %6s %10s %10s %9s %9s\n", "payload", "batch", "messages", "Mmsg/s",
		       "ns/msg", "GB/s");
		fflush(stdout);
	}

	unsigned nres = 0;
	for (unsigned p = 0; p < NPAYLOADS; p++) {
		for (unsigned b = 0; b < NBATCHES; b++) {
			struct result *rs = &res[nres++];
			rs->payload = payloads[p];
			rs->batch = batches[b];
			rs->messages = default_messages(&o, payloads[p]);
			for (unsigned i = 0; i < o.runs; i++) {
				double ns = run_once(&o, rs->payload, rs->batch, rs->messages,
						     where, mem, memsize);
				if (ns < 0) {
					fprintf(stderr, "ring-bench: run failed: %s %s\n",
						rk_strerror((int)ns), rk_last_error());
					return 1;
				}
				rs->ns[i] = ns;
			}
			double sorted[MAX_RUNS];
			memcpy(sorted, rs->ns, sizeof(double) * o.runs);
			qsort(sorted, o.runs, sizeof(double), cmp_double);
			rs->median_ns = o.runs % 2
						? sorted[o.runs / 2]
						: (sorted[o.runs / 2 - 1] + sorted[o.runs / 2]) / 2;
			if (!o.json) {
				double mps = 1e3 / rs->median_ns;
				printf("%6u B %6u %10llu %10.2f %9.2f %9.2f\n", rs->payload,
				       rs->batch, (unsigned long long)rs->messages, mps,
				       rs->median_ns, rs->payload / rs->median_ns);
				fflush(stdout);
			}
		}
	}

	if (o.json) {
		printf("{\"bench\": \"ring\", \"mode\": \"spsc\", \"capacity\": %u, \"runs\": %u, "
		       "\"quick\": %s, \"producer_cpu\": %d, \"consumer_cpu\": %d, \"results\": [",
		       o.capacity, o.runs, o.quick ? "true" : "false", where.prod_cpu,
		       where.cons_cpu);
		for (unsigned i = 0; i < nres; i++) {
			const struct result *rs = &res[i];
			printf("%s\n  {\"payload\": %u, \"batch\": %u, \"messages\": %llu, "
			       "\"ns_per_msg\": %.3f, \"msgs_per_s\": %.0f, \"runs_ns_per_msg\": [",
			       i ? "," : "", rs->payload, rs->batch,
			       (unsigned long long)rs->messages, rs->median_ns,
			       1e9 / rs->median_ns);
			for (unsigned k = 0; k < o.runs; k++)
				printf("%s%.3f", k ? ", " : "", rs->ns[k]);
			printf("]}");
		}
		printf("\n]}\n");
	}
	free(mem);
	return 0;
}
