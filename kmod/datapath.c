// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: the helper callback. Copies the SIP payload into per-CPU
 * scratch, parses it with the core, sets up expectations, plans and
 * applies the rewrite into a per-CPU output buffer and replaces the
 * payload with one nf_nat mangle call, so a packet is never half
 * rewritten. See docs/datapath.md.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/netfilter/nf_conntrack_seqadj.h>
#include <net/netfilter/nf_nat_helper.h>

#include "datapath.h"
#include "compat.h"

struct shp_scratch {
	struct shp_sip_msg msg;
	struct shp_plan plan;
	struct shp_rewrite_ctx ctx;
	/* media pairs opened by this packet, taken back on failure */
	struct shp_media_opened undo[4 * SHP_MAX_MEDIA];
	unsigned int n_undo;
	/* advertised ports whose pinhole this packet opened, likewise */
	u16 adv_undo[4];
	unsigned int n_adv_undo;
	char in[SHP_MAX_MSG];
	char out[SHP_MAX_MSG];
};

static DEFINE_PER_CPU(struct shp_scratch *, shp_scratch);

int shp_datapath_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct shp_scratch *s;

		s = kvmalloc_node(sizeof(*s), GFP_KERNEL, cpu_to_node(cpu));
		if (!s) {
			shp_datapath_exit();
			return -ENOMEM;
		}
		per_cpu(shp_scratch, cpu) = s;
	}
	return 0;
}

void shp_datapath_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		kvfree(per_cpu(shp_scratch, cpu));
		per_cpu(shp_scratch, cpu) = NULL;
	}
}

static void shp_to_addr(struct shp_addr *a, const union nf_inet_addr *u,
			u16 l3num)
{
	memset(a, 0, sizeof(*a));
	if (l3num == NFPROTO_IPV4) {
		a->family = 4;
		memcpy(a->a, &u->ip, 4);
	} else {
		a->family = 6;
		memcpy(a->a, u->ip6, 16);
	}
}

/* The NAT mapping: SNAT (UA opened the flow) or DNAT (flow opened towards
 * the UA through a registration expectation).
 */
static void shp_flow_init(struct shp_flow *fl, struct nf_conn *ct,
			  struct shp_nat_map *map)
{
	const struct nf_conntrack_tuple *priv, *pub;

	fl->ct = ct;
	fl->pdir = shp_flow_pdir(ct);
	fl->nat = ct->status & IPS_NAT_MASK;
	if (!fl->nat)
		return;
	priv = &ct->tuplehash[fl->pdir].tuple;
	pub = &ct->tuplehash[!fl->pdir].tuple;
	map->adv_priv_port = 0;
	map->adv_pub_port = 0;
	shp_to_addr(&map->priv, &priv->src.u3, nf_ct_l3num(ct));
	shp_to_addr(&map->pub, &pub->dst.u3, nf_ct_l3num(ct));
	map->priv_port = ntohs(priv->src.u.all);
	map->pub_port = ntohs(pub->dst.u.all);
}

/*
 * The call policy for one UDP message: the SHP_STAT() of why it is
 * dropped, or 0. Only a new call's INVITE looks the call table up.
 */
static unsigned int shp_policy_refuses(struct shp_net *sn,
				       const struct shp_config *cfg,
				       struct nf_conn *ct,
				       enum ip_conntrack_dir dir,
				       const struct shp_sip_msg *msg,
				       const char *buf)
{
	bool new_call = false;

	if (msg->type == SHP_MSG_REQUEST && msg->method == SHP_M_INVITE &&
	    msg->call_id.len)
		new_call = !shp_call_exists(sn, ct,
					    shp_call_key(buf + msg->call_id.off,
							 msg->call_id.len));
	return shp_policy_check(sn, cfg, ct, dir, msg, new_call);
}

static bool shp_register_final(const struct shp_sip_msg *msg)
{
	return msg->type == SHP_MSG_RESPONSE &&
	       msg->cseq_method == SHP_M_REGISTER && msg->status >= 200;
}

