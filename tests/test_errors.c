/* SPDX-License-Identifier: MIT */
/* Bad input: a clear negative errno, a message, and nothing changed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <ringkernel/device.h>
#include <ringkernel/plugin.h>

#include "rt_common.h"

Test(errors, unknown_kernel_is_enoent)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = (rk_kernel *)0x1;
	cr_assert_eq(rk_runtime_launch(rt, "no_such_kernel", NULL, &k), -ENOENT);
	cr_assert_eq(k, (rk_kernel *)0x1, "out pointer written on failure");
	cr_assert(strstr(rk_last_error(), "no_such_kernel"));
	rk_runtime_metrics m;
	rk_runtime_metrics(rt, &m);
	cr_assert_eq(m.total_launched, 0);
	rk_runtime_shutdown(rt);
}

Test(errors, null_and_out_of_range_arguments)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k;
	rk_message m;
	cr_assert_eq(rk_runtime_launch(NULL, "echo", NULL, &k), -EINVAL);
	cr_assert_eq(rk_runtime_launch(rt, NULL, NULL, &k), -EINVAL);
	cr_assert_eq(rk_runtime_launch(rt, "echo", NULL, NULL), -EINVAL);
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 0);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), -EINVAL);
	o = rk_launch_options_default();
	rk_launch_options_with_input_capacity(&o, 1u << 30);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), -EINVAL);
	o = rk_launch_options_default();
	rk_launch_options_with_max_payload(&o, RK_MAX_PAYLOAD + 1);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), -EINVAL);
	o = rk_launch_options_single_block(0);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), -EINVAL);
	o = rk_launch_options_multi_block(0, 64);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), -EINVAL);
	cr_assert_neq(strlen(rk_last_error()), 0);

	k = launch(rt, "echo", NULL);
	cr_assert_eq(rk_kernel_send(NULL, 1, "x", 1, 0), -EINVAL);
	cr_assert_eq(rk_kernel_send(k, 1, NULL, 4, 0), -EINVAL);
	cr_assert_eq(rk_kernel_receive(k, NULL, 0), -EINVAL);
	cr_assert_eq(rk_kernel_receive(NULL, &m, 0), -EINVAL);
	cr_assert_eq(rk_kernel_call(k, 1, "x", 1, NULL, SEC), -EINVAL);
	cr_assert_eq(rk_kernel_status(NULL, NULL), -EINVAL);
	cr_assert_eq(rk_runtime_metrics(NULL, NULL), -EINVAL);
	cr_assert_eq(rk_kernel_activate(NULL), -EINVAL);
	unsigned n;
	cr_assert_eq(rk_kernel_receive_burst(k, &m, 0, &n, 0), -EINVAL);
	cr_assert_eq(rk_kernel_send_burst(k, NULL, 1, &n), -EINVAL);
	/* Nothing was queued by the failed calls. */
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	cr_assert_eq(st.input_depth, 0);
	cr_assert_eq(st.messages_sent, 0);
	rk_runtime_shutdown(rt);
}

Test(errors, oversize_payload_is_emsgsize)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_max_payload(&o, 100);
	rk_kernel *k = launch(rt, "echo", &o);
	static uint8_t big[RK_MAX_PAYLOAD + 1];
	rk_message m;
	cr_assert_eq(rk_kernel_send(k, 1, big, 101, SEC), -EMSGSIZE);
	cr_assert_eq(rk_kernel_try_send(k, 1, big, RK_MAX_PAYLOAD + 1), -EMSGSIZE);
	cr_assert_eq(rk_kernel_call(k, 1, big, 4000, &m, SEC), -EMSGSIZE);
	cr_assert_eq(rk_kernel_send(k, 1, big, 100, SEC), 0, "the largest payload must fit");
	cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0);
	cr_assert_eq(m.len, 100);
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	cr_assert_eq(st.messages_sent, 1);
	rk_runtime_shutdown(rt);
}

