// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: SIP message and SDP body parser.
 *
 * One forward pass: every header line is located with memchr() once, and
 * only the values of the headers the ALG needs (Via, Contact, From, To,
 * Call-ID, CSeq, Expires, Content-Length/-Type/-Encoding) are scanned,
 * each a bounded number of times. No recursion, no allocation. The parser
 * records spans (offset, length) into the caller's buffer; it never
 * writes to the buffer.
 */
#include "shp_internal.h"

enum shp_hdr_id {
	SHP_H_OTHER = 0,
	SHP_H_VIA,
	SHP_H_CONTACT,
	SHP_H_FROM,
	SHP_H_TO,
	SHP_H_CALLID,
	SHP_H_CSEQ,
	SHP_H_CLEN,
	SHP_H_CTYPE,
	SHP_H_CENC,
	SHP_H_EXPIRES,
	SHP_H_ROUTE,
	SHP_H_RROUTE,
};

struct shp_sip_name {
	const char *name;
	u8 len;
	u8 id;
};

static const struct shp_sip_name shp_sip_methods[] = {
	{ "REGISTER", 8, SHP_M_REGISTER },
	{ "INVITE", 6, SHP_M_INVITE },
	{ "ACK", 3, SHP_M_ACK },
	{ "BYE", 3, SHP_M_BYE },
	{ "CANCEL", 6, SHP_M_CANCEL },
	{ "UPDATE", 6, SHP_M_UPDATE },
	{ "PRACK", 5, SHP_M_PRACK },
	{ "OPTIONS", 7, SHP_M_OPTIONS },
	{ "MESSAGE", 7, SHP_M_MESSAGE },
	{ "INFO", 4, SHP_M_INFO },
	{ "REFER", 5, SHP_M_REFER },
	{ "NOTIFY", 6, SHP_M_NOTIFY },
	{ "SUBSCRIBE", 9, SHP_M_SUBSCRIBE },
	{ "PUBLISH", 7, SHP_M_PUBLISH },
};

/* Methods are case-sensitive (RFC 3261 7.1). */
static u8 shp_sip_method_id(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shp_sip_methods); i++) {
		if (shp_sip_methods[i].len == n &&
		    !memcmp(shp_sip_methods[i].name, s, n))
			return shp_sip_methods[i].id;
	}
	return SHP_M_UNKNOWN;
}

/* Header names are case-insensitive; compact forms per RFC 3261 7.3.3. */
static u8 shp_sip_hdr_id(const char *s, size_t n)
{
	switch (n) {
	case 1:
		switch (s[0] | 0x20) {
		case 'v': return SHP_H_VIA;
		case 'm': return SHP_H_CONTACT;
		case 'f': return SHP_H_FROM;
		case 't': return SHP_H_TO;
		case 'i': return SHP_H_CALLID;
		case 'l': return SHP_H_CLEN;
		case 'c': return SHP_H_CTYPE;
		case 'e': return SHP_H_CENC;
		}
		/* k s o r u: Supported Subject Event Refer-To Allow-Events */
		return SHP_H_OTHER;
	case 2:
		return SHP_IEQ(s, n, "to") ? SHP_H_TO : SHP_H_OTHER;
	case 3:
		return SHP_IEQ(s, n, "via") ? SHP_H_VIA : SHP_H_OTHER;
	case 4:
		if (SHP_IEQ(s, n, "from"))
			return SHP_H_FROM;
		return SHP_IEQ(s, n, "cseq") ? SHP_H_CSEQ : SHP_H_OTHER;
	case 5:
		return SHP_IEQ(s, n, "route") ? SHP_H_ROUTE : SHP_H_OTHER;
	case 7:
		if (SHP_IEQ(s, n, "contact"))
			return SHP_H_CONTACT;
		if (SHP_IEQ(s, n, "call-id"))
			return SHP_H_CALLID;
		return SHP_IEQ(s, n, "expires") ? SHP_H_EXPIRES : SHP_H_OTHER;
	case 12:
		if (SHP_IEQ(s, n, "content-type"))
			return SHP_H_CTYPE;
		return SHP_IEQ(s, n, "record-route") ? SHP_H_RROUTE :
						       SHP_H_OTHER;
	case 14:
		return SHP_IEQ(s, n, "content-length") ? SHP_H_CLEN :
							 SHP_H_OTHER;
	case 16:
		return SHP_IEQ(s, n, "content-encoding") ? SHP_H_CENC :
							   SHP_H_OTHER;
	}
	return SHP_H_OTHER;
}

static size_t shp_skip_lws(const char *b, size_t i, size_t end)
{
	while (i < end && shp_is_lws(b[i]))
		i++;
	return i;
}

static size_t shp_skip_ws(const char *b, size_t i, size_t end)
{
	while (i < end && shp_is_ws(b[i]))
		i++;
	return i;
}

/*
 * Decimal number of at most maxd digits at b[*i]; saturates at U32_MAX.
 * Returns the number of digits read (0: none).
 */
