# The soak (tests/soak.c): SOAK_N messages (default 10^8) through an echo
# kernel, pipelined and closed-loop, every one accounted for.
#   make soak      outside CI: the CPU backend, then OpenCL (skipped where
#                  it is not usable); SOAK_N=... SOAK_CALLS=... override
#   soak-check     in make check: the same program, 20000 messages, CPU
#   soak-selftest  in make check: against a kernel that drops, duplicates,
#                  corrupts and reorders on purpose: the counts must be
#                  exactly those faults
EXTRA_PROGRAMS = tests/soak
check_PROGRAMS += tests/soak-check tests/soak-selftest
TESTS += tests/soak-check tests/soak-selftest
tests_soak_SOURCES = tests/soak.c
tests_soak_LDADD = runtime/libringkernel.la
tests_soak_check_SOURCES = tests/soak.c
tests_soak_check_CPPFLAGS = $(AM_CPPFLAGS) -DSOAK_DEFAULT_N=20000
tests_soak_check_LDADD = runtime/libringkernel.la
tests_soak_selftest_SOURCES = tests/soak.c
tests_soak_selftest_CPPFLAGS = $(AM_CPPFLAGS) -DSOAK_DEFAULT_N=20000 -DSOAK_SELF_TEST
tests_soak_selftest_LDADD = runtime/libringkernel.la
CLEANFILES += tests/soak

SOAK_BACKENDS = cpu opencl
soak: tests/soak all
	@status=0; for be in $(SOAK_BACKENDS); do \
	  RK_BACKEND=$$be RK_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs-all' \
	    ./tests/soak; rc=$$?; \
	  case $$rc in 0|77) ;; *) status=1 ;; esac; \
	done; exit $$status
.PHONY: soak
