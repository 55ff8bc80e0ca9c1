// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: auto-assignment. A hook at POSTROUTING and INPUT, after NAT
 * and just before the conntrack helper/confirm step, attaches the
 * siphelper helper to new (unconfirmed) UDP/TCP conntracks whose
 * original-direction destination port is in the netns' port list. A helper
 * already set (nft `ct helper set`, an expectation) is never replaced.
 *
 * The hooks exist in a netns only while auto_assign is on there (config.c
 * calls shp_assign_sync() under its mutex on every change, and on netns
 * init and exit): traffic of a
 * netns with auto_assign=0 never meets them, and a netns without any other
 * hook keeps netfilter's empty-hook fast path. See docs/datapath.md.
 */

#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "datapath.h"

/* A new (unconfirmed) conntrack: attach the helper if its port matches. */
static noinline unsigned int shp_assign_new(struct nf_conn *ct,
					    const struct nf_hook_state *state)
{
	const struct shp_config *cfg;
	struct nf_conntrack_helper *helper;
	struct nf_conn_help *help;
	struct shp_net *sn;
	u8 l4;
	u16 port;

	l4 = nf_ct_protonum(ct);
	if (l4 != IPPROTO_UDP && l4 != IPPROTO_TCP)
		return NF_ACCEPT;
	help = nfct_help(ct);
	if (help && rcu_access_pointer(help->helper))
		return NF_ACCEPT;

	sn = shp_pernet(state->net);
	cfg = rcu_dereference(sn->cfg);
	if (!cfg || !cfg->auto_assign)
		return NF_ACCEPT;
	port = ntohs(ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.u.all);
	if (!shp_config_port_match(cfg, l4, port))
		return NF_ACCEPT;

	if (!help)
		help = nf_ct_helper_ext_add(ct, GFP_ATOMIC);
	if (!help)
		return NF_ACCEPT;
	helper = shp_helper_find(nf_ct_l3num(ct), l4);
	rcu_assign_pointer(help->helper, helper);
	/*
	 * NAT was set up before us: add what nf_nat_setup_info() adds when
	 * a helper is already present, so TCP payload resizes work. Only
	 * after the helper is set, as nft_ct_helper_obj_eval() does: adding
	 * an extension may krealloc() ct->ext and move @help (with
	 * accounting, timestamps or labels on, it does). A flow that already
	 * has seqadj (SYNPROXY) keeps it. UDP never resizes through seqadj.
	 */
	if (l4 == IPPROTO_TCP && (ct->status & IPS_NAT_MASK) &&
	    !nfct_seqadj(ct) && !nfct_seqadj_ext_add(ct)) {
		/* ct->ext was not moved: @help is still the live one */
		RCU_INIT_POINTER(help->helper, NULL);
		return NF_ACCEPT;
	}
	shp_stat_inc(sn, SHP_STAT(AUTO_ASSIGNED));
	return NF_ACCEPT;
}

/*
 * Every packet of the netns passes here: the fast path (no conntrack, or
 * not a new one) is kept apart from shp_assign_new() so that it needs no
 * stack frame. A template is never confirmed; one test covers both.
 */
static unsigned int shp_assign_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (likely(!ct || (READ_ONCE(ct->status) &
			   (IPS_CONFIRMED | IPS_TEMPLATE))))
		return NF_ACCEPT;
	return shp_assign_new(ct, state);
}

#define SHP_ASSIGN_PRI	(NF_IP_PRI_CONNTRACK_HELPER - 1)

static const struct nf_hook_ops shp_assign_ops[] = {
	{ .hook = shp_assign_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_POST_ROUTING, .priority = SHP_ASSIGN_PRI },
	{ .hook = shp_assign_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_IN, .priority = SHP_ASSIGN_PRI },
	{ .hook = shp_assign_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_POST_ROUTING, .priority = SHP_ASSIGN_PRI },
	{ .hook = shp_assign_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_IN, .priority = SHP_ASSIGN_PRI },
};

/* Under the config mutex: the hooks are registered in @net iff @on. */
int shp_assign_sync(struct net *net, bool on)
{
	struct shp_net *sn = shp_pernet(net);
	int err;

	if (on == sn->assign_hooked)
		return 0;
	if (on) {
		err = nf_register_net_hooks(net, shp_assign_ops,
					    ARRAY_SIZE(shp_assign_ops));
		if (err)
			return err;
	} else {
		/* returns after a grace period: no hook still running */
		nf_unregister_net_hooks(net, shp_assign_ops,
					ARRAY_SIZE(shp_assign_ops));
	}
	sn->assign_hooked = on;
	return 0;
}
