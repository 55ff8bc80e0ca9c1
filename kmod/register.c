// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper: registrations. After the registrar's 2xx to a REGISTER sent
 * through the NAT, a permanent signalling expectation lets requests from
 * the registrar to the UA's public address:port in (to the UA's private
 * address:port, with siphelper attached) for the lifetime of the UA's own
 * binding, even if this flow's conntrack is gone.
 *
 * The 2xx lists every binding of the address-of-record (RFC 3261 10.3):
 * only the Contact naming this UA (its public address:port, or its private
 * one if the registrar echoed it) counts. No such Contact, expires 0 or
 * "Contact: *" mean the UA has no binding left: the pinhole goes. So does
 * a final error, as in the in-tree helper, except the 401/407 challenges
 * that every refresh may meet: they change no binding.
 */

#include <linux/module.h>
#include <net/netfilter/nf_conntrack_core.h>

#include "datapath.h"
#include "compat.h"

static void shp_register_flush(struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;

	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode)
		if (exp->class == SHP_EXPECT_SIGNALLING)
			nf_ct_unlink_expect(exp);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

static bool shp_hostport_is(const char *buf, const struct shp_hostport *hp,
			    const union nf_inet_addr *addr, __be16 port,
			    u16 l3num)
{
	struct shp_addr a;
	u16 p = hp->port ? hp->port : hp->def_port;

	if (shp_addr_parse(buf + hp->host.off, hp->host.len, &a))
		return false;
	if (p != ntohs(port))
		return false;
	if (l3num == NFPROTO_IPV4)
		return a.family == 4 && !memcmp(a.a, &addr->ip, 4);
	return a.family == 6 && !memcmp(a.a, addr->ip6, 16);
}

/*
 * The lifetime of the UA's own binding in seconds: 0 when the 2xx lists
 * none for it.
 */
static u32 shp_register_expires(const struct shp_flow *fl,
				const struct shp_sip_msg *msg, const char *buf)
{
	const struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	unsigned int i;

	if (msg->flags & SHP_F_CONTACT_STAR)
		return 0;
	for (i = 0; i < msg->n_contact; i++) {
		const struct shp_contact *c = &msg->contact[i];

		if (c->uri.scheme != SHP_SCHEME_SIP &&
		    c->uri.scheme != SHP_SCHEME_SIPS)
			continue;
		if (!shp_hostport_is(buf, &c->uri.hp, &pub->dst.u3,
				     pub->dst.u.all, nf_ct_l3num(ct)) &&
		    !shp_hostport_is(buf, &c->uri.hp, &priv->src.u3,
				     priv->src.u.all, nf_ct_l3num(ct)))
			continue;
		if (c->has_expires)
			return c->expires;
		if (msg->flags & SHP_F_HAS_EXPIRES)
			return msg->expires;
		return SHP_DEFAULT_TIMEOUT;
	}
	return 0;
}

/* A final response to a REGISTER the UA sent through this flow. */
void shp_register_update(struct shp_net *sn, const struct shp_flow *fl,
			 const struct shp_sip_msg *msg, const char *buf)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	u32 expires;

	if (!help)
		return;
	if (msg->status == 401 || msg->status == 407)
		return;
	expires = 0;
	if (msg->status < 300)
		expires = min_t(u32, shp_register_expires(fl, msg, buf),
				SHP_MAX_TIMEOUT);
	if (!expires) {
		shp_register_flush(ct);
		return;
	}
	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return;
	nf_ct_expect_init(exp, SHP_EXPECT_SIGNALLING, nf_ct_l3num(ct),
			  &pub->src.u3, &pub->dst.u3, nf_ct_protonum(ct), NULL,
			  &pub->dst.u.all);
	exp->flags = NF_CT_EXPECT_PERMANENT;
	shp_expect_set_helper(exp, shp_helper_find(nf_ct_l3num(ct),
						   nf_ct_protonum(ct)));
	exp->saved_addr = priv->src.u3;
	exp->saved_proto.all = priv->src.u.all;
	exp->dir = !fl->pdir;
	exp->expectfn = shp_expectfn;
	if (!nf_ct_expect_related(exp, 0)) {
		spin_lock_bh(&nf_conntrack_expect_lock);
		shp_expect_set_timeout(exp, expires * HZ);
		spin_unlock_bh(&nf_conntrack_expect_lock);
		shp_stat_inc(sn, SHP_STAT(REGISTRATIONS));
		shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_CREATED));
	}
	nf_ct_expect_put(exp);
}
