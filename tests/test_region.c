/* SPDX-License-Identifier: MIT */
/*
 * Regions: create, open by name, sections, and the validation an opener
 * applies to everything it reads. Each corruption test creates a named
 * region, damages it through the creator's mapping, and expects
 * rk_region_open() (or the ring/message check behind it) to refuse it with
 * the documented errno and a non-empty rk_last_error(). The ASan build
 * proves nothing is read out of bounds on the way.
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#include "testutil.h"

#define RING_ID	  3
#define RING_CAP  8
#define RING_SLOT 128

static char name[64];
static rk_region *creator;

/* A named region holding one ring with one message in it. */
static void setup_region(void)
{
	struct rk_ring r;
	size_t need;
	uint64_t off;
	void *mem;
	rk_test_shm_name(name, sizeof(name), "region");
	rk_region_unlink(name); /* a leftover from a crashed run */
	cr_assert_eq(rk_ring_mem_size(RING_CAP, RING_SLOT, &need), 0);
	cr_assert_eq(rk_region_create(name, rk_region_size_for(&need, 1), 0, &creator), 0, "%s",
		     rk_last_error());
	cr_assert_eq(rk_region_alloc(creator, RK_SECT_RING, RING_ID, need, &off), 0, "%s",
		     rk_last_error());
	cr_assert_eq(rk_region_find(creator, RK_SECT_RING, RING_ID, &mem, NULL), 0);
	cr_assert_eq(rk_ring_init(&r, mem, need, RING_CAP, RING_SLOT, 0), 0);

	uint64_t idx;
	struct rk_msg_hdr h = { .type = 1, .id = 77 };
	cr_assert_eq(rk_ring_reserve(&r, 1, &idx), 1);
	cr_assert_eq(rk_msg_write_parts(rk_ring_slot(&r, idx), RING_SLOT, &h, "payload", 8), 0);
	rk_ring_commit(&r, 1);
}

static void teardown_region(void)
{
	rk_region_close(creator); /* unlinks the name */
	creator = NULL;
}

static struct rk_region_hdr *hdr(void)
{
	return rk_region_base(creator);
}

static void expect_open_fails(int err, const char *what)
{
	rk_region *r = (rk_region *)0x1;
	rk_clear_error();
	int ret = rk_region_open(name, 0, &r);
	cr_assert_eq(ret, err, "%s: got %d (%s), detail \"%s\"", what, ret, rk_strerror(ret),
		     rk_last_error());
	cr_assert_str_neq(rk_last_error(), "", "%s: no detail", what);
	cr_assert_eq(r, (rk_region *)0x1, "%s: out pointer written on failure", what);
}

/* ---- the good path ----------------------------------------------------------- */

Test(region, create_then_open_by_name_shares_memory, .init = setup_region, .fini = teardown_region)
{
	rk_region *other;
	cr_assert_eq(rk_region_open(name, 0, &other), 0, "%s", rk_last_error());
	cr_assert_eq(rk_region_size(other), rk_region_size(creator));
	cr_assert_str_eq(rk_region_name(other), name);
	cr_assert_neq(rk_region_base(other), rk_region_base(creator), "expected a second mapping");

	const struct rk_region_hdr *h = rk_region_base(other);
	cr_assert_eq(h->magic, RK_REGION_MAGIC);
	cr_assert_eq(h->version, RK_LAYOUT_VERSION);
	cr_assert_eq(h->total_size, rk_region_size(creator));
	cr_assert_eq(h->creator_pid, (uint32_t)getpid());
	cr_assert_eq(h->creator_uid, (uint32_t)geteuid());
	cr_assert_eq(h->nsections, 1);

	/* The section is found at the same offset in both mappings. */
	void *a, *b;
	size_t asz, bsz;
	cr_assert_eq(rk_region_find(creator, RK_SECT_RING, RING_ID, &a, &asz), 0);
	cr_assert_eq(rk_region_find(other, RK_SECT_RING, RING_ID, &b, &bsz), 0);
	cr_assert_eq((uint8_t *)a - (uint8_t *)rk_region_base(creator),
		     (uint8_t *)b - (uint8_t *)rk_region_base(other));
	cr_assert_eq(asz, bsz);

	/* The opener reads the message the creator queued. */
	struct rk_ring r;
	cr_assert_eq(rk_ring_attach(&r, b, bsz), 0, "%s", rk_last_error());
	cr_assert_eq(rk_ring_count(&r), 1);
	uint64_t idx;
	rk_message *m = calloc(1, sizeof(*m));
	cr_assert_eq(rk_ring_peek(&r, 1, &idx), 1);
	cr_assert_eq(rk_msg_read(rk_ring_slot(&r, idx), RING_SLOT, m), 0);
	cr_assert_eq(m->id, 77);
	cr_assert_str_eq((char *)m->payload, "payload");
	free(m);

	/* Writes through one mapping show in the other. */
	((volatile uint8_t *)a)[RK_LINE * 4] = 0x42;
	cr_assert_eq(((volatile uint8_t *)b)[RK_LINE * 4], 0x42);
	rk_region_close(other);
	/* The opener's close leaves the name in place. */
	cr_assert_eq(rk_region_open(name, 0, &other), 0);
	rk_region_close(other);
}

