// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: generic netlink control plane (uapi/linux/siphelper.h).
 *
 * Every request acts on the netns of the requesting socket. Reads are open
 * to anyone; changes need CAP_NET_ADMIN in the user namespace owning the
 * netns (GENL_UNS_ADMIN_PERM). Attributes are validated strictly by the
 * policies below before a handler runs; SET_CONFIG then applies the given
 * attributes to a copy of the current config, validates the whole and
 * publishes it with one pointer swap, so it is all or nothing. The family
 * is not parallel_ops: genl_mutex serialises the read-modify-write.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <linux/siphelper.h>

#include "siphelper.h"
#include "compat.h"

enum shp_mcgrp {
	SHP_MCGRP_EVENTS,
};

static const struct genl_multicast_group shp_mcgrps[] = {
	[SHP_MCGRP_EVENTS] = {
		.name = SIPHELPER_GENL_MCGRP_EVENTS,
		/* GENL_MCAST_*, not the GENL_*_PERM op flags: checked on join */
		.flags = SHP_MCGRP_FLAGS,
	},
};

/*
 * The policies are the spec's (uapi/siphelper.yaml), written here by hand
 * because the generated ones need 6.2+ (genl_split_ops); test_control.py
 * compares the running kernel's policy dump with the spec.
 */
static const struct nla_policy shp_port_policy[SIPHELPER_A_PORT_MAX + 1] = {
	[SIPHELPER_A_PORT_LO] = NLA_POLICY_MIN(NLA_U16, 1),
	[SIPHELPER_A_PORT_HI] = NLA_POLICY_MIN(NLA_U16, 1),
	[SIPHELPER_A_PORT_PROTOS] = NLA_POLICY_RANGE(NLA_U8, 1,
						     SIPHELPER_PROTO_BOTH),
};

static const struct nla_policy shp_ports_policy[SIPHELPER_A_PORTS_MAX + 1] = {
	[SIPHELPER_A_PORTS_ENTRY] = NLA_POLICY_NESTED(shp_port_policy),
};

/* not const: the 6.1 policy holds a non-const pointer */
static struct netlink_range_validation shp_timeout_range = {
	.min = 1,
	.max = SIPHELPER_MAX_SIP_TIMEOUT,
};

/* 0..24 h: sip-unreplied-timeout and the call timers */
static struct netlink_range_validation shp_unreplied_range = {
	.max = SIPHELPER_MAX_SIP_TIMEOUT,
};

static struct netlink_range_validation shp_max_calls_range = {
	.min = 1,
	.max = SIPHELPER_MAX_SIP_MAX_CALLS,
};

static struct netlink_range_validation shp_call_limit_range = {
	.max = SIPHELPER_MAX_SIP_MAX_CALLS,
};

static struct netlink_range_validation shp_source_rate_range = {
	.max = SIPHELPER_MAX_SIP_SOURCE_RATE,
};

static struct netlink_range_validation shp_hold_range = {
	.max = SIPHELPER_MAX_TCP_HOLD,
};

static struct netlink_range_validation shp_hold_total_range = {
	.max = SIPHELPER_MAX_TCP_HOLD_TOTAL,
};

