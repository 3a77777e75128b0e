/* SPDX-License-Identifier: MIT */
/*
 * rk-info - which backend plugins are there, and why one cannot be used.
 * The first thing to run when a runtime picks the wrong backend or none,
 * like fi_info, ucx_info -d or clinfo. Uses the public API only.
 *
 * It is also what is run on a machine where something is wrong, so no
 * plugin may take it down: the files are found without loading any
 * (rk_plugins_find), then each is loaded and probed in a child process of
 * its own (rk_plugin_probe_path) that reports back through a pipe. A
 * plugin whose constructor or probe crashes, calls exit() or hangs (killed
 * after --timeout seconds) is a row of the table that says so.
 *
 * Under each usable row it knows, the device's details (cores and NUMA
 * nodes, the OpenCL platform and device, the CUDA device), read by rk-info
 * in the same child after the report; then the environment variables that
 * change what the library does, with their values.
 *
 * Exit status: 0 when the plugin Auto (or RK_BACKEND) would pick is usable,
 * 1 when none is (the table says why), 2 on a usage error.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/plugin.h>
#include <ringkernel/ringkernel.h>

#define PROG "rk-info"

/* ---- per-device details -------------------------------------------------- */

/*
 * What `ucx_info -d` and clinfo print, for the device a usable plugin
 * probed: for cpu the host's cores and NUMA nodes (sysfs), for opencl the
 * platform and device (the ICD loader the plugin uses), for cuda the
 * device and driver (libcuda.so.1). Queried by rk-info itself, in the
 * probing child after its report, so no plugin ABI is needed and a driver
 * that crashes or hangs here costs the details, not the row.
 */
#define MAX_DETAILS 32

struct detail {
	char key[32];
	char val[160];
	bool num; /* val is a decimal number: a JSON number */
};

struct details {
	uint32_t n;
	struct detail d[MAX_DETAILS];
};

__attribute__((format(printf, 3, 4))) static void det_str(struct details *d, const char *key,
							  const char *fmt, ...)
{
	if (d->n == MAX_DETAILS)
		return;
	struct detail *e = &d->d[d->n++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->val, sizeof(e->val), fmt, ap);
	va_end(ap);
	/* trailing blanks (OpenCL strings carry some) */
	size_t l = strlen(e->val);
	while (l && (e->val[l - 1] == ' ' || e->val[l - 1] == '\n'))
		e->val[--l] = '\0';
	e->num = false;
}

static void det_num(struct details *d, const char *key, unsigned long long v)
{
	det_str(d, key, "%llu", v);
	d->d[d->n - 1].num = true;
}

/* The first line of a small file, without its newline; false if none. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

#define NODE_DIR     "/sys/devices/system/node"
#define NODES_LISTED 8

static void cpu_details(struct details *d)
{
	char line[512], path[128];
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *v = strchr(line, ':');
			if (strncmp(line, "model name", 10) || !v)
				continue;
			v += 1 + strspn(v + 1, " \t");
			v[strcspn(v, "\n")] = '\0';
			det_str(d, "model", "%s", v);
			break;
		}
		fclose(f);
	}
	det_num(d, "cores_online", (unsigned long long)sysconf(_SC_NPROCESSORS_ONLN));
	det_num(d, "cores_configured", (unsigned long long)sysconf(_SC_NPROCESSORS_CONF));
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		det_num(d, "cores_usable", (unsigned long long)CPU_COUNT(&set));

	DIR *dir = opendir(NODE_DIR);
	if (!dir) {
		det_str(d, "numa", "unknown: %s: %s", NODE_DIR, strerror(errno));
		return;
	}
	unsigned nodes[1024], n = 0;
	struct dirent *de;
	while ((de = readdir(dir)) && n < sizeof(nodes) / sizeof(nodes[0])) {
		char *end;
		if (strncmp(de->d_name, "node", 4) || de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		unsigned long v = strtoul(de->d_name + 4, &end, 10);
		if (!*end && v < 1u << 20)
			nodes[n++] = (unsigned)v;
	}
	closedir(dir);
	qsort(nodes, n, sizeof(nodes[0]), cmp_uint);
	det_num(d, "numa_nodes", n);
	for (unsigned i = 0; i < n && i < NODES_LISTED; i++) {
		char key[32];
		snprintf(path, sizeof(path), NODE_DIR "/node%u/cpulist", nodes[i]);
		snprintf(key, sizeof(key), "node%u_cpus", nodes[i]);
		if (read_line(path, line, sizeof(line)))
			det_str(d, key, "%s", line[0] ? line : "none");
		/* "Node 0 MemTotal:       4548344 kB" */
		snprintf(path, sizeof(path), NODE_DIR "/node%u/meminfo", nodes[i]);
		if (!(f = fopen(path, "re")))
			continue;
		unsigned long long kb;
		while (fgets(line, sizeof(line), f)) {
			char *m = strstr(line, "MemTotal:");
			if (m && sscanf(m + 9, "%llu", &kb) == 1) {
				snprintf(key, sizeof(key), "node%u_mem_bytes", nodes[i]);
				det_num(d, key, kb * 1024u);
				break;
			}
		}
		fclose(f);
	}
	if (n > NODES_LISTED)
		det_str(d, "numa_not_listed", "%u more nodes", n - NODES_LISTED);
}

