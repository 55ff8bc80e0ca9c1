/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper: wrappers over kernel APIs that differ between the kernels we
 * build for. What a kernel has is probed at build time by
 * kmod/compat/probe.sh against its exact headers (shp_autoconf.h).
 */
#ifndef SIPHELPER_COMPAT_H
#define SIPHELPER_COMPAT_H

#include <net/netfilter/nf_conntrack.h>
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

#endif /* SIPHELPER_COMPAT_H */
