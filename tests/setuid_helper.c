/* SPDX-License-Identifier: MIT */
/*
 * tests/setuid_helper BACKEND PLUGIN_PATH: build a runtime on BACKEND
 * ("auto" or a plugin name) with PLUGIN_PATH as the builder's plugin path,
 * and print what happened on one line:
 *
 *   secure=S euid=E ret=R backend=NAME
 *
 * S is getauxval(AT_SECURE): 1 when the kernel ran it set-uid (the caller
 * checks, so a mount with nosuid or no_new_privs skips rather than passes).
 * test_backend_select copies this program, makes the copy set-uid root and
 * runs it as nobody with hostile RK_* variables.
 */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

int main(int argc, char **argv)
{
	rk_runtime *rt = NULL;
	if (argc != 3) {
		fprintf(stderr, "usage: %s BACKEND PLUGIN_PATH\n", argv[0]);
		return 2;
	}
	rk_runtime_builder *b = rk_runtime_builder_new();
	if (!b)
		return 1;
	if (strcmp(argv[1], "auto"))
		rk_runtime_builder_backend_name(b, argv[1]);
	rk_runtime_builder_plugin_path(b, argv[2]);
	int ret = rk_runtime_builder_build(b, &rt);
	printf("secure=%lu euid=%u ret=%d backend=%s\n", getauxval(AT_SECURE), (unsigned)geteuid(),
	       ret, rt ? rk_runtime_backend_name(rt) : "-");
	if (ret < 0)
		printf("error: %s\n", rk_last_error());
	fflush(stdout);
	if (rt)
		rk_runtime_shutdown(rt);
	return 0;
}