Test(region, regions_are_locked_and_private_to_the_user, .init = setup_region,
     .fini = teardown_region)
{
	struct stat st;
	cr_assert_eq(fstat(rk_region_fd(creator), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert(rk_region_is_locked(creator), "region not mlock'ed");
	cr_assert_eq(rk_region_size(creator) % (size_t)sysconf(_SC_PAGESIZE), 0);
}

Test(region, anonymous_region_has_no_name)
{
	rk_region *r;
	cr_assert_eq(rk_region_create(NULL, 5000, RK_REGION_UNLOCKED, &r), 0, "%s",
		     rk_last_error());
	cr_assert_str_eq(rk_region_name(r), "");
	cr_assert_geq(rk_region_fd(r), 0);
	cr_assert_eq(rk_region_size(r), 8192, "5000 bytes round up to two pages");
	cr_assert_not(rk_region_is_locked(r));
	rk_region_close(r);
}

Test(region, sections_are_aligned_zeroed_and_unique)
{
	rk_region *r;
	uint64_t o1, o2, o3;
	cr_assert_eq(rk_region_create(NULL, 16384, 0, &r), 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 1, 100, &o1), 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 2, 1, &o2), 0);
	cr_assert_eq(o1, RK_REGION_HDR_SIZE);
	cr_assert_eq(o2, o1 + RK_LINE, "100 bytes take one 128-byte line");
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 1, 64, &o3), -EEXIST);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_CTRL, 1, 64, &o3), 0, "same id, other kind");
	cr_assert_eq(o3 % RK_LINE, 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 9, 1 << 20, &o3), -ENOSPC);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_FREE, 9, 64, &o3), -EINVAL);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 9, 0, &o3), -EINVAL);

	void *p;
	size_t sz;
	cr_assert_eq(rk_region_find(r, RK_SECT_USER, 2, &p, &sz), 0);
	cr_assert_eq((uint8_t *)p - (uint8_t *)rk_region_base(r), (ptrdiff_t)o2);
	cr_assert_eq(sz, RK_LINE);
	for (size_t i = 0; i < sz; i++)
		cr_assert_eq(((uint8_t *)p)[i], 0);
	cr_assert_eq(rk_region_find(r, RK_SECT_USER, 3, &p, &sz), -ENOENT);
	rk_region_close(r);
}

Test(region, section_table_has_a_limit)
{
	rk_region *r;
	uint64_t off;
	cr_assert_eq(rk_region_create(NULL, 64 * 1024, RK_REGION_UNLOCKED, &r), 0);
	for (uint32_t i = 0; i < RK_REGION_MAX_SECTIONS; i++)
		cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, i, 64, &off), 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 1000, 64, &off), -ENOSPC);
	rk_region_close(r);
}

