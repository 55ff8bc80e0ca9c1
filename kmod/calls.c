// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: the call table. One entry per call (signalling conntrack and
 * Call-ID key) of a network namespace, from its INVITE to its end: its
 * state, its Call-ID, From and To as the caller wrote them, and the public
 * media pairs that its offers and answers opened, so that a new offer, a
 * BYE, a CANCEL or a final error removes exactly that call's pinholes,
 * however many calls share the flow (a PBX trunk). Entries are found by
 * hash of (conntrack, call); a flow's entries also hang from a flow
 * record, found by hash of the conntrack, so that the helper's destroy
 * callback removes them with the conntrack (not from the conntrack's own
 * extension area, which may move while it is unconfirmed). The table is
 * bounded (sip-max-calls); a worker removes calls whose end was not seen.
 * See docs/datapath.md "Per-call storage".
 */

#include <linux/slab.h>
#include <linux/jhash.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack_acct.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_extend.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <linux/siphelper.h>

#include "datapath.h"

/* RFC 3261 timer F (64 T1): a BYE or CANCEL gets its answer by then */
#define SHP_CALL_ENDING_TIMEOUT		(32 * HZ)
/* a call that is not answered and hears nothing for this long is gone */
#define SHP_CALL_SETUP_TIMEOUT		(180 * HZ)
#define SHP_CALL_GC_PERIOD		(2 * HZ)

/*
 * One public media pair: RTP and RTCP towards dst, forwarded to @to. Once
 * media came in, the source of each flow the pinholes made (its original
 * tuple is then known: the table looks it up for its packets).
 */
struct shp_call_pair {
	union nf_inet_addr dst;		/* public address (SDP's without NAT) */
	union nf_inet_addr to;		/* NAT: the UA's SDP address */
	union nf_inet_addr peer;	/* the media's source */
	__be16 rtp, rtcp;		/* at dst */
	__be16 to_rtp, to_rtcp;		/* at to (NAT), else rtp, rtcp */
	__be16 peer_rtp, peer_rtcp;	/* 0 until that flow came */
	u8 side;			/* bit 0 of the key: the SDP's sender */
};

/* The calls of one signalling flow. */
struct shp_call_flow {
	struct hlist_node node;		/* sn->calls.flows[] */
	struct nf_conn *ct;		/* key; no reference: see destroy */
	struct hlist_head calls;
};

struct shp_call {
	struct hlist_node node;		/* sn->calls.head[] */
	struct hlist_node sibling;	/* flow->calls */
	struct shp_call_flow *flow;
	struct shp_call_pair *pair;	/* room for @room, grown on demand */
	unsigned long start;		/* jiffies of the INVITE */
	unsigned long last;		/* of its last INVITE-dialog message */
	unsigned long answered;		/* of the 2xx */
	unsigned long media_last;	/* when media_pkts last moved */
	u32 media_pkts;			/* all its flows' packets, sampled */
	u32 call;			/* Call-ID key, bit 0 clear */
	u16 id_full;			/* the Call-ID's length, uncut */
	u8 n, room;
	u8 state;			/* enum siphelper_call_state */
	u8 id_len, from_len, to_len;	/* of text[], each cut */
	bool hold;			/* the last SDP held every stream */
	u8 src_dir;			/* 1 + the direction of the source
					 * counted for sip-source-call-limit,
					 * 0: none
					 */
	char text[];			/* Call-ID, From URI, To URI */
};

/* What left the table under the lock: its events go after it. */
struct shp_call_ended {
	struct sk_buff_head events;
	bool wanted;			/* someone listens to events */
	unsigned int calls, expects;
};

static u32 shp_call_bucket(const struct nf_conn *ct, u32 call)
{
	return hash_32(jhash_2words(hash_ptr(ct, 32), call, 0),
		       SHP_CALL_HASH_BITS);
}

static struct shp_call_flow *shp_call_flow_find(struct shp_net *sn,
						const struct nf_conn *ct)
{
	struct shp_call_flow *f;

	lockdep_assert_held(&sn->calls.lock);
	hlist_for_each_entry(f, &sn->calls.flows[hash_ptr(ct,
				SHP_CALL_FLOW_HASH_BITS)], node)
		if (f->ct == ct)
			return f;
	return NULL;
}

static struct shp_call *shp_call_find(struct shp_net *sn,
				      const struct nf_conn *ct, u32 call)
{
	struct shp_call *c;

	lockdep_assert_held(&sn->calls.lock);
	hlist_for_each_entry(c, &sn->calls.head[shp_call_bucket(ct, call)],
			     node)
		if (c->flow->ct == ct && c->call == call)
			return c;
	return NULL;
}

