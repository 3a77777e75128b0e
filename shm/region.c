/* SPDX-License-Identifier: MIT */
/* Shared-memory regions: create, open (validated), sections. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/region.h>

struct rk_region {
	struct rk_region_hdr *hdr;
	size_t size;
	int fd;
	bool creator;
	bool locked;
	bool huge;
	char name[256];
};

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	return (n + pg - 1) / pg * pg;
}

static size_t line_round(size_t n)
{
	return (n + RK_LINE - 1) / RK_LINE * RK_LINE;
}

size_t rk_region_size_for(const size_t *sizes, unsigned n)
{
	size_t total = RK_REGION_HDR_SIZE;
	for (unsigned i = 0; i < n; i++)
		total += line_round(sizes[i]);
	return page_round(total);
}

/*
 * A name is one file name in /dev/shm: 1..200 characters, no '/' at all
 * (shm_open would strip a leading one and refuse others), and not "." or
 * "..", which name directories: shm_open would answer -EEXIST or -EISDIR,
 * as if the caller had raced another creator.
 */
static int check_name(const char *name, char *path, size_t pathlen)
{
	size_t len = strlen(name);
	if (len == 0 || len > 200 || strchr(name, '/'))
		return rk_error(-EINVAL, "region name \"%.200s%s\": 1..200 characters, no '/'",
				name, len > 200 ? "..." : "");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return rk_error(-EINVAL, "region name \"%s\" names a directory", name);
	snprintf(path, pathlen, "/%s", name);
	return 0;
}

/*
 * Give the object its pages now. tmpfs (behind /dev/shm and memfd alike)
 * allocates a page when it is first touched, so on a full one ftruncate()
 * and mmap(MAP_POPULATE) succeed and the first write, the header or a
 * section's memset, is a SIGBUS; mlock() would fail with -ENOMEM and blame
 * RLIMIT_MEMLOCK. posix_fallocate() reserves every page or fails cleanly
 * (tmpfs gives back what it had reserved).
 */
static int reserve_space(rk_region *r, const char *path)
{
	int err, tries = 0;
	do /* a signal interrupts a large reservation (tmpfs undoes it): retry, a few times */
		err = posix_fallocate(r->fd, 0, (off_t)r->size);
	while (err == EINTR && ++tries < 8);
	if (err == 0)
		return 0;
	if (err == ENOSPC && r->name[0])
		return rk_error(-ENOSPC,
				"region %s: no room for %zu bytes in /dev/shm (posix_fallocate: "
				"%s); free space there (df /dev/shm) or create a smaller region",
				path, r->size, strerror(err));
	if (err == ENOSPC)
		return rk_error(-ENOSPC,
				"anonymous region: no room for %zu bytes in the memfd's tmpfs "
				"(posix_fallocate: %s)",
				r->size, strerror(err));
	return rk_error(-err, "region %s: posix_fallocate of %zu bytes: %s",
			r->name[0] ? path : "(anonymous)", r->size, strerror(err));
}

static int map_region(rk_region *r, unsigned flags)
{
	int mflags = MAP_SHARED | MAP_POPULATE;
	void *p = MAP_FAILED;
	if (flags & RK_REGION_HUGE) {
		p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, mflags | MAP_HUGETLB, r->fd, 0);
		r->huge = p != MAP_FAILED;
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, mflags, r->fd, 0);
	if (p == MAP_FAILED)
		return rk_error(-errno, "mmap of %zu bytes failed: %s", r->size, strerror(errno));
	r->hdr = p;
	if (!(flags & RK_REGION_UNLOCKED)) {
		if (mlock(p, r->size) < 0) {
			int err = errno;
			struct rlimit rl = { 0 };
			getrlimit(RLIMIT_MEMLOCK, &rl);
			munmap(p, r->size);
			r->hdr = NULL;
			return rk_error(-err,
					"mlock of %zu bytes failed (%s); RLIMIT_MEMLOCK is %llu "
					"bytes: raise it "
					"(ulimit -l) or create the region with RK_REGION_UNLOCKED",
					r->size, strerror(err), (unsigned long long)rl.rlim_cur);
		}
		r->locked = true;
	}
	return 0;
}

