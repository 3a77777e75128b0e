#!/bin/sh
exec "${srcdir:-.}/tests/on_backend.sh" hip test_user_kernel