static void shp_call_free(struct shp_net *sn, struct shp_call *c)
{
	struct shp_call_flow *f = c->flow;

	lockdep_assert_held(&sn->calls.lock);
	if (c->src_dir)
		shp_source_calls(sn, nf_ct_l3num(f->ct),
				 &f->ct->tuplehash[c->src_dir - 1].tuple.src.u3,
				 -1);
	hlist_del(&c->node);
	hlist_del(&c->sibling);
	WRITE_ONCE(sn->calls.count, sn->calls.count - 1);
	kfree(c->pair);
	kfree(c);
	if (hlist_empty(&f->calls)) {
		hlist_del(&f->node);
		kfree(f);
	}
}

/* ---- the netlink view: get-calls and the call events ---- */

static size_t shp_call_size(const struct shp_call *c)
{
	size_t pair = nla_total_size(0) + 2 * nla_total_size(16) +
		      nla_total_size(sizeof(u8)) +
		      4 * nla_total_size(sizeof(u16));

	return nla_total_size(0) + nla_total_size(c->id_len) +
	       nla_total_size(c->from_len) + nla_total_size(c->to_len) +
	       4 * nla_total_size(sizeof(u32)) + nla_total_size(sizeof(u8)) +
	       nla_total_size(0) + c->n * pair;
}

/*
 * The flow that the pinhole at @dport made from @sport, or NULL (not come
 * yet, or gone). Its reference is the caller's.
 */
static struct nf_conn *shp_pair_ct(const struct nf_conn *master,
				   const struct shp_call_pair *p, __be16 sport,
				   __be16 dport)
{
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple t = {};
	struct nf_conn *ct;

	if (!sport)
		return NULL;
	t.src.l3num = nf_ct_l3num(master);
	t.src.u3 = p->peer;
	t.src.u.udp.port = sport;
	t.dst.u3 = p->dst;
	t.dst.u.udp.port = dport;
	t.dst.protonum = IPPROTO_UDP;
	t.dst.dir = IP_CT_DIR_ORIGINAL;
	h = nf_conntrack_find_get(nf_ct_net(master), nf_ct_zone(master), &t);
	if (!h)
		return NULL;
	ct = nf_ct_tuplehash_to_ctrack(h);
	if (NF_CT_DIRECTION(h) == IP_CT_DIR_ORIGINAL && ct->master == master)
		return ct;
	nf_ct_put(ct);
	return NULL;
}

/*
 * Packets of the pair's RTP and RTCP flows, in (from the peer) and out;
 * the flows' accounting extension was added when they came (expectfn).
 * The put of a flow that went meanwhile may be its last: it frees it and
 * drops its master reference, never the master's last (the master is in
 * the table, so its destroy callback has not run), and takes no lock of
 * ours.
 */
static void shp_pair_packets(const struct nf_conn *master,
			     const struct shp_call_pair *p, u64 pkts[2])
{
	__be16 ports[2][2] = { { p->peer_rtp, p->rtp },
			       { p->peer_rtcp, p->rtcp } };
	struct nf_conn_acct *acct;
	struct nf_conn *ct;
	unsigned int i;

	pkts[0] = 0;
	pkts[1] = 0;
	for (i = 0; i < 2; i++) {
		ct = shp_pair_ct(master, p, ports[i][0], ports[i][1]);
		if (!ct)
			continue;
		acct = nf_conn_acct_find(ct);
		if (acct) {
			pkts[0] += atomic64_read(
				&acct->counter[IP_CT_DIR_ORIGINAL].packets);
			pkts[1] += atomic64_read(
				&acct->counter[IP_CT_DIR_REPLY].packets);
		}
		nf_ct_put(ct);
	}
}

