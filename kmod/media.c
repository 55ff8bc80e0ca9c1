// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: media expectations. For each SDP m= stream the UA offers or
 * answers through the NAT, an RTP and an RTCP expectation towards the
 * public address, destination-NATed back to the UA's media address:port.
 * The UA's own port is kept when it is free on the public side, else the
 * next pairs are tried. Each pair is recorded in the call table
 * (calls.c), so that a BYE, CANCEL or final error removes that call's
 * expectations only; a pair the table cannot hold is not opened.
 */

#include <linux/module.h>
#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"

/*
 * An expectation for UDP to dst:port (from src, or from anywhere when src
 * is NULL). With NAT it is destination-NATed to to:to_port by
 * shp_expectfn(); without NAT (to NULL) the media flow is only let in.
 * Either way shp_expectfn() tells the call table the flow came.
 */
static struct nf_conntrack_expect *
shp_media_alloc(struct nf_conn *ct, const union nf_inet_addr *src,
		const union nf_inet_addr *dst, u16 port,
		enum ip_conntrack_dir dir, const union nf_inet_addr *to,
		u16 to_port)
{
	struct nf_conntrack_expect *exp;
	__be16 p = htons(port);

	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return NULL;
	nf_ct_expect_init(exp, SHP_EXPECT_MEDIA, nf_ct_l3num(ct), src, dst,
			  IPPROTO_UDP, NULL, &p);
	exp->dir = dir;
	exp->saved_proto.udp.port = htons(to_port);
	if (to)
		exp->saved_addr = *to;
	/* NAT with @to; either way the call table learns the flow */
	exp->expectfn = shp_expectfn;
	return exp;
}

/* Where the media of one SDP stream is expected. */
struct shp_media_dst {
	const union nf_inet_addr *src;	/* NULL: any (direct media) */
	const union nf_inet_addr *dst;	/* public (NAT) or SDP address */
	enum ip_conntrack_dir dir;
	const union nf_inet_addr *to;	/* NAT: the UA's SDP address */
	unsigned int tries;		/* public pairs to try */
};

/*
 * With NAT, try public pairs from the UA's RTP port up; without, or when
 * the SDP is not rewritten (pinholes only), only the SDP's own ports.
 * Returns the public RTP port or 0.
 */
static u16 shp_media_pair(struct shp_net *sn, struct nf_conn *ct,
			  const struct shp_media_dst *md, u16 rtp, u16 rtcp)
{
	unsigned int tries, max = md->tries;
	struct nf_conntrack_expect *e1, *e2;
	u16 p = rtp;
	int err;

	for (tries = 0; tries < max && p && p < 65535; tries++, p += 2) {
		e1 = shp_media_alloc(ct, md->src, md->dst, p, md->dir, md->to,
				     rtp);
		if (!e1)
			return 0;
		e2 = md->to ? shp_media_alloc(ct, md->src, md->dst, p + 1,
					      md->dir, md->to, rtcp) :
			      shp_media_alloc(ct, md->src, md->dst, rtcp,
					      md->dir, NULL, rtp);
		if (!e2) {
			nf_ct_expect_put(e1);
			return 0;
		}
		err = shp_expect_related(e1);
		if (!err) {
			err = shp_expect_related(e2);
			if (err)
				nf_ct_unexpect_related(e1);
		}
		nf_ct_expect_put(e1);
		nf_ct_expect_put(e2);
		if (!err) {
			shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_CREATED));
			shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_CREATED));
			return p;
		}
		if (err != -EBUSY)
			return 0;
	}
	return 0;
}

/*
 * The SDP of msg, sent in direction dir of a SIP flow, supersedes what the
 * sender offered or answered before in this call (RFC 3264): the call's
 * previous pairs go, each usable stream gets a new pair. With NAT only
 * the UA's SDP is handled (ctx gets the public ports for the planner);
 * without NAT (ctx NULL) the SDP of either side is, unrewritten.
 */
