/* SPDX-License-Identifier: MIT */
/* Thread-local error detail and errno names. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ringkernel/error.h>

static _Thread_local char last_error[512];

const char *rk_last_error(void)
{
	return last_error;
}

void rk_clear_error(void)
{
	last_error[0] = '\0';
}

int rk_error(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Every errno the library returns, its own or passed on from a system call
 * (shm_open, mmap, mlock, futex, io_uring, dlopen, a device runtime), with
 * what it means here. Anything else is named and described by the C library
 * (fallback()), so no caller ever prints "unknown error".
 */
static const char *described(long long e)
{
	switch (e) {
	case 0: return "success";
	case E2BIG: return "-E2BIG (argument list or count too large)";
	case EACCES: return "-EACCES (permission denied)";
	case EAGAIN: return "-EAGAIN (ring full or empty, try again)";
	case EBADF: return "-EBADF (bad file descriptor)";
	case EBADMSG: return "-EBADMSG (malformed shared-memory contents)";
	case EBUSY: return "-EBUSY (busy: the device cannot keep another kernel resident)";
	case ECANCELED: return "-ECANCELED (operation canceled)";
	case ECHILD: return "-ECHILD (no child process)";
	case ECONNREFUSED: return "-ECONNREFUSED (connection refused)";
	case ECONNRESET: return "-ECONNRESET (the peer reset the connection)";
	case EDEADLK: return "-EDEADLK (would deadlock)";
	case EEXIST: return "-EEXIST (already exists)";
	case EFAULT: return "-EFAULT (bad address)";
	case EFBIG: return "-EFBIG (file or object too large)";
	case EHOSTUNREACH: return "-EHOSTUNREACH (host unreachable)";
	case EINTR: return "-EINTR (interrupted by a signal)";
	case EINVAL: return "-EINVAL (invalid argument)";
	case EIO: return "-EIO (device or driver error)";
	case EISDIR: return "-EISDIR (is a directory)";
	case ELOOP: return "-ELOOP (too many levels of symbolic links)";
	case EMFILE: return "-EMFILE (too many open files in this process: ulimit -n)";
	case EMSGSIZE: return "-EMSGSIZE (payload larger than the slot)";
	case ENAMETOOLONG: return "-ENAMETOOLONG (name too long)";
	case ENFILE: return "-ENFILE (too many open files in the system)";
	case ENOBUFS: return "-ENOBUFS (no buffer space available)";
	case ENODEV: return "-ENODEV (backend unavailable)";
	case ENOENT: return "-ENOENT (no such kernel, plugin or region)";
	case ENOEXEC: return "-ENOEXEC (not a loadable plugin)";
	case ENOLCK: return "-ENOLCK (no locks available)";
	case ENOMEM: return "-ENOMEM (out of memory or locked-memory limit)";
	case ENOSPC: return "-ENOSPC (no space: region, section table or /dev/shm full)";
	case ENOSYS: return "-ENOSYS (not supported)";
	case ENOTCONN: return "-ENOTCONN (not connected)";
	case ENOTDIR: return "-ENOTDIR (not a directory)";
	case ENOTSUP: return "-ENOTSUP (not supported by this backend or kernel)";
#if EOPNOTSUPP != ENOTSUP
	case EOPNOTSUPP: return "-EOPNOTSUPP (operation not supported)";
#endif
	case ENXIO: return "-ENXIO (no such device or address)";
	case EOVERFLOW: return "-EOVERFLOW (value too large for its type)";
	case EOWNERDEAD: return "-EOWNERDEAD (the owner died)";
	case EPERM: return "-EPERM (operation not permitted in this state)";
	case EPIPE: return "-EPIPE (broken pipe: the other end is gone)";
	case EPROTO: return "-EPROTO (plugin ABI mismatch or protocol error)";
	case EPROTONOSUPPORT: return "-EPROTONOSUPPORT (unsupported layout version)";
	case ERANGE: return "-ERANGE (size or offset out of range)";
	case EROFS: return "-EROFS (read-only file system)";
	case ESHUTDOWN: return "-ESHUTDOWN (kernel terminated)";
	case ESRCH: return "-ESRCH (no such process)";
	case ETIMEDOUT: return "-ETIMEDOUT (timed out)";
	case ETXTBSY: return "-ETXTBSY (text file busy)";
	case EUCLEAN: return "-EUCLEAN (corrupt shared state: needs cleaning)";
	case EXDEV: return "-EXDEV (cross-device link)";
	default: return NULL;
	}
}

/* The C library's name and text, in a per-thread buffer (valid until this
 * thread's next call). */
static _Thread_local char other_error[128];

static const char *fallback(long long e)
{
	const char *name = NULL, *text = NULL;
	char buf[96];
	if (e <= INT_MAX) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
		name = strerrorname_np((int)e);
#endif
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
		text = strerror_r((int)e, buf, sizeof(buf)); /* GNU: may return a static string */
#else
		text = strerror_r((int)e, buf, sizeof(buf)) == 0 ? buf : NULL;
#endif
	}
	if (name)
		snprintf(other_error, sizeof(other_error), "-%s (%s)", name, text ? text : "");
	else
		snprintf(other_error, sizeof(other_error), "errno %lld (not one this system names)",
			 e);
	return other_error;
}

const char *rk_strerror(int err)
{
	long long e = err < 0 ? -(long long)err : err; /* INT_MIN has no int negation */
	const char *s = described(e);
	return s ? s : fallback(e);
}
