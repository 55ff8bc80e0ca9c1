// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: the call policy, what Juniper SRX, Cisco ASA and FortiGate
 * offer and every knob off by default: how many calls the namespace and
 * each source address may have, how many new calls' INVITEs and REGISTERs
 * a source may send a second, and whether requests with a method
 * siphelper does not know pass. A refused UDP request is dropped and
 * counted by reason; siphelper never answers for the UA (no forged 486 or
 * 503: the sender's retransmission timers see a loss). A TCP segment is
 * never dropped (its sender would send it again for ever), so the policy
 * applies to UDP. See docs/datapath.md "Call policy".
 *
 * Per source address: a token bucket and the calls the call table holds
 * from it, in a per-namespace hash (its own lock, taken only while a
 * per-source knob is set) of at most SIPHELPER_MAX_SOURCES entries; an
 * idle entry (no call, bucket full) goes when its chain is walked.
 */

#include <linux/slab.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <net/netfilter/nf_conntrack.h>

#include "datapath.h"

#define SHP_SOURCE_IDLE		(10 * HZ)

struct shp_source {
	struct hlist_node node;
	union nf_inet_addr addr;
	unsigned long last;		/* of the last refill */
	u32 tokens;
	u32 calls;			/* from the call table (calls.c) */
	u8 l3num;
};

static u32 shp_source_bucket(u8 l3num, const union nf_inet_addr *addr)
{
	return jhash2(addr->all, ARRAY_SIZE(addr->all), l3num) &
	       (BIT(SHP_SOURCE_HASH_BITS) - 1);
}

/* An idle entry: no call, and a bucket that has been full a while. */
static bool shp_source_idle(const struct shp_source *src, unsigned long now)
{
	return !src->calls && time_after(now, src->last + SHP_SOURCE_IDLE);
}

/*
 * The entry of @addr, made if @make (full bucket of @rate); NULL if there
 * is none, or no room. Idle entries met on the way go.
 */
static struct shp_source *shp_source_get(struct shp_net *sn, u8 l3num,
					 const union nf_inet_addr *addr,
					 bool make, u32 rate)
{
	struct hlist_head *head;
	struct shp_source *src;
	struct hlist_node *tmp;
	unsigned long now = jiffies;

	lockdep_assert_held(&sn->sources.lock);
	head = &sn->sources.head[shp_source_bucket(l3num, addr)];
	hlist_for_each_entry_safe(src, tmp, head, node) {
		if (src->l3num == l3num && nf_inet_addr_cmp(&src->addr, addr))
			return src;
		if (shp_source_idle(src, now)) {
			hlist_del(&src->node);
			sn->sources.count--;
			kfree(src);
		}
	}
	if (!make || sn->sources.count >= SIPHELPER_MAX_SOURCES)
		return NULL;
	src = kzalloc(sizeof(*src), GFP_ATOMIC);
	if (!src)
		return NULL;
	src->addr = *addr;
	src->l3num = l3num;
	src->tokens = rate;
	src->last = now;
	hlist_add_head(&src->node, head);
	sn->sources.count++;
	return src;
}

/* Token bucket: @rate a second, bursts of @rate. */
static bool shp_source_take(struct shp_source *src, u32 rate)
{
	unsigned long now = jiffies, el = now - src->last;
	u64 add;

	if (el >= HZ) {
		src->tokens = rate;
		src->last = now;
	} else {
		add = (u64)el * rate / HZ;
		if (add) {
			src->tokens = min_t(u64, rate, src->tokens + add);
			src->last = now;
		}
	}
	if (!src->tokens)
		return false;
	src->tokens--;
	return true;
}

bool shp_policy_wanted(const struct shp_config *cfg)
{
	return cfg->call_limit || cfg->source_call_limit ||
	       cfg->source_rate || cfg->unknown_methods;
}

unsigned int shp_policy_check(struct shp_net *sn, const struct shp_config *cfg,
			      const struct nf_conn *ct,
			      enum ip_conntrack_dir dir,
			      const struct shp_sip_msg *msg, bool new_call)
{
	const union nf_inet_addr *addr = &ct->tuplehash[dir].tuple.src.u3;
	bool invite = new_call && msg->method == SHP_M_INVITE;
	bool counted = invite || msg->method == SHP_M_REGISTER;
	unsigned int why = 0;
	struct shp_source *src;

	if (msg->type != SHP_MSG_REQUEST)
		return 0;
	if (msg->method == SHP_M_UNKNOWN)
		return cfg->unknown_methods ? SHP_STAT(POLICY_UNKNOWN_METHOD) :
					      0;
	if (invite && cfg->call_limit &&
	    READ_ONCE(sn->calls.count) >= cfg->call_limit)
		return SHP_STAT(POLICY_CALL_LIMIT);
	if (!counted || (!cfg->source_rate &&
			 !(invite && cfg->source_call_limit)))
		return 0;
	spin_lock_bh(&sn->sources.lock);
	src = shp_source_get(sn, nf_ct_l3num(ct), addr, true,
			     cfg->source_rate);
	if (!src)
		why = SHP_STAT(POLICY_SOURCES_FULL);
	else if (invite && cfg->source_call_limit &&
		 src->calls >= cfg->source_call_limit)
		why = SHP_STAT(POLICY_SOURCE_CALL_LIMIT);
	else if (cfg->source_rate && !shp_source_take(src, cfg->source_rate))
		why = SHP_STAT(POLICY_SOURCE_RATE);
	spin_unlock_bh(&sn->sources.lock);
	/* a full table passes the request: counted, not refused */
	if (why == SHP_STAT(POLICY_SOURCES_FULL)) {
		shp_stat_inc(sn, why);
		return 0;
	}
	return why;
}

bool shp_source_calls(struct shp_net *sn, u8 l3num,
		      const union nf_inet_addr *addr, int n)
{
	struct shp_source *src;

	spin_lock_bh(&sn->sources.lock);
	src = shp_source_get(sn, l3num, addr, n > 0, 0);
	if (src)
		src->calls += n;
	spin_unlock_bh(&sn->sources.lock);
	return src;
}

void shp_sources_init(struct shp_net *sn)
{
	unsigned int i;

	spin_lock_init(&sn->sources.lock);
	for (i = 0; i < ARRAY_SIZE(sn->sources.head); i++)
		INIT_HLIST_HEAD(&sn->sources.head[i]);
	sn->sources.count = 0;
}

void shp_sources_exit(struct shp_net *sn)
{
	struct shp_source *src;
	struct hlist_node *tmp;
	unsigned int i;

	spin_lock_bh(&sn->sources.lock);
	for (i = 0; i < ARRAY_SIZE(sn->sources.head); i++)
		hlist_for_each_entry_safe(src, tmp, &sn->sources.head[i],
					  node) {
			hlist_del(&src->node);
			kfree(src);
		}
	sn->sources.count = 0;
	spin_unlock_bh(&sn->sources.lock);
}
