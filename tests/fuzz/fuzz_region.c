/* SPDX-License-Identifier: MIT */
/*
 * Region open: the header check, then what an opener does with a region
 * it accepted (find each section, attach each ring, drain and decode it).
 *
 * Input: the bytes of a shared-memory object, any size. They are checked
 * twice: by rk_region_validate() on a heap copy of exactly that size
 * (ASan sees any read past it), and by rk_region_open() on a real named
 * object holding them, which must agree. Checked against an independent
 * statement of the rules (oracle below): the same verdict and errno, a
 * message on failure, the out pointer untouched; on success every section
 * rk_region_find() returns lies inside the mapping, and a ring in one is
 * attached and drained with every slot decoded or refused cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ringkernel/msg.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#include "fuzz.h"

static int oracle(const uint8_t *b, size_t mapped)
{
	struct rk_region_hdr h;
	if (mapped < RK_REGION_HDR_SIZE)
		return -ERANGE;
	memcpy(&h, b, sizeof(h));
	if (h.magic != RK_REGION_MAGIC)
		return -EBADMSG;
	if (h.version != RK_LAYOUT_VERSION)
		return -EPROTONOSUPPORT;
	if (h.hdr_size != RK_REGION_HDR_SIZE)
		return -EBADMSG;
	if (h.total_size != mapped || h.nsections > RK_REGION_MAX_SECTIONS)
		return -ERANGE;
	if (h.used < RK_REGION_HDR_SIZE || h.used > mapped)
		return -ERANGE;
	for (uint32_t i = 0; i < h.nsections; i++) {
		/* in 128-bit arithmetic: no wrap-around to reason about */
		unsigned __int128 off = h.sect[i].offset, end = off + h.sect[i].size;
		if (off < RK_REGION_HDR_SIZE || off % RK_LINE || end > mapped)
			return -ERANGE;
		for (uint32_t j = 0; j < i; j++) {
			unsigned __int128 o2 = h.sect[j].offset, e2 = o2 + h.sect[j].size;
			if (off < e2 && o2 < end)
				return -ERANGE;
		}
	}
	return 0;
}

static void drain_ring(void *p, size_t sz)
{
	struct rk_ring r;
	rk_clear_error();
	int ret = rk_ring_attach(&r, p, sz);
	if (ret < 0) {
		FUZZ_CHECK_FAILURE(ret, -EBADMSG, -EPROTONOSUPPORT, -ERANGE, -EINVAL, -EUCLEAN);
		return;
	}
	FUZZ_CHECK(sizeof(struct rk_ring_hdr) +
				   (size_t)rk_ring_capacity(&r) * rk_ring_slot_size(&r) <=
			   sz,
		   "ring overruns its section");
	rk_message *m = malloc(sizeof(*m));
	uint64_t idx;
	unsigned k = rk_ring_peek(&r, rk_ring_capacity(&r), &idx);
	FUZZ_CHECK(k <= rk_ring_capacity(&r), "peeked %u", k);
	for (unsigned i = 0; i < k; i++) {
		ret = rk_msg_read(rk_ring_slot(&r, idx + i), rk_ring_slot_size(&r), m);
		if (ret < 0)
			FUZZ_CHECK_FAILURE(ret, -EBADMSG, -EMSGSIZE);
	}
	if (k)
		rk_ring_release(&r, k);
	free(m);
}

/* What an opener does with a region it accepted. */
static void use_region(rk_region *r)
{
	const uint8_t *base = rk_region_base(r);
	size_t size = rk_region_size(r);
	struct rk_region_hdr h;
	memcpy(&h, base, sizeof(h));
	for (uint32_t i = 0; i < h.nsections; i++) {
		void *p = NULL;
		size_t sz = 0;
		rk_clear_error();
		int ret = rk_region_find(r, h.sect[i].kind, h.sect[i].id, &p, &sz);
		FUZZ_CHECK(ret == 0, "section %u listed but not found: %d", i, ret);
		FUZZ_CHECK((const uint8_t *)p >= base + RK_REGION_HDR_SIZE && sz <= size &&
				   (size_t)((const uint8_t *)p - base) <= size - sz,
			   "section %u outside the mapping", i);
		if (h.sect[i].kind == RK_SECT_RING)
			drain_ring(p, sz);
	}
	uint64_t off;
	FUZZ_CHECK(rk_region_alloc(r, RK_SECT_USER, 7, 64, &off) == -EPERM,
		   "an opener carved a section");
}

static int open_as_object(const uint8_t *data, size_t size, rk_region **r_p)
{
	static char name[64];
	char path[80];
	if (!name[0])
		snprintf(name, sizeof(name), "rk-fuzz-region-%ld", (long)getpid());
	snprintf(path, sizeof(path), "/%s", name);
	shm_unlink(path);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "shm_open(%s) failed", path);
	for (size_t done = 0; done < size;) {
		ssize_t w = write(fd, data + done, size - done);
		FUZZ_CHECK(w > 0, "write to %s failed", path);
		done += (size_t)w;
	}
	close(fd);
	rk_clear_error();
	int ret = rk_region_open(name, RK_REGION_UNLOCKED, r_p);
	shm_unlink(path); /* the mapping outlives the name */
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int want = oracle(data, size);

	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	rk_clear_error();
	int ret = rk_region_validate(copy, size);
	FUZZ_CHECK(ret == want, "validate: %d (%s), the rules say %d", ret, rk_strerror(ret), want);
	if (ret < 0)
		FUZZ_CHECK_FAILURE(ret, -ERANGE, -EBADMSG, -EPROTONOSUPPORT);
	FUZZ_CHECK(memcmp(copy, data, size) == 0, "validate wrote the header");
	free(copy);

	rk_region *r = (rk_region *)0x1;
	int oret = open_as_object(data, size, &r);
	FUZZ_CHECK(oret == want, "open: %d (%s), the rules say %d", oret, rk_strerror(oret), want);
	if (oret < 0) {
		FUZZ_CHECK_FAILURE(oret, -ERANGE, -EBADMSG, -EPROTONOSUPPORT);
		FUZZ_CHECK(r == (rk_region *)0x1, "out pointer written on failure");
		return 0;
	}
	FUZZ_CHECK(rk_region_size(r) == size, "mapped %zu of %zu", rk_region_size(r), size);
	use_region(r);
	rk_region_close(r);
	return 0;
}
