/* SPDX-License-Identifier: MIT */
/*
 * shm/msg_codec.h - the inline half of the slot codec, for the library's
 * own readers: rk_msg_read() and the runtime's receive paths share it.
 * A ring's slot (aligned) is checked in place, its length read once (the
 * writer may be changing the slot); rk_msg_read(), whose slot may sit at
 * any address, checks a copy. Either against a slot size the caller has
 * validated.
 */
#ifndef RK_SHM_MSG_CODEC_H
#define RK_SHM_MSG_CODEC_H

#include <stdbool.h>

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

/*
 * The header of a slot of `slot_size` (>= 64, validated by the caller) is
 * well formed, checked in place: no staging copy. Only len decides how
 * much is read and written, so it is read once (a relaxed atomic load,
 * which the compiler may not repeat) into *len_p, and the caller uses
 * that copy; magic and version are only compared, and any value of the
 * other fields is harmless to copy as it is.
 */
static inline bool rki_msg_hdr_ok(const struct rk_msg_hdr *h, uint32_t slot_size, uint32_t *len_p)
{
	uint32_t len = __atomic_load_n(&h->len, __ATOMIC_RELAXED);
	*len_p = len;
	return h->magic == RK_MSG_MAGIC && h->version == RK_MSG_VERSION &&
	       len <= slot_size - RK_MSG_HDR_SIZE;
}

/* Unpack a checked header, in place, and `len` payload bytes into `out`:
 * `len` is the checked length, read once, never the header's again. */
static inline void rki_msg_unpack(const struct rk_msg_hdr *h, uint32_t len, const uint8_t *payload,
				  rk_message *out)
{
	out->type = h->type;
	out->len = len;
	out->id = h->id;
	out->correlation_id = h->correlation_id;
	out->source = h->source;
	out->dest = h->dest;
	out->hlc = h->hlc;
	out->flags = h->flags;
	out->priority = h->priority;
	out->seq = h->seq;
	if (len)
		rk_ring_copy_(out->payload, payload, len);
}

/* A slot rki_msg_decode() refused: the error of a copy of its header,
 * -EBADMSG if that copy is well formed (the writer changed the slot while
 * it was read). Cold, in msg.c. */
int rki_msg_bad(const void *slot, uint32_t slot_size);

/* Decode a ring's slot (RK_SLOT_ALIGN aligned: its fields are read
 * through the struct) in place into `out`, slot_size validated by the
 * caller. 0, or a negative errno (rk_last_error() says why). */
static inline int rki_msg_decode(const uint8_t *slot, uint32_t slot_size, rk_message *out)
{
	const struct rk_msg_hdr *h = (const struct rk_msg_hdr *)slot;
	uint32_t len;
	if (__builtin_expect(!rki_msg_hdr_ok(h, slot_size, &len), 0))
		return rki_msg_bad(slot, slot_size);
	rki_msg_unpack(h, len, slot + RK_MSG_HDR_SIZE, out);
	return 0;
}

#endif /* RK_SHM_MSG_CODEC_H */
