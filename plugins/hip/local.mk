# plugins/hip: rk-plugin-hip.so (built when configure finds hipcc).
#
# kernel.hip (which is plugins/cuda/kernel.cu) -> hipcc --genco -> a clang
# offload bundle of code objects, one per gfx target below (those Debian's
# ROCm device libraries cover, gfx90a among them; not gfx942 or RDNA3,
# which Debian's clang cannot build) -> embed.sh -> a C array compiled into
# the plugin. hipcc sees none of the C flags. The probe reads the targets
# from the embedded bundle (RK_HIP_TARGETS is the fallback) and refuses a
# device with no code object. The host side is plugins/gpu_host.c.
EXTRA_DIST += plugins/hip/kernel.hip
# One list for hipcc and the probe's fallback (keep the two in step: a
# test compares RK_HIP_TARGETS with the bundle built from RK_HIPCC_ARCHS).
RK_HIP_TARGETS = gfx900 gfx906 gfx908 gfx90a gfx1030
RK_HIPCC_ARCHS = --offload-arch=gfx900 --offload-arch=gfx906 \
	--offload-arch=gfx908 --offload-arch=gfx90a --offload-arch=gfx1030
RK_HIPCC_FLAGS = -O3 -std=c++17 $(RK_HIPCC_ARCHS)

plugins_hip_rk_plugin_hip_la_SOURCES = plugins/hip/hip.c plugins/gpu_host.c plugins/gpu_host.h
nodist_plugins_hip_rk_plugin_hip_la_SOURCES = plugins/hip/kernel_image.c
plugins_hip_rk_plugin_hip_la_CPPFLAGS = $(AM_CPPFLAGS) -DRK_HIP_TARGETS='"$(RK_HIP_TARGETS)"'
plugins_hip_rk_plugin_hip_la_LDFLAGS = $(RK_GPU_PLUGIN_LDFLAGS)
plugins_hip_rk_plugin_hip_la_LIBADD = runtime/libringkernel.la
CLEANFILES += plugins/hip/kernel.co plugins/hip/kernel_image.c

if HAVE_HIP
plugin_LTLIBRARIES += plugins/hip/rk-plugin-hip.la
RK_BUILT_PLUGINS += plugins/hip/rk-plugin-hip.la
endif

plugins/hip/kernel.co: $(top_srcdir)/plugins/hip/kernel.hip \
		$(top_srcdir)/plugins/cuda/kernel.cu $(RK_DEVICE_DEPS)
	@$(MKDIR_P) plugins/hip
	$(AM_V_GEN)$(HIPCC) -I$(top_srcdir)/include $(RK_HIPCC_FLAGS) --genco \
		-o $@ $(top_srcdir)/plugins/hip/kernel.hip
plugins/hip/kernel_image.c: plugins/hip/kernel.co $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rk_hip_image plugins/hip/kernel.co $@
