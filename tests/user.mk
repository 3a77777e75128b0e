# A user kernel from one handler source (tests/scale_kernel.h), compiled
# three ways: as C into the test (the CPU handler), embedded as the OpenCL
# source, and built by nvcc / hipcc into CUDA / HIP images when those
# toolkits are here (so CI compiles the example for every GPU backend).
TESTS += tests/test_user_kernel tests/opencl_user_kernel.sh
if HAVE_CRITERION
check_PROGRAMS += tests/test_user_kernel
endif
dist_check_SCRIPTS += tests/opencl_user_kernel.sh
EXTRA_DIST += tests/scale_kernel.h tests/gpu/scale.cu tests/gpu/scale.hip
tests_test_user_kernel_SOURCES = tests/test_user_kernel.c tests/scale_register.c \
	tests/rt_common.h
nodist_tests_test_user_kernel_SOURCES = tests/scale_source.c
tests_test_user_kernel_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRKT_HAVE_CUDA=$(RKT_HAVE_CUDA) -DRKT_HAVE_HIP=$(RKT_HAVE_HIP)
tests_test_user_kernel_CFLAGS = $(TEST_CFLAGS)
tests_test_user_kernel_LDADD = runtime/libringkernel.la $(TEST_LIBS)
CLEANFILES += tests/scale_source.c tests/gpu/scale.fatbin tests/gpu/scale_cuda.c \
	tests/gpu/scale.co tests/gpu/scale_hip.c

tests/scale_source.c: $(top_srcdir)/tests/scale_kernel.h $(top_srcdir)/plugins/embed.sh
	@$(MKDIR_P) tests
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rkt_scale_opencl \
		$(top_srcdir)/tests/scale_kernel.h $@

if HAVE_CUDA
nodist_tests_test_user_kernel_SOURCES += tests/gpu/scale_cuda.c
endif
tests/gpu/scale.fatbin: $(top_srcdir)/tests/gpu/scale.cu $(top_srcdir)/tests/scale_kernel.h \
		$(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(CUDACC) -I$(top_srcdir)/include $(RK_NVCC_FLAGS) --fatbin \
		-o $@ $(top_srcdir)/tests/gpu/scale.cu
tests/gpu/scale_cuda.c: tests/gpu/scale.fatbin $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rkt_scale_cuda tests/gpu/scale.fatbin $@

if HAVE_HIP
nodist_tests_test_user_kernel_SOURCES += tests/gpu/scale_hip.c
endif
tests/gpu/scale.co: $(top_srcdir)/tests/gpu/scale.hip $(top_srcdir)/tests/gpu/scale.cu \
		$(top_srcdir)/tests/scale_kernel.h $(RK_DEVICE_DEPS)
	@$(MKDIR_P) tests/gpu
	$(AM_V_GEN)$(HIPCC) -I$(top_srcdir)/include $(RK_HIPCC_FLAGS) --genco \
		-o $@ $(top_srcdir)/tests/gpu/scale.hip
tests/gpu/scale_hip.c: tests/gpu/scale.co $(top_srcdir)/plugins/embed.sh
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/plugins/embed.sh rkt_scale_hip tests/gpu/scale.co $@
