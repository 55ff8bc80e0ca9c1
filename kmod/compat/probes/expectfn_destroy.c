// SPDX-License-Identifier: GPL-2.0
/* Newer kernels destroy the expectations that still name an expectfn. */
#include <linux/module.h>
#include <net/netfilter/nf_conntrack_helper.h>

void probe(const struct nf_ct_helper_expectfn *n);
void probe(const struct nf_ct_helper_expectfn *n)
{
	nf_ct_helper_expectfn_destroy(n);
}
MODULE_LICENSE("GPL");
