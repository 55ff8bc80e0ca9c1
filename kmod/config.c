// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: per-netns configuration.
 *
 * The datapath reads the config under RCU without a lock; writers build a
 * complete new copy, validate it, and publish it with one pointer swap, so a
 * set is all or nothing and takes effect at once for new flows. Module
 * parameters give the defaults a new netns starts with.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>

#include "siphelper.h"

static char *ports = "5060,5061";
module_param(ports, charp, 0444);
MODULE_PARM_DESC(ports, "default SIP ports: list of port or lo-hi, optional /udp or /tcp (default 5060,5061)");

static unsigned int sip_timeout = SHP_DEFAULT_TIMEOUT;
module_param(sip_timeout, uint, 0444);
MODULE_PARM_DESC(sip_timeout, "default conntrack timeout of SIP UDP flows in seconds (default 3600)");

static bool direct_media = true;
module_param(direct_media, bool, 0444);
MODULE_PARM_DESC(direct_media, "default: media may come from the SDP's peer, not only the signalling peer (default Y)");

/*
 * Where auto-assign starts on: "init", the initial netns only (default),
 * "all" or "none". Its hooks cost every packet of a netns that has them,
 * and most namespaces of a host (containers) route no SIP; the one a
 * router routes in is the initial one (docs/datapath.md). Y/N and 1/0,
 * what this bool parameter used to take, mean "all" and "none".
 */
enum shp_assign_where { SHP_ASSIGN_NONE, SHP_ASSIGN_INIT, SHP_ASSIGN_ALL };
static const char * const shp_assign_where_names[] = {
	[SHP_ASSIGN_NONE] = "none",
	[SHP_ASSIGN_INIT] = "init",
	[SHP_ASSIGN_ALL] = "all",
};
static int auto_assign = SHP_ASSIGN_INIT;

static int shp_param_assign_set(const char *val, const struct kernel_param *kp)
{
	int where = sysfs_match_string(shp_assign_where_names, val);
	bool on;

	if (where < 0) {
		if (kstrtobool(val, &on))
			return -EINVAL;
		where = on ? SHP_ASSIGN_ALL : SHP_ASSIGN_NONE;
	}
	*(int *)kp->arg = where;
	return 0;
}

static int shp_param_assign_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  shp_assign_where_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops shp_param_assign_ops = {
	.set = shp_param_assign_set,
	.get = shp_param_assign_get,
};

module_param_cb(auto_assign, &shp_param_assign_ops, &auto_assign, 0444);
MODULE_PARM_DESC(auto_assign, "where auto-assign starts on (the helper on new flows to the ports without an nft rule): init (the initial network namespace, default), all or none");

static bool drop_malformed;
module_param(drop_malformed, bool, 0444);
MODULE_PARM_DESC(drop_malformed, "default: drop malformed SIP instead of passing it unmodified (default N)");

/* Writers of any netns serialise here; readers never take it. */
static DEFINE_MUTEX(shp_config_mutex);

/*
 * The defaults parsed from the module parameters at load time; auto_assign
 * depends on the netns too (shp_config_defaults()).
 */
static struct shp_config shp_param_defaults;

static int shp_ports_from_param(const char *s, struct shp_config *cfg)
{
	char buf[16];

	cfg->nports = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		unsigned int lo, hi;
		char *slash, *dash;
		u8 protos = SHP_PROTO_BOTH;

		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		if (cfg->nports >= SHP_MAX_PORT_RANGES)
			return -E2BIG;
		memcpy(buf, s, n);
		buf[n] = '\0';
		s += n;
		if (*s == ',')
			s++;

		slash = strchr(buf, '/');
		if (slash) {
			*slash++ = '\0';
			if (!strcmp(slash, "udp"))
				protos = SHP_PROTO_UDP;
			else if (!strcmp(slash, "tcp"))
				protos = SHP_PROTO_TCP;
			else
				return -EINVAL;
		}
		dash = strchr(buf, '-');
		if (dash)
			*dash++ = '\0';
		if (kstrtouint(buf, 10, &lo))
			return -EINVAL;
		hi = lo;
		if (dash && kstrtouint(dash, 10, &hi))
			return -EINVAL;
		cfg->ports[cfg->nports].lo = lo > U16_MAX ? 0 : lo;
		cfg->ports[cfg->nports].hi = hi > U16_MAX ? 0 : hi;
		cfg->ports[cfg->nports].protos = protos;
		cfg->nports++;
	}
	return 0;
}

void shp_config_defaults(struct net *net, struct shp_config *cfg)
{
	*cfg = shp_param_defaults;
	cfg->auto_assign = auto_assign == SHP_ASSIGN_ALL ||
			   (auto_assign == SHP_ASSIGN_INIT &&
			    net_eq(net, &init_net));
}