static int shp_call_put_pair(struct sk_buff *skb, const struct shp_call *c,
			     const struct shp_call_pair *p, int alen,
			     bool packets)
{
	struct nlattr *nest = nla_nest_start(skb, SIPHELPER_A_CALL_STREAM);
	u64 pkts[2];

	if (!nest ||
	    nla_put_u8(skb, SIPHELPER_A_STREAM_DIR,
		       p->side ? SIPHELPER_DIR_IN : SIPHELPER_DIR_OUT) ||
	    nla_put(skb, SIPHELPER_A_STREAM_ADDR, alen, &p->dst) ||
	    nla_put_u16(skb, SIPHELPER_A_STREAM_RTP_PORT, ntohs(p->rtp)) ||
	    nla_put_u16(skb, SIPHELPER_A_STREAM_RTCP_PORT, ntohs(p->rtcp)) ||
	    nla_put(skb, SIPHELPER_A_STREAM_PRIV_ADDR, alen, &p->to) ||
	    nla_put_u16(skb, SIPHELPER_A_STREAM_PRIV_RTP_PORT,
			ntohs(p->to_rtp)) ||
	    nla_put_u16(skb, SIPHELPER_A_STREAM_PRIV_RTCP_PORT,
			ntohs(p->to_rtcp)))
		return -EMSGSIZE;
	if (packets && (p->peer_rtp || p->peer_rtcp)) {
		shp_pair_packets(c->flow->ct, p, pkts);
		if (nla_put_u32(skb, SIPHELPER_A_STREAM_PACKETS_IN,
				min_t(u64, pkts[0], U32_MAX)) ||
		    nla_put_u32(skb, SIPHELPER_A_STREAM_PACKETS_OUT,
				min_t(u64, pkts[1], U32_MAX)))
			return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* @packets: with each stream's packets (get-calls: process context) */
static int shp_call_put(struct sk_buff *skb, int type,
			const struct shp_call *c, unsigned long now,
			bool packets)
{
	const struct nf_conn *ct = c->flow->ct;
	int alen = nf_ct_l3num(ct) == NFPROTO_IPV4 ? 4 : 16;
	const char *t = c->text;
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, type);
	if (!nest ||
	    nla_put(skb, SIPHELPER_A_CALL_ID, c->id_len, t) ||
	    nla_put_u32(skb, SIPHELPER_A_CALL_ID_LEN, c->id_full) ||
	    nla_put(skb, SIPHELPER_A_CALL_FROM, c->from_len, t + c->id_len) ||
	    nla_put(skb, SIPHELPER_A_CALL_TO, c->to_len,
		    t + c->id_len + c->from_len) ||
	    nla_put_u32(skb, SIPHELPER_A_CALL_STATE, c->state) ||
	    nla_put_u32(skb, SIPHELPER_A_CALL_AGE, (now - c->start) / HZ) ||
	    nla_put_u32(skb, SIPHELPER_A_CALL_CT_ID, shp_ct_id(ct)) ||
	    nla_put_u8(skb, SIPHELPER_A_CALL_L3PROTO,
		       alen == 4 ? AF_INET : AF_INET6) ||
	    (c->hold && nla_put_flag(skb, SIPHELPER_A_CALL_HOLD)))
		return -EMSGSIZE;
	for (i = 0; i < c->n; i++)
		if (shp_call_put_pair(skb, c, &c->pair[i], alen, packets))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * A call event for the listeners, queued on @q (sent once the table's
 * lock is dropped). @dir: the message's, or ORIGINAL without one.
 */
static void shp_call_event(struct shp_net *sn, struct shp_call *c, u32 type,
			   enum ip_conntrack_dir dir, const char *reason,
			   struct sk_buff_head *q)
{
	struct shp_event_ctx ec;
	struct sk_buff *skb;

	if (!q)
		return;
	skb = shp_event_begin(sn, type, c->flow->ct, dir, reason,
			      shp_call_size(c), &ec);
	if (!skb)
		return;
	skb = shp_event_finish(sn, skb, &ec,
			       shp_call_put(skb, SIPHELPER_A_EVENT_CALL, c,
					    jiffies, false));
	if (skb)
		__skb_queue_tail(q, skb);
}

/* ---- pinholes ---- */

/*
 * Unlink the expectation of @ct towards @dst:@port, if it is still there
 * (its first packet or its timeout may have taken it). Public ports are
 * unique on their address: the tuple names it. Under the expect lock.
 */
static unsigned int shp_call_unexpect(struct nf_conn *ct, u8 side,
				      const union nf_inet_addr *dst,
				      __be16 port)
{
	enum ip_conntrack_dir dir = side ? IP_CT_DIR_REPLY :
					   IP_CT_DIR_ORIGINAL;
	struct nf_conntrack_expect *exp;
	struct nf_conntrack_tuple t = {};

	/* from the peer, as shp_media_expect() made it */
	t.src.l3num = nf_ct_l3num(ct);
	t.src.u3 = ct->tuplehash[!dir].tuple.src.u3;
	t.dst.u3 = *dst;
	t.dst.protonum = IPPROTO_UDP;
	t.dst.u.udp.port = port;
	exp = __nf_ct_expect_find(nf_ct_net(ct), nf_ct_zone(ct), &t);
	if (!exp || exp->master != ct || exp->class != SHP_EXPECT_MEDIA)
		return 0;
	nf_ct_unlink_expect(exp);
	return 1;
}

/* Pairs of @c that @keep rejects go, with their expectations. */
static unsigned int shp_call_drop_pairs(struct shp_call *c,
					bool (*keep)(const struct shp_call_pair *,
						     u32),
					u32 arg)
{
	struct nf_conn *ct = c->flow->ct;
	unsigned int i, n = 0, removed = 0;

	spin_lock_bh(&nf_conntrack_expect_lock);
	for (i = 0; i < c->n; i++) {
		const struct shp_call_pair *p = &c->pair[i];

		if (keep(p, arg)) {
			c->pair[n++] = *p;
			continue;
		}
		removed += shp_call_unexpect(ct, p->side, &p->dst, p->rtp);
		removed += shp_call_unexpect(ct, p->side, &p->dst, p->rtcp);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	c->n = n;
	return removed;
}

unsigned int shp_call_unexpect_pair(struct nf_conn *ct, u8 side,
				    const union nf_inet_addr *dst, u16 rtp,
				    u16 rtcp)
{
	unsigned int removed;

	spin_lock_bh(&nf_conntrack_expect_lock);
	removed = shp_call_unexpect(ct, side, dst, htons(rtp)) +
		  shp_call_unexpect(ct, side, dst, htons(rtcp));
	spin_unlock_bh(&nf_conntrack_expect_lock);
	return removed;
}

static bool shp_pair_other_side(const struct shp_call_pair *p, u32 side)
{
	return p->side != side;
}

static bool shp_pair_other_port(const struct shp_call_pair *p, u32 port)
{
	return ntohs(p->rtp) != port;
}

static bool shp_pair_none(const struct shp_call_pair *p, u32 unused)
{
	return false;
}

/* @c ends now: its pinholes go, an event says why; @free: the entry too. */
static void shp_call_end(struct shp_net *sn, struct shp_call *c,
			 enum ip_conntrack_dir dir, const char *reason,
			 bool free, struct shp_call_ended *e)
{
	e->expects += shp_call_drop_pairs(c, shp_pair_none, 0);
	if (reason)
		shp_call_event(sn, c, SIPHELPER_EVENT_CALL_END, dir, reason,
			       e->wanted ? &e->events : NULL);
	if (free) {
		shp_call_free(sn, c);
		e->calls++;
	} else {
		c->state = SIPHELPER_CALL_ENDING;
		c->last = jiffies;
	}
}

static void shp_call_ended_init(struct shp_net *sn,
				struct shp_call_ended *e)
{
	__skb_queue_head_init(&e->events);
	e->wanted = shp_events_wanted(sn->calls.net);
	e->calls = 0;
	e->expects = 0;
}

/* Out of the lock: count, and send the events. */
static void shp_call_ended_done(struct shp_net *sn, struct shp_call_ended *e)
{
	shp_stat_add(sn, SHP_STAT(EXPECTATIONS_REMOVED), e->expects);
	shp_events_flush(sn->calls.net, sn, &e->events, true);
}

/* ---- the datapath ---- */

static void shp_call_gc_arm(struct shp_net *sn)
{
	if (!READ_ONCE(sn->calls.dead))
		queue_delayed_work(system_power_efficient_wq, &sn->calls.gc,
				   SHP_CALL_GC_PERIOD);
}

static struct shp_call *shp_call_new(struct shp_net *sn,
				     const struct shp_config *cfg,
				     struct nf_conn *ct, u32 call,
				     const struct shp_sip_msg *msg,
				     const char *buf, enum ip_conntrack_dir dir)
{
	u8 id = min_t(u16, msg->call_id.len, SIPHELPER_CALL_TEXT_MAX);
	u8 from = min_t(u16, msg->from.uri.len, SIPHELPER_CALL_TEXT_MAX);
	u8 to = min_t(u16, msg->to.uri.len, SIPHELPER_CALL_TEXT_MAX);
	struct shp_call_flow *f;
	struct shp_call *c;

	if (sn->calls.dead || sn->calls.count >= cfg->max_calls)
		return NULL;
	c = kzalloc(struct_size(c, text, id + from + to), GFP_ATOMIC);
	if (!c)
		return NULL;
	f = shp_call_flow_find(sn, ct);
	if (!f) {
		f = kzalloc(sizeof(*f), GFP_ATOMIC);
		if (!f) {
			kfree(c);
			return NULL;
		}
		f->ct = ct;
		INIT_HLIST_HEAD(&f->calls);
		hlist_add_head(&f->node, &sn->calls.flows[hash_ptr(ct,
			       SHP_CALL_FLOW_HASH_BITS)]);
	}
	c->flow = f;
	c->call = call;
	c->start = jiffies;
	c->last = c->start;
	c->state = SIPHELPER_CALL_TRYING;
	c->id_full = msg->call_id.len;
	c->id_len = id;
	c->from_len = from;
	c->to_len = to;
	memcpy(c->text, buf + msg->call_id.off, id);
	memcpy(c->text + id, buf + msg->from.uri.off, from);
	memcpy(c->text + id + from, buf + msg->to.uri.off, to);
	/* the INVITE's sender, for its limit (policy.c) */
	if (cfg->source_call_limit && msg->type == SHP_MSG_REQUEST &&
	    shp_source_calls(sn, nf_ct_l3num(ct),
			     &ct->tuplehash[dir].tuple.src.u3, 1))
		c->src_dir = 1 + dir;
	hlist_add_head(&c->node, &sn->calls.head[shp_call_bucket(ct, call)]);
	hlist_add_head(&c->sibling, &f->calls);
	WRITE_ONCE(sn->calls.count, sn->calls.count + 1);
	shp_call_gc_arm(sn);
	return c;
}

bool shp_call_track(struct shp_net *sn, const struct shp_config *cfg,
		    const struct shp_flow *fl, enum ip_conntrack_dir dir,
		    const struct shp_sip_msg *msg, const char *buf, u32 call)
{
	enum shp_call_step step = shp_call_step(msg);
	struct shp_call_ended e;
	struct sk_buff_head *q;
	struct shp_call *c;
	bool ends;

	/* most SIP (REGISTER, OPTIONS, an ACK) changes no call: no lock */
	if (step == SHP_CALL_STEP_NONE && !shp_media_offer_answer(msg))
		return false;
	/* without an entry: a flow conntrackd made has none (media.c) */
	ends = step == SHP_CALL_STEP_BYE || step == SHP_CALL_STEP_CANCEL ||
	       step == SHP_CALL_STEP_REJECT;
	shp_call_ended_init(sn, &e);
	q = e.wanted ? &e.events : NULL;
	spin_lock_bh(&sn->calls.lock);
	c = shp_call_find(sn, fl->ct, call);
	if (!c) {
		/* an INVITE, or an offer or answer of a call seen midway */
		if (step != SHP_CALL_STEP_INVITE &&
		    !shp_media_offer_answer(msg))
			goto out;
		c = shp_call_new(sn, cfg, fl->ct, call, msg, buf, dir);
		if (!c) {
			shp_stat_inc(sn, SHP_STAT(CALLS_REFUSED));
			goto out;
		}
		shp_call_event(sn, c, SIPHELPER_EVENT_CALL_START, dir, NULL, q);
	}
	if (c->state != SIPHELPER_CALL_ENDING)
		c->last = jiffies;
	if (shp_media_offer_answer(msg)) {
		/* new media: its inactivity counts from now */
		c->hold = shp_media_held(msg);
		c->media_last = jiffies;
	}
	switch (step) {
	case SHP_CALL_STEP_PROGRESS:
		if (c->state == SIPHELPER_CALL_TRYING)
			c->state = SIPHELPER_CALL_EARLY;
		break;
	case SHP_CALL_STEP_ANSWER:
		if (c->state < SIPHELPER_CALL_CONFIRMED) {
			c->state = SIPHELPER_CALL_CONFIRMED;
			c->answered = jiffies;
			c->media_last = c->answered;
			shp_call_event(sn, c, SIPHELPER_EVENT_CALL_ANSWER, dir,
				       NULL, q);
		}
		break;
	case SHP_CALL_STEP_REJECT:
		/* a failed re-INVITE leaves the call as it was (RFC 3261
		 * 14.1); the 487 after a CANCEL finishes the ending call
		 */
		if (c->state == SIPHELPER_CALL_CONFIRMED)
			ends = false;
		else if (c->state == SIPHELPER_CALL_ENDING)
			shp_call_free(sn, c);
		else
			shp_call_end(sn, c, dir, "rejected", true, &e);
		break;
	case SHP_CALL_STEP_CANCEL:
		/* a CANCEL after the answer does nothing (RFC 3261 9.1) */
		if (c->state == SIPHELPER_CALL_CONFIRMED) {
			ends = false;
			break;
		}
		fallthrough;
	case SHP_CALL_STEP_BYE:
		if (c->state != SIPHELPER_CALL_ENDING)
			shp_call_end(sn, c, dir, step == SHP_CALL_STEP_BYE ?
				     "bye" : "cancel", false, &e);
		break;
	case SHP_CALL_STEP_BYE_DONE:
		if (c->state == SIPHELPER_CALL_ENDING)
			shp_call_free(sn, c);
		break;
	default:
		break;
	}
out:
	spin_unlock_bh(&sn->calls.lock);
	shp_call_ended_done(sn, &e);
	return ends;
}

bool shp_call_record(struct shp_net *sn, struct nf_conn *ct, u32 key,
		     const union nf_inet_addr *dst, u16 rtp, u16 rtcp,
		     const union nf_inet_addr *to, u16 to_rtp, u16 to_rtcp)
{
	struct shp_call_pair *p;
	struct shp_call *c;
	bool ok = false;

	spin_lock_bh(&sn->calls.lock);
	/* shp_call_track() made it, unless it refused the call (counted) */
	c = shp_call_find(sn, ct, key & ~1U);
	if (!c || c->state == SIPHELPER_CALL_ENDING) {
		spin_unlock_bh(&sn->calls.lock);
		return false;
	}
	if (c->n == c->room && c->room < SHP_CALL_PAIRS) {
		/* 2, 4, ...: most calls have one stream */
		u8 room = c->room ? 2 * c->room : 2;

		p = krealloc_array(c->pair, room, sizeof(*p), GFP_ATOMIC);
		if (p) {
			c->pair = p;
			c->room = room;
		}
	}
	if (c->n < c->room) {
		p = &c->pair[c->n++];
		p->dst = *dst;
		p->to = *to;
		p->rtp = htons(rtp);
		p->rtcp = htons(rtcp);
		p->to_rtp = htons(to_rtp);
		p->to_rtcp = htons(to_rtcp);
		p->side = key & 1;
		ok = true;
	}
	spin_unlock_bh(&sn->calls.lock);
	if (!ok)
		shp_stat_inc(sn, SHP_STAT(CALLS_REFUSED));
	return ok;
}

/*
 * A media flow came through a pinhole of @master (shp_expectfn(), before
 * the flow is confirmed): its pair learns the flow's source, so that the
 * table can find the flow for its packets, and the flow gets conntrack's
 * accounting extension, which counts them (whatever the nf_conntrack_acct
 * sysctl says). Walks the master's calls: once per media flow, bounded by
 * its calls (a trunk's, at most sip-max-calls).
 */
void shp_calls_media_up(struct nf_conn *ct,
			const struct nf_conntrack_expect *exp)
{
	const struct nf_conntrack_tuple *t =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	struct nf_conn *master = exp->master;
	struct shp_net *sn = shp_pernet(nf_ct_net(master));
	struct shp_call_flow *f;
	struct shp_call_pair *p;
	struct shp_call *c;
	unsigned int i;

	if (!READ_ONCE(sn->calls.count))
		return;
	if (!nf_conn_acct_find(ct))
		nf_ct_ext_add(ct, NF_CT_EXT_ACCT, GFP_ATOMIC);
	spin_lock_bh(&sn->calls.lock);
	f = shp_call_flow_find(sn, master);
	if (!f)
		goto out;
	hlist_for_each_entry(c, &f->calls, sibling) {
		for (i = 0; i < c->n; i++) {
			p = &c->pair[i];
			if (!nf_inet_addr_cmp(&p->dst, &t->dst.u3))
				continue;
			if (p->rtp == t->dst.u.udp.port) {
				p->peer = t->src.u3;
				p->peer_rtp = t->src.u.udp.port;
				goto out;
			}
			if (p->rtcp == t->dst.u.udp.port) {
				p->peer = t->src.u3;
				p->peer_rtcp = t->src.u.udp.port;
				goto out;
			}
		}
	}
out:
	spin_unlock_bh(&sn->calls.lock);
}

bool shp_call_exists(struct shp_net *sn, const struct nf_conn *ct, u32 call)
{
	bool found;

	spin_lock_bh(&sn->calls.lock);
	found = shp_call_find(sn, ct, call);
	spin_unlock_bh(&sn->calls.lock);
	return found;
}

/* Drop the pairs of @key's call that @keep rejects. */
static unsigned int shp_call_drop(struct shp_net *sn, struct nf_conn *ct,
				  u32 key,
				  bool (*keep)(const struct shp_call_pair *,
					       u32),
				  u32 arg)
{
	unsigned int removed = 0;
	struct shp_call *c;

	spin_lock_bh(&sn->calls.lock);
	c = shp_call_find(sn, ct, key & ~1U);
	if (c)
		removed = shp_call_drop_pairs(c, keep, arg);
	spin_unlock_bh(&sn->calls.lock);
	return removed;
}

unsigned int shp_call_forget(struct shp_net *sn, struct nf_conn *ct, u32 key)
{
	return shp_call_drop(sn, ct, key, shp_pair_other_side, key & 1);
}

unsigned int shp_call_undo(struct shp_net *sn, struct nf_conn *ct, u32 key,
			   u16 port)
{
	return shp_call_drop(sn, ct, key, shp_pair_other_port, port);
}

/* The helper's destroy callback: the flow's calls go with it. */
void shp_calls_destroy(struct nf_conn *ct)
{
	struct shp_net *sn = shp_pernet(nf_ct_net(ct));
	struct shp_call_flow *f;
	struct hlist_node *tmp;
	struct shp_call_ended e;
	struct shp_call *c;

	/* most flows end with no call: spare the lock */
	if (!READ_ONCE(sn->calls.count))
		return;
	shp_call_ended_init(sn, &e);
	spin_lock_bh(&sn->calls.lock);
	f = shp_call_flow_find(sn, ct);
	/* the last call frees the flow record */
	if (f)
		hlist_for_each_entry_safe(c, tmp, &f->calls, sibling)
			shp_call_end(sn, c, IP_CT_DIR_ORIGINAL,
				     c->state == SIPHELPER_CALL_ENDING ? NULL :
				     "flow-gone", true, &e);
	spin_unlock_bh(&sn->calls.lock);
	/* the conntrack's expectations go with it anyway */
	e.expects = 0;
	shp_call_ended_done(sn, &e);
}

/* ---- the control plane and the worker ---- */

int shp_calls_dump(struct shp_net *sn, struct sk_buff *skb,
		   unsigned long *pos, void *(*hdr)(struct sk_buff *, void *),
		   void *arg)
{
	unsigned long now = jiffies, bucket = pos[0], skip = pos[1], i;
	unsigned int put = 0;
	struct shp_call *c;
	void *h;

	spin_lock_bh(&sn->calls.lock);
	for (; bucket < ARRAY_SIZE(sn->calls.head); bucket++, skip = 0) {
		i = 0;
		hlist_for_each_entry(c, &sn->calls.head[bucket], node) {
			if (i++ < skip)
				continue;
			h = hdr(skb, arg);
			if (!h)
				goto full;
			if (shp_call_put(skb, SIPHELPER_A_CALL, c, now, true)) {
				genlmsg_cancel(skb, h);
				goto full;
			}
			genlmsg_end(skb, h);
			put++;
			skip = i;
		}
	}
full:
	spin_unlock_bh(&sn->calls.lock);
	pos[0] = bucket;
	pos[1] = skip;
	/* a call larger than an empty message would stop the dump */
	return put || bucket == ARRAY_SIZE(sn->calls.head) ? skb->len :
							     -EMSGSIZE;
}

/* Remove the calls with Call-ID @id (all when @id is NULL). */
unsigned int shp_calls_flush(struct shp_net *sn, const char *id,
			     unsigned int len)
{
	struct shp_call_ended e;
	struct hlist_node *tmp;
	struct shp_call *c;
	unsigned int i;
	u32 key = id ? shp_call_key(id, len) : 0;

	shp_call_ended_init(sn, &e);
	spin_lock_bh(&sn->calls.lock);
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++)
		hlist_for_each_entry_safe(c, tmp, &sn->calls.head[i], node) {
			if (id && (c->call != key || c->id_full != len ||
				   memcmp(c->text, id, c->id_len)))
				continue;
			shp_call_end(sn, c, IP_CT_DIR_ORIGINAL,
				     c->state == SIPHELPER_CALL_ENDING ? NULL :
				     "flush", true, &e);
		}
	spin_unlock_bh(&sn->calls.lock);
	shp_call_ended_done(sn, &e);
	return e.calls;
}

/* All packets of @c's media flows (saturated): whether media moved. */
static u32 shp_call_media_packets(const struct shp_call *c)
{
	u64 sum = 0, pkts[2];
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		if (!c->pair[i].peer_rtp && !c->pair[i].peer_rtcp)
			continue;
		shp_pair_packets(c->flow->ct, &c->pair[i], pkts);
		sum += pkts[0] + pkts[1];
	}
	return min_t(u64, sum, U32_MAX);
}

/*
 * Why @c ends now, or NULL. Calls whose end the router did not see: an
 * ending call whose answer did not come ("" : no event, it had one), a
 * call that was never answered and went quiet; and the call timers of an
 * answered one: no media for sip-media-timeout (unless on hold; a call
 * with no pinholes has no media to time), longer than
 * sip-max-call-duration.
 */
static const char *shp_call_expired(struct shp_call *c, unsigned long now,
				    u32 media_timeout, u32 max_duration)
{
	u32 pkts;

	switch (c->state) {
	case SIPHELPER_CALL_ENDING:
		return time_after(now, c->last + SHP_CALL_ENDING_TIMEOUT) ?
		       "" : NULL;
	case SIPHELPER_CALL_CONFIRMED:
		break;
	default:
		return time_after(now, c->last + SHP_CALL_SETUP_TIMEOUT) ?
		       "timeout" : NULL;
	}
	if (max_duration &&
	    time_after(now, c->answered + (unsigned long)max_duration * HZ))
		return "max-duration";
	if (!media_timeout || c->hold || !c->n)
		return NULL;
	pkts = shp_call_media_packets(c);
	if (pkts != c->media_pkts) {
		c->media_pkts = pkts;
		c->media_last = now;
		return NULL;
	}
	return time_after(now, c->media_last +
			  (unsigned long)media_timeout * HZ) ?
	       "media-timeout" : NULL;
}

/*
 * The worker: every SHP_CALL_GC_PERIOD while the table has calls, in
 * process context, one bucket at a time under the lock.
 */
static void shp_calls_gc(struct work_struct *work)
{
	struct shp_net *sn = container_of(to_delayed_work(work),
					  struct shp_net, calls.gc);
	u32 media_timeout = 0, max_duration = 0;
	const struct shp_config *cfg;
	struct shp_call_ended e;
	struct hlist_node *tmp;
	const char *why;
	struct shp_call *c;
	unsigned int i;

	rcu_read_lock();
	cfg = rcu_dereference(sn->cfg);
	if (cfg) {
		media_timeout = cfg->media_timeout;
		max_duration = cfg->max_call_duration;
	}
	rcu_read_unlock();
	shp_call_ended_init(sn, &e);
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++) {
		if (hlist_empty(&sn->calls.head[i]))
			continue;
		spin_lock_bh(&sn->calls.lock);
		hlist_for_each_entry_safe(c, tmp, &sn->calls.head[i], node) {
			why = shp_call_expired(c, jiffies, media_timeout,
					       max_duration);
			if (why)
				shp_call_end(sn, c, IP_CT_DIR_ORIGINAL,
					     *why ? why : NULL, true, &e);
		}
		spin_unlock_bh(&sn->calls.lock);
		cond_resched();
	}
	spin_lock_bh(&sn->calls.lock);
	if (sn->calls.count)
		shp_call_gc_arm(sn);
	spin_unlock_bh(&sn->calls.lock);
	shp_call_ended_done(sn, &e);
}

