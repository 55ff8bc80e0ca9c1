// SPDX-License-Identifier: GPL-2.0
// Unit tests for the siphelper SIP/SDP core (kmod/core).
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "shp_sip.h"
#include "sip_vectors.h"
}

namespace {

struct Parsed {
	int ret;
	std::unique_ptr<shp_sip_msg> msg{new shp_sip_msg()};
};

Parsed parse(const std::string &s, bool stream = false)
{
	Parsed p;
	p.ret = shp_sip_parse(s.data(), s.size(), stream, p.msg.get());
	return p;
}

std::string span(const std::string &s, shp_span sp)
{
	return s.substr(sp.off, sp.len);
}

shp_addr addr(const char *t)
{
	shp_addr a;
	EXPECT_EQ(shp_addr_parse(t, strlen(t), &a), 0) << t;
	return a;
}

shp_rewrite_ctx mkctx(const char *priv, uint16_t pport, const char *pub,
		      uint16_t pubport, uint8_t dir = SHP_DIR_OUT)
{
	shp_rewrite_ctx c;
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.map.priv = addr(priv);
	c.map.pub = addr(pub);
	c.map.priv_port = pport;
	c.map.pub_port = pubport;
	return c;
}

// Parse, plan, apply; returns output or "ERR:<code>".
std::string rewrite(const std::string &in, const shp_rewrite_ctx &ctx,
		    bool stream = false, int *nedits = nullptr)
{
	Parsed p = parse(in, stream);
	if (p.ret < 0)
		return "ERR:" + std::to_string(p.ret);
	auto plan = std::make_unique<shp_plan>();
	int n = shp_sip_plan(in.data(), p.msg.get(), &ctx, plan.get());
	if (nedits)
		*nedits = n;
	if (n < 0)
		return "ERR:" + std::to_string(n);
	std::string out(in.size() + SHP_MAX_EDITS * SHP_REPL_MAX, '\0');
	int r = shp_plan_apply(in.data(), in.size(), plan.get(), &out[0],
			       out.size());
	if (r < 0)
		return "ERR:" + std::to_string(r);
	out.resize(r);
	return out;
}

std::string crlf(const std::string &s)
{
	std::string o;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			o += '\r';
		o += s[i];
	}
	return o;
}

const shp_vector *find_vector(const char *name)
{
	for (unsigned i = 0; i < shp_n_vectors; i++)
		if (!strcmp(shp_vectors[i].name, name))
			return &shp_vectors[i];
	return nullptr;
}

// ---------------------------------------------------------------------
// The shared vector table (the same one KUnit runs).

class Vectors : public ::testing::TestWithParam<unsigned> {};

TEST_P(Vectors, Run)
{
	const shp_vector *v = &shp_vectors[GetParam()];
	auto s = std::make_unique<shp_vec_scratch>();
	int r = shp_vector_run(v, s.get());
	EXPECT_EQ(r, SHP_VEC_PASS)
		<< v->name << ": " << shp_vector_result_name(r)
		<< " parse=" << s->parse_ret << " ("
		<< shp_strerror(s->parse_ret) << ") plan=" << s->plan_ret
		<< "\n--- got:\n"
		<< (s->out_len >= 0 ? std::string(s->out, s->out_len) : "")
		<< "\n--- expected:\n" << (v->out ? v->out : v->in);
}

INSTANTIATE_TEST_SUITE_P(
	Table, Vectors, ::testing::Range(0u, shp_n_vectors),
	[](const ::testing::TestParamInfo<unsigned> &i) {
		return std::string(shp_vectors[i.param].name);
	});

// ---------------------------------------------------------------------
// SEED.md: byte for byte, and what the datapath learns from the message.

TEST(Seed, RegisterBecomesPublicForm)
{
	const shp_vector *v = find_vector("seed_register");
	ASSERT_NE(v, nullptr);
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	int n = -1;
	EXPECT_EQ(rewrite(v->in, ctx, false, &n), std::string(v->out));
	EXPECT_EQ(n, 2);
	Parsed p = parse(v->in);
	ASSERT_GT(p.ret, 0);
	const shp_sip_msg &m = *p.msg;
	EXPECT_EQ(m.type, SHP_MSG_REQUEST);
	EXPECT_EQ(m.method, SHP_M_REGISTER);
	EXPECT_EQ(m.cseq, 1u);
	EXPECT_EQ(m.cseq_method, SHP_M_REGISTER);
	EXPECT_EQ(span(v->in, m.call_id),
		  "20063242339186-62012442819438@192.168.0.31");
	EXPECT_TRUE(m.flags & SHP_F_HAS_EXPIRES);
	EXPECT_EQ(m.expires, 3600u);
	ASSERT_EQ(m.n_via, 1);
	EXPECT_EQ(span(v->in, m.via[0].sent_by.hp), "192.168.0.31:5010");
	EXPECT_EQ(m.via[0].sent_by.port, 5010);
	EXPECT_EQ(m.via[0].transport, SHP_T_UDP);
	EXPECT_TRUE(m.via[0].flags & SHP_VIA_RPORT);
	EXPECT_FALSE(m.via[0].flags & SHP_VIA_RPORT_VAL);
	EXPECT_EQ(span(v->in, m.via[0].branch), "z9hG4bK1076223587290572529");
	ASSERT_EQ(m.n_contact, 1);
	EXPECT_EQ(span(v->in, m.contact[0].uri.uri), "sip:011@192.168.0.31:5010");
	EXPECT_EQ(m.clen, 0u);
	EXPECT_EQ(m.body.len, 0);
	EXPECT_EQ((size_t)p.ret, strlen(v->in));
}

