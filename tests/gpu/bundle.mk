# make gpu-bundle: the prepared device check, built here, run on a GPU
# machine that has nothing but a shell and its driver (issue 11):
# gpu-bundle/ in the build directory holds the programs, plugins and
# libraries (tests/gpu/make-bundle.sh) and run.sh (tests/gpu/run.sh),
# which builds nothing and runs every step under a timeout. Carry it to
# the device and run
#   gpu-bundle/run.sh              (every usable GPU backend; logs in $OUT)
# make check runs the same script on the CPU, OpenCL and fake-GPU
# backends (tests/gpu/bundle_check.sh), so the script itself is tested.
RK_BUNDLE_PROGS = runtime/rk-info tests/gpu/gpu_echo tests/gpu/gpu_checks \
	tests/test_lifecycle tests/test_messaging tests/test_k2k tests/test_user_kernel
RK_BUNDLE_DEPS = $(RK_BUNDLE_PROGS) $(RK_BUILT_PLUGINS) runtime/libringkernel.la \
	tests/gpu/rk-plugin-fakegpu.la $(top_srcdir)/tests/gpu/run.sh \
	$(top_srcdir)/tests/gpu/make-bundle.sh
EXTRA_DIST += tests/gpu/make-bundle.sh tests/gpu/run.sh

gpu-bundle/run.sh: $(RK_BUNDLE_DEPS) plugins-gather
	$(AM_V_GEN)RK_BUNDLE_NVCC='$(CUDACC)' RK_BUNDLE_HIPCC='$(HIPCC)' \
		$(SHELL) $(top_srcdir)/tests/gpu/make-bundle.sh gpu-bundle $(top_srcdir) \
		$(RK_BUNDLE_PROGS)
gpu-bundle: gpu-bundle/run.sh
.PHONY: gpu-bundle

if HAVE_CRITERION
if !RK_TSAN
check_DATA += gpu-bundle/run.sh
TESTS += tests/gpu/bundle_check.sh
endif
endif
dist_check_SCRIPTS += tests/gpu/bundle_check.sh
clean-local: clean-gpu-bundle
clean-gpu-bundle:
	rm -rf gpu-bundle gpu-bundle.tmp
.PHONY: clean-gpu-bundle
