# The plugin SDK: examples/plugin-skeleton built out of tree against this
# build installed into a staging directory, then run (tests/plugin_sdk.sh).
TESTS += tests/plugin_sdk.sh

# The staged install the test builds against is made before any test runs:
# libtool's install relinks the plugins and the library in place in the
# build tree, which a suite loading them at that moment would find
# half-written. The GPU bundle, which copies them, waits for it too.
check_DATA += tests/sdk-stage.stamp
tests/sdk-stage.stamp: $(lib_LTLIBRARIES) $(plugin_LTLIBRARIES) $(bin_PROGRAMS)
	@rm -rf tests/sdk-stage
	$(AM_V_GEN)$(MAKE) $(AM_MAKEFLAGS) install-exec install-data \
		DESTDIR="$(abs_top_builddir)/tests/sdk-stage" >tests/sdk-stage.log 2>&1 || \
		{ tail -n 30 tests/sdk-stage.log; exit 1; }
	@touch $@
gpu-bundle/run.sh: tests/sdk-stage.stamp
clean-local: clean-sdk-stage
clean-sdk-stage:
	rm -rf tests/sdk-stage tests/sdk-stage.stamp tests/sdk-stage.log
.PHONY: clean-sdk-stage
dist_check_SCRIPTS += tests/plugin_sdk.sh
EXTRA_DIST += examples/plugin-skeleton/Makefile examples/plugin-skeleton/README.md \
	examples/plugin-skeleton/skeleton.c examples/plugin-skeleton/skeleton-check.c \
	examples/plugin-skeleton/.gitignore \
	examples/apps/Makefile examples/apps/hello.c examples/apps/epoll.c examples/apps/.gitignore \
	examples/kernel/Makefile examples/kernel/scale.c examples/kernel/scale_kernel.h \
	examples/kernel/scale_register.c examples/kernel/scale.cu examples/kernel/scale.hip \
	examples/kernel/.gitignore

# The header tiers: each header alone under -std=c11, the umbrella without
# the SDK (tests/header_tiers.sh).
TESTS += tests/header_tiers.sh
dist_check_SCRIPTS += tests/header_tiers.sh

# The export map lists every symbol by name (tests/export_map.sh).
TESTS += tests/export_map.sh
dist_check_SCRIPTS += tests/export_map.sh
