/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus: tests/fuzz/run.sh --corpus (from the build
 * directory) rebuilds tests/fuzz/corpus/ in the source tree. Each seed is
 * something the library itself wrote, so the fuzzers start from inputs
 * that pass every check and mutate from there. Creator pid/uid (and MP
 * claim records) are zeroed so the files do not change from run to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#include "fuzz.h"

static const char *outdir;

static void die(const char *what, int ret)
{
	fprintf(stderr, "make_corpus: %s: %s (%s)\n", what, rk_strerror(ret), rk_last_error());
	exit(1);
}

static void put(const char *target, const char *name, const void *a, size_t alen, const void *b,
		size_t blen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
	    fclose(f)) {
		fprintf(stderr, "make_corpus: cannot write %s\n", path);
		exit(1);
	}
}

/* Queue `n` messages with payloads "seed 0", "seed 1", ... (through the
 * copying enqueue, which serves single- and multi-producer rings alike). */
static void fill(struct rk_ring *r, unsigned n)
{
	uint8_t *slot = calloc(1, rk_ring_slot_size(r));
	for (unsigned i = 0; i < n; i++) {
		char text[32];
		uint32_t len = (uint32_t)snprintf(text, sizeof(text), "seed %u", i) + 1;
		struct rk_msg_hdr h = { .type = 1 + i, .id = 100 + i, .seq = i, .priority = 1 };
		int ret = rk_msg_write_parts(slot, rk_ring_slot_size(r), &h, text, len);
		if (ret < 0)
			die("msg write", ret);
		if (rk_ring_enqueue_burst(r, slot, 0, rk_ring_slot_size(r), 1) != 1)
			die("enqueue", -EAGAIN);
	}
	free(slot);
}

/* ---- region: whole shared objects ---- */

static void region_seed(const char *name, unsigned rings, unsigned msgs)
{
	size_t need[4] = { 0 }, ring_bytes;
	unsigned n = 0;
	int ret = rk_ring_mem_size(8, 128, &ring_bytes);
	if (ret < 0)
		die("ring size", ret);
	for (unsigned i = 0; i < rings; i++)
		need[n++] = ring_bytes;
	need[n++] = 256; /* a user section */
	rk_region *reg;
	if ((ret = rk_region_create(NULL, rk_region_size_for(need, n), RK_REGION_UNLOCKED, &reg)) <
	    0)
		die("region create", ret);
	for (unsigned i = 0; i < rings; i++) {
		uint64_t off;
		void *mem;
		struct rk_ring r;
		if ((ret = rk_region_alloc(reg, RK_SECT_RING, i, ring_bytes, &off)) < 0 ||
		    (ret = rk_region_find(reg, RK_SECT_RING, i, &mem, NULL)) < 0 ||
		    (ret = rk_ring_init(&r, mem, ring_bytes, 8, 128, 0)) < 0)
			die("ring section", ret);
		fill(&r, msgs);
	}
	uint64_t off;
	if ((ret = rk_region_alloc(reg, RK_SECT_USER, 1, 256, &off)) < 0)
		die("user section", ret);
	struct rk_region_hdr *h = rk_region_base(reg);
	h->creator_pid = 0;
	h->creator_uid = 0;
	put("region", name, h, rk_region_size(reg), NULL, 0);
	rk_region_close(reg);
}

/* ---- ring: u16 extra, the ring's memory, then 9-byte operations ---- */

struct op {
	uint8_t code;
	uint64_t v;
} __attribute__((packed));

static void ring_seed(const char *name, uint32_t cap, uint32_t ss, uint32_t flags, uint64_t start,
		      unsigned msgs, const struct op *ops, size_t nops)
{
	size_t bytes;
	int ret = rk_ring_mem_size(cap, ss, &bytes);
	if (ret < 0)
		die("ring size", ret);
	uint8_t *buf = malloc(2 + bytes);
	uint8_t *mem = aligned_alloc(RK_LINE, (bytes + RK_LINE - 1) / RK_LINE * RK_LINE);
	struct rk_ring r;
	if ((ret = rk_ring_init_at(&r, mem, bytes, cap, ss, flags, start)) < 0)
		die("ring init", ret);
	fill(&r, msgs);
	/* What follows the slots (an MP ring's claim records) names this
	 * process: zero it, so the seed is the same on every run. */
	size_t slots_end = sizeof(struct rk_ring_hdr) + (size_t)rk_ring_capacity(&r) * ss;
	memset(mem + slots_end, 0, bytes - slots_end);
	uint16_t extra = (uint16_t)(bytes - sizeof(struct rk_ring_hdr));
	buf[0] = (uint8_t)extra;
	buf[1] = (uint8_t)(extra >> 8);
	memcpy(buf + 2, mem, bytes);
	put("ring", name, buf, 2 + bytes, ops, nops * sizeof(*ops));
	free(buf);
	free(mem);
}

