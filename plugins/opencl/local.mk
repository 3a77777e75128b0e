# plugins/opencl: rk-plugin-opencl.so (built when configure finds CL/cl.h).
#
# The device code is source: layout.h + device.h (concatenated, their
# includes resolved) and kernel.cl, embedded as C arrays; the plugin builds
# them with clBuildProgram once per runtime, and puts the same headers in
# place of `#include <ringkernel/device.h>` in a user kernel's source.
# Nothing vendor-specific is linked.
EXTRA_DIST += plugins/opencl/kernel.cl
plugins_opencl_rk_plugin_opencl_la_SOURCES = plugins/opencl/opencl.c plugins/gpu_host.h
nodist_plugins_opencl_rk_plugin_opencl_la_SOURCES = plugins/opencl/kernel_source.c \
	plugins/opencl/headers_source.c
plugins_opencl_rk_plugin_opencl_la_LDFLAGS = $(RK_PLUGIN_LDFLAGS)
plugins_opencl_rk_plugin_opencl_la_LIBADD = runtime/libringkernel.la
CLEANFILES += plugins/opencl/headers.cl plugins/opencl/headers_source.c \
	plugins/opencl/kernel_source.c

if HAVE_OPENCL
plugin_LTLIBRARIES += plugins/opencl/rk-plugin-opencl.la
RK_BUILT_PLUGINS += plugins/opencl/rk-plugin-opencl.la
endif

plugins/opencl/headers.cl: $(top_srcdir)/include/ringkernel/device.h \
		$(top_srcdir)/include/ringkernel/layout.h
	@$(MKDIR_P) plugins/opencl
	$(AM_V_GEN)cat $(top_srcdir)/include/ringkernel/layout.h \
		$(top_srcdir)/include/ringkernel/device.h | \
		sed '/#include <ringkernel\/layout.h>/d' >$@.tmp && mv $@.tmp $@
plugins/opencl/headers_source.c: plugins/opencl/headers.cl $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rk_opencl_headers plugins/opencl/headers.cl $@
plugins/opencl/kernel_source.c: $(top_srcdir)/plugins/opencl/kernel.cl $(top_srcdir)/plugins/embed.sh
	@$(MKDIR_P) plugins/opencl
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rk_opencl_kernel $(top_srcdir)/plugins/opencl/kernel.cl $@
