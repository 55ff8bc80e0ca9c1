/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper: wrappers over kernel APIs that differ between the kernels we
 * build for. What a kernel has is probed at build time by
 * kmod/compat/probe.sh against its exact headers (shp_autoconf.h).
 */
#ifndef SIPHELPER_COMPAT_H
#define SIPHELPER_COMPAT_H

#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include "shp_autoconf.h"

static inline void shp_ct_refresh(struct nf_conn *ct, struct sk_buff *skb,
				  unsigned long extra_jiffies)
{
#ifdef SHP_HAVE_NF_CT_REFRESH_NO_SKB
	nf_ct_refresh(ct, extra_jiffies);
#else
	nf_ct_refresh(ct, skb, extra_jiffies);
#endif
}

/* Under nf_conntrack_expect_lock, on a live expectation. */
static inline void shp_expect_set_timeout(struct nf_conntrack_expect *exp,
					  unsigned long extra_jiffies)
{
#ifdef SHP_HAVE_EXP_TIMEOUT_U32
	WRITE_ONCE(exp->timeout, nfct_time_stamp + extra_jiffies);
#else
	/* not pending: it is expiring right now, leave it to that */
	if (timer_delete(&exp->timeout)) {
		exp->timeout.expires = jiffies + extra_jiffies;
		add_timer(&exp->timeout);
	}
#endif
}

static inline void shp_expect_set_helper(struct nf_conntrack_expect *exp,
					 struct nf_conntrack_helper *helper)
{
#ifdef SHP_HAVE_EXP_ASSIGN_HELPER
	rcu_assign_pointer(exp->assign_helper, helper);
#else
	exp->helper = helper;
#endif
}

/*
 * After the expectfn is unregistered and a grace period: no expectation
 * may keep pointing at it (ctnetlink can create one on any master).
 */
#ifdef SHP_HAVE_EXPECTFN_DESTROY
static inline void shp_expectfn_destroy(const struct nf_ct_helper_expectfn *n)
{
	nf_ct_helper_expectfn_destroy(n);
}
#else
static inline bool shp_expect_iter_fn(struct nf_conntrack_expect *exp,
				      void *data)
{
	const struct nf_ct_helper_expectfn *n = data;

	return exp->expectfn == n->expectfn;
}

static inline void shp_expectfn_destroy(const struct nf_ct_helper_expectfn *n)
{
	nf_ct_expect_iterate_destroy(shp_expect_iter_fn, (void *)n);
}
#endif

/* Who may listen to the events group (it carries SIP messages). */
#ifdef SHP_HAVE_GENL_MCAST_CAP
#define SHP_MCGRP_FLAGS	GENL_MCAST_CAP_NET_ADMIN
#else
/* Without it any user could read the SIP messages the events carry. */
#error "siphelper needs GENL_MCAST_CAP_NET_ADMIN in the kernel headers"
#endif

#endif /* SIPHELPER_COMPAT_H */