Test(errors, timeouts_are_etimedout)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "sink", NULL);
	rk_message m;
	cr_assert_eq(rk_kernel_receive(k, &m, 30000000), -ETIMEDOUT);
	cr_assert_eq(rk_kernel_call(k, 1, "x", 1, &m, 30000000), -ETIMEDOUT);
	cr_assert_eq(rk_kernel_try_receive(k, &m), -EAGAIN);
	/* A full input queue: deactivated, 2 slots. */
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 2);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *q = launch(rt, "echo", &o);
	cr_assert_eq(rk_kernel_send(q, 1, "a", 1, 0), 0);
	cr_assert_eq(rk_kernel_send(q, 1, "b", 1, 0), 0);
	cr_assert_eq(rk_kernel_try_send(q, 1, "c", 1), -EAGAIN);
	cr_assert_eq(rk_kernel_send(q, 1, "c", 1, 30000000), -ETIMEDOUT);
	rk_kernel_status st;
	rk_kernel_status(q, &st);
	cr_assert_eq(st.input_depth, 2);
	rk_runtime_shutdown(rt);
}

Test(errors, capacities_round_up_to_power_of_two)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 3);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *k = launch(rt, "echo", &o);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(rk_kernel_try_send(k, 1, &i, 4), 0, "slot %d", i);
	cr_assert_eq(rk_kernel_try_send(k, 1, "x", 1), -EAGAIN);
	rk_runtime_shutdown(rt);
}

Test(errors, bad_backend_choices)
{
	rk_runtime *rt = NULL;
	setenv("RK_BACKEND", "Bad Name!", 1);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), -EINVAL);
	cr_assert(strstr(rk_last_error(), "RK_BACKEND"));
	setenv("RK_BACKEND", "nosuchbackend", 1);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), -ENOENT);
	unsetenv("RK_BACKEND");
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_device(b, -1);
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -EINVAL);
	b = rk_runtime_builder_new();
	rk_runtime_builder_backend(b, (rk_backend)42);
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -EINVAL);
	cr_assert_null(rt);
	/* The CPU backend has one device. */
	b = rk_runtime_builder_new();
	rk_runtime_builder_backend(b, RK_BACKEND_CPU);
	rk_runtime_builder_device(b, 3);
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -ENODEV);
	cr_assert(strstr(rk_last_error(), "device"), "%s", rk_last_error());
}

Test(errors, auto_picks_highest_usable_and_rk_backend_overrides)
{
	rk_runtime *rt = NULL;
	char want[64];
	int prio = 0;
	cr_assert_eq(rk_plugins_auto_pick(NULL, 0, want, sizeof(want), &prio), 0);
	cr_assert_geq(prio, RK_PRIORITY_CPU);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), want);
	rk_runtime_shutdown(rt);
	setenv("RK_BACKEND", "cpu", 1);
	cr_assert_eq(rk_runtime_new(RK_BACKEND_CUDA, &rt), 0, "RK_BACKEND must override");
	cr_assert_str_eq(rk_runtime_backend_name(rt), "cpu");
	rk_runtime_shutdown(rt);
	unsetenv("RK_BACKEND");
}

Test(errors, strerror_names_every_contract_errno)
{
	cr_assert(strstr(rk_strerror(-ETIMEDOUT), "ETIMEDOUT"));
	cr_assert(strstr(rk_strerror(-EAGAIN), "EAGAIN"));
	cr_assert(strstr(rk_strerror(-EINVAL), "EINVAL"));
	cr_assert(strstr(rk_strerror(-EMSGSIZE), "EMSGSIZE"));
	cr_assert(strstr(rk_strerror(-ENODEV), "ENODEV"));
	cr_assert(strstr(rk_strerror(-ENOENT), "ENOENT"));
	cr_assert(strstr(rk_strerror(-EPERM), "EPERM"));
	cr_assert(strstr(rk_strerror(-ESHUTDOWN), "ESHUTDOWN"));
	cr_assert(strstr(rk_strerror(-EBUSY), "EBUSY"));
}

/* Every errno the library returns, its own or passed on from a syscall
 * (shm_open, mmap, futex, io_uring, dlopen, a device runtime). */
