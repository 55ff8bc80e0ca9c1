// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: the conntrack helpers (IPv4 and IPv6, UDP and TCP), all named
 * "siphelper" so that one nft `ct helper` object type covers them.
 *
 * The helper tuples carry port 0: nf_conntrack_helper_register() refuses a
 * second helper on the same l3/l4/port, and the in-tree nf_conntrack_sip
 * holds 5060. Which flows we serve is decided by our own port list
 * (auto-assign) or by nft rules, never by the helper tuple.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netfilter.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include "siphelper.h"

enum shp_expect_class {
	SHP_EXPECT_SIGNALLING,
	SHP_EXPECT_MEDIA,
	__SHP_EXPECT_MAX,
};

static const struct nf_conntrack_expect_policy
shp_expect_policy[__SHP_EXPECT_MAX] = {
	[SHP_EXPECT_SIGNALLING] = {
		.name		= "signalling",
		.max_expected	= 16,
		.timeout	= 3 * 60,
	},
	[SHP_EXPECT_MEDIA] = {
		.name		= "media",
		.max_expected	= 2 * 16,
		.timeout	= 3 * 60,
	},
};

static int shp_help(struct sk_buff *skb, unsigned int protoff,
		    struct nf_conn *ct, enum ip_conntrack_info ctinfo)
{
	struct shp_net *sn = shp_pernet(nf_ct_net(ct));

	shp_stat_inc(sn, SHP_STAT_SEEN);
	return NF_ACCEPT;
}

static struct nf_conntrack_helper shp_helpers[4] __read_mostly;

int shp_helper_init(void)
{
	static const struct {
		u16 l3;
		u8 l4;
	} combos[ARRAY_SIZE(shp_helpers)] = {
		{ NFPROTO_IPV4, IPPROTO_UDP }, { NFPROTO_IPV4, IPPROTO_TCP },
		{ NFPROTO_IPV6, IPPROTO_UDP }, { NFPROTO_IPV6, IPPROTO_TCP },
	};
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(shp_helpers); i++)
		nf_ct_helper_init(&shp_helpers[i], combos[i].l3, combos[i].l4,
				  SHP_NAME, 0, 0, i, shp_expect_policy,
				  __SHP_EXPECT_MAX - 1, shp_help, NULL,
				  THIS_MODULE);
	err = nf_conntrack_helpers_register(shp_helpers,
					    ARRAY_SIZE(shp_helpers));
	if (err)
		pr_err("cannot register conntrack helpers: %d\n", err);
	return err;
}

void shp_helper_exit(void)
{
	nf_conntrack_helpers_unregister(shp_helpers, ARRAY_SIZE(shp_helpers));
}

MODULE_ALIAS_NFCT_HELPER(SHP_NAME);