static size_t shp_parse_num(const char *b, size_t *i, size_t end, u32 *val)
{
	size_t s = *i, j = *i;
	u64 v = 0;

	while (j < end && shp_is_digit(b[j])) {
		if (v <= 0xffffffffULL)
			v = v * 10 + (u64)(b[j] - '0');
		j++;
	}
	*val = v > 0xffffffffULL ? 0xffffffffU : (u32)v;
	*i = j;
	return j - s;
}

/*
 * host [ ":" port ] at b[*pos]. With lws, white space is allowed around the
 * colon (Via sent-by). On success *pos is just after the host or port.
 */
/*
 * Does b[i, end) start with an IPv6 address written without brackets,
 * with or without a ":port" after it? Some UAs send them; RFC 3261 25.1
 * wants "[...]" in a hostport, where a bare one cannot be told from a
 * port.
 */
static bool shp_v6_unbracketed(const char *b, size_t i, size_t end)
{
	size_t e = i, last = 0;
	struct shp_addr a;

	while (e < end && e - i < SHP_ADDR_STRLEN &&
	       (shp_hexval(b[e]) >= 0 || b[e] == ':' || b[e] == '.')) {
		if (b[e] == ':')
			last = e;
		e++;
	}
	if (!shp_addr_parse(b + i, e - i, &a) && a.family == 6)
		return true;
	return last > i && !shp_addr_parse(b + i, last - i, &a) &&
	       a.family == 6;
}

/*
 * host[:port] at b[*pos]: 0, -1 (bad), or -2 (an IPv6 address without
 * brackets).
 */
static int shp_parse_hostport(const char *b, size_t *pos, size_t end,
			      bool lws, struct shp_hostport *hp)
{
	size_t i = *pos, hs, he, pe;
	u32 v;

	if (i < end && b[i] == '[') {
		hs = ++i;
		while (i < end && (shp_hexval(b[i]) >= 0 || b[i] == ':' ||
				   b[i] == '.'))
			i++;
		if (i >= end || b[i] != ']' || i == hs)
			return -1;
		he = i++;
	} else {
		hs = i;
		while (i < end && shp_is_hostc(b[i]))
			i++;
		if (i == hs)
			return -1;
		he = i;
	}
	hp->host = shp_mkspan(hs, he - hs);
	hp->port = 0;
	pe = i;
	if (lws)
		i = shp_skip_lws(b, i, end);
	if (i < end && b[i] == ':') {
		size_t nd;

		i++;
		if (lws)
			i = shp_skip_lws(b, i, end);
		nd = shp_parse_num(b, &i, end, &v);
		if (!nd || nd > 5 || !v || v > 65535 ||
		    (i < end && b[i] == ':'))
			return shp_v6_unbracketed(b, hs, end) ? -2 : -1;
		hp->port = (u16)v;
		pe = i;
	}
	hp->hp = shp_mkspan(*pos, pe - *pos);
	*pos = pe;
	return 0;
}

/*
 * URI in b[s, e). sip: and sips: URIs get their host[:port] located; other
 * schemes (tel:, urn:, no scheme at all) are recorded as opaque.
 */
static int shp_parse_uri(const char *b, size_t s, size_t e, struct shp_uri *u)
{
	size_t i = s;
	const char *at;
	int r;

	memset(u, 0, sizeof(*u));
	u->uri = shp_mkspan(s, e - s);
	u->scheme = SHP_SCHEME_OTHER;
	while (i < e && (shp_is_alnum(b[i]) || b[i] == '+' || b[i] == '-' ||
			 b[i] == '.'))
		i++;
	if (i >= e || b[i] != ':')
		return 0;
	if (SHP_IEQ(b + s, i - s, "sip")) {
		u->scheme = SHP_SCHEME_SIP;
		u->hp.def_port = 5060;
	} else if (SHP_IEQ(b + s, i - s, "sips")) {
		u->scheme = SHP_SCHEME_SIPS;
		u->hp.def_port = 5061;
	} else {
		return 0;
	}
	i++;
	at = memchr(b + i, '@', e - i);
	if (at)
		i = (size_t)(at - b) + 1;
	r = shp_parse_hostport(b, &i, e, false, &u->hp);
	if (r)
		return r == -2 ? -SHP_E_V6_UNBRACKETED : -SHP_E_BAD_URI;
	if (i < e && b[i] != ';' && b[i] != '?')
		return -SHP_E_BAD_URI;
	return 0;
}

/* quoted-string starting at b[i] == '"'; returns index after it, or 0 */
static size_t shp_skip_quoted(const char *b, size_t i, size_t end)
{
	i++;
	while (i < end && b[i] != '"') {
		if (b[i] == '\\')
			i++;
		i++;
	}
	return i < end ? i + 1 : 0;
}

/* name-addr or addr-spec at b[*pos]; *pos ends after '>' or the URI. */
static int shp_parse_naddr(const char *b, size_t *pos, size_t end,
			   struct shp_uri *u)
{
	size_t i = shp_skip_lws(b, *pos, end), j = i, e;
	const char *gt;
	int err;

