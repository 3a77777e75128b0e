# libFuzzer targets (tests/fuzz/) for the bytes another process or a device
# controls: region headers, ring headers and indexes, message slots. Each
# is built by tests/fuzz/run.sh with clang (-fsanitize=fuzzer,address,
# undefined) straight from the shm/ sources.
#   check_*.sh     in make check: 20000 inputs each from the committed seed
#                  corpus, -seed=1; skipped (77, with the reason) without
#                  clang-14 and libclang-rt-14-dev
#   make fuzz      a longer run of each: FUZZ_RUNS inputs (default 10^6),
#                  FUZZ_ARGS for more libFuzzer options (-max_total_time=600,
#                  -jobs=2); what it finds stays in tests/fuzz/corpus-*/
FUZZ_CHECKS = tests/fuzz/check_region.sh tests/fuzz/check_ring.sh tests/fuzz/check_msg.sh
TESTS += $(FUZZ_CHECKS)
dist_check_SCRIPTS += $(FUZZ_CHECKS) tests/fuzz/run.sh
EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/fuzz_region.c tests/fuzz/fuzz_ring.c \
	tests/fuzz/fuzz_msg.c tests/fuzz/make_corpus.c tests/fuzz/corpus
CLEANFILES += tests/fuzz/fuzz_region tests/fuzz/fuzz_ring tests/fuzz/fuzz_msg \
	tests/fuzz/make_corpus

FUZZ_RUNS = 1000000
FUZZ_ARGS =
FUZZ_TARGETS = region ring msg
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  srcdir='$(srcdir)' '$(srcdir)/tests/fuzz/run.sh' $$t -runs=$(FUZZ_RUNS) $(FUZZ_ARGS) || exit 1; \
	done
.PHONY: fuzz
