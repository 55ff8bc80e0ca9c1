/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper: declarations shared by the datapath files (helper.c,
 * assign.c, datapath.c, events.c, media.c, register.c, stale.c, stream.c,
 * synced.c). See docs/datapath.md.
 */
#ifndef SIPHELPER_DATAPATH_H
#define SIPHELPER_DATAPATH_H

#include <linux/skbuff.h>
#include <linux/jhash.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include "siphelper.h"
#include "core/shp_sip.h"

/*
 * Media is class 0: conntrackd's copies arrive without a class (synced.c),
 * and the copies of one flow (a registration, an advertised port, each
 * call's RTP and RTCP) would not fit the signalling class's bound of 2.
 */
enum shp_expect_class {
	SHP_EXPECT_MEDIA,
	SHP_EXPECT_SIGNALLING,
	__SHP_EXPECT_MAX,
};

/*
 * Per-conntrack state in the helper's private area (nfct_help_data()).
 * flags is written by the first packet, before the conntrack is confirmed
 * (no one else sees it yet), or, for a flow ctnetlink made, once under
 * nf_conntrack_expect_lock (media.c). Calls live in the call table
 * (calls.c), not here: a trunk carries hundreds.
 */

/* stale.c: the SNAT address was on the outgoing device at the start */
#define SHP_CT_NAT_ON_EGRESS	BIT(0)
/*
 * stale.c: this helper saw the flow's first packet. Without it the flow was
 * made by ctnetlink (conntrackd's backup after a failover): its calls were
 * recorded on another router (media.c), its expectations by conntrackd
 * (synced.c).
 */
#define SHP_CT_BORN_HERE	BIT(1)

struct shp_ct_data {
	u8 flags;			/* SHP_CT_* */
};

/* The NAT mapping of a SIP flow, from its conntrack tuples. */
struct shp_flow {
	struct nf_conn *ct;
	enum ip_conntrack_dir pdir;	/* direction sent by the private UA */
	bool nat;			/* SNAT or DNAT on this flow */
};

/*
 * The direction the private UA sends in: the original one when it opened
 * the flow (SNAT), the reply when the flow was opened towards it (DNAT);
 * the original one on a flow without NAT.
 */
static inline enum ip_conntrack_dir shp_flow_pdir(const struct nf_conn *ct)
{
	return !(ct->status & IPS_SRC_NAT) && (ct->status & IPS_DST_NAT) ?
	       IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
}

/* The id as conntrack -L shows it: ctnetlink sends the raw value as be32. */
static inline u32 shp_ct_id(const struct nf_conn *ct)
{
	return be32_to_cpu((__force __be32)nf_ct_get_id(ct));
}

/* stream.c: what the datapath does with one TCP segment */
struct shp_stream;

struct shp_seg {
	struct shp_stream *st;	/* locked until shp_stream_end(), or NULL */
	u32 seq;		/* sender sequence number of the first byte */
	unsigned int prefix;	/* held bytes put in front of the payload */
	const char *resent;	/* kept output that replaces the payload's */
	unsigned int resent_len;
	unsigned int skip;	/* payload bytes already held, or resent */
	unsigned int use;	/* payload bytes after those that go out */
	unsigned int mss;	/* largest segment payload of the flow */
	bool may_hold;		/* newest data: its tail may be held */
	bool raw;		/* passes as sent, unparsed */
};

bool shp_seg_acked(const struct nf_conn *ct, enum ip_conntrack_dir dir, u32 end);
int shp_stream_begin(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct,
		     enum ip_conntrack_dir dir, const struct tcphdr *th,
		     unsigned int len, unsigned int segsz, unsigned int room,
		     char *in, struct shp_seg *seg);
bool shp_stream_hold(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct, enum ip_conntrack_dir dir,
		     struct shp_seg *seg, const char *buf, unsigned int len,
		     u32 seq, const struct sk_buff *skb, unsigned int rest_off,
		     unsigned int rest);
void shp_stream_sent(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct,
		     enum ip_conntrack_dir dir, struct shp_seg *seg,
		     const char *out, unsigned int len, u32 end);
void shp_stream_failed(struct shp_net *sn, struct nf_conn *ct,
		       enum ip_conntrack_dir dir, struct shp_seg *seg);
void shp_stream_end(struct shp_seg *seg);
void shp_stream_ack(struct shp_net *sn, struct nf_conn *ct,
		    enum ip_conntrack_dir dir, const struct tcphdr *th);
void shp_stream_destroy(struct nf_conn *ct);

/*
 * calls.c: the call table. A call's key is its Call-ID's hash with bit 1
 * set (never 0); bit 0 is left for the side whose SDP opened a pair.
 */
static inline u32 shp_call_key(const char *id, unsigned int len)
{
	return (jhash(id, len, 0) | 2) & ~1U;
}

/* media pairs per call: every stream of both sides' SDP */
#define SHP_CALL_PAIRS		(2 * SHP_MAX_MEDIA)
/* the call's state from @msg; true when it ends the call (media.c) */
bool shp_call_track(struct shp_net *sn, const struct shp_config *cfg,
		    const struct shp_flow *fl, enum ip_conntrack_dir dir,
		    const struct shp_sip_msg *msg, const char *buf, u32 call);
/* a pair public dst:rtp/rtcp forwarded to to:to_rtp/to_rtcp */
bool shp_call_record(struct shp_net *sn, struct nf_conn *ct, u32 key,
		     const union nf_inet_addr *dst, u16 rtp, u16 rtcp,
		     const union nf_inet_addr *to, u16 to_rtp, u16 to_rtcp);