	while (j < end) {
		char c = b[j];

		if (c == '"') {
			j = shp_skip_quoted(b, j, end);
			if (!j)
				return -SHP_E_BAD_URI;
			continue;
		}
		if (c == '<' || c == ':' || c == ',' || c == ';')
			break;
		j++;
	}
	if (j < end && b[j] == '<') {
		j++;
		gt = memchr(b + j, '>', end - j);
		if (!gt)
			return -SHP_E_BAD_URI;
		e = (size_t)(gt - b);
		err = shp_parse_uri(b, j, e, u);
		*pos = e + 1;
		return err;
	}
	e = i;
	while (e < end && !shp_is_lws(b[e]) && b[e] != ';' && b[e] != ',' &&
	       b[e] != '?' && b[e] != '>')
		e++;
	if (e == i)
		return -SHP_E_BAD_URI;
	err = shp_parse_uri(b, i, e, u);
	*pos = e;
	return err;
}

struct shp_param {
	struct shp_span name;
	struct shp_span val;
	bool has_val;
};

/*
 * ";name[=value]" at b[*pos] (after optional LWS). Returns 1 and advances
 * when a parameter was read, 0 when none follows, -1 when malformed.
 */
static int shp_next_param(const char *b, size_t *pos, size_t end,
			  struct shp_param *p)
{
	size_t i = shp_skip_lws(b, *pos, end), ns, j;

	if (i >= end || b[i] != ';')
		return 0;
	i = shp_skip_lws(b, i + 1, end);
	ns = i;
	while (i < end && shp_is_token(b[i]))
		i++;
	if (i == ns)
		return -1;
	p->name = shp_mkspan(ns, i - ns);
	p->has_val = false;
	p->val = shp_mkspan(i, 0);
	j = shp_skip_lws(b, i, end);
	if (j < end && b[j] == '=') {
		size_t vs;

		j = shp_skip_lws(b, j + 1, end);
		vs = j;
		if (j < end && b[j] == '"') {
			j = shp_skip_quoted(b, j, end);
			if (!j)
				return -1;
		} else {
			while (j < end && !shp_is_lws(b[j]) && b[j] != ';' &&
			       b[j] != ',')
				j++;
		}
		p->val = shp_mkspan(vs, j - vs);
		p->has_val = true;
		i = j;
	}
	*pos = i;
	return 1;
}

static u8 shp_via_transport(const char *s, size_t n)
{
	if (SHP_IEQ(s, n, "udp"))
		return SHP_T_UDP;
	if (SHP_IEQ(s, n, "tcp"))
		return SHP_T_TCP;
	if (SHP_IEQ(s, n, "tls"))
		return SHP_T_TLS;
	if (SHP_IEQ(s, n, "sctp"))
		return SHP_T_SCTP;
	if (SHP_IEQ(s, n, "ws"))
		return SHP_T_WS;
	if (SHP_IEQ(s, n, "wss"))
		return SHP_T_WSS;
	return SHP_T_OTHER;
}

/* token at b[*i] after LWS; returns its length */
static size_t shp_token(const char *b, size_t *i, size_t end, size_t *start)
{
	size_t j = shp_skip_lws(b, *i, end);

	*start = j;
	while (j < end && shp_is_token(b[j]))
		j++;
	*i = j;
	return j - *start;
}

/* "/" with LWS around it (SLASH in RFC 3261) */
static bool shp_slash(const char *b, size_t *i, size_t end)
{
	size_t j = shp_skip_lws(b, *i, end);

	if (j >= end || b[j] != '/')
		return false;
	*i = j + 1;
	return true;
}

static int shp_parse_via(const char *b, size_t i, size_t end,
			 struct shp_sip_msg *m)
{
	for (;;) {
		struct shp_via *v;
		struct shp_param p;
		size_t ts, tl;
		int r;

		if (m->n_via >= SHP_MAX_VIA)
			return -SHP_E_TOO_MANY;
		v = &m->via[m->n_via];
		memset(v, 0, sizeof(*v));
		tl = shp_token(b, &i, end, &ts);
		if (!SHP_IEQ(b + ts, tl, "sip") || !shp_slash(b, &i, end))
			return -SHP_E_BAD_VIA;
		tl = shp_token(b, &i, end, &ts);
		if (!SHP_IEQ(b + ts, tl, "2.0") || !shp_slash(b, &i, end))
			return -SHP_E_BAD_VIA;
		tl = shp_token(b, &i, end, &ts);
		if (!tl)
			return -SHP_E_BAD_VIA;
		v->transport = shp_via_transport(b + ts, tl);
		v->sent_by.def_port = v->transport == SHP_T_TLS ? 5061 : 5060;
		i = shp_skip_lws(b, i, end);
		r = shp_parse_hostport(b, &i, end, true, &v->sent_by);
		if (r)
			return r == -2 ? -SHP_E_V6_UNBRACKETED :
					 -SHP_E_BAD_VIA;
		while ((r = shp_next_param(b, &i, end, &p)) > 0) {
			const char *n = b + p.name.off;
			size_t nl = p.name.len;

			if (SHP_IEQ(n, nl, "branch")) {
				v->flags |= SHP_VIA_BRANCH;
				v->branch = p.val;
			} else if (SHP_IEQ(n, nl, "received")) {
				v->flags |= SHP_VIA_RECEIVED;
				v->received = p.val;
			} else if (SHP_IEQ(n, nl, "maddr")) {
				v->flags |= SHP_VIA_MADDR;
				v->maddr = p.val;
			} else if (SHP_IEQ(n, nl, "rport")) {
				size_t k = p.val.off;
				u32 pv;

				v->flags |= SHP_VIA_RPORT;
				if (p.val.len && shp_parse_num(b, &k, end,
							       &pv) ==
				    p.val.len && pv && pv <= 65535) {
					v->flags |= SHP_VIA_RPORT_VAL;
					v->rport = (u16)pv;
					v->rport_val = p.val;
				}
			}
		}
		if (r < 0)
			return -SHP_E_BAD_VIA;
		m->n_via++;
		i = shp_skip_lws(b, i, end);
		if (i >= end)
			return 0;
		if (b[i] != ',')
			return -SHP_E_BAD_VIA;
		i++;
	}
}

