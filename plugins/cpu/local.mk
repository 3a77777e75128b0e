# plugins/cpu: rk-plugin-cpu.so, the portable loop on host threads.
plugin_LTLIBRARIES += plugins/cpu/rk-plugin-cpu.la
plugins_cpu_rk_plugin_cpu_la_SOURCES = plugins/cpu/cpu.c
plugins_cpu_rk_plugin_cpu_la_LDFLAGS = $(RK_PLUGIN_LDFLAGS)
plugins_cpu_rk_plugin_cpu_la_LIBADD = runtime/libringkernel.la
RK_BUILT_PLUGINS += plugins/cpu/rk-plugin-cpu.la
