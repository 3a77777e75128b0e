/* SPDX-License-Identifier: MIT */
/* Thread-local error detail and errno names. */
#include "config.h"

#include <errno.h>
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

const char *rk_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case ETIMEDOUT: return "-ETIMEDOUT (timed out)";
	case EAGAIN: return "-EAGAIN (ring full or empty, try again)";
	case EINVAL: return "-EINVAL (invalid argument)";
	case EMSGSIZE: return "-EMSGSIZE (payload larger than the slot)";
	case ENODEV: return "-ENODEV (backend unavailable)";
	case ENOENT: return "-ENOENT (no such kernel, plugin or region)";
	case EPERM: return "-EPERM (operation not permitted in this state)";
	case ESHUTDOWN: return "-ESHUTDOWN (kernel terminated)";
	case EBUSY: return "-EBUSY (device cannot keep another kernel resident)";
	case EEXIST: return "-EEXIST (already exists)";
	case ENOMEM: return "-ENOMEM (out of memory or locked-memory limit)";
	case ENOSPC: return "-ENOSPC (region full)";
	case EBADMSG: return "-EBADMSG (malformed shared-memory contents)";
	case ERANGE: return "-ERANGE (size or offset out of range)";
	case EPROTONOSUPPORT: return "-EPROTONOSUPPORT (unsupported layout version)";
	case EACCES: return "-EACCES (permission denied)";
	case ENOSYS: return "-ENOSYS (not supported)";
	case ENOTSUP: return "-ENOTSUP (not supported by this backend yet)";
	case EIO: return "-EIO (device or driver error)";
	case ENOEXEC: return "-ENOEXEC (not a loadable plugin)";
	case EPROTO: return "-EPROTO (plugin ABI mismatch)";
	default: return "unknown error";
	}
}
