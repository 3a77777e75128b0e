/* SPDX-License-Identifier: MIT */
/* Message slots: pack and validated unpack of the 64-byte header. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>

#include "msg_codec.h"

/*
 * A slot holds at least its header and at most RK_SLOT_MAX bytes. Both
 * bounds protect memory: a smaller slot would be over-read or over-written
 * by the 64-byte header copy, a larger one would let an untrusted `len`
 * overflow rk_message.payload (RK_MAX_PAYLOAD bytes).
 */
static int check_slot_size(uint32_t slot_size)
{
	if (slot_size < RK_MSG_HDR_SIZE || slot_size > RK_SLOT_MAX)
		return rk_error(-EINVAL, "slot size %u outside %u..%u", slot_size, RK_MSG_HDR_SIZE,
				RK_SLOT_MAX);
	return 0;
}

int rk_msg_check(const struct rk_msg_hdr *h, uint32_t slot_size)
{
	int ret = check_slot_size(slot_size);
	if (ret < 0)
		return ret;
	if (h->magic != RK_MSG_MAGIC || h->version != RK_MSG_VERSION)
		return rk_error(-EBADMSG, "slot header: bad magic 0x%04x or version %u", h->magic,
				h->version);
	if (h->len > rk_msg_capacity(slot_size))
		return rk_error(-EMSGSIZE,
				"slot header: payload length %u exceeds the slot's %u bytes",
				h->len, rk_msg_capacity(slot_size));
	return 0;
}

int rk_msg_write_parts(void *slot, uint32_t slot_size, const struct rk_msg_hdr *h,
		       const void *payload, uint32_t len)
{
	int ret = check_slot_size(slot_size);
	if (ret < 0)
		return ret;
	if (len > rk_msg_capacity(slot_size))
		return rk_error(-EMSGSIZE, "payload of %u bytes exceeds the slot's %u", len,
				rk_msg_capacity(slot_size));
	struct rk_msg_hdr *d = slot;
	*d = *h;
	d->magic = RK_MSG_MAGIC;
	d->version = RK_MSG_VERSION;
	d->len = len;
	if (len)
		memcpy(d + 1, payload, len);
	return 0;
}

int rk_msg_write(void *slot, uint32_t slot_size, const rk_message *m)
{
	struct rk_msg_hdr h = {
		.priority = (uint8_t)m->priority,
		.type = m->type,
		.flags = m->flags,
		.id = m->id,
		.correlation_id = m->correlation_id,
		.source = m->source,
		.dest = m->dest,
		.hlc = m->hlc,
		.seq = m->seq,
	};
	if (m->len > RK_MAX_PAYLOAD)
		return rk_error(-EMSGSIZE, "payload of %u bytes exceeds RK_MAX_PAYLOAD", m->len);
	return rk_msg_write_parts(slot, slot_size, &h, m->payload, m->len);
}

int rki_msg_bad(const void *slot, uint32_t slot_size)
{
	struct rk_msg_hdr h;
	memcpy(&h, slot, sizeof(h));
	int ret = rk_msg_check(&h, slot_size);
	return ret < 0 ? ret : rk_error(-EBADMSG, "slot header: changed while it was read");
}

int rk_msg_read(const void *slot, uint32_t slot_size, rk_message *out)
{
	/* One copy of the header: the writer may be changing the slot, and
	 * a slot given here may sit at any address (a network frame's). */
	struct rk_msg_hdr h;
	int ret = check_slot_size(slot_size);
	if (ret < 0)
		return ret;
	memcpy(&h, slot, sizeof(h));
	ret = rk_msg_check(&h, slot_size);
	if (ret < 0)
		return ret;
	rki_msg_unpack(&h, h.len, (const uint8_t *)slot + RK_MSG_HDR_SIZE, out);
	return 0;
}