Test(region, size_for_covers_header_alignment_and_pages)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	cr_assert_eq(rk_region_size_for(NULL, 0), pg);
	size_t two[] = { 1, pg };
	size_t need = rk_region_size_for(two, 2);
	cr_assert_eq(need % pg, 0);
	cr_assert_geq(need, RK_REGION_HDR_SIZE + RK_LINE + pg);
	/* And the sections really fit. */
	rk_region *r;
	uint64_t off;
	cr_assert_eq(rk_region_create(NULL, need, RK_REGION_UNLOCKED, &r), 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 1, two[0], &off), 0);
	cr_assert_eq(rk_region_alloc(r, RK_SECT_USER, 2, two[1], &off), 0);
	rk_region_close(r);
}

Test(region, opener_cannot_carve_sections, .init = setup_region, .fini = teardown_region)
{
	rk_region *other;
	uint64_t off;
	cr_assert_eq(rk_region_open(name, 0, &other), 0);
	cr_assert_eq(rk_region_alloc(other, RK_SECT_USER, 1, 64, &off), -EPERM);
	rk_region_close(other);
}

/* ---- names ------------------------------------------------------------------- */

Test(region, creating_an_existing_name_is_eexist, .init = setup_region, .fini = teardown_region)
{
	rk_region *r = NULL;
	rk_clear_error();
	cr_assert_eq(rk_region_create(name, 4096, 0, &r), -EEXIST);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_null(r);
	/* The failed create must not have unlinked the creator's object. */
	rk_region *other;
	cr_assert_eq(rk_region_open(name, 0, &other), 0, "%s", rk_last_error());
	rk_region_close(other);
}

Test(region, opening_a_missing_name_is_enoent)
{
	rk_test_shm_name(name, sizeof(name), "missing");
	expect_open_fails(-ENOENT, "missing name");
}

Test(region, malformed_names_are_einval)
{
	char longname[260];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char justlong[202];
	memset(justlong, 'y', sizeof(justlong) - 1);
	justlong[sizeof(justlong) - 1] = '\0'; /* 201 characters: one too many */
	/* "." and ".." name /dev/shm and its parent: directories, not objects
	 * (shm_open would report -EEXIST or -EISDIR, which blames the caller
	 * for the wrong thing). */
	const char *bad[] = { "", "a/b", "/lead", "trail/", "a//b", ".", "..", longname, justlong };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rk_region *r = NULL;
		int ret;
		rk_clear_error();
		ret = rk_region_create(bad[i], 4096, 0, &r);
		cr_assert_eq(ret, -EINVAL, "create \"%.20s\": %s", bad[i], rk_strerror(ret));
		cr_assert_str_neq(rk_last_error(), "", "create \"%.20s\": no detail", bad[i]);
		ret = rk_region_open(bad[i], 0, &r);
		cr_assert_eq(ret, -EINVAL, "open \"%.20s\": %s", bad[i], rk_strerror(ret));
		ret = rk_region_unlink(bad[i]);
		cr_assert_eq(ret, -EINVAL, "unlink \"%.20s\": %s", bad[i], rk_strerror(ret));
		cr_assert_null(r);
	}
	/* The longest legal name and names that merely contain dots work. */
	char longest[201];
	snprintf(longest, sizeof(longest), "rk-test-long-%ld-", (long)getpid());
	size_t used = strlen(longest);
	memset(longest + used, 'z', sizeof(longest) - 1 - used);
	longest[sizeof(longest) - 1] = '\0';
	char dots[64];
	snprintf(dots, sizeof(dots), "...rk-test-%ld..", (long)getpid());
	const char *good[] = { longest, dots };
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rk_region *r = NULL;
		rk_region_unlink(good[i]);
		cr_assert_eq(rk_region_create(good[i], 4096, RK_REGION_UNLOCKED, &r), 0,
			     "create \"%.20s...\": %s", good[i], rk_last_error());
		cr_assert_str_eq(rk_region_name(r), good[i]);
		rk_region_close(r);
	}
}