/* OpenCL 1.2's calls and names, as the specification fixes them: rk-info
 * builds where no OpenCL header is installed. */
typedef struct rki_cl_platform *cl_platform;
typedef struct rki_cl_device *cl_device;
#define CL_PLATFORM_VERSION_	       0x0901
#define CL_PLATFORM_NAME_	       0x0902
#define CL_PLATFORM_VENDOR_	       0x0903
#define CL_DEVICE_TYPE_		       0x1000
#define CL_DEVICE_MAX_COMPUTE_UNITS_   0x1002
#define CL_DEVICE_MAX_CLOCK_FREQUENCY_ 0x100C
#define CL_DEVICE_GLOBAL_MEM_SIZE_     0x101F
#define CL_DEVICE_NAME_		       0x102B
#define CL_DEVICE_VENDOR_	       0x102C
#define CL_DRIVER_VERSION_	       0x102D
#define CL_DEVICE_VERSION_	       0x102F
#define CL_DEVICE_OPENCL_C_VERSION_    0x103D
#define CL_DEVICE_TYPE_ALL_	       0xFFFFFFFFu

static const char *cl_type_name(uint64_t t)
{
	if (t & (1u << 2))
		return "GPU";
	if (t & (1u << 1))
		return "CPU";
	if (t & (1u << 3))
		return "accelerator";
	return "other";
}

static void opencl_details(int device, struct details *d)
{
	int32_t (*get_platforms)(uint32_t, cl_platform *, uint32_t *);
	int32_t (*get_platform_info)(cl_platform, uint32_t, size_t, void *, size_t *);
	int32_t (*get_devices)(cl_platform, uint64_t, uint32_t, cl_device *, uint32_t *);
	int32_t (*get_device_info)(cl_device, uint32_t, size_t, void *, size_t *);
	/* The ICD loader the plugin opens (secure_getenv: as the plugin). */
	const char *lib = secure_getenv("RK_OPENCL_LIB");
	void *dl = dlopen(lib && *lib ? lib : "libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		det_str(d, "error", "%s", dlerror());
		return;
	}
	*(void **)&get_platforms = dlsym(dl, "clGetPlatformIDs");
	*(void **)&get_platform_info = dlsym(dl, "clGetPlatformInfo");
	*(void **)&get_devices = dlsym(dl, "clGetDeviceIDs");
	*(void **)&get_device_info = dlsym(dl, "clGetDeviceInfo");
	if (!get_platforms || !get_platform_info || !get_devices || !get_device_info) {
		det_str(d, "error", "the OpenCL loader lacks the clGet*Info calls");
		return;
	}
	/* The device ordinal counts every platform's devices in order, as
	 * the plugin's does. */
	cl_platform plats[8], plat = NULL;
	cl_device dev = NULL;
	uint32_t np = 0, seen = 0;
	if (get_platforms(8, plats, &np) != 0 || np == 0) {
		det_str(d, "error", "no OpenCL platform");
		return;
	}
	for (uint32_t i = 0; i < np && i < 8; i++) {
		cl_device devs[16];
		uint32_t nd = 0;
		if (get_devices(plats[i], CL_DEVICE_TYPE_ALL_, 16, devs, &nd) != 0)
			continue;
		for (uint32_t j = 0; j < nd && j < 16; j++, seen++)
			if ((int)seen == device) {
				plat = plats[i];
				dev = devs[j];
			}
	}
	if (!dev) {
		det_str(d, "error", "no OpenCL device %d (%u found)", device, seen);
		return;
	}
	static const struct {
		const char *key;
		uint32_t param;
		bool device;
	} strs[] = {
		{ "platform", CL_PLATFORM_NAME_, false },
		{ "platform_vendor", CL_PLATFORM_VENDOR_, false },
		{ "platform_version", CL_PLATFORM_VERSION_, false },
		{ "device", CL_DEVICE_NAME_, true },
		{ "device_vendor", CL_DEVICE_VENDOR_, true },
		{ "device_version", CL_DEVICE_VERSION_, true },
		{ "driver_version", CL_DRIVER_VERSION_, true },
		{ "opencl_c_version", CL_DEVICE_OPENCL_C_VERSION_, true },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		memset(buf, 0, sizeof(buf));
		int32_t err = strs[i].device ? get_device_info(dev, strs[i].param, sizeof(buf) - 1,
							       buf, NULL)
					     : get_platform_info(plat, strs[i].param,
								 sizeof(buf) - 1, buf, NULL);
		if (err == 0)
			det_str(d, strs[i].key, "%s", buf);
	}
	uint64_t type = 0, mem = 0;
	uint32_t units = 0, mhz = 0;
	if (get_device_info(dev, CL_DEVICE_TYPE_, sizeof(type), &type, NULL) == 0)
		det_str(d, "device_type", "%s", cl_type_name(type));
	if (get_device_info(dev, CL_DEVICE_MAX_COMPUTE_UNITS_, sizeof(units), &units, NULL) == 0)
		det_num(d, "compute_units", units);
	if (get_device_info(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY_, sizeof(mhz), &mhz, NULL) == 0)
		det_num(d, "clock_mhz", mhz);
	if (get_device_info(dev, CL_DEVICE_GLOBAL_MEM_SIZE_, sizeof(mem), &mem, NULL) == 0)
		det_num(d, "global_mem_bytes", mem);
	det_num(d, "platforms", np);
	det_num(d, "devices", seen);
}

