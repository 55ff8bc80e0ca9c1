// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the SIP/SDP core: parse, plan and apply under
 * several mappings, asserting the core's properties (abort on violation):
 *  - a successful parse consumes at most the input, spans stay inside it;
 *  - an applied plan yields a message that parses, is exactly delta bytes
 *    longer, whose Content-Length equals its body length;
 *  - rewriting the output again with the same context is a no-op;
 *  - the rewritten message never exceeds SHP_MAX_MSG;
 *  - many messages of one TCP packet fill the datapath's scratch exactly
 *    within their room, never past it (run_stream()).
 */
#include <stdio.h>
#include <stdlib.h>

#include "shp_sip.h"

#define CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "property violated: %s (%s:%d)\n", \
				#c, __FILE__, __LINE__);		\
			abort();					\
		}							\
	} while (0)

static struct shp_sip_msg msg, msg2;
static struct shp_plan plan, plan2;
static char out[SHP_MAX_MSG + SHP_MAX_EDITS * SHP_REPL_MAX + 1];

static void addr(const char *s, struct shp_addr *a)
{
	CHECK(shp_addr_parse(s, strlen(s), a) == 0);
}

static void span_ok(struct shp_span sp, size_t len)
{
	CHECK((size_t)sp.off + sp.len <= len);
}

static void check_msg(const struct shp_sip_msg *m, size_t len)
{
	unsigned int i;

	CHECK(m->n_via <= SHP_MAX_VIA && m->n_contact <= SHP_MAX_CONTACT);
	CHECK(m->sdp.n_media <= SHP_MAX_MEDIA);
	span_ok(m->call_id, len);
	span_ok(m->body, len);
	CHECK((size_t)m->body.off + m->body.len == len);
	for (i = 0; i < m->n_via; i++)
		span_ok(m->via[i].sent_by.hp, len);
	for (i = 0; i < m->n_contact; i++)
		span_ok(m->contact[i].uri.uri, len);
	for (i = 0; i < m->sdp.n_media; i++) {
		span_ok(m->sdp.media[i].line, len);
		CHECK(m->sdp.media[i].line.off >= m->body.off);
	}
	if (m->flags & SHP_F_HAS_CLEN)
		CHECK(m->clen == m->body.len);
}

static void run(const char *d, size_t n, bool stream,
		const struct shp_rewrite_ctx *ctx)
{
	int r, k, r2, o;
	size_t in_len;
	u16 adv;

	r = shp_sip_parse(d, n, stream, &msg);
	if (r < 0) {
		CHECK(r > -SHP_E_MAX);
		CHECK(shp_sip_plan(d, &msg, ctx, &plan) < 0 ||
		      msg.type == SHP_MSG_KEEPALIVE);
		return;
	}
	CHECK(r > 0 && (size_t)r <= n && r <= SHP_MAX_MSG);
	if (msg.type == SHP_MSG_KEEPALIVE)
		return;
	check_msg(&msg, (size_t)r);
	adv = shp_sip_adv_port(d, &msg, &ctx->map.priv, ctx->map.priv_port);
	CHECK(adv != ctx->map.priv_port);
	k = shp_sip_plan(d, &msg, ctx, &plan);
	if (k < 0) {
		CHECK(k == -SHP_E_TOO_MANY || k == -SHP_E_TOO_BIG);
		CHECK(plan.n == 0);
		return;
	}
	CHECK(k == plan.n && k <= SHP_MAX_EDITS);
	/* a datagram keeps its trailing bytes; a stream message is alone */
	in_len = stream ? (size_t)r : n;
	o = shp_plan_apply(d, in_len, &plan, out, sizeof(out));
	CHECK(o >= 0 && (size_t)o == in_len + plan.delta);
	CHECK(r + plan.delta <= SHP_MAX_MSG);
	if (!k)
		CHECK(!memcmp(out, d, in_len));
	r2 = shp_sip_parse(out, (size_t)o, stream, &msg2);
	CHECK(r2 == r + plan.delta);
	check_msg(&msg2, (size_t)r2);
	CHECK(msg2.n_via == msg.n_via && msg2.n_contact == msg.n_contact &&
	      msg2.sdp.n_media == msg.sdp.n_media);
	CHECK(shp_sip_plan(out, &msg2, ctx, &plan2) == 0);
}

/*
 * The datapath's TCP loop (kmod/datapath.c) over one packet: the input
 * repeated, every message appended to a
 * scratch of the module's real size (SHP_MAX_MSG, no slack: ASan sees a
 * byte past it) within @cap, stopping at the first that does not fit.
 * The output holds exactly the appended messages, each as long as
 * planned, and re-parses message by message.
 *
 * @lead > 0 starts the output @lead bytes before @cap, as if the packet's
 * earlier messages had filled the rest: the boundary is what matters, and
 * reaching it through hundreds of identical copies made one input in 16
 * cost most of the fuzzer's time (stop 22: 7 200 executions/s).
 */
