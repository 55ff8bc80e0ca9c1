// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: NAT rewrite planner and plan application.
 *
 * The planner turns a parsed message and the NAT mapping into a bounded,
 * sorted list of non-overlapping edits, plus the Content-Length fix when
 * the body changes size. It either produces a complete plan or an error
 * and no edits: there is never a partial rewrite. An edit is only emitted
 * when its text differs from what is there, so a message that already
 * carries the target addresses (a NAT-aware UA, or a message rewritten
 * once already) yields no edits.
 */
#include "shp_internal.h"

struct shp_plan_st {
	const char *b;
	struct shp_plan *pl;
	const struct shp_addr *from;	/* address to replace ... */
	const struct shp_addr *to;	/* ... by this one */
	u16 from_port, to_port;
	u16 from_adv, to_adv;		/* the advertised port: 0 none */
	const struct shp_addr *sdp_from;	/* SDP (address only) */
	const struct shp_addr *sdp_to;
	u8 to_len, sdp_to_len;
	char to_txt[SHP_ADDR_STRLEN];		/* st->to, formatted once */
	char sdp_to_txt[SHP_ADDR_STRLEN];
};

static size_t shp_plan_fmt_u32(u32 v, char *out)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static int shp_plan_add(struct shp_plan_st *st, size_t off, size_t len,
			const char *r, size_t rlen, u8 kind)
{
	struct shp_plan *pl = st->pl;
	struct shp_edit *e;

	if (rlen == len && !memcmp(st->b + off, r, len))
		return 0;
	if (rlen > SHP_REPL_MAX)
		return -SHP_E_INVAL;
	if (pl->n >= SHP_MAX_EDITS)
		return -SHP_E_TOO_MANY;
	e = &pl->e[pl->n++];
	e->off = (u16)off;
	e->len = (u16)len;
	e->rlen = (u8)rlen;
	e->kind = kind;
	memcpy(e->repl, r, rlen);
	return 0;
}

/* is the host of @hp exactly the address @want (as the planner matches)? */
static bool shp_hp_is(const char *b, const struct shp_hostport *hp,
		      const struct shp_addr *want)
{
	const char *h = b + hp->host.off;
	struct shp_addr a;
	bool br;

	if (!hp->hp.len)
		return false;
	br = b[hp->hp.off] == '[';
	/* cheap rejects: host names, and v4 vs bracketed v6 */
	if (br != (want->family == 6) || (!br && !shp_is_digit(h[0])))
		return false;
	return !shp_addr_parse(h, hp->host.len, &a) && shp_addr_equal(&a, want);
}

static u16 shp_hp_port(const struct shp_hostport *hp)
{
	return hp->port ? hp->port : hp->def_port;
}

/* what @port on the from side becomes: to_port, to_adv, or 0 (neither) */
static u16 shp_plan_map_port(const struct shp_plan_st *st, u16 port)
{
	if (port == st->from_port)
		return st->to_port;
	if (st->from_adv && port == st->from_adv)
		return st->to_adv;
	return 0;
}

/* the new port of a host[:port] naming the from side, or 0 */
static u16 shp_plan_hp_match(const struct shp_plan_st *st,
			     const struct shp_hostport *hp)
{
	u16 to_port;

	if (!hp->hp.len)
		return 0;
	to_port = shp_plan_map_port(st, shp_hp_port(hp));
	if (!to_port || !shp_hp_is(st->b, hp, st->from))
		return 0;
	return to_port;
}

/* a host[:port] that shp_plan_hp_match() gave @to_port -> (to, to_port) */
static int shp_plan_hp_to(struct shp_plan_st *st,
			  const struct shp_hostport *hp, u16 to_port, u8 kind)
{
	char tmp[SHP_REPL_MAX];
	size_t n = 0;
	bool br;

	br = st->b[hp->hp.off] == '[';
	if (br)
		tmp[n++] = '[';
	memcpy(tmp + n, st->to_txt, st->to_len);
	n += st->to_len;
	if (br)
		tmp[n++] = ']';
	if (hp->port || to_port != hp->def_port) {
		tmp[n++] = ':';
		n += shp_plan_fmt_u32(to_port, tmp + n);
	}
	return shp_plan_add(st, hp->hp.off, hp->hp.len, tmp, n, kind);
}

