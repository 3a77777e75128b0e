/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/layout.h - the bytes that cross a process or a PCIe bus.
 *
 * Everything here lives in a shared-memory region that the host, another
 * process and a device may map at different addresses, so it holds offsets,
 * never pointers. The header compiles as C11, C++ (nvcc, hipcc) and
 * OpenCL C 1.2; it declares layout only, no code.
 *
 * Changing any struct here is a layout change: bump RK_LAYOUT_VERSION.
 */
#ifndef RINGKERNEL_LAYOUT_H
#define RINGKERNEL_LAYOUT_H

#if defined(__OPENCL_C_VERSION__)
typedef uchar rk_u8;
typedef ushort rk_u16;
typedef uint rk_u32;
typedef ulong rk_u64;
#else
#include <stdint.h>
typedef uint8_t rk_u8;
typedef uint16_t rk_u16;
typedef uint32_t rk_u32;
typedef uint64_t rk_u64;
#endif

#define RK_LAYOUT_VERSION 4u

/* Producer and consumer lines are 128 bytes apart: x86 adjacent-line
 * prefetch pulls 64-byte lines in pairs. */
#define RK_LINE 128u

/* ---- region ----------------------------------------------------------- */

#define RK_REGION_MAGIC	       0x314e4f4947524b52ull /* "RKGRION1" little-endian */
#define RK_REGION_MAX_SECTIONS 28u
#define RK_REGION_HDR_SIZE     1024u

/* What a section holds. */
enum {
	RK_SECT_FREE = 0,
	RK_SECT_CTRL = 1,    /* struct rk_ctrl */
	RK_SECT_RING = 2,    /* struct rk_ring_hdr + slots */
	RK_SECT_STATE = 3,   /* per-kernel scratch, opaque */
	RK_SECT_ROUTES = 4,  /* K2K route table */
	RK_SECT_USER = 5,    /* anything an application puts there */
	RK_SECT_DIR = 6,     /* struct rk_dir: a named runtime's directory */
	RK_SECT_CLIENTS = 7, /* struct rk_clients: attached processes */
	RK_SECT_PROFILE = 8, /* struct rk_profile: kernel-written timings */
};

struct rk_region_section {
	rk_u32 kind;   /* RK_SECT_* */
	rk_u32 id;     /* caller's tag, unique per kind */
	rk_u64 offset; /* from the region base, aligned to RK_LINE */
	rk_u64 size;
	rk_u64 reserved;
};

struct rk_region_hdr {
	rk_u64 magic;	   /* written last by the creator (release) */
	rk_u32 version;	   /* RK_LAYOUT_VERSION */
	rk_u32 hdr_size;   /* RK_REGION_HDR_SIZE */
	rk_u64 total_size; /* bytes in the shared object */
	rk_u32 creator_uid;
	rk_u32 creator_pid;
	rk_u32 nsections;
	rk_u32 flags;
	rk_u64 used; /* bump-allocator mark: first free byte */
	rk_u8 reserved[RK_LINE - 48];
	struct rk_region_section sect[RK_REGION_MAX_SECTIONS];
};

/* ---- ring ------------------------------------------------------------- */

#define RK_RING_MAGIC	     0x474e4952u /* "RING" */
#define RK_RING_MAX_CAPACITY (1u << 24)
#define RK_SLOT_ALIGN	     64u
#define RK_SLOT_MAX	     4096u

/* Ring flags, fixed at init. */
#define RK_RING_MP	  0x1u /* several producers claim slots with a CAS */
#define RK_RING_ASYM	  0x2u /* asymmetric parking handshake (ring.h) */
#define RK_RING_FLAGS_ALL (RK_RING_MP | RK_RING_ASYM)

