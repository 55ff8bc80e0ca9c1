/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper: internal declarations shared by the module's files.
 *
 * Layout: main.c (module and per-netns life cycle), config.c (the per-netns
 * configuration, replaced atomically under RCU; it turns the auto-assign
 * hooks on and off), stats.c (per-CPU counters), netlink.c (generic netlink
 * control plane). The datapath (datapath.h): helper.c (the conntrack
 * helpers), assign.c (auto-assign hooks), datapath.c (help() and the
 * rewrite), stream.c (messages split over TCP segments), stale.c (flows
 * that no longer fit the router), synced.c (expectations conntrackd made
 * on a backup router), media.c and register.c (media and
 * registration expectations), events.c (events for siphelperctl monitor).
 * core/: the kernel-agnostic SIP/SDP parser and rewriter.
 */
#ifndef SIPHELPER_H
#define SIPHELPER_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/u64_stats_sync.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/siphelper.h>

#define SHP_NAME		"siphelper"
#define SHP_MAX_PORT_RANGES	32
#define SHP_DEFAULT_TIMEOUT	3600U		/* seconds, RouterOS default */
#define SHP_MAX_TIMEOUT		86400U

enum shp_proto_mask {
	SHP_PROTO_UDP = 1 << 0,
	SHP_PROTO_TCP = 1 << 1,
	SHP_PROTO_BOTH = SHP_PROTO_UDP | SHP_PROTO_TCP,
};

enum shp_malformed_policy {
	SHP_MALFORMED_ACCEPT,
	SHP_MALFORMED_DROP,
};

struct shp_port_range {
	u16 lo;
	u16 hi;
	u8 protos;			/* enum shp_proto_mask */
};

/* One netns' configuration. Immutable once published: writers build a new
 * copy and swap the pointer, so readers in softirq take no lock.
 */
struct shp_config {
	struct shp_port_range ports[SHP_MAX_PORT_RANGES];
	unsigned int nports;
	unsigned int sip_timeout;	/* seconds */
	bool direct_media;
	bool auto_assign;
	u8 malformed_policy;		/* enum shp_malformed_policy */
	bool pinholes_only;		/* pinholes, never an edit */
	u32 tcp_hold_max;		/* bytes per TCP flow and direction */
	u32 tcp_hold_total;		/* bytes for all of the netns */
	u32 unreplied_timeout;		/* seconds, 0: never stale */
	u32 max_calls;			/* in the call table (calls.c) */
	u32 media_timeout;		/* seconds, 0: never (calls.c) */
	u32 max_call_duration;		/* seconds, 0: no limit */
	/* policy.c, each 0: off */
	u32 call_limit;			/* calls per netns */
	u32 source_call_limit;		/* calls per source address */
	u32 source_rate;		/* new INVITEs, REGISTERs a second */
	u8 unknown_methods;		/* SHP_MALFORMED_DROP: dropped */
	struct rcu_head rcu;
};

/*
 * The counters are numbered as the uapi numbers their attributes: counter
 * SHP_STAT(X) is SIPHELPER_A_STAT_X, so that a new counter is one new
 * enumerator there (and the code that counts it).
 */
#define SHP_STAT_FIRST		SIPHELPER_A_STAT_SEEN
#define SHP_STAT(name)		(SIPHELPER_A_STAT_##name - SHP_STAT_FIRST)
#define SHP_N_STATS		(__SIPHELPER_A_STAT_MAX - SHP_STAT_FIRST)

/* Counters as read: sums over CPUs, less what a reset took away. */
struct shp_stats {
	u64 v[SHP_N_STATS];
};

/* One CPU's counters. They only grow (a reset moves the base instead, so
 * it never races an increment); syncp keeps 64-bit reads whole on 32-bit
 * routers and costs nothing on 64-bit ones.
 */
struct shp_stats_pcpu {
	u64_stats_t v[SHP_N_STATS];
	struct u64_stats_sync syncp;
};

/* events.c: token bucket limiting the datapath events of one netns */
struct shp_events {
	spinlock_t lock;		/* taken only while someone listens */
	unsigned long last;		/* jiffies of the last refill */
	u32 tokens;
	u32 suppressed;			/* not sent since the last event */
};

/* stream.c: TCP flows holding part of a message, by conntrack */
#define SHP_STREAM_HASH_BITS	6

struct shp_streams {
	spinlock_t lock;		/* writers; lookups are RCU */
	struct hlist_head head[1 << SHP_STREAM_HASH_BITS];
	atomic_t bytes;			/* held and kept, and the streams */
	bool dead;			/* the netns goes: no new stream */
};

/* calls.c: the call table (datapath.h) */
#define SHP_CALL_HASH_BITS	10
#define SHP_CALL_FLOW_HASH_BITS	6

