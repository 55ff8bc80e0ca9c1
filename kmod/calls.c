// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: the call table. One entry per call (signalling conntrack and
 * Call-ID key) of a network namespace, holding the public media pairs
 * that the call's offers and answers opened, so that a new offer, a BYE,
 * a CANCEL or a final error removes exactly that call's pinholes, however
 * many calls share the flow (a PBX trunk). Entries are found by hash of
 * (conntrack, call); a flow's entries also hang from a flow record, found
 * by hash of the conntrack, so that the helper's destroy callback removes
 * them with the conntrack (not from the conntrack's own extension area,
 * which may move while it is unconfirmed). The table is bounded
 * (sip-max-calls): a pair that cannot be recorded is not opened. See
 * docs/datapath.md "Per-call storage".
 */

#include <linux/slab.h>
#include <linux/jhash.h>
#include <linux/hash.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "datapath.h"

/* One public media pair: RTP and RTCP towards dst, opened by @side. */
struct shp_call_pair {
	union nf_inet_addr dst;		/* public address (SDP's without NAT) */
	__be16 rtp, rtcp;
	u8 side;			/* bit 0 of the key: the SDP's sender */
};

/* The calls of one signalling flow. */
struct shp_call_flow {
	struct hlist_node node;		/* sn->calls.flows[] */
	const struct nf_conn *ct;	/* key; no reference: see destroy */
	struct hlist_head calls;
};

struct shp_call {
	struct hlist_node node;		/* sn->calls.head[] */
	struct hlist_node sibling;	/* flow->calls */
	struct shp_call_flow *flow;
	u32 call;			/* Call-ID key, bit 0 clear */
	u8 n, room;
	struct shp_call_pair *pair;	/* room for @room, grown on demand */
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
static unsigned int shp_call_drop_pairs(struct nf_conn *ct, struct shp_call *c,
					bool (*keep)(const struct shp_call_pair *,
						     u32),
					u32 arg)
{
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

bool shp_call_record(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct, u32 key,
		     const union nf_inet_addr *dst, u16 rtp, u16 rtcp)
{
	struct shp_call_flow *f;
	u32 call = key & ~1U;
	struct shp_call_pair *p;
	struct shp_call *c;
	bool ok = false;

	spin_lock_bh(&sn->calls.lock);
	if (sn->calls.dead)
		goto out;
	c = shp_call_find(sn, ct, call);
	if (!c) {
		if (sn->calls.count >= cfg->max_calls)
			goto out;
		c = kzalloc(sizeof(*c), GFP_ATOMIC);
		if (!c)
			goto out;
		f = shp_call_flow_find(sn, ct);
		if (!f) {
			f = kzalloc(sizeof(*f), GFP_ATOMIC);
			if (!f) {
				kfree(c);
				goto out;
			}
			f->ct = ct;
			hlist_add_head(&f->node, &sn->calls.flows[hash_ptr(ct,
				       SHP_CALL_FLOW_HASH_BITS)]);
		}
		c->flow = f;
		c->call = call;
		hlist_add_head(&c->node,
			       &sn->calls.head[shp_call_bucket(ct, call)]);
		hlist_add_head(&c->sibling, &f->calls);
		WRITE_ONCE(sn->calls.count, sn->calls.count + 1);
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
		p->rtp = htons(rtp);
		p->rtcp = htons(rtcp);
		p->side = key & 1;
		ok = true;
	}
out:
	spin_unlock_bh(&sn->calls.lock);
	if (!ok)
		shp_stat_inc(sn, SHP_STAT(CALLS_REFUSED));
	return ok;
}

/* Drop the pairs of @key's call that @keep rejects; the call goes empty. */
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
	if (c) {
		removed = shp_call_drop_pairs(ct, c, keep, arg);
		if (!c->n)
			shp_call_free(sn, c);
	}
	spin_unlock_bh(&sn->calls.lock);
	return removed;
}

unsigned int shp_call_forget(struct shp_net *sn, struct nf_conn *ct,
			     u32 key, bool both_sides)
{
	return both_sides ? shp_call_drop(sn, ct, key, shp_pair_none, 0) :
			    shp_call_drop(sn, ct, key, shp_pair_other_side,
					  key & 1);
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
	struct shp_call *c;

	/* most flows end with no call: spare the lock */
	if (!READ_ONCE(sn->calls.count))
		return;
	spin_lock_bh(&sn->calls.lock);
	f = shp_call_flow_find(sn, ct);
	/* the last call frees the flow record */
	if (f)
		hlist_for_each_entry_safe(c, tmp, &f->calls, sibling)
			shp_call_free(sn, c);
	spin_unlock_bh(&sn->calls.lock);
}

void shp_calls_init(struct shp_net *sn)
{
	unsigned int i;

	/* what docs/datapath.md gives per call: kmalloc-64 and -32 objects */
	BUILD_BUG_ON(sizeof(struct shp_call) > 64);
	BUILD_BUG_ON(sizeof(struct shp_call_pair) != 24);
	BUILD_BUG_ON(sizeof(struct shp_call_flow) > 32);

	spin_lock_init(&sn->calls.lock);
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++)
		INIT_HLIST_HEAD(&sn->calls.head[i]);
	for (i = 0; i < ARRAY_SIZE(sn->calls.flows); i++)
		INIT_HLIST_HEAD(&sn->calls.flows[i]);
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
	sn->calls.dead = true;
	for (i = 0; i < ARRAY_SIZE(sn->calls.head); i++)
		hlist_for_each_entry_safe(c, tmp, &sn->calls.head[i], node)
			shp_call_free(sn, c);
	spin_unlock_bh(&sn->calls.lock);
}
