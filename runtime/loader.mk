# runtime/: the plugin loader, the public discovery API, and rk-info.
runtime_libringkernel_la_SOURCES += runtime/plugin_loader.c runtime/plugin_loader.h
ringkernel_HEADERS += include/ringkernel/discovery.h

# rk-info: lists the plugins found and why each is or is not usable
# (fi_info, ucx_info -d). Installed as $(bindir)/rk-info.
bin_PROGRAMS += runtime/rk-info
runtime_rk_info_SOURCES = runtime/rk_info.c
runtime_rk_info_LDADD = runtime/libringkernel.la