Test(region, loose_mode_is_eacces, .init = setup_region, .fini = teardown_region)
{
	cr_assert_eq(fchmod(rk_region_fd(creator), 0644), 0);
	expect_open_fails(-EACCES, "mode 0644");
	cr_assert_eq(fchmod(rk_region_fd(creator), 0660), 0);
	expect_open_fails(-EACCES, "mode 0660");
	cr_assert_eq(fchmod(rk_region_fd(creator), 0600), 0);
	rk_region *other;
	cr_assert_eq(rk_region_open(name, 0, &other), 0);
	rk_region_close(other);
}

/* ---- bad contents -------------------------------------------------------------- */

Test(region, wrong_magic_is_ebadmsg, .init = setup_region, .fini = teardown_region)
{
	hdr()->magic ^= 1;
	expect_open_fails(-EBADMSG, "magic");
	hdr()->magic = 0; /* a creator that has not finished */
	expect_open_fails(-EBADMSG, "magic 0");
}

Test(region, wrong_version_is_eprotonosupport, .init = setup_region, .fini = teardown_region)
{
	hdr()->version = RK_LAYOUT_VERSION + 1;
	expect_open_fails(-EPROTONOSUPPORT, "version");
	hdr()->version = 0;
	expect_open_fails(-EPROTONOSUPPORT, "version 0");
}

Test(region, total_size_larger_than_mapping_is_erange, .init = setup_region,
     .fini = teardown_region)
{
	hdr()->total_size = rk_region_size(creator) + 4096;
	expect_open_fails(-ERANGE, "total_size + 4096");
	hdr()->total_size = UINT64_MAX;
	expect_open_fails(-ERANGE, "total_size UINT64_MAX");
}

Test(region, object_shorter_than_its_header_is_erange, .init = setup_region,
     .fini = teardown_region)
{
	/* Shrinking the object leaves the creator's mapping partly unbacked:
	 * touch nothing of it afterwards but the fd. */
	cr_assert_eq(ftruncate(rk_region_fd(creator), RK_REGION_HDR_SIZE / 2), 0);
	expect_open_fails(-ERANGE, "object of half a header");
	cr_assert_eq(ftruncate(rk_region_fd(creator), 0), 0);
	expect_open_fails(-ERANGE, "empty object");
}

Test(region, object_grown_past_total_size_is_erange, .init = setup_region, .fini = teardown_region)
{
	cr_assert_eq(ftruncate(rk_region_fd(creator), (off_t)rk_region_size(creator) * 2), 0);
	expect_open_fails(-ERANGE, "object larger than the header says");
}

Test(region, section_offset_out_of_range_is_erange, .init = setup_region, .fini = teardown_region)
{
	struct rk_region_section *s = &hdr()->sect[0];
	uint64_t off = s->offset, size = s->size;

	s->offset = rk_region_size(creator);
	expect_open_fails(-ERANGE, "offset at the end");
	s->offset = UINT64_MAX & ~(uint64_t)(RK_LINE - 1);
	expect_open_fails(-ERANGE, "offset near UINT64_MAX");
	s->offset = 0;
	expect_open_fails(-ERANGE, "offset inside the header");
	s->offset = off + 8;
	expect_open_fails(-ERANGE, "misaligned offset");
	s->offset = off;
	s->size = rk_region_size(creator);
	expect_open_fails(-ERANGE, "size past the end");
	s->size = UINT64_MAX;
	expect_open_fails(-ERANGE, "size UINT64_MAX (offset + size wraps)");
	s->size = size;

	hdr()->nsections = RK_REGION_MAX_SECTIONS + 1;
	expect_open_fails(-ERANGE, "section count");
	hdr()->nsections = 2; /* second entry: an overlap of the first */
	hdr()->sect[1] = (struct rk_region_section){ RK_SECT_USER, 1, off + RK_LINE, RK_LINE, 0 };
	expect_open_fails(-ERANGE, "overlapping sections");
	hdr()->nsections = 1;

	hdr()->used = rk_region_size(creator) + 1;
	expect_open_fails(-ERANGE, "allocation mark");
}

