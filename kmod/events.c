// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: datapath events on the "events" multicast group: the flow,
 * the edits and the message before and after each rewrite, so that
 * siphelperctl monitor shows what the ALG did without two sniffers; and
 * the flows it removed, the messages it could not parse, the calls that
 * start, are answered and end.
 *
 * Built in softirq, hence: nothing at all unless the group has a listener
 * in the netns (a bit test, done once per packet by the datapath);
 * GFP_ATOMIC and a bounded size; a per-netns token bucket so a SIP flood
 * cannot become a netlink flood; any failure is counted and never touches
 * the packet. Events are queued while the packet is rewritten and sent
 * only once its mangle succeeded (shp_events_flush()).
 */

#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack.h>
#include <linux/siphelper.h>

#include "datapath.h"

#define SHP_EV_CALL_ID_MAX	128
#define SHP_EV_FIELD_MAX	16
/*
 * type, l3, l4, four ports (before and after NAT), dir, ct id, suppressed,
 * before and after len
 */
#define SHP_EV_SCALARS		12

void shp_events_init(struct shp_events *ev)
{
	spin_lock_init(&ev->lock);
	ev->last = jiffies;
	ev->tokens = SIPHELPER_EVENTS_BURST;
	ev->suppressed = 0;
}

bool shp_events_wanted(struct net *net)
{
	return shp_nl_events_listened(net);
}

/* Token bucket; on success *suppressed takes the events refused since. */
static bool shp_events_allow(struct shp_events *ev, u32 *suppressed)
{
	unsigned long el;
	bool ok;

	spin_lock(&ev->lock);
	el = jiffies - ev->last;
	if (el >= HZ) {
		ev->tokens = SIPHELPER_EVENTS_BURST;
		ev->last = jiffies;
	} else if (el * SIPHELPER_EVENTS_RATE >= HZ) {
		ev->tokens = min_t(u32, SIPHELPER_EVENTS_BURST, ev->tokens +
				   el * SIPHELPER_EVENTS_RATE / HZ);
		ev->last = jiffies;
	}
	ok = ev->tokens > 0;
	if (ok) {
		ev->tokens--;
		*suppressed = ev->suppressed;
		ev->suppressed = 0;
	} else {
		ev->suppressed++;
	}
	spin_unlock(&ev->lock);
	return ok;
}

static const char *const shp_edit_field[] = {
	[SHP_EK_RURI] = "Request-URI",
	[SHP_EK_VIA] = "Via",
	[SHP_EK_CONTACT] = "Contact",
	[SHP_EK_FROM] = "From",
	[SHP_EK_TO] = "To",
	[SHP_EK_CLEN] = "Content-Length",
	[SHP_EK_SDP_O] = "o=",
	[SHP_EK_SDP_C] = "c=",
	[SHP_EK_SDP_M] = "m=",
	[SHP_EK_SDP_RTCP_PORT] = "a=rtcp port",
	[SHP_EK_SDP_RTCP_ADDR] = "a=rtcp address",
	[SHP_EK_VIA_RECEIVED] = "Via received",
	[SHP_EK_VIA_RPORT] = "Via rport",
};

static size_t shp_event_size(unsigned int blen, unsigned int alen,
			     unsigned int nedits)
{
	size_t edit = nla_total_size(0) +
		      nla_total_size(SHP_EV_FIELD_MAX) +
		      2 * nla_total_size(sizeof(u32)) +
		      nla_total_size(SIPHELPER_EVENT_TEXT_MAX) +
		      nla_total_size(SHP_REPL_MAX);

	return nla_total_size(0) +			/* SIPHELPER_A_EVENT */
	       SHP_EV_SCALARS * nla_total_size(sizeof(u32)) +
	       4 * nla_total_size(16) +			/* addresses */
	       nla_total_size(SHP_EV_CALL_ID_MAX + 1) +
	       nla_total_size(32) +			/* method/status */
	       nla_total_size(0) + nedits * edit +
	       nla_total_size(min_t(unsigned int, blen,
				    SIPHELPER_EVENT_MSG_MAX)) +
	       nla_total_size(min_t(unsigned int, alen,
				    SIPHELPER_EVENT_MSG_MAX));
}

