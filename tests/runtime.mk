# Runtime core and CPU backend suites.
