#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

int main(void)
{
	rk_region *region;
	struct rk_ring ring;
	size_t bytes;
	uint64_t off, idx;
	void *mem;

	/* An anonymous region (pass a name to share it with rk_region_open) */
	rk_ring_mem_size(1024, 256, &bytes); /* 1024 slots of 256 bytes */
	int ret = rk_region_create(NULL, rk_region_size_for(&bytes, 1), 0, &region);
	if (ret < 0) {
		fprintf(stderr, "region: %s: %s\n", rk_strerror(ret), rk_last_error());
		return 1;
	}
	rk_region_alloc(region, RK_SECT_RING, 0, bytes, &off);
	rk_region_find(region, RK_SECT_RING, 0, &mem, &bytes);
	ret = rk_ring_init(&ring, mem, bytes, 1024, 256, 0); /* RK_RING_MP: many producers */
	assert(ret == 0);

	/* Zero-copy: reserve a slot, write a message into it, commit */
	rk_message out = { .type = 7, .len = 5 };
	memcpy(out.payload, "hello", 5);
	assert(rk_ring_reserve(&ring, 1, &idx) == 1);
	rk_msg_write(rk_ring_slot(&ring, idx), rk_ring_slot_size(&ring), &out);
	rk_ring_commit(&ring, 1);

	/* Read it in place: the header is validated before the payload */
	static rk_message in;
	assert(rk_ring_peek(&ring, 1, &idx) == 1);
	ret = rk_msg_read(rk_ring_slot(&ring, idx), rk_ring_slot_size(&ring), &in);
	rk_ring_release(&ring, 1);
	assert(ret == 0 && in.type == 7 && in.len == 5);
	printf("ring carried: %.*s\n", (int)in.len, (const char *)in.payload);

	rk_region_close(region);
	return 0;
}
