# plugins/opencl: rk-plugin-opencl.so (built when configure finds CL/cl.h).
#
# The device code is source: layout.h + device.h + kernel.cl, concatenated
# (their includes resolved) and embedded as a C array; the plugin builds it
# with clBuildProgram once per runtime. Nothing vendor-specific is linked.
EXTRA_DIST += plugins/opencl/kernel.cl
plugins_opencl_rk_plugin_opencl_la_SOURCES = plugins/opencl/opencl.c plugins/gpu_host.h
nodist_plugins_opencl_rk_plugin_opencl_la_SOURCES = plugins/opencl/kernel_source.c
plugins_opencl_rk_plugin_opencl_la_LDFLAGS = $(RK_PLUGIN_LDFLAGS)
plugins_opencl_rk_plugin_opencl_la_LIBADD = runtime/libringkernel.la
CLEANFILES += plugins/opencl/kernel_full.cl plugins/opencl/kernel_source.c

if HAVE_OPENCL
plugin_LTLIBRARIES += plugins/opencl/rk-plugin-opencl.la
RK_BUILT_PLUGINS += plugins/opencl/rk-plugin-opencl.la
endif

plugins/opencl/kernel_full.cl: $(top_srcdir)/plugins/opencl/kernel.cl \
		$(top_srcdir)/include/ringkernel/device.h $(top_srcdir)/include/ringkernel/layout.h
	@$(MKDIR_P) plugins/opencl
	$(AM_V_GEN)cat $(top_srcdir)/include/ringkernel/layout.h \
		$(top_srcdir)/include/ringkernel/device.h \
		$(top_srcdir)/plugins/opencl/kernel.cl | \
		sed '/#include <ringkernel\/layout.h>/d' >$@.tmp && \
		printf '\0' >>$@.tmp && mv $@.tmp $@
plugins/opencl/kernel_source.c: plugins/opencl/kernel_full.cl $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rk_opencl_source plugins/opencl/kernel_full.cl $@
