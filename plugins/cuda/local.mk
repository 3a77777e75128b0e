# plugins/cuda: rk-plugin-cuda.so (built when configure finds nvcc).
#
# kernel.cu (the portable loop of ringkernel/device.h) -> nvcc -> a fatbin
# with SASS for sm_80 and sm_90 and PTX for compute_90 (newer GPUs JIT it)
# -> embed.sh -> a C array compiled into the plugin. nvcc sees none of the
# C flags (warnings, sanitizers): they apply to the plugin's host C code.
# The host side is plugins/gpu_host.c, shared with the HIP plugin; the
# driver the image needs follows from the toolkit that built it
# (RK_CUDA_TOOLKIT_VERSION, configure's reading of nvcc --version).
# -z nodelete: the plugin's process-wide state (resident kernels, deferred
# unregistrations) lives as long as the driver it talks to.
EXTRA_DIST += plugins/cuda/kernel.cu plugins/embed.sh
RK_NVCC_FLAGS = -O3 -std=c++17 \
	-gencode arch=compute_80,code=sm_80 \
	-gencode arch=compute_90,code=sm_90 \
	-gencode arch=compute_90,code=compute_90
RK_DEVICE_DEPS = $(top_srcdir)/include/ringkernel/device.h \
	$(top_srcdir)/include/ringkernel/layout.h $(top_srcdir)/plugins/embed.sh
RK_GPU_PLUGIN_LDFLAGS = $(RK_PLUGIN_LDFLAGS) -Wl,-z,nodelete

plugins_cuda_rk_plugin_cuda_la_SOURCES = plugins/cuda/cuda.c plugins/gpu_host.c \
	plugins/gpu_host.h
nodist_plugins_cuda_rk_plugin_cuda_la_SOURCES = plugins/cuda/kernel_image.c
plugins_cuda_rk_plugin_cuda_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRK_CUDA_TOOLKIT_VERSION=$(RK_CUDA_TOOLKIT_VERSION)
plugins_cuda_rk_plugin_cuda_la_LDFLAGS = $(RK_GPU_PLUGIN_LDFLAGS)
plugins_cuda_rk_plugin_cuda_la_LIBADD = runtime/libringkernel.la
CLEANFILES += plugins/cuda/kernel.fatbin plugins/cuda/kernel_image.c

if HAVE_CUDA
plugin_LTLIBRARIES += plugins/cuda/rk-plugin-cuda.la
RK_BUILT_PLUGINS += plugins/cuda/rk-plugin-cuda.la
endif

plugins/cuda/kernel.fatbin: $(top_srcdir)/plugins/cuda/kernel.cu $(RK_DEVICE_DEPS)
	@$(MKDIR_P) plugins/cuda
	$(AM_V_GEN)$(CUDACC) -I$(top_srcdir)/include $(RK_NVCC_FLAGS) --fatbin \
		-o $@ $(top_srcdir)/plugins/cuda/kernel.cu
plugins/cuda/kernel_image.c: plugins/cuda/kernel.fatbin $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rk_cuda_image plugins/cuda/kernel.fatbin $@
