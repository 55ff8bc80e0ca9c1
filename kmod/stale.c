// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: stale flows. A phone's keepalives keep its conntrack alive
 * for ever, so an entry that stopped fitting the router (its SNAT address
 * is gone, or it was made before the NAT rules) never heals by itself.
 * The next packet of such a flow removes it, with its expectations, and
 * is dropped: the UA's next packet (a retransmission or a keepalive)
 * makes a new entry from the rules and addresses of now. Each test costs
 * a few loads and, for an SNAT flow, a look at the outgoing device's own
 * addresses: no table walk. See docs/datapath.md "Stale flows".
 */

#include <linux/inetdevice.h>
#include <net/addrconf.h>
#include <net/dst.h>

#include "datapath.h"

/* Is @addr one of @dev's own addresses? */
static bool shp_addr_on_dev(const struct net_device *dev, u8 l3num,
			    const union nf_inet_addr *addr)
{
	if (l3num == NFPROTO_IPV4) {
		const struct in_device *in_dev = __in_dev_get_rcu(dev);
		const struct in_ifaddr *ifa;

		if (!in_dev)
			return false;
		in_dev_for_each_ifa_rcu(ifa, in_dev)
			if (ifa->ifa_local == addr->ip)
				return true;
		return false;
	}
#if IS_ENABLED(CONFIG_IPV6)
	return ipv6_chk_addr(dev_net(dev), &addr->in6, dev, 0);
#else
	return false;
#endif
}

/* Is the SNAT address of @ct one of the device @skb leaves by? */
static bool shp_nat_on_egress(const struct sk_buff *skb,
			      const struct nf_conn *ct)
{
	const struct dst_entry *dst = skb_dst(skb);

	return dst && dst->dev &&
	       shp_addr_on_dev(dst->dev, nf_ct_l3num(ct),
			       &ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.u3);
}

/*
 * When the UDP flow began: conntrack's UDP tracker sets stream_ts to two
 * seconds after the first packet and never changes it.
 */
static bool shp_unreplied_for(const struct nf_conn *ct, unsigned int secs)
{
	unsigned long start = READ_ONCE(ct->proto.udp.stream_ts) - 2 * HZ;

	return time_after_eq(jiffies, start + secs * HZ);
}

bool shp_stale(struct shp_net *sn, const struct shp_config *cfg,
	       const struct sk_buff *skb, struct nf_conn *ct,
	       enum ip_conntrack_info ctinfo)
{
	unsigned long status = READ_ONCE(ct->status);
	struct shp_ct_data *d = nfct_help_data(ct);
	const char *reason;

	if (!(status & IPS_CONFIRMED)) {
		/*
		 * The first packet: what holds now is what later packets
		 * are held to. An SNAT address that is not on the outgoing
		 * device (a routed subnet on lo, 1:1 NAT upstream) is the
		 * admin's design, never a sign of staleness.
		 */
		u8 flags = SHP_CT_BORN_HERE;

		if ((status & IPS_SRC_NAT) && shp_nat_on_egress(skb, ct))
			flags |= SHP_CT_NAT_ON_EGRESS;
		WRITE_ONCE(d->flags, flags);
		return false;
	}
	/* the private UA's side: only its packets keep a stale entry */
	if (CTINFO2DIR(ctinfo) != IP_CT_DIR_ORIGINAL)
		return false;
	if ((READ_ONCE(d->flags) & SHP_CT_NAT_ON_EGRESS) &&
	    !shp_nat_on_egress(skb, ct)) {
		/* the address moved away, or the route left its device */
		shp_stat_inc(sn, SHP_STAT(STALE_NAT_ADDRESS));
		reason = "nat-address";
	} else if (cfg->unreplied_timeout &&
		   nf_ct_protonum(ct) == IPPROTO_UDP &&
		   !(status & IPS_SEEN_REPLY) &&
		   shp_unreplied_for(ct, cfg->unreplied_timeout)) {
		/*
		 * A SIP transaction gives up after 32 s; a flow that never
		 * had an answer is remade from the rules of now (say, the
		 * NAT table loaded after the phone's first REGISTER).
		 */
		shp_stat_inc(sn, SHP_STAT(STALE_UNREPLIED));
		reason = "unreplied";
	} else {
		return false;
	}
	if (shp_events_wanted(nf_ct_net(ct)))
		shp_event_stale(sn, ct, reason);
	nf_ct_kill_acct(ct, ctinfo, skb);
	return true;
}
