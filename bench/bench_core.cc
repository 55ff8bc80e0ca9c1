// SPDX-License-Identifier: GPL-2.0
// Google Benchmark for the siphelper SIP/SDP core: ns/message and bytes/s
// for parse, parse+plan and parse+plan+apply. See docs/performance.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

extern "C" {
#include "shp_sip.h"
#include "sip_vectors.h"
}

namespace {

// The seed messages come from the shared test vectors (tests/vectors), the
// same bytes the unit tests and KUnit check.
std::string seed(const char *name)
{
	for (unsigned int i = 0; i < shp_n_vectors; i++)
		if (!strcmp(shp_vectors[i].name, name))
			return shp_vectors[i].in;
	std::abort();
}

const char *const kSdp =
	"v=0\r\n"
	"o=011 164445748 546426177 IN IP4 192.168.0.31\r\n"
	"s=A conversation\r\n"
	"c=IN IP4 192.168.0.31\r\n"
	"t=0 0\r\n"
	"m=audio 10006 RTP/AVP 8 0 101\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n";

std::string with_body(std::string head, const std::string &body)
{
	return head + "Content-Length: " + std::to_string(body.size()) +
	       "\r\n\r\n" + body;
}

std::string invite() { return seed("seed_invite"); }

std::string ok200()
{
	return with_body(
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-srv-1;received=203.0.113.1\r\n"
		"Record-Route: <sip:203.0.113.1;lr>\r\n"
		"From: <sip:100@avantelecom.avantele.com>;tag=abc\r\n"
		"To: <sip:011@avantelecom.avantele.com>;tag=908623127\r\n"
		"Call-ID: 77aa-bb@203.0.113.1\r\n"
		"CSeq: 20 INVITE\r\n"
		"Contact: <sip:011@192.168.0.31:5010>\r\n"
		"User-Agent: Fanvil X3 1.3.384.1694\r\n"
		"Allow: INVITE, ACK, OPTIONS, BYE, CANCEL, REFER, NOTIFY, INFO, PRACK, UPDATE, MESSAGE\r\n"
		"Content-Type: application/sdp\r\n",
		kSdp);
}

std::string big_invite()
{
	std::string h =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.168.0.31:5010;branch=z9hG4bKbig;rport\r\n"
		"From: <sip:011@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: big@192.168.0.31\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:011@192.168.0.31:5010>;+sip.instance=\"<urn:uuid:0001>\"\r\n"
		"Content-Type: application/sdp\r\n";
	std::string b = "v=0\r\no=- 1 1 IN IP4 192.168.0.31\r\ns=-\r\n"
			"c=IN IP4 192.168.0.31\r\nt=0 0\r\n";
	const char *types[] = {"audio", "video", "audio", "image"};
	for (int i = 0; i < 4; i++) {
		int port = 10006 + 4 * i;
		b += std::string("m=") + types[i] + " " + std::to_string(port) +
		     (i == 3 ? " udptl t38\r\n" : " RTP/AVP 0 8 96 97 101\r\n");
		b += "a=rtcp:" + std::to_string(port + 1) +
		     " IN IP4 192.168.0.31\r\n";
		for (int k = 0; k < 6; k++)
			b += "a=rtpmap:" + std::to_string(96 + k) +
			     " opus/48000/2\r\n";
		b += "a=candidate:1 1 UDP 2130706431 192.168.0.31 " +
		     std::to_string(port) + " typ host\r\n";
		b += "a=sendrecv\r\n";
	}
	while (h.size() + b.size() < 4000)
		h += "X-Padding: " + std::string(60, 'p') + "\r\n";
	std::string m = with_body(h, b);
	return m;
}

std::string malformed()
{
	std::string m = invite();
	size_t p = m.find("CSeq: 1 INVITE");
	m.replace(p, 14, "CSeq: 1INVITE!");
	return m;
}

struct Ctx {
	shp_rewrite_ctx c;
	Ctx()
	{
		memset(&c, 0, sizeof(c));
		c.dir = SHP_DIR_OUT;
		shp_addr_parse("192.168.0.31", 12, &c.map.priv);
		shp_addr_parse("212.19.6.166", 12, &c.map.pub);
		c.map.priv_port = 5010;
		c.map.pub_port = 5010;
		for (int i = 0; i < SHP_MAX_MEDIA; i++)
			c.media_port[i] = (uint16_t)(10000 + 2 * i);
	}
};

enum Stage { kParse, kPlan, kApply };

void run(benchmark::State &st, const std::string &m, Stage stage)
{
	auto msg = std::make_unique<shp_sip_msg>();
	auto plan = std::make_unique<shp_plan>();
	std::string out(m.size() + SHP_MAX_EDITS * SHP_REPL_MAX, '\0');
	Ctx ctx;
	for (auto _ : st) {
		int r = shp_sip_parse(m.data(), m.size(), false, msg.get());
		benchmark::DoNotOptimize(r);
		if (stage >= kPlan && r > 0) {
			int n = shp_sip_plan(m.data(), msg.get(), &ctx.c,
					     plan.get());
			benchmark::DoNotOptimize(n);
			if (stage >= kApply && n > 0) {
				int o = shp_plan_apply(m.data(), m.size(),
						       plan.get(), &out[0],
						       out.size());
				benchmark::DoNotOptimize(o);
			}
		}
		benchmark::ClobberMemory();
	}
	st.SetBytesProcessed((int64_t)st.iterations() * (int64_t)m.size());
	st.SetItemsProcessed(st.iterations());
	st.counters["msg_bytes"] = (double)m.size();
}

#define SHP_BENCH(name, gen)                                                  \
	void BM_##name##_Parse(benchmark::State &st) { run(st, gen(), kParse); } \
	void BM_##name##_ParsePlan(benchmark::State &st)                      \
	{                                                                     \
		run(st, gen(), kPlan);                                        \
	}                                                                     \
	void BM_##name##_ParsePlanApply(benchmark::State &st)                 \
	{                                                                     \
		run(st, gen(), kApply);                                       \
	}                                                                     \
	BENCHMARK(BM_##name##_Parse);                                         \
	BENCHMARK(BM_##name##_ParsePlan);                                     \
	BENCHMARK(BM_##name##_ParsePlanApply);

std::string reg() { return seed("seed_register"); }

SHP_BENCH(Register, reg)
SHP_BENCH(InviteSdp, invite)
SHP_BENCH(Ok200Sdp, ok200)
SHP_BENCH(Invite4k4Media, big_invite)
SHP_BENCH(Malformed, malformed)

}	// namespace
