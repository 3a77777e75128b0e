/* SPDX-License-Identifier: MIT */
/*
 * shm/msg_codec.h - the inline half of the slot codec, for the library's
 * own readers: rk_msg_read() and the runtime's receive paths share it.
 * The header is checked on a copy the caller made (the writer may be
 * changing the slot), against a slot size the caller has validated.
 */
#ifndef RK_SHM_MSG_CODEC_H
#define RK_SHM_MSG_CODEC_H

#include <stdbool.h>

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

/* The copied header is well formed for a slot of `slot_size` (>= 64). */
static inline bool rki_msg_hdr_ok(const struct rk_msg_hdr *h, uint32_t slot_size)
{
	return h->magic == RK_MSG_MAGIC && h->version == RK_MSG_VERSION &&
	       h->len <= slot_size - RK_MSG_HDR_SIZE;
}

/* Unpack a checked header copy and its payload into `out`. */
static inline void rki_msg_unpack(const struct rk_msg_hdr *h, const uint8_t *payload,
				  rk_message *out)
{
	out->type = h->type;
	out->len = h->len;
	out->id = h->id;
	out->correlation_id = h->correlation_id;
	out->source = h->source;
	out->dest = h->dest;
	out->hlc = h->hlc;
	out->flags = h->flags;
	out->priority = h->priority;
	out->seq = h->seq;
	if (h->len)
		rk_ring_copy_(out->payload, payload, h->len);
}

#endif /* RK_SHM_MSG_CODEC_H */
