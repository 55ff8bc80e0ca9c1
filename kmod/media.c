// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: media expectations. For each SDP m= stream the UA offers or
 * answers through the NAT, an RTP and an RTCP expectation towards the
 * public address, destination-NATed back to the UA's media address:port.
 * The UA's own port is kept when it is free on the public side, else the
 * next pairs are tried. Expectations are recorded per call (Call-ID hash)
 * in the conntrack's helper area so that a BYE, CANCEL or final error
 * removes that call's expectations only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"

#define SHP_PORT_TRIES	16	/* pairs tried per stream: bounded work */

static bool shp_media_proto_ok(u8 proto)
{
	return proto != SHP_SDP_PROTO_TCP && proto != SHP_SDP_PROTO_OTHER;
}

static struct nf_conntrack_expect *
shp_media_alloc(struct nf_conn *ct, const struct shp_flow *fl, bool direct,
		const union nf_inet_addr *to, u16 to_port)
{
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conntrack_expect *exp;
	__be16 port = htons(to_port);

	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return NULL;
	nf_ct_expect_init(exp, SHP_EXPECT_MEDIA, nf_ct_l3num(ct),
			  direct ? NULL : &pub->src.u3, &pub->dst.u3,
			  IPPROTO_UDP, NULL, &port);
	exp->saved_addr = *to;
	exp->saved_proto.udp.port = port;
	exp->dir = !fl->pdir;
	exp->expectfn = shp_expectfn;
	return exp;
}

static void shp_slot_record(struct nf_conn *ct, u32 call, u16 port)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct shp_ct_data *d;
	unsigned int i;

	if (!help)
		return;
	d = nfct_help_data(ct);
	spin_lock_bh(&nf_conntrack_expect_lock);
	for (i = 0; i < SHP_CT_SLOTS; i++)
		if (d->call[i] == call && d->port[i] == port)
			goto out;
	i = d->next % SHP_CT_SLOTS;
	d->call[i] = call;
	d->port[i] = port;
	d->next = (i + 1) % SHP_CT_SLOTS;
out:
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/* Try pairs from the UA's port up; returns the public RTP port or 0. */
static u16 shp_media_pair(struct shp_net *sn, struct nf_conn *ct,
			  const struct shp_flow *fl, bool direct,
			  const union nf_inet_addr *to, u16 rtp, u16 rtcp)
{
	struct nf_conntrack_expect *e1, *e2;
	unsigned int tries;
	u16 p = rtp;
	int err;

	for (tries = 0; tries < SHP_PORT_TRIES && p && p < 65535;
	     tries++, p += 2) {
		e1 = shp_media_alloc(ct, fl, direct, to, rtp);
		if (!e1)
			return 0;
		e2 = shp_media_alloc(ct, fl, direct, to, rtcp);
		if (!e2) {
			nf_ct_expect_put(e1);
			return 0;
		}
		e1->tuple.dst.u.udp.port = htons(p);
		e2->tuple.dst.u.udp.port = htons(p + 1);
		err = nf_ct_expect_related(e1, 0);
		if (!err) {
			err = nf_ct_expect_related(e2, 0);
			if (err)
				nf_ct_unexpect_related(e1);
		}
		nf_ct_expect_put(e1);
		nf_ct_expect_put(e2);
		if (!err) {
			shp_stat_inc(sn, SHP_STAT_EXPECT_CREATED);
			shp_stat_inc(sn, SHP_STAT_EXPECT_CREATED);
			return p;
		}
		if (err != -EBUSY)
			return 0;
	}
	return 0;
}

void shp_media_expect(struct shp_net *sn, const struct shp_config *cfg,
		      const struct shp_flow *fl, const struct shp_sip_msg *msg,
		      u32 call, struct shp_rewrite_ctx *ctx)
{
	struct nf_conn *ct = fl->ct;
	union nf_inet_addr to;
	unsigned int i;
	u16 p;

	for (i = 0; i < msg->sdp.n_media; i++) {
		const struct shp_sdp_media *m = &msg->sdp.media[i];
		u16 rtcp;

		if (!m->port || m->nports > 1 || !shp_media_proto_ok(m->proto))
			continue;
		/* Only media to the UA itself: its SDP may not open a
		 * pinhole forwarding to another host (a LAN host naming its
		 * neighbour, the router, anything else). An address that is
		 * already the public one is a NAT-aware UA's own business.
		 */
		if (m->addr.family != (nf_ct_l3num(ct) == NFPROTO_IPV4 ? 4 : 6) ||
		    !shp_addr_equal(&m->addr, &ctx->map.priv))
			continue;
		memset(&to, 0, sizeof(to));
		memcpy(&to, m->addr.a, m->addr.family == 4 ? 4 : 16);
		rtcp = m->rtcp_port ? m->rtcp_port : m->port + 1;
		p = shp_media_pair(sn, ct, fl, cfg->direct_media, &to, m->port,
				   rtcp);
		if (!p) {
			net_dbg_ratelimited("siphelper: no public port for media\n");
			continue;
		}
		ctx->media_port[i] = p;
		if (m->rtcp_port)
			ctx->rtcp_port[i] = p + 1;
		shp_slot_record(ct, call, p);
	}
}

void shp_media_forget(struct shp_net *sn, struct nf_conn *ct, u32 call)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	struct shp_ct_data *d;
	unsigned int i, removed = 0;

	if (!help)
		return;
	d = nfct_help_data(ct);
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		u16 port = ntohs(exp->tuple.dst.u.udp.port);

		if (exp->class != SHP_EXPECT_MEDIA)
			continue;
		for (i = 0; i < SHP_CT_SLOTS; i++) {
			if (d->call[i] != call)
				continue;
			if (port == d->port[i] || port == d->port[i] + 1) {
				nf_ct_unlink_expect(exp);
				removed++;
				break;
			}
		}
	}
	for (i = 0; i < SHP_CT_SLOTS; i++)
		if (d->call[i] == call)
			d->call[i] = 0;
	spin_unlock_bh(&nf_conntrack_expect_lock);
	while (removed--)
		shp_stat_inc(sn, SHP_STAT_EXPECT_REMOVED);
}