static const struct nla_policy shp_policy[SIPHELPER_A_MAX + 1] = {
	[SIPHELPER_A_VERSION] = { .type = NLA_REJECT },
	[SIPHELPER_A_PORTS] = NLA_POLICY_NESTED(shp_ports_policy),
	[SIPHELPER_A_SIP_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &shp_timeout_range),
	[SIPHELPER_A_DIRECT_MEDIA] = NLA_POLICY_MAX(NLA_U8, 1),
	[SIPHELPER_A_AUTO_ASSIGN] = NLA_POLICY_MAX(NLA_U8, 1),
	[SIPHELPER_A_MALFORMED_POLICY] =
		NLA_POLICY_MAX(NLA_U8, SIPHELPER_MALFORMED_DROP),
	[SIPHELPER_A_STATS] = { .type = NLA_REJECT },
	[SIPHELPER_A_FLUSH_CONNTRACKS] = { .type = NLA_REJECT },
	[SIPHELPER_A_FLUSH_EXPECTS] = { .type = NLA_REJECT },
	[SIPHELPER_A_EVENT] = { .type = NLA_REJECT },
	[SIPHELPER_A_PAD] = { .type = NLA_REJECT },
	[SIPHELPER_A_PINHOLES_ONLY] = NLA_POLICY_MAX(NLA_U8, 1),
	[SIPHELPER_A_TCP_HOLD_MAX] = NLA_POLICY_FULL_RANGE(NLA_U32,
							   &shp_hold_range),
	[SIPHELPER_A_TCP_HOLD_TOTAL] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_hold_total_range),
	[SIPHELPER_A_SIP_UNREPLIED_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_unreplied_range),
	[SIPHELPER_A_SIP_MAX_CALLS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_max_calls_range),
	[SIPHELPER_A_SIP_MEDIA_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_unreplied_range),
	[SIPHELPER_A_SIP_MAX_CALL_DURATION] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_unreplied_range),
	[SIPHELPER_A_SIP_CALL_LIMIT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_call_limit_range),
	[SIPHELPER_A_SIP_SOURCE_CALL_LIMIT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_call_limit_range),
	[SIPHELPER_A_SIP_SOURCE_RATE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shp_source_rate_range),
	[SIPHELPER_A_SIP_UNKNOWN_METHODS] =
		NLA_POLICY_MAX(NLA_U8, SIPHELPER_MALFORMED_DROP),
	[SIPHELPER_A_CALL] = { .type = NLA_REJECT },
	[SIPHELPER_A_FLUSH_CALL_ID] =
		NLA_POLICY_RANGE(NLA_BINARY, 1, SIPHELPER_CALL_TEXT_MAX),
	[SIPHELPER_A_FLUSH_CALLS] = { .type = NLA_REJECT },
};

static struct genl_family shp_genl_family;

/* The messages of shp_config_validate() are string literals. */
static void shp_set_err(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

/* A copy of the current config of @net; NULL if out of memory. */
static struct shp_config *shp_config_copy(struct net *net)
{
	struct shp_net *sn = shp_pernet(net);
	struct shp_config *cfg, *cur;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return NULL;
	rcu_read_lock();
	cur = rcu_dereference(sn->cfg);
	if (cur)
		*cfg = *cur;
	else
		shp_config_defaults(net, cfg);
	rcu_read_unlock();
	return cfg;
}

static int shp_put_config(struct sk_buff *skb, const struct shp_config *cfg)
{
	struct nlattr *ports, *entry;
	unsigned int i;

	ports = nla_nest_start(skb, SIPHELPER_A_PORTS);
	if (!ports)
		return -EMSGSIZE;
	for (i = 0; i < cfg->nports; i++) {
		const struct shp_port_range *r = &cfg->ports[i];

		entry = nla_nest_start(skb, SIPHELPER_A_PORTS_ENTRY);
		if (!entry ||
		    nla_put_u16(skb, SIPHELPER_A_PORT_LO, r->lo) ||
		    nla_put_u16(skb, SIPHELPER_A_PORT_HI, r->hi) ||
		    nla_put_u8(skb, SIPHELPER_A_PORT_PROTOS, r->protos))
			return -EMSGSIZE;
		nla_nest_end(skb, entry);
	}
	nla_nest_end(skb, ports);
	if (nla_put_u32(skb, SIPHELPER_A_SIP_TIMEOUT, cfg->sip_timeout) ||
	    nla_put_u8(skb, SIPHELPER_A_DIRECT_MEDIA, cfg->direct_media) ||
	    nla_put_u8(skb, SIPHELPER_A_AUTO_ASSIGN, cfg->auto_assign) ||
	    nla_put_u8(skb, SIPHELPER_A_MALFORMED_POLICY,
		       cfg->malformed_policy) ||
	    nla_put_u8(skb, SIPHELPER_A_PINHOLES_ONLY, cfg->pinholes_only) ||
	    nla_put_u32(skb, SIPHELPER_A_TCP_HOLD_MAX, cfg->tcp_hold_max) ||
	    nla_put_u32(skb, SIPHELPER_A_TCP_HOLD_TOTAL, cfg->tcp_hold_total) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_UNREPLIED_TIMEOUT,
			cfg->unreplied_timeout) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_MAX_CALLS, cfg->max_calls) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_MEDIA_TIMEOUT,
			cfg->media_timeout) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_MAX_CALL_DURATION,
			cfg->max_call_duration) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_CALL_LIMIT, cfg->call_limit) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_SOURCE_CALL_LIMIT,
			cfg->source_call_limit) ||
	    nla_put_u32(skb, SIPHELPER_A_SIP_SOURCE_RATE, cfg->source_rate) ||
	    nla_put_u8(skb, SIPHELPER_A_SIP_UNKNOWN_METHODS,
		       cfg->unknown_methods))
		return -EMSGSIZE;
	return 0;
}

