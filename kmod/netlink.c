// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: generic netlink control plane (placeholder until the control
 * plane lands; the module works with its module-parameter defaults).
 */
#include "siphelper.h"

int shp_netlink_init(void)
{
	return 0;
}

void shp_netlink_exit(void)
{
}