void shp_media_expect(struct shp_net *sn, const struct shp_config *cfg,
		      const struct shp_flow *fl, enum ip_conntrack_dir dir,
		      const struct shp_sip_msg *msg, u32 call,
		      struct shp_rewrite_ctx *ctx)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *peer = &ct->tuplehash[!dir].tuple;
	u8 family = nf_ct_l3num(ct) == NFPROTO_IPV4 ? 4 : 6;
	/* Calls are recorded per sending side (bit 0): without NAT both
	 * sides' SDP is handled and one must not supersede the other.
	 */
	u32 key = call | (dir == IP_CT_DIR_REPLY);
	struct shp_addr sender = { .family = family };
	struct shp_media_dst md;
	union nf_inet_addr to;
	unsigned int i;
	u16 p, rtcp, pub_rtcp;

	memcpy(sender.a, &ct->tuplehash[dir].tuple.src.u3,
	       family == 4 ? 4 : 16);

	shp_stat_add(sn, SHP_STAT(EXPECTATIONS_REMOVED),
		     shp_call_forget(sn, ct, key));
	/* The media comes from the peer, to the sender's address as the
	 * peer sees it (the public address under NAT): the peer's tuple.
	 */
	md.src = cfg->direct_media ? NULL : &peer->src.u3;
	md.dir = !dir;
	md.to = fl->nat ? &to : NULL;
	md.tries = fl->nat && !cfg->pinholes_only ? SHP_MEDIA_PORT_TRIES : 1;
	md.dst = fl->nat ? &peer->dst.u3 : &to;
	for (i = 0; i < msg->sdp.n_media; i++) {
		const struct shp_sdp_media *m = &msg->sdp.media[i];

		/* the core's media policy (kmod/core/shp_media.c) */
		if (!shp_media_wanted(m, &sender))
			continue;
		memset(&to, 0, sizeof(to));
		memcpy(&to, m->addr.a, family == 4 ? 4 : 16);
		rtcp = shp_media_rtcp_port(m);
		p = shp_media_pair(sn, ct, &md, m->port, rtcp);
		if (!p) {
			net_dbg_ratelimited("siphelper: no public port for media\n");
			continue;
		}
		/* with NAT the public pair is p, p + 1 (shp_media_pair()) */
		pub_rtcp = fl->nat ? p + 1 : rtcp;
		if (!shp_call_record(sn, ct, key, md.dst, p, pub_rtcp, &to,
				     m->port, rtcp)) {
			shp_stat_add(sn, SHP_STAT(EXPECTATIONS_REMOVED),
				     shp_call_unexpect_pair(ct, key & 1, md.dst,
							    p, pub_rtcp));
			continue;
		}
		if (ctx) {
			ctx->media_port[i] = p;
			if (m->rtcp_port)
				ctx->rtcp_port[i] = p + 1;
		}
	}
}

/*
 * A BYE, CANCEL or final error ended a call (calls.c removed its own
 * pairs). A flow that conntrackd made on this router after a failover
 * (not born here) has no call recorded: its calls were set up on the other
 * router, whose records conntrackd cannot carry. Its first ending call
 * takes every pinhole of the flow but the registration's (towards the
 * flow's own public port), which is exact for a phone with one call and
 * otherwise better than leaving them to their 3 minutes. By port, not by
 * class: conntrackd's commit loses the class, which synced.c only guesses
 * back (docs/ha.md).
 */
void shp_media_synced_end(struct shp_net *sn, struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	unsigned int removed = 0;
	struct shp_ct_data *d;
	__be16 own;

	if (!help)
		return;
	d = nfct_help_data(ct);
	if (READ_ONCE(d->flags) & SHP_CT_BORN_HERE)
		return;
	/* the flow's public SIP port: the UA's side after NAT */
	own = ct->status & IPS_SRC_NAT ?
	      ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.u.all :
	      ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.u.all;
	spin_lock_bh(&nf_conntrack_expect_lock);
	/* once: the calls of the flow from now on are recorded */
	if (!(d->flags & SHP_CT_BORN_HERE)) {
		hlist_for_each_entry_safe(exp, next, &help->expectations,
					  lnode) {
			if (exp->tuple.dst.u.all == own)
				continue;
			nf_ct_unlink_expect(exp);
			removed++;
		}
		WRITE_ONCE(d->flags, d->flags | SHP_CT_BORN_HERE);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	shp_stat_add(sn, SHP_STAT(EXPECTATIONS_REMOVED), removed);
}

/*
 * Take back the pairs at the public RTP ports of @undo[0..n) of this NAT
 * flow: the message that opened them was not sent as planned.
 */
void shp_media_undo(struct shp_net *sn, struct nf_conn *ct,
		    const struct shp_media_opened *undo, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		shp_stat_add(sn, SHP_STAT(EXPECTATIONS_REMOVED),
			     shp_call_undo(sn, ct, undo[i].key,
					   undo[i].port));
}