/* The CUDA driver API's calls and attributes (cuda.h), as the plugin
 * uses it: libcuda.so.1, never linked. */
#define CU_ATTR_CLOCK_KHZ  13
#define CU_ATTR_SMS	   16
#define CU_ATTR_PCI_BUS	   33
#define CU_ATTR_PCI_DEVICE 34
#define CU_ATTR_PCI_DOMAIN 50
#define CU_ATTR_CC_MAJOR   75
#define CU_ATTR_CC_MINOR   76

/* The device's name and memory, through the two driver calls CUDA and HIP
 * shape alike (either may be missing). */
static void det_name_memory(struct details *d, int (*name)(char *, int, int),
			    int (*total_mem)(size_t *, int), int dev)
{
	char buf[256] = "";
	if (name && name(buf, sizeof(buf) - 1, dev) == 0)
		det_str(d, "device", "%s", buf);
	size_t mem = 0;
	if (total_mem && total_mem(&mem, dev) == 0)
		det_num(d, "memory_bytes", mem);
}

static void cuda_details(int device, struct details *d)
{
	int (*init)(unsigned);
	int (*driver_version)(int *);
	int (*count)(int *);
	int (*get)(int *, int);
	int (*attr)(int *, int, int);
	int (*name)(char *, int, int);
	int (*total_mem)(size_t *, int);
	void *dl = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		det_str(d, "error", "%s", dlerror());
		return;
	}
	*(void **)&init = dlsym(dl, "cuInit");
	*(void **)&driver_version = dlsym(dl, "cuDriverGetVersion");
	*(void **)&count = dlsym(dl, "cuDeviceGetCount");
	*(void **)&get = dlsym(dl, "cuDeviceGet");
	*(void **)&attr = dlsym(dl, "cuDeviceGetAttribute");
	*(void **)&name = dlsym(dl, "cuDeviceGetName");
	*(void **)&total_mem = dlsym(dl, "cuDeviceTotalMem_v2");
	int v = 0, n = 0, dev = 0;
	if (!init || !get || !attr || init(0) != 0 || get(&dev, device) != 0) {
		det_str(d, "error", "cuInit or cuDeviceGet(%d) failed", device);
		return;
	}
	if (count && count(&n) == 0)
		det_num(d, "devices", (unsigned)n);
	det_name_memory(d, name, total_mem, dev);
	int major = 0, minor = 0, dom = 0, bus = 0, slot = 0;
	if (attr(&major, CU_ATTR_CC_MAJOR, dev) == 0 && attr(&minor, CU_ATTR_CC_MINOR, dev) == 0)
		det_str(d, "compute_capability", "%d.%d", major, minor);
	if (attr(&v, CU_ATTR_SMS, dev) == 0)
		det_num(d, "sms", (unsigned)v);
	if (attr(&v, CU_ATTR_CLOCK_KHZ, dev) == 0 && v > 0)
		det_num(d, "clock_mhz", (unsigned)v / 1000u);
	if (attr(&dom, CU_ATTR_PCI_DOMAIN, dev) == 0 && attr(&bus, CU_ATTR_PCI_BUS, dev) == 0 &&
	    attr(&slot, CU_ATTR_PCI_DEVICE, dev) == 0 && (dom || bus || slot))
		det_str(d, "pci", "%04x:%02x:%02x.0", dom, bus, slot);
	/* 12040 is 12.4 */
	if (driver_version && driver_version(&v) == 0)
		det_str(d, "driver_version", "%d.%d", v / 1000, v % 1000 / 10);
}

/* HIP_VERSION's encoding: major * 10^7 + minor * 10^5 + patch. */
static void det_hip_version(struct details *d, const char *key, int v)
{
	det_str(d, key, "%d.%d.%d", v / 10000000, v / 100000 % 100, v % 100000);
}

