// SPDX-License-Identifier: GPL-2.0
/* Newer kernels name the helper an expected flow gets assign_helper (RCU). */
#include <linux/module.h>
#include <net/netfilter/nf_conntrack_expect.h>

void probe(struct nf_conntrack_expect *exp);
void probe(struct nf_conntrack_expect *exp)
{
	rcu_assign_pointer(exp->assign_helper, NULL);
}
MODULE_LICENSE("GPL");
