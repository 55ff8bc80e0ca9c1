// SPDX-License-Identifier: GPL-2.0
/* Newer kernels dropped the skb argument of nf_ct_refresh(). */
#include <linux/module.h>
#include <net/netfilter/nf_conntrack.h>

void probe(struct nf_conn *ct);
void probe(struct nf_conn *ct)
{
	nf_ct_refresh(ct, 1);
}
MODULE_LICENSE("GPL");