Test(region, validate_refuses_a_buffer_shorter_than_a_header, .init = setup_region,
     .fini = teardown_region)
{
	/* The check behind rk_region_open(), on bytes from anywhere (the
	 * fuzzer's entry): a short buffer is refused before any field is read
	 * (ASan would see an over-read), a good header passes. */
	uint8_t *copy = malloc(RK_REGION_HDR_SIZE - 1);
	memcpy(copy, hdr(), RK_REGION_HDR_SIZE - 1);
	rk_clear_error();
	cr_assert_eq(rk_region_validate(copy, RK_REGION_HDR_SIZE - 1), -ERANGE);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_eq(rk_region_validate(NULL, 4096), -ERANGE);
	free(copy);
	cr_assert_eq(rk_region_validate(hdr(), rk_region_size(creator)), 0, "%s", rk_last_error());
	cr_assert_eq(rk_region_validate(hdr(), rk_region_size(creator) - 1), -ERANGE,
		     "the header's total size must be the mapping's");
}

Test(region, ring_capacity_not_power_of_two_is_ebadmsg, .init = setup_region,
     .fini = teardown_region)
{
	void *mem;
	cr_assert_eq(rk_region_find(creator, RK_SECT_RING, RING_ID, &mem, NULL), 0);
	((struct rk_ring_hdr *)mem)->capacity = 6;

	/* The region itself is fine; the ring in it is not. */
	rk_region *other;
	cr_assert_eq(rk_region_open(name, 0, &other), 0, "%s", rk_last_error());
	void *p;
	size_t sz;
	cr_assert_eq(rk_region_find(other, RK_SECT_RING, RING_ID, &p, &sz), 0);
	struct rk_ring r;
	rk_clear_error();
	cr_assert_eq(rk_ring_attach(&r, p, sz), -EBADMSG);
	cr_assert_str_neq(rk_last_error(), "");
	/* A power of two too big for the section is a range error. */
	((struct rk_ring_hdr *)mem)->capacity = 1u << 20;
	cr_assert_eq(rk_ring_attach(&r, p, sz), -ERANGE);
	rk_region_close(other);
}

Test(region, payload_len_larger_than_slot_is_emsgsize, .init = setup_region,
     .fini = teardown_region)
{
	void *mem;
	struct rk_ring cr;
	size_t sz;
	uint64_t idx;
	cr_assert_eq(rk_region_find(creator, RK_SECT_RING, RING_ID, &mem, &sz), 0);
	cr_assert_eq(rk_ring_attach(&cr, mem, sz), 0);
	cr_assert_eq(rk_ring_peek(&cr, 1, &idx), 1);
	((struct rk_msg_hdr *)rk_ring_slot(&cr, idx))->len = RING_SLOT; /* 64 bytes too many */

	rk_region *other;
	struct rk_ring r;
	void *p;
	cr_assert_eq(rk_region_open(name, 0, &other), 0);
	cr_assert_eq(rk_region_find(other, RK_SECT_RING, RING_ID, &p, &sz), 0);
	cr_assert_eq(rk_ring_attach(&r, p, sz), 0);
	cr_assert_eq(rk_ring_peek(&r, 1, &idx), 1);
	rk_message *m = malloc(sizeof(*m));
	memset(m, 0xee, sizeof(*m));
	rk_clear_error();
	cr_assert_eq(rk_msg_read(rk_ring_slot(&r, idx), rk_ring_slot_size(&r), m), -EMSGSIZE);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_eq(m->len, 0xeeeeeeee, "header unpacked from a refused slot");
	cr_assert_eq(m->payload[0], 0xee, "payload copied from a refused slot");
	free(m);
	rk_region_close(other);
}

/* ---- locked memory ------------------------------------------------------------ */

struct mlock_report {
	int rlimit_lowered;
	int cap_dropped;
	int raw_mlock_ok; /* mlock() itself ignored the limit */
	int ret, ret_unlocked, unlocked_is_locked;
	char detail[512];
};

