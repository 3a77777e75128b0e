# bench/ unit tests (histogram) and rk-bench smoke runs.
#   test_histogram   log-linear histogram: bucket geometry, <= 1 % error,
#                    percentiles, merge
#   bench_smoke.sh   rk-bench --quick, one scenario at a time: exit status 0
#                    and the rows each scenario must print (no timings checked)
#   bench_csv.sh     --csv and --json: the fingerprint, empty/null where a
#                    field does not apply, the ZeroMQ blocking row's ref;
#                    rk-bench-plot at a 256-byte payload (skips without gnuplot)
#   bench_instr.sh   bench/instr.sh --parts: every row counted, the parts add
#                    up to each row, at most one clock read per message
#                    (skips without valgrind and in sanitized builds)
if HAVE_CRITERION
check_PROGRAMS += tests/test_histogram
TESTS += tests/test_histogram
endif
tests_test_histogram_SOURCES = tests/test_histogram.c tests/testutil.h \
	bench/histogram.c bench/histogram.h
tests_test_histogram_CFLAGS = $(TEST_CFLAGS)
tests_test_histogram_LDADD = $(TEST_LIBS)

dist_check_SCRIPTS += tests/bench_smoke.sh tests/bench_csv.sh tests/bench_instr.sh
TESTS += tests/bench_smoke.sh tests/bench_csv.sh tests/bench_instr.sh