/*
 * A ring: power-of-two slots, free-running 64-bit indexes.
 *   prod_head  the MP reservation mark: senders claim slots with a CAS on
 *              it. Its own line: the consumer never reads it, so a single
 *              sender's claims stay in that sender's cache.
 *   prod_tail  published by the producer(s) with release; the consumer
 *              polls and acquires it.
 *   cons_head  published by the consumer with release; producers acquire it.
 * Each lives on its own line; the waiter line is written only when a side
 * parks, so the hot path never touches it but to read it.
 */
struct rk_ring_hdr {
	/* line 0: immutable after init */
	rk_u32 magic;
	rk_u32 version;
	rk_u32 capacity;  /* power of two */
	rk_u32 slot_size; /* multiple of RK_SLOT_ALIGN */
	rk_u32 flags;
	rk_u32 pad0;
	rk_u64 start; /* first index, for wrap-around tests */
	rk_u8 line0[RK_LINE - 32];
	/* line 1: MP claims */
	rk_u64 prod_head;
	rk_u8 line1[RK_LINE - 8];
	/* line 2: producer publish, what the consumer polls */
	rk_u64 prod_tail;
	rk_u8 line2[RK_LINE - 8];
	/* line 3: consumer */
	rk_u64 cons_head;
	rk_u8 line3[RK_LINE - 8];
	/* line 4: parking. *_waiting counts parked sides; *_bell is the 32-bit
	 * futex word the other side bumps before it wakes them. */
	rk_u32 cons_waiting;
	rk_u32 cons_bell;
	rk_u32 prod_waiting;
	rk_u32 prod_bell;
	/* The bells a device rings (GPU, OpenCL): its own words, because an
	 * atomic on mapped host memory is not atomic between host and device.
	 * The plugin's host thread carries each change to the bell above. */
	rk_u32 cons_bell_dev;
	rk_u32 prod_bell_dev;
	rk_u8 line4[RK_LINE - 24];
};

/* ---- message slot header ------------------------------------------------ */

#define RK_MSG_MAGIC	0x4b52u /* "RK" */
#define RK_MSG_VERSION	1u
#define RK_MSG_HDR_SIZE 64u
#define RK_MAX_PAYLOAD	4032u /* RK_SLOT_MAX - RK_MSG_HDR_SIZE */

/* Message flags. */
#define RK_MSG_F_REPLY	     0x1u /* correlation_id names a request */
#define RK_MSG_F_UNDELIVERED 0x2u /* returned by terminate, never processed */
#define RK_MSG_F_STAMPED     0x8u /* seq holds the send time (CLOCK_MONOTONIC ns): profiling */
#define RK_MSG_F_TOOBIG                                        \
	0x4u /* a forward bounced to the host: larger than the \
	      * receiver's slots */

struct rk_msg_hdr {
	rk_u16 magic;
	rk_u8 version;
	rk_u8 priority;
	rk_u32 type;
	rk_u32 flags;
	rk_u32 len; /* payload bytes; untrusted: check against the slot */
	rk_u64 id;
	rk_u64 correlation_id;
	rk_u64 source; /* kernel id, 0 = host */
	rk_u64 dest;
	rk_u64 hlc; /* 48-bit physical us << 16 | 16-bit logical */
	rk_u64 seq; /* sender's sequence number, for tests and tracing */
};

/* ---- kernel-to-kernel routes ----------------------------------------------- */

#define RK_MAX_ROUTES 16u

/*
 * K2K routes come in two tables.
 *
 * struct rk_k2k is what a kernel's loop follows: the addresses and geometry
 * of the rings it sends into and receives from. It lives in the host
 * process's private memory (an anonymous mapping, never a shared object),
 * reaches the loop through its launch arguments, and is written by the
 * runtime only (each entry complete before its count is published with
 * release). No other process can write it, so the loop never follows an
 * address another process chose. Addresses are host virtual addresses: a
 * device backend runs kernels with routes only where it has checked that
 * its device dereferences host addresses as they are (plugins/gpu_host.h).
 *
 * struct rk_routes, in the kernel's region (RK_SECT_ROUTES), is for
 * observers: the routes by destination and the kernel-written counters.
 * The loop writes its counters there and reads nothing back from it.
 */