/*
 * host[:port] matching (from, from_port) exactly -> (to, to_port), or
 * (from, from_adv) -> (to, to_adv)
 */
static int shp_plan_hp(struct shp_plan_st *st, const struct shp_hostport *hp,
		       u8 kind)
{
	u16 to_port = shp_plan_hp_match(st, hp);

	return to_port ? shp_plan_hp_to(st, hp, to_port, kind) : 0;
}

/*
 * A Via naming the UA, in a message to it: its received= and rport= as
 * the registrar saw them (public) become the UA's own, as the in-tree
 * helper does, so that the UA sees the private view it wrote
 * (docs/datapath.md, "received and rport").
 */
static int shp_plan_via(struct shp_plan_st *st, const struct shp_via *v,
			bool in)
{
	const struct shp_span *rv = &v->received;
	struct shp_addr a;
	char tmp[8];
	size_t n;
	u16 to_port = shp_plan_hp_match(st, &v->sent_by);
	bool br;
	u16 to;
	int err;

	if (!to_port)
		return 0;
	if (in && (v->flags & SHP_VIA_RECEIVED) && rv->len > 2) {
		br = st->b[rv->off] == '[' && st->b[rv->off + rv->len - 1] == ']';
		if (!shp_addr_parse(st->b + rv->off + br, rv->len - 2 * br,
				    &a) && shp_addr_equal(&a, st->from)) {
			err = shp_plan_add(st, rv->off + br, rv->len - 2 * br,
					   st->to_txt, st->to_len,
					   SHP_EK_VIA_RECEIVED);
			if (err)
				return err;
		}
	}
	if (in && (v->flags & SHP_VIA_RPORT_VAL)) {
		to = shp_plan_map_port(st, v->rport);
		if (to) {
			n = shp_plan_fmt_u32(to, tmp);
			err = shp_plan_add(st, v->rport_val.off,
					   v->rport_val.len, tmp, n,
					   SHP_EK_VIA_RPORT);
			if (err)
				return err;
		}
	}
	return shp_plan_hp_to(st, &v->sent_by, to_port, SHP_EK_VIA);
}

static int shp_plan_uri(struct shp_plan_st *st, const struct shp_uri *u,
			u8 kind)
{
	if (u->scheme != SHP_SCHEME_SIP && u->scheme != SHP_SCHEME_SIPS)
		return 0;
	return shp_plan_hp(st, &u->hp, kind);
}

static int shp_plan_sdp_addr(struct shp_plan_st *st,
			     const struct shp_sdp_conn *c, u8 kind)
{
	if (!st->sdp_from || !c->span.len ||
	    !shp_addr_equal(&c->addr, st->sdp_from))
		return 0;
	return shp_plan_add(st, c->span.off, c->span.len, st->sdp_to_txt,
			    st->sdp_to_len, kind);
}

static int shp_plan_port(struct shp_plan_st *st, struct shp_span sp,
			 u16 port, u8 kind)
{
	char tmp[8];
	size_t n;

	if (!port || !sp.len)
		return 0;
	n = shp_plan_fmt_u32(port, tmp);
	return shp_plan_add(st, sp.off, sp.len, tmp, n, kind);
}

static int shp_plan_sdp(struct shp_plan_st *st, const struct shp_sip_msg *m,
			const struct shp_rewrite_ctx *ctx)
{
	const struct shp_sdp *sdp = &m->sdp;
	unsigned int i;
	int err;

	err = shp_plan_sdp_addr(st, &sdp->origin, SHP_EK_SDP_O);
	if (!err)
		err = shp_plan_sdp_addr(st, &sdp->conn, SHP_EK_SDP_C);
	for (i = 0; !err && i < sdp->n_media; i++) {
		const struct shp_sdp_media *md = &sdp->media[i];

		if (!md->port)		/* disabled stream: leave as is */
			continue;
		err = shp_plan_port(st, md->port_span, ctx->media_port[i],
				    SHP_EK_SDP_M);
		if (!err)
			err = shp_plan_sdp_addr(st, &md->conn, SHP_EK_SDP_C);
		if (!err)
			err = shp_plan_port(st, md->rtcp_port_span,
					    ctx->rtcp_port[i],
					    SHP_EK_SDP_RTCP_PORT);
		if (!err)
			err = shp_plan_sdp_addr(st, &md->rtcp_addr,
						SHP_EK_SDP_RTCP_ADDR);
	}
	return err;
}