static int shp_put_flow(struct sk_buff *skb, const struct nf_conn *ct,
			enum ip_conntrack_dir dir, bool out)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[dir].tuple;
	const struct nf_conntrack_tuple *r = &ct->tuplehash[!dir].tuple;
	int alen = nf_ct_l3num(ct) == NFPROTO_IPV4 ? 4 : 16;

	/*
	 * The tuple of the packet's direction: addresses as it came in. The
	 * other direction's tuple, inverted: as it leaves, after NAT.
	 */
	if (nla_put_u8(skb, SIPHELPER_A_EVENT_L3PROTO, nf_ct_l3num(ct)) ||
	    nla_put_u8(skb, SIPHELPER_A_EVENT_L4PROTO, nf_ct_protonum(ct)) ||
	    nla_put(skb, SIPHELPER_A_EVENT_SRC_ADDR, alen, &t->src.u3) ||
	    nla_put(skb, SIPHELPER_A_EVENT_DST_ADDR, alen, &t->dst.u3) ||
	    nla_put_u16(skb, SIPHELPER_A_EVENT_SRC_PORT,
			ntohs(t->src.u.all)) ||
	    nla_put_u16(skb, SIPHELPER_A_EVENT_DST_PORT,
			ntohs(t->dst.u.all)) ||
	    nla_put(skb, SIPHELPER_A_EVENT_NAT_SRC_ADDR, alen, &r->dst.u3) ||
	    nla_put(skb, SIPHELPER_A_EVENT_NAT_DST_ADDR, alen, &r->src.u3) ||
	    nla_put_u16(skb, SIPHELPER_A_EVENT_NAT_SRC_PORT,
			ntohs(r->dst.u.all)) ||
	    nla_put_u16(skb, SIPHELPER_A_EVENT_NAT_DST_PORT,
			ntohs(r->src.u.all)) ||
	    nla_put_u8(skb, SIPHELPER_A_EVENT_DIR,
		       out ? SIPHELPER_DIR_OUT : SIPHELPER_DIR_IN) ||
	    nla_put_u32(skb, SIPHELPER_A_EVENT_CT_ID, shp_ct_id(ct)))
		return -EMSGSIZE;
	return 0;
}

static int shp_put_sip(struct sk_buff *skb, const char *buf,
		       const struct shp_sip_msg *msg)
{
	char m[32];
	int n;

	if (msg->type == SHP_MSG_REQUEST)
		n = snprintf(m, sizeof(m), "%.*s",
			     min_t(int, msg->method_tok.len, 24),
			     buf + msg->method_tok.off);
	else
		n = snprintf(m, sizeof(m), "%u %.*s", msg->status,
			     min_t(int, msg->cseq_method_tok.len, 24),
			     buf + msg->cseq_method_tok.off);
	if (n > 0 && nla_put_string(skb, SIPHELPER_A_EVENT_METHOD, m))
		return -EMSGSIZE;
	if (msg->call_id.len) {
		unsigned int len = min_t(unsigned int, msg->call_id.len,
					 SHP_EV_CALL_ID_MAX);
		struct nlattr *a;

		a = nla_reserve(skb, SIPHELPER_A_EVENT_CALL_ID, len + 1);
		if (!a)
			return -EMSGSIZE;
		memcpy(nla_data(a), buf + msg->call_id.off, len);
		((char *)nla_data(a))[len] = '\0';
	}
	return 0;
}

static int shp_put_edits(struct sk_buff *skb, const char *buf,
			 const struct shp_plan *plan)
{
	struct nlattr *edits, *e;
	unsigned int i;

	edits = nla_nest_start(skb, SIPHELPER_A_EVENT_EDITS);
	if (!edits)
		return -EMSGSIZE;
	for (i = 0; i < plan->n; i++) {
		const struct shp_edit *ed = &plan->e[i];
		const char *field = ed->kind < ARRAY_SIZE(shp_edit_field) ?
				    shp_edit_field[ed->kind] : NULL;

		e = nla_nest_start(skb, SIPHELPER_A_EVENT_EDITS_EDIT);
		if (!e ||
		    (field && nla_put_string(skb, SIPHELPER_A_EDIT_FIELD,
					     field)) ||
		    nla_put_u32(skb, SIPHELPER_A_EDIT_OFFSET, ed->off) ||
		    nla_put(skb, SIPHELPER_A_EDIT_OLD,
			    min_t(unsigned int, ed->len,
				  SIPHELPER_EVENT_TEXT_MAX),
			    buf + ed->off) ||
		    nla_put_u32(skb, SIPHELPER_A_EDIT_OLD_LEN, ed->len) ||
		    nla_put(skb, SIPHELPER_A_EDIT_NEW,
			    min_t(unsigned int, ed->rlen, SHP_REPL_MAX),
			    ed->repl))
			return -EMSGSIZE;
		nla_nest_end(skb, e);
	}
	nla_nest_end(skb, edits);
	return 0;
}

