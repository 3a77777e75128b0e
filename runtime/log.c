/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int rki_log_threshold = RK_LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/*
 * The sink: the application's handler, else fd (stderr or RK_LOG_FILE).
 * Everything below is guarded by `lock`, held across a handler call or a
 * write: lines never interleave, a handler is never called twice at once,
 * and rk_set_log_handler() returns only once the call in flight is over.
 *
 * A thread inside the handler (in_sink) holds the lock already. What it
 * logs, through any rk_* call, goes to fd; its rk_set_log_handler() and
 * rki_log_init() proceed without taking the lock again.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rk_log_handler handler;
static void *handler_arg;
static int fd = STDERR_FILENO;
static char file_path[PATH_MAX];     /* RK_LOG_FILE as last read; "" unset */
static char bad_level[64];	     /* the RK_LOG value last warned about */
static int said_secure;		     /* RK_LOG_FILE ignored: warned */
static int env_level = -1;	     /* RK_LOG's level, -1 when unset */
static int prog_level = RK_LOG_WARN; /* rk_set_log_level()'s */
static __thread int in_sink;

static int enter(void)
{
	if (in_sink)
		return 0;
	pthread_mutex_lock(&lock);
	return 1;
}

static void leave(int locked)
{
	if (locked)
		pthread_mutex_unlock(&lock);
}

/* The kernel's thread id, cached per thread (and per process: a forked
 * child's thread has another id). */
static long thread_id(void)
{
	static __thread long tid;
	static __thread pid_t tid_pid;
	pid_t pid = getpid();
	if (tid_pid != pid) {
		tid = syscall(SYS_gettid);
		tid_pid = pid;
	}
	return tid;
}

/* "2025-01-02T03:04:05.123456Z ringkernel[PID/TID] LEVEL: MSG\n" to fd, in
 * one write (O_APPEND keeps lines of several processes whole). */
static void write_line(int lvl, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32] = "";
	char line[1536];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(line, sizeof(line), "%s.%06ldZ ringkernel[%ld/%ld] %s: %s\n", stamp,
			 ts.tv_nsec / 1000, (long)getpid(), thread_id(), level_names[lvl], msg);
	if (n < 0)
		return;
	size_t len = (size_t)n;
	if (len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to say it */
		off += (size_t)w;
	}
}

/* The lock is held (or this thread is in the handler). */
static void dispatch(int lvl, const char *msg)
{
	if (handler && !in_sink) {
		in_sink = 1;
		handler(lvl, msg, handler_arg);
		in_sink = 0;
	} else {
		write_line(lvl, msg);
	}
}

/* "SUBSYSTEM: TEXT", where SUBSYSTEM is subsys's base name up to its first
 * '.', left out when TEXT already starts with it ("reactor: ..."). */
static void compose(char *msg, size_t len, const char *subsys, const char *text)
{
	const char *base = subsys && *subsys ? subsys : "core";
	const char *slash = strrchr(base, '/');
	if (slash)
		base = slash + 1;
	size_t n = strcspn(base, ".");
	if (!strncmp(text, base, n) && (text[n] == ':' || text[n] == ' '))
		snprintf(msg, len, "%s", text);
	else
		snprintf(msg, len, "%.*s: %s", (int)n, base, text);
}

static void vemit(enum rk_log_level lvl, const char *subsys, const char *fmt, va_list ap)
{
	char text[1024], msg[1152];
	int saved = errno;

	if ((int)lvl < RK_LOG_ERROR || lvl > RK_LOG_DEBUG)
		lvl = RK_LOG_ERROR;
	vsnprintf(text, sizeof(text), fmt, ap);
	compose(msg, sizeof(msg), subsys, text);
	int locked = enter();
	dispatch(lvl, msg);
	leave(locked);
	errno = saved;
}

void rki_log_emit(enum rk_log_level lvl, const char *subsys, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vemit(lvl, subsys, fmt, ap);
	va_end(ap);
}

void rki_log(enum rk_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	if (!rki_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vemit(lvl, "core", fmt, ap);
	va_end(ap);
}

/* A warning from the logger itself: said whatever the level, so that a
 * mistyped variable is never silent. The lock is held. */
__attribute__((format(printf, 1, 2))) static void self_warn(const char *fmt, ...)
{
	char text[1024], msg[1152];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	compose(msg, sizeof(msg), "log", text);
	dispatch(RK_LOG_WARN, msg);
}

static void apply_level(void)
{
	__atomic_store_n(&rki_log_threshold, env_level >= 0 ? env_level : prog_level,
			 __ATOMIC_RELAXED);
}

/* RK_LOG_FILE: opened when it names another file than last time, closed
 * when unset. Not in a set-uid program (secure_getenv): its caller must not
 * choose a file the program writes with its privileges. */
static void read_log_file(void)
{
	const char *raw = getenv("RK_LOG_FILE");
	const char *path = secure_getenv("RK_LOG_FILE");

	if (raw && *raw && !path && !said_secure) {
		said_secure = 1;
		self_warn("RK_LOG_FILE is ignored in a set-uid or set-gid program; logging to "
			  "stderr");
	}
	if (!path || !*path) {
		if (fd != STDERR_FILENO)
			close(fd);
		fd = STDERR_FILENO;
		file_path[0] = '\0';
		return;
	}
	if (!strncmp(path, file_path, sizeof(file_path) - 1))
		return; /* the same file (or the same failure) as last time */
	snprintf(file_path, sizeof(file_path), "%s", path);
	int nfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	int err = errno;
	if (fd != STDERR_FILENO)
		close(fd);
	fd = nfd >= 0 ? nfd : STDERR_FILENO;
	if (nfd < 0)
		self_warn("RK_LOG_FILE=%s: %s; logging to stderr", path, strerror(err));
}

/* RK_LOG: a level name, else one warning per value and the default. */
static void read_level(void)
{
	const char *v = getenv("RK_LOG");

	env_level = -1;
	if (!v || !*v)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, level_names[i]))
			env_level = i;
	if (env_level >= 0) {
		bad_level[0] = '\0';
		return;
	}
	if (!strncmp(v, bad_level, sizeof(bad_level) - 1))
		return;
	snprintf(bad_level, sizeof(bad_level), "%s", v);
	self_warn("RK_LOG=%.64s is not error|warn|info|debug; using %s", v,
		  level_names[prog_level]);
}

void rki_log_init(void)
{
	int saved = errno;
	int locked = enter();
	read_log_file();
	read_level();
	apply_level();
	leave(locked);
	errno = saved;
}

void rk_set_log_handler(rk_log_handler h, void *arg)
{
	int locked = enter();
	handler = h;
	handler_arg = arg;
	leave(locked);
}

int rk_set_log_level(int lvl)
{
	if (lvl < RK_LOG_ERROR || lvl > RK_LOG_DEBUG)
		return -EINVAL;
	int locked = enter();
	prog_level = lvl;
	apply_level();
	leave(locked);
	return 0;
}