/* The HIP runtime the plugin would load (the same names and directories). */
static void hip_details(int device, struct details *d)
{
	static const char *const names[] = { "libamdhip64.so", "libamdhip64.so.7",
					     "libamdhip64.so.6", "libamdhip64.so.5",
					     "/opt/rocm/lib/libamdhip64.so" };
	void *dl = NULL;
	for (size_t i = 0; !dl && i < sizeof(names) / sizeof(names[0]); i++)
		dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		det_str(d, "error", "%s", dlerror());
		return;
	}
	int (*init)(unsigned);
	int (*count)(int *);
	int (*attr)(int *, int, int);
	int (*name)(char *, int, int);
	int (*total_mem)(size_t *, int);
	int (*driver_version)(int *);
	int (*runtime_version)(int *);
	*(void **)&init = dlsym(dl, "hipInit");
	*(void **)&count = dlsym(dl, "hipGetDeviceCount");
	*(void **)&attr = dlsym(dl, "hipDeviceGetAttribute");
	*(void **)&name = dlsym(dl, "hipDeviceGetName");
	*(void **)&total_mem = dlsym(dl, "hipDeviceTotalMem");
	*(void **)&driver_version = dlsym(dl, "hipDriverGetVersion");
	*(void **)&runtime_version = dlsym(dl, "hipRuntimeGetVersion");
	int n = 0, v = 0;
	if (!init || !count || init(0) != 0 || count(&n) != 0 || device >= n) {
		det_str(d, "error", "hipInit or hipGetDeviceCount failed, or no device %d", device);
		return;
	}
	det_num(d, "devices", (unsigned)n);
	det_name_memory(d, name, total_mem, device);
	/* hipDeviceAttributeMultiprocessorCount, hipDeviceAttributeClockRate */
	if (attr && attr(&v, 63, device) == 0)
		det_num(d, "compute_units", (unsigned)v);
	if (attr && attr(&v, 5, device) == 0 && v > 0)
		det_num(d, "clock_mhz", (unsigned)v / 1000u);
	if (driver_version && driver_version(&v) == 0 && v > 0)
		det_hip_version(d, "driver_version", v);
	if (runtime_version && runtime_version(&v) == 0 && v > 0)
		det_hip_version(d, "runtime_version", v);
}

/* The details rk-info knows how to query for a plugin of this name. */
static bool has_details(const char *plugin)
{
	return !strcmp(plugin, "cpu") || !strcmp(plugin, "opencl") || !strcmp(plugin, "cuda") ||
	       !strcmp(plugin, "hip");
}

static void query_details(const char *plugin, int device, struct details *d)
{
	memset(d, 0, sizeof(*d));
	if (!strcmp(plugin, "cpu"))
		cpu_details(d);
	else if (!strcmp(plugin, "opencl"))
		opencl_details(device, d);
	else if (!strcmp(plugin, "cuda"))
		cuda_details(device, d);
	else if (!strcmp(plugin, "hip"))
		hip_details(device, d);
}

/* ---- the environment ----------------------------------------------------- */

/* Every variable the library, its plugins and rk-info read, and whether it
 * is read with secure_getenv() (ignored by a set-uid or set-gid program). */
static const struct {
	const char *name;
	bool secure;
} env_vars[] = {
	{ "RK_BACKEND", true },
	{ "RK_PLUGIN_PATH", true },
	{ "RK_PLUGIN_PATH_ONLY", true },
	{ "RK_RUNTIME_NAME", true },
	{ "RK_LOG", false },
	{ "RK_LOG_FILE", true },
	{ "RK_SPIN_NS", false },
	{ "RK_REACTOR", false },
	{ "RK_REACTOR_LINKED_TIMEOUT", false },
	{ "RK_CPU_SPIN_NS", false },
	{ "RK_CPU_WORKERS", false },
	{ "RK_OPENCL_LIB", true },
	{ "RK_OPENCL_NO_HOST_VA", false },
	{ "POCL_MAX_PTHREAD_COUNT", false },
	{ "CUDA_DEVICE_MAX_CONNECTIONS", true },
	{ "GPU_MAX_HW_QUEUES", true },
	{ "ROCM_PATH", true },
	{ "UCX_TLS", false },
};
#define N_ENV_VARS (sizeof(env_vars) / sizeof(env_vars[0]))

/* The value the library sees, NULL when unset; *ignored when it is set but
 * this set-uid program does not see it. */
static const char *env_value(unsigned i, bool *ignored)
{
	const char *raw = getenv(env_vars[i].name);
	const char *v = env_vars[i].secure ? secure_getenv(env_vars[i].name) : raw;
	*ignored = raw && !v;
	return v;
}

/* One table row: what the library says, or what became of the child. */
struct row {
	rk_plugin_info info;
	char status[48];    /* set when the child did not report: "crashed SIGSEGV" */
	struct details det; /* the device's, for a usable plugin rk-info knows */
};

/* The table. A plugin that calls exit() in a child runs rk-info's atexit
 * handlers there, LeakSanitizer's among them: held here, the table is
 * reachable and not reported as lost. */
