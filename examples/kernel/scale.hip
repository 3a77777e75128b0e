/* SPDX-License-Identifier: MIT */
#include "scale.cu"