/* What one message did to the packet's output. */
enum shp_msg_result {
	SHP_MSG_COPIED,		/* appended unchanged */
	SHP_MSG_REWRITTEN,	/* appended rewritten */
	SHP_MSG_NOROOM,		/* not appended, nothing of it kept */
};

/* Where a message's undo lists began. */
struct shp_undo_mark {
	unsigned int media, adv;
};

/*
 * A message failed after its expectations were made: they go, so that no
 * pinhole is left for ports that no packet advertised.
 */
static void shp_message_undo(struct shp_net *sn, struct shp_scratch *s,
			     struct nf_conn *ct, struct shp_undo_mark from)
{
	if (s->n_undo > from.media)
		shp_media_undo(sn, ct, s->undo + from.media,
			       s->n_undo - from.media);
	s->n_undo = from.media;
	while (s->n_adv_undo > from.adv)
		shp_adv_close(ct, s->adv_undo[--s->n_adv_undo]);
}

/*
 * One parsed message at s->in + off: expectations, plan. Appends the
 * (possibly rewritten) message to s->out at *opos, never past @cap (at
 * most sizeof(s->out)). Queues a REWRITE event on @evq if there is one
 * (a listener). A message that does not fit leaves no trace: the caller
 * stops there and passes the rest of the packet unmodified.
 */
static enum shp_msg_result
shp_message(struct shp_net *sn, const struct shp_config *cfg,
	    struct shp_scratch *s, const struct shp_flow *fl,
	    enum ip_conntrack_dir dir, unsigned int off, unsigned int len,
	    size_t *opos, size_t cap, struct sk_buff_head *evq)
{
	const char *buf = s->in + off;
	struct shp_sip_msg *msg = &s->msg;
	struct shp_rewrite_ctx *ctx = &s->ctx;
	struct shp_undo_mark undo_from = { s->n_undo, s->n_adv_undo };
	size_t end = *opos;		/* output end with this message */
	bool out = dir == fl->pdir;
	unsigned int i;
	u32 call = 0;
	int r;

	if (msg->type == SHP_MSG_KEEPALIVE)
		goto copy;
	if (msg->call_id.len)
		call = shp_call_key(buf + msg->call_id.off, msg->call_id.len);
	if (call && shp_call_track(sn, cfg, fl, dir, msg, buf, call))
		shp_media_synced_end(sn, fl->ct);
	if (!fl->nat) {
		/* Firewall only: expectations for either side's media,
		 * nothing rewritten.
		 */
		if (call && !(fl->ct->status & IPS_NAT_MASK) &&
		    shp_media_offer_answer(msg))
			shp_media_expect(sn, cfg, fl, dir, msg, call, NULL);
		goto copy;
	}

	ctx->dir = out ? SHP_DIR_OUT : SHP_DIR_IN;
	memset(&ctx->media_pub, 0, sizeof(ctx->media_pub));
	memset(ctx->media_port, 0, sizeof(ctx->media_port));
	memset(ctx->rtcp_port, 0, sizeof(ctx->rtcp_port));
	if (out && call && shp_media_offer_answer(msg)) {
		/* Room to take back what this message opens. */
		if (s->n_undo + msg->sdp.n_media > ARRAY_SIZE(s->undo))
			return SHP_MSG_NOROOM;
		shp_media_expect(sn, cfg, fl, dir, msg, call, ctx);
		for (i = 0; i < msg->sdp.n_media; i++)
			if (ctx->media_port[i])
				s->undo[s->n_undo++] =
					(struct shp_media_opened) {
						call, ctx->media_port[i] };
	}
	/* a listening port other than the flow's: room to take it back */
	if (s->n_adv_undo >= ARRAY_SIZE(s->adv_undo)) {
		shp_message_undo(sn, s, fl->ct, undo_from);
		return SHP_MSG_NOROOM;
	}
	if (shp_adv_port(sn, cfg, fl, out, msg, buf, &ctx->map))
		s->adv_undo[s->n_adv_undo++] = ctx->map.adv_priv_port;
	/* the server does its own NAT handling: pinholes, no edits */
	if (cfg->pinholes_only)
		goto copy;

	r = shp_sip_plan(buf, msg, ctx, &s->plan);
	if (r <= 0) {
		if (r < 0)
			shp_message_undo(sn, s, fl->ct, undo_from);
		goto copy;
	}
	r = shp_out_append(s->out, cap, &end, buf, len, &s->plan);
	if (r == -SHP_E_NOSPACE) {
		shp_message_undo(sn, s, fl->ct, undo_from);
		return SHP_MSG_NOROOM;
	}
	if (r < 0) {
		shp_message_undo(sn, s, fl->ct, undo_from);
		goto copy;
	}
	/* The registrar did answer: its bindings are what they say. */
	if (!out && shp_register_final(msg))
		shp_register_update(sn, fl, &ctx->map, msg, buf);
	if (evq)
		shp_event_rewrite(sn, fl, dir, buf, len, msg, &s->plan,
				  s->out + *opos, end - *opos, evq);
	*opos = end;
	if (s->plan.n_hdr)
		shp_stat_inc(sn, SHP_STAT(REWRITTEN_HEADERS));
	if (s->plan.n_sdp)
		shp_stat_inc(sn, SHP_STAT(REWRITTEN_SDP));
	return SHP_MSG_REWRITTEN;

copy:
	if (shp_out_append(s->out, cap, &end, buf, len, NULL)) {
		shp_message_undo(sn, s, fl->ct, undo_from);
		return SHP_MSG_NOROOM;
	}
	if (fl->nat && !out && shp_register_final(msg))
		shp_register_update(sn, fl, &ctx->map, msg, buf);
	*opos = end;
	return SHP_MSG_COPIED;
}

