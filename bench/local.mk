# bench/: benchmark programs.
noinst_PROGRAMS += bench/ring-bench
bench_ring_bench_SOURCES = bench/ring_bench.c
bench_ring_bench_LDADD = shm/librkshm.la

# rk-bench: the harness, with peers compiled in when configure found them.
bin_PROGRAMS += bench/rk-bench
bench_rk_bench_SOURCES = bench/rk_bench.c bench/scenarios.c bench/floors.c bench/peers.c \
	bench/histogram.c bench/histogram.h bench/bench.h bench/ring_harness.h
bench_rk_bench_CFLAGS = $(AM_CFLAGS) $(RK_PEER_CFLAGS)
bench_rk_bench_LDADD = runtime/libringkernel.la $(RK_PEER_LIBS)
EXTRA_DIST += bench/plot