/* Drop CAP_IPC_LOCK from every set: as root, mlock ignores RLIMIT_MEMLOCK. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	struct __user_cap_data_struct *w = &d[CAP_TO_INDEX(CAP_IPC_LOCK)];
	w->effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	w->permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	w->inheritable &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d) == 0;
}

Test(region, mlock_over_rlimit_memlock_fails_unless_unlocked)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct mlock_report rep = { 0 };
		rk_region *r = NULL;
		struct rlimit rl = { 64 * 1024, 64 * 1024 };
		rep.cap_dropped = drop_ipc_lock();
		rep.rlimit_lowered = setrlimit(RLIMIT_MEMLOCK, &rl) == 0;
		void *probe = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (probe != MAP_FAILED) {
			rep.raw_mlock_ok = mlock(probe, 4 << 20) == 0;
			munmap(probe, 4 << 20);
		}
		rep.ret = rk_region_create(NULL, 4 << 20, 0, &r);
		snprintf(rep.detail, sizeof(rep.detail), "%s", rk_last_error());
		if (rep.ret == 0)
			rk_region_close(r);
		rep.ret_unlocked = rk_region_create(NULL, 4 << 20, RK_REGION_UNLOCKED, &r);
		if (rep.ret_unlocked == 0) {
			rep.unlocked_is_locked = rk_region_is_locked(r);
			rk_region_close(r);
		}
		_exit(write(fds[1], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	struct mlock_report rep;
	ssize_t n = read(fds[0], &rep, sizeof(rep));
	int st;
	waitpid(pid, &st, 0);
	close(fds[0]);
	cr_assert_eq(n, (ssize_t)sizeof(rep), "child sent no report");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!rep.rlimit_lowered)
		cr_skip_test("cannot lower RLIMIT_MEMLOCK here");
	if (rep.ret == 0 && rep.raw_mlock_ok && !rep.cap_dropped)
		cr_skip_test("mlock ignores RLIMIT_MEMLOCK: CAP_IPC_LOCK is held and capset could "
			     "not drop it");
	if (rep.ret == 0 && rep.raw_mlock_ok)
		cr_skip_test("mlock of 4 MiB succeeded over a 64 KiB RLIMIT_MEMLOCK without "
			     "CAP_IPC_LOCK: mlock is a no-op in this build (the sanitizer runtimes "
			     "intercept it)");
	cr_assert(rep.ret == -ENOMEM || rep.ret == -EPERM, "got %s", rk_strerror(rep.ret));
	cr_assert_not_null(strstr(rep.detail, "RLIMIT_MEMLOCK"), "detail: %s", rep.detail);
	cr_assert_eq(rep.ret_unlocked, 0, "RK_REGION_UNLOCKED must not mlock");
	cr_assert_eq(rep.unlocked_is_locked, 0);
}

/* ---- a full /dev/shm ----------------------------------------------------------- */

/*
 * tmpfs hands out pages when they are first touched: ftruncate() of a named
 * object on a full /dev/shm succeeds, and the first write (the header, or
 * rk_region_alloc's memset) is a SIGBUS. The creator reserves the pages up
 * front instead and reports -ENOSPC. The child gets a private mount
 * namespace with a 1 MiB tmpfs on /dev/shm; it reports back through a pipe,
 * and a signal in it (the SIGBUS) fails the test.
 */
struct nospace_report {
	int setup; /* 0 ok, else the errno of the step that failed */
	char setup_step[64];
	int small_ret;	   /* a region that fits: the tmpfs works */
	int ret_unlocked;  /* 4 MiB with RK_REGION_UNLOCKED */
	int ret_locked;	   /* 4 MiB, mlock'ed */
	int left_unlocked; /* shm_open of the name afterwards: -errno or 0 */
	int left_locked;
	int fd_leaked;	   /* lowest free fd moved */
	int out_untouched; /* out pointer left alone */
	char detail_unlocked[512];
	char detail_locked[512];
};

