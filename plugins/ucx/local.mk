# plugins/ucx: rk-transport-ucx.so, frames over UCP active messages (built
# when configure finds UCX). Installed beside the backends; libringkernel
# loads it on the first rk_runtime_listen(), rk_attach_remote() or
# rk_kernel_connect_remote().
EXTRA_DIST += plugins/ucx/ucx.c
if HAVE_UCX
plugin_LTLIBRARIES += plugins/ucx/rk-transport-ucx.la
plugins_ucx_rk_transport_ucx_la_SOURCES = plugins/ucx/ucx.c
plugins_ucx_rk_transport_ucx_la_CFLAGS = $(AM_CFLAGS) $(UCX_CFLAGS)
plugins_ucx_rk_transport_ucx_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^rk_transport_entry$$'
plugins_ucx_rk_transport_ucx_la_LIBADD = runtime/libringkernel.la $(UCX_LIBS)
RK_BUILT_PLUGINS += plugins/ucx/rk-transport-ucx.la
endif