int rk_region_create(const char *name, size_t size, unsigned flags, rk_region **out_p)
{
	char path[256] = "";
	int ret;
	if (!out_p)
		return rk_error(-EINVAL, "region create: NULL out pointer");
	if (flags & ~(RK_REGION_HUGE | RK_REGION_UNLOCKED))
		return rk_error(-EINVAL, "region create: unknown flags 0x%x", flags);
	if (size > ((size_t)1 << 40))
		return rk_error(-EINVAL, "region create: %zu bytes is absurd", size);
	if (name && (ret = check_name(name, path, sizeof(path))) < 0)
		return ret;
	rk_region *r = calloc(1, sizeof(*r));
	if (!r)
		return rk_error(-ENOMEM, "region create: out of memory");
	r->size = page_round(size < RK_REGION_HDR_SIZE ? RK_REGION_HDR_SIZE : size);
	r->creator = true;
	if (name) {
		r->fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (r->fd < 0) {
			ret = -errno;
			free(r);
			return rk_error(ret, "shm_open(%s): %s", path, strerror(-ret));
		}
		snprintf(r->name, sizeof(r->name), "%s", name);
	} else {
		r->fd = memfd_create("ringkernel", MFD_CLOEXEC);
		if (r->fd < 0) {
			ret = -errno;
			free(r);
			return rk_error(ret, "memfd_create: %s", strerror(-ret));
		}
	}
	if (ftruncate(r->fd, (off_t)r->size) < 0) {
		ret = rk_error(-errno, "ftruncate to %zu bytes: %s", r->size, strerror(errno));
		goto fail;
	}
	if ((ret = reserve_space(r, path)) < 0)
		goto fail;
	if ((ret = map_region(r, flags)) < 0)
		goto fail;
	struct rk_region_hdr *h = r->hdr;
	h->version = RK_LAYOUT_VERSION;
	h->hdr_size = RK_REGION_HDR_SIZE;
	h->total_size = r->size;
	h->creator_uid = (uint32_t)geteuid();
	h->creator_pid = (uint32_t)getpid();
	h->used = RK_REGION_HDR_SIZE;
	/* Magic last: an opener that sees it sees a complete header. */
	__atomic_store_n(&h->magic, RK_REGION_MAGIC, __ATOMIC_RELEASE);
	*out_p = r;
	return 0;
fail:
	close(r->fd);
	if (name)
		shm_unlink(path);
	free(r);
	return ret;
}

/* Validate everything an opener reads from the header (see region.h). */
int rk_region_validate(const void *base, size_t mapped)
{
	const struct rk_region_hdr *h = base;
	if (!base || mapped < RK_REGION_HDR_SIZE)
		return rk_error(-ERANGE, "region: %zu bytes, smaller than its %u-byte header",
				mapped, RK_REGION_HDR_SIZE);
	uint64_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	if (magic != RK_REGION_MAGIC)
		return rk_error(-EBADMSG,
				"region: bad magic 0x%016llx (not a ringkernel region, or "
				"not initialized yet)",
				(unsigned long long)magic);
	if (h->version != RK_LAYOUT_VERSION)
		return rk_error(-EPROTONOSUPPORT, "region: layout version %u, this build reads %u",
				h->version, RK_LAYOUT_VERSION);
	if (h->hdr_size != RK_REGION_HDR_SIZE)
		return rk_error(-EBADMSG, "region: header size %u, expected %u", h->hdr_size,
				RK_REGION_HDR_SIZE);
	if (h->total_size != mapped)
		return rk_error(-ERANGE, "region: header says %llu bytes, the object has %zu",
				(unsigned long long)h->total_size, mapped);
	uint32_t n = h->nsections;
	if (n > RK_REGION_MAX_SECTIONS)
		return rk_error(-ERANGE, "region: %u sections, at most %u", n,
				RK_REGION_MAX_SECTIONS);
	if (h->used < RK_REGION_HDR_SIZE || h->used > mapped)
		return rk_error(-ERANGE, "region: allocation mark %llu outside %u..%zu",
				(unsigned long long)h->used, RK_REGION_HDR_SIZE, mapped);
	for (uint32_t i = 0; i < n; i++) {
		const struct rk_region_section *s = &h->sect[i];
		uint64_t off = s->offset, size = s->size;
		if (off < RK_REGION_HDR_SIZE || off % RK_LINE || size > mapped ||
		    off > mapped - size)
			return rk_error(-ERANGE,
					"region: section %u (kind %u) at offset %llu size %llu "
					"lies outside "
					"%u..%zu",
					i, s->kind, (unsigned long long)off,
					(unsigned long long)size, RK_REGION_HDR_SIZE, mapped);
		for (uint32_t j = 0; j < i; j++) {
			const struct rk_region_section *t = &h->sect[j];
			if (off < t->offset + t->size && t->offset < off + size)
				return rk_error(-ERANGE, "region: sections %u and %u overlap", j,
						i);
		}
	}
	return 0;
}

