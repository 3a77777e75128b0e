# Plugin loader suites and test-only plugins.
