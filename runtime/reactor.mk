# runtime/reactor: the completion engine (io_uring / futex waits, readiness fd).
runtime_libringkernel_la_SOURCES += runtime/reactor.c runtime/reactor.h