TEST(Seed, InviteBecomesPublicForm)
{
	const shp_vector *v = find_vector("seed_invite");
	ASSERT_NE(v, nullptr);
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	ctx.media_port[0] = 10000;
	int n = -1;
	EXPECT_EQ(rewrite(v->in, ctx, false, &n), std::string(v->out));
	EXPECT_EQ(n, 5);
	Parsed p = parse(v->in);
	ASSERT_GT(p.ret, 0);
	const shp_sip_msg &m = *p.msg;
	EXPECT_EQ(m.method, SHP_M_INVITE);
	EXPECT_TRUE(m.flags & SHP_F_SDP);
	EXPECT_EQ(m.clen, m.body.len);
	ASSERT_EQ(m.sdp.n_media, 1);
	const shp_sdp_media &md = m.sdp.media[0];
	EXPECT_EQ(md.type, SHP_MEDIA_AUDIO);
	EXPECT_EQ(md.port, 10006);
	EXPECT_EQ(md.nports, 1);
	EXPECT_EQ(md.proto, SHP_SDP_PROTO_RTP_AVP);
	EXPECT_EQ(md.dir, SHP_SDP_SENDRECV);
	EXPECT_TRUE(shp_addr_equal(&md.addr, &ctx.map.priv));
	EXPECT_EQ(md.rtcp_port, 0);
	EXPECT_EQ(span(v->in, m.sdp.origin.span), "192.168.0.31");
	EXPECT_EQ(span(v->in, m.ruri.uri),
		  "sip:*43@avantelecom.avantele.com;user=phone");
}

// The media policy the module (kmod/media.c) and shp_replay share.
TEST(MediaPolicy, WhichStreamsGetPinholes)
{
	const shp_addr phone = addr("192.168.0.31");
	shp_sdp_media m;
	memset(&m, 0, sizeof(m));
	m.port = 10006;
	m.nports = 1;
	m.proto = SHP_SDP_PROTO_RTP_AVP;
	m.addr = phone;
	EXPECT_TRUE(shp_media_wanted(&m, &phone));
	EXPECT_EQ(shp_media_rtcp_port(&m), 10007);

	shp_sdp_media x = m;
	x.port = 0;				// disabled stream
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.nports = 2;				// a port range
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.proto = SHP_SDP_PROTO_TCP;
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.port = 1023;				// privileged RTP port
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.rtcp_port = 514;			// privileged a=rtcp port
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.port = 65535;				// RTCP would be port 0
	EXPECT_EQ(shp_media_rtcp_port(&x), 0);
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x = m;
	x.addr = addr("192.168.0.32");		// media to a neighbour
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
	x.addr = addr("fd00::31");		// another family
	EXPECT_FALSE(shp_media_wanted(&x, &phone));
}

// Which messages offer or answer media, and what each does to its call.
TEST(MediaPolicy, OfferAnswerAndCallEnd)
{
	shp_sip_msg m;
	memset(&m, 0, sizeof(m));
	m.flags = SHP_F_SDP;
	m.type = SHP_MSG_REQUEST;
	for (unsigned int meth : {SHP_M_INVITE, SHP_M_UPDATE, SHP_M_ACK,
				  SHP_M_PRACK}) {
		m.method = meth;
		EXPECT_TRUE(shp_media_offer_answer(&m)) << meth;
		EXPECT_EQ(shp_call_step(&m), meth == SHP_M_INVITE ?
			  SHP_CALL_STEP_INVITE : SHP_CALL_STEP_NONE) << meth;
	}
	m.method = SHP_M_MESSAGE;		// SDP, but no offer/answer
	EXPECT_FALSE(shp_media_offer_answer(&m));
	m.method = SHP_M_INVITE;
	m.flags = 0;				// no SDP
	EXPECT_FALSE(shp_media_offer_answer(&m));
	m.method = SHP_M_BYE;
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_BYE);
	m.method = SHP_M_CANCEL;
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_CANCEL);

	m.type = SHP_MSG_RESPONSE;
	m.flags = SHP_F_SDP;
	m.cseq_method = SHP_M_INVITE;
	for (unsigned int st : {180u, 183u, 200u, 299u}) {
		m.status = st;
		EXPECT_TRUE(shp_media_offer_answer(&m)) << st;
		EXPECT_EQ(shp_call_step(&m), st < 200 ?
			  SHP_CALL_STEP_PROGRESS : SHP_CALL_STEP_ANSWER) << st;
	}
	for (unsigned int st : {300u, 486u, 603u}) {
		m.status = st;
		EXPECT_FALSE(shp_media_offer_answer(&m)) << st;
		EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_REJECT) << st;
	}
	m.status = 100;				// hop by hop: says nothing
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_NONE);
	m.cseq_method = SHP_M_BYE;
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_NONE);
	m.status = 481;				// any final answer ends a BYE
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_BYE_DONE);
	m.cseq_method = SHP_M_OPTIONS;		// SDP in a 200 to OPTIONS
	m.status = 200;
	EXPECT_FALSE(shp_media_offer_answer(&m));
	m.status = 404;				// an error to anything else
	EXPECT_EQ(shp_call_step(&m), SHP_CALL_STEP_NONE);
}

// A call is on hold when no stream of the last SDP sends and receives.
TEST(MediaPolicy, Hold)
{
	shp_sip_msg m;
	memset(&m, 0, sizeof(m));
	EXPECT_FALSE(shp_media_held(&m));	// no SDP
	m.flags = SHP_F_SDP;
	EXPECT_FALSE(shp_media_held(&m));	// no stream
	m.sdp.n_media = 2;
	m.sdp.media[0].port = 10006;
	m.sdp.media[0].dir = SHP_SDP_SENDONLY;
	m.sdp.media[1].port = 10010;
	m.sdp.media[1].dir = SHP_SDP_SENDRECV;
	EXPECT_FALSE(shp_media_held(&m));	// video still flows
	m.sdp.media[1].dir = SHP_SDP_INACTIVE;
	EXPECT_TRUE(shp_media_held(&m));
	m.sdp.media[1].dir = SHP_SDP_SENDRECV;
	m.sdp.media[1].port = 0;		// a stream turned off
	EXPECT_TRUE(shp_media_held(&m));
	m.sdp.media[0].dir = SHP_SDP_RECVONLY;
	EXPECT_TRUE(shp_media_held(&m));
}

TEST(MediaPolicy, PublicPortsTheDatapathMayChoose)
{
	EXPECT_TRUE(shp_media_port_possible(10006, 10006));
	EXPECT_TRUE(shp_media_port_possible(10006, 10008));
	EXPECT_TRUE(shp_media_port_possible(10006,
					    10006 + 2 * (SHP_MEDIA_PORT_TRIES - 1)));
	EXPECT_FALSE(shp_media_port_possible(10006,
					     10006 + 2 * SHP_MEDIA_PORT_TRIES));
	EXPECT_FALSE(shp_media_port_possible(10006, 10007));	// odd offset
	EXPECT_FALSE(shp_media_port_possible(10006, 10004));	// below
	EXPECT_FALSE(shp_media_port_possible(65533, 65535));	// no RTCP port
}

