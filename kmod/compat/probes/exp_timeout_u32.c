// SPDX-License-Identifier: GPL-2.0
/* Newer kernels keep an expectation's timeout as a u32 time stamp
 * (nfct_time_stamp) instead of a timer_list.
 */
#include <linux/module.h>
#include <net/netfilter/nf_conntrack_expect.h>

void probe(struct nf_conntrack_expect *exp);
void probe(struct nf_conntrack_expect *exp)
{
	BUILD_BUG_ON(sizeof(exp->timeout) != sizeof(u32));
	WRITE_ONCE(exp->timeout, 1U);
}
MODULE_LICENSE("GPL");
