# man/: the manual, hand-written roff, installed as liburing's is. Each
# section-3 page documents a family of calls; every other name in its NAME
# section is a one-line alias page (".so man3/PAGE.3"). tests/man_symbols.sh
# checks that every symbol libringkernel.so exports is named in a page, that
# every alias leads somewhere, and that every page is listed here.
dist_man_MANS = \
	man/RK_KERNEL.3 \
	man/ringkernel.7 \
	man/rk-bench.1 \
	man/rk-info.1 \
	man/rk-top.1 \
	man/rk_clear_error.3 \
	man/rk_ctx_kernel_id.3 \
	man/rk_ctx_reply.3 \
	man/rk_ctx_send_k2k.3 \
	man/rk_ctx_state.3 \
	man/rk_ctx_state_size.3 \
	man/rk_error.3 \
	man/rk_hlc_clamped.3 \
	man/rk_hlc_logical.3 \
	man/rk_hlc_now.3 \
	man/rk_hlc_observe.3 \
	man/rk_hlc_pack.3 \
	man/rk_hlc_physical_now.3 \
	man/rk_hlc_physical_us.3 \
	man/rk_kernel_activate.3 \
	man/rk_kernel_call.3 \
	man/rk_kernel_connect.3 \
	man/rk_kernel_deactivate.3 \
	man/rk_kernel_id.3 \
	man/rk_kernel_is_active.3 \
	man/rk_kernel_name.3 \
	man/rk_kernel_receive.3 \
	man/rk_kernel_receive_burst.3 \
	man/rk_kernel_release.3 \
	man/rk_kernel_route_count.3 \
	man/rk_kernel_route_status.3 \
	man/rk_kernel_send.3 \
	man/rk_kernel_send_burst.3 \
	man/rk_kernel_state.3 \
	man/rk_kernel_status.3 \
	man/rk_kernel_status_get.3 \
	man/rk_kernel_terminate.3 \
	man/rk_kernel_try_receive.3 \
	man/rk_kernel_try_send.3 \
	man/rk_last_error.3 \
	man/rk_launch_options_default.3 \
	man/rk_launch_options_multi_block.3 \
	man/rk_launch_options_single_block.3 \
	man/rk_launch_options_with_input_capacity.3 \
	man/rk_launch_options_with_k2k.3 \
	man/rk_launch_options_with_k2k_capacity.3 \
	man/rk_launch_options_with_max_payload.3 \
	man/rk_launch_options_with_max_routes.3 \
	man/rk_launch_options_with_output_capacity.3 \
	man/rk_launch_options_with_queue_capacity.3 \
	man/rk_launch_options_without_auto_activate.3 \
	man/rk_msg_capacity.3 \
	man/rk_msg_check.3 \
	man/rk_msg_read.3 \
	man/rk_msg_write.3 \
	man/rk_msg_write_parts.3 \
	man/rk_plugin_probe_path.3 \
	man/rk_plugins_auto_pick.3 \
	man/rk_plugins_find.3 \
	man/rk_plugins_list.3 \
	man/rk_plugins_search_path.3 \
	man/rk_region_alloc.3 \
	man/rk_region_base.3 \
	man/rk_region_close.3 \
	man/rk_region_create.3 \
	man/rk_region_fd.3 \
	man/rk_region_find.3 \
	man/rk_region_is_huge.3 \
	man/rk_region_is_locked.3 \
	man/rk_region_name.3 \
	man/rk_region_open.3 \
	man/rk_region_size.3 \
	man/rk_region_size_for.3 \
	man/rk_region_unlink.3 \
	man/rk_register_kernel.3 \
	man/rk_ring_adopt_consumer.3 \
	man/rk_ring_attach.3 \
	man/rk_ring_capacity.3 \
	man/rk_ring_commit.3 \
	man/rk_ring_corrupt.3 \
	man/rk_ring_count.3 \
	man/rk_ring_dequeue.3 \
	man/rk_ring_dequeue_bulk.3 \
	man/rk_ring_dequeue_burst.3 \
	man/rk_ring_enqueue.3 \
	man/rk_ring_enqueue_bulk.3 \
	man/rk_ring_enqueue_burst.3 \
	man/rk_ring_init.3 \
	man/rk_ring_init_at.3 \
	man/rk_ring_mem_size.3 \
	man/rk_ring_mp_commit.3 \
	man/rk_ring_mp_commit_timed.3 \
	man/rk_ring_mp_reserve.3 \
	man/rk_ring_park_consumer.3 \
	man/rk_ring_park_producer.3 \
	man/rk_ring_peek.3 \
	man/rk_ring_release.3 \
	man/rk_ring_reserve.3 \
	man/rk_ring_set_peer.3 \
	man/rk_ring_slot.3 \
	man/rk_ring_slot_size.3 \
	man/rk_ring_unpark_consumer.3 \
	man/rk_ring_unpark_producer.3 \
	man/rk_ring_wait.3 \
	man/rk_ring_wait_readable.3 \
	man/rk_ring_wait_writable.3 \
	man/rk_runtime_backend_name.3 \
	man/rk_runtime_builder_backend.3 \
	man/rk_runtime_builder_backend_name.3 \
	man/rk_runtime_builder_build.3 \
	man/rk_runtime_builder_device.3 \
	man/rk_runtime_builder_free.3 \
	man/rk_runtime_builder_new.3 \
	man/rk_runtime_builder_plugin_path.3 \
	man/rk_runtime_builder_profiling.3 \
	man/rk_runtime_fd.3 \
	man/rk_runtime_launch.3 \
	man/rk_runtime_metrics.3 \
	man/rk_runtime_metrics_get.3 \
	man/rk_runtime_new.3 \
	man/rk_runtime_shutdown.3 \
	man/rk_state_name.3 \
	man/rk_strerror.3 \
	man/rk_version.3

dist_check_SCRIPTS += tests/man_symbols.sh
TESTS += tests/man_symbols.sh

# The project's documents, shipped by make dist.
EXTRA_DIST += LICENSE NEWS docs/design.md