int shp_config_validate(const struct shp_config *cfg, const char **why)
{
	unsigned int i, j;

	if (cfg->nports > SHP_MAX_PORT_RANGES) {
		*why = "too many port entries";
		return -E2BIG;
	}
	for (i = 0; i < cfg->nports; i++) {
		const struct shp_port_range *r = &cfg->ports[i];

		if (r->lo == 0 || r->hi == 0) {
			*why = "port must be 1..65535";
			return -EINVAL;
		}
		if (r->lo > r->hi) {
			*why = "port range is reversed";
			return -EINVAL;
		}
		if (!r->protos || r->protos & ~SHP_PROTO_BOTH) {
			*why = "port protocol must be udp, tcp or both";
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			const struct shp_port_range *o = &cfg->ports[j];

			if ((o->protos & r->protos) && o->lo <= r->hi &&
			    r->lo <= o->hi) {
				*why = "port entries overlap";
				return -EINVAL;
			}
		}
	}
	if (cfg->sip_timeout < 1 || cfg->sip_timeout > SHP_MAX_TIMEOUT) {
		*why = "sip-timeout must be 1..86400 seconds";
		return -ERANGE;
	}
	if (cfg->malformed_policy > SHP_MALFORMED_DROP) {
		*why = "unknown malformed policy";
		return -EINVAL;
	}
	return 0;
}

/*
 * Publish @cfg for @net. The auto-assign hooks follow cfg->auto_assign in
 * the same critical section, so hooks and config never disagree for long
 * and concurrent writers cannot leave them out of step. Turning on, the
 * hooks come first (they read the old config meanwhile and do nothing);
 * if they cannot be registered, nothing changes.
 */
int shp_config_replace(struct net *net, const struct shp_config *cfg)
{
	struct shp_net *sn = shp_pernet(net);
	struct shp_config *next, *old;
	const char *why;
	int err;

	err = shp_config_validate(cfg, &why);
	if (err)
		return err;
	next = kmemdup(cfg, sizeof(*cfg), GFP_KERNEL);
	if (!next)
		return -ENOMEM;
	mutex_lock(&shp_config_mutex);
	if (sn->assign_live) {
		err = shp_assign_sync(net, next->auto_assign);
		if (err) {
			mutex_unlock(&shp_config_mutex);
			kfree(next);
			return err;
		}
	}
	old = rcu_replace_pointer(sn->cfg, next,
				  lockdep_is_held(&shp_config_mutex));
	mutex_unlock(&shp_config_mutex);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/*
 * The hooks' pernet init (@live) and exit: from init on, config changes
 * of @net (un)register its auto-assign hooks; exit removes them.
 */
static int shp_config_assign_live(struct net *net, bool live)
{
	struct shp_net *sn = shp_pernet(net);
	const struct shp_config *cfg;
	int err;

	mutex_lock(&shp_config_mutex);
	cfg = rcu_dereference_protected(sn->cfg,
					lockdep_is_held(&shp_config_mutex));
	err = shp_assign_sync(net, live && cfg && cfg->auto_assign);
	sn->assign_live = live && !err;
	mutex_unlock(&shp_config_mutex);
	return err;
}

static int __net_init shp_config_hooks_net_init(struct net *net)
{
	return shp_config_assign_live(net, true);
}

static void __net_exit shp_config_hooks_net_exit(struct net *net)
{
	shp_config_assign_live(net, false);
}

/* Separate from the main pernet ops: a netns' hooks can exist only
 * between this init and exit, that is after the helpers are registered
 * and before they go, so no new flow gets a dying helper.
 */
static struct pernet_operations shp_config_hooks_net_ops = {
	.init = shp_config_hooks_net_init,
	.exit = shp_config_hooks_net_exit,
};

int shp_config_hooks_init(void)
{
	return register_pernet_subsys(&shp_config_hooks_net_ops);
}

void shp_config_hooks_exit(void)
{
	unregister_pernet_subsys(&shp_config_hooks_net_ops);
}

int shp_config_init(struct net *net)
{
	struct shp_net *sn = shp_pernet(net);
	struct shp_config cfg;

	RCU_INIT_POINTER(sn->cfg, NULL);
	sn->assign_live = false;
	sn->assign_hooked = false;
	shp_config_defaults(net, &cfg);
	return shp_config_replace(net, &cfg);
}

void shp_config_exit(struct shp_net *sn)
{
	struct shp_config *old = rcu_dereference_protected(sn->cfg, 1);

	RCU_INIT_POINTER(sn->cfg, NULL);
	if (old)
		kfree_rcu(old, rcu);
}

int shp_config_params_init(void)
{
	struct shp_config *cfg = &shp_param_defaults;
	const char *why = "bad port list";
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_timeout = sip_timeout;
	cfg->tcp_hold_max = SIPHELPER_DEFAULT_TCP_HOLD;
	cfg->tcp_hold_total = SIPHELPER_DEFAULT_TCP_HOLD_TOTAL;
	cfg->unreplied_timeout = SIPHELPER_DEFAULT_SIP_UNREPLIED_TIMEOUT;
	cfg->max_calls = SIPHELPER_DEFAULT_SIP_MAX_CALLS;
	cfg->media_timeout = SIPHELPER_DEFAULT_SIP_MEDIA_TIMEOUT;
	cfg->direct_media = direct_media;
	cfg->malformed_policy = drop_malformed ? SHP_MALFORMED_DROP :
						 SHP_MALFORMED_ACCEPT;
	err = shp_ports_from_param(ports, cfg);
	if (!err)
		err = shp_config_validate(cfg, &why);
	if (err)
		pr_err("invalid module parameters: %s\n", why);
	return err;
}
