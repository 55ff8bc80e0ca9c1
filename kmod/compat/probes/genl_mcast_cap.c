// SPDX-License-Identifier: GPL-2.0
/* Newer kernels can restrict a multicast group to CAP_NET_ADMIN. */
#include <linux/module.h>
#include <net/genetlink.h>

const struct genl_multicast_group probe = {
	.name = "probe",
	.flags = GENL_MCAST_CAP_NET_ADMIN,
};
MODULE_LICENSE("GPL");
