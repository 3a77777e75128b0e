# RK_CHECK_ICEORYX: the iceoryx peer of rk-bench's xproc scenario.
#
# Debian 12 ships iceoryx 2.0.3 without pkg-config files: the C binding's
# headers sit in a versioned directory (/usr/include/iceoryx/vX.Y.Z) and its
# library is libiceoryx_binding_c (packages iceoryx, for iox-roudi, and
# libiceoryx-binding-c-dev). The bench starts the RouDi daemon itself, so
# iox-roudi has to be found too; its path goes into config.h
# (RK_IOX_ROUDI). Appends to RK_PEER_CFLAGS / RK_PEER_LIBS (RK_CHECK_PEERS
# substitutes them) and defines HAVE_PEER_ICEORYX. --without-iceoryx turns
# it off, --with-iceoryx makes its absence an error.
AC_DEFUN([RK_CHECK_ICEORYX], [
AC_ARG_WITH([iceoryx], [AS_HELP_STRING([--without-iceoryx], [rk-bench: no iceoryx peer])],
  [], [with_iceoryx=check])
rk_have_iceoryx=no
AS_IF([test "x$with_iceoryx" != xno], [
  rk_iox_inc=""
  for d in /usr/include/iceoryx/v* /usr/local/include/iceoryx/v*; do
    AS_IF([test -f "$d/iceoryx_binding_c/runtime.h"], [rk_iox_inc=$d])
  done
  AC_PATH_PROG([RK_IOX_ROUDI], [iox-roudi], [], [$PATH:/usr/bin:/usr/local/bin])
  AS_IF([test -n "$rk_iox_inc" && test -n "$RK_IOX_ROUDI"], [
    rk_save_CFLAGS=$CFLAGS
    rk_save_LIBS=$LIBS
    CFLAGS="$CFLAGS -isystem $rk_iox_inc"
    LIBS="-liceoryx_binding_c $LIBS"
    AC_MSG_CHECKING([for the iceoryx C binding (libiceoryx_binding_c)])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/subscriber.h>]],
        [[iox_pub_options_t po;
          iox_pub_options_init(&po);
          iox_runtime_init("x");
          return 0;]])],
      [rk_have_iceoryx=yes], [])
    AC_MSG_RESULT([$rk_have_iceoryx])
    CFLAGS=$rk_save_CFLAGS
    LIBS=$rk_save_LIBS
  ])
  AS_IF([test "x$rk_have_iceoryx" = xyes], [
    RK_PEER_CFLAGS="$RK_PEER_CFLAGS -isystem $rk_iox_inc"
    RK_PEER_LIBS="$RK_PEER_LIBS -liceoryx_binding_c"
    AC_DEFINE([HAVE_PEER_ICEORYX], [1], [rk-bench measures iceoryx pub/sub between processes])
    AC_DEFINE_UNQUOTED([RK_IOX_ROUDI], ["$RK_IOX_ROUDI"], [the iceoryx RouDi daemon rk-bench starts])
  ], [AS_IF([test "x$with_iceoryx" = xyes],
    [AC_MSG_ERROR([--with-iceoryx: iceoryx C binding or iox-roudi not found (apt-get install iceoryx libiceoryx-binding-c-dev)])])])
])
AC_MSG_NOTICE([rk-bench peer iceoryx: $rk_have_iceoryx])
])
