/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/region.h - shared-memory regions.
 *
 * A region is one shared-memory object (memfd when anonymous, shm_open when
 * named; mode 0600, O_EXCL), mapped MAP_SHARED|MAP_POPULATE and mlock'ed.
 * It starts with struct rk_region_hdr: magic, layout version, size, creator,
 * and a table of sections located by offset, so every party may map it at
 * its own address. rk_region_open() validates all of it before use.
 */
#ifndef RINGKERNEL_REGION_H
#define RINGKERNEL_REGION_H

#include <stddef.h>
#include <stdint.h>

#include <ringkernel/layout.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rk_region rk_region;

/* Creation flags. */
#define RK_REGION_HUGE	   0x1u /* try huge pages, fall back to normal ones */
#define RK_REGION_UNLOCKED 0x2u /* opt-in: skip mlock (pages may be swapped) */

/*
 * Create a region of at least `size` bytes (rounded up to the page size,
 * header included). `name` NULL makes an anonymous memfd region; otherwise a
 * POSIX shm name without the leading slash: -EEXIST if it exists, -EINVAL if
 * malformed (empty, over 200 characters, any '/', "." or ".."). The pages
 * are reserved at once: -ENOSPC when /dev/shm (or, for memfd, the memory
 * behind it) cannot hold them, never a SIGBUS on a later write. mlock
 * failure is -ENOMEM (or -EPERM) with RLIMIT_MEMLOCK in the message, unless
 * RK_REGION_UNLOCKED is given. A failed create leaves no name behind.
 */
int rk_region_create(const char *name, size_t size, unsigned flags, rk_region **out_p);

/* Open a region another process of the same user created, validating its
 * header: -ENOENT, -EACCES (other owner or loose mode), -EBADMSG (magic),
 * -EPROTONOSUPPORT (version), -ERANGE (sizes, offsets, sections). */
int rk_region_open(const char *name, unsigned flags, rk_region **out_p);

/* Unmap. The creator's close also unlinks a named region. */
void rk_region_close(rk_region *r);

/* Remove a named region (not needed after the creator's close). */
int rk_region_unlink(const char *name);

/* Carve a section of `size` bytes (aligned to RK_LINE, zeroed) out of a
 * region this process created; -ENOSPC when it does not fit, -EEXIST for a
 * duplicate (kind, id). Only before others open it. */
int rk_region_alloc(rk_region *r, uint32_t kind, uint32_t id, size_t size, uint64_t *offset_p);

/* Locate a section: -ENOENT when absent. `*ptr_p` points into this
 * process's mapping; the offset is valid for everyone. */
int rk_region_find(const rk_region *r, uint32_t kind, uint32_t id, void **ptr_p, size_t *size_p);

void *rk_region_base(const rk_region *r);
size_t rk_region_size(const rk_region *r);
int rk_region_fd(const rk_region *r);
const char *rk_region_name(const rk_region *r); /* "" when anonymous */
int rk_region_is_locked(const rk_region *r);
int rk_region_is_huge(const rk_region *r);

/* Bytes a region needs to hold sections of these sizes (header, alignment
 * and page rounding included). */
size_t rk_region_size_for(const size_t *section_sizes, unsigned n);

/* Internal, not part of the ABI (the fuzzer and rk_region_open() call it):
 * validate a region header at `base`, `mapped` bytes readable there, as
 * rk_region_open() does: 0, -EBADMSG, -EPROTONOSUPPORT or -ERANGE. */
int rk_region_validate_(const void *base, size_t mapped);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_REGION_H */