/* clang-format off */
#define E(x) { x, #x }
/* clang-format on */
static const struct {
	int err;
	const char *name;
} returned[] = {
	E(E2BIG),	    E(EACCES),	     E(EAGAIN),	    E(EBADF),	  E(EBADMSG), E(EBUSY),
	E(ECANCELED),	    E(ECONNREFUSED), E(ECONNRESET), E(EEXIST),	  E(EFAULT),  E(EFBIG),
	E(EINTR),	    E(EINVAL),	     E(EIO),	    E(EISDIR),	  E(ELOOP),   E(EMFILE),
	E(EMSGSIZE),	    E(ENAMETOOLONG), E(ENFILE),	    E(ENODEV),	  E(ENOENT),  E(ENOEXEC),
	E(ENOMEM),	    E(ENOSPC),	     E(ENOSYS),	    E(ENOTCONN),  E(ENOTDIR), E(ENOTSUP),
	E(ENXIO),	    E(EOVERFLOW),    E(EOWNERDEAD), E(EPERM),	  E(EPIPE),   E(EPROTO),
	E(EPROTONOSUPPORT), E(ERANGE),	     E(EROFS),	    E(ESHUTDOWN), E(ESRCH),   E(ETIMEDOUT),
	E(ETXTBSY),	    E(EUCLEAN),	     E(EXDEV),	    E(EDEADLK),	  E(ENOLCK),  E(ENOBUFS),
	E(ECHILD),	    E(EHOSTUNREACH),
};
#undef E

Test(errors, strerror_names_every_errno_the_library_returns)
{
	for (unsigned i = 0; i < sizeof(returned) / sizeof(returned[0]); i++) {
		int e = returned[i].err;
		const char *neg = rk_strerror(-e);
		cr_assert_not_null(strstr(neg, returned[i].name), "rk_strerror(-%s) = \"%s\"",
				   returned[i].name, neg);
		cr_assert_null(strstr(neg, "nknown"), "rk_strerror(-%s) = \"%s\"", returned[i].name,
			       neg);
		cr_assert_eq(neg[0], '-', "rk_strerror(-%s) = \"%s\"", returned[i].name, neg);
		cr_assert_not_null(strchr(neg, '('), "no description: \"%s\"", neg);
		/* A positive errno names the same error. */
		cr_assert_not_null(strstr(rk_strerror(e), returned[i].name), "rk_strerror(%s)",
				   returned[i].name);
	}
	/* Aliases on Linux read as either name. */
	cr_assert(strstr(rk_strerror(-EOPNOTSUPP), "ENOTSUP") ||
		  strstr(rk_strerror(-EOPNOTSUPP), "EOPNOTSUPP"));
	cr_assert(strstr(rk_strerror(-EWOULDBLOCK), "EAGAIN"));
	cr_assert_str_eq(rk_strerror(0), "success");
}

Test(errors, strerror_falls_back_to_the_c_library)
{
	/* Not one the library returns: named and described by libc. */
	char want[128];
	snprintf(want, sizeof(want), "(%s)", strerror(EADDRINUSE));
	const char *s = rk_strerror(-EADDRINUSE);
	cr_assert_not_null(strstr(s, "EADDRINUSE"), "\"%s\"", s);
	cr_assert_not_null(strstr(s, want), "\"%s\" lacks %s", s, want);
	/* No errno at all: the number, never a bare "unknown error". */
	s = rk_strerror(-4242);
	cr_assert_not_null(strstr(s, "4242"), "\"%s\"", s);
	s = rk_strerror(INT_MIN);
	cr_assert_not_null(strstr(s, "2147483648"), "\"%s\"", s);
	/* The buffer is per thread and the text is stable across calls. */
	cr_assert_str_eq(rk_strerror(-EADDRINUSE), rk_strerror(-EADDRINUSE));
}

/* The handler context is the library's: a plugin hands it the kernel and
 * the request through rk_ctx_invoke(), and the handler's calls see that
 * kernel. A caller built against another ringkernel/device.h (another
 * struct rk_dev_kernel size) is refused with -EPROTO and nothing is
 * called; so is a context the library did not make. */
static uint64_t seen_id;
static uint32_t seen_state_size;
static int seen_dev_calls, dev_result, seen_dev_len, seen_dev_type;

RK_DEV_HANDLER(errors_dev_handler)
{
	(void)payload;
	seen_dev_calls++;
	seen_dev_len = (int)len;
	seen_dev_type = (int)in->type;
	return k->id == 42 ? dev_result : RK_DEV_OK;
}