TEST(Seed, NatAwarePhoneUntouched)
{
	for (const char *name : {"seed_register_nat_aware",
				 "seed_invite_nat_aware"}) {
		const shp_vector *v = find_vector(name);
		ASSERT_NE(v, nullptr);
		auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
		int n = -1;
		ctx.media_port[0] = 10000;
		EXPECT_EQ(rewrite(v->in, ctx, false, &n), std::string(v->in));
		EXPECT_EQ(n, 0) << name;
	}
}

// ---------------------------------------------------------------------
// Start line

TEST(StartLine, AllMethods)
{
	static const std::pair<const char *, int> methods[] = {
		{"REGISTER", SHP_M_REGISTER}, {"INVITE", SHP_M_INVITE},
		{"ACK", SHP_M_ACK}, {"BYE", SHP_M_BYE},
		{"CANCEL", SHP_M_CANCEL}, {"UPDATE", SHP_M_UPDATE},
		{"PRACK", SHP_M_PRACK}, {"OPTIONS", SHP_M_OPTIONS},
		{"MESSAGE", SHP_M_MESSAGE}, {"INFO", SHP_M_INFO},
		{"REFER", SHP_M_REFER}, {"NOTIFY", SHP_M_NOTIFY},
		{"SUBSCRIBE", SHP_M_SUBSCRIBE}, {"PUBLISH", SHP_M_PUBLISH},
		{"invite", SHP_M_UNKNOWN}, {"FOO", SHP_M_UNKNOWN},
	};
	for (auto &mt : methods) {
		std::string s = std::string(mt.first) +
			" sip:a@192.168.0.31:5010 SIP/2.0\r\nCSeq: 1 " +
			mt.first + "\r\nContent-Length: 0\r\n\r\n";
		Parsed p = parse(s);
		ASSERT_EQ(p.ret, (int)s.size()) << mt.first;
		EXPECT_EQ(p.msg->method, mt.second) << mt.first;
		EXPECT_EQ(p.msg->cseq_method, mt.second) << mt.first;
		EXPECT_EQ(span(s, p.msg->method_tok), mt.first);
		if (mt.second) {
			EXPECT_STREQ(shp_method_name(mt.second), mt.first);
		}
		// unknown methods pass through: rewritten like any other
		auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
		std::string o = rewrite(s, ctx);
		EXPECT_NE(o.find(" sip:a@212.19.6.166:5010 SIP/2.0"),
			  std::string::npos) << o;
	}
}

TEST(StartLine, StatusLine)
{
	std::string s = "SIP/2.0 183 Session Progress\r\nCSeq: 7 INVITE\r\n"
			"Content-Length: 0\r\n\r\n";
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0);
	EXPECT_EQ(p.msg->type, SHP_MSG_RESPONSE);
	EXPECT_EQ(p.msg->status, 183);
	EXPECT_EQ(span(s, p.msg->reason), "Session Progress");
	EXPECT_EQ(p.msg->cseq, 7u);
	EXPECT_EQ(p.msg->cseq_method, SHP_M_INVITE);
	for (const char *bad : {"SIP/2.0 099 x", "SIP/2.0 700 x",
				"SIP/2.0 2000 x", "SIP/2.0 abc x",
				"SIP/1.0 200 OK", "INVITE sip:a SIP/3.0",
				"INVITE  SIP/2.0", "INVITE sip:a", " INVITE sip:a SIP/2.0"}) {
		std::string t = std::string(bad) + "\r\nContent-Length: 0\r\n\r\n";
		EXPECT_EQ(parse(t).ret, -SHP_E_BAD_START_LINE) << bad;
	}
}

// ---------------------------------------------------------------------
// Headers

TEST(Headers, ViaParams)
{
	std::string s =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.168.0.31:5010;branch=z9hG4bKa;rport=5010;"
		"received=212.19.6.166, SIP/2.0/TLS [2001:db8::5];maddr=[ff02::1];"
		"rport;branch=\"q\"\r\n"
		"v: SIP/2.0/TCP host.example.com:5080\r\n"
		"Content-Length: 0\r\n\r\n";
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0) << shp_strerror(p.ret);
	const shp_sip_msg &m = *p.msg;
	ASSERT_EQ(m.n_via, 3);
	EXPECT_EQ(m.via[0].rport, 5010);
	EXPECT_TRUE(m.via[0].flags & SHP_VIA_RPORT_VAL);
	EXPECT_EQ(span(s, m.via[0].received), "212.19.6.166");
	EXPECT_EQ(span(s, m.via[0].branch), "z9hG4bKa");
	EXPECT_EQ(m.via[1].transport, SHP_T_TLS);
	EXPECT_EQ(m.via[1].sent_by.def_port, 5061);
	EXPECT_EQ(span(s, m.via[1].sent_by.host), "2001:db8::5");
	EXPECT_EQ(span(s, m.via[1].sent_by.hp), "[2001:db8::5]");
	EXPECT_EQ(m.via[1].sent_by.port, 0);
	EXPECT_EQ(span(s, m.via[1].maddr), "[ff02::1]");
	EXPECT_TRUE(m.via[1].flags & SHP_VIA_RPORT);
	EXPECT_FALSE(m.via[1].flags & SHP_VIA_RPORT_VAL);
	EXPECT_EQ(m.via[2].transport, SHP_T_TCP);
	EXPECT_EQ(span(s, m.via[2].sent_by.host), "host.example.com");
	EXPECT_EQ(m.via[2].sent_by.port, 5080);
	// params (received, rport, branch) are never rewritten
	auto ctx = mkctx("212.19.6.166", 5010, "192.168.0.31", 5010);
	int n = -1;
	EXPECT_EQ(rewrite(s, ctx, false, &n), s);
	EXPECT_EQ(n, 0);
}

