/* SPDX-License-Identifier: MIT */
/* Launch options (spec: LaunchOptions) and their helpers. */
#include "config.h"

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
void rk_launch_options_with_queue_capacity(rk_launch_options *o, uint32_t slots)
{
	if (o)
		o->input_capacity = o->output_capacity = slots;
}

void rk_launch_options_with_input_capacity(rk_launch_options *o, uint32_t slots)
{
	if (o)
		o->input_capacity = slots;
}

void rk_launch_options_with_output_capacity(rk_launch_options *o, uint32_t slots)
{
	if (o)
		o->output_capacity = slots;
}

void rk_launch_options_with_max_payload(rk_launch_options *o, uint32_t bytes)
{
	if (o)
		o->max_payload = bytes;
}

void rk_launch_options_with_k2k(rk_launch_options *o, bool on)
{
	if (o)
		o->k2k = on;
}

void rk_launch_options_without_auto_activate(rk_launch_options *o)
{
	if (o)
		o->auto_activate = false;
}

void rk_launch_options_with_max_routes(rk_launch_options *o, uint32_t routes)
{
	if (o)
		o->max_routes = routes;
}

void rk_launch_options_with_k2k_capacity(rk_launch_options *o, uint32_t slots)
{
	if (o)
		o->k2k_capacity = slots;
}