int rk_region_open(const char *name, unsigned flags, rk_region **out_p)
{
	char path[256];
	struct stat st;
	int ret;
	if (!name || !out_p)
		return rk_error(-EINVAL, "region open: NULL name or out pointer");
	if (flags & ~(RK_REGION_HUGE | RK_REGION_UNLOCKED))
		return rk_error(-EINVAL, "region open: unknown flags 0x%x", flags);
	if ((ret = check_name(name, path, sizeof(path))) < 0)
		return ret;
	rk_region *r = calloc(1, sizeof(*r));
	if (!r)
		return rk_error(-ENOMEM, "region open: out of memory");
	r->fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (r->fd < 0) {
		ret = -errno;
		free(r);
		return rk_error(ret, "shm_open(%s): %s", path, strerror(-ret));
	}
	if (fstat(r->fd, &st) < 0) {
		ret = rk_error(-errno, "fstat(%s): %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		ret = rk_error(-EACCES, "region %s: owned by uid %u mode %03o; need ours and 0600",
			       path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if ((size_t)st.st_size < RK_REGION_HDR_SIZE) {
		ret = rk_error(-ERANGE, "region %s: %lld bytes, smaller than its header", path,
			       (long long)st.st_size);
		goto fail;
	}
	r->size = (size_t)st.st_size;
	if ((ret = map_region(r, flags)) < 0)
		goto fail;
	if ((ret = rk_region_validate(r->hdr, r->size)) < 0) {
		if (r->locked)
			munlock(r->hdr, r->size);
		munmap(r->hdr, r->size);
		goto fail;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	*out_p = r;
	return 0;
fail:
	close(r->fd);
	free(r);
	return ret;
}

void rk_region_close(rk_region *r)
{
	if (!r)
		return;
	if (r->hdr) {
		if (r->locked)
			munlock(r->hdr, r->size);
		munmap(r->hdr, r->size);
	}
	close(r->fd);
	if (r->creator && r->name[0]) {
		char path[258];
		snprintf(path, sizeof(path), "/%s", r->name);
		shm_unlink(path);
	}
	free(r);
}

int rk_region_unlink(const char *name)
{
	char path[256];
	int ret;
	if (!name)
		return rk_error(-EINVAL, "region unlink: NULL name");
	if ((ret = check_name(name, path, sizeof(path))) < 0)
		return ret;
	if (shm_unlink(path) < 0)
		return rk_error(-errno, "shm_unlink(%s): %s", path, strerror(errno));
	return 0;
}

int rk_region_alloc(rk_region *r, uint32_t kind, uint32_t id, size_t size, uint64_t *offset_p)
{
	if (!r || !offset_p || size == 0 || kind == RK_SECT_FREE)
		return rk_error(-EINVAL,
				"region alloc: NULL region/offset, zero size or free kind");
	if (!r->creator)
		return rk_error(-EPERM, "region alloc: only the creator carves sections");
	struct rk_region_hdr *h = r->hdr;
	for (uint32_t i = 0; i < h->nsections; i++)
		if (h->sect[i].kind == kind && h->sect[i].id == id)
			return rk_error(-EEXIST, "region alloc: section (kind %u, id %u) exists",
					kind, id);
	if (h->nsections == RK_REGION_MAX_SECTIONS)
		return rk_error(-ENOSPC, "region alloc: all %u sections used",
				RK_REGION_MAX_SECTIONS);
	uint64_t off = line_round(h->used);
	size_t sz = line_round(size);
	if (sz < size || off > r->size || sz > r->size - off)
		return rk_error(-ENOSPC, "region alloc: %zu bytes do not fit (%zu of %zu free)",
				size, off > r->size ? (size_t)0 : r->size - (size_t)off, r->size);
	memset((uint8_t *)h + off, 0, sz);
	struct rk_region_section *s = &h->sect[h->nsections];
	s->kind = kind;
	s->id = id;
	s->offset = off;
	s->size = sz;
	h->used = off + sz;
	__atomic_store_n(&h->nsections, h->nsections + 1, __ATOMIC_RELEASE);
	*offset_p = off;
	return 0;
}

int rk_region_find(const rk_region *r, uint32_t kind, uint32_t id, void **ptr_p, size_t *size_p)
{
	if (!r || !ptr_p)
		return rk_error(-EINVAL, "region find: NULL region or out pointer");
	const struct rk_region_hdr *h = r->hdr;
	uint32_t n = __atomic_load_n(&h->nsections, __ATOMIC_ACQUIRE);
	if (n > RK_REGION_MAX_SECTIONS)
		return rk_error(-ERANGE, "region: %u sections, at most %u", n,
				RK_REGION_MAX_SECTIONS);
	for (uint32_t i = 0; i < n; i++) {
		struct rk_region_section s = h->sect[i]; /* one read of untrusted memory */
		if (s.kind != kind || s.id != id)
			continue;
		if (s.offset < RK_REGION_HDR_SIZE || s.size > r->size ||
		    s.offset > r->size - s.size)
			return rk_error(-ERANGE, "region: section (kind %u, id %u) out of range",
					kind, id);
		*ptr_p = (uint8_t *)h + s.offset;
		if (size_p)
			*size_p = s.size;
		return 0;
	}
	return rk_error(-ENOENT, "region: no section (kind %u, id %u)", kind, id);
}

void *rk_region_base(const rk_region *r)
{
	return r->hdr;
}
size_t rk_region_size(const rk_region *r)
{
	return r->size;
}
int rk_region_fd(const rk_region *r)
{
	return r->fd;
}
const char *rk_region_name(const rk_region *r)
{
	return r->name;
}
int rk_region_is_locked(const rk_region *r)
{
	return r->locked;
}
int rk_region_is_huge(const rk_region *r)
{
	return r->huge;
}