static int shp_put_text(struct sk_buff *skb, int type, int type_len,
			const char *p, unsigned int len)
{
	if (nla_put(skb, type, min_t(unsigned int, len,
				     SIPHELPER_EVENT_MSG_MAX), p) ||
	    nla_put_u32(skb, type_len, len))
		return -EMSGSIZE;
	return 0;
}

/*
 * A packet's event of at most @size bytes: rate limit, allocation, and the
 * attributes every one has (type, flow, suppressed). Returns the skb with
 * the EVENT nest open (*ev), or NULL, counted.
 */
static struct sk_buff *shp_event_start(struct shp_net *sn, u32 type,
				       const struct shp_flow *fl,
				       enum ip_conntrack_dir dir, size_t size,
				       void **hdr, struct nlattr **ev)
{
	struct sk_buff *skb;
	u32 suppressed;

	if (!shp_events_allow(&sn->events, &suppressed)) {
		shp_stat_inc(sn, SHP_STAT(EVENTS_RATELIMITED));
		return NULL;
	}
	skb = genlmsg_new(size, GFP_ATOMIC);
	if (!skb)
		goto fail;
	*hdr = shp_nl_event_put(skb);
	if (!*hdr)
		goto fail_free;
	*ev = nla_nest_start(skb, SIPHELPER_A_EVENT);
	if (!*ev || nla_put_u32(skb, SIPHELPER_A_EVENT_TYPE, type) ||
	    shp_put_flow(skb, fl->ct, dir, dir == fl->pdir) ||
	    (suppressed &&
	     nla_put_u32(skb, SIPHELPER_A_EVENT_SUPPRESSED, suppressed)))
		goto fail_free;
	return skb;

fail_free:
	nlmsg_free(skb);
fail:
	shp_stat_inc(sn, SHP_STAT(EVENTS_FAILED));
	return NULL;
}

/* Closes the event, or frees it (counted) when @err: it did not fit. */
static struct sk_buff *shp_event_end(struct shp_net *sn, struct sk_buff *skb,
				     void *hdr, struct nlattr *ev, size_t size,
				     int err)
{
	if (err) {
		nlmsg_free(skb);
		shp_stat_inc(sn, SHP_STAT(EVENTS_FAILED));
		return NULL;
	}
	nla_nest_end(skb, ev);
	genlmsg_end(skb, hdr);
	/* The allocator's slack may hide an estimate that is too small. */
	WARN_ON_ONCE(skb->len > nlmsg_total_size(genlmsg_total_size(size)));
	return skb;
}

void shp_event_rewrite(struct shp_net *sn, const struct shp_flow *fl,
		       enum ip_conntrack_dir dir, const char *before,
		       unsigned int blen, const struct shp_sip_msg *msg,
		       const struct shp_plan *plan, const char *after,
		       unsigned int alen, struct sk_buff_head *q)
{
	size_t size = shp_event_size(blen, alen, plan->n);
	struct sk_buff *skb;
	struct nlattr *ev;
	void *hdr;

	skb = shp_event_start(sn, SIPHELPER_EVENT_REWRITE, fl, dir, size, &hdr,
			      &ev);
	if (!skb)
		return;
	skb = shp_event_end(sn, skb, hdr, ev, size,
			    shp_put_sip(skb, before, msg) ||
			    shp_put_edits(skb, before, plan) ||
			    shp_put_text(skb, SIPHELPER_A_EVENT_BEFORE,
					 SIPHELPER_A_EVENT_BEFORE_LEN, before,
					 blen) ||
			    shp_put_text(skb, SIPHELPER_A_EVENT_AFTER,
					 SIPHELPER_A_EVENT_AFTER_LEN, after,
					 alen));
	if (skb)
		__skb_queue_tail(q, skb);
}

/* The size of an event with the flow, a REASON and the DROPPED flag. */
static size_t shp_event_reason_size(const char *reason)
{
	return nla_total_size(0) +
	       SHP_EV_SCALARS * nla_total_size(sizeof(u32)) +
	       4 * nla_total_size(16) +
	       nla_total_size(strlen(reason) + 1) + nla_total_size(0);
}