struct rk_k2k_ring {
	rk_u64 dest_id;	  /* outbound: the receiving kernel; inbound: the sender */
	rk_u64 ring_addr; /* struct rk_ring_hdr */
	rk_u64 bell_addr; /* outbound: the receiver's input ring header (its bell) */
	rk_u32 capacity;  /* the ring's geometry, from the runtime's validated handle */
	rk_u32 slot_size;
	rk_u32 state; /* RK_ROUTE_* (outbound; host-written) */
	rk_u32 pad;
};

/* ---- attached clients ------------------------------------------------------ */

/*
 * A process that attached to a named kernel (rk_attach) sends into its
 * input ring with `source` set to its tag, and the kernel routes a reply
 * whose `dest` is a tag to that client's own reply ring: each client has
 * one consumer ring, like the host's output ring. A tag is
 * RK_CLIENT_TAG | generation << 8 | slot; the generation changes each time
 * a slot is handed out, so a reply meant for an earlier client of the
 * slot is recognised (and dropped) by the next one.
 */
#define RK_MAX_CLIENTS	     16u
#define RK_CLIENT_TAG	     0x8000000000000000ull
#define RK_CLIENT_SLOT(tag)  ((rk_u32)((tag)&0xffu))
#define RK_CLIENT_IS_TAG(id) (((id)&RK_CLIENT_TAG) != 0)

/* A client's reply ring as the kernel loop follows it (struct rk_k2k, private). */
struct rk_k2k_client {
	rk_u64 tag;	  /* the client it serves now */
	rk_u64 ring_addr; /* struct rk_ring_hdr, in the kernel's own region */
	rk_u32 capacity;  /* geometry from the owner's handle, never from the region */
	rk_u32 slot_size;
	rk_u32 state; /* RK_ROUTE_OPEN while the client is there (release, last) */
	rk_u32 pad;
};

struct rk_k2k {
	rk_u32 nroutes;	   /* outbound entries published (release) */
	rk_u32 ninbound;   /* inbound entries published (release) */
	rk_u64 stats_addr; /* this kernel's struct rk_routes, for the counters */
	rk_u32 nclients;   /* client entries that exist (fixed at launch) */
	rk_u32 pad0;
	rk_u64 profile_addr; /* struct rk_profile to fill, or 0 (host loops only) */
	rk_u8 pad[RK_LINE - 32];
	struct rk_k2k_ring route[RK_MAX_ROUTES];
	struct rk_k2k_ring inbound[RK_MAX_ROUTES];
	struct rk_k2k_client client[RK_MAX_CLIENTS];
};

/* Route states, written by the host. */
enum {
	RK_ROUTE_OPEN = 1,
	RK_ROUTE_CLOSED = 2, /* the receiver terminated: sends fail, never stall */
};

/* One outbound route as observers see it (struct rk_routes). */
struct rk_route {
	rk_u64 dest_id; /* host-written, informational */
	rk_u64 reserved0[2];
	rk_u32 state; /* RK_ROUTE_* (host-written, informational) */
	rk_u32 pad;
	rk_u64 sent;   /* kernel-written */
	rk_u64 stalls; /* kernel-written: full-ring episodes */
	rk_u64 reserved[2];
};

/* The RK_SECT_ROUTES section. */
struct rk_routes {
	rk_u32 max_routes; /* fixed at launch, <= RK_MAX_ROUTES */
	rk_u32 nroutes;	   /* published with release after the entry is written */
	rk_u32 max_inbound;
	rk_u32 ninbound; /* inbound rings in use (host, release) */
	rk_u8 pad[RK_LINE - 16];
	rk_u64 inbound_addr[RK_MAX_ROUTES]; /* informational */
	rk_u64 inbound_src[RK_MAX_ROUTES];  /* sender kernel id per inbound ring */
	struct rk_route route[RK_MAX_ROUTES];
};

