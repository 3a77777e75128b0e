#!/bin/sh
exec "${srcdir:-.}/tests/on_backend.sh" cuda test_k2k
