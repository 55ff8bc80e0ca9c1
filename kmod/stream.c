// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: SIP messages split over TCP segments.
 *
 * A segment whose last message is incomplete gives those bytes to the
 * flow's hold and leaves without them (or is dropped when they were all
 * it carried). The sender has no acknowledgement for them, so it still
 * owns them: giving the hold up is always safe, the sender sends them
 * again. The next in-order segment gets the held bytes in front of its
 * own, its sequence number moved back to the first of them; the datapath
 * rewrites the whole message and the packet leaves as GSO in segments no
 * larger than the sender's. What left rewritten is kept until the
 * receiver acknowledges it, so that a retransmission of any part of it
 * is replaced by the same rewritten bytes. See docs/datapath.md
 * "Messages split over segments".
 */

#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/hash.h>
#include <net/tcp.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "datapath.h"

/* One direction of a TCP flow. */
struct shp_stream_dir {
	char *held;		/* an incomplete message's first bytes */
	u32 held_seq;		/* sender sequence number of held[0] */
	u32 held_len;		/* 0: nothing held */
	u16 mss;		/* largest segment payload that was held */
	u8 held_resends;	/* held bytes sent again, nothing new */
	bool raw;		/* raw_end is set */
	u32 raw_end;		/* bytes before it pass as sent (gave up) */
	char *sent;		/* the last rewritten output, until acked */
	u32 sent_seq;		/* sender range it replaced */
	u32 sent_end;
	u32 sent_len;
	u32 sent_wire_end;	/* its end as the receiver numbers it */
	s32 sent_off;		/* seqadj offset it left with */
};

struct shp_stream {
	struct hlist_node node;		/* in shp_streams, RCU */
	struct rcu_head rcu;
	const struct nf_conn *ct;	/* key; no reference: see destroy */
	struct shp_net *sn;
	spinlock_t lock;		/* one segment of the flow at a time */
	struct shp_stream_dir dir[IP_CT_DIR_MAX];
};

static u32 shp_stream_bucket(const struct nf_conn *ct)
{
	return hash_ptr(ct, SHP_STREAM_HASH_BITS);
}

/* Budget: bytes of this netns' holds and kept outputs, and the streams. */
static bool shp_stream_charge(struct shp_net *sn, const struct shp_config *cfg,
			      unsigned int bytes)
{
	if (atomic_add_return(bytes, &sn->streams.bytes) <= cfg->tcp_hold_total)
		return true;
	atomic_sub(bytes, &sn->streams.bytes);
	return false;
}

static void shp_stream_uncharge(struct shp_net *sn, unsigned int bytes)
{
	atomic_sub(bytes, &sn->streams.bytes);
}

static void shp_stream_drop_held(struct shp_net *sn, struct shp_stream_dir *d)
{
	if (!d->held)
		return;
	kfree(d->held);
	shp_stream_uncharge(sn, d->held_len);
	d->held = NULL;
	d->held_len = 0;
	d->held_resends = 0;
}

static void shp_stream_drop_sent(struct shp_net *sn, struct shp_stream_dir *d)
{
	if (!d->sent)
		return;
	kfree(d->sent);
	shp_stream_uncharge(sn, d->sent_len);
	d->sent = NULL;
	d->sent_len = 0;
}

static void shp_stream_free_rcu(struct rcu_head *head)
{
	struct shp_stream *st = container_of(head, struct shp_stream, rcu);
	unsigned int i;

	for (i = 0; i < IP_CT_DIR_MAX; i++) {
		shp_stream_drop_held(st->sn, &st->dir[i]);
		shp_stream_drop_sent(st->sn, &st->dir[i]);
	}
	shp_stream_uncharge(st->sn, sizeof(*st));
	kfree(st);
}

static struct shp_stream *shp_stream_find(struct shp_net *sn,
					  const struct nf_conn *ct)
{
	struct shp_stream *st;

	hlist_for_each_entry_rcu(st, &sn->streams.head[shp_stream_bucket(ct)],
				 node)
		if (st->ct == ct)
			return st;
	return NULL;
}

