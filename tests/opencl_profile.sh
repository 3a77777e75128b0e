#!/bin/sh
exec "${srcdir:-.}/tests/on_backend.sh" opencl test_profile