/*
 * The output room for a packet whose payload would be @total bytes (with
 * nothing rewritten) when it is replaced up to @off: the scratch, and what
 * the packet may grow to (nf_nat's mangle refuses to make an skb longer
 * than 64 KiB - 1).
 */
static unsigned int shp_out_cap(unsigned int dataoff, unsigned int total,
				unsigned int off)
{
	unsigned int rest = total - off;	/* kept as it is */
	unsigned int room = 65535 - min_t(unsigned int, 65535,
					  dataoff + rest);

	return min_t(unsigned int, room, SHP_MAX_MSG);
}

/*
 * Does a run of TCP bytes end inside a message (@rest more bytes after
 * them, not looked at, count as its continuation)?
 */
static bool shp_ends_incomplete(const char *buf, unsigned int len,
				unsigned int rest)
{
	struct shp_sip_msg *msg = &this_cpu_read(shp_scratch)->msg;
	unsigned int off = 0;
	int r;

	if (rest)
		return true;
	while (off < len) {
		r = shp_sip_parse(buf + off, len - off, true, msg);
		if (r < 0)
			return r == -SHP_E_INCOMPLETE;
		off += r;
	}
	return false;
}

/*
 * A reassembled payload leaves in segments no larger than the sender's
 * (or the size every TCP accepts): as GSO, cut where the router sends it.
 */
static void shp_seg_gso(struct sk_buff *skb, unsigned int protoff,
			const struct tcphdr *th, unsigned int len,
			unsigned int mss)
{
	bool v6 = skb->protocol == htons(ETH_P_IPV6);
	unsigned int floor = (v6 ? 1220 : 536) - (th->doff * 4 - 20);

	mss = max(mss, floor);
	if (len <= mss && !skb_is_gso(skb))
		return;
	if (!skb_is_gso(skb)) {
		skb_set_transport_header(skb, protoff);
		skb_shinfo(skb)->gso_size = mss;
		skb_shinfo(skb)->gso_type = v6 ? SKB_GSO_TCPV6 : SKB_GSO_TCPV4;
	}
	skb_shinfo(skb)->gso_segs = DIV_ROUND_UP(len,
						 skb_shinfo(skb)->gso_size);
}

/*
 * A TCP payload replaced whole (held bytes in front, its tail held, or a
 * kept output sent again): the sequence number moves back to the first
 * byte it carries; seqadj learns only what the rewrite changed (@delta).
 */
