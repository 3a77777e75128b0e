# Plugin loader suites and test-only plugins.
#
# Each test-only plugin breaks one rule of the plugin ABI (or, for fast and
# slow, keeps every rule at a chosen priority). They are built as the real
# plugins are - libtool modules exporting only rk_plugin_entry - but under
# their own names: a test copies one into a fresh directory as
# rk-plugin-NAME.so, so no test depends on what else is on the path.
# Every plugin #includes tests/plugins/stub_ops.c for its stub ops.
EXTRA_DIST += tests/plugins/stub_ops.c
RKT_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^rk_plugin_entry$$'
if HAVE_CRITERION
check_LTLIBRARIES += tests/plugins/abi_major.la tests/plugins/misnamed.la \
	tests/plugins/no_entry.la tests/plugins/null_entry.la tests/plugins/short_struct.la \
	tests/plugins/short_ops.la tests/plugins/missing_op.la tests/plugins/probe_fails.la \
	tests/plugins/fast.la tests/plugins/slow.la tests/plugins/probe_crash.la \
	tests/plugins/probe_exit.la tests/plugins/probe_hang.la tests/plugins/open_fails.la \
	tests/plugins/ctor_marker.la tests/plugins/old_layout.la tests/plugins/old_abi.la
check_PROGRAMS += tests/test_plugins tests/test_backend_select tests/setuid_helper
TESTS += tests/test_plugins tests/test_backend_select
endif

tests_plugins_abi_major_la_SOURCES = tests/plugins/abi_major.c
tests_plugins_abi_major_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_misnamed_la_SOURCES = tests/plugins/misnamed.c
tests_plugins_misnamed_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_no_entry_la_SOURCES = tests/plugins/no_entry.c
# It exports its misspelt entry instead (an empty export list is not a
# valid version script).
tests_plugins_no_entry_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^rk_plugin_entry_v1$$'
tests_plugins_null_entry_la_SOURCES = tests/plugins/null_entry.c
tests_plugins_null_entry_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_old_layout_la_SOURCES = tests/plugins/old_layout.c
tests_plugins_old_layout_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_old_abi_la_SOURCES = tests/plugins/old_layout.c
tests_plugins_old_abi_la_CPPFLAGS = $(AM_CPPFLAGS) -DRK_OLD_ABI
tests_plugins_old_abi_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_short_struct_la_SOURCES = tests/plugins/short_struct.c
tests_plugins_short_struct_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_short_ops_la_SOURCES = tests/plugins/short_ops.c
tests_plugins_short_ops_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_missing_op_la_SOURCES = tests/plugins/missing_op.c
tests_plugins_missing_op_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_probe_fails_la_SOURCES = tests/plugins/probe_fails.c
tests_plugins_probe_fails_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_fast_la_SOURCES = tests/plugins/fast.c
tests_plugins_fast_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_slow_la_SOURCES = tests/plugins/slow.c
tests_plugins_slow_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_probe_crash_la_SOURCES = tests/plugins/probe_crash.c
tests_plugins_probe_crash_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_probe_exit_la_SOURCES = tests/plugins/probe_exit.c
tests_plugins_probe_exit_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_probe_hang_la_SOURCES = tests/plugins/probe_hang.c
tests_plugins_probe_hang_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_open_fails_la_SOURCES = tests/plugins/open_fails.c
tests_plugins_open_fails_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)
tests_plugins_ctor_marker_la_SOURCES = tests/plugins/ctor_marker.c
tests_plugins_ctor_marker_la_LDFLAGS = $(AM_LDFLAGS) $(RKT_PLUGIN_LDFLAGS)

# The loader's rki_* functions are hidden in libringkernel.so, so the suite
# links the loader itself. The plugins and rk-info are found through the
# build tree's absolute paths.
tests_test_plugins_SOURCES = tests/test_plugins.c tests/testutil.h \
	runtime/plugin_loader.c runtime/plugin_loader.h runtime/log.c runtime/log.h
tests_test_plugins_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/runtime \
	-DRKT_PLUGIN_BUILD_DIR='"$(abs_top_builddir)/tests/plugins/.libs"' \
	-DRKT_RK_INFO='"$(abs_top_builddir)/runtime/rk-info"'
tests_test_plugins_CFLAGS = $(TEST_CFLAGS)
tests_test_plugins_LDADD = shm/librkshm.la $(TEST_LIBS)

# What the runtime builder loads: an explicit backend opens only its own
# plugin file, Auto goes past a plugin whose open fails, and a set-uid
# program ignores the variables that name code. setuid_helper is the
# program the set-uid test copies and makes set-uid root: -no-install, so
# it is the ELF itself (no libtool wrapper, which a set-uid exec could not
# use) and finds libringkernel through its absolute run path.
tests_test_backend_select_SOURCES = tests/test_backend_select.c tests/testutil.h
tests_test_backend_select_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRKT_PLUGIN_BUILD_DIR='"$(abs_top_builddir)/tests/plugins/.libs"' \
	-DRKT_PLUGINS_ALL='"$(abs_top_builddir)/plugins/.libs-all"' \
	-DRKT_SETUID_HELPER='"$(abs_top_builddir)/tests/setuid_helper"'
tests_test_backend_select_CFLAGS = $(TEST_CFLAGS)
tests_test_backend_select_LDADD = runtime/libringkernel.la $(TEST_LIBS)
tests_setuid_helper_SOURCES = tests/setuid_helper.c
tests_setuid_helper_LDFLAGS = $(AM_LDFLAGS) -no-install
tests_setuid_helper_LDADD = runtime/libringkernel.la
