/* SPDX-License-Identifier: MIT */
#include "trap.cu"
