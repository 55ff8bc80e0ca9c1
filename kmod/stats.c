// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: per-netns, per-CPU counters. The hot path increments its own
 * CPU's copy without a lock; readers sum over all CPUs.
 */
#include <linux/percpu.h>
#include <linux/string.h>

#include "siphelper.h"

int shp_stats_init(struct shp_net *sn)
{
	sn->stats = alloc_percpu(struct shp_stats);
	return sn->stats ? 0 : -ENOMEM;
}

void shp_stats_exit(struct shp_net *sn)
{
	free_percpu(sn->stats);
	sn->stats = NULL;
}

void shp_stats_read(struct shp_net *sn, struct shp_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct shp_stats *s = per_cpu_ptr(sn->stats, cpu);

		for (i = 0; i < __SHP_STAT_MAX; i++)
			sum->v[i] += READ_ONCE(s->v[i]);
	}
}

void shp_stats_reset(struct shp_net *sn)
{
	int cpu, i;

	for_each_possible_cpu(cpu) {
		struct shp_stats *s = per_cpu_ptr(sn->stats, cpu);

		for (i = 0; i < __SHP_STAT_MAX; i++)
			WRITE_ONCE(s->v[i], 0);
	}
}