static char stream_in[SHP_MAX_MSG];
static char scratch[SHP_MAX_MSG];
static u16 out_len[SHP_MAX_MSG / 2];

static void run_stream(const char *d, size_t n, size_t lead, size_t cap,
		       const struct shp_rewrite_ctx *ctx)
{
	size_t total = 0, off = 0, opos, start, i, nmsg = 0;
	int r, k;

	if (!n || n > sizeof(stream_in) || cap > sizeof(scratch))
		return;
	start = opos = lead && lead < cap ? cap - lead : 0;
	/* one copy, or enough to reach the boundary (a rewrite is never
	 * shorter than its input) as far as a full packet holds: more would
	 * only make a parser looking for an end scan further
	 */
	do {
		memcpy(stream_in + total, d, n);
		total += n;
	} while (total < lead + n && total + n <= sizeof(stream_in));
	while (off < total) {
		size_t before = opos;

		r = shp_sip_parse(stream_in + off, total - off, true, &msg);
		if (r <= 0)
			break;
		k = msg.type == SHP_MSG_KEEPALIVE ? 0 :
		    shp_sip_plan(stream_in + off, &msg, ctx, &plan);
		r = shp_out_append(scratch, cap, &opos, stream_in + off,
				   (size_t)r, k > 0 ? &plan : NULL);
		if (r == -SHP_E_NOSPACE) {
			CHECK(opos == before);
			break;
		}
		CHECK(r == 0 && opos <= cap && opos > before);
		out_len[nmsg++] = (u16)(opos - before);
		off += msg.msg_len;
	}
	CHECK(opos <= cap);
	for (i = 0, off = start; i < nmsg; i++) {
		r = shp_sip_parse(scratch + off, opos - off, true, &msg2);
		CHECK(r == out_len[i]);
		off += (size_t)r;
	}
	CHECK(off == opos);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct shp_rewrite_ctx ctx[4];
	static bool init;
	const char *d = (const char *)data;
	unsigned int i, j;

	if (!init) {
		/* seed mapping: same text lengths */
		ctx[0].dir = SHP_DIR_OUT;
		addr("192.168.0.31", &ctx[0].map.priv);
		addr("212.19.6.166", &ctx[0].map.pub);
		ctx[0].map.priv_port = 5010;
		ctx[0].map.pub_port = 5010;
		/* lengths change, default port involved */
		ctx[1].dir = SHP_DIR_OUT;
		addr("10.0.0.1", &ctx[1].map.priv);
		addr("203.0.113.200", &ctx[1].map.pub);
		ctx[1].map.priv_port = 5060;
		ctx[1].map.pub_port = 65000;
		/* a listening port besides the flow's (register.c) */
		ctx[1].map.adv_priv_port = 5070;
		ctx[1].map.adv_pub_port = 65001;
		/* inbound */
		ctx[2] = ctx[0];
		ctx[2].dir = SHP_DIR_IN;
		/* IPv6 */
		ctx[3].dir = SHP_DIR_OUT;
		addr("fd00::31", &ctx[3].map.priv);
		addr("2001:db8:ffff::1234:5678", &ctx[3].map.pub);
		ctx[3].map.priv_port = 5060;
		ctx[3].map.pub_port = 5060;
		ctx[3].map.adv_priv_port = 5062;
		ctx[3].map.adv_pub_port = 5064;
		for (i = 0; i < 4; i++) {
			for (j = 0; j < SHP_MAX_MEDIA; j++) {
				ctx[i].media_port[j] = (u16)(i & 1 ?
					9 + j : 40000 + 2 * j);
				ctx[i].rtcp_port[j] = (u16)(i & 1 ?
					0 : 40001 + 2 * j);
			}
		}
		init = true;
	}
	for (i = 0; i < 4; i++) {
		run(d, size, false, &ctx[i]);
		run(d, size, true, &ctx[i]);
	}
	/* growing rewrites (ctx 1, 3) against the scratch's end, and against
	 * the tighter room a nearly full packet leaves
	 */
	if (size) {
		unsigned char last = data[size - 1];
		bool full = (last & 3) == 0;
		size_t cap = last & 16 ? sizeof(scratch) :
			     full ? sizeof(scratch) - 512 + data[0] :
			     size + data[0] / 8;
		size_t lead = full ? 3 * size + (last >> 5) * 97 : 0;

		run_stream(d, size, lead, cap, &ctx[data[0] & 1 ? 1 : 3]);
	}
	return 0;
}
