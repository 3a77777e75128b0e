/* SPDX-License-Identifier: MIT */
/* Message slots: header packing, payload copy, validation of untrusted slots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>

#include "testutil.h"

/* A slot inside a larger, canary-filled buffer, so an over-write shows. */
#define CANARY 0xa5
static uint8_t arena[RK_SLOT_MAX + 2 * 64] __attribute__((aligned(64)));

static uint8_t *slot_in_arena(void)
{
	memset(arena, CANARY, sizeof(arena));
	return arena + 64;
}

static void assert_canaries(uint32_t slot_size)
{
	for (unsigned i = 0; i < 64; i++)
		cr_assert_eq(arena[i], CANARY, "wrote before the slot");
	for (size_t i = 64 + slot_size; i < sizeof(arena); i++)
		cr_assert_eq(arena[i], CANARY, "wrote past the slot at +%zu", i - 64);
}

static rk_message *full_message(uint32_t len)
{
	rk_message *m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	m->type = 0x11223344;
	m->len = len;
	m->id = 0x0102030405060708ull;
	m->correlation_id = 0x1112131415161718ull;
	m->source = 0x2122232425262728ull;
	m->dest = 0x3132333435363738ull;
	m->hlc = (0x0000abcdef012345ull << 16) | 0x6789;
	m->flags = RK_MSG_F_REPLY | RK_MSG_F_UNDELIVERED;
	m->priority = 200;
	m->seq = 0xfedcba9876543210ull;
	rk_test_fill(m->payload, len, len);
	return m;
}

Test(msg, round_trip_keeps_every_field)
{
	static const uint32_t lens[] = { 0, 1, 7, 64, 192, RK_MAX_PAYLOAD };
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t slot_size = RK_SLOT_MAX;
		rk_message *in = full_message(lens[i]);
		rk_message *out = calloc(1, sizeof(*out));
		uint8_t *slot = slot_in_arena();
		cr_assert_eq(rk_msg_write(slot, slot_size, in), 0, "len %u: %s", lens[i],
			     rk_last_error());
		assert_canaries(slot_size);
		cr_assert_eq(rk_msg_read(slot, slot_size, out), 0, "%s", rk_last_error());
		cr_assert_eq(out->type, in->type);
		cr_assert_eq(out->len, in->len);
		cr_assert_eq(out->id, in->id);
		cr_assert_eq(out->correlation_id, in->correlation_id);
		cr_assert_eq(out->source, in->source);
		cr_assert_eq(out->dest, in->dest);
		cr_assert_eq(out->hlc, in->hlc);
		cr_assert_eq(out->flags, in->flags);
		cr_assert_eq(out->priority, in->priority);
		cr_assert_eq(out->seq, in->seq);
		cr_assert_arr_eq(out->payload, in->payload, lens[i]);
		free(in);
		free(out);
	}
}

Test(msg, slot_layout_is_the_wire_format)
{
	rk_message *in = full_message(5);
	uint8_t *slot = slot_in_arena();
	cr_assert_eq(rk_msg_write(slot, 128, in), 0);
	const struct rk_msg_hdr *h = (const void *)slot;
	cr_assert_eq(h->magic, RK_MSG_MAGIC);
	cr_assert_eq(h->version, RK_MSG_VERSION);
	cr_assert_eq(h->priority, 200);
	cr_assert_eq(h->type, 0x11223344);
	cr_assert_eq(h->len, 5);
	cr_assert_eq(h->id, in->id);
	cr_assert_eq(h->hlc, in->hlc);
	cr_assert_eq(h->seq, in->seq);
	/* Payload right after the 64-byte header, and nothing written beyond len. */
	cr_assert_arr_eq(slot + RK_MSG_HDR_SIZE, in->payload, 5);
	for (unsigned i = RK_MSG_HDR_SIZE + 5; i < 128; i++)
		cr_assert_eq(slot[i], CANARY, "byte %u past the payload written", i);
	assert_canaries(128);
	free(in);
}

Test(msg, write_parts_round_trip)
{
	uint8_t *slot = slot_in_arena();
	struct rk_msg_hdr h = { .type = 9, .id = 42, .dest = 3, .seq = 5, .len = 999 };
	const char payload[] = "hello, ring";
	cr_assert_eq(rk_msg_write_parts(slot, 192, &h, payload, sizeof(payload)), 0);
	rk_message *out = calloc(1, sizeof(*out));
	cr_assert_eq(rk_msg_read(slot, 192, out), 0);
	cr_assert_eq(out->len, sizeof(payload), "len comes from the argument, not h->len");
	cr_assert_eq(out->type, 9);
	cr_assert_eq(out->id, 42);
	cr_assert_eq(out->dest, 3);
	cr_assert_eq(out->seq, 5);
	cr_assert_str_eq((const char *)out->payload, payload);
	/* Empty payload may come with a NULL pointer. */
	cr_assert_eq(rk_msg_write_parts(slot, 192, &h, NULL, 0), 0);
	cr_assert_eq(rk_msg_read(slot, 192, out), 0);
	cr_assert_eq(out->len, 0);
	free(out);
}