static struct row *table;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--plugin-path DIR[:DIR...]] [--device N] [--timeout S] [--json]\n"
		"List the ringkernel backend plugins found, their version, ABI, probe\n"
		"result and priority, and the one RK_BACKEND_AUTO would pick. Each plugin\n"
		"is loaded and probed in a child process: one that crashes, exits or\n"
		"hangs is reported, not fatal.\n"
		"\n"
		"  -p, --plugin-path LIST  also search LIST (colon-separated), after\n"
		"                          $RK_PLUGIN_PATH and before the install dir\n"
		"  -d, --device N          probe device ordinal N (default 0)\n"
		"  -t, --timeout S         give each probe S seconds (default 5), then\n"
		"                          kill it and report it as hung\n"
		"  -j, --json              the same as one JSON object\n"
		"  -V, --version           the library's version and plugin ABI\n"
		"  -h, --help              this text\n"
		"\n"
		"Under each usable plugin, its device: for cpu the cores and NUMA nodes,\n"
		"for opencl the platform, device, versions and compute units, for cuda\n"
		"the device, memory, SMs and driver. Then every environment variable\n"
		"that changes what the library does, with its value.\n"
		"\n"
		"Environment: RK_PLUGIN_PATH, RK_BACKEND (what auto picks), RK_LOG.\n");
}

/* A JSON string, escaped. */
static void json_str(const char *v)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

struct row;
static void status_text(const struct row *r, char *buf, size_t len);

/* --json: what the table says, one object (the same rows and pick). */
struct transport_row;
static void print_json(const struct row *t, unsigned n, int device, const char *path,
		       const struct row *chosen, const char *want, const char *why,
		       const struct transport_row *tr);

/* "-ENODEV" out of rk_strerror()'s "-ENODEV (backend unavailable)". */
static const char *err_symbol(int err, char *buf, size_t len)
{
	const char *s = rk_strerror(err);
	size_t n = strcspn(s, " ");
	if (s[0] != '-')
		snprintf(buf, len, "error %d", err);
	else
		snprintf(buf, len, "%.*s", (int)n, s);
	return buf;
}

static void status_text(const struct row *r, char *buf, size_t len)
{
	const rk_plugin_info *i = &r->info;
	char sym[32];
	if (r->status[0])
		snprintf(buf, len, "%s", r->status);
	else if (i->shadowed)
		snprintf(buf, len, "shadowed");
	else if (i->status == 0)
		snprintf(buf, len, "usable");
	else
		snprintf(buf, len, "%s %s", i->loaded ? "unavailable" : "refused",
			 err_symbol(i->status, sym, sizeof(sym)));
}