struct shp_calls {
	spinlock_t lock;
	struct hlist_head head[1 << SHP_CALL_HASH_BITS];	/* calls */
	struct hlist_head flows[1 << SHP_CALL_FLOW_HASH_BITS];
	struct delayed_work gc;		/* ends the calls whose end was lost */
	struct net *net;		/* whose table this is */
	unsigned int count;		/* calls */
	bool dead;			/* the netns goes: no new call */
};

/* policy.c: per-source state of the call policy */
#define SHP_SOURCE_HASH_BITS	8

struct shp_sources {
	spinlock_t lock;
	struct hlist_head head[1 << SHP_SOURCE_HASH_BITS];
	unsigned int count;
};

struct shp_net {
	struct shp_config __rcu *cfg;
	struct shp_stats_pcpu __percpu *stats;
	spinlock_t stats_lock;		/* guards stats_base */
	struct shp_stats stats_base;	/* the sums at the last reset */
	struct shp_events events;
	struct shp_streams streams;
	struct shp_calls calls;
	struct shp_sources sources;
	/* under config.c's mutex */
	bool assign_live;		/* config.c's hooks pernet init done */
	bool assign_hooked;		/* auto-assign hooks registered */
};

/* main.c */
extern unsigned int shp_net_id;

static inline struct shp_net *shp_pernet(const struct net *net)
{
	return net_generic(net, shp_net_id);
}

/* config.c */
int shp_config_init(struct net *net);
void shp_config_exit(struct shp_net *sn);
void shp_config_defaults(struct net *net, struct shp_config *cfg);
int shp_config_validate(const struct shp_config *cfg, const char **why);
int shp_config_replace(struct net *net, const struct shp_config *cfg);
int shp_config_hooks_init(void);
void shp_config_hooks_exit(void);
int shp_config_params_init(void);

/* Is @port of protocol @l4proto one of @cfg's SIP ports? */
static inline bool shp_config_port_match(const struct shp_config *cfg,
					 u8 l4proto, u16 port)
{
	u8 want = l4proto == IPPROTO_TCP ? SHP_PROTO_TCP : SHP_PROTO_UDP;
	unsigned int i;

	for (i = 0; i < cfg->nports; i++)
		if ((cfg->ports[i].protos & want) &&
		    port >= cfg->ports[i].lo && port <= cfg->ports[i].hi)
			return true;
	return false;
}

/* stats.c */
int shp_stats_init(struct shp_net *sn);
void shp_stats_exit(struct shp_net *sn);
void shp_stats_read(struct shp_net *sn, struct shp_stats *sum);
void shp_stats_reset(struct shp_net *sn);

static inline void shp_stat_add(struct shp_net *sn, unsigned int s,
				unsigned int n)
{
	struct shp_stats_pcpu *p;
	unsigned long flags;

	if (!n)
		return;
	p = get_cpu_ptr(sn->stats);
	/* process context too (local output): irqsave on 32-bit only */
	flags = u64_stats_update_begin_irqsave(&p->syncp);
	u64_stats_add(&p->v[s], n);
	u64_stats_update_end_irqrestore(&p->syncp, flags);
	put_cpu_ptr(sn->stats);
}

static inline void shp_stat_inc(struct shp_net *sn, unsigned int s)
{
	shp_stat_add(sn, s, 1);
}

/* helper.c */
int shp_helper_init(void);
void shp_helper_exit(void);

/* assign.c: auto-assignment of the helper to new flows */
int shp_assign_sync(struct net *net, bool on);

/* datapath.c: help() and the payload rewrite (see datapath.h) */
int shp_datapath_init(void);
void shp_datapath_exit(void);

/* netlink.c */
int shp_netlink_init(void);
void shp_netlink_exit(void);
bool shp_nl_events_listened(struct net *net);
void *shp_nl_event_put(struct sk_buff *skb);
int shp_nl_event_send(struct net *net, struct sk_buff *skb);

/* events.c: datapath events (see datapath.h for the producers) */
void shp_events_init(struct shp_events *ev);

/* stream.c: TCP reassembly state (see datapath.h) */
void shp_streams_init(struct shp_net *sn);
void shp_streams_exit(struct shp_net *sn);

/* calls.c: the call table (see datapath.h) */
void shp_calls_init(struct shp_net *sn, struct net *net);
void shp_calls_exit(struct shp_net *sn);
/* policy.c */
void shp_sources_init(struct shp_net *sn);
void shp_sources_exit(struct shp_net *sn);
/* for netlink.c: get-calls (@pos: the dump's position), flush-calls */
struct sk_buff;
int shp_calls_dump(struct shp_net *sn, struct sk_buff *skb,
		   unsigned long *pos, void *(*hdr)(struct sk_buff *, void *),
		   void *arg);
unsigned int shp_calls_flush(struct shp_net *sn, const char *id,
			     unsigned int len);

#endif /* SIPHELPER_H */
