/* SPDX-License-Identifier: MIT */
/*
 * The smallest application: a runtime on the best backend Auto finds, an
 * echo kernel, one call. Built out of tree against an installed
 * ringkernel-c (see Makefile).
 */
#include <stdio.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

int main(void)
{
	rk_runtime *rt;
	if (rk_runtime_new(RK_BACKEND_AUTO, &rt) < 0) {
		fprintf(stderr, "hello: %s\n", rk_last_error());
		return 1;
	}
	rk_kernel *k;
	if (rk_runtime_launch(rt, "echo", NULL, &k) < 0) {
		fprintf(stderr, "hello: launch: %s\n", rk_last_error());
		rk_runtime_shutdown(rt);
		return 1;
	}
	rk_message reply;
	int ret = rk_kernel_call(k, 1, "hello", 5, &reply, RK_FOREVER);
	if (ret == 0)
		printf("%s kernel %llu answered \"%.*s\"\n", rk_runtime_backend_name(rt),
		       (unsigned long long)rk_kernel_id(k), (int)reply.len,
		       (const char *)reply.payload);
	else
		fprintf(stderr, "hello: call: %s\n", rk_last_error());
	rk_runtime_shutdown(rt);
	return ret == 0 && reply.len == 5 && !memcmp(reply.payload, "hello", 5) ? 0 : 1;
}