static bool shp_seg_replace(struct sk_buff *skb, unsigned int protoff,
			    struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			    const struct shp_seg *seg, unsigned int len,
			    const char *out, unsigned int olen, int delta)
{
	struct tcphdr *th;

	if (skb_ensure_writable(skb, protoff + sizeof(*th)))
		return false;
	th = (struct tcphdr *)(skb->data + protoff);
	th->seq = htonl(seg->seq);	/* checksum: the mangle redoes it */
	if (!__nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff, 0, len,
					out, olen, false))
		return false;
	th = (struct tcphdr *)(skb->data + protoff);
	if (delta && nfct_seqadj(ct))
		nf_ct_seqadj_set(ct, ctinfo, th->seq, delta);
	shp_seg_gso(skb, protoff, th, olen, seg->mss);
	return true;
}

/*
 * The counter of a message cut short in a TCP segment (@len payload bytes):
 * a retransmission of bytes the receiver has acknowledged (it crossed the
 * ACK; the receiver drops it) is not a truncated message.
 */
static unsigned int shp_cut_stat(const struct nf_conn *ct,
				 enum ip_conntrack_dir dir,
				 const struct tcphdr *th, unsigned int len)
{
	return shp_seg_acked(ct, dir, ntohl(th->seq) + len) ?
	       SHP_STAT(TCP_RESENT) : SHP_STAT(TRUNCATED);
}

