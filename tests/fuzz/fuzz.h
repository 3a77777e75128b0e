/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets. A target asserts what the code promises
 * for hostile bytes (the errno, the message, nothing written or read out of
 * bounds: ASan and UBSan watch the last two); a broken promise aborts, and
 * libFuzzer saves the input as crash-*.
 */
#ifndef RK_FUZZ_H
#define RK_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/error.h>

#define FUZZ_CHECK(c, ...)                                                                      \
	do {                                                                                    \
		if (!(c)) {                                                                     \
			fprintf(stderr, "%s:%d: broken promise: %s: ", __FILE__, __LINE__, #c); \
			fprintf(stderr, __VA_ARGS__);                                           \
			fprintf(stderr, " (rk_last_error: \"%s\")\n", rk_last_error());         \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* A failing call returns one of `allowed` (0-terminated) and says why. */
#define FUZZ_CHECK_FAILURE(ret, ...)                                                              \
	do {                                                                                      \
		static const int allowed_[] = { __VA_ARGS__, 0 };                                 \
		int found_ = 0;                                                                   \
		for (const int *a_ = allowed_; *a_; a_++)                                         \
			found_ |= (ret) == *a_;                                                   \
		FUZZ_CHECK(found_, "unexpected return %d (%s)", (ret), rk_strerror(ret));         \
		FUZZ_CHECK(rk_last_error()[0] != '\0', "%s without a message", rk_strerror(ret)); \
	} while (0)

/* Little-endian reads from the input, zero past its end. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fuzz_take(struct fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->left ? n : in->left;
	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint8_t b[8];
	uint64_t v = 0;
	fuzz_take(in, b, 8);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint8_t b[2];
	fuzz_take(in, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t b;
	fuzz_take(in, &b, 1);
	return b;
}

/* fuzz_ring's operations (the input's op byte, modulo RING_OPS). */
enum ring_op {
	OP_SET_PROD_TAIL, /* the peer writes any value */
	OP_SET_CONS_HEAD,
	OP_SET_PROD_HEAD,
	OP_NEAR_PROD_TAIL,	/* tail = consumer + v % (2 cap + 1): sometimes valid */
	OP_NEAR_CONS_HEAD,	/* head = producer - v % (2 cap + 1) */
	OP_PEEK_DECODE_RELEASE, /* up to v % 64 + 1 slots */
	OP_DEQUEUE_BURST,	/* n = v % 64 + 1, len = (v >> 8) % (slot + 1) */
	OP_DEQUEUE_BULK,
	OP_ENQUEUE_BURST, /* n = v % 16 + 1, len as above */
	OP_ENQUEUE_BULK,
	OP_COUNT,
	OP_REATTACH,
	OP_POKE_SLOT, /* slot byte v % span = v >> 56 */
	RING_OPS
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* RK_FUZZ_H */
