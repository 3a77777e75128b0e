# bench/: benchmark programs.
noinst_PROGRAMS += bench/ring-bench
bench_ring_bench_SOURCES = bench/ring_bench.c
bench_ring_bench_LDADD = shm/librkshm.la

# rk-bench: the harness, with peers compiled in when configure found them.
bin_PROGRAMS += bench/rk-bench
bench_rk_bench_SOURCES = bench/rk_bench.c bench/scenarios.c bench/floors.c bench/peers.c \
	bench/xproc.c bench/iceoryx.c bench/remote.c bench/histogram.c bench/histogram.h \
	bench/bench.h bench/ring_harness.h bench/ideal.h
bench_rk_bench_CFLAGS = $(AM_CFLAGS) $(RK_PEER_CFLAGS)
bench_rk_bench_LDADD = runtime/libringkernel.la $(RK_PEER_LIBS)
# The remote scenario's UCX floor: UCX's headers at build time; libucp is
# dlopen'd when the scenario runs, so rk-bench does not need UCX to start.
EXTRA_DIST += bench/ucx_floor.c bench/ucx_floor.h
if HAVE_UCX
bench_rk_bench_SOURCES += bench/ucx_floor.c bench/ucx_floor.h
bench_rk_bench_CFLAGS += $(UCX_CFLAGS) -DRK_BENCH_UCX=1
bench_rk_bench_LDADD += -ldl
endif
EXTRA_DIST += bench/plot bench/iceoryx.m4

# rk-bench-plot: bench/plot installed, and built beside rk-bench in the
# build tree (bench/rk-bench-plot) so it runs from there too.
bin_SCRIPTS = bench/rk-bench-plot
CLEANFILES += bench/rk-bench-plot
bench/rk-bench-plot: bench/plot
	$(AM_V_GEN)$(MKDIR_P) bench && cp $(srcdir)/bench/plot $@ && chmod +x $@

# The instruction counts (bench/instr.sh): rk-instr drives send, one loop
# turn and receive on one thread through the inline bench backend.
# make instr INSTR_FLAGS=--parts: each function's share under each row.
noinst_PROGRAMS += bench/rk-instr
bench_rk_instr_SOURCES = bench/rk_instr.c bench/ideal.h
bench_rk_instr_LDADD = runtime/libringkernel.la -ldl
noinst_LTLIBRARIES += bench/rk-plugin-inline.la
bench_rk_plugin_inline_la_SOURCES = bench/inline_plugin.c
bench_rk_plugin_inline_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^rk_plugin_entry$$'
EXTRA_DIST += bench/instr.sh
instr: bench/rk-instr bench/rk-plugin-inline.la
	$(SHELL) $(srcdir)/bench/instr.sh $(INSTR_FLAGS) $(INSTR_N)
.PHONY: instr
