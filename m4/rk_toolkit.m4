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