/* the pairs that @key's side opened go */
unsigned int shp_call_forget(struct shp_net *sn, struct nf_conn *ct, u32 key);
unsigned int shp_call_undo(struct shp_net *sn, struct nf_conn *ct, u32 key,
			   u16 port);
unsigned int shp_call_unexpect_pair(struct nf_conn *ct, u8 side,
				    const union nf_inet_addr *dst, u16 rtp,
				    u16 rtcp);
void shp_calls_destroy(struct nf_conn *ct);
/* shp_expectfn(): a media flow @ct came through a pinhole of the table */
void shp_calls_media_up(struct nf_conn *ct,
			const struct nf_conntrack_expect *exp);

/* helper.c */
extern bool shp_helpers_going;	/* unloading: help() creates nothing */
int shp_expect_related(struct nf_conntrack_expect *exp);
struct nf_conntrack_helper *shp_helper_find(u8 l3num, u8 l4proto);
void shp_expectfn(struct nf_conn *ct, struct nf_conntrack_expect *exp);

/* datapath.c */
int shp_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
	     enum ip_conntrack_info ctinfo);

/* media.c */
void shp_media_expect(struct shp_net *sn, const struct shp_config *cfg,
		      const struct shp_flow *fl, enum ip_conntrack_dir dir,
		      const struct shp_sip_msg *msg, u32 call,
		      struct shp_rewrite_ctx *ctx);
void shp_media_synced_end(struct shp_net *sn, struct nf_conn *ct);
/* a pair one message opened: its call key and public RTP port */
struct shp_media_opened {
	u32 key;
	u16 port;
};

void shp_media_undo(struct shp_net *sn, struct nf_conn *ct,
		    const struct shp_media_opened *undo, unsigned int n);

/* events.c: REWRITE events, queued per packet, sent once it is mangled */
bool shp_events_wanted(struct net *net);
void shp_event_rewrite(struct shp_net *sn, const struct shp_flow *fl,
		       enum ip_conntrack_dir dir, const char *before,
		       unsigned int blen, const struct shp_sip_msg *msg,
		       const struct shp_plan *plan, const char *after,
		       unsigned int alen, struct sk_buff_head *q);
void shp_events_flush(struct net *net, struct shp_net *sn,
		      struct sk_buff_head *q, bool send);
/* CALL_* events (calls.c): the flow and a reason, the call put between */
struct shp_event_ctx {
	void *hdr;
	struct nlattr *ev;
	size_t size;
};

struct sk_buff *shp_event_begin(struct shp_net *sn, u32 type,
				struct nf_conn *ct, enum ip_conntrack_dir dir,
				const char *reason, size_t more,
				struct shp_event_ctx *ec);
struct sk_buff *shp_event_finish(struct shp_net *sn, struct sk_buff *skb,
				 struct shp_event_ctx *ec, int err);
/* MALFORMED events: sent at once, the packet is not mangled */
void shp_event_malformed(struct shp_net *sn, const struct shp_flow *fl,
			 enum ip_conntrack_dir dir, const char *msg,
			 unsigned int len, int err, unsigned int err_off,
			 bool dropped);

/*
 * policy.c: the call policy (UDP requests). Returns the SHP_STAT() of the
 * reason @msg is refused, 0 if it passes; @new_call: an INVITE that no
 * call of the table has yet.
 */
bool shp_policy_wanted(const struct shp_config *cfg);
unsigned int shp_policy_check(struct shp_net *sn, const struct shp_config *cfg,
			      const struct nf_conn *ct,
			      enum ip_conntrack_dir dir,
			      const struct shp_sip_msg *msg, bool new_call);
/* the calls of a source address, for its limit (calls.c): false if no room */
bool shp_source_calls(struct shp_net *sn, u8 l3num,
		      const union nf_inet_addr *addr, int n);
/* calls.c: is there a call of @ct with key @call? */
bool shp_call_exists(struct shp_net *sn, const struct nf_conn *ct, u32 call);

/* stale.c: a flow that no longer fits the router, removed (NF_DROP) */
bool shp_stale(struct shp_net *sn, const struct shp_config *cfg,
	       const struct sk_buff *skb, struct nf_conn *ct,
	       enum ip_conntrack_info ctinfo);
/* synced.c: expectations conntrackd made, replaced by the helper's own */
void shp_synced_adopt(struct shp_net *sn, const struct shp_config *cfg,
		      struct nf_conn *ct);
/* events.c: STALE events, sent at once (the flow is gone) */
void shp_event_stale(struct shp_net *sn, struct nf_conn *ct,
		     const char *reason);

/* register.c */
void shp_register_update(struct shp_net *sn, const struct shp_flow *fl,
			 const struct shp_nat_map *map,
			 const struct shp_sip_msg *msg, const char *buf);
/*
 * Sets map's advertised port from the UA's pinhole, opening it for an
 * outbound message (unless pinholes-only): true when this call opened it.
 */
bool shp_adv_port(struct shp_net *sn, const struct shp_config *cfg,
		  const struct shp_flow *fl, bool out,
		  const struct shp_sip_msg *msg, const char *buf,
		  struct shp_nat_map *map);
/* the pinhole of the advertised @priv_port goes (its message failed) */
void shp_adv_close(struct nf_conn *ct, u16 priv_port);

#endif /* SIPHELPER_DATAPATH_H */
