/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/msg.h - messages and the 64-byte slot header.
 *
 * A slot is a struct rk_msg_hdr followed by the payload. Slots written by
 * another process or a device are untrusted: rk_msg_read() copies the header
 * once, validates it against the slot size, and only then copies `len`
 * payload bytes.
 */
#ifndef RINGKERNEL_MSG_H
#define RINGKERNEL_MSG_H

#include <stdint.h>

#include <ringkernel/layout.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The slot header, unpacked, plus the payload. */
typedef struct rk_message {
	uint32_t type, len;	     /* len = payload bytes actually used */
	uint64_t id, correlation_id; /* correlation_id of a reply = id of its request */
	uint64_t source, dest;	     /* kernel ids; 0 = the host */
	uint64_t hlc;		     /* 48-bit physical us << 16 | 16-bit logical */
	uint8_t payload[RK_MAX_PAYLOAD];
	/* added fields */
	uint32_t flags; /* RK_MSG_F_* */
	uint32_t priority;
	uint64_t seq;
} rk_message;

/* Payload bytes a slot of `slot_size` holds. */
static inline uint32_t rk_msg_capacity(uint32_t slot_size)
{
	return slot_size > RK_MSG_HDR_SIZE ? slot_size - RK_MSG_HDR_SIZE : 0;
}

/* These calls are pure: they never block, keep no state, and may be made
 * from any thread on slots that thread may read or write. */

/* Write `m`'s header and its first m->len payload bytes into `slot`.
 * -EMSGSIZE if they do not fit in `slot_size`. Every call here takes
 * -EINVAL for a slot_size outside RK_MSG_HDR_SIZE..RK_SLOT_MAX. */
int rk_msg_write(void *slot, uint32_t slot_size, const rk_message *m);

/* Write a header and `len` bytes from `payload` (may be NULL when len = 0);
 * magic, version and len are set here, the rest is copied from `h`.
 * 0, -EINVAL or -EMSGSIZE. */
int rk_msg_write_parts(void *slot, uint32_t slot_size, const struct rk_msg_hdr *h,
		       const void *payload, uint32_t len);

/* Validate a slot and unpack it into `out`: -EBADMSG (magic/version) or
 * -EMSGSIZE (len larger than the slot), with nothing copied. */
int rk_msg_read(const void *slot, uint32_t slot_size, rk_message *out);

/* Validate a header already copied out of a slot: 0, -EINVAL (slot_size),
 * -EBADMSG or -EMSGSIZE, as rk_msg_read(). */
int rk_msg_check(const struct rk_msg_hdr *h, uint32_t slot_size);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_MSG_H */
