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

#include <linux/module.h>
#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"

/*
 * An expectation for UDP to dst:port (from src, or from anywhere when src
 * is NULL). With NAT it is destination-NATed to to:to_port by
 * shp_expectfn(); without NAT (to NULL) the media flow is only let in,
 * and to_port, the RTP port of its pair, is kept in saved_proto (unused
 * without expectfn): an a=rtcp port need not be RTP + 1, so the pair is
 * found by it (shp_media_is_pair()).
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
	if (to) {
		exp->saved_addr = *to;
		exp->expectfn = shp_expectfn;
	}
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
	d->port[i] = port;
	WRITE_ONCE(d->call[i], call);
	d->next = (i + 1) % SHP_CT_SLOTS;
out:
	spin_unlock_bh(&nf_conntrack_expect_lock);
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
	u16 p;

	memcpy(sender.a, &ct->tuplehash[dir].tuple.src.u3,
	       family == 4 ? 4 : 16);

	shp_media_forget(sn, ct, key, ~0U);
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
		p = shp_media_pair(sn, ct, &md, m->port,
				   shp_media_rtcp_port(m));
		if (!p) {
			net_dbg_ratelimited("siphelper: no public port for media\n");
			continue;
		}
		if (ctx) {
			ctx->media_port[i] = p;
			if (m->rtcp_port)
				ctx->rtcp_port[i] = p + 1;
		}
		shp_slot_record(ct, key, p);
	}
}

/*
 * Is @exp the RTP or RTCP pinhole of the pair at @port opened for the SDP
 * of side @key? Without NAT both sides often use the same port number: the
 * direction tells them apart (a sender's media flows towards it, in the
 * other direction; bit 0 of the key is the sending side).
 */
static bool shp_media_is_pair(const struct nf_conntrack_expect *exp,
			      u32 key, u16 port)
{
	u16 p = ntohs(exp->tuple.dst.u.udp.port);

	if (exp->class != SHP_EXPECT_MEDIA ||
	    exp->dir != (key & 1 ? IP_CT_DIR_ORIGINAL : IP_CT_DIR_REPLY))
		return false;
	/* without NAT: the pair's RTP port, see shp_media_alloc() */
	if (!exp->expectfn)
		return ntohs(exp->saved_proto.udp.port) == port;
	return p == port || p == port + 1;
}

/* Remove the pairs of the calls whose key matches call under mask. */
void shp_media_forget(struct shp_net *sn, struct nf_conn *ct, u32 call,
		      u32 mask)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	struct shp_ct_data *d;
	unsigned int i, removed = 0;

	if (!help)
		return;
	d = nfct_help_data(ct);
	/* Most offers and answers start a call: nothing recorded, nothing to
	 * remove, so spare the global lock. Slots are written under it; a
	 * racing record belongs to a message of this flow being handled at
	 * the same moment, which this one could not order against anyway.
	 */
	for (i = 0; i < SHP_CT_SLOTS; i++) {
		u32 c = READ_ONCE(d->call[i]);

		if (c && (c & mask) == call)
			break;
	}
	if (i == SHP_CT_SLOTS)
		return;
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		for (i = 0; i < SHP_CT_SLOTS; i++) {
			if (!d->call[i] || (d->call[i] & mask) != call)
				continue;
			if (shp_media_is_pair(exp, d->call[i], d->port[i])) {
				nf_ct_unlink_expect(exp);
				removed++;
				break;
			}
		}
	}
	for (i = 0; i < SHP_CT_SLOTS; i++)
		if ((d->call[i] & mask) == call)
			WRITE_ONCE(d->call[i], 0);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	while (removed--)
		shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_REMOVED));
}

/*
 * A BYE, CANCEL or final error ended @call. A flow that conntrackd made
 * on this router after a failover (not born here) has no call recorded:
 * its calls were set up on the other router, whose records conntrackd
 * cannot carry. Its first ending call takes every pinhole of the flow
 * but the registration's (towards the flow's own public port), which is
 * exact for a phone with one call and otherwise better than leaving them
 * to their 3 minutes. By port, not by class: conntrackd's commit loses
 * the class, which synced.c only guesses back (docs/ha.md).
 */
void shp_media_call_ended(struct shp_net *sn, struct nf_conn *ct, u32 call)
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
	if (READ_ONCE(d->flags) & SHP_CT_BORN_HERE) {
		shp_media_forget(sn, ct, call, ~1U);
		return;
	}
	/* the flow's public SIP port: the UA's side after NAT */
	own = ct->status & IPS_SRC_NAT ?
	      ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.u.all :
	      ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.u.all;
	spin_lock_bh(&nf_conntrack_expect_lock);
	/* once: the calls of the flow from now on are recorded here */
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
	while (removed--)
		shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_REMOVED));
	shp_media_forget(sn, ct, call, ~1U);
}

/*
 * Take back the pairs at the public RTP ports @port[0..n) of this NAT
 * flow: the message that opened them was not sent as planned. Public
 * ports are unique on the public address, so the port names the pair.
 */
void shp_media_undo(struct shp_net *sn, struct nf_conn *ct, const u16 *port,
		    unsigned int n)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	struct shp_ct_data *d;
	unsigned int i, removed = 0;

	if (!help || !n)
		return;
	d = nfct_help_data(ct);
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		u16 p = ntohs(exp->tuple.dst.u.udp.port);

		if (exp->class != SHP_EXPECT_MEDIA)
			continue;
		for (i = 0; i < n; i++) {
			if (p == port[i] || p == port[i] + 1) {
				nf_ct_unlink_expect(exp);
				removed++;
				break;
			}
		}
	}
	for (i = 0; i < SHP_CT_SLOTS; i++) {
		unsigned int j;

		for (j = 0; j < n; j++)
			if (d->call[i] && d->port[i] == port[j])
				WRITE_ONCE(d->call[i], 0);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	while (removed--)
		shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_REMOVED));
}