static int shp_help_with_scratch(struct sk_buff *skb, unsigned int protoff,
			   unsigned int dataoff, const struct tcphdr *th,
			   struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			   struct shp_net *sn, const struct shp_config *cfg)
{
	struct shp_scratch *s = this_cpu_read(shp_scratch);
	enum ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
	bool tcp = th;
	unsigned int len = skb->len - dataoff;	/* the packet's payload */
	unsigned int n, total, rest, rest_off, off = 0;
	int perr = 0;			/* the parse error of a bad message */
	size_t opos = 0;
	bool changed = false, bad = false, droppable = true, held = false;
	bool hold_tail = false;		/* the rest of a message follows */
	enum shp_msg_result res;
	struct shp_seg seg = {};
	struct sk_buff_head evq;
	bool events, whole;
	struct shp_flow fl;
	int r, ret = NF_ACCEPT;

	BUILD_BUG_ON(sizeof(s->out) != SHP_MAX_MSG);
	BUILD_BUG_ON(SHP_MAX_MSG - 4096 < SIPHELPER_MAX_TCP_HOLD);
	if (!tcp && len > SHP_MAX_MSG)
		goto malformed;
	if (tcp) {
		ret = shp_stream_begin(sn, cfg, ct, dir, th, len, skb_is_gso(skb) ?
				       skb_shinfo(skb)->gso_size : len,
				       shp_out_cap(dataoff, 0, 0), s->in,
				       &seg);
		if (ret != NF_ACCEPT || seg.raw) {
			if (seg.raw)
				shp_stat_inc(sn, SHP_STAT(TRUNCATED));
			goto out;
		}
	}
	/* held bytes (seg.prefix) are in front; the payload's first
	 * seg.skip bytes were held or are resent; seg.use after them count
	 */
	total = tcp ? seg.prefix + seg.use : len;
	/* payload bytes after those that fit (a GRO packet after a hold) */
	rest = tcp ? len - seg.skip - seg.use : 0;
	rest_off = dataoff + seg.skip + seg.use;
	n = min_t(unsigned int, total, SHP_MAX_MSG);
	if (skb_copy_bits(skb, dataoff + seg.skip, s->in + seg.prefix,
			  n - seg.prefix))
		goto out;
	/* RFC 5626 STUN keepalives share the UDP flow: not SIP, not bad. */
	if (!tcp && shp_is_stun(s->in, n))
		goto out;
	s->n_undo = 0;
	s->n_adv_undo = 0;
	shp_flow_init(&fl, ct, &s->ctx.map);
	/* TCP mangling resizes through seqadj: without it, only parse. */
	if (fl.nat && tcp && !nfct_seqadj(ct))
		fl.nat = false;
	/* Events cost nothing more than this test while nobody listens. */
	events = fl.nat && shp_events_wanted(nf_ct_net(ct));
	__skb_queue_head_init(&evq);

	if (seg.resent) {
		/* what left rewritten goes again; the rest passes as sent */
		memcpy(s->out, seg.resent, seg.resent_len);
		opos = seg.resent_len;
		off = n;
		shp_out_append(s->out, SHP_MAX_MSG, &opos, s->in, n, NULL);
	}
	while (off < n) {
		r = shp_sip_parse(s->in + off, n - off, tcp, &s->msg);
		if (r == -SHP_E_INCOMPLETE) {
			/* Message continues in a later segment: held until
			 * it is whole, or the rest of this segment passes
			 * unmodified.
			 */
			hold_tail = true;
			break;
		}
		if (r == -SHP_E_BAD_START_LINE && tcp && !off) {
			/* Not at a message boundary: the continuation of a
			 * message the sender split over segments (or bytes
			 * we cannot place in the stream). Dropping it would
			 * only stall the connection.
			 */
			shp_stat_inc(sn, shp_cut_stat(ct, dir, th, len));
			break;
		}
		if (r < 0) {
			/* Valid SIP beyond our bounds is not the sender's
			 * fault: passed (counted malformed), never dropped.
			 * On TCP a segment is never dropped: its sender
			 * would retransmit it for ever.
			 */
			perr = r;
			if (r == -SHP_E_TOO_MANY || r == -SHP_E_TOO_BIG || tcp)
				droppable = false;
			/* invalid, but sent by real UAs: never dropped */
			if (r == -SHP_E_V6_UNBRACKETED) {
				shp_stat_inc(sn, SHP_STAT(IPV6_UNBRACKETED));
				droppable = false;
			}
			bad = true;
			break;
		}
		shp_stat_inc(sn, SHP_STAT(PARSED));
		if (!tcp && shp_policy_wanted(cfg)) {
			unsigned int why = shp_policy_refuses(sn, cfg, ct, dir,
							      &s->msg, s->in);

			if (why) {
				shp_stat_inc(sn, why);
				shp_stat_inc(sn, SHP_STAT(DROPPED));
				ret = NF_DROP;
				goto out;
			}
		}
		res = shp_message(sn, cfg, s, &fl, dir, off, r, &opos,
				  shp_out_cap(dataoff, total, off + r),
				  events ? &evq : NULL);
		if (res == SHP_MSG_NOROOM) {
			/* The packet cannot grow any more. If the sender is
			 * in the middle of a message, its next segment comes
			 * at once: this message and the ones after it are
			 * held for it. Else they pass as they are.
			 */
			hold_tail = tcp &&
				shp_ends_incomplete(s->in + off, n - off, rest);
			if (!hold_tail)
				shp_stat_inc(sn, SHP_STAT(TRUNCATED));
			break;
		}
		if (res == SHP_MSG_REWRITTEN)
			changed = true;
		off += r;
		if (!tcp)
			break;
	}
	if (off && !tcp)
		shp_ct_refresh(ct, skb, cfg->sip_timeout * HZ);
	/* the tail, and what did not fit in the packet: held */
	if (hold_tail || (rest && off == n && !bad))
		held = n == total &&
		       shp_stream_hold(sn, cfg, ct, dir, &seg, s->in + off,
				       n - off, seg.seq + off, skb, rest_off,
				       rest);
	if (hold_tail && !held)
		shp_stat_inc(sn, shp_cut_stat(ct, dir, th, len));
	whole = seg.prefix || seg.resent || held;
	if (seg.prefix && off)
		shp_stat_inc(sn, SHP_STAT(TCP_REASSEMBLED));
	if (whole) {
		/* rewrite delta before anything is appended as it is */
		int delta = seg.resent ? 0 : (int)opos - (int)off;
		size_t olen = opos;
		bool ok;

		/* what was not parsed (bounds were reserved for it) */
		if (!held && off < n &&
		    WARN_ON_ONCE(shp_out_append(s->out, SHP_MAX_MSG, &olen,
						s->in + off, n - off, NULL)))
			olen = opos;
		if (!olen) {
			/* all of it is held: nothing to send yet */
			shp_events_flush(nf_ct_net(ct), sn, &evq, false);
			ret = NF_DROP;
			goto out;
		}
		ok = shp_seg_replace(skb, protoff, ct, ctinfo, &seg, len,
				     s->out, olen, delta);
		if (ok && !seg.resent && (seg.prefix || olen > seg.mss))
			shp_stream_sent(sn, cfg, ct, dir, &seg, s->out, olen,
					seg.seq + (held ? off : n));
		changed = true;
		if (!ok)
			goto mangle_failed;
	} else if (changed) {
		bool ok;

		if (tcp)
			ok = nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff,
						      0, off, s->out, opos);
		else
			ok = nf_nat_mangle_udp_packet(skb, ct, ctinfo, protoff,
						      0, off, s->out, opos);
		if (!ok)
			goto mangle_failed;
	}
	if (changed)
		shp_events_flush(nf_ct_net(ct), sn, &evq, true);
	/* nothing mangled: what was queued did not happen */
	shp_events_flush(nf_ct_net(ct), sn, &evq, false);
	if (!bad)
		goto out;
	/* what was not parsed, and why (a listener needs no NAT for it) */
	if (shp_events_wanted(nf_ct_net(ct)))
		shp_event_malformed(sn, &fl, dir, s->in + off, n - off, perr,
				    s->msg.err_off, droppable &&
				    cfg->malformed_policy == SHP_MALFORMED_DROP);
