/* SPDX-License-Identifier: MIT */
/* Launch options (spec: LaunchOptions) and their helpers. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

rk_launch_options rk_launch_options_default(void)
{
	rk_launch_options o = {
		.grid = 1,
		.block = 256,
		.input_capacity = RK_DEFAULT_QUEUE_CAPACITY,
		.output_capacity = RK_DEFAULT_QUEUE_CAPACITY,
		.max_payload = RK_DEFAULT_MAX_PAYLOAD,
		.k2k = false,
		.auto_activate = true,
		.max_routes = 8,
		.state_size = 4096,
		.k2k_capacity = 256,
		.max_clients = 8,
		.client_capacity = 256,
	};
	return o;
}

rk_launch_options rk_launch_options_single_block(uint32_t block_size)
{
	rk_launch_options o = rk_launch_options_default();
	o.block = block_size;
	return o;
}

rk_launch_options rk_launch_options_multi_block(uint32_t grid, uint32_t block)
{
	rk_launch_options o = rk_launch_options_default();
	o.grid = grid;
	o.block = block;
	return o;
}

/* Setters take what they are given; rk_runtime_launch() validates, so a
 * bad value is reported where it can be: -EINVAL from the launch. */
#define SETTER(name, type, field)                                   \
	void rk_launch_options_##name(rk_launch_options *o, type v) \
	{                                                           \
		if (o)                                              \
			o->field = v;                               \
	}

SETTER(with_input_capacity, uint32_t, input_capacity)
SETTER(with_output_capacity, uint32_t, output_capacity)
SETTER(with_max_payload, uint32_t, max_payload)
SETTER(with_k2k, bool, k2k)
SETTER(with_max_routes, uint32_t, max_routes)
SETTER(with_k2k_capacity, uint32_t, k2k_capacity)
SETTER(with_max_clients, uint32_t, max_clients)
SETTER(with_client_capacity, uint32_t, client_capacity)
SETTER(with_client_lifecycle, bool, client_lifecycle)

/* A bad name is marked here and refused by the launch (-EINVAL). */
void rk_launch_options_with_name(rk_launch_options *o, const char *name)
{
	if (!o)
		return;
	size_t n = name ? strlen(name) : 0;
	if (!name)
		o->name[0] = '\0';
	else if (n == 0 || n >= sizeof(o->name))
		snprintf(o->name, sizeof(o->name), "%s", "\x01");
	else
		memcpy(o->name, name, n + 1);
}

void rk_launch_options_with_queue_capacity(rk_launch_options *o, uint32_t slots)
{
	if (o)
		o->input_capacity = o->output_capacity = slots;
}

void rk_launch_options_without_auto_activate(rk_launch_options *o)
{
	if (o)
		o->auto_activate = false;
}
