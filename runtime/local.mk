# runtime/: libringkernel.
lib_LTLIBRARIES += runtime/libringkernel.la
runtime_libringkernel_la_SOURCES = runtime/version.c runtime/log.c runtime/log.h \
	runtime/internal.h runtime/registry.c runtime/options.c runtime/ctx.c runtime/ctx.h \
	runtime/runtime.c runtime/lifecycle.c runtime/kernel.c runtime/k2k.c runtime/hlc.c \
	runtime/publish.c runtime/attach.c runtime/remote.c \
	runtime/lock.h runtime/lock.c runtime/hlc.h
runtime_libringkernel_la_LIBADD = shm/librkshm.la $(URING_LIBS)
runtime_libringkernel_la_CFLAGS = $(AM_CFLAGS) $(URING_CFLAGS)
runtime_libringkernel_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(RK_LT_VERSION) \
	-Wl,--version-script=$(srcdir)/runtime/libringkernel.map
EXTRA_runtime_libringkernel_la_DEPENDENCIES = runtime/libringkernel.map
EXTRA_DIST += runtime/libringkernel.map
include runtime/reactor.mk
include runtime/loader.mk
include runtime/top.mk