/*
 * The RK_SECT_CLIENTS section of a named kernel's region: one entry per
 * client slot. A client claims a FREE entry (CAS on state) and fills in
 * who it is; the owner's service thread checks that (the process exists,
 * started when it says, runs as the owner's uid), opens the slot's route
 * and writes READY with the tag. Everything here is written by processes
 * the owner does not trust: the owner reads pid, start and the request
 * words as numbers to check, never as sizes or addresses.
 */
enum {
	RK_CLIENT_FREE = 0,
	RK_CLIENT_CLAIMED = 1, /* client: filling in, then REQUEST */
	RK_CLIENT_REQUEST = 2, /* client: attach, please */
	RK_CLIENT_READY = 3,   /* owner: attached; tag is valid */
	RK_CLIENT_LEAVING = 4, /* client: detached (or the owner saw it die) */
	RK_CLIENT_REFUSED = 5, /* owner: not allowed (reason in `result`) */
};

/* Lifecycle requests a client may make when the owner allowed it. */
enum {
	RK_CLIENT_LC_NONE = 0,
	RK_CLIENT_LC_ACTIVATE = 1,
	RK_CLIENT_LC_DEACTIVATE = 2,
	RK_CLIENT_LC_TERMINATE = 3
};

struct rk_client_slot {
	rk_u32 state;	   /* RK_CLIENT_* */
	rk_u32 pid;	   /* client-written */
	rk_u64 start;	   /* client-written: its start time (/proc/PID/stat field 22) */
	rk_u64 tag;	   /* owner-written at READY */
	rk_u32 result;	   /* owner-written: 0 or a negative errno */
	rk_u32 lc_request; /* client: RK_CLIENT_LC_*, then it bumps lc_seq */
	rk_u32 lc_seq;	   /* client: request number */
	rk_u32 lc_done;	   /* owner: the last request number served */
	rk_u32 lc_result;  /* owner: what it returned */
	rk_u32 pad0;
	rk_u64 sent;	    /* client-written, informational (rk-top) */
	rk_u64 received;    /* client-written, informational */
	rk_u64 attached_ns; /* owner-written: CLOCK_REALTIME of the attach */
	rk_u8 pad[RK_LINE - 72];
};

/*
 * The section starts with this table; slot i's reply ring follows at
 * ring_offset + i * ring_stride from the section's start (RK_LINE aligned;
 * a reader checks that it lies inside the section before it looks).
 */
struct rk_clients {
	rk_u32 max_clients; /* owner-written at launch (clients check it) */
	rk_u32 lifecycle;   /* 1: clients may ask for state changes */
	rk_u64 ring_offset;
	rk_u64 ring_stride;
	rk_u64 reclaimed; /* owner-written: clients found dead and cleaned up */
	rk_u64 attaches;  /* owner-written: attaches served */
	rk_u8 pad[RK_LINE - 40];
	struct rk_client_slot slot[RK_MAX_CLIENTS];
};

/*
 * A named runtime's directory (RK_SECT_DIR of the region "rk.NAME"): who
 * owns it and what runs in it, for rk_attach() and rk-top. Only the owner
 * writes it; an entry is written between two bumps of its `seq` (odd while
 * it changes), so readers take a consistent copy or retry.
 */
#define RK_DIR_MAX_KERNELS 64u
#define RK_NAME_MAX	   64u /* names, terminator included */

struct rk_dir_kernel {
	rk_u32 seq;   /* odd while the owner rewrites the entry */
	rk_u32 state; /* rk_state + 1; 0 = unused entry */
	rk_u64 id;
	rk_u8 name[RK_NAME_MAX];		 /* launch name (unique in the runtime) */
	rk_u8 registry[RK_NAME_MAX];		 /* registry name (echo, ...) */
	rk_u8 region[RK_NAME_MAX + RK_NAME_MAX]; /* its region's shm name */
	rk_u64 launch_ns;			 /* CLOCK_REALTIME */
	rk_u8 pad[RK_LINE * 3 - 8 - 8 - 4 * RK_NAME_MAX - 8];
};