static int parse_uint(const char *s, long min, long max, int *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < min || x > max)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Read up to len bytes from fd until EOF or the deadline. */
static size_t read_until(int fd, void *buf, size_t len, uint64_t deadline_ms, bool *timed_out)
{
	size_t got = 0;
	*timed_out = false;
	while (got < len) {
		uint64_t now = now_ms();
		if (now >= deadline_ms) {
			*timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*timed_out = true;
			break;
		}
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Write all of buf, or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The network transports: each described in a child (loading one runs its
 * engine's constructors), as the backends are probed. */
static const char *const transports[] = { "ucx" };
#define N_TRANSPORTS (sizeof(transports) / sizeof(transports[0]))

struct transport_row {
	int status; /* 0, or why it is not usable */
	char text[512];
};

static void describe_in_child(const char *name, struct transport_row *r, int timeout_s)
{
	int fds[2];
	r->status = -ENOENT;
	snprintf(r->text, sizeof(r->text), "not found");
	if (pipe(fds) < 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		struct transport_row c = { 0 };
		c.status = rk_transport_describe(name, c.text, sizeof(c.text));
		if (c.status < 0)
			snprintf(c.text, sizeof(c.text), "%s", rk_last_error());
		_exit(write_all(fds[1], &c, sizeof(c)) < 0);
	}
	close(fds[1]);
	bool timed_out;
	struct transport_row got;
	size_t n = read_until(fds[0], &got, sizeof(got), now_ms() + 1000u * (unsigned)timeout_s,
			      &timed_out);
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (n == sizeof(got)) {
		*r = got;
		r->text[sizeof(r->text) - 1] = '\0';
	} else {
		r->status = -EIO;
		snprintf(r->text, sizeof(r->text), "%s", timed_out ? "timed out" : "crashed");
	}
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	case SIGTRAP: return "SIGTRAP";
	case SIGSYS: return "SIGSYS";
	case SIGKILL: return "SIGKILL";
	case SIGTERM: return "SIGTERM";
	}
	return "by a signal";
}

/*
 * Load and probe r->info.path in a child and fill r from its report; when
 * the child reports nothing whole, say what became of it. The child is the
 * leader of its own process group, so a probe that forked is killed whole.
 */
static void probe_in_child(struct row *r, int device, int timeout_s)
{
	rk_plugin_info got;
	static struct details det;
	int pfd[2], st = 0;
	bool timed_out = false, det_timed_out = false;

	if (pipe(pfd) < 0) {
		snprintf(r->status, sizeof(r->status), "not probed");
		snprintf(r->info.reason, sizeof(r->info.reason), "pipe: %s", strerror(errno));
		r->info.status = -errno;
		return;
	}
	/* The child's exit() flushes what stdio holds: nothing, then. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(r->status, sizeof(r->status), "not probed");
		snprintf(r->info.reason, sizeof(r->info.reason), "fork: %s", strerror(errno));
		r->info.status = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		setpgid(0, 0);
		/* What a plugin prints must not land in the table. */
		dup2(2, 1);
		/* A crash is to kill the child by its signal, for the table to
		 * name, even where rk-info itself catches it (a sanitizer). */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		memset(&got, 0, sizeof(got));
		if (rk_plugin_probe_path(r->info.path, device, &got) < 0)
			_exit(126);
		if (write_all(pfd[1], &got, sizeof(got)) < 0)
			_exit(125);
		/* Then, the report safe, the device's details: a driver that
		 * crashes or hangs in them costs the details only. */
		if (got.loaded && got.status == 0 && has_details(got.name)) {
			query_details(got.name, device, &det);
			if (write_all(pfd[1], &det, sizeof(det)) < 0)
				_exit(125);
		}
		/* _exit: no atexit handler of a plugin (still loaded or not)
		 * runs after the report. */
		_exit(0);
	}
	close(pfd[1]);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000u;
	size_t n = read_until(pfd[0], &got, sizeof(got), deadline, &timed_out);
	bool want_det = n == sizeof(got) && !timed_out && got.loaded && got.status == 0 &&
			has_details(got.name);
	size_t dn = 0;
	if (want_det)
		dn = read_until(pfd[0], &det, sizeof(det), deadline, &det_timed_out);
	close(pfd[0]);
	if (timed_out || det_timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == sizeof(got) && !timed_out) {
		got.path[sizeof(got.path) - 1] = '\0';
		got.name[sizeof(got.name) - 1] = '\0';
		got.version[sizeof(got.version) - 1] = '\0';
		got.reason[sizeof(got.reason) - 1] = '\0';
		r->info = got;
		memset(&r->det, 0, sizeof(r->det));
		if (!want_det)
			return;
		if (dn == sizeof(det) && !det_timed_out) {
			r->det.n = det.n < MAX_DETAILS ? det.n : MAX_DETAILS;
			for (uint32_t i = 0; i < r->det.n; i++) {
				r->det.d[i] = det.d[i];
				r->det.d[i].key[sizeof(det.d[i].key) - 1] = '\0';
				r->det.d[i].val[sizeof(det.d[i].val) - 1] = '\0';
			}
		} else if (det_timed_out) {
			det_str(&r->det, "error",
				"the device query did not return within %d s; killed", timeout_s);
		} else if (WIFSIGNALED(st)) {
			det_str(&r->det, "error",
				"the device query crashed: killed by signal %d (%s)", WTERMSIG(st),
				strsignal(WTERMSIG(st)));
		} else {
			det_str(&r->det, "error",
				"the device query ended without a report (status %#x)", st);
		}
		return;
	}

	/* No whole report: the plugin took the child down with it. */
	r->info.loaded = false;
	r->info.status = -ECHILD;
	if (timed_out) {
		snprintf(r->status, sizeof(r->status), "hung (killed)");
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "loading or probing did not return within %d s; killed", timeout_s);
	} else if (WIFSIGNALED(st)) {
		snprintf(r->status, sizeof(r->status), "crashed %s", signal_name(WTERMSIG(st)));
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "loading or probing it crashed: killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	} else if (WIFEXITED(st)) {
		snprintf(r->status, sizeof(r->status), "exited %d", WEXITSTATUS(st));
		snprintf(r->info.reason, sizeof(r->info.reason),
			 "while loading or probing it, the process exited with status %d "
			 "(the plugin called exit())",
			 WEXITSTATUS(st));
	} else {
		snprintf(r->status, sizeof(r->status), "lost");
		snprintf(r->info.reason, sizeof(r->info.reason), "child status %#x", st);
	}
}

/* snprintf for messages that may be cut short: the table has the rest. */
__attribute__((format(printf, 3, 4))) static int say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return w;
}

/* The row the builder would use for `want` (NULL: Auto), or NULL with why
 * in `why`. The same rules as rki_plugins_select(). */
static const struct row *pick(const struct row *v, unsigned n, const char *want, const char *path,
			      char *why, size_t len)
{
	const struct row *best = NULL;
	size_t pos = 0;

	if (!want) {
		/* Strictly greater: on a tie the earlier directory wins. */
		for (unsigned i = 0; i < n; i++)
			if (!v[i].info.shadowed && v[i].info.status == 0 &&
			    (!best || v[i].info.priority > best->info.priority))
				best = &v[i];
		if (best)
			return best;
		/* Every candidate's reason, as the builder's message has them. */
		int w = say(why, len, "no usable plugin in %s", path);
		pos = w > 0 ? (size_t)w : 0;
		bool first = true;
		for (unsigned i = 0; i < n && pos < len; i++) {
			if (v[i].info.shadowed)
				continue;
			w = say(why + pos, len - pos, "%s%s: %s", first ? " (" : "; ",
				v[i].info.name, v[i].info.reason);
			if (w > 0)
				pos += (size_t)w;
			first = false;
		}
		if (!first && pos < len - 1)
			strcat(why, ")");
		return NULL;
	}
	for (unsigned i = 0; i < n && !best; i++)
		if (!v[i].info.shadowed && !strcmp(v[i].info.name, want))
			best = &v[i];
	if (!best)
		say(why, len, "no plugin named %s in %s", want, path);
	else if (best->info.status != 0 && !best->info.loaded && !best->status[0])
		say(why, len, "plugin %s (%s) refused: %s", want, best->info.path,
		    best->info.reason);
	else if (best->info.status != 0)
		say(why, len, "plugin %s unavailable: %s", want, best->info.reason);
	else
		return best;
	return NULL;
}

