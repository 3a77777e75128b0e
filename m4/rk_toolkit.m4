# RK_CHECK_TOOLKIT(name, NAME, compiler, default-prefix)
# --with-name=guess|yes|no|DIR, UCX-style: `guess` notes a missing toolkit and
# builds without its plugin, `yes` or a DIR fails configure when it is absent.
AC_DEFUN([RK_CHECK_TOOLKIT], [
  AC_ARG_WITH([$1],
    [AS_HELP_STRING([--with-$1=guess|yes|no|DIR],
      [build the $2 plugin with $3 (default: guess)])],
    [], [with_$1=guess])
  rk_have_$1=no
  AS_CASE([$with_$1],
    [no], [],
    [guess|yes], [AC_PATH_PROG([$2CC_PATH], [$3], [], [$PATH:$4/bin])],
    [AC_PATH_PROG([$2CC_PATH], [$3], [], [$with_$1/bin])])
  AS_IF([test "x$with_$1" != xno], [
    AS_IF([test -n "$$2CC_PATH"],
      [rk_have_$1=yes],
      [AS_IF([test "x$with_$1" = xguess],
        [AC_MSG_NOTICE([$3 not found: the $2 plugin will not be built])],
        [AC_MSG_ERROR([--with-$1=$with_$1 given but $3 was not found])])])])
  AC_SUBST([$2CC], [$$2CC_PATH])
  AM_CONDITIONAL([HAVE_$2], [test "x$rk_have_$1" = xyes])
])

# RK_CHECK_OPENCL: --with-opencl=guess|yes|no needs only the headers; the
# plugin dlopens libOpenCL.so.1 at probe time.
AC_DEFUN([RK_CHECK_OPENCL], [
  AC_ARG_WITH([opencl],
    [AS_HELP_STRING([--with-opencl=guess|yes|no],
      [build the OpenCL plugin (default: guess)])],
    [], [with_opencl=guess])
  rk_have_opencl=no
  AS_IF([test "x$with_opencl" != xno], [
    AC_CHECK_HEADER([CL/cl.h], [rk_have_opencl=yes])
    AS_IF([test "x$rk_have_opencl" = xno && test "x$with_opencl" = xyes],
      [AC_MSG_ERROR([--with-opencl=yes given but CL/cl.h was not found (apt-get install opencl-c-headers)])])
    AS_IF([test "x$rk_have_opencl" = xno],
      [AC_MSG_NOTICE([CL/cl.h not found: the OpenCL plugin will not be built])])])
  AM_CONDITIONAL([HAVE_OPENCL], [test "x$rk_have_opencl" = xyes])
])

# AX_PTHREAD_LITE: -pthread is all gcc and clang need on Linux.
AC_DEFUN([AX_PTHREAD_LITE], [
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])

# RK_CHECK_CUDA_VERSION: the version of the nvcc found, as the CUDA
# driver API numbers it (13.0 -> 13000), substituted as
# RK_CUDA_TOOLKIT_VERSION. The CUDA plugin's image needs a driver of that
# major version (its PTX a driver at least that new): the probe compares
# cuDriverGetVersion with it. 0 without nvcc.
AC_DEFUN([RK_CHECK_CUDA_VERSION], [
  RK_CUDA_TOOLKIT_VERSION=0
  AS_IF([test "x$rk_have_cuda" = xyes], [
    AC_MSG_CHECKING([the CUDA toolkit version of $CUDACC])
    rk_nvcc_release=`"$CUDACC" --version 2>/dev/null | sed -n 's/.*release \([[0-9]][[0-9]]*\)\.\([[0-9]][[0-9]]*\).*/\1 \2/p' | head -n 1`
    AS_IF([test -n "$rk_nvcc_release"], [
      set dummy $rk_nvcc_release
      RK_CUDA_TOOLKIT_VERSION=`expr $[]2 \* 1000 + $[]3 \* 10`
      AC_MSG_RESULT([$[]2.$[]3 (driver API $RK_CUDA_TOOLKIT_VERSION)])
    ], [
      AC_MSG_RESULT([unknown])
      AC_MSG_ERROR([cannot read the release from $CUDACC --version: the CUDA plugin's minimum driver follows from it])
    ])
  ])
  AC_SUBST([RK_CUDA_TOOLKIT_VERSION])
])

# RK_CHECK_UCX: --with-ucx=guess|yes|no|DIR builds rk-transport-ucx.so, the
# UCP active-message transport of rk_runtime_listen() and friends. DIR is a
# UCX install prefix (DIR/include, DIR/lib); otherwise pkg-config ucx.
# libringkernel never links UCX: the transport is a plugin.
AC_DEFUN([RK_CHECK_UCX], [
  AC_ARG_WITH([ucx],
    [AS_HELP_STRING([--with-ucx=guess|yes|no|DIR],
      [build the UCX transport plugin (default: guess)])],
    [], [with_ucx=guess])
  rk_have_ucx=no
  UCX_CFLAGS= UCX_LIBS=
  AS_CASE([$with_ucx],
    [no], [],
    [guess|yes], [PKG_CHECK_MODULES([UCX], [ucx >= 1.12], [rk_have_ucx=yes], [rk_have_ucx=no])],
    [UCX_CFLAGS="-I$with_ucx/include"
     UCX_LIBS="-L$with_ucx/lib -Wl,-rpath,$with_ucx/lib -lucp -lucs"
     rk_save_CPPFLAGS=$CPPFLAGS
     CPPFLAGS="$CPPFLAGS $UCX_CFLAGS"
     AC_CHECK_HEADER([ucp/api/ucp.h], [rk_have_ucx=yes])
     CPPFLAGS=$rk_save_CPPFLAGS])
  AS_IF([test "x$rk_have_ucx" = xyes], [
    rk_save_CPPFLAGS=$CPPFLAGS
    CPPFLAGS="$CPPFLAGS $UCX_CFLAGS"
    AC_CHECK_DECL([ucp_am_send_nbx], [], [rk_have_ucx=no], [[#include <ucp/api/ucp.h>]])
    CPPFLAGS=$rk_save_CPPFLAGS])
  AS_IF([test "x$rk_have_ucx" = xno && test "x$with_ucx" != xno && test "x$with_ucx" != xguess],
    [AC_MSG_ERROR([--with-ucx=$with_ucx given but UCX >= 1.12 with ucp_am_send_nbx was not found (apt-get install libucx-dev)])])
  AS_IF([test "x$rk_have_ucx" = xno && test "x$with_ucx" = xguess],
    [AC_MSG_NOTICE([UCX not found: the UCX transport will not be built])])
  AC_SUBST([UCX_CFLAGS])
  AC_SUBST([UCX_LIBS])
  AM_CONDITIONAL([HAVE_UCX], [test "x$rk_have_ucx" = xyes])
])
