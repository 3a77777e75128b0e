# rk-top: the named runtimes of this user, their kernels' rings, counters,
# rates, heartbeats and attached clients (top(1) for ringkernel). Installed
# as $(bindir)/rk-top.
bin_PROGRAMS += runtime/rk-top
runtime_rk_top_SOURCES = runtime/rk_top.c
runtime_rk_top_LDADD = runtime/libringkernel.la