malformed:
	/* (a datagram larger than any message comes here: no event) */
	shp_stat_inc(sn, SHP_STAT(MALFORMED));
	if (cfg->malformed_policy == SHP_MALFORMED_DROP && droppable) {
		shp_stat_inc(sn, SHP_STAT(DROPPED));
		ret = NF_DROP;
	}
	goto out;

mangle_failed:
	shp_message_undo(sn, s, ct, (struct shp_undo_mark){ 0, 0 });
	shp_events_flush(nf_ct_net(ct), sn, &evq, false);
	shp_stream_failed(sn, ct, dir, &seg);
	nf_ct_helper_log(skb, ct, "cannot mangle SIP message");
	shp_stat_inc(sn, SHP_STAT(DROPPED));
	ret = NF_DROP;
out:
	shp_stream_end(&seg);
	return ret;
}

int shp_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
	     enum ip_conntrack_info ctinfo)
{
	struct shp_net *sn = shp_pernet(nf_ct_net(ct));
	const struct shp_config *cfg;
	const struct tcphdr *th = NULL;
	struct tcphdr _th;
	unsigned int dataoff;
	bool stale;
	int ret;

	if (READ_ONCE(shp_helpers_going))
		return NF_ACCEPT;
	cfg = rcu_dereference(sn->cfg);
	if (!cfg)
		return NF_ACCEPT;
	/* every packet, the TCP handshake too: its first sets the flow up */
	local_bh_disable();
	stale = shp_stale(sn, cfg, skb, ct, ctinfo);
	if (!stale)
		shp_synced_adopt(sn, cfg, ct);
	local_bh_enable();
	if (stale)
		return NF_DROP;
	if (nf_ct_protonum(ct) == IPPROTO_TCP) {
		if (ctinfo != IP_CT_ESTABLISHED &&
		    ctinfo != IP_CT_ESTABLISHED_REPLY)
			return NF_ACCEPT;
		th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
		if (!th)
			return NF_ACCEPT;
		dataoff = protoff + th->doff * 4;
		if (dataoff >= skb->len) {
			/* what the receiver acknowledges is not kept */
			shp_stream_ack(sn, ct, CTINFO2DIR(ctinfo), th);
			return NF_ACCEPT;
		}
	} else {
		dataoff = protoff + sizeof(struct udphdr);
	}
	if (dataoff >= skb->len)
		return NF_ACCEPT;

	shp_stat_inc(sn, SHP_STAT(SEEN));
	/* help() also runs in process context (locally generated packets):
	 * keep softirqs off while this CPU's scratch is in use.
	 */
	local_bh_disable();
	ret = shp_help_with_scratch(skb, protoff, dataoff, th, ct, ctinfo, sn,
				    cfg);
	local_bh_enable();
	return ret;
}