static bool valid_backend_word(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* A size in bytes, and the same in KiB..TiB for people. */
static void human_bytes(const char *v, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double x = strtod(v, NULL);
	int u = -1;
	while (x >= 1024 && u < 3) {
		x /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%s", v);
	else
		snprintf(buf, len, "%s (%.1f %s)", v, x, units[u]);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

/* The details under a table row, indented as its reason. */
static void print_details(const struct details *d, int namew)
{
	char buf[200];
	for (uint32_t i = 0; i < d->n; i++) {
		const struct detail *e = &d->d[i];
		if (e->num && ends_with(e->key, "_bytes"))
			human_bytes(e->val, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%s", e->val);
		printf("%-*s  %s: %s\n", namew, "", e->key, buf);
	}
}

static void print_env(void)
{
	bool ignored;
	printf("\nenvironment:\n");
	for (unsigned i = 0; i < N_ENV_VARS; i++) {
		const char *v = env_value(i, &ignored);
		if (ignored)
			printf("  %-28s (ignored: set-uid or set-gid program)\n", env_vars[i].name);
		else
			printf("  %-28s %s\n", env_vars[i].name, v ? v : "(unset)");
	}
}

static void json_details(const struct details *d)
{
	printf(", \"details\": {");
	for (uint32_t i = 0; i < d->n; i++) {
		printf("%s", i ? ", " : "");
		json_str(d->d[i].key);
		printf(": ");
		if (d->d[i].num)
			printf("%s", d->d[i].val);
		else
			json_str(d->d[i].val);
	}
	putchar('}');
}

static void print_json(const struct row *t, unsigned n, int device, const char *path,
		       const struct row *chosen, const char *want, const char *why,
		       const struct transport_row *tr)
{
	char st[48];
	printf("{\"version\": ");
	json_str(rk_version());
	printf(", \"plugin_abi\": \"%u.%u\", \"device\": %d, \"search_path\": ",
	       RK_PLUGIN_ABI_MAJOR, RK_PLUGIN_ABI_MINOR, device);
	json_str(path);
	printf(", \"plugins\": [");
	for (unsigned i = 0; i < n; i++) {
		const rk_plugin_info *p = &t[i].info;
		status_text(&t[i], st, sizeof(st));
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(p->name);
		printf(", \"version\": ");
		json_str(p->version);
		printf(", \"abi\": \"%u.%u\", \"usable\": %s", p->abi_major, p->abi_minor,
		       p->loaded && p->status == 0 && !p->shadowed ? "true" : "false");
		if (p->status == 0)
			printf(", \"priority\": %d", p->priority);
		printf(", \"status\": ");
		json_str(st);
		printf(", \"reason\": ");
		json_str(p->reason);
		printf(", \"path\": ");
		json_str(p->path);
		if (t[i].det.n)
			json_details(&t[i].det);
		putchar('}');
	}
	printf("], \"transports\": [");
	for (unsigned i = 0; i < N_TRANSPORTS; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(transports[i]);
		printf(", \"usable\": %s, \"%s\": ", tr[i].status == 0 ? "true" : "false",
		       tr[i].status == 0 ? "description" : "reason");
		json_str(tr[i].text);
		putchar('}');
	}
	printf("], \"environment\": {");
	for (unsigned i = 0; i < N_ENV_VARS; i++) {
		bool ignored;
		const char *v = env_value(i, &ignored);
		printf("%s", i ? ", " : "");
		json_str(env_vars[i].name);
		printf(": ");
		if (v)
			json_str(v);
		else
			printf("null");
	}
	printf("}, \"rk_backend\": ");
	if (want)
		json_str(want);
	else
		printf("null");
	printf(", \"auto_pick\": ");
	if (chosen)
		json_str(chosen->info.name);
	else
		printf("null");
	if (!chosen) {
		printf(", \"why\": ");
		json_str(why);
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-path", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plugin_path = NULL;
	rk_plugin_info *found;
	unsigned n = 0, cap = 32;
	char path[8192], st[48], abi[24], prio[16], why[1024];
	int device = 0, timeout_s = 5, c, ret;
	int namew = 4, verw = 7;
	bool json = false;

	while ((c = getopt_long(argc, argv, "p:d:t:jVh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': plugin_path = optarg; break;
		case 'd':
			if (parse_uint(optarg, 0, INT_MAX, &device) < 0) {
				fprintf(stderr, PROG ": --device wants an ordinal >= 0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_uint(optarg, 1, 3600, &timeout_s) < 0) {
				fprintf(stderr,
					PROG ": --timeout wants 1 to 3600 seconds, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'V':
			printf(PROG " (ringkernel-c) %s, plugin ABI %u.%u\n", rk_version(),
			       RK_PLUGIN_ABI_MAJOR, RK_PLUGIN_ABI_MINOR);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Finding loads nothing, so a second pass when the guess was short
	 * costs only a directory listing. */
	for (;;) {
		found = calloc(cap, sizeof(*found));
		if (!found) {
			fprintf(stderr, PROG ": out of memory\n");
			return 1;
		}
		ret = rk_plugins_find(plugin_path, found, cap, &n);
		if (ret < 0) {
			fprintf(stderr, PROG ": %s: %s\n", rk_strerror(ret), rk_last_error());
			free(found);
			return 1;
		}
		if (n <= cap)
			break;
		free(found);
		cap = n;
	}
	table = calloc(n ? n : 1, sizeof(*table));
	if (!table) {
		fprintf(stderr, PROG ": out of memory\n");
		free(found);
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		table[i].info = found[i];
	free(found);
	for (unsigned i = 0; i < n; i++) {
		/* Refused or shadowed without loading: nothing to probe. */
		if (!table[i].info.shadowed && table[i].info.status == 0)
			probe_in_child(&table[i], device, timeout_s);
	}

	if (rk_plugins_search_path(plugin_path, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(too long to show)");
	/* RK_BACKEND=auto|cpu|cuda|hip|NAME, as the builder reads it (a
	 * set-uid rk-info ignores it, as the builder would). */
	const char *forced = secure_getenv("RK_BACKEND");
	const char *want = forced && *forced && strcmp(forced, "auto") ? forced : NULL;
	const struct row *chosen = NULL;
	if (want && !valid_backend_word(want))
		say(why, sizeof(why),
		    "RK_BACKEND=\"%s\": expected auto, cpu, cuda, hip or a plugin name "
		    "([a-z0-9_-])",
		    want);
	else
		chosen = pick(table, n, want, path, why, sizeof(why));
	struct transport_row tr[N_TRANSPORTS];
	for (unsigned i = 0; i < N_TRANSPORTS; i++)
		describe_in_child(transports[i], &tr[i], timeout_s);
	if (json) {
		print_json(table, n, device, path, chosen, want, why, tr);
		free(table);
		return chosen ? 0 : 1;
	}
	printf("ringkernel-c %s, plugin ABI %u.%u, device %d\n", rk_version(), RK_PLUGIN_ABI_MAJOR,
	       RK_PLUGIN_ABI_MINOR, device);
	printf("search path: %s\n\n", path);

	for (unsigned i = 0; i < n; i++) {
		int w = (int)strlen(table[i].info.name);
		namew = w > namew ? w : namew;
		w = (int)strlen(table[i].info.version);
		verw = w > verw ? w : verw;
	}
	if (n == 0)
		printf("no plugins found\n");
	else
		printf("%-*s  %-*s  %-5s  %8s  %-20s  %s\n", namew, "NAME", verw, "VERSION", "ABI",
		       "PRIORITY", "STATUS", "PATH");
	for (unsigned i = 0; i < n; i++) {
		const rk_plugin_info *p = &table[i].info;
		status_text(&table[i], st, sizeof(st));
		if (p->loaded || p->abi_major || p->abi_minor)
			snprintf(abi, sizeof(abi), "%u.%u", p->abi_major, p->abi_minor);
		else
			snprintf(abi, sizeof(abi), "-");
		if (p->status == 0)
			snprintf(prio, sizeof(prio), "%d", p->priority);
		else
			snprintf(prio, sizeof(prio), "-");
		printf("%-*s  %-*s  %-5s  %8s  %-20s  %s\n", namew, p->name, verw,
		       p->version[0] ? p->version : "-", abi, prio, st, p->path);
		if (p->reason[0])
			printf("%-*s  reason: %s\n", namew, "", p->reason);
		print_details(&table[i].det, namew);
	}
	printf("\ntransports:\n");
	for (unsigned i = 0; i < N_TRANSPORTS; i++)
		printf("  %-6s %s%s\n", transports[i],
		       tr[i].status == 0 ? "" : "unusable: ", tr[i].text);
	print_env();

	if (!chosen)
		printf("\nauto would pick: none: %s\n", why);
	else if (want)
		printf("\nauto would pick: %s (priority %d; RK_BACKEND=%s)\n", chosen->info.name,
		       chosen->info.priority, want);
	else
		printf("\nauto would pick: %s (priority %d)\n", chosen->info.name,
		       chosen->info.priority);
	free(table);
	return chosen ? 0 : 1;
}