Test(msg, oversized_write_is_emsgsize)
{
	uint8_t *slot = slot_in_arena();
	rk_message *m = full_message(65);
	rk_clear_error();
	cr_assert_eq(rk_msg_write(slot, 128, m), -EMSGSIZE, "65 bytes in a 64-byte payload area");
	cr_assert_str_neq(rk_last_error(), "");
	for (unsigned i = 0; i < 128; i++)
		cr_assert_eq(slot[i], CANARY, "a refused write changed the slot");
	m->len = 64;
	cr_assert_eq(rk_msg_write(slot, 128, m), 0, "64 bytes fit exactly");
	m->len = RK_MAX_PAYLOAD + 1;
	cr_assert_eq(rk_msg_write(slot, RK_SLOT_MAX, m), -EMSGSIZE);
	struct rk_msg_hdr h = { 0 };
	cr_assert_eq(rk_msg_write_parts(slot, 64, &h, m->payload, 1), -EMSGSIZE);
	cr_assert_eq(rk_msg_write_parts(slot, 64, &h, NULL, 0), 0, "a header-only slot");
	assert_canaries(128);
	free(m);
}

Test(msg, bad_magic_or_version_is_ebadmsg)
{
	uint8_t *slot = slot_in_arena();
	rk_message *m = full_message(16);
	rk_message *out = calloc(1, sizeof(*out));
	cr_assert_eq(rk_msg_write(slot, 128, m), 0);
	struct rk_msg_hdr *h = (void *)slot;

	h->magic = 0x1234;
	memset(out, 0x5c, sizeof(*out));
	rk_clear_error();
	cr_assert_eq(rk_msg_read(slot, 128, out), -EBADMSG);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_eq(out->type, 0x5c5c5c5c, "a refused slot was unpacked");
	cr_assert_eq(rk_msg_check(h, 128), -EBADMSG);

	h->magic = RK_MSG_MAGIC;
	h->version = RK_MSG_VERSION + 1;
	cr_assert_eq(rk_msg_read(slot, 128, out), -EBADMSG);
	h->version = RK_MSG_VERSION;
	cr_assert_eq(rk_msg_read(slot, 128, out), 0);
	cr_assert_eq(rk_msg_check(h, 128), 0);
	free(m);
	free(out);
}

Test(msg, untrusted_len_larger_than_slot_is_emsgsize_nothing_copied)
{
	uint8_t *slot = slot_in_arena();
	rk_message *m = full_message(16);
	rk_message *out = calloc(1, sizeof(*out));
	cr_assert_eq(rk_msg_write(slot, 128, m), 0);
	((struct rk_msg_hdr *)slot)->len = 65; /* one byte past a 128-byte slot */
	memset(out, 0x5c, sizeof(*out));
	cr_assert_eq(rk_msg_read(slot, 128, out), -EMSGSIZE);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_eq(out->len, 0x5c5c5c5c);
	cr_assert_eq(out->payload[0], 0x5c, "payload copied from a refused slot");
	((struct rk_msg_hdr *)slot)->len = UINT32_MAX;
	cr_assert_eq(rk_msg_read(slot, 128, out), -EMSGSIZE);
	cr_assert_eq(out->payload[0], 0x5c);
	free(m);
	free(out);
}

Test(msg, slot_size_outside_header_and_max_is_einval)
{
	/* A slot smaller than the header would be over-read/over-written; one
	 * larger than RK_SLOT_MAX would let len overflow rk_message.payload. */
	uint8_t *slot = slot_in_arena();
	rk_message *m = full_message(0);
	rk_message *out = calloc(1, sizeof(*out));
	cr_assert_eq(rk_msg_write(slot, 32, m), -EINVAL);
	for (unsigned i = 0; i < 64; i++)
		cr_assert_eq(slot[i], CANARY);
	cr_assert_eq(rk_msg_write(slot, 128, m), 0);
	cr_assert_eq(rk_msg_read(slot, 32, out), -EINVAL);
	((struct rk_msg_hdr *)slot)->len = RK_MAX_PAYLOAD + 64;
	cr_assert_eq(rk_msg_read(slot, RK_SLOT_MAX + 128, out), -EINVAL);
	free(m);
	free(out);
}

Test(msg, capacity_is_slot_minus_header)
{
	cr_assert_eq(rk_msg_capacity(64), 0);
	cr_assert_eq(rk_msg_capacity(256), 192);
	cr_assert_eq(rk_msg_capacity(RK_SLOT_MAX), RK_MAX_PAYLOAD);
	cr_assert_eq(rk_msg_capacity(0), 0);
	cr_assert_eq(rk_msg_capacity(32), 0);
}
