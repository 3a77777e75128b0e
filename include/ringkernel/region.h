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
 * RK_REGION_UNLOCKED is given. -EINVAL also for a NULL out_p, unknown
 * flags or an absurd size. A failed create leaves no name behind.
 *
 * A region handle may be read from any thread; rk_region_alloc() is the
 * creator's, one call at a time, and rk_region_close() the last call.
 */
int rk_region_create(const char *name, size_t size, unsigned flags, rk_region **out_p);

/* Open a region another process of the same user created, validating its
 * header: -ENOENT, -EACCES (other owner or loose mode), -EBADMSG (magic),
 * -EPROTONOSUPPORT (version), -ERANGE (sizes, offsets, sections), -EINVAL
 * (NULL or malformed name, unknown flags), or mmap/mlock's error. */
int rk_region_open(const char *name, unsigned flags, rk_region **out_p);

/* Unmap (NULL is ignored); no pointer into the mapping is valid after it.
 * The creator's close also unlinks a named region. */
void rk_region_close(rk_region *r);

/* Remove a named region (not needed after the creator's close): 0,
 * -EINVAL (malformed name), or shm_unlink's error (-ENOENT, -EACCES). */
int rk_region_unlink(const char *name);

/* Carve a section of `size` bytes (aligned to RK_LINE, zeroed) out of a
 * region this process created; -ENOSPC when it does not fit, -EEXIST for a
 * duplicate (kind, id), -EPERM when this process did not create it,
 * -EINVAL for NULL, size 0 or RK_SECT_FREE. Only before others open it. */
int rk_region_alloc(rk_region *r, uint32_t kind, uint32_t id, size_t size, uint64_t *offset_p);

/* Locate a section: -ENOENT when absent, -ERANGE when the section table or
 * the section lies outside the region (a tampered header), -EINVAL for
 * NULL. `*ptr_p` points into this process's mapping; the offset is valid
 * for everyone. `size_p` may be NULL. */
int rk_region_find(const rk_region *r, uint32_t kind, uint32_t id, void **ptr_p, size_t *size_p);

/* Accessors, for a valid region (they never fail): the base of this
 * process's mapping, the bytes mapped, the descriptor (owned by the region),
 * the name, and 1 when mlock'ed / on huge pages (else 0). */
void *rk_region_base(const rk_region *r);
size_t rk_region_size(const rk_region *r);
int rk_region_fd(const rk_region *r);
const char *rk_region_name(const rk_region *r); /* "" when anonymous */
int rk_region_is_locked(const rk_region *r);
int rk_region_is_huge(const rk_region *r);

/* Bytes a region needs to hold sections of these sizes (header, alignment
 * and page rounding included). */
size_t rk_region_size_for(const size_t *section_sizes, unsigned n);

/* Validate a region header at `base`, `mapped` bytes readable there, as
 * rk_region_open() does before it trusts one (a fuzz target's way in):
 * 0, -EBADMSG, -EPROTONOSUPPORT or -ERANGE, with rk_last_error() saying
 * which field. Reads only the `mapped` bytes. */
int rk_region_validate(const void *base, size_t mapped);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_REGION_H */