static bool shp_plan_ctx_ok(const struct shp_rewrite_ctx *ctx)
{
	const struct shp_nat_map *mp = &ctx->map;

	if (ctx->dir != SHP_DIR_OUT && ctx->dir != SHP_DIR_IN)
		return false;
	if ((mp->priv.family != 4 && mp->priv.family != 6) ||
	    mp->pub.family != mp->priv.family)
		return false;
	if (!mp->priv_port || !mp->pub_port)
		return false;
	if (!mp->adv_priv_port != !mp->adv_pub_port)
		return false;
	return !ctx->media_pub.family ||
	       ctx->media_pub.family == mp->priv.family;
}

static void shp_plan_sort(struct shp_plan *pl)
{
	unsigned int i, j;

	for (i = 1; i < pl->n; i++) {
		struct shp_edit t;

		if (pl->e[i - 1].off <= pl->e[i].off)
			continue;
		t = pl->e[i];
		for (j = i; j > 0 && pl->e[j - 1].off > t.off; j--)
			pl->e[j] = pl->e[j - 1];
		pl->e[j] = t;
	}
}

static int shp_plan_build(struct shp_plan_st *st, const struct shp_sip_msg *m,
			  const struct shp_rewrite_ctx *ctx)
{
	struct shp_plan *pl = st->pl;
	s32 body_delta = 0;
	unsigned int i;
	int err = 0;

	if (m->type == SHP_MSG_REQUEST)
		err = shp_plan_uri(st, &m->ruri, SHP_EK_RURI);
	if (!err)
		err = shp_plan_uri(st, &m->from, SHP_EK_FROM);
	if (!err)
		err = shp_plan_uri(st, &m->to, SHP_EK_TO);
	for (i = 0; !err && i < m->n_via; i++)
		err = shp_plan_via(st, &m->via[i], ctx->dir == SHP_DIR_IN);
	for (i = 0; !err && i < m->n_contact; i++)
		err = shp_plan_uri(st, &m->contact[i].uri, SHP_EK_CONTACT);
	if (!err && (m->flags & SHP_F_SDP))
		err = shp_plan_sdp(st, m, ctx);
	if (err)
		return err;

	for (i = 0; i < pl->n; i++) {
		const struct shp_edit *e = &pl->e[i];

		if (e->off >= m->body.off)
			body_delta += (s32)e->rlen - (s32)e->len;
		else
			pl->n_hdr++;
	}
	pl->n_sdp = pl->n - pl->n_hdr;
	if (body_delta && (m->flags & SHP_F_HAS_CLEN)) {
		char tmp[12];
		size_t n = shp_plan_fmt_u32((u32)((s32)m->clen + body_delta),
					    tmp);

		err = shp_plan_add(st, m->clen_span.off, m->clen_span.len,
				   tmp, n, SHP_EK_CLEN);
		if (err)
			return err;
	}
	pl->delta = 0;
	for (i = 0; i < pl->n; i++)
		pl->delta += (s32)pl->e[i].rlen - (s32)pl->e[i].len;
	if ((s32)m->msg_len + pl->delta > SHP_MAX_MSG)
		return -SHP_E_TOO_BIG;
	shp_plan_sort(pl);
	return 0;
}

