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

#include <linux/module.h>
#include <linux/netfilter.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include <net/netfilter/nf_nat.h>

#include "datapath.h"
#include "compat.h"

static const struct nf_conntrack_expect_policy
shp_expect_policy[__SHP_EXPECT_MAX] = {
	[SHP_EXPECT_MEDIA] = {
		.name		= "media",
		/* none: the call table bounds them (calls.c) */
		.max_expected	= 0,
		.timeout	= 3 * 60,
	},
	[SHP_EXPECT_SIGNALLING] = {
		.name		= "signalling",
		/* the registration's, and an advertised port's */
		.max_expected	= 2,
		.timeout	= 3 * 60,
	},
};

static struct nf_conntrack_helper shp_helpers[4] __read_mostly;

/*
 * Set before the helpers are unregistered. nf_conntrack_helper_unregister()
 * destroys the helper's expectations, then detaches the helper from the
 * conntracks; a packet of a SIP flow in between would still reach help()
 * and create an expectation that outlives the module (its helper and
 * expectfn pointing into freed module memory: ctnetlink or the first
 * media packet then faults). Its synchronize_rcu() before that step makes
 * every later help() see this flag.
 */
bool shp_helpers_going __read_mostly;

/*
 * nf_ct_expect_related() for a master that another CPU may be removing
 * (a stale flow, masquerade's cleanup): conntrack marks it dying before it
 * takes its expectations away under nf_conntrack_expect_lock, so one
 * inserted after that would outlive it until its timeout. Looked at after
 * the insert: either that removal comes later and takes it, or the mark
 * is seen here and it goes now.
 */
int shp_expect_related(struct nf_conntrack_expect *exp)
{
	int err = nf_ct_expect_related(exp, 0);

	if (!err && nf_ct_is_dying(exp->master)) {
		nf_ct_unexpect_related(exp);
		return -ESHUTDOWN;
	}
	return err;
}

struct nf_conntrack_helper *shp_helper_find(u8 l3num, u8 l4proto)
{
	unsigned int i = (l3num == NFPROTO_IPV6 ? 2 : 0) +
			 (l4proto == IPPROTO_TCP ? 1 : 0);

	return &shp_helpers[i];
}

/*
 * An expected flow (media towards the UA's public port, or a request from
 * the registrar): destination NAT back to where the UA expects it. The
 * source is left alone, so with direct media the UA sees the real sender;
 * nf_nat then adds the null source binding itself.
 */
void shp_expectfn(struct nf_conn *ct, struct nf_conntrack_expect *exp)
{
	struct nf_nat_range2 range = {};

	if (exp->class == SHP_EXPECT_MEDIA)
		shp_calls_media_up(ct, exp);
	/* without NAT a media pinhole only lets the flow in */
	if (!(exp->master->status & IPS_NAT_MASK))
		return;
	if (WARN_ON_ONCE(ct->status & IPS_NAT_DONE_MASK))
		return;
	range.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
	range.min_proto = exp->saved_proto;
	range.max_proto = exp->saved_proto;
	range.min_addr = exp->saved_addr;
	range.max_addr = exp->saved_addr;
	nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
}

static struct nf_ct_helper_expectfn shp_expectfn_reg = {
	.name		= SHP_NAME,
	.expectfn	= shp_expectfn,
};

/* The conntrack goes: so does what the module keeps for it. */
static void shp_flow_destroy(struct nf_conn *ct)
{
	shp_stream_destroy(ct);
	shp_calls_destroy(ct);
}

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

	BUILD_BUG_ON(sizeof(struct shp_ct_data) >
		     sizeof_field(struct nf_conn_help, data));
	for (i = 0; i < ARRAY_SIZE(shp_helpers); i++) {
		nf_ct_helper_init(&shp_helpers[i], combos[i].l3, combos[i].l4,
				  SHP_NAME, 0, 0, i, shp_expect_policy,
				  __SHP_EXPECT_MAX - 1, shp_help, NULL,
				  THIS_MODULE);
		shp_helpers[i].data_len = sizeof(struct shp_ct_data);
		shp_helpers[i].destroy = shp_flow_destroy;
	}
	err = nf_conntrack_helpers_register(shp_helpers,
					    ARRAY_SIZE(shp_helpers));
	if (err) {
		pr_err("cannot register conntrack helpers: %d\n", err);
		return err;
	}
	nf_ct_helper_expectfn_register(&shp_expectfn_reg);
	return 0;
}

void shp_helper_exit(void)
{
	WRITE_ONCE(shp_helpers_going, true);
	nf_conntrack_helpers_unregister(shp_helpers, ARRAY_SIZE(shp_helpers));
	nf_ct_helper_expectfn_unregister(&shp_expectfn_reg);
	/* ctnetlink may have made an expectation with expectfn "siphelper"
	 * on a master of another helper: no reader of the list is left
	 * after the grace period, then such expectations go, as in-tree
	 * nf_nat_sip does.
	 */
	synchronize_rcu();
	shp_expectfn_destroy(&shp_expectfn_reg);
}

MODULE_ALIAS_NFCT_HELPER(SHP_NAME);
