#!/bin/sh
# make check: a short, seeded libFuzzer run of tests/fuzz/fuzz_msg.c (run.sh).
exec "${srcdir:-.}/tests/fuzz/run.sh" --check msg