struct rk_dir {
	rk_u32 owner_uid;
	rk_u32 owner_pid;
	rk_u64 owner_start;  /* the owner's start time: a recycled pid is not the owner */
	rk_u64 heartbeat_ns; /* CLOCK_MONOTONIC, bumped by the owner's service thread */
	rk_u64 created_ns;   /* CLOCK_REALTIME */
	rk_u32 nkernels;     /* entries in use (high mark) */
	rk_u32 closed;	     /* 1 once the owner shut down */
	rk_u8 name[RK_NAME_MAX];
	rk_u8 backend[32];
	rk_u8 pad[RK_LINE * 2 - 40 - RK_NAME_MAX - 32];
	struct rk_dir_kernel entry[RK_DIR_MAX_KERNELS];
};

/*
 * Profiling (RK_SECT_PROFILE), written by a kernel loop that runs on host
 * threads when the runtime was built with profiling on. Histograms have
 * power-of-two buckets: bucket b counts values in [2^b, 2^(b+1)) (b = 0
 * also holds 0), the last one everything above.
 */
#define RK_PROF_BUCKETS 40u

struct rk_profile {
	rk_u64 messages;      /* handled while profiling */
	rk_u64 stamped;	      /* of those, with a send time (queue wait measured) */
	rk_u64 queue_wait_ns; /* sum: send to handler start */
	rk_u64 handler_ns;    /* sum: handler start to end */
	rk_u64 stall_ns;      /* sends waiting for room (output ring, routes, clients) */
	rk_u64 batches;	      /* input depth samples, one per batch */
	rk_u64 depth_sum;
	rk_u64 depth_max;
	rk_u64 reserved[8];
	rk_u64 queue_wait[RK_PROF_BUCKETS]; /* ns */
	rk_u64 handler[RK_PROF_BUCKETS];    /* ns */
	rk_u64 depth[RK_PROF_BUCKETS];	    /* messages waiting when a batch began */
};

/* Built-in kernels every backend ships (rk_ctrl.kind). */
enum {
	RK_KIND_USER = 0,
	RK_KIND_ECHO = 1,
	RK_KIND_ADD_F32 = 2,
	RK_KIND_COUNTER = 3,
	RK_KIND_SINK = 4,
	RK_KIND_FORWARD = 5,
};

/* ---- control block -------------------------------------------------------- */

/* Desired and observed states. */
enum {
	RK_CTRL_LAUNCHED = 0, /* resident, not consuming */
	RK_CTRL_ACTIVE = 1,
	RK_CTRL_DEACTIVATED = 2,
	RK_CTRL_TERMINATE = 3,	/* desired only */
	RK_CTRL_TERMINATED = 4, /* observed only */
};

/*
 * One per kernel, 128 bytes: the first half is written by the host only,
 * the second by the kernel only. The same protocol serves every backend.
 */
struct rk_ctrl {
	/* host-written */
	rk_u32 desired; /* RK_CTRL_* */
	rk_u32 kind;	/* built-in selector for device dispatch */
	rk_u64 kernel_id;
	rk_u64 launch_gen; /* bumped per launch, a device sanity check */
	rk_u32 in_ring;	   /* section ids of the kernel's rings */
	rk_u32 out_ring;
	rk_u32 state_size;
	rk_u32 max_payload;
	rk_u64 routes_addr; /* nonzero: the kernel has K2K routes (informational; the loop
			     * gets its struct rk_k2k from its launch arguments) */
	rk_u8 host_pad[64 - 48];
	/* kernel-written */
	rk_u32 observed;
	rk_u32 terminated; /* 1 once the loop has exited */
	rk_u64 heartbeat;  /* bumped every loop turn */
	rk_u64 messages_processed;
	rk_u64 messages_sent;
	rk_u64 errors;
	rk_u64 hlc;
	rk_u64 stalls;	    /* turns the output ring was full */
	rk_u64 hlc_clamped; /* timestamps clamped by the skew rule */
};

