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
 *
 * A UA may advertise a port to be reached on that is not its source port
 * (a TCP UA connects from an ephemeral port and listens on 5060; some
 * phones send from one UDP port and listen on another). Its Via and
 * Contact then get the public address and the port of a pinhole of its
 * own: a permanent signalling expectation from the peer to the public
 * address and a free public port (the UA's own when it can), NATed to the
 * UA's advertised address:port. The pinhole is the only record of that
 * mapping: messages coming back look it up. It lives sip-timeout after
 * the last message that advertised the port, or the binding's lifetime
 * after a registrar's 2xx. See docs/datapath.md.
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
 * The pinhole of the port the UA advertises besides its source port: by
 * that port (@priv_port) or by its public port (@pub_port, when
 * @priv_port is 0). Under nf_conntrack_expect_lock.
 */
static struct nf_conntrack_expect *shp_adv_find(struct nf_conn *ct,
						u16 priv_port, u16 pub_port)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;

	if (!help)
		return NULL;
	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (exp->class != SHP_EXPECT_SIGNALLING)
			continue;
		if (priv_port ? ntohs(exp->saved_proto.all) == priv_port :
				ntohs(exp->tuple.dst.u.all) == pub_port)
			return exp;
	}
	return NULL;
}

/*
 * A permanent signalling expectation from the peer's address (any port)
 * to the public address:@pub_port, NATed to the UA's address:@priv_port
 * with the helper attached, living @secs: the registration's pinhole and
 * an advertised port's. Returns shp_expect_related()'s result.
 */
static int shp_signal_expect(struct shp_net *sn, const struct shp_flow *fl,
			     __be16 pub_port, __be16 priv_port, u32 secs)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conntrack_expect *exp;
	int err;

	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return -ENOMEM;
	nf_ct_expect_init(exp, SHP_EXPECT_SIGNALLING, nf_ct_l3num(ct),
			  &pub->src.u3, &pub->dst.u3, nf_ct_protonum(ct), NULL,
			  &pub_port);
	exp->flags = NF_CT_EXPECT_PERMANENT;
	shp_expect_set_helper(exp, shp_helper_find(nf_ct_l3num(ct),
						   nf_ct_protonum(ct)));
	exp->saved_addr = priv->src.u3;
	exp->saved_proto.all = priv_port;
	exp->dir = !fl->pdir;
	exp->expectfn = shp_expectfn;
	err = shp_expect_related(exp);
	if (!err) {
		spin_lock_bh(&nf_conntrack_expect_lock);
		shp_expect_set_timeout(exp, secs * HZ);
		spin_unlock_bh(&nf_conntrack_expect_lock);
		shp_stat_inc(sn, SHP_STAT(EXPECTATIONS_CREATED));
	}
	nf_ct_expect_put(exp);
	return err;
}

/*
 * Open the pinhole to the UA's advertised @port; returns its public port
 * or 0. The UA's own port when it is free, else the next ones: never the
 * flow's own public port, nor one where a request from the peer's port
 * would reach another conntrack.
 */
static u16 shp_adv_open(struct shp_net *sn, const struct shp_flow *fl,
			u16 port, u32 secs)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conntrack_tuple t;
	unsigned int tries;
	u16 p = port;
	int err;

	for (tries = 0; tries < SHP_ADV_PORT_TRIES && p; tries++, p++) {
		if (p == ntohs(pub->dst.u.all))
			continue;
		t = *pub;
		t.dst.u.all = htons(p);
		if (nf_conntrack_tuple_taken(&t, ct))
			continue;
		err = shp_signal_expect(sn, fl, htons(p), htons(port), secs);
		if (!err)
			return p;
		if (err != -EBUSY)
			return 0;
	}
	return 0;
}

/*
 * How long an advertised port's pinhole lives after @msg: sip-timeout,
 * or what a REGISTER asks for if longer (its 2xx may only lower it).
 */
static u32 shp_adv_secs(const struct shp_config *cfg,
			const struct shp_sip_msg *msg)
{
	u32 secs = cfg->sip_timeout;
	unsigned int i;

	if (msg->type != SHP_MSG_REQUEST || msg->method != SHP_M_REGISTER)
		return secs;
	if (msg->flags & SHP_F_HAS_EXPIRES)
		secs = max(secs, msg->expires);
	for (i = 0; i < msg->n_contact; i++)
		if (msg->contact[i].has_expires)
			secs = max(secs, msg->contact[i].expires);
	return min(secs, SHP_MAX_TIMEOUT);
}

bool shp_adv_port(struct shp_net *sn, const struct shp_config *cfg,
		  const struct shp_flow *fl, bool out,
		  const struct shp_sip_msg *msg, const char *buf,
		  struct shp_nat_map *map)
{
	struct nf_conntrack_expect *exp;
	u16 port, other = 0;
	bool opened = false;