static int shp_parse_contact(const char *b, size_t i, size_t end,
			     struct shp_sip_msg *m)
{
	i = shp_skip_lws(b, i, end);
	if (i < end && b[i] == '*') {
		if (shp_skip_lws(b, i + 1, end) != end)
			return -SHP_E_BAD_URI;
		m->flags |= SHP_F_CONTACT_STAR;
		return 0;
	}
	for (;;) {
		struct shp_contact *c;
		struct shp_param p;
		int r;

		if (m->n_contact >= SHP_MAX_CONTACT)
			return -SHP_E_TOO_MANY;
		c = &m->contact[m->n_contact];
		memset(c, 0, sizeof(*c));
		r = shp_parse_naddr(b, &i, end, &c->uri);
		if (r)
			return r;
		while ((r = shp_next_param(b, &i, end, &p)) > 0) {
			size_t k = p.val.off;
			u32 ev;

			if (SHP_IEQ(b + p.name.off, p.name.len, "expires") &&
			    p.val.len &&
			    shp_parse_num(b, &k, end, &ev) == p.val.len) {
				c->has_expires = true;
				c->expires = ev;
			}
		}
		if (r < 0)
			return -SHP_E_BAD_HEADER;
		m->n_contact++;
		i = shp_skip_lws(b, i, end);
		if (i >= end)
			return 0;
		if (b[i] != ',')
			return -SHP_E_BAD_HEADER;
		i++;
	}
}

/* From / To: one name-addr or addr-spec, parameters, nothing else */
static int shp_parse_fromto(const char *b, size_t i, size_t end,
			    struct shp_uri *u)
{
	struct shp_param p;
	int r;

	if (u->scheme)		/* repeated */
		return -SHP_E_BAD_HEADER;
	r = shp_parse_naddr(b, &i, end, u);
	if (r)
		return r;
	while ((r = shp_next_param(b, &i, end, &p)) > 0)
		;
	if (r < 0 || shp_skip_lws(b, i, end) != end)
		return -SHP_E_BAD_HEADER;
	return 0;
}

static int shp_parse_cseq(const char *b, size_t i, size_t end,
			  struct shp_sip_msg *m)
{
	size_t nd, ms, ml;
	u32 v;

	if (m->flags & SHP_F_HAS_CSEQ)
		return -SHP_E_BAD_CSEQ;
	i = shp_skip_lws(b, i, end);
	nd = shp_parse_num(b, &i, end, &v);
	if (!nd || nd > 10 || v == 0xffffffffU || i >= end ||
	    !shp_is_lws(b[i]))
		return -SHP_E_BAD_CSEQ;
	ml = shp_token(b, &i, end, &ms);
	if (!ml || shp_skip_lws(b, i, end) != end)
		return -SHP_E_BAD_CSEQ;
	m->cseq = v;
	m->cseq_method_tok = shp_mkspan(ms, ml);
	m->cseq_method = shp_sip_method_id(b + ms, ml);
	m->flags |= SHP_F_HAS_CSEQ;
	return 0;
}

static int shp_parse_clen(const char *b, size_t i, size_t end,
			  struct shp_sip_msg *m)
{
	size_t s, nd;
	u32 v;

	if (m->flags & SHP_F_HAS_CLEN)
		return -SHP_E_BAD_CLEN;
	i = shp_skip_lws(b, i, end);
	s = i;
	nd = shp_parse_num(b, &i, end, &v);
	if (!nd || nd > 10 || shp_skip_lws(b, i, end) != end)
		return -SHP_E_BAD_CLEN;
	m->clen = v;
	m->clen_span = shp_mkspan(s, nd);
	m->flags |= SHP_F_HAS_CLEN;
	return 0;
}

static void shp_parse_ctype(const char *b, size_t i, size_t end,
			    struct shp_sip_msg *m, bool *is_sdp)
{
	size_t s = shp_skip_lws(b, i, end), e = s;

