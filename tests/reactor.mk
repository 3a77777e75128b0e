# Completion (io_uring / fallback) suites.