	map->adv_priv_port = 0;
	map->adv_pub_port = 0;
	if (out) {
		port = shp_sip_adv_port(buf, msg, &map->priv, map->priv_port);
		if (!port)
			return false;
		spin_lock_bh(&nf_conntrack_expect_lock);
		exp = shp_adv_find(fl->ct, port, 0);
		if (exp) {
			other = ntohs(exp->tuple.dst.u.all);
			shp_expect_set_timeout(exp, shp_adv_secs(cfg, msg) * HZ);
		}
		spin_unlock_bh(&nf_conntrack_expect_lock);
		/* pinholes only: the UA's port is never edited, none needed */
		if (!other && !cfg->pinholes_only) {
			other = shp_adv_open(sn, fl, port,
					     shp_adv_secs(cfg, msg));
			opened = other;
		}
		if (other) {
			map->adv_priv_port = port;
			map->adv_pub_port = other;
		}
		return opened;
	}
	port = shp_sip_adv_port(buf, msg, &map->pub, map->pub_port);
	if (!port)
		return false;
	spin_lock_bh(&nf_conntrack_expect_lock);
	exp = shp_adv_find(fl->ct, 0, port);
	if (exp)
		other = ntohs(exp->saved_proto.all);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	if (other) {
		map->adv_priv_port = other;
		map->adv_pub_port = port;
	}
	return false;
}

void shp_adv_close(struct nf_conn *ct, u16 priv_port)
{
	struct nf_conntrack_expect *exp;

	spin_lock_bh(&nf_conntrack_expect_lock);
	exp = shp_adv_find(ct, priv_port, 0);
	if (exp)
		nf_ct_unlink_expect(exp);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/*
 * The lifetime of the UA's own binding in seconds: 0 when the 2xx lists
 * none for it. *adv: the binding is the advertised port's (@map).
 */
static u32 shp_register_expires(const struct shp_flow *fl,
				const struct shp_nat_map *map,
				const struct shp_sip_msg *msg, const char *buf,
				bool *adv)
{
	const struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	u16 l3 = nf_ct_l3num(ct);
	unsigned int i;

	if (msg->flags & SHP_F_CONTACT_STAR)
		return 0;
	for (i = 0; i < msg->n_contact; i++) {
		const struct shp_contact *c = &msg->contact[i];
		const struct shp_hostport *hp = &c->uri.hp;

		if (c->uri.scheme != SHP_SCHEME_SIP &&
		    c->uri.scheme != SHP_SCHEME_SIPS)
			continue;
		*adv = map->adv_pub_port &&
		       (shp_hostport_is(buf, hp, &pub->dst.u3,
					htons(map->adv_pub_port), l3) ||
			shp_hostport_is(buf, hp, &priv->src.u3,
					htons(map->adv_priv_port), l3));
		if (!*adv &&
		    !shp_hostport_is(buf, hp, &pub->dst.u3, pub->dst.u.all,
				     l3) &&
		    !shp_hostport_is(buf, hp, &priv->src.u3, priv->src.u.all,
				     l3))
			continue;
		if (c->has_expires)
			return c->expires;
		if (msg->flags & SHP_F_HAS_EXPIRES)
			return msg->expires;
		return SHP_DEFAULT_TIMEOUT;
	}
	return 0;
}

/*
 * A final response to a REGISTER the UA sent through this flow; @map has
 * the advertised port's pinhole if the response names it.
 */
void shp_register_update(struct shp_net *sn, const struct shp_flow *fl,
			 const struct shp_nat_map *map,
			 const struct shp_sip_msg *msg, const char *buf)
{
	struct nf_conn *ct = fl->ct;
	const struct nf_conntrack_tuple *priv = &ct->tuplehash[fl->pdir].tuple;
	const struct nf_conntrack_tuple *pub = &ct->tuplehash[!fl->pdir].tuple;
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	bool adv = false;
	u32 expires;

	if (!help)
		return;
	if (msg->status == 401 || msg->status == 407)
		return;
	expires = 0;
	if (msg->status < 300)
		expires = min_t(u32, shp_register_expires(fl, map, msg, buf,
							  &adv),
				SHP_MAX_TIMEOUT);
	if (!expires) {
		shp_register_flush(ct);
		return;
	}
	if (adv) {
		/* the UA is reached through its advertised port's pinhole */
		spin_lock_bh(&nf_conntrack_expect_lock);
		exp = shp_adv_find(ct, map->adv_priv_port, 0);
		if (exp)
			shp_expect_set_timeout(exp, expires * HZ);
		spin_unlock_bh(&nf_conntrack_expect_lock);
		if (exp)
			shp_stat_inc(sn, SHP_STAT(REGISTRATIONS));
		return;
	}
	if (!shp_signal_expect(sn, fl, pub->dst.u.all, priv->src.u.all,
			       expires))
		shp_stat_inc(sn, SHP_STAT(REGISTRATIONS));
}