TEST(Headers, ContactsAndExpires)
{
	std::string s =
		"REGISTER sip:r SIP/2.0\r\n"
		"Contact: \"A, <b>\" <sip:a@192.168.0.31:5010;ob>;expires=60;q=0.5,"
		" sip:b@10.1.1.1;expires=0\r\n"
		"m: <tel:+1555>, <sips:c@[::1]:5061>;+sip.instance=\"<urn:x>\"\r\n"
		"Expires: 1800\r\n"
		"Content-Length: 0\r\n\r\n";
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0) << shp_strerror(p.ret);
	const shp_sip_msg &m = *p.msg;
	ASSERT_EQ(m.n_contact, 4);
	EXPECT_TRUE(m.contact[0].has_expires);
	EXPECT_EQ(m.contact[0].expires, 60u);
	EXPECT_EQ(span(s, m.contact[0].uri.hp.hp), "192.168.0.31:5010");
	EXPECT_TRUE(m.contact[1].has_expires);
	EXPECT_EQ(m.contact[1].expires, 0u);
	EXPECT_EQ(span(s, m.contact[1].uri.uri), "sip:b@10.1.1.1");
	EXPECT_EQ(m.contact[2].uri.scheme, SHP_SCHEME_OTHER);
	EXPECT_EQ(m.contact[3].uri.scheme, SHP_SCHEME_SIPS);
	EXPECT_EQ(span(s, m.contact[3].uri.hp.host), "::1");
	EXPECT_FALSE(m.contact[3].has_expires);
	EXPECT_EQ(m.expires, 1800u);
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	std::string o = rewrite(s, ctx);
	EXPECT_NE(o.find("<sip:a@212.19.6.166:5010;ob>;expires=60"),
		  std::string::npos);
}

TEST(Headers, ContactStar)
{
	std::string s = "REGISTER sip:r SIP/2.0\r\nContact: *\r\nExpires: 0\r\n"
			"Content-Length: 0\r\n\r\n";
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0);
	EXPECT_TRUE(p.msg->flags & SHP_F_CONTACT_STAR);
	EXPECT_EQ(p.msg->n_contact, 0);
	std::string bad = "REGISTER sip:r SIP/2.0\r\nContact: *, <sip:a@b>\r\n"
			  "Content-Length: 0\r\n\r\n";
	EXPECT_EQ(parse(bad).ret, -SHP_E_BAD_URI);
}

TEST(Headers, FromToRouteCounts)
{
	std::string s =
		"INVITE sip:b@h SIP/2.0\r\n"
		"Route: <sip:p1;lr>, <sip:p2;lr>\r\nRoute: <sip:p3;lr>\r\n"
		"Record-Route: <sip:p4;lr>\r\n"
		"From: Alice <sip:alice@192.168.0.31:5010>;tag=x\r\n"
		"t: sip:bob@example.com;tag=y\r\n"
		"Content-Length: 0\r\n\r\n";
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0);
	EXPECT_EQ(p.msg->n_route, 2);
	EXPECT_EQ(p.msg->n_record_route, 1);
	EXPECT_EQ(span(s, p.msg->from.hp.hp), "192.168.0.31:5010");
	EXPECT_EQ(span(s, p.msg->to.uri), "sip:bob@example.com");
	std::string dup = "INVITE sip:b@h SIP/2.0\r\nTo: <sip:a@b>\r\n"
			  "To: <sip:a@c>\r\nContent-Length: 0\r\n\r\n";
	EXPECT_EQ(parse(dup).ret, -SHP_E_BAD_HEADER);
}

TEST(Headers, BareLfAndCrlfMixed)
{
	const shp_vector *v = find_vector("seed_register");
	std::string s = v->in;
	// mix: every other line ending bare LF
	std::string mixed;
	bool flip = false;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\r' && (flip = !flip))
			continue;
		mixed += s[i];
	}
	Parsed p = parse(mixed);
	EXPECT_EQ(p.ret, (int)mixed.size()) << shp_strerror(p.ret);
	EXPECT_EQ(p.msg->n_contact, 1);
}

// ---------------------------------------------------------------------
// Host matching and rewriting rules

TEST(Match, ExactHostAndPort)
{
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	for (const char *hp : {"192.168.0.3:5010", "192.168.0.310:5010",
			       "192.168.0.31:5011", "192.168.0.031:5010",
			       "192.168.0.31", "192.168.0.31.nip.io:5010",
			       "[::ffff:192.168.0.31]:5010"}) {
		std::string s = std::string("OPTIONS sip:x@") + hp +
				" SIP/2.0\r\nContent-Length: 0\r\n\r\n";
		int n = -1;
		EXPECT_EQ(rewrite(s, ctx, false, &n), s) << hp;
		EXPECT_EQ(n, 0) << hp;
	}
}

TEST(Match, BranchTagCallIdNeverTouched)
{
	std::string s =
		"INVITE sip:b@h SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.168.0.31:5010;branch=192.168.0.31:5010\r\n"
		"From: <sip:a@h>;tag=192.168.0.31:5010\r\n"
		"To: <sip:b@h>;tag=192.168.0.31\r\n"
		"Call-ID: 192.168.0.31:5010\r\n"
		"Content-Length: 0\r\n\r\n";
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	std::string o = rewrite(s, ctx);
	std::string want = s;
	want.replace(want.find("UDP 192.168.0.31"), 16, "UDP 212.19.6.166");
	EXPECT_EQ(o, want);
}

TEST(Match, InboundRestoresPrivate)
{
	const shp_vector *v = find_vector("seed_invite");
	auto out_ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	out_ctx.media_port[0] = 10000;
	std::string pub = rewrite(v->in, out_ctx);
	// inbound on the public form: headers come back, SDP does not
	// (it describes the far end) unless the datapath asks for ports.
	auto in_ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010,
			    SHP_DIR_IN);
	std::string back = rewrite(pub, in_ctx);
	EXPECT_NE(back.find("Via: SIP/2.0/UDP 192.168.0.31:5010"),
		  std::string::npos);
	EXPECT_NE(back.find("<sip:011@192.168.0.31:5010>"), std::string::npos);
	EXPECT_NE(back.find("c=IN IP4 212.19.6.166"), std::string::npos);
}

