// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: a SIP ALG for Linux routers.
 *
 * Module and per-network-namespace life cycle. The datapath lives in
 * helper.c, the control plane in netlink.c, the parser in core/.
 */

#include <linux/module.h>
#include <net/netns/generic.h>

#include "siphelper.h"

unsigned int shp_net_id __read_mostly;

static int __net_init shp_net_init(struct net *net)
{
	struct shp_net *sn = shp_pernet(net);
	int err;

	shp_events_init(&sn->events);
	shp_streams_init(sn);
	shp_calls_init(sn, net);
	shp_sources_init(sn);
	err = shp_stats_init(sn);
	if (err)
		return err;
	err = shp_config_init(net);
	if (err)
		shp_stats_exit(sn);
	return err;
}

static void __net_exit shp_net_exit(struct net *net)
{
	struct shp_net *sn = shp_pernet(net);

	shp_config_exit(sn);
	shp_streams_exit(sn);
	shp_calls_exit(sn);
	shp_sources_exit(sn);
	shp_stats_exit(sn);
}

static struct pernet_operations shp_net_ops = {
	.init = shp_net_init,
	.exit = shp_net_exit,
	.id   = &shp_net_id,
	.size = sizeof(struct shp_net),
};

static int __init shp_init(void)
{
	int err;

	err = shp_config_params_init();
	if (err)
		return err;
	err = register_pernet_subsys(&shp_net_ops);
	if (err)
		return err;
	err = shp_datapath_init();
	if (err)
		goto err_pernet;
	err = shp_helper_init();
	if (err)
		goto err_datapath;
	err = shp_config_hooks_init();
	if (err)
		goto err_helper;
	err = shp_netlink_init();
	if (err)
		goto err_hooks;
	pr_info("loaded\n");
	return 0;

err_hooks:
	shp_config_hooks_exit();
err_helper:
	shp_helper_exit();
err_datapath:
	shp_datapath_exit();
err_pernet:
	unregister_pernet_subsys(&shp_net_ops);
	return err;
}

static void __exit shp_exit(void)
{
	shp_netlink_exit();
	shp_config_hooks_exit();
	shp_helper_exit();
	shp_datapath_exit();
	unregister_pernet_subsys(&shp_net_ops);
	pr_info("unloaded\n");
}

module_init(shp_init);
module_exit(shp_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("siphelper developers");
MODULE_DESCRIPTION("SIP ALG: conntrack helper and NAT for SIP/SDP");
MODULE_VERSION(SHP_VERSION);
