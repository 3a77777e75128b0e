/* A runtime serves its kernels on the network; a client attaches over UCX
 * (here the same process, through 127.0.0.1) and calls one. */
#include <stdio.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

int main(void)
{
	char name[32], addr[128];
	snprintf(name, sizeof(name), "svc-%d", (int)getpid());
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend(b, RK_BACKEND_CPU);
	rk_runtime_builder_name(b, name); /* remote peers name the runtime */
	rk_runtime *rt;
	rk_kernel *echo, *k;
	if (rk_runtime_builder_build(b, &rt) < 0 || rk_runtime_launch(rt, "echo", NULL, &echo) < 0)
		return 1;
	if (rk_runtime_listen(rt, "127.0.0.1:0") < 0) { /* port 0: any free one */
		fprintf(stderr, "listen: %s\n", rk_last_error());
		rk_runtime_shutdown(rt);
		return 77; /* built without the UCX transport */
	}
	rk_runtime_listen_address(rt, addr, sizeof(addr)); /* "127.0.0.1:PORT" */

	/* On any host that reaches addr: */
	if (rk_attach_remote(addr, name, "echo", &k) < 0) {
		fprintf(stderr, "attach: %s\n", rk_last_error());
		return 1;
	}
	rk_message reply;
	int ret = rk_kernel_call(k, 1, "over the wire", 13, &reply, RK_FOREVER);
	if (ret == 0)
		printf("%s answered \"%.*s\"\n", addr, (int)reply.len, (const char *)reply.payload);
	rk_detach(k);
	rk_runtime_shutdown(rt);
	return ret == 0 && reply.len == 13 ? 0 : 1;
}
