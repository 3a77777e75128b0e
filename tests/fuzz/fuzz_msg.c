/* SPDX-License-Identifier: MIT */
/*
 * Slot decode: rk_msg_read() and rk_msg_check() on a slot another process
 * or a device wrote.
 *
 * Input: u16 slot size (any value: the call must refuse those outside
 * RK_MSG_HDR_SIZE..RK_SLOT_MAX), then the slot's bytes (zero past the end
 * of the input). The slot lives in a heap block of exactly that size, so
 * any read past it is an ASan report. Checked: the result follows from the
 * header alone (oracle below); a refused slot leaves the output untouched
 * and sets a message; an accepted one is unpacked field for field, copies
 * exactly `len` payload bytes, and survives a write/read round trip.
 */
#include <errno.h>
#include <stdbool.h>

#include <ringkernel/msg.h>

#include "fuzz.h"

#define FILL 0xa5

static int oracle(const struct rk_msg_hdr *h, uint32_t ss)
{
	if (ss < RK_MSG_HDR_SIZE || ss > RK_SLOT_MAX)
		return -EINVAL;
	if (h->magic != RK_MSG_MAGIC || h->version != RK_MSG_VERSION)
		return -EBADMSG;
	if (h->len > ss - RK_MSG_HDR_SIZE)
		return -EMSGSIZE;
	return 0;
}

static bool untouched(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != FILL)
			return false;
	return true;
}

static void check_unpacked(const rk_message *m, const struct rk_msg_hdr *h, const uint8_t *slot)
{
	FUZZ_CHECK(m->type == h->type && m->len == h->len && m->id == h->id &&
			   m->correlation_id == h->correlation_id && m->source == h->source &&
			   m->dest == h->dest && m->hlc == h->hlc && m->flags == h->flags &&
			   m->priority == h->priority && m->seq == h->seq,
		   "header fields not unpacked as written");
	FUZZ_CHECK(memcmp(m->payload, slot + RK_MSG_HDR_SIZE, h->len) == 0, "payload differs");
	FUZZ_CHECK(untouched(m->payload + h->len, RK_MAX_PAYLOAD - h->len),
		   "bytes past len %u written", h->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint32_t ss = fuzz_u16(&in);
	uint8_t *slot = malloc(ss ? ss : 1);
	fuzz_take(&in, slot, ss);
	struct rk_msg_hdr h = { 0 };
	if (ss >= sizeof(h))
		memcpy(&h, slot, sizeof(h));
	int want = oracle(&h, ss);

	rk_message *m = malloc(sizeof(*m));
	memset(m, FILL, sizeof(*m));
	rk_clear_error();
	int ret = rk_msg_read(slot, ss, m);
	FUZZ_CHECK(ret == want, "rk_msg_read: %d (%s), expected %d", ret, rk_strerror(ret), want);
	if (ret < 0) {
		FUZZ_CHECK_FAILURE(ret, -EINVAL, -EBADMSG, -EMSGSIZE);
		FUZZ_CHECK(untouched(m, sizeof(*m)), "refused slot, output written");
	} else {
		check_unpacked(m, &h, slot);
	}
	if (ss >= sizeof(h)) {
		rk_clear_error();
		int c = rk_msg_check(&h, ss);
		FUZZ_CHECK(c == want, "rk_msg_check: %d, rk_msg_read: %d", c, want);
	}

	if (ret == 0) {
		/* What was read writes back to an equal slot. */
		uint8_t *copy = malloc(ss);
		rk_message *again = malloc(sizeof(*again));
		memset(again, FILL, sizeof(*again));
		FUZZ_CHECK(rk_msg_write(copy, ss, m) == 0, "rk_msg_write of what was read");
		FUZZ_CHECK(rk_msg_read(copy, ss, again) == 0, "re-read");
		struct rk_msg_hdr h2;
		memcpy(&h2, copy, sizeof(h2));
		check_unpacked(again, &h, copy);
		FUZZ_CHECK(h2.magic == RK_MSG_MAGIC && h2.version == RK_MSG_VERSION &&
				   h2.len == h.len,
			   "written header");
		/* One byte too many is refused before anything is written. */
		if (m->len < RK_MAX_PAYLOAD && m->len == rk_msg_capacity(ss)) {
			memcpy(again, m, sizeof(*m));
			again->len = m->len + 1;
			memset(copy, FILL, ss);
			rk_clear_error();
			int w = rk_msg_write(copy, ss, again);
			FUZZ_CHECK(w == -EMSGSIZE, "oversized write: %d", w);
			FUZZ_CHECK_FAILURE(w, -EMSGSIZE);
			FUZZ_CHECK(untouched(copy, ss), "oversized write changed the slot");
		}
		free(again);
		free(copy);
	}
	free(m);
	free(slot);
	return 0;
}