	while (e < end && !shp_is_lws(b[e]) && b[e] != ';')
		e++;
	*is_sdp = SHP_IEQ(b + s, e - s, "application/sdp");
	if (SHP_IPREFIX(b + s, e - s, "multipart/"))
		m->flags |= SHP_F_MULTIPART;
}

static void shp_parse_expires(const char *b, size_t i, size_t end,
			      struct shp_sip_msg *m)
{
	u32 v;

	i = shp_skip_lws(b, i, end);
	if (shp_parse_num(b, &i, end, &v) && shp_skip_lws(b, i, end) == end) {
		m->expires = v;
		m->flags |= SHP_F_HAS_EXPIRES;
	}
}

/* ---- SDP ---- */

/* SDP field: run of non-blank characters after blanks */
static bool shp_sdp_field(const char *b, size_t *i, size_t e,
			  struct shp_span *f)
{
	size_t s = shp_skip_ws(b, *i, e), j = s;

	while (j < e && !shp_is_ws(b[j]))
		j++;
	*f = shp_mkspan(s, j - s);
	*i = j;
	return j > s;
}

/* "<nettype> <addrtype> <address>[/...]" */
static int shp_sdp_conn(const char *b, size_t *i, size_t e,
			struct shp_sdp_conn *c)
{
	struct shp_span nt, at, ad;
	size_t k;

	if (!shp_sdp_field(b, i, e, &nt) || !shp_sdp_field(b, i, e, &at) ||
	    !shp_sdp_field(b, i, e, &ad))
		return -SHP_E_BAD_SDP;
	for (k = 0; k < ad.len && b[ad.off + k] != '/'; k++)
		;
	if (!k)
		return -SHP_E_BAD_SDP;
	c->span = shp_mkspan(ad.off, k);
	memset(&c->addr, 0, sizeof(c->addr));
	if (!SHP_IEQ(b + nt.off, nt.len, "in"))
		return 0;
	if (shp_addr_parse(b + ad.off, k, &c->addr))
		return 0;
	if ((c->addr.family == 4 && !SHP_IEQ(b + at.off, at.len, "ip4")) ||
	    (c->addr.family == 6 && !SHP_IEQ(b + at.off, at.len, "ip6")))
		memset(&c->addr, 0, sizeof(c->addr));
	return 0;
}

static u8 shp_sdp_media_type(const char *s, size_t n)
{
	if (SHP_IEQ(s, n, "audio"))
		return SHP_MEDIA_AUDIO;
	if (SHP_IEQ(s, n, "video"))
		return SHP_MEDIA_VIDEO;
	if (SHP_IEQ(s, n, "image"))
		return SHP_MEDIA_IMAGE;
	if (SHP_IEQ(s, n, "application"))
		return SHP_MEDIA_APPLICATION;
	if (SHP_IEQ(s, n, "text"))
		return SHP_MEDIA_TEXT;
	if (SHP_IEQ(s, n, "message"))
		return SHP_MEDIA_MESSAGE;
	return SHP_MEDIA_OTHER;
}

static u8 shp_sdp_proto_id(const char *s, size_t n)
{
	if (SHP_IEQ(s, n, "rtp/avp"))
		return SHP_SDP_PROTO_RTP_AVP;
	if (SHP_IEQ(s, n, "rtp/savp"))
		return SHP_SDP_PROTO_RTP_SAVP;
	if (SHP_IEQ(s, n, "rtp/avpf"))
		return SHP_SDP_PROTO_RTP_AVPF;
	if (SHP_IEQ(s, n, "rtp/savpf"))
		return SHP_SDP_PROTO_RTP_SAVPF;
	if (SHP_IEQ(s, n, "udptl"))
		return SHP_SDP_PROTO_UDPTL;
	if (SHP_IEQ(s, n, "udp"))
		return SHP_SDP_PROTO_UDP;
	if (SHP_IPREFIX(s, n, "udp/tls/rtp/savp"))
		return SHP_SDP_PROTO_DTLS_SRTP;
	if (SHP_IEQ(s, n, "tcp") || SHP_IPREFIX(s, n, "tcp/"))
		return SHP_SDP_PROTO_TCP;
	return SHP_SDP_PROTO_OTHER;
}

#define SHP_SDP_DIR_UNSET	0xff

