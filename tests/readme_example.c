#include <assert.h>
#include <stdio.h>

#include <ringkernel/ringkernel.h>

int main(void)
{
	rk_runtime *runtime;
	rk_kernel *kernel;
	rk_message reply;
	int ret;

	/* Create a runtime on the CPU backend */
	ret = rk_runtime_new(RK_BACKEND_CPU, &runtime);
	if (ret < 0) {
		fprintf(stderr, "runtime: %s: %s\n", rk_strerror(ret), rk_last_error());
		return 1;
	}

	/* Launch a kernel with custom options */
	rk_launch_options options = rk_launch_options_single_block(256);
	rk_launch_options_with_queue_capacity(&options, 2048);
	rk_launch_options_with_k2k(&options, true); /* kernel-to-kernel messaging */
	ret = rk_runtime_launch(runtime, "echo", &options, &kernel);
	if (ret < 0) {
		fprintf(stderr, "launch: %s: %s\n", rk_strerror(ret), rk_last_error());
		return 1;
	}
	assert(rk_kernel_is_active(kernel)); /* auto-activated */

	/* Send a message, wait up to one second for the reply */
	ret = rk_kernel_send(kernel, 1, "hello", 5, RK_FOREVER);
	assert(ret == 0);
	ret = rk_kernel_receive(kernel, &reply, 1000000000ull);
	assert(ret == 0 && reply.len == 5);
	printf("kernel %llu replied: %.*s\n", (unsigned long long)rk_kernel_id(kernel),
	       (int)reply.len, (const char *)reply.payload);

	rk_kernel_terminate(kernel);
	return rk_runtime_shutdown(runtime) == 0 ? 0 : 1;
}
