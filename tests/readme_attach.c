/* Two processes: the owner publishes a runtime, another process attaches
 * to its echo kernel and calls it. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

static int client(const char *runtime)
{
	rk_kernel *k;
	if (rk_attach(runtime, "echo", &k) < 0) {
		fprintf(stderr, "attach: %s\n", rk_last_error());
		return 1;
	}
	rk_message reply;
	int ret = rk_kernel_call(k, 1, "hello", 5, &reply, RK_FOREVER);
	if (ret == 0)
		printf("process %d got \"%.*s\" from kernel %llu\n", (int)getpid(), (int)reply.len,
		       (const char *)reply.payload, (unsigned long long)rk_kernel_id(k));
	rk_detach(k);
	return ret == 0 && reply.len == 5 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2) /* the other process */
		return client(argv[1]);

	char name[32];
	snprintf(name, sizeof(name), "demo-%d", (int)getpid());
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend(b, RK_BACKEND_CPU);
	rk_runtime_builder_name(b, name); /* publish: /dev/shm/rk.demo-PID */
	rk_runtime *rt;
	if (rk_runtime_builder_build(b, &rt) < 0) {
		fprintf(stderr, "runtime: %s\n", rk_last_error());
		return 1;
	}
	rk_kernel *k;
	if (rk_runtime_launch(rt, "echo", NULL, &k) < 0) { /* published as "echo" */
		fprintf(stderr, "launch: %s\n", rk_last_error());
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], name, (char *)NULL);
		_exit(127);
	}
	int status = 1;
	waitpid(pid, &status, 0);
	rk_runtime_shutdown(rt);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
