// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: expectations that conntrackd made. After a failover the
 * backup's conntrackd commits the flow's expectations through ctnetlink,
 * but what arrives has lost what made them work: libnetfilter_conntrack
 * (1.0.9, Debian 12) builds no CTA_EXPECT_CLASS, CTA_EXPECT_NAT or
 * CTA_EXPECT_FN, and ctnetlink ignores CTA_EXPECT_TIMEOUT when it creates
 * one. Such a copy lets a registrar's request in to the router itself
 * instead of the UA, and lives its class's 3 minutes. The next packet of
 * the flow on this router replaces each copy with the expectation the
 * helper makes itself, its target taken from the flow. See docs/ha.md.
 */

#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"
#include "compat.h"

/*
 * A copy ctnetlink made: on a NAT flow every expectation of the helper's
 * own has an expectfn.
 */
static struct nf_conntrack_expect *shp_synced_copy(struct nf_conn_help *help)
{
	struct nf_conntrack_expect *exp;

	hlist_for_each_entry_rcu(exp, &help->expectations, lnode)
		if (!READ_ONCE(exp->expectfn))
			return exp;
	return NULL;
}

/*
 * What the helper would have made in place of @old. Its flags tell a
 * pinhole for requests (permanent: the registration's or an advertised
 * port's) from one for media. Its target is the UA's address, and for
 * the flow's own public port the UA's source port; any other public port
 * leads to the same port on the UA, which is the port the helper takes
 * whenever it is free.
 */
static struct nf_conntrack_expect *
shp_synced_redo(struct nf_conn *ct, enum ip_conntrack_dir pdir,
		const struct nf_conntrack_expect *old)
{
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!pdir].tuple;
	bool signalling = old->flags & NF_CT_EXPECT_PERMANENT;
	struct nf_conntrack_expect *exp;

	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return NULL;
	nf_ct_expect_init(exp, signalling ? SHP_EXPECT_SIGNALLING :
					    SHP_EXPECT_MEDIA,
			  nf_ct_l3num(ct), NULL, &old->tuple.dst.u3,
			  old->tuple.dst.protonum, NULL,
			  &old->tuple.dst.u.all);
	exp->tuple = old->tuple;
	exp->mask = old->mask;
	exp->flags = old->flags;
	exp->dir = !pdir;
	exp->saved_addr = priv->src.u3;
	exp->saved_proto.all = old->tuple.dst.u.all == pub->dst.u.all ?
			       priv->src.u.all : old->tuple.dst.u.all;
	if (signalling)
		shp_expect_set_helper(exp, shp_helper_find(nf_ct_l3num(ct),
							   nf_ct_protonum(ct)));
	exp->expectfn = shp_expectfn;
	return exp;
}

void shp_synced_adopt(struct shp_net *sn, const struct shp_config *cfg,
		      struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *old, *exp;
	enum ip_conntrack_dir pdir;
	bool signalling;
	int err;

	/* the helper made every expectation of a flow it saw begin */
	if (!help || READ_ONCE(((struct shp_ct_data *)
				nfct_help_data(ct))->flags) & SHP_CT_BORN_HERE)
		return;
	/* without NAT a copy is all the helper would make */
	if (!(ct->status & IPS_NAT_MASK))
		return;
	pdir = shp_flow_pdir(ct);

	/*
	 * Each turn replaces one copy by what is no copy, in the flow's list
	 * that the expectation policy bounds. Out of memory, the copy stays
	 * for the next packet.
	 */
	while (shp_synced_copy(help)) {
		spin_lock_bh(&nf_conntrack_expect_lock);
		old = shp_synced_copy(help);
		exp = old ? shp_synced_redo(ct, pdir, old) : NULL;
		if (exp)
			nf_ct_unlink_expect(old);
		spin_unlock_bh(&nf_conntrack_expect_lock);
		if (!exp)
			return;
		signalling = exp->class == SHP_EXPECT_SIGNALLING;
		err = shp_expect_related(exp);
		if (!err && signalling) {
			/* as long as the flow lives without a packet */
			spin_lock_bh(&nf_conntrack_expect_lock);
			shp_expect_set_timeout(exp, cfg->sip_timeout * HZ);
			spin_unlock_bh(&nf_conntrack_expect_lock);
		}
		nf_ct_expect_put(exp);
		shp_stat_inc(sn, err ? SHP_STAT(EXPECTATIONS_REMOVED) :
				 SHP_STAT(EXPECTATIONS_ADOPTED));
	}
}