static struct shp_stream *shp_stream_create(struct shp_net *sn,
					    const struct shp_config *cfg,
					    const struct nf_conn *ct)
{
	struct shp_stream *st, *other;

	if (!shp_stream_charge(sn, cfg, sizeof(*st)))
		return NULL;
	st = kzalloc(sizeof(*st), GFP_ATOMIC);
	if (!st) {
		shp_stream_uncharge(sn, sizeof(*st));
		return NULL;
	}
	st->ct = ct;
	st->sn = sn;
	spin_lock_init(&st->lock);
	spin_lock_bh(&sn->streams.lock);
	other = shp_stream_find(sn, ct);
	if (other || sn->streams.dead) {
		spin_unlock_bh(&sn->streams.lock);
		shp_stream_uncharge(sn, sizeof(*st));
		kfree(st);
		return other;
	}
	hlist_add_head_rcu(&st->node,
			   &sn->streams.head[shp_stream_bucket(ct)]);
	spin_unlock_bh(&sn->streams.lock);
	return st;
}

/* The conntrack goes (helper destroy callback): so does its stream. */
void shp_stream_destroy(struct nf_conn *ct)
{
	struct shp_net *sn = shp_pernet(nf_ct_net(ct));
	struct shp_stream *st;

	if (nf_ct_protonum(ct) != IPPROTO_TCP)
		return;
	spin_lock_bh(&sn->streams.lock);
	st = shp_stream_find(sn, ct);
	if (st)
		hlist_del_rcu(&st->node);
	spin_unlock_bh(&sn->streams.lock);
	if (st)
		call_rcu(&st->rcu, shp_stream_free_rcu);
}

void shp_streams_init(struct shp_net *sn)
{
	unsigned int i;

	spin_lock_init(&sn->streams.lock);
	for (i = 0; i < ARRAY_SIZE(sn->streams.head); i++)
		INIT_HLIST_HEAD(&sn->streams.head[i]);
	atomic_set(&sn->streams.bytes, 0);
	sn->streams.dead = false;
}

/*
 * The netns goes, or the module (its helpers are already unregistered, so
 * no destroy callback runs any more). Conntracks of a dying netns may
 * outlive this: their destroy callback then finds nothing.
 */
void shp_streams_exit(struct shp_net *sn)
{
	struct shp_stream *st;
	struct hlist_node *tmp;
	unsigned int i;

	spin_lock_bh(&sn->streams.lock);
	sn->streams.dead = true;
	for (i = 0; i < ARRAY_SIZE(sn->streams.head); i++)
		hlist_for_each_entry_safe(st, tmp, &sn->streams.head[i], node) {
			hlist_del_rcu(&st->node);
			call_rcu(&st->rcu, shp_stream_free_rcu);
		}
	spin_unlock_bh(&sn->streams.lock);
	rcu_barrier();
}

/*
 * Gives the held bytes up: they pass as the sender sends them again, and
 * so does everything it has sent so far (a later rewrite there would
 * change lengths under bytes already delivered).
 */
static void shp_stream_give_up(struct shp_net *sn, struct nf_conn *ct,
			       enum ip_conntrack_dir dir,
			       struct shp_stream_dir *d)
{
	if (d->held_len)
		shp_stat_inc(sn, SHP_STAT(TCP_GAVE_UP));
	shp_stream_drop_held(sn, d);
	d->raw = true;
	d->raw_end = READ_ONCE(ct->proto.tcp.seen[dir].td_end);
}

/* The receiver acknowledged @ack (its numbering): kept output it covers goes */
static void shp_stream_acked(struct shp_net *sn, struct shp_stream_dir *d,
			     u32 ack)
{
	if (d->sent && !before(ack, d->sent_wire_end))
		shp_stream_drop_sent(sn, d);
}

/*
 * Where a segment's payload (@len bytes, sent in segments of @segsz) stands
 * in its stream. Held bytes that go in front of it are copied to @in (the
 * packet may carry @room payload bytes at most); a kept output that
 * replaces it is in seg->resent until shp_stream_end().
 */
/* A segment without payload: what it acknowledges is not kept any more. */
void shp_stream_ack(struct shp_net *sn, struct nf_conn *ct,
		    enum ip_conntrack_dir dir, const struct tcphdr *th)
{
	struct shp_stream *st;

	if (!th->ack)
		return;
	st = shp_stream_find(sn, ct);
	if (!st)
		return;
	spin_lock_bh(&st->lock);
	shp_stream_acked(sn, &st->dir[!dir], ntohl(th->ack_seq));
	spin_unlock_bh(&st->lock);
}

/*
 * Part of what left rewritten, sent again: the same rewritten bytes go
 * instead (all of them, from their first sequence number), if seqadj
 * still places them where they went. True when they do.
 */