/* ---- msg: u16 slot size, then the slot ---- */

static void msg_seed(const char *name, uint32_t ss, uint32_t len, uint32_t forged_len)
{
	uint8_t *slot = calloc(1, ss + 2);
	uint8_t *payload = malloc(len + 1);
	for (uint32_t i = 0; i < len; i++)
		payload[i] = (uint8_t)('a' + i % 26);
	struct rk_msg_hdr h = { .type = 7,
				.id = 1,
				.correlation_id = 2,
				.source = 3,
				.dest = 4,
				.hlc = 5,
				.seq = 6,
				.priority = 2,
				.flags = RK_MSG_F_REPLY };
	int ret = rk_msg_write_parts(slot + 2, ss, &h, payload, len);
	if (ret < 0)
		die("msg write", ret);
	if (forged_len)
		((struct rk_msg_hdr *)(slot + 2))->len = forged_len;
	slot[0] = (uint8_t)ss;
	slot[1] = (uint8_t)(ss >> 8);
	put("msg", name, slot, ss + 2, NULL, 0);
	free(payload);
	free(slot);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR (with region/ ring/ msg/ in it)\n");
		return 2;
	}
	outdir = argv[1];

	region_seed("header-only", 0, 0);
	region_seed("one-ring-three-messages", 1, 3);
	region_seed("two-full-rings", 2, 8);

	static const struct op drain[] = {
		{ OP_COUNT, 0 },
		{ OP_PEEK_DECODE_RELEASE, 1 },
		{ OP_DEQUEUE_BURST, 1 << 8 | 3 },
		{ OP_COUNT, 0 },
	};
	static const struct op refill[] = {
		{ OP_ENQUEUE_BURST, 64 << 8 | 2 }, { OP_ENQUEUE_BULK, 128 << 8 | 1 },
		{ OP_PEEK_DECODE_RELEASE, 63 },	   { OP_REATTACH, 0 },
		{ OP_DEQUEUE_BULK, 100 << 8 | 1 },
	};
	static const struct op hostile[] = {
		{ OP_NEAR_PROD_TAIL, 5 },
		{ OP_PEEK_DECODE_RELEASE, 7 },
		{ OP_SET_PROD_TAIL, UINT64_MAX },
		{ OP_DEQUEUE_BURST, 3 },
		{ OP_NEAR_CONS_HEAD, 3 },
		{ OP_ENQUEUE_BURST, 2 },
		{ OP_SET_CONS_HEAD, 1ull << 63 },
		{ OP_ENQUEUE_BULK, 1 },
		{ OP_POKE_SLOT, 8 },
	};
	ring_seed("drain", 8, 128, 0, 0, 5, drain, sizeof(drain) / sizeof(drain[0]));
	ring_seed("refill", 8, 128, 0, 0, 2, refill, sizeof(refill) / sizeof(refill[0]));
	ring_seed("wrapping-indexes", 4, 128, 0, UINT64_MAX - 2, 3, drain,
		  sizeof(drain) / sizeof(drain[0]));
	ring_seed("hostile-indexes", 8, 128, 0, 0, 4, hostile,
		  sizeof(hostile) / sizeof(hostile[0]));
	ring_seed("mp-consumer", 16, 128, RK_RING_MP, 10, 9, refill,
		  sizeof(refill) / sizeof(refill[0]));

	msg_seed("small", 128, 5, 0);
	msg_seed("empty-payload", 64, 0, 0);
	msg_seed("largest", RK_SLOT_MAX, RK_MAX_PAYLOAD, 0);
	msg_seed("len-one-too-many", 256, 16, 256 - RK_MSG_HDR_SIZE + 1);
	return 0;
}
