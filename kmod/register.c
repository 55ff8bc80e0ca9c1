// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: registrations. After a 2xx to a REGISTER sent through the
 * NAT, a permanent signalling expectation lets requests from the registrar
 * to the UA's public address:port in (to the UA's private address:port,
 * with siphelper attached) for the registration's lifetime, even if this
 * flow's conntrack is gone. Expires 0 (unregister) removes it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"

static void shp_register_flush(struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;

	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode)
		if (exp->class == SHP_EXPECT_SIGNALLING)
			nf_ct_unlink_expect(exp);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

static u32 shp_register_expires(const struct shp_sip_msg *msg)
{
	if (msg->n_contact && msg->contact[0].has_expires)
		return msg->contact[0].expires;
	if (msg->flags & SHP_F_HAS_EXPIRES)
		return msg->expires;
	return SHP_DEFAULT_TIMEOUT;
}

void shp_register_update(struct shp_net *sn, const struct shp_flow *fl,
			 const struct shp_sip_msg *msg)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	u32 expires;

	if (!help)
		return;
	expires = min_t(u32, shp_register_expires(msg), SHP_MAX_TIMEOUT);
	if (!expires || (msg->flags & SHP_F_CONTACT_STAR)) {
		shp_register_flush(ct);
		return;
	}
	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return;
	nf_ct_expect_init(exp, SHP_EXPECT_SIGNALLING, nf_ct_l3num(ct),
			  &pub->src.u3, &pub->dst.u3, nf_ct_protonum(ct), NULL,
			  &pub->dst.u.all);
	exp->flags = NF_CT_EXPECT_PERMANENT;
	rcu_assign_pointer(exp->assign_helper,
			   shp_helper_find(nf_ct_l3num(ct), nf_ct_protonum(ct)));
	exp->saved_addr = priv->src.u3;
	exp->saved_proto.all = priv->src.u.all;
	exp->dir = !fl->pdir;
	exp->expectfn = shp_expectfn;
	if (!nf_ct_expect_related(exp, 0)) {
		spin_lock_bh(&nf_conntrack_expect_lock);
		WRITE_ONCE(exp->timeout, nfct_time_stamp + expires * HZ);
		spin_unlock_bh(&nf_conntrack_expect_lock);
		shp_stat_inc(sn, SHP_STAT_REGISTRATIONS);
		shp_stat_inc(sn, SHP_STAT_EXPECT_CREATED);
	}
	nf_ct_expect_put(exp);
}
