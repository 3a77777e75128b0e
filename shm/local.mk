# shm/: regions, rings, message slots. No runtime dependencies.
noinst_LTLIBRARIES += shm/librkshm.la
shm_librkshm_la_SOURCES = shm/error.c shm/msg.c shm/msg_codec.h shm/region.c shm/ring.c shm/sys.h
shm_librkshm_la_LIBADD = -lrt
