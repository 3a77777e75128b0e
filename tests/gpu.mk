# GPU plugins, checked on a machine without a GPU: what was built, what it
# exports and links, what the embedded CUDA image holds, and that the
# plugins report "unavailable" with a reason while Auto falls back to CPU.
# tests/gpu/ holds the programs that need a real device (they skip here).
if HAVE_CUDA
RKT_HAVE_CUDA = 1
else
RKT_HAVE_CUDA = 0
endif
if HAVE_HIP
RKT_HAVE_HIP = 1
else
RKT_HAVE_HIP = 0
endif

# The host side every GPU plugin shares (plugins/gpu_host.c) runs here over
# rk-plugin-fakegpu, a vendor table whose device is host threads
# (tests/gpu/fake_gpu.c); the CUDA probe meets a stand-in libcuda.so.1
# (tests/gpu/fake_libcuda.c) that reports the driver version and device
# the environment asks for.
if HAVE_CRITERION
check_PROGRAMS += tests/test_gpu_plugins
TESTS += tests/test_gpu_plugins
check_LTLIBRARIES += tests/gpu/rk-plugin-fakegpu.la tests/gpu/fakecuda/libcuda.la
endif
tests_test_gpu_plugins_SOURCES = tests/test_gpu_plugins.c tests/testutil.h \
	tests/gpu/fake_gpu.h plugins/gpu_host.c plugins/gpu_host.h
tests_test_gpu_plugins_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRKT_HAVE_CUDA=$(RKT_HAVE_CUDA) -DRKT_HAVE_HIP=$(RKT_HAVE_HIP) \
	-DRKT_CUDA_SO='"$(abs_top_builddir)/plugins/cuda/.libs/rk-plugin-cuda.so"' \
	-DRKT_HIP_SO='"$(abs_top_builddir)/plugins/hip/.libs/rk-plugin-hip.so"' \
	-DRKT_CPU_SO='"$(abs_top_builddir)/plugins/cpu/.libs/rk-plugin-cpu.so"' \
	-DRKT_FAKEGPU_SO='"$(abs_top_builddir)/tests/gpu/.libs/rk-plugin-fakegpu.so"' \
	-DRKT_FAKECUDA_DIR='"$(abs_top_builddir)/tests/gpu/fakecuda/.libs"' \
	-DRKT_RK_INFO='"$(abs_top_builddir)/runtime/rk-info"' \
	-DRKT_PLUGIN_DIR='"$(abs_top_builddir)/plugins/.libs-all"' \
	-DRKT_HIP_TARGETS='"$(RK_HIP_TARGETS)"' \
	-DRKT_CUDA_TOOLKIT_VERSION=$(RK_CUDA_TOOLKIT_VERSION)
tests_test_gpu_plugins_CFLAGS = $(TEST_CFLAGS)
tests_test_gpu_plugins_LDADD = runtime/libringkernel.la $(TEST_LIBS) -ldl

tests_gpu_rk_plugin_fakegpu_la_SOURCES = tests/gpu/fake_gpu.c tests/gpu/fake_gpu.h \
	plugins/gpu_host.c plugins/gpu_host.h
tests_gpu_rk_plugin_fakegpu_la_CPPFLAGS = $(AM_CPPFLAGS)
tests_gpu_rk_plugin_fakegpu_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^(rk_plugin_entry|rkt_fakegpu_.*)$$'
tests_gpu_rk_plugin_fakegpu_la_LIBADD = runtime/libringkernel.la
tests_gpu_fakecuda_libcuda_la_SOURCES = tests/gpu/fake_libcuda.c
tests_gpu_fakecuda_libcuda_la_LDFLAGS = $(AM_LDFLAGS) -shared -rpath /nowhere -version-info 1:0:0

# On a GPU machine: round trip and lifecycle on a real device (exit 77,
# skipped, where there is none). gpu_checks holds the device check's
# multi-kernel steps (tests/gpu/bundle.mk runs them all through run.sh).
check_PROGRAMS += tests/gpu/gpu_echo tests/gpu/gpu_checks
TESTS += tests/gpu/gpu_echo
tests_gpu_gpu_echo_SOURCES = tests/gpu/gpu_echo.c
tests_gpu_gpu_echo_LDADD = runtime/libringkernel.la
tests_gpu_gpu_checks_SOURCES = tests/gpu/gpu_checks.c tests/gpu/gpu_checks_scale.c \
	examples/kernel/scale_register.c tests/gpu/trap_kernel.h
nodist_tests_gpu_gpu_checks_SOURCES = tests/scale_source.c
tests_gpu_gpu_checks_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRKT_HAVE_CUDA=$(RKT_HAVE_CUDA) -DRKT_HAVE_HIP=$(RKT_HAVE_HIP) \
	-DSCALE_HAVE_CUDA=$(RKT_HAVE_CUDA) -DSCALE_HAVE_HIP=$(RKT_HAVE_HIP)
tests_gpu_gpu_checks_LDADD = runtime/libringkernel.la
EXTRA_DIST += tests/gpu/trap.cu tests/gpu/trap.hip
CLEANFILES += tests/gpu/trap.fatbin tests/gpu/trap_cuda.c tests/gpu/trap.co tests/gpu/trap_hip.c

# The trapping user kernel, built by nvcc and hipcc like examples/kernel/scale.cu.
if HAVE_CUDA
nodist_tests_gpu_gpu_checks_SOURCES += tests/gpu/scale_cuda.c tests/gpu/trap_cuda.c
endif
tests/gpu/trap.fatbin: $(top_srcdir)/tests/gpu/trap.cu $(top_srcdir)/tests/gpu/trap_kernel.h \
		$(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(CUDACC) -I$(top_srcdir)/include $(RK_NVCC_FLAGS) --fatbin \
		-o $@ $(top_srcdir)/tests/gpu/trap.cu
tests/gpu/trap_cuda.c: tests/gpu/trap.fatbin $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rkt_trap_cuda tests/gpu/trap.fatbin $@

if HAVE_HIP
nodist_tests_gpu_gpu_checks_SOURCES += tests/gpu/scale_hip.c tests/gpu/trap_hip.c
endif
tests/gpu/trap.co: $(top_srcdir)/tests/gpu/trap.hip $(top_srcdir)/tests/gpu/trap.cu \
		$(top_srcdir)/tests/gpu/trap_kernel.h $(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(HIPCC) -I$(top_srcdir)/include $(RK_HIPCC_FLAGS) --genco \
		-o $@ $(top_srcdir)/tests/gpu/trap.hip
tests/gpu/trap_hip.c: tests/gpu/trap.co $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rkt_trap_hip tests/gpu/trap.co $@

# The runtime suites and the one-source user kernel on CUDA and HIP: each
# script skips (77, with the probe's reason) where that backend is not
# usable, which is every machine without the GPU and its driver.
GPU_SUITES = tests/gpu/cuda_lifecycle.sh tests/gpu/cuda_messaging.sh tests/gpu/cuda_k2k.sh \
	tests/gpu/cuda_user_kernel.sh tests/gpu/hip_lifecycle.sh tests/gpu/hip_messaging.sh \
	tests/gpu/hip_k2k.sh tests/gpu/hip_user_kernel.sh
TESTS += $(GPU_SUITES)
dist_check_SCRIPTS += $(GPU_SUITES)

# The device loop as nvcc / hipcc compile it (PTX / gfx90a assembly).
TESTS += tests/gpu/device_code.sh
dist_check_SCRIPTS += tests/gpu/device_code.sh