/*
 * Send and count. -ESRCH: no listener took it (receive buffer full, or it
 * just left); either way it was lost.
 */
static void shp_event_send_now(struct shp_net *sn, struct net *net,
			       struct sk_buff *skb)
{
	shp_stat_inc(sn, shp_nl_event_send(net, skb) ?
			 SHP_STAT(EVENTS_FAILED) : SHP_STAT(EVENTS_SENT));
}

void shp_event_malformed(struct shp_net *sn, const struct shp_flow *fl,
			 enum ip_conntrack_dir dir, const char *msg,
			 unsigned int len, int err, unsigned int err_off,
			 bool dropped)
{
	const char *reason = shp_strerror(err);
	struct sk_buff *skb;
	struct nlattr *ev;
	size_t size;
	void *hdr;

	size = shp_event_reason_size(reason) +
	       nla_total_size(min_t(unsigned int, len,
				    SIPHELPER_EVENT_MSG_MAX));
	skb = shp_event_start(sn, SIPHELPER_EVENT_MALFORMED, fl, dir, size,
			      &hdr, &ev);
	if (!skb)
		return;
	skb = shp_event_end(sn, skb, hdr, ev, size,
			    nla_put_string(skb, SIPHELPER_A_EVENT_REASON,
					   reason) ||
			    nla_put_u32(skb, SIPHELPER_A_EVENT_REASON_OFFSET,
					err_off) ||
			    (dropped &&
			     nla_put_flag(skb, SIPHELPER_A_EVENT_DROPPED)) ||
			    shp_put_text(skb, SIPHELPER_A_EVENT_BEFORE,
					 SIPHELPER_A_EVENT_BEFORE_LEN, msg,
					 len));
	/* nothing is mangled after it: sent at once */
	if (skb)
		shp_event_send_now(sn, nf_ct_net(fl->ct), skb);
}

void shp_event_stale(struct shp_net *sn, struct nf_conn *ct,
		     const char *reason)
{
	struct shp_flow fl = { .ct = ct, .pdir = IP_CT_DIR_ORIGINAL };
	struct sk_buff *skb;
	struct nlattr *ev;
	size_t size;
	void *hdr;

	size = shp_event_reason_size(reason);
	skb = shp_event_start(sn, SIPHELPER_EVENT_STALE, &fl,
			      IP_CT_DIR_ORIGINAL, size, &hdr, &ev);
	if (!skb)
		return;
	skb = shp_event_end(sn, skb, hdr, ev, size,
			    nla_put_string(skb, SIPHELPER_A_EVENT_REASON,
					   reason) ||
			    nla_put_flag(skb, SIPHELPER_A_EVENT_DROPPED));
	if (skb)
		shp_event_send_now(sn, nf_ct_net(ct), skb);
}

/*
 * A call event (calls.c): the flow, @reason if any, and @more bytes that
 * the caller puts before shp_event_finish().
 */
struct sk_buff *shp_event_begin(struct shp_net *sn, u32 type,
				struct nf_conn *ct, enum ip_conntrack_dir dir,
				const char *reason, size_t more,
				struct shp_event_ctx *ec)
{
	struct shp_flow fl = { .ct = ct, .pdir = shp_flow_pdir(ct) };
	struct sk_buff *skb;

	ec->size = shp_event_reason_size(reason ?: "") + more;
	skb = shp_event_start(sn, type, &fl, dir, ec->size, &ec->hdr,
			      &ec->ev);
	if (skb && reason &&
	    nla_put_string(skb, SIPHELPER_A_EVENT_REASON, reason))
		return shp_event_end(sn, skb, ec->hdr, ec->ev, ec->size,
				     -EMSGSIZE);
	return skb;
}

struct sk_buff *shp_event_finish(struct shp_net *sn, struct sk_buff *skb,
				 struct shp_event_ctx *ec, int err)
{
	return shp_event_end(sn, skb, ec->hdr, ec->ev, ec->size, err);
}

void shp_events_flush(struct net *net, struct shp_net *sn,
		      struct sk_buff_head *q, bool send)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(q))) {
		if (send)
			shp_event_send_now(sn, net, skb);
		else
			kfree_skb(skb);
	}
}