static int shp_sdp_m(const char *b, size_t i, size_t e, struct shp_sdp *sdp)
{
	struct shp_sdp_media *md;
	struct shp_span f;
	size_t k, nd;
	u32 v;

	if (sdp->n_media >= SHP_MAX_MEDIA)
		return -SHP_E_TOO_MANY;
	md = &sdp->media[sdp->n_media];
	memset(md, 0, sizeof(*md));
	md->line = shp_mkspan(i - 2, e - i + 2);
	md->dir = SHP_SDP_DIR_UNSET;
	if (!shp_sdp_field(b, &i, e, &f))
		return -SHP_E_BAD_SDP;
	md->type = shp_sdp_media_type(b + f.off, f.len);
	i = shp_skip_ws(b, i, e);
	k = i;
	nd = shp_parse_num(b, &k, e, &v);
	if (!nd || nd > 5 || v > 65535)
		return -SHP_E_BAD_SDP;
	md->port = (u16)v;
	md->port_span = shp_mkspan(i, nd);
	md->nports = 1;
	if (k < e && b[k] == '/') {
		k++;
		nd = shp_parse_num(b, &k, e, &v);
		if (!nd || nd > 5 || !v || v > 65535)
			return -SHP_E_BAD_SDP;
		md->nports = (u16)v;
	}
	if (k < e && !shp_is_ws(b[k]))
		return -SHP_E_BAD_SDP;
	if (!shp_sdp_field(b, &k, e, &f))
		return -SHP_E_BAD_SDP;
	md->proto_span = f;
	md->proto = shp_sdp_proto_id(b + f.off, f.len);
	sdp->n_media++;
	return 0;
}

/* a=<name>[:<value>]; i points after "a=" */
static int shp_sdp_a(const char *b, size_t i, size_t e, struct shp_sdp *sdp)
{
	struct shp_sdp_media *md = sdp->n_media ?
				   &sdp->media[sdp->n_media - 1] : NULL;
	size_t s = i, k, nd;
	u8 dir;
	u32 v;

	while (i < e && b[i] != ':')
		i++;
	if (i - s == 8 && !memcmp(b + s, "sendrecv", 8))
		dir = SHP_SDP_SENDRECV;
	else if (i - s == 8 && !memcmp(b + s, "sendonly", 8))
		dir = SHP_SDP_SENDONLY;
	else if (i - s == 8 && !memcmp(b + s, "recvonly", 8))
		dir = SHP_SDP_RECVONLY;
	else if (i - s == 8 && !memcmp(b + s, "inactive", 8))
		dir = SHP_SDP_INACTIVE;
	else
		dir = SHP_SDP_DIR_UNSET;
	if (dir != SHP_SDP_DIR_UNSET) {
		if (md)
			md->dir = dir;
		else
			sdp->dir = dir;
		return 0;
	}
	/* RFC 3605 a=rtcp is media-level only; other attributes: ignored */
	if (i - s != 4 || memcmp(b + s, "rtcp", 4) || !md)
		return 0;
	if (md->rtcp_port_span.len)
		return -SHP_E_BAD_SDP;
	if (i >= e)
		return -SHP_E_BAD_SDP;
	k = i + 1;
	nd = shp_parse_num(b, &k, e, &v);
	if (!nd || nd > 5 || !v || v > 65535)
		return -SHP_E_BAD_SDP;
	md->rtcp_port = (u16)v;
	md->rtcp_port_span = shp_mkspan(i + 1, nd);
	if (shp_skip_ws(b, k, e) == e)
		return 0;
	if (k < e && !shp_is_ws(b[k]))
		return -SHP_E_BAD_SDP;
	return shp_sdp_conn(b, &k, e, &md->rtcp_addr);
}

static int shp_sdp_parse(const char *b, size_t i, size_t end,
			 struct shp_sdp *sdp)
{
	unsigned int k;
	int err = 0;

	while (i < end) {
		const char *nl = memchr(b + i, '\n', end - i);
		size_t next = nl ? (size_t)(nl - b) + 1 : end;
		size_t e = nl ? (size_t)(nl - b) : end;
		struct shp_sdp_media *md = sdp->n_media ?
					   &sdp->media[sdp->n_media - 1] : NULL;
		size_t j = i + 2;

		if (e > i && b[e - 1] == '\r')
			e--;
		if (e == i) {
			i = next;
			continue;
		}
		if (e - i < 2 || b[i + 1] != '=')
			return -SHP_E_BAD_SDP;
		switch (b[i]) {
		case 'o':
			if (md || sdp->origin.span.len)
				return -SHP_E_BAD_SDP;
			{
				struct shp_span f;

				if (!shp_sdp_field(b, &j, e, &f) ||
				    !shp_sdp_field(b, &j, e, &f) ||
				    !shp_sdp_field(b, &j, e, &f))
					return -SHP_E_BAD_SDP;
			}
			err = shp_sdp_conn(b, &j, e, &sdp->origin);
			break;
		case 'c':
			if (md) {
				if (md->conn.span.len)
					return -SHP_E_BAD_SDP;
				err = shp_sdp_conn(b, &j, e, &md->conn);
			} else {
				if (sdp->conn.span.len)
					return -SHP_E_BAD_SDP;
				err = shp_sdp_conn(b, &j, e, &sdp->conn);
			}
			break;
		case 'm':
			err = shp_sdp_m(b, j, e, sdp);
			break;
		case 'a':
			err = shp_sdp_a(b, j, e, sdp);
			break;
		}
		if (err)
			return err;
		i = next;
	}
	for (k = 0; k < sdp->n_media; k++) {
		struct shp_sdp_media *md = &sdp->media[k];

		md->addr = md->conn.span.len ? md->conn.addr : sdp->conn.addr;
		if (md->dir == SHP_SDP_DIR_UNSET)
			md->dir = sdp->dir;
	}
	return 0;
}