void shp_calls_init(struct shp_net *sn, struct net *net)
{
	unsigned int i;

	/* what docs/datapath.md gives per call (text aside) */
	BUILD_BUG_ON(offsetof(struct shp_call, text) > 104);
	/* the lock order: calls, then sources (shp_call_free()) */
	BUILD_BUG_ON(sizeof(struct shp_call_pair) != 64);
	BUILD_BUG_ON(sizeof(struct shp_call_flow) > 32);

	spin_lock_init(&sn->calls.lock);
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++)
		INIT_HLIST_HEAD(&sn->calls.head[i]);
	for (i = 0; i < ARRAY_SIZE(sn->calls.flows); i++)
		INIT_HLIST_HEAD(&sn->calls.flows[i]);
	INIT_DELAYED_WORK(&sn->calls.gc, shp_calls_gc);
	sn->calls.net = net;
	sn->calls.count = 0;
	sn->calls.dead = false;
}

/*
 * The netns goes, or the module (its helpers are already unregistered, so
 * no destroy callback runs any more). Conntracks of a dying netns may
 * outlive this: their destroy callback then finds nothing.
 */
void shp_calls_exit(struct shp_net *sn)
{
	struct hlist_node *tmp;
	struct shp_call *c;
	unsigned int i;

	spin_lock_bh(&sn->calls.lock);
	WRITE_ONCE(sn->calls.dead, true);
	spin_unlock_bh(&sn->calls.lock);
	/* no new call arms it now */
	cancel_delayed_work_sync(&sn->calls.gc);
	spin_lock_bh(&sn->calls.lock);
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++)
		hlist_for_each_entry_safe(c, tmp, &sn->calls.head[i], node)
			shp_call_free(sn, c);
	spin_unlock_bh(&sn->calls.lock);
}