static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int name_exists(const char *n)
{
	char path[256];
	snprintf(path, sizeof(path), "/%s", n);
	int fd = shm_open(path, O_RDONLY, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void nospace_child(struct nospace_report *rep)
{
	char n[64];
	rk_region *r;
	if (unshare(CLONE_NEWNS) < 0) {
		rep->setup = errno;
		snprintf(rep->setup_step, sizeof(rep->setup_step), "unshare(CLONE_NEWNS)");
		return;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		rep->setup = errno;
		snprintf(rep->setup_step, sizeof(rep->setup_step), "mount --make-rprivate /");
		return;
	}
	if (mount("rk-test-tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=1777") <
	    0) {
		rep->setup = errno;
		snprintf(rep->setup_step, sizeof(rep->setup_step), "mount tmpfs size=1m /dev/shm");
		return;
	}
	rk_test_shm_name(n, sizeof(n), "nospace");

	rep->small_ret = rk_region_create(n, 64 * 1024, RK_REGION_UNLOCKED, &r);
	if (rep->small_ret == 0)
		rk_region_close(r);

	int fd0 = lowest_free_fd();
	r = (rk_region *)0x1;
	rk_clear_error();
	rep->ret_unlocked = rk_region_create(n, 4 << 20, RK_REGION_UNLOCKED, &r);
	snprintf(rep->detail_unlocked, sizeof(rep->detail_unlocked), "%s", rk_last_error());
	if (rep->ret_unlocked == 0) { /* what the old code did; then it crashed */
		uint64_t off;
		rk_region_alloc(r, RK_SECT_USER, 1, 2 << 20, &off);
		rk_region_close(r);
		r = (rk_region *)0x1;
	}
	rep->left_unlocked = name_exists(n);

	rk_region *r2 = (rk_region *)0x1;
	rk_clear_error();
	rep->ret_locked = rk_region_create(n, 4 << 20, 0, &r2);
	snprintf(rep->detail_locked, sizeof(rep->detail_locked), "%s", rk_last_error());
	if (rep->ret_locked == 0) {
		rk_region_close(r2);
		r2 = (rk_region *)0x1;
	}
	rep->left_locked = name_exists(n);
	rep->fd_leaked = lowest_free_fd() != fd0;
	rep->out_untouched = r == (rk_region *)0x1 && r2 == (rk_region *)0x1;
}

Test(region, full_dev_shm_is_enospc_not_sigbus)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: mounts a 1 MiB tmpfs on /dev/shm in a private mount "
			     "namespace");
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct nospace_report rep = { 0 };
		close(fds[0]);
		nospace_child(&rep);
		_exit(write(fds[1], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	struct nospace_report rep;
	ssize_t n = read(fds[0], &rep, sizeof(rep));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(fds[0]);
	cr_assert_not(WIFSIGNALED(st), "the child died of signal %d (%s)",
		      WIFSIGNALED(st) ? WTERMSIG(st) : 0,
		      WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
	cr_assert_eq(n, (ssize_t)sizeof(rep), "child sent no report");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (rep.setup)
		cr_skip_test("cannot fake a full /dev/shm here: %s: %s", rep.setup_step,
			     strerror(rep.setup));
	cr_assert_eq(rep.small_ret, 0, "a 64 KiB region must fit in the 1 MiB tmpfs");

	cr_assert_eq(rep.ret_unlocked, -ENOSPC, "unlocked: got %s (%s)",
		     rk_strerror(rep.ret_unlocked), rep.detail_unlocked);
	cr_assert_not_null(strstr(rep.detail_unlocked, "/dev/shm"), "detail: %s",
			   rep.detail_unlocked);
	cr_assert_eq(rep.left_unlocked, -ENOENT, "the failed create left its name behind");

	cr_assert_eq(rep.ret_locked, -ENOSPC, "locked: got %s (%s)", rk_strerror(rep.ret_locked),
		     rep.detail_locked);
	cr_assert_null(strstr(rep.detail_locked, "RLIMIT_MEMLOCK"),
		       "a full /dev/shm is not a locked-memory limit: %s", rep.detail_locked);
	cr_assert_eq(rep.left_locked, -ENOENT, "the failed create left its name behind");
	cr_assert_eq(rep.fd_leaked, 0, "a failed create leaked its descriptor");
	cr_assert(rep.out_untouched, "out pointer written on failure");
}