/* ---- message ---- */

static int shp_short(struct shp_sip_msg *m, size_t len, size_t lim,
		     bool stream)
{
	m->err_off = (u16)lim;
	m->type = SHP_MSG_NONE;
	m->msg_len = 0;
	if (len > lim)
		return -SHP_E_TOO_BIG;
	return stream ? -SHP_E_INCOMPLETE : -SHP_E_TRUNCATED;
}

/* longer than any method: not a start line (RFC 3261 names none over 9) */
#define SHP_METHOD_TOKEN_MAX	32

/*
 * A start line whose end has not arrived yet (a stream): can its first
 * bytes begin one? "SIP/2.0 " or a method token and a space. Bytes from
 * the middle of a message (a TCP segment after a gap) usually cannot, and
 * must not be taken for a message that is merely incomplete.
 */
static bool shp_start_may_follow(const char *b, size_t p, size_t lim)
{
	static const char resp[] = "sip/2.0 ";
	size_t i;

	for (i = 0; p + i < lim && i < sizeof(resp) - 1; i++)
		if ((b[p + i] | 0x20) != resp[i])
			break;
	if (p + i == lim || i == sizeof(resp) - 1)
		return true;
	for (i = p; i < lim && shp_is_token(b[i]); i++)
		if (i - p >= SHP_METHOD_TOKEN_MAX)
			return false;
	return i == lim || (i > p && b[i] == ' ');
}

static int shp_parse_start(const char *b, size_t p, size_t le,
			   struct shp_sip_msg *m)
{
	size_t i, us;
	u32 st;
	int r;

	if (le - p > 8 && SHP_IPREFIX(b + p, le - p, "sip/2.0 ")) {
		i = p + 8;
		if (shp_parse_num(b, &i, le, &st) != 3 || st < 100 ||
		    st > 699 || (i < le && b[i] != ' '))
			return -SHP_E_BAD_START_LINE;
		m->type = SHP_MSG_RESPONSE;
		m->status = (u16)st;
		if (i < le)
			i++;
		m->reason = shp_mkspan(i, le - i);
		return 0;
	}
	i = p;
	while (i < le && shp_is_token(b[i]))
		i++;
	if (i == p || i >= le || b[i] != ' ')
		return -SHP_E_BAD_START_LINE;
	m->method_tok = shp_mkspan(p, i - p);
	m->method = shp_sip_method_id(b + p, i - p);
	i = shp_skip_ws(b, i, le);
	us = i;
	while (i < le && !shp_is_ws(b[i]))
		i++;
	if (i == us || i >= le)
		return -SHP_E_BAD_START_LINE;
	r = shp_parse_uri(b, us, i, &m->ruri);
	if (r)
		return r;
	i = shp_skip_ws(b, i, le);
	if (le - i < 7 || !SHP_IEQ(b + i, 7, "sip/2.0") ||
	    shp_skip_ws(b, i + 7, le) != le)
		return -SHP_E_BAD_START_LINE;
	m->type = SHP_MSG_REQUEST;
	return 0;
}

static int shp_parse_header(const char *b, size_t hs, size_t ve,
			    struct shp_sip_msg *m, bool *is_sdp,
			    size_t *err_off)
{
	size_t i = hs, ne, vs;
	int err = 0;

	while (i < ve && shp_is_token(b[i]))
		i++;
	ne = i;
	i = shp_skip_ws(b, i, ve);
	if (ne == hs || i >= ve || b[i] != ':')
		return -SHP_E_BAD_HEADER;
	vs = i + 1;
	*err_off = vs;
	switch (shp_sip_hdr_id(b + hs, ne - hs)) {
	case SHP_H_VIA:
		err = shp_parse_via(b, vs, ve, m);
		break;
	case SHP_H_CONTACT:
		err = shp_parse_contact(b, vs, ve, m);
		break;
	case SHP_H_FROM:
		err = shp_parse_fromto(b, vs, ve, &m->from);
		break;
	case SHP_H_TO:
		err = shp_parse_fromto(b, vs, ve, &m->to);
		break;
	case SHP_H_CALLID:
		if (!m->call_id.len) {
			size_t s = shp_skip_lws(b, vs, ve), e = ve;

			while (e > s && shp_is_lws(b[e - 1]))
				e--;
			m->call_id = shp_mkspan(s, e - s);
		}
		break;
	case SHP_H_CSEQ:
		err = shp_parse_cseq(b, vs, ve, m);
		break;
	case SHP_H_CLEN:
		err = shp_parse_clen(b, vs, ve, m);
		break;
	case SHP_H_CTYPE:
		shp_parse_ctype(b, vs, ve, m, is_sdp);
		break;
	case SHP_H_CENC:
		vs = shp_skip_lws(b, vs, ve);
		if (vs < ve && !SHP_IPREFIX(b + vs, ve - vs, "identity"))
			m->flags |= SHP_F_ENCODED;
		break;
	case SHP_H_EXPIRES:
		shp_parse_expires(b, vs, ve, m);
		break;
	case SHP_H_ROUTE:
		m->n_route++;
		break;
	case SHP_H_RROUTE:
		m->n_record_route++;
		break;
	}
	return err;
}

