# bench/: benchmark programs.
noinst_PROGRAMS += bench/ring-bench
bench_ring_bench_SOURCES = bench/ring_bench.c
bench_ring_bench_LDADD = shm/librkshm.la
