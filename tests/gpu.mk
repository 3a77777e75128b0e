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
# skipped, where there is none).
check_PROGRAMS += tests/gpu/gpu_echo
TESTS += tests/gpu/gpu_echo
tests_gpu_gpu_echo_SOURCES = tests/gpu/gpu_echo.c
tests_gpu_gpu_echo_LDADD = runtime/libringkernel.la
dist_check_SCRIPTS += tests/gpu/run-on-gpu.sh

# The runtime suites and the one-source user kernel on CUDA and HIP: each
# script skips (77, with the probe's reason) where that backend is not
# usable, which is every machine without the GPU and its driver.
GPU_SUITES = tests/gpu/cuda_lifecycle.sh tests/gpu/cuda_messaging.sh tests/gpu/cuda_k2k.sh \
	tests/gpu/cuda_user_kernel.sh tests/gpu/hip_lifecycle.sh tests/gpu/hip_messaging.sh \
	tests/gpu/hip_k2k.sh tests/gpu/hip_user_kernel.sh
TESTS += $(GPU_SUITES)
dist_check_SCRIPTS += $(GPU_SUITES)
