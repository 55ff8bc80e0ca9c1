// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: per-netns, per-CPU counters. The hot path increments its own
 * CPU's copy without a lock; readers sum over all CPUs. A reset never
 * writes another CPU's counters (that would race its increments): it
 * records the sums as the new zero.
 */
#include <linux/percpu.h>
#include <linux/string.h>

#include "siphelper.h"

int shp_stats_init(struct shp_net *sn)
{
	int cpu;

	sn->stats = alloc_percpu(struct shp_stats_pcpu);
	if (!sn->stats)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(sn->stats, cpu)->syncp);
	spin_lock_init(&sn->stats_lock);
	memset(&sn->stats_base, 0, sizeof(sn->stats_base));
	return 0;
}

void shp_stats_exit(struct shp_net *sn)
{
	free_percpu(sn->stats);
	sn->stats = NULL;
}

static void shp_stats_sum(struct shp_net *sn, struct shp_stats *sum)
{
	u64 v[SHP_N_STATS];
	unsigned int start;
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct shp_stats_pcpu *p = per_cpu_ptr(sn->stats, cpu);

		do {
			start = u64_stats_fetch_begin(&p->syncp);
			for (i = 0; i < SHP_N_STATS; i++)
				v[i] = u64_stats_read(&p->v[i]);
		} while (u64_stats_fetch_retry(&p->syncp, start));
		for (i = 0; i < SHP_N_STATS; i++)
			sum->v[i] += v[i];
	}
}

void shp_stats_read(struct shp_net *sn, struct shp_stats *sum)
{
	int i;

	spin_lock_bh(&sn->stats_lock);
	shp_stats_sum(sn, sum);
	for (i = 0; i < SHP_N_STATS; i++)
		sum->v[i] -= sn->stats_base.v[i];
	spin_unlock_bh(&sn->stats_lock);
	/* gauges, not counters: what the TCP holds use, the calls now */
	sum->v[SHP_STAT(TCP_HELD_BYTES)] = atomic_read(&sn->streams.bytes);
	sum->v[SHP_STAT(CALLS)] = READ_ONCE(sn->calls.count);
}

void shp_stats_reset(struct shp_net *sn)
{
	struct shp_stats sum;

	spin_lock_bh(&sn->stats_lock);
	shp_stats_sum(sn, &sum);
	sn->stats_base = sum;
	spin_unlock_bh(&sn->stats_lock);
}