TEST(Match, AdvertisedPortFound)
{
	auto p = addr("192.168.0.31");
	auto pub = addr("212.19.6.166");
	auto adv = [&](const std::string &hdrs, const shp_addr &a,
		       uint16_t port) {
		std::string s = crlf("OPTIONS sip:x@h SIP/2.0\n" + hdrs +
				     "Content-Length: 0\n\n");
		Parsed m = parse(s);
		EXPECT_GE(m.ret, 0) << hdrs;
		return shp_sip_adv_port(s.data(), m.msg.get(), &a, port);
	};
	// the flow's own port, other hosts, host names: none
	EXPECT_EQ(adv("Via: SIP/2.0/UDP 192.168.0.31:5010\n"
		      "Contact: <sip:a@192.168.0.31:5010>\n", p, 5010), 0);
	EXPECT_EQ(adv("Via: SIP/2.0/UDP 192.168.0.32:5060\n"
		      "Contact: <sip:a@pc.example:5060>\n", p, 5010), 0);
	// Via first, then Contacts; the default port counts
	EXPECT_EQ(adv("Via: SIP/2.0/UDP 192.168.0.31:5010\n"
		      "Contact: <sip:a@192.168.0.31>\n", p, 5010), 5060);
	EXPECT_EQ(adv("Via: SIP/2.0/TCP 192.168.0.31:5070\n"
		      "Contact: <sip:a@192.168.0.31:5080>\n", p, 5010), 5070);
	EXPECT_EQ(adv("Contact: <tel:+1555>, <sips:a@192.168.0.31>\n", p,
		      5010), 5061);
	// never a pinhole below 1024: the next candidate counts
	EXPECT_EQ(adv("Via: SIP/2.0/UDP 192.168.0.31:80\n"
		      "Contact: <sip:a@192.168.0.31:5070>\n", p, 5010), 5070);
	EXPECT_EQ(adv("Contact: <sip:a@192.168.0.31:1023>\n", p, 5010), 0);
	// inbound: the public address with the pinhole's port
	EXPECT_EQ(adv("Via: SIP/2.0/UDP 212.19.6.166:5062;received=1.2.3.4\n",
		      pub, 5010), 5062);
	Parsed m = parse(crlf("OPTIONS sip:x@h SIP/2.0\nContent-Length: 0\n\n"));
	EXPECT_EQ(shp_sip_adv_port(nullptr, m.msg.get(), &p, 5010), 0);
}

TEST(Match, AdvertisedPortPossible)
{
	EXPECT_TRUE(shp_adv_port_possible(5060, 5060));
	EXPECT_TRUE(shp_adv_port_possible(5060, 5060 + SHP_ADV_PORT_TRIES - 1));
	EXPECT_FALSE(shp_adv_port_possible(5060, 5060 + SHP_ADV_PORT_TRIES));
	EXPECT_FALSE(shp_adv_port_possible(5060, 5059));
	EXPECT_FALSE(shp_adv_port_possible(1023, 1023));
	EXPECT_TRUE(shp_adv_port_possible(65535, 65535));
	EXPECT_FALSE(shp_adv_port_possible(65535, 65536));
}

TEST(Match, AdvertisedPortContextChecked)
{
	const shp_vector *v = find_vector("seed_register");
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	ctx.map.adv_priv_port = 5060;	// a pinhole needs both ports
	EXPECT_EQ(rewrite(v->in, ctx), "ERR:" + std::to_string(-SHP_E_INVAL));
}

TEST(Match, BadContextRejected)
{
	const shp_vector *v = find_vector("seed_register");
	auto ctx = mkctx("192.168.0.31", 5010, "2001:db8::1", 5010);
	EXPECT_EQ(rewrite(v->in, ctx), "ERR:" + std::to_string(-SHP_E_INVAL));
	ctx = mkctx("192.168.0.31", 0, "212.19.6.166", 5010);
	EXPECT_EQ(rewrite(v->in, ctx), "ERR:" + std::to_string(-SHP_E_INVAL));
	ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	ctx.dir = 7;
	EXPECT_EQ(rewrite(v->in, ctx), "ERR:" + std::to_string(-SHP_E_INVAL));
}

// ---------------------------------------------------------------------
// Addresses

