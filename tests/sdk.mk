# The plugin SDK: examples/plugin-skeleton built out of tree against this
# build installed into a staging directory, then run (tests/plugin_sdk.sh).
TESTS += tests/plugin_sdk.sh
dist_check_SCRIPTS += tests/plugin_sdk.sh
EXTRA_DIST += examples/plugin-skeleton/Makefile examples/plugin-skeleton/README.md \
	examples/plugin-skeleton/skeleton.c examples/plugin-skeleton/skeleton-check.c \
	examples/plugin-skeleton/.gitignore