static bool shp_stream_resend(struct shp_net *sn, struct nf_conn *ct,
			      enum ip_conntrack_dir dir,
			      struct shp_stream_dir *d, u32 seq,
			      unsigned int len, unsigned int room,
			      struct shp_seg *seg)
{
	if (!d->sent || before(seq, d->sent_seq) ||
	    !before(seq, d->sent_end))
		return false;
	if (nf_ct_seq_offset(ct, dir, d->sent_seq) != d->sent_off ||
	    d->sent_len + len - min_t(u32, len, d->sent_end - seq) > room) {
		shp_stream_drop_sent(sn, d);
		return false;
	}
	seg->resent = d->sent;
	seg->resent_len = d->sent_len;
	seg->skip = min_t(u32, len, d->sent_end - seq);
	seg->use = len - seg->skip;
	seg->seq = d->sent_seq;
	seg->may_hold = false;
	shp_stat_inc(sn, SHP_STAT(TCP_RESENT));
	return true;
}

/*
 * Every byte of a segment up to @end acknowledged by the receiver
 * (conntrack keeps its ACKs in the sender's numbering, seqadj undone): a
 * retransmission that crossed the ACK on its way, which the receiver drops.
 */
bool shp_seg_acked(const struct nf_conn *ct, enum ip_conntrack_dir dir, u32 end)
{
	const struct ip_ct_tcp_state *rcv = &ct->proto.tcp.seen[!dir];

	return (READ_ONCE(rcv->flags) & IP_CT_TCP_FLAG_MAXACK_SET) &&
	       !after(end, READ_ONCE(rcv->td_maxack));
}

int shp_stream_begin(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct,
		     enum ip_conntrack_dir dir, const struct tcphdr *th,
		     unsigned int len, unsigned int segsz, unsigned int room,
		     char *in, struct shp_seg *seg)
{
	u32 seq = ntohl(th->seq), end = seq + len;
	struct shp_stream_dir *d;
	struct shp_stream *st;

	memset(seg, 0, sizeof(*seg));
	seg->seq = seq;
	seg->use = len;
	seg->mss = segsz;
	/* only new data may be held: nothing after it has been sent */
	seg->may_hold = !th->fin && !th->rst &&
			end == READ_ONCE(ct->proto.tcp.seen[dir].td_end);
	st = shp_stream_find(sn, ct);
	if (!st)
		return NF_ACCEPT;
	spin_lock(&st->lock);
	/* held until shp_stream_end(): one segment of the flow at a time */
	__release(&st->lock);
	seg->st = st;
	d = &st->dir[dir];
	seg->mss = max_t(unsigned int, d->mss, segsz);
	if (th->ack)
		shp_stream_acked(sn, &st->dir[!dir], ntohl(th->ack_seq));
	if (th->rst) {
		shp_stream_drop_held(sn, d);
		return NF_ACCEPT;
	}
	if (d->raw && before(seq, d->raw_end)) {
		seg->raw = true;
		seg->may_hold = false;
		return NF_ACCEPT;
	}
	if (d->held_len) {
		u32 held_end = d->held_seq + d->held_len;

		if (after(seq, held_end)) {
			/* A gap before it: the sender sends it again once
			 * the gap is filled, and in order.
			 */
			shp_stat_inc(sn, SHP_STAT(TCP_OUT_OF_ORDER));
			return NF_DROP;
		}
		if (before(seq, d->held_seq) &&
		    shp_stream_resend(sn, ct, dir, d, seq, len, room, seg)) {
			/*
			 * Delivered bytes sent again (the receiver has not
			 * acknowledged the last output yet, or lost it): it
			 * goes again, the hold stays, and whatever new the
			 * segment carries the sender sends again.
			 */
			seg->skip = len;
			seg->use = 0;
			return NF_ACCEPT;
		}
		if (!after(end, held_end) && !d->held_resends++) {
			/* Held bytes sent again and nothing new, the first
			 * time: a tail loss probe (2 RTTs without an ACK,
			 * on a LAN a few ms), the rest may be on its way.
			 */
			shp_stat_inc(sn, SHP_STAT(TCP_OUT_OF_ORDER));
			return NF_DROP;
		}
		if (!after(end, held_end) || d->held_len >= room) {
			/* Again: the sender waits for their
			 * acknowledgement, which only their delivery
			 * brings (its retransmission timer fired).
			 */
			shp_stream_give_up(sn, ct, dir, d);
			seg->raw = true;
			seg->may_hold = false;
			return NF_ACCEPT;
		}
		/*
		 * New bytes from held_end on (a retransmission may repeat
		 * held ones: the same bytes). Nothing after the hold was
		 * ever delivered, so the tail may be held again; what does
		 * not fit in the packet is left for the sender to send
		 * again.
		 */
		memcpy(in, d->held, d->held_len);
		seg->prefix = d->held_len;
		seg->skip = held_end - seq;
		seg->use = min(len - seg->skip, room - seg->prefix);
		seg->seq = d->held_seq;
		seg->may_hold = !th->fin;
		/* the hold is empty again: a failure from here on gives up
		 * (the sender still has the bytes)
		 */
		shp_stream_drop_held(sn, d);
		return NF_ACCEPT;
	}
	shp_stream_resend(sn, ct, dir, d, seq, len, room, seg);
	return NF_ACCEPT;
}