int shp_sip_parse(const char *buf, size_t len, bool stream,
		  struct shp_sip_msg *msg)
{
	size_t lim = len < SHP_MAX_MSG ? len : SHP_MAX_MSG;
	size_t p = 0, le, total, err_off;
	const char *nl;
	bool is_sdp = false;
	int err;

	memset(msg, 0, offsetof(struct shp_sip_msg, contact));
	memset(&msg->sdp, 0, offsetof(struct shp_sdp, media));
	if (!buf)
		return -SHP_E_INVAL;
	while (p < lim && (buf[p] == '\r' || buf[p] == '\n'))
		p++;
	if (p && p == lim) {
		msg->type = SHP_MSG_KEEPALIVE;
		msg->msg_len = (u16)p;
		return (int)p;
	}
	if (!lim)
		return shp_short(msg, len, lim, stream);

	/* start line */
	nl = memchr(buf + p, '\n', lim - p);
	if (!nl && stream && !shp_start_may_follow(buf, p, lim)) {
		msg->err_off = (u16)p;
		msg->type = SHP_MSG_NONE;
		return -SHP_E_BAD_START_LINE;
	}
	if (!nl)
		return shp_short(msg, len, lim, stream);
	le = (size_t)(nl - buf);
	if (le > p && buf[le - 1] == '\r')
		le--;
	err = shp_parse_start(buf, p, le, msg);
	if (err) {
		msg->err_off = (u16)p;
		goto fail;
	}
	p = (size_t)(nl - buf) + 1;

	/* header lines, each with its continuation lines */
	for (;;) {
		size_t hs = p, ve;

		if (p >= lim)
			return shp_short(msg, len, lim, stream);
		if (buf[p] == '\n') {
			p++;
			break;
		}
		if (buf[p] == '\r') {
			if (p + 1 >= lim)
				return shp_short(msg, len, lim, stream);
			if (buf[p + 1] == '\n') {
				p += 2;
				break;
			}
			err = -SHP_E_BAD_HEADER;
			msg->err_off = (u16)p;
			goto fail;
		}
		for (;;) {
			nl = memchr(buf + p, '\n', lim - p);
			if (!nl || (size_t)(nl - buf) + 1 >= lim)
				return shp_short(msg, len, lim, stream);
			p = (size_t)(nl - buf) + 1;
			if (!shp_is_ws(buf[p]))
				break;
		}
		ve = p - 1;
		if (ve > hs && buf[ve - 1] == '\r')
			ve--;
		err_off = hs;
		err = shp_parse_header(buf, hs, ve, msg, &is_sdp, &err_off);
		if (err) {
			msg->err_off = (u16)err_off;
			goto fail;
		}
	}

	/* body: Content-Length decides; without it only a datagram works */
	msg->err_off = (u16)p;
	if (msg->flags & SHP_F_HAS_CLEN) {
		total = p + msg->clen;
		if (msg->clen > SHP_MAX_MSG || total > SHP_MAX_MSG) {
			err = -SHP_E_TOO_BIG;
			goto fail;
		}
		if (total > len) {
			msg->type = SHP_MSG_NONE;
			msg->msg_len = (u16)total;
			return stream ? -SHP_E_INCOMPLETE : -SHP_E_TRUNCATED;
		}
	} else if (stream) {
		err = -SHP_E_NO_CLEN;
		goto fail;
	} else {
		total = len;
		if (total > SHP_MAX_MSG) {
			err = -SHP_E_TOO_BIG;
			goto fail;
		}
	}
	msg->body = shp_mkspan(p, total - p);
	if (total > p) {
		if (is_sdp && !(msg->flags & SHP_F_ENCODED)) {
			err = shp_sdp_parse(buf, p, total, &msg->sdp);
			if (err)
				goto fail;
			msg->flags |= SHP_F_SDP;
		} else if (!(msg->flags & SHP_F_MULTIPART)) {
			msg->flags |= SHP_F_OTHER_BODY;
		}
	}
	msg->msg_len = (u16)total;
	msg->err_off = 0;
	return (int)total;
fail:
	msg->type = SHP_MSG_NONE;
	msg->msg_len = 0;
	return err;
}

/*
 * RFC 5389 header: two zero bits, a length that is a multiple of 4 and
 * covers the rest of the datagram, the magic cookie. RFC 5626 keepalives
 * are STUN binding requests sent on the SIP flow itself.
 */
bool shp_is_stun(const char *buf, size_t len)
{
	const u8 *b = (const u8 *)buf;
	size_t mlen;

	if (!buf || len < 20 || (b[0] & 0xc0))
		return false;
	mlen = ((size_t)b[2] << 8) | b[3];
	return !(mlen & 3) && mlen + 20 == len && b[4] == 0x21 &&
	       b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42;
}