int shp_sip_plan(const char *buf, const struct shp_sip_msg *msg,
		 const struct shp_rewrite_ctx *ctx, struct shp_plan *plan)
{
	const struct shp_nat_map *mp;
	struct shp_plan_st st;
	int err;

	if (!plan)
		return -SHP_E_INVAL;
	plan->n = 0;
	plan->n_hdr = 0;
	plan->n_sdp = 0;
	plan->delta = 0;
	if (!buf || !msg || !ctx || !shp_plan_ctx_ok(ctx))
		return -SHP_E_INVAL;
	if (msg->type == SHP_MSG_KEEPALIVE)
		return 0;
	if (msg->type != SHP_MSG_REQUEST && msg->type != SHP_MSG_RESPONSE)
		return -SHP_E_INVAL;
	mp = &ctx->map;
	st.b = buf;
	st.pl = plan;
	if (ctx->dir == SHP_DIR_OUT) {
		st.from = &mp->priv;
		st.from_port = mp->priv_port;
		st.to = &mp->pub;
		st.to_port = mp->pub_port;
		st.from_adv = mp->adv_priv_port;
		st.to_adv = mp->adv_pub_port;
		st.sdp_from = &mp->priv;
		st.sdp_to = ctx->media_pub.family ? &ctx->media_pub : &mp->pub;
	} else {
		st.from = &mp->pub;
		st.from_port = mp->pub_port;
		st.to = &mp->priv;
		st.to_port = mp->priv_port;
		st.from_adv = mp->adv_pub_port;
		st.to_adv = mp->adv_priv_port;
		/* inbound SDP describes the far end: addresses left alone */
		st.sdp_from = NULL;
		st.sdp_to = NULL;
	}
	st.to_len = (u8)shp_addr_format(st.to, st.to_txt, sizeof(st.to_txt));
	st.sdp_to_len = st.sdp_to ? (u8)shp_addr_format(st.sdp_to,
				     st.sdp_to_txt, sizeof(st.sdp_to_txt)) : 0;
	err = shp_plan_build(&st, msg, ctx);
	if (err) {
		plan->n = 0;
		plan->n_hdr = 0;
		plan->n_sdp = 0;
		plan->delta = 0;
		return err;
	}
	return plan->n;
}

u16 shp_sip_adv_port(const char *buf, const struct shp_sip_msg *msg,
		     const struct shp_addr *addr, u16 port)
{
	const struct shp_hostport *hp;
	unsigned int i;

	if (!buf || !msg || !addr)
		return 0;
	for (i = 0; i < msg->n_via + msg->n_contact; i++) {
		if (i < msg->n_via) {
			hp = &msg->via[i].sent_by;
		} else {
			const struct shp_uri *u = &msg->contact[i - msg->n_via].uri;

			if (u->scheme != SHP_SCHEME_SIP &&
			    u->scheme != SHP_SCHEME_SIPS)
				continue;
			hp = &u->hp;
		}
		/* never a pinhole below 1024, as for media */
		if (hp->hp.len && shp_hp_port(hp) != port &&
		    shp_hp_port(hp) >= SHP_MEDIA_MIN_PORT &&
		    shp_hp_is(buf, hp, addr))
			return shp_hp_port(hp);
	}
	return 0;
}

bool shp_adv_port_possible(u16 want, unsigned int got)
{
	return want >= SHP_MEDIA_MIN_PORT && got >= want &&
	       got < (unsigned int)want + SHP_ADV_PORT_TRIES && got <= 65535;
}

int shp_plan_apply(const char *in, size_t in_len, const struct shp_plan *plan,
		   char *out, size_t out_cap)
{
	size_t ip = 0, op = 0, total = in_len;
	unsigned int i;

	if (!in || !plan || !out || plan->n > SHP_MAX_EDITS)
		return -SHP_E_INVAL;
	if (in_len > SHP_MAX_MSG)
		return -SHP_E_TOO_BIG;
	for (i = 0; i < plan->n; i++) {
		const struct shp_edit *e = &plan->e[i];

		if (e->off < ip || (size_t)e->off + e->len > in_len ||
		    e->rlen > SHP_REPL_MAX)
			return -SHP_E_INVAL;
		ip = (size_t)e->off + e->len;
		total = total - e->len + e->rlen;
	}
	if (total > out_cap)
		return -SHP_E_NOSPACE;
	ip = 0;
	for (i = 0; i < plan->n; i++) {
		const struct shp_edit *e = &plan->e[i];

		memcpy(out + op, in + ip, e->off - ip);
		op += e->off - ip;
		memcpy(out + op, e->repl, e->rlen);
		op += e->rlen;
		ip = (size_t)e->off + e->len;
	}
	memcpy(out + op, in + ip, in_len - ip);
	op += in_len - ip;
	return (int)op;
}

int shp_out_append(char *out, size_t cap, size_t *opos, const char *in,
		   size_t len, const struct shp_plan *plan)
{
	int r;

	if (!out || !opos || !in || *opos > cap)
		return -SHP_E_INVAL;
	if (plan && plan->n) {
		r = shp_plan_apply(in, len, plan, out + *opos, cap - *opos);
		if (r < 0)
			return r;
		*opos += (size_t)r;
		return 0;
	}
	if (len > cap - *opos)
		return -SHP_E_NOSPACE;
	memcpy(out + *opos, in, len);
	*opos += len;
	return 0;
}