TEST(Addr, ParseFormat)
{
	struct {
		const char *in, *out;
	} ok[] = {
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
		{"::", "::"},
		{"::1", "::1"},
		{"2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"2001:db8::", "2001:db8::"},
		{"fe80::0:0:1", "fe80::1"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"},
		{"::ffff:192.168.0.31", "::ffff:192.168.0.31"},
		{"64:ff9b::1.2.3.4", "64:ff9b::102:304"},
	};
	for (auto &t : ok) {
		shp_addr a;
		ASSERT_EQ(shp_addr_parse(t.in, strlen(t.in), &a), 0) << t.in;
		char buf[SHP_ADDR_STRLEN];
		size_t n = shp_addr_format(&a, buf, sizeof(buf));
		EXPECT_EQ(std::string(buf, n), t.out) << t.in;
	}
	for (const char *bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1",
				"01.2.3.4", "1.2.3.4 ", "1..2.3", ":::",
				"1:2:3:4:5:6:7:8:9", "1::2::3", "12345::",
				"1:2:3:4:5:6:7::8", ":1::", "1:", "g::",
				"::1.2.3", "1:2:3:4:5:6:7:1.2.3.4"}) {
		shp_addr a;
		EXPECT_NE(shp_addr_parse(bad, strlen(bad), &a), 0) << bad;
	}
	shp_addr a = addr("192.168.0.31"), b = addr("192.168.0.31");
	EXPECT_TRUE(shp_addr_equal(&a, &b));
	b = addr("::ffff:192.168.0.31");
	EXPECT_FALSE(shp_addr_equal(&a, &b));
}

// ---------------------------------------------------------------------
// SDP

TEST(Sdp, MediaDetails)
{
	const shp_vector *v = find_vector("sdp_multi_stream");
	std::string s = v->in;
	Parsed p = parse(s);
	ASSERT_GT(p.ret, 0);
	const shp_sdp &d = p.msg->sdp;
	ASSERT_EQ(d.n_media, 4);
	EXPECT_EQ(d.dir, SHP_SDP_SENDONLY);
	EXPECT_EQ(d.media[0].type, SHP_MEDIA_AUDIO);
	EXPECT_EQ(d.media[0].rtcp_port, 10007);
	EXPECT_EQ(d.media[0].rtcp_addr.span.len, 0);
	EXPECT_EQ(d.media[0].dir, SHP_SDP_RECVONLY);
	EXPECT_EQ(d.media[1].type, SHP_MEDIA_VIDEO);
	EXPECT_EQ(d.media[1].port, 0);
	EXPECT_EQ(d.media[1].dir, SHP_SDP_SENDONLY);	// inherited
	EXPECT_EQ(d.media[2].port, 10008);
	EXPECT_EQ(d.media[2].nports, 2);
	EXPECT_EQ(d.media[2].rtcp_port, 10011);
	EXPECT_EQ(span(s, d.media[2].rtcp_addr.span), "192.168.0.31");
	EXPECT_EQ(d.media[2].dir, SHP_SDP_INACTIVE);
	EXPECT_EQ(d.media[3].type, SHP_MEDIA_IMAGE);
	EXPECT_EQ(d.media[3].proto, SHP_SDP_PROTO_UDPTL);
	EXPECT_EQ(span(s, d.media[3].conn.span), "203.0.113.7");
	shp_addr far = addr("203.0.113.7");
	EXPECT_TRUE(shp_addr_equal(&d.media[3].addr, &far));
	shp_addr priv = addr("192.168.0.31");
	EXPECT_TRUE(shp_addr_equal(&d.media[0].addr, &priv));
	// a=candidate is left alone (see docs/core.md)
	std::string o = rewrite(s, [] {
		auto c = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
		c.media_port[0] = 30000;
		return c;
	}());
	EXPECT_NE(o.find("a=candidate:1 1 UDP 2130706431 192.168.0.31 10006 typ host"),
		  std::string::npos);
}

TEST(Sdp, MultipartAndEncodedNotParsed)
{
	Parsed p = parse(find_vector("multipart_passthrough")->in);
	ASSERT_GT(p.ret, 0);
	EXPECT_TRUE(p.msg->flags & SHP_F_MULTIPART);
	EXPECT_FALSE(p.msg->flags & SHP_F_SDP);
	Parsed q = parse(find_vector("content_encoding_passthrough")->in);
	ASSERT_GT(q.ret, 0);
	EXPECT_TRUE(q.msg->flags & SHP_F_ENCODED);
	EXPECT_FALSE(q.msg->flags & SHP_F_SDP);
}

// ---------------------------------------------------------------------
// Body, TCP, bounds

TEST(Stream, SeveralMessagesInOneSegment)
{
	std::string a = find_vector("seed_register")->in;
	std::string b = find_vector("seed_invite")->in;
	std::string seg = "\r\n\r\n" + a + b + a.substr(0, 100);
	auto k = std::make_unique<shp_sip_msg>();
	EXPECT_EQ(shp_sip_parse("\r\n\r\n", 4, true, k.get()), 4);
	EXPECT_EQ(k->type, SHP_MSG_KEEPALIVE);
	size_t off = 0;
	std::vector<int> got;
	auto m = std::make_unique<shp_sip_msg>();
	int r;
	while (off < seg.size()) {
		r = shp_sip_parse(seg.data() + off, seg.size() - off, true,
				  m.get());
		got.push_back(r > 0 ? m->type : r);
		if (r <= 0)
			break;
		off += r;
	}
	// leading CR/LF belong to the message that follows them
	std::vector<int> want = {SHP_MSG_REQUEST, SHP_MSG_REQUEST,
				 -SHP_E_INCOMPLETE};
	EXPECT_EQ(got, want);
	EXPECT_EQ(off, 4 + a.size() + b.size());
}

TEST(Stream, IncompleteReportsTotalWhenKnown)
{
	std::string b = find_vector("seed_invite")->in;
	auto m = std::make_unique<shp_sip_msg>();
	// every strict prefix is incomplete on a stream, and never crashes
	// as a datagram
	for (size_t n = 1; n < b.size(); n++) {
		int r = shp_sip_parse(b.data(), n, true, m.get());
		ASSERT_EQ(r, -SHP_E_INCOMPLETE) << n;
		if (n > b.find("\r\n\r\n") + 3) {
			EXPECT_EQ(m->msg_len, b.size());
		}
		r = shp_sip_parse(b.data(), n, false, m.get());
		EXPECT_LT(r, 0) << n;
	}
}

TEST(Stream, MidMessageBytesAreNotAnIncompleteMessage)
{
	// what a TCP segment after a gap (or the rest of a long header line)
	// begins with: no start line can follow, so it is a continuation,
	// never a message to hold until it is whole
	auto m = std::make_unique<shp_sip_msg>();
	for (std::string s : std::vector<std::string>{
		     ";branch=z9hG4bK1;rport,SIP/2.0/TCP 192.168.0.31",
			      "SIP/2.0/TCP 192.168.0.31:5010;branch=z9",
			      "192.168.0.31:5010;branch=z9hG4bK",
			      ",SIP/2.0/UDP h", "a=rtpmap:8 PCMA/8000",
			      std::string(40, 'A')}) {
		EXPECT_EQ(shp_sip_parse(s.data(), s.size(), true, m.get()),
			  -SHP_E_BAD_START_LINE) << s;
	}
	// the first bytes of real start lines stay incomplete
	for (std::string s : std::vector<std::string>{
		     "S", "SIP/2", "SIP/2.0 2", "INVITE", "INVITE sip:",
			      "REGISTER sip:avantelecom.avantele.com SIP/2.0"}) {
		EXPECT_EQ(shp_sip_parse(s.data(), s.size(), true, m.get()),
			  -SHP_E_INCOMPLETE) << s;
	}
}

TEST(Bounds, TooBig)
{
	std::string s = "OPTIONS sip:a@b SIP/2.0\r\nX: " +
			std::string(70000, 'a') + "\r\n\r\n";
	EXPECT_EQ(parse(s, true).ret, -SHP_E_TOO_BIG);
	EXPECT_EQ(parse(s, false).ret, -SHP_E_TOO_BIG);
	std::string big = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 65500\r\n\r\n";
	EXPECT_EQ(parse(big, true).ret, -SHP_E_TOO_BIG);
	std::string nocl = "OPTIONS sip:a@b SIP/2.0\r\n\r\n" +
			   std::string(65535, 'x');
	EXPECT_EQ(parse(nocl, false).ret, -SHP_E_TOO_BIG);
}

TEST(Bounds, TooManyViasAndEditsNoPartialRewrite)
{
	std::string s = "OPTIONS sip:a@b SIP/2.0\r\n";
	for (int i = 0; i < SHP_MAX_VIA; i++)
		s += "Via: SIP/2.0/UDP 192.168.0.31:5010\r\n";
	std::string ok = s + "Content-Length: 0\r\n\r\n";
	Parsed p = parse(ok);
	ASSERT_GT(p.ret, 0);
	EXPECT_EQ(p.msg->n_via, SHP_MAX_VIA);
	std::string more = s + "Contact: <sip:a@192.168.0.31:5010>\r\n"
			       "Content-Length: 0\r\n\r\n";
	auto ctx = mkctx("192.168.0.31", 5010, "212.19.6.166", 5010);
	EXPECT_EQ(rewrite(more, ctx),
		  "ERR:" + std::to_string(-SHP_E_TOO_MANY));
	std::string over = s + "Via: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n";
	EXPECT_EQ(parse(over).ret, -SHP_E_TOO_MANY);
}

TEST(Bounds, ApplyChecks)
{
	std::string in = find_vector("clen_gains_digit")->in;
	Parsed p = parse(in);
	ASSERT_GT(p.ret, 0);
	auto ctx = mkctx("10.0.0.1", 5060, "203.0.113.200", 5060);
	auto plan = std::make_unique<shp_plan>();
	ASSERT_GT(shp_sip_plan(in.data(), p.msg.get(), &ctx, plan.get()), 0);
	std::vector<char> out(in.size() + plan->delta);
	EXPECT_EQ(shp_plan_apply(in.data(), in.size(), plan.get(), out.data(),
				 out.size() - 1), -SHP_E_NOSPACE);
	EXPECT_EQ(shp_plan_apply(in.data(), in.size(), plan.get(), out.data(),
				 out.size()), (int)out.size());
	// unsorted / out-of-range plans are refused
	std::swap(plan->e[0], plan->e[1]);
	EXPECT_EQ(shp_plan_apply(in.data(), in.size(), plan.get(), out.data(),
				 out.size()), -SHP_E_INVAL);
	std::swap(plan->e[0], plan->e[1]);
	EXPECT_EQ(shp_plan_apply(in.data(), 10, plan.get(), out.data(),
				 out.size()), -SHP_E_INVAL);
	// a failed parse cannot be planned
	shp_sip_msg bad;
	EXPECT_EQ(shp_sip_parse("x", 1, false, &bad), -SHP_E_TRUNCATED);
	EXPECT_EQ(shp_sip_plan("x", &bad, &ctx, plan.get()), -SHP_E_INVAL);
	EXPECT_EQ(plan->n, 0);
}

TEST(Errors, Strings)
{
	for (int e = 0; e < SHP_E_MAX; e++) {
		EXPECT_STRNE(shp_strerror(-e), "unknown error") << e;
	}
	EXPECT_STREQ(shp_strerror(-1000), "unknown error");
}

// ---------------------------------------------------------------------
// Kamailio corpus: every message parses or fails with the expected error,
// as stored (LF) and converted to CRLF; rewrites of the parsed ones, with
// an address taken from the message as "private", re-parse.

std::string corpus_dir()
{
	return std::string(SHP_CORPUS_DIR) + "/kamailio-sip";
}

std::vector<std::string> corpus_files()
{
	std::vector<std::string> v;
	DIR *d = opendir(corpus_dir().c_str());
	if (!d)
		return v;
	while (dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n.size() > 4 && n.substr(n.size() - 4) == ".sip")
			v.push_back(n);
	}
	closedir(d);
	std::sort(v.begin(), v.end());
	return v;
}