/* A reply to @info with the version attribute; caller fills and sends. */
static struct sk_buff *shp_reply_new(struct genl_info *info, u8 cmd,
				     void **hdr)
{
	struct sk_buff *skb;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put_reply(skb, info, &shp_genl_family, 0, cmd);
	if (!*hdr ||
	    nla_put_u32(skb, SIPHELPER_A_VERSION, SIPHELPER_GENL_VERSION)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static int shp_reply_send(struct genl_info *info, struct sk_buff *skb,
			  void *hdr, int err)
{
	if (err) {
		nlmsg_free(skb);
		return err;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/*
 * An event for the listeners of @net that is not about a packet: its type
 * in the event nest, the rest at the top level (as in the replies). NULL:
 * nobody listens, or no memory.
 */
static struct sk_buff *shp_notify_new(struct net *net, u32 type, void **hdr)
{
	struct nlattr *ev;
	struct sk_buff *skb;

	if (!genl_has_listeners(&shp_genl_family, net, SHP_MCGRP_EVENTS))
		return NULL;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &shp_genl_family, 0, SIPHELPER_CMD_EVENT);
	if (!*hdr)
		goto fail;
	ev = nla_nest_start(skb, SIPHELPER_A_EVENT);
	if (!ev || nla_put_u32(skb, SIPHELPER_A_EVENT_TYPE, type))
		goto fail;
	nla_nest_end(skb, ev);
	return skb;
fail:
	nlmsg_free(skb);
	return NULL;
}

/* Sends it, or frees it when @err (the top level did not fit). */
static void shp_notify_send(struct net *net, struct sk_buff *skb, void *hdr,
			    int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&shp_genl_family, net, skb, 0,
				SHP_MCGRP_EVENTS, GFP_KERNEL);
}

static void shp_notify_config(struct net *net, const struct shp_config *cfg)
{
	struct sk_buff *skb;
	void *hdr;

	skb = shp_notify_new(net, SIPHELPER_EVENT_CONFIG_CHANGED, &hdr);
	if (skb)
		shp_notify_send(net, skb, hdr, shp_put_config(skb, cfg));
}

static int shp_nl_get_config(struct sk_buff *in, struct genl_info *info)
{
	struct shp_config *cfg;
	struct sk_buff *skb;
	void *hdr;
	int err;

	cfg = shp_config_copy(genl_info_net(info));
	if (!cfg)
		return -ENOMEM;
	skb = shp_reply_new(info, SIPHELPER_CMD_GET_CONFIG, &hdr);
	if (!skb) {
		kfree(cfg);
		return -ENOMEM;
	}
	err = shp_put_config(skb, cfg);
	kfree(cfg);
	return shp_reply_send(info, skb, hdr, err);
}

static int shp_ports_from_nla(const struct nlattr *nest,
			      struct shp_config *cfg,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[SIPHELPER_A_PORT_MAX + 1];
	const struct nlattr *entry;
	int rem, err;

	cfg->nports = 0;
	nla_for_each_nested(entry, nest, rem) {
		struct shp_port_range *r;

		if (nla_type(entry) != SIPHELPER_A_PORTS_ENTRY) {
			NL_SET_ERR_MSG_ATTR(extack, entry,
					    "unexpected attribute in port list");
			return -EINVAL;
		}
		if (cfg->nports >= SHP_MAX_PORT_RANGES) {
			NL_SET_ERR_MSG_ATTR(extack, entry,
					    "too many port entries (max 32)");
			return -E2BIG;
		}
		err = nla_parse_nested(tb, SIPHELPER_A_PORT_MAX, entry,
				       shp_port_policy, extack);
		if (err)
			return err;
		if (!tb[SIPHELPER_A_PORT_LO]) {
			NL_SET_ERR_MSG_ATTR(extack, entry,
					    "port entry without a low port");
			return -EINVAL;
		}
		r = &cfg->ports[cfg->nports++];
		r->lo = nla_get_u16(tb[SIPHELPER_A_PORT_LO]);
		r->hi = tb[SIPHELPER_A_PORT_HI] ?
			nla_get_u16(tb[SIPHELPER_A_PORT_HI]) : r->lo;
		r->protos = tb[SIPHELPER_A_PORT_PROTOS] ?
			nla_get_u8(tb[SIPHELPER_A_PORT_PROTOS]) :
			SHP_PROTO_BOTH;
	}
	return 0;
}

static int shp_nl_set_config(struct sk_buff *in, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct net *net = genl_info_net(info);
	struct nlattr **tb = info->attrs;
	struct shp_config *cfg;
	const char *why = "invalid configuration";
	int err;

	BUILD_BUG_ON((int)SHP_PROTO_UDP != (int)SIPHELPER_PROTO_UDP);
	BUILD_BUG_ON((int)SHP_PROTO_TCP != (int)SIPHELPER_PROTO_TCP);
	BUILD_BUG_ON((int)SHP_MALFORMED_DROP != (int)SIPHELPER_MALFORMED_DROP);
	BUILD_BUG_ON(SHP_MAX_PORT_RANGES != SIPHELPER_MAX_PORT_ENTRIES);
	BUILD_BUG_ON(SHP_MAX_TIMEOUT != SIPHELPER_MAX_SIP_TIMEOUT);

	cfg = shp_config_copy(net);
	if (!cfg)
		return -ENOMEM;
	if (tb[SIPHELPER_A_PORTS]) {
		err = shp_ports_from_nla(tb[SIPHELPER_A_PORTS], cfg, extack);
		if (err)
			goto out;
	}
	if (tb[SIPHELPER_A_SIP_TIMEOUT])
		cfg->sip_timeout = nla_get_u32(tb[SIPHELPER_A_SIP_TIMEOUT]);
	if (tb[SIPHELPER_A_DIRECT_MEDIA])
		cfg->direct_media = nla_get_u8(tb[SIPHELPER_A_DIRECT_MEDIA]);
	if (tb[SIPHELPER_A_AUTO_ASSIGN])
		cfg->auto_assign = nla_get_u8(tb[SIPHELPER_A_AUTO_ASSIGN]);
	if (tb[SIPHELPER_A_MALFORMED_POLICY])
		cfg->malformed_policy =
			nla_get_u8(tb[SIPHELPER_A_MALFORMED_POLICY]);
	if (tb[SIPHELPER_A_PINHOLES_ONLY])
		cfg->pinholes_only = nla_get_u8(tb[SIPHELPER_A_PINHOLES_ONLY]);
	if (tb[SIPHELPER_A_TCP_HOLD_MAX])
		cfg->tcp_hold_max = nla_get_u32(tb[SIPHELPER_A_TCP_HOLD_MAX]);
	if (tb[SIPHELPER_A_TCP_HOLD_TOTAL])
		cfg->tcp_hold_total =
			nla_get_u32(tb[SIPHELPER_A_TCP_HOLD_TOTAL]);
	if (tb[SIPHELPER_A_SIP_UNREPLIED_TIMEOUT])
		cfg->unreplied_timeout =
			nla_get_u32(tb[SIPHELPER_A_SIP_UNREPLIED_TIMEOUT]);
	if (tb[SIPHELPER_A_SIP_MAX_CALLS])
		cfg->max_calls = nla_get_u32(tb[SIPHELPER_A_SIP_MAX_CALLS]);
	if (tb[SIPHELPER_A_SIP_MEDIA_TIMEOUT])
		cfg->media_timeout =
			nla_get_u32(tb[SIPHELPER_A_SIP_MEDIA_TIMEOUT]);
	if (tb[SIPHELPER_A_SIP_MAX_CALL_DURATION])
		cfg->max_call_duration =
			nla_get_u32(tb[SIPHELPER_A_SIP_MAX_CALL_DURATION]);
	if (tb[SIPHELPER_A_SIP_CALL_LIMIT])
		cfg->call_limit = nla_get_u32(tb[SIPHELPER_A_SIP_CALL_LIMIT]);
	if (tb[SIPHELPER_A_SIP_SOURCE_CALL_LIMIT])
		cfg->source_call_limit =
			nla_get_u32(tb[SIPHELPER_A_SIP_SOURCE_CALL_LIMIT]);
	if (tb[SIPHELPER_A_SIP_SOURCE_RATE])
		cfg->source_rate = nla_get_u32(tb[SIPHELPER_A_SIP_SOURCE_RATE]);
	if (tb[SIPHELPER_A_SIP_UNKNOWN_METHODS])
		cfg->unknown_methods =
			nla_get_u8(tb[SIPHELPER_A_SIP_UNKNOWN_METHODS]);

	err = shp_config_validate(cfg, &why);
	if (err) {
		shp_set_err(extack, why);
		goto out;
	}
	err = shp_config_replace(net, cfg);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot publish the new configuration (auto-assign hooks: out of memory?)");
		goto out;
	}
	shp_notify_config(net, cfg);
out:
	kfree(cfg);
	return err;
}

static int shp_nl_get_stats(struct sk_buff *in, struct genl_info *info)
{
	struct shp_stats *sum;
	struct nlattr *nest;
	struct sk_buff *skb;
	void *hdr;
	int i, err = 0;

	sum = kzalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	shp_stats_read(shp_pernet(genl_info_net(info)), sum);
	skb = shp_reply_new(info, SIPHELPER_CMD_GET_STATS, &hdr);
	if (!skb) {
		kfree(sum);
		return -ENOMEM;
	}
	nest = nla_nest_start(skb, SIPHELPER_A_STATS);
	if (!nest)
		err = -EMSGSIZE;
	for (i = 0; !err && i < SHP_N_STATS; i++) {
		if (nla_put_u64_64bit(skb, SHP_STAT_FIRST + i, sum->v[i],
				      SIPHELPER_A_STAT_PAD))
			err = -EMSGSIZE;
	}
	if (!err)
		nla_nest_end(skb, nest);
	kfree(sum);
	return shp_reply_send(info, skb, hdr, err);
}

static int shp_nl_reset_stats(struct sk_buff *in, struct genl_info *info)
{
	shp_stats_reset(shp_pernet(genl_info_net(info)));
	return 0;
}

struct shp_flush_count {
	u32 conntracks;
	u32 expects;
};

static bool shp_ct_is_ours(const struct nf_conn *ct)
{
	const struct nf_conn_help *help = nfct_help(ct);
	const struct nf_conntrack_helper *helper;

	if (!help)
		return false;
	helper = rcu_dereference_raw(help->helper);
	return helper && helper->me == THIS_MODULE &&
	       !strcmp(helper->name, SHP_NAME);
}

/* Signalling conntracks with our helper and the media flows they expected. */
static int shp_flush_ct(struct nf_conn *ct, void *data)
{
	struct shp_flush_count *n = data;
	bool ours;

	rcu_read_lock();
	ours = shp_ct_is_ours(ct) || (ct->master && shp_ct_is_ours(ct->master));
	rcu_read_unlock();
	if (ours)
		n->conntracks++;
	return ours;
}

static bool shp_flush_exp(struct nf_conntrack_expect *exp, void *data)
{
	struct shp_flush_count *n = data;
	bool ours;

	rcu_read_lock();
	ours = shp_ct_is_ours(exp->master);
	rcu_read_unlock();
	if (ours)
		n->expects++;
	return ours;
}

/* A FLUSH event for the listeners: what was removed. */
static void shp_notify_flush(struct net *net, const struct shp_flush_count *n)
{
	struct sk_buff *skb;
	void *hdr;

	skb = shp_notify_new(net, SIPHELPER_EVENT_FLUSH, &hdr);
	if (skb)
		shp_notify_send(net, skb, hdr,
				nla_put_u32(skb, SIPHELPER_A_FLUSH_CONNTRACKS,
					    n->conntracks) ||
				nla_put_u32(skb, SIPHELPER_A_FLUSH_EXPECTS,
					    n->expects));
}

static int shp_nl_flush(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct shp_flush_count n = {};
	struct nf_ct_iter_data iter = {
		.net = net,
		.data = &n,
		.portid = info->snd_portid,
		.report = nlmsg_report(info->nlhdr),
	};
	struct sk_buff *skb;
	void *hdr;
	int err;

	nf_ct_expect_iterate_net(net, shp_flush_exp, &n, info->snd_portid,
				 nlmsg_report(info->nlhdr));
	nf_ct_iterate_cleanup_net(shp_flush_ct, &iter);
	shp_notify_flush(net, &n);

	skb = shp_reply_new(info, SIPHELPER_CMD_FLUSH, &hdr);
	if (!skb)
		return -ENOMEM;
	err = nla_put_u32(skb, SIPHELPER_A_FLUSH_CONNTRACKS, n.conntracks) ||
	      nla_put_u32(skb, SIPHELPER_A_FLUSH_EXPECTS, n.expects) ?
	      -EMSGSIZE : 0;
	return shp_reply_send(info, skb, hdr, err);
}

static void *shp_calls_hdr(struct sk_buff *skb, void *arg)
{
	struct netlink_callback *cb = arg;

	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, &shp_genl_family, NLM_F_MULTI,
			   SIPHELPER_CMD_GET_CALLS);
}