/*
 * Holds @len bytes at @buf (sequence number @seq), and after them the
 * packet's last @rest payload bytes that did not fit in it (@skb at
 * @rest_off).
 */
bool shp_stream_hold(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct, enum ip_conntrack_dir dir,
		     struct shp_seg *seg, const char *buf, unsigned int len,
		     u32 seq, const struct sk_buff *skb, unsigned int rest_off,
		     unsigned int rest)
{
	struct shp_stream_dir *d;
	char *copy;

	if (!seg->may_hold || len + rest > cfg->tcp_hold_max)
		goto refused;
	if (!seg->st) {
		seg->st = shp_stream_create(sn, cfg, ct);
		if (!seg->st)
			goto refused;
		spin_lock(&seg->st->lock);
		__release(&seg->st->lock);	/* see shp_stream_begin() */
	}
	d = &seg->st->dir[dir];
	if (WARN_ON_ONCE(d->held_len))
		goto refused;
	if (!shp_stream_charge(sn, cfg, len + rest))
		goto refused;
	copy = kmalloc(len + rest, GFP_ATOMIC);
	if (!copy || skb_copy_bits(skb, rest_off, copy + len, rest)) {
		kfree(copy);
		shp_stream_uncharge(sn, len + rest);
		goto refused;
	}
	memcpy(copy, buf, len);
	d->held = copy;
	d->held_len = len + rest;
	d->held_seq = seq;
	d->mss = max_t(u16, d->mss, min_t(unsigned int, seg->mss, U16_MAX));
	shp_stat_inc(sn, SHP_STAT(TCP_HELD));
	return true;

refused:
	if (seg->may_hold)
		shp_stat_inc(sn, SHP_STAT(TCP_HOLD_REFUSED));
	return false;
}

/*
 * The segment left with @out (@len bytes) for the sender's [@seq, @end):
 * kept until the receiver acknowledges it.
 */
void shp_stream_sent(struct shp_net *sn, const struct shp_config *cfg,
		     struct nf_conn *ct,
		     enum ip_conntrack_dir dir, struct shp_seg *seg,
		     const char *out, unsigned int len, u32 end)
{
	struct shp_stream_dir *d;
	char *copy;

	if (!seg->st)
		return;
	d = &seg->st->dir[dir];
	shp_stream_drop_sent(sn, d);
	if (!len || !shp_stream_charge(sn, cfg, len))
		return;
	copy = kmemdup(out, len, GFP_ATOMIC);
	if (!copy) {
		shp_stream_uncharge(sn, len);
		return;
	}
	d->sent = copy;
	d->sent_len = len;
	d->sent_seq = seg->seq;
	d->sent_end = end;
	d->sent_off = nf_ct_seq_offset(ct, dir, seg->seq);
	d->sent_wire_end = seg->seq + d->sent_off + len;
}

/* This segment could not be delivered as planned (mangle failed). */
void shp_stream_failed(struct shp_net *sn, struct nf_conn *ct,
		       enum ip_conntrack_dir dir, struct shp_seg *seg)
{
	if (seg->st)
		shp_stream_give_up(sn, ct, dir, &seg->st->dir[dir]);
}

void shp_stream_end(struct shp_seg *seg)
{
	if (seg->st) {
		__acquire(&seg->st->lock);	/* taken in begin or hold */
		spin_unlock(&seg->st->lock);
	}
}