std::string slurp(const std::string &p)
{
	std::ifstream f(p, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// Expected datagram results {as stored (LF), converted to CRLF}; files not
// listed parse in both forms. Most LF failures: Content-Length counts the
// CRLF the capture originally had.
const std::map<std::string, std::pair<int, int>> corpus_expect = {
	{"bad_uri.sip", {-SHP_E_TRUNCATED, 0}},
	{"bad_via2.sip", {-SHP_E_BAD_START_LINE, -SHP_E_BAD_START_LINE}},
	{"bad_via3.sip", {-SHP_E_BAD_START_LINE, -SHP_E_BAD_START_LINE}},
	{"dns.sip", {-SHP_E_TRUNCATED, 0}},
	{"inv_srv.sip", {-SHP_E_TRUNCATED, 0}},
	{"invite00.sip", {-SHP_E_TRUNCATED, 0}},
	// folded " Call-ID:" continues To: junk after the To URI
	{"invite3-callid.sip", {-SHP_E_BAD_HEADER, -SHP_E_BAD_HEADER}},
	{"invite4-cseq.sip", {-SHP_E_BAD_CSEQ, -SHP_E_BAD_CSEQ}},
	{"invite5-callid.sip", {-SHP_E_BAD_HEADER, -SHP_E_BAD_HEADER}},
	{"invite6-badbranch-via.sip", {-SHP_E_TRUNCATED, 0}},
	{"long.sip", {-SHP_E_TRUNCATED, 0}},
	{"message.sip", {-SHP_E_TRUNCATED, -SHP_E_TRUNCATED}},
	{"message02.sip", {-SHP_E_BAD_HEADER, -SHP_E_BAD_HEADER}},
	{"ms-invite-00-rpl.sip", {-SHP_E_TRUNCATED, -SHP_E_TRUNCATED}},
	{"ms-invite-00.sip", {-SHP_E_TRUNCATED, 0}},
	{"nmr.sip", {-SHP_E_TRUNCATED, 0}},
	{"no_eom_reply.sip", {-SHP_E_TRUNCATED, -SHP_E_TRUNCATED}},
	{"route.sip", {-SHP_E_TRUNCATED, 0}},
	{"rport.sip", {-SHP_E_BAD_HEADER, -SHP_E_BAD_HEADER}},
	{"short_nonce.sip", {-SHP_E_TRUNCATED, -SHP_E_TRUNCATED}},
};

// Pick an IPv4 literal host[:port] from the message to act as "private".
bool pick_private(const std::string &s, const shp_sip_msg &m,
		  shp_rewrite_ctx *ctx)
{
	std::vector<const shp_hostport *> c;
	for (int i = m.n_via - 1; i >= 0; i--)
		c.push_back(&m.via[i].sent_by);
	for (int i = 0; i < m.n_contact; i++)
		if (m.contact[i].uri.scheme == SHP_SCHEME_SIP)
			c.push_back(&m.contact[i].uri.hp);
	for (auto *hp : c) {
		shp_addr a;
		std::string h = span(s, hp->host);
		if (shp_addr_parse(h.data(), h.size(), &a) || a.family != 4)
			continue;
		memset(ctx, 0, sizeof(*ctx));
		ctx->dir = SHP_DIR_OUT;
		ctx->map.priv = a;
		ctx->map.priv_port = hp->port ? hp->port : hp->def_port;
		ctx->map.pub = addr("198.51.100.234");	// longer or shorter
		ctx->map.pub_port = 40000;
		for (int i = 0; i < SHP_MAX_MEDIA; i++)
			ctx->media_port[i] = (uint16_t)(50000 + 2 * i);
		return true;
	}
	return false;
}

TEST(Corpus, ParsesOrFailsAsExpected)
{
	auto files = corpus_files();
	if (files.empty())
		GTEST_SKIP() << "no corpus at " << corpus_dir();
	EXPECT_EQ(files.size(), 45u);
	int parsed = 0, rewritten = 0;
	for (auto &f : files) {
		std::string lf = slurp(corpus_dir() + "/" + f);
		std::string cr = crlf(lf);
		auto it = corpus_expect.find(f);
		std::pair<int, int> want = it == corpus_expect.end() ?
			std::make_pair(0, 0) : it->second;
		Parsed a = parse(lf), b = parse(cr);
		if (want.first) {
			EXPECT_EQ(a.ret, want.first) << f << " (LF)";
		}
		else
			EXPECT_GT(a.ret, 0) << f << " (LF) " << shp_strerror(a.ret);
		if (want.second) {
			EXPECT_EQ(b.ret, want.second) << f << " (CRLF)";
			continue;
		}
		ASSERT_GT(b.ret, 0) << f << " (CRLF) " << shp_strerror(b.ret);
		parsed++;
		if (b.msg->flags & SHP_F_HAS_CLEN) {
			EXPECT_EQ(b.msg->clen, b.msg->body.len) << f;
		}
		shp_rewrite_ctx ctx;
		if (!pick_private(cr, *b.msg, &ctx))
			continue;
		int n = -1;
		std::string o = rewrite(cr, ctx, false, &n);
		ASSERT_EQ(o.compare(0, 4, "ERR:") == 0, false) << f << " " << o;
		EXPECT_GT(n, 0) << f;
		rewritten++;
		Parsed r = parse(o);
		ASSERT_GT(r.ret, 0) << f << " rewrite does not parse:\n" << o;
		EXPECT_EQ(r.msg->n_via, b.msg->n_via);
		EXPECT_EQ(r.msg->n_contact, b.msg->n_contact);
		EXPECT_EQ(r.msg->sdp.n_media, b.msg->sdp.n_media);
		if (r.msg->flags & SHP_F_HAS_CLEN) {
			EXPECT_EQ(r.msg->clen, r.msg->body.len) << f;
		}
		EXPECT_EQ(span(o, r.msg->call_id), span(cr, b.msg->call_id));
		int n2 = -1;
		EXPECT_EQ(rewrite(o, ctx, false, &n2), o) << f;
		EXPECT_EQ(n2, 0) << f;
		// and back (inbound) restores the signalling part
		shp_rewrite_ctx in = ctx;
		in.dir = SHP_DIR_IN;
		memset(in.media_port, 0, sizeof(in.media_port));
		std::string back = rewrite(o, in);
		EXPECT_EQ(parse(back).ret > 0, true) << f;
	}
	EXPECT_GE(parsed, 30);
	EXPECT_GE(rewritten, 25);
}

TEST(Corpus, StreamModeNeverReadsPastAndTerminates)
{
	auto files = corpus_files();
	if (files.empty())
		GTEST_SKIP() << "no corpus at " << corpus_dir();
	std::string all;
	for (auto &f : files)
		all += crlf(slurp(corpus_dir() + "/" + f));
	auto m = std::make_unique<shp_sip_msg>();
	for (auto &f : files) {
		std::string s = crlf(slurp(corpus_dir() + "/" + f));
		std::vector<char> heap(s.begin(), s.end());	// ASan-exact
		int r = shp_sip_parse(heap.data(), heap.size(), true, m.get());
		EXPECT_NE(r, 0) << f;
		EXPECT_LE(r, (int)heap.size()) << f;
	}
}

}	// namespace

// RFC 5626 keepalives on a UDP SIP flow are STUN binding requests: the
// datapath recognises them before the SIP parser (never counted malformed).
TEST(Stun, BindingRequestRecognised)
{
	const unsigned char req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12,
					0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8,
					9, 10, 11, 12 };
	std::string s(reinterpret_cast<const char *>(req), sizeof(req));
	EXPECT_TRUE(shp_is_stun(s.data(), s.size()));
	std::string attr = s;
	attr[3] = 8;	// length 8: an 8-byte attribute follows
	EXPECT_FALSE(shp_is_stun(attr.data(), attr.size()));
	attr += std::string(8, '\0');
	EXPECT_TRUE(shp_is_stun(attr.data(), attr.size()));
	std::string bad_cookie = s;
	bad_cookie[4] = 0x22;
	EXPECT_FALSE(shp_is_stun(bad_cookie.data(), bad_cookie.size()));
	EXPECT_FALSE(shp_is_stun(s.data(), 19));
	std::string sip = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
	EXPECT_FALSE(shp_is_stun(sip.data(), sip.size()));
	EXPECT_EQ(parse(s).ret < 0, true);	// what the parser alone said
}
