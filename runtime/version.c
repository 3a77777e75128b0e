/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ringkernel/ringkernel.h>

const char *rk_version(void)
{
	return PACKAGE_VERSION;
}