#if !defined(__OPENCL_C_VERSION__)
#if defined(__cplusplus)
#define RK_LAYOUT_ASSERT(c, m) static_assert(c, m)
#else
#define RK_LAYOUT_ASSERT(c, m) _Static_assert(c, m)
#endif
#include <stddef.h>
RK_LAYOUT_ASSERT(sizeof(struct rk_region_section) == 32, "section size");
RK_LAYOUT_ASSERT(offsetof(struct rk_region_hdr, sect) == RK_LINE, "section table on line 1");
RK_LAYOUT_ASSERT(sizeof(struct rk_region_hdr) == RK_REGION_HDR_SIZE, "region header size");
RK_LAYOUT_ASSERT(offsetof(struct rk_ring_hdr, prod_head) == 1 * RK_LINE, "claim line");
RK_LAYOUT_ASSERT(offsetof(struct rk_ring_hdr, prod_tail) == 2 * RK_LINE, "producer line");
RK_LAYOUT_ASSERT(offsetof(struct rk_ring_hdr, cons_head) == 3 * RK_LINE, "consumer line");
RK_LAYOUT_ASSERT(offsetof(struct rk_ring_hdr, cons_waiting) == 4 * RK_LINE, "waiter line");
RK_LAYOUT_ASSERT(sizeof(struct rk_ring_hdr) == 5 * RK_LINE, "ring header size");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, magic) == 0, "msg magic");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, version) == 2, "msg version");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, priority) == 3, "msg priority");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, type) == 4, "msg type");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, flags) == 8, "msg flags");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, len) == 12, "msg len");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, id) == 16, "msg id");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, correlation_id) == 24, "msg correlation");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, source) == 32, "msg source");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, dest) == 40, "msg dest");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, hlc) == 48, "msg hlc");
RK_LAYOUT_ASSERT(offsetof(struct rk_msg_hdr, seq) == 56, "msg seq");
RK_LAYOUT_ASSERT(sizeof(struct rk_msg_hdr) == RK_MSG_HDR_SIZE, "msg header is 64 bytes");
RK_LAYOUT_ASSERT(RK_MSG_HDR_SIZE + RK_MAX_PAYLOAD == RK_SLOT_MAX, "largest slot");
RK_LAYOUT_ASSERT(offsetof(struct rk_ctrl, observed) == 64, "ctrl kernel half");
RK_LAYOUT_ASSERT(sizeof(struct rk_route) == 64, "route entry size");
RK_LAYOUT_ASSERT(sizeof(struct rk_k2k_ring) == 40, "k2k ring entry size");
RK_LAYOUT_ASSERT(offsetof(struct rk_k2k, route) == RK_LINE, "k2k route table line");
RK_LAYOUT_ASSERT(offsetof(struct rk_routes, inbound_addr) == RK_LINE, "inbound table line");
RK_LAYOUT_ASSERT(offsetof(struct rk_routes, route) % 64 == 0, "route table alignment");
RK_LAYOUT_ASSERT(sizeof(struct rk_ctrl) == 128, "ctrl block size");
RK_LAYOUT_ASSERT(sizeof(struct rk_k2k_client) == 32, "k2k client entry size");
RK_LAYOUT_ASSERT(offsetof(struct rk_profile, queue_wait) == RK_LINE, "profile histograms line");
RK_LAYOUT_ASSERT(sizeof(struct rk_client_slot) == RK_LINE, "client slot is one line");
RK_LAYOUT_ASSERT(offsetof(struct rk_clients, slot) == RK_LINE, "client table line");
RK_LAYOUT_ASSERT(sizeof(struct rk_dir_kernel) == 3 * RK_LINE, "directory entry size");
RK_LAYOUT_ASSERT(offsetof(struct rk_dir, entry) == 2 * RK_LINE, "directory table line");
#endif

#endif /* RINGKERNEL_LAYOUT_H */
