/* SPDX-License-Identifier: MIT */
/*
 * An application with its own event loop: the runtime's fd (an eventfd,
 * rk_runtime_fd) in epoll beside the program's other descriptors. Readable
 * means some kernel has output; drain with try_receive until -EAGAIN, which
 * re-arms it. 1000 numbered requests, their replies taken only when epoll
 * says so, each checked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <ringkernel/ringkernel.h>

#define N 1000u

int main(void)
{
	rk_runtime *rt;
	rk_kernel *k;
	if (rk_runtime_new(RK_BACKEND_CPU, &rt) < 0 ||
	    rk_runtime_launch(rt, "echo", NULL, &k) < 0) {
		fprintf(stderr, "epoll: %s\n", rk_last_error());
		return 1;
	}
	int fd = rk_runtime_fd(rt), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fprintf(stderr, "epoll: no readiness fd: %s\n", rk_last_error());
		return 1;
	}
	uint32_t sent = 0, got = 0;
	int bad = 0;
	while (got < N && !bad) {
		/* Keep up to 64 in flight; the loop sleeps in epoll_wait only. */
		while (sent < N && sent - got < 64 &&
		       rk_kernel_try_send(k, 7, &sent, sizeof(sent)) == 0)
			sent++;
		if (epoll_wait(ep, &ev, 1, 10000) != 1) {
			fprintf(stderr, "epoll: no readiness in 10 s (%u of %u back)\n", got, N);
			bad = 1;
			break;
		}
		rk_message m;
		int ret;
		while ((ret = rk_kernel_try_receive(k, &m)) == 0) {
			uint32_t seq;
			memcpy(&seq, m.payload, sizeof(seq));
			if (m.len != sizeof(seq) || seq != got) {
				fprintf(stderr, "epoll: reply %u carries %u\n", got, seq);
				bad = 1;
				break;
			}
			got++;
		}
		if (ret != -EAGAIN && !bad) {
			fprintf(stderr, "epoll: receive: %s\n", rk_last_error());
			bad = 1;
		}
	}
	if (!bad)
		printf("epoll: %u replies, in order, each after epoll said so\n", got);
	rk_runtime_shutdown(rt);
	return bad;
}