static int shp_nl_get_calls(struct sk_buff *skb, struct netlink_callback *cb)
{
	return shp_calls_dump(shp_pernet(sock_net(skb->sk)), skb, cb->args,
			      shp_calls_hdr, cb);
}

static int shp_nl_flush_calls(struct sk_buff *in, struct genl_info *info)
{
	const struct nlattr *id = info->attrs[SIPHELPER_A_FLUSH_CALL_ID];
	struct shp_net *sn = shp_pernet(genl_info_net(info));
	struct sk_buff *skb;
	unsigned int n;
	void *hdr;

	n = shp_calls_flush(sn, id ? nla_data(id) : NULL, id ? nla_len(id) : 0);
	skb = shp_reply_new(info, SIPHELPER_CMD_FLUSH_CALLS, &hdr);
	if (!skb)
		return -ENOMEM;
	return shp_reply_send(info, skb, hdr,
			      nla_put_u32(skb, SIPHELPER_A_FLUSH_CALLS, n) ?
			      -EMSGSIZE : 0);
}

static const struct genl_small_ops shp_genl_ops[] = {
	{
		.cmd = SIPHELPER_CMD_GET_CONFIG,
		.doit = shp_nl_get_config,
	},
	{
		.cmd = SIPHELPER_CMD_SET_CONFIG,
		.doit = shp_nl_set_config,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SIPHELPER_CMD_GET_STATS,
		.doit = shp_nl_get_stats,
	},
	{
		.cmd = SIPHELPER_CMD_RESET_STATS,
		.doit = shp_nl_reset_stats,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SIPHELPER_CMD_FLUSH,
		.doit = shp_nl_flush,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SIPHELPER_CMD_GET_CALLS,
		.dumpit = shp_nl_get_calls,
	},
	{
		.cmd = SIPHELPER_CMD_FLUSH_CALLS,
		.doit = shp_nl_flush_calls,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family shp_genl_family __ro_after_init = {
	.name = SIPHELPER_GENL_NAME,
	.version = SIPHELPER_GENL_VERSION,
	.maxattr = SIPHELPER_A_MAX,
	.policy = shp_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = shp_genl_ops,
	.n_small_ops = ARRAY_SIZE(shp_genl_ops),
	/* strict header and attribute checks for every command */
	.resv_start_op = SIPHELPER_CMD_GET_CONFIG,
	.mcgrps = shp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(shp_mcgrps),
};

/* A lookup of the family by name (siphelperctl) loads the module. */
MODULE_ALIAS_GENL_FAMILY(SIPHELPER_GENL_NAME);

/* For events.c: the family stays private to this file. */
bool shp_nl_events_listened(struct net *net)
{
	return genl_has_listeners(&shp_genl_family, net, SHP_MCGRP_EVENTS);
}

void *shp_nl_event_put(struct sk_buff *skb)
{
	return genlmsg_put(skb, 0, 0, &shp_genl_family, 0,
			   SIPHELPER_CMD_EVENT);
}

/* Consumes @skb (its genl header from shp_nl_event_put(), ended). */
int shp_nl_event_send(struct net *net, struct sk_buff *skb)
{
	return genlmsg_multicast_netns(&shp_genl_family, net, skb, 0,
				       SHP_MCGRP_EVENTS, GFP_ATOMIC);
}

int shp_netlink_init(void)
{
	return genl_register_family(&shp_genl_family);
}

void shp_netlink_exit(void)
{
	genl_unregister_family(&shp_genl_family);
}
