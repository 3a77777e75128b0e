# RK_CHECK_PEERS: optional libraries rk-bench measures side by side.
#
# Each peer is compiled into rk-bench only when found here; the table says
# "absent" otherwise. --without-PEER turns one off.
#   dpdk  rte_ring on caller memory: needs only librte_ring + librte_eal
#         (no EAL initialization), headers from Debian's dpdk-dev
#   ck    Concurrency Kit ck_ring (libck-dev), header-only use
#   zmq   ZeroMQ inproc PAIR (libzmq3-dev)
# Sets RK_PEER_CFLAGS / RK_PEER_LIBS, HAVE_PEER_* (config.h and
# AM_CONDITIONALs).
AC_DEFUN([RK_CHECK_PEERS], [
RK_PEER_CFLAGS=""
RK_PEER_LIBS=""

AC_ARG_WITH([dpdk], [AS_HELP_STRING([--without-dpdk], [rk-bench: no rte_ring peer])],
  [], [with_dpdk=check])
AC_ARG_WITH([ck], [AS_HELP_STRING([--without-ck], [rk-bench: no ck_ring peer])],
  [], [with_ck=check])
AC_ARG_WITH([zmq], [AS_HELP_STRING([--without-zmq], [rk-bench: no ZeroMQ peer])],
  [], [with_zmq=check])

dnl ---- DPDK rte_ring: only the ring's headers and libraries, not libdpdk's
dnl whole flag set (pkg-config libdpdk pulls in every driver).
rk_have_dpdk=no
AS_IF([test "x$with_dpdk" != xno], [
  rk_dpdk_inc=""
  for d in /usr/include/dpdk /usr/local/include/dpdk; do
    AS_IF([test -f "$d/rte_ring.h"], [rk_dpdk_inc=$d; break])
  done
  AS_IF([test -n "$rk_dpdk_inc"], [
    rk_dpdk_cflags="-I$rk_dpdk_inc"
    rk_dpdk_arch=`$CC -dumpmachine 2>/dev/null`
    AS_IF([test -n "$rk_dpdk_arch" && test -d "/usr/include/$rk_dpdk_arch/dpdk"],
      [rk_dpdk_cflags="$rk_dpdk_cflags -I/usr/include/$rk_dpdk_arch/dpdk"])
    rk_dpdk_cflags="$rk_dpdk_cflags -include rte_config.h -msse4.2"
    rk_save_CFLAGS=$CFLAGS
    rk_save_LIBS=$LIBS
    CFLAGS="$CFLAGS $rk_dpdk_cflags"
    LIBS="-lrte_ring -lrte_eal $LIBS"
    AC_MSG_CHECKING([for DPDK rte_ring (librte_ring, librte_eal)])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <rte_ring.h>
#include <rte_ring_elem.h>]],
        [[static char mem[65536] __attribute__((aligned(128)));
          struct rte_ring *r = (struct rte_ring *)mem;
          unsigned v[16] = {0};
          if (rte_ring_init(r, "x", 64, RING_F_SP_ENQ | RING_F_SC_DEQ)) return 1;
          return (int)rte_ring_enqueue_burst_elem(r, v, 64, 1, 0);]])],
      [rk_have_dpdk=yes], [])
    AC_MSG_RESULT([$rk_have_dpdk])
    CFLAGS=$rk_save_CFLAGS
    LIBS=$rk_save_LIBS
  ])
  AS_IF([test "x$rk_have_dpdk" = xyes], [
    RK_PEER_CFLAGS="$RK_PEER_CFLAGS $rk_dpdk_cflags"
    RK_PEER_LIBS="$RK_PEER_LIBS -lrte_ring -lrte_eal"
    AC_DEFINE([HAVE_PEER_DPDK], [1], [rk-bench measures DPDK rte_ring])
  ], [AS_IF([test "x$with_dpdk" = xyes], [AC_MSG_ERROR([--with-dpdk: DPDK rte_ring not found (apt-get install dpdk-dev)])])])
])
AM_CONDITIONAL([HAVE_PEER_DPDK], [test "x$rk_have_dpdk" = xyes])

dnl ---- Concurrency Kit: ck_ring is header-only; libck is linked for the rest.
rk_have_ck=no
AS_IF([test "x$with_ck" != xno], [
  AC_CHECK_HEADER([ck_ring.h], [rk_have_ck=yes], [])
  AS_IF([test "x$rk_have_ck" = xyes], [
    AC_DEFINE([HAVE_PEER_CK], [1], [rk-bench measures Concurrency Kit ck_ring])
  ], [AS_IF([test "x$with_ck" = xyes], [AC_MSG_ERROR([--with-ck: ck_ring.h not found (apt-get install libck-dev)])])])
])
AM_CONDITIONAL([HAVE_PEER_CK], [test "x$rk_have_ck" = xyes])

dnl ---- ZeroMQ
rk_have_zmq=no
AS_IF([test "x$with_zmq" != xno], [
  PKG_CHECK_MODULES([ZMQ], [libzmq >= 4.0], [rk_have_zmq=yes], [rk_have_zmq=no])
  AS_IF([test "x$rk_have_zmq" = xyes], [
    RK_PEER_CFLAGS="$RK_PEER_CFLAGS $ZMQ_CFLAGS"
    RK_PEER_LIBS="$RK_PEER_LIBS $ZMQ_LIBS"
    AC_DEFINE([HAVE_PEER_ZMQ], [1], [rk-bench measures ZeroMQ inproc PAIR])
  ], [AS_IF([test "x$with_zmq" = xyes], [AC_MSG_ERROR([--with-zmq: libzmq not found (apt-get install libzmq3-dev)])])])
])
AM_CONDITIONAL([HAVE_PEER_ZMQ], [test "x$rk_have_zmq" = xyes])

AC_SUBST([RK_PEER_CFLAGS])
AC_SUBST([RK_PEER_LIBS])
AC_MSG_NOTICE([rk-bench peers: rte_ring $rk_have_dpdk, ck_ring $rk_have_ck, zmq $rk_have_zmq])
])
