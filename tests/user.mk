# A user kernel from one handler source (examples/kernel/scale_kernel.h),
# compiled three ways: as C into the test (the CPU handler), embedded as
# the OpenCL source, and built by nvcc / hipcc into CUDA / HIP images when
# those toolkits are here (so CI compiles the example for every GPU
# backend). The registration is the example's (examples/kernel/
# scale_register.c); tests/plugin_sdk.sh builds and runs the example
# itself against the installed tree.
TESTS += tests/test_user_kernel tests/opencl_user_kernel.sh
if HAVE_CRITERION
check_PROGRAMS += tests/test_user_kernel
endif
dist_check_SCRIPTS += tests/opencl_user_kernel.sh
tests_test_user_kernel_SOURCES = tests/test_user_kernel.c examples/kernel/scale_register.c \
	tests/rt_common.h
nodist_tests_test_user_kernel_SOURCES = tests/scale_source.c
tests_test_user_kernel_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSCALE_HAVE_CUDA=$(RKT_HAVE_CUDA) -DSCALE_HAVE_HIP=$(RKT_HAVE_HIP)
tests_test_user_kernel_CFLAGS = $(TEST_CFLAGS)
tests_test_user_kernel_LDADD = runtime/libringkernel.la $(TEST_LIBS)
CLEANFILES += tests/scale_source.c tests/gpu/scale.fatbin tests/gpu/scale_cuda.c \
	tests/gpu/scale.co tests/gpu/scale_hip.c

RK_SCALE_DIR = $(top_srcdir)/examples/kernel
tests/scale_source.c: $(RK_SCALE_DIR)/scale_kernel.h $(top_srcdir)/plugins/embed.sh
	@$(MKDIR_P) tests
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh scale_opencl \
		$(RK_SCALE_DIR)/scale_kernel.h $@

if HAVE_CUDA
nodist_tests_test_user_kernel_SOURCES += tests/gpu/scale_cuda.c
endif
tests/gpu/scale.fatbin: $(RK_SCALE_DIR)/scale.cu $(RK_SCALE_DIR)/scale_kernel.h \
		$(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(CUDACC) -I$(top_srcdir)/include $(RK_NVCC_FLAGS) --fatbin \
		-o $@ $(RK_SCALE_DIR)/scale.cu
tests/gpu/scale_cuda.c: tests/gpu/scale.fatbin $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh scale_cuda tests/gpu/scale.fatbin $@

if HAVE_HIP
nodist_tests_test_user_kernel_SOURCES += tests/gpu/scale_hip.c
endif
tests/gpu/scale.co: $(RK_SCALE_DIR)/scale.hip $(RK_SCALE_DIR)/scale.cu \
		$(RK_SCALE_DIR)/scale_kernel.h $(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(HIPCC) -I$(top_srcdir)/include $(RK_HIPCC_FLAGS) --genco \
		-o $@ $(RK_SCALE_DIR)/scale.hip
tests/gpu/scale_hip.c: tests/gpu/scale.co $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh scale_hip tests/gpu/scale.co $@