static size_t run_dev_size;
static int run_dev_ret;
static int errors_cpu_handler(rk_ctx *ctx, const rk_message *m)
{
	(void)m;
	seen_id = rk_ctx_kernel_id(ctx);
	seen_state_size = rk_ctx_state_size(ctx);
	run_dev_ret = rk_ctx_run_dev_handler(ctx, errors_dev_handler, run_dev_size);
	return 7;
}

Test(errors, a_handler_context_from_another_build_is_refused)
{
	struct rk_dev_kernel k;
	memset(&k, 0, sizeof(k));
	k.id = 42;
	k.state_size = 16;
	struct {
		struct rk_msg_hdr h;
		uint8_t payload[8];
	} req;
	memset(&req, 0, sizeof(req));
	req.h.type = 9;
	rk_message m;
	memset(&m, 0, sizeof(m));
	m.len = 8;
	int term = -1;

	/* Built alike: the handler sees the kernel, and runs a device handler. */
	run_dev_size = sizeof(struct rk_dev_kernel);
	dev_result = RK_DEV_TERMINATING;
	cr_assert_eq(rk_ctx_invoke(errors_cpu_handler, &k, &req.h, &m, sizeof(k), &term), 7);
	cr_assert_eq(seen_id, 42);
	cr_assert_eq(seen_state_size, 16);
	cr_assert_eq(run_dev_ret, 0);
	cr_assert_eq(seen_dev_calls, 1);
	cr_assert_eq(seen_dev_len, 8);
	cr_assert_eq(seen_dev_type, 9);
	cr_assert_eq(term, 1, "a device handler's Terminate reaches the plugin");
	dev_result = 99;
	cr_assert_eq(rk_ctx_invoke(errors_cpu_handler, &k, &req.h, &m, sizeof(k), &term), 7);
	cr_assert_eq(run_dev_ret, -EIO);
	cr_assert_eq(term, 0);

	/* A plugin built against another device.h: nothing is called. */
	seen_id = 0;
	seen_dev_calls = 0;
	rk_clear_error();
	cr_assert_eq(rk_ctx_invoke(errors_cpu_handler, &k, &req.h, &m, sizeof(k) - 8, &term),
		     -EPROTO);
	cr_assert_eq(seen_id, 0);
	cr_assert_eq(term, 0);
	cr_assert(strstr(rk_last_error(), "another ringkernel/device.h"), "%s", rk_last_error());
	cr_assert_eq(rk_ctx_invoke(NULL, &k, &req.h, &m, sizeof(k), NULL), -EINVAL);

	/* A user kernel built against another device.h: its handler is not run. */
	run_dev_size = sizeof(struct rk_dev_kernel) + 8;
	rk_clear_error();
	cr_assert_eq(rk_ctx_invoke(errors_cpu_handler, &k, &req.h, &m, sizeof(k), &term), 7);
	cr_assert_eq(run_dev_ret, -EPROTO);
	cr_assert_eq(seen_dev_calls, 0);
	cr_assert(strstr(rk_last_error(), "rk_ctx_run_dev_handler"), "%s", rk_last_error());

	/* A context the library did not make: every call refuses it. */
	uint64_t junk[16];
	memset(junk, 0, sizeof(junk));
	rk_ctx *bad = (rk_ctx *)junk;
	rk_clear_error();
	cr_assert_eq(rk_ctx_kernel_id(bad), 0);
	cr_assert(strstr(rk_last_error(), "not this library's"), "%s", rk_last_error());
	cr_assert_eq(rk_ctx_reply(bad, 1, "x", 1), -EPROTO);
	cr_assert_eq(rk_ctx_send_k2k(bad, 1, 1, "x", 1), -EPROTO);
	cr_assert_null(rk_ctx_state(bad));
	cr_assert_eq(rk_ctx_state_size(bad), 0);
	cr_assert_eq(rk_ctx_run_dev_handler(bad, errors_dev_handler, sizeof(struct rk_dev_kernel)),
		     -EPROTO);
	cr_assert_eq(seen_dev_calls, 0);
}
