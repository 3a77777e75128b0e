/* SPDX-License-Identifier: MIT */
/*
 * A stand-in libcuda.so.1 for probe tests (tests only): every driver entry
 * point rk-plugin-cuda resolves, answering as a driver and a device
 * described by the environment would:
 *   RKT_FAKECUDA_VERSION   cuDriverGetVersion (default 13000)
 *   RKT_FAKECUDA_CC        compute capability as major*10+minor (default 90)
 *   RKT_FAKECUDA_WATCHDOG  the kernel execution timeout attribute (default 0)
 * Nothing can be launched: loading a module fails with
 * CUDA_ERROR_NOT_SUPPORTED, so a runtime's open fails cleanly.
 */
#include <stddef.h>
#include <stdlib.h>

#define OK	    0
#define NOT_SUPP    801
#define ATTR_SMS    16
#define ATTR_WDOG   17
#define ATTR_MAP    19
#define ATTR_CC_MAJ 75
#define ATTR_CC_MIN 76

static int env(const char *name, int def)
{
	const char *s = getenv(name);
	return s && *s ? atoi(s) : def;
}

#define STUB(name, ...)          \
	int name(__VA_ARGS__);   \
	int name(__VA_ARGS__)    \
	{                        \
		return NOT_SUPP; \
	}

int cuInit(unsigned flags);
int cuInit(unsigned flags)
{
	(void)flags;
	return OK;
}

int cuDriverGetVersion(int *v);
int cuDriverGetVersion(int *v)
{
	*v = env("RKT_FAKECUDA_VERSION", 13000);
	return OK;
}

int cuDeviceGetCount(int *n);
int cuDeviceGetCount(int *n)
{
	*n = 1;
	return OK;
}

int cuDeviceGet(int *dev, int ordinal);
int cuDeviceGet(int *dev, int ordinal)
{
	*dev = ordinal;
	return ordinal == 0 ? OK : 101;
}

int cuDeviceGetAttribute(int *value, int attrib, int dev);
int cuDeviceGetAttribute(int *value, int attrib, int dev)
{
	(void)dev;
	int cc = env("RKT_FAKECUDA_CC", 90);
	switch (attrib) {
	case ATTR_SMS: *value = 132; break;
	case ATTR_WDOG: *value = env("RKT_FAKECUDA_WATCHDOG", 0); break;
	case ATTR_MAP: *value = 1; break;
	case ATTR_CC_MAJ: *value = cc / 10; break;
	case ATTR_CC_MIN: *value = cc % 10; break;
	default: *value = 0;
	}
	return OK;
}

int cuGetErrorString(int r, const char **s);
int cuGetErrorString(int r, const char **s)
{
	*s = r == NOT_SUPP ? "operation not supported (fake libcuda)" : "fake libcuda error";
	return OK;
}

STUB(cuDevicePrimaryCtxRetain, void **ctx, int dev)
STUB(cuDevicePrimaryCtxRelease_v2, int dev)
STUB(cuCtxGetCurrent, void **ctx)
STUB(cuCtxSetCurrent, void *ctx)
STUB(cuModuleLoadData, void **mod, const void *image)
STUB(cuModuleUnload, void *mod)
STUB(cuModuleGetFunction, void **fn, void *mod, const char *name)
STUB(cuMemHostRegister_v2, void *p, size_t size, unsigned flags)
STUB(cuMemHostUnregister, void *p)
STUB(cuMemHostGetDevicePointer_v2, unsigned long long *d, void *p, unsigned flags)
STUB(cuStreamCreate, void **s, unsigned flags)
STUB(cuStreamDestroy_v2, void *s)
STUB(cuStreamQuery, void *s)
STUB(cuStreamSynchronize, void *s)
STUB(cuLaunchKernel, void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
     unsigned bz, unsigned shmem, void *s, void **params, void **extra)
STUB(cuOccupancyMaxActiveBlocksPerMultiprocessor, int *n, void *f, int block, size_t shmem)
