// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: decoding of built event messages, the text and
// JSON output, and the command line.
#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/siphelper.h>

#include "monitor.hpp"

using namespace shp;

namespace {

// Netlink attributes as the kernel builds them.
struct Nla {
	std::vector<uint8_t> b;
	Nla &put(uint16_t type, const void *p, size_t n)
	{
		uint16_t len = static_cast<uint16_t>(4 + n);
		size_t at = b.size();
		b.resize(at + ((len + 3u) & ~3u), 0);
		std::memcpy(&b[at], &len, 2);
		std::memcpy(&b[at + 2], &type, 2);
		if (n)
			std::memcpy(b.data() + at + 4, p, n);
		return *this;
	}
	Nla &str(uint16_t t, const std::string &s)
	{
		return put(t, s.c_str(), s.size() + 1);
	}
	Nla &raw(uint16_t t, const std::string &s)
	{
		return put(t, s.data(), s.size());
	}
	template <class T> Nla &num(uint16_t t, T v)
	{
		return put(t, &v, sizeof(v));
	}
	Nla &nest(uint16_t t, const Nla &in)
	{
		return put(t | 0x8000, in.b.data(), in.b.size());
	}
};

const std::string kBefore =
	"REGISTER sip:avantelecom.avantele.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.0.31:5010;branch=z9hG4bK1;rport\r\n"
	"Contact: <sip:011@192.168.0.31:5010>\r\n"
	"Content-Length: 0\r\n\r\n";

std::string after_of(std::string s)
{
	for (size_t p; (p = s.find("192.168.0.31:5010")) != std::string::npos;)
		s.replace(p, 17, "212.19.6.166:5010");
	return s;
}

Nla edit(const std::string &field, uint32_t off, const std::string &o,
	 const std::string &n)
{
	Nla e;
	e.str(SIPHELPER_A_EDIT_FIELD, field)
		.num<uint32_t>(SIPHELPER_A_EDIT_OFFSET, off)
		.raw(SIPHELPER_A_EDIT_OLD, o)
		.num<uint32_t>(SIPHELPER_A_EDIT_OLD_LEN, o.size())
		.raw(SIPHELPER_A_EDIT_NEW, n);
	return e;
}

std::vector<uint8_t> rewrite_event(std::string before, uint32_t full_len)
{
	std::string after = after_of(before);
	in_addr src, dst, pub;
	inet_pton(AF_INET, "192.168.0.31", &src);
	inet_pton(AF_INET, "212.19.6.1", &dst);
	inet_pton(AF_INET, "212.19.6.166", &pub);
	Nla edits;
	edits.nest(SIPHELPER_A_EVENT_EDITS_EDIT,
		   edit("Via", 65, "192.168.0.31:5010", "212.19.6.166:5010"))
		.nest(SIPHELPER_A_EVENT_EDITS_EDIT,
		      edit("Contact", 128, "192.168.0.31:5010",
			   "212.19.6.166:5010"));
	Nla ev;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE, SIPHELPER_EVENT_REWRITE)
		.num<uint8_t>(SIPHELPER_A_EVENT_L3PROTO, AF_INET)
		.num<uint8_t>(SIPHELPER_A_EVENT_L4PROTO, IPPROTO_UDP)
		.put(SIPHELPER_A_EVENT_SRC_ADDR, &src, 4)
		.put(SIPHELPER_A_EVENT_DST_ADDR, &dst, 4)
		.num<uint16_t>(SIPHELPER_A_EVENT_SRC_PORT, 5010)
		.num<uint16_t>(SIPHELPER_A_EVENT_DST_PORT, 5060)
		.put(SIPHELPER_A_EVENT_NAT_SRC_ADDR, &pub, 4)
		.put(SIPHELPER_A_EVENT_NAT_DST_ADDR, &dst, 4)
		.num<uint16_t>(SIPHELPER_A_EVENT_NAT_SRC_PORT, 1024)
		.num<uint16_t>(SIPHELPER_A_EVENT_NAT_DST_PORT, 5060)
		.num<uint8_t>(SIPHELPER_A_EVENT_DIR, SIPHELPER_DIR_OUT)
		.num<uint32_t>(SIPHELPER_A_EVENT_CT_ID, 77)
		.str(SIPHELPER_A_EVENT_METHOD, "REGISTER")
		.str(SIPHELPER_A_EVENT_CALL_ID, "c1@192.168.0.31")
		.nest(SIPHELPER_A_EVENT_EDITS, edits)
		.raw(SIPHELPER_A_EVENT_BEFORE, before)
		.num<uint32_t>(SIPHELPER_A_EVENT_BEFORE_LEN, full_len)
		.raw(SIPHELPER_A_EVENT_AFTER, after)
		.num<uint32_t>(SIPHELPER_A_EVENT_AFTER_LEN, full_len)
		.num<uint32_t>(250, 1);  // a newer kernel's attribute
	Nla top;
	top.nest(SIPHELPER_A_EVENT, ev);
	return top.b;
}

} // namespace

TEST(Monitor, ParsesRewrite)
{
	auto b = rewrite_event(kBefore, kBefore.size());
	Event e = parse_event(b);
	EXPECT_EQ(e.type, unsigned(SIPHELPER_EVENT_REWRITE));
	EXPECT_EQ(e.src, "192.168.0.31");
	EXPECT_EQ(e.dst, "212.19.6.1");
	EXPECT_EQ(e.sport, 5010);
	EXPECT_EQ(e.dport, 5060);
	EXPECT_EQ(e.nat_src, "212.19.6.166");
	EXPECT_EQ(e.nat_dst, "212.19.6.1");
	EXPECT_EQ(e.nat_sport, 1024);
	EXPECT_EQ(e.nat_dport, 5060);
	EXPECT_EQ(e.dir, std::optional<uint8_t>(SIPHELPER_DIR_OUT));
	EXPECT_EQ(e.ct_id, std::optional<uint32_t>(77));
	EXPECT_EQ(e.method, "REGISTER");
	EXPECT_EQ(e.call_id, "c1@192.168.0.31");
	ASSERT_EQ(e.edits.size(), 2u);
	EXPECT_EQ(e.edits[1], (Edit{"Contact", 128, "192.168.0.31:5010", 17,
				    "212.19.6.166:5010"}));
	EXPECT_EQ(e.before, kBefore);
	EXPECT_EQ(e.after, after_of(kBefore));
}

TEST(Monitor, RejectsMalformed)
{
	auto b = rewrite_event(kBefore, kBefore.size());
	b[0] = 0xff;  // length beyond the buffer
	EXPECT_THROW(parse_event(b), std::runtime_error);
	EXPECT_THROW(parse_event(std::vector<uint8_t>{}), std::runtime_error);
	Nla short_type;  // u32 attribute with 1 byte
	short_type.num<uint8_t>(SIPHELPER_A_EVENT_TYPE, 4);
	Nla top;
	top.nest(SIPHELPER_A_EVENT, short_type);
	EXPECT_THROW(parse_event(top.b), std::runtime_error);
}

TEST(Monitor, TextMarksChangedLines)
{
	Event e = parse_event(rewrite_event(kBefore, kBefore.size()));
	std::string t = format_event(e, false);
	EXPECT_EQ(t.substr(0, t.find('\n')),
		  "rewrite out udp 192.168.0.31:5010 -> 212.19.6.1:5060 "
		  "REGISTER ct 77");
	EXPECT_NE(t.find("  Via: 192.168.0.31:5010 => 212.19.6.166:5010\n"),
		  std::string::npos);
	EXPECT_NE(t.find("\n  REGISTER sip:avantelecom.avantele.com "
			 "SIP/2.0\n"
			 "- Via: SIP/2.0/UDP 192.168.0.31:5010;branch=z9hG4bK1;"
			 "rport\n"
			 "+ Via: SIP/2.0/UDP 212.19.6.166:5010;branch=z9hG4bK1;"
			 "rport\n"
			 "- Contact: <sip:011@192.168.0.31:5010>\n"
			 "+ Contact: <sip:011@212.19.6.166:5010>\n"
			 "  Content-Length: 0\n"),
		  std::string::npos) << t;
	EXPECT_EQ(t.find('\r'), std::string::npos);
}

TEST(Monitor, TextEscapesControlCharacters)
{
	EXPECT_EQ(unified_lines("a\x1b[2Jb\r\n", "a\x1b[2Jb\r\n"),
		  "  a\\x1b[2Jb\n");
	// a different number of lines: both shown whole
	EXPECT_EQ(unified_lines("x\ny", "x"), "- x\n- y\n+ x\n");
}

TEST(Monitor, TruncationIsShown)
{
	Event e = parse_event(rewrite_event(kBefore, 5000));
	EXPECT_NE(format_event(e, false).find("before (5000 bytes, first " +
					      std::to_string(kBefore.size()) +
					      " shown)"),
		  std::string::npos);
	EXPECT_NE(format_event(e, true).find("\"truncated\":true"),
		  std::string::npos);
}

TEST(Monitor, JsonLine)
{
	Event e = parse_event(rewrite_event(kBefore, kBefore.size()));
	std::string j = format_event(e, true);
	EXPECT_EQ(j.find('\n'), j.size() - 1);  // one line
	EXPECT_EQ(j.rfind("{\"event\":\"rewrite\",\"flow\":{\"family\":\"ipv4\","
			  "\"proto\":\"udp\",\"src\":\"192.168.0.31\","
			  "\"sport\":5010,\"dst\":\"212.19.6.1\",\"dport\":5060,"
			  "\"dir\":\"out\",\"ct_id\":77},\"method\":\"REGISTER\","
			  "\"call_id\":\"c1@192.168.0.31\",\"edits\":[{\"field\":"
			  "\"Via\",\"offset\":65,\"old\":\"192.168.0.31:5010\","
			  "\"new\":\"212.19.6.166:5010\"},{\"field\":\"Contact\"",
			  0),
		  0u) << j;
	EXPECT_NE(j.find("\"before\":\"REGISTER sip:avantelecom.avantele.com "
			 "SIP/2.0\\u000d\\u000aVia:"),
		  std::string::npos);
	EXPECT_NE(j.find(",\"truncated\":false}"), std::string::npos);
	Event b;
	b.type = SIPHELPER_EVENT_REWRITE;
	b.before = "\xe9\"\\";
	EXPECT_NE(format_event(b, true).find("\"before\":\"\\u00e9\\\"\\\\\""),
		  std::string::npos);
}

TEST(Monitor, ConfigChanged)
{
	Nla ev, entry, ports, top;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE,
			 SIPHELPER_EVENT_CONFIG_CHANGED);
	entry.num<uint16_t>(SIPHELPER_A_PORT_LO, 5060)
		.num<uint16_t>(SIPHELPER_A_PORT_HI, 5060)
		.num<uint8_t>(SIPHELPER_A_PORT_PROTOS, 3);
	ports.nest(SIPHELPER_A_PORTS_ENTRY, entry);
	top.nest(SIPHELPER_A_EVENT, ev)
		.nest(SIPHELPER_A_PORTS, ports)
		.num<uint32_t>(SIPHELPER_A_SIP_TIMEOUT, 60)
		.num<uint8_t>(SIPHELPER_A_DIRECT_MEDIA, 1)
		.num<uint8_t>(SIPHELPER_A_AUTO_ASSIGN, 0)
		.num<uint8_t>(SIPHELPER_A_MALFORMED_POLICY, 1)
		.num<uint8_t>(SIPHELPER_A_PINHOLES_ONLY, 1)
		.num<uint32_t>(SIPHELPER_A_TCP_HOLD_MAX, 0)
		.num<uint32_t>(SIPHELPER_A_TCP_HOLD_TOTAL, 1 << 20)
		.num<uint32_t>(SIPHELPER_A_SIP_UNREPLIED_TIMEOUT, 0);
	Event e = parse_event(top.b);
	EXPECT_EQ(format_event(e, false),
		  "config-changed: ports 5060 sip-timeout 1m sip-direct-media "
		  "yes auto-assign no malformed drop pinholes-only yes "
		  "tcp-hold-max 0 tcp-hold-total 1m sip-unreplied-timeout "
		  "0s sip-max-calls 4096 sip-media-timeout 2m "
		  "sip-max-call-duration 0s sip-call-limit 0 "
		  "sip-source-call-limit 0 sip-source-rate 0 "
		  "sip-unknown-methods accept\n");
	EXPECT_EQ(format_event(e, true).rfind(
			  "{\"event\":\"config-changed\",\"config\":{\"ports\":",
			  0),
		  0u);
}

TEST(Monitor, Malformed)
{
	in_addr src, dst;
	inet_pton(AF_INET, "192.168.0.31", &src);
	inet_pton(AF_INET, "212.19.6.1", &dst);
	const std::string msg = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP "
				"h:70000\r\nContent-Length: 0\r\n\r\n";
	Nla ev, top;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE, SIPHELPER_EVENT_MALFORMED)
		.num<uint8_t>(SIPHELPER_A_EVENT_L3PROTO, AF_INET)
		.num<uint8_t>(SIPHELPER_A_EVENT_L4PROTO, IPPROTO_UDP)
		.put(SIPHELPER_A_EVENT_SRC_ADDR, &src, 4)
		.put(SIPHELPER_A_EVENT_DST_ADDR, &dst, 4)
		.num<uint16_t>(SIPHELPER_A_EVENT_SRC_PORT, 5010)
		.num<uint16_t>(SIPHELPER_A_EVENT_DST_PORT, 5060)
		.num<uint8_t>(SIPHELPER_A_EVENT_DIR, SIPHELPER_DIR_OUT)
		.num<uint32_t>(SIPHELPER_A_EVENT_CT_ID, 9)
		.str(SIPHELPER_A_EVENT_REASON, "bad Via")
		.num<uint32_t>(SIPHELPER_A_EVENT_REASON_OFFSET, 30)
		.put(SIPHELPER_A_EVENT_DROPPED, nullptr, 0)
		.raw(SIPHELPER_A_EVENT_BEFORE, msg)
		.num<uint32_t>(SIPHELPER_A_EVENT_BEFORE_LEN, msg.size());
	top.nest(SIPHELPER_A_EVENT, ev);
	Event e = parse_event(top.b);
	EXPECT_EQ(format_event(e, false),
		  "malformed out udp 192.168.0.31:5010 -> 212.19.6.1:5060 ct 9: "
		  "bad Via at 30, dropped\n"
		  "  --- message (" + std::to_string(msg.size()) + " bytes)\n"
		  "  OPTIONS sip:a@b SIP/2.0\n"
		  "  Via: SIP/2.0/UDP h:70000\n"
		  "  Content-Length: 0\n"
		  "  \n\n");
	std::string j = format_event(e, true);
	EXPECT_NE(j.find("\"event\":\"malformed\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"reason\":\"bad Via\",\"offset\":30,"
			 "\"action\":\"dropped\""), std::string::npos) << j;
}

TEST(Monitor, Stale)
{
	in_addr src, dst;
	inet_pton(AF_INET, "192.168.0.31", &src);
	inet_pton(AF_INET, "212.19.6.1", &dst);
	Nla ev, top;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE, SIPHELPER_EVENT_STALE)
		.num<uint8_t>(SIPHELPER_A_EVENT_L3PROTO, AF_INET)
		.num<uint8_t>(SIPHELPER_A_EVENT_L4PROTO, IPPROTO_UDP)
		.put(SIPHELPER_A_EVENT_SRC_ADDR, &src, 4)
		.put(SIPHELPER_A_EVENT_DST_ADDR, &dst, 4)
		.num<uint16_t>(SIPHELPER_A_EVENT_SRC_PORT, 5010)
		.num<uint16_t>(SIPHELPER_A_EVENT_DST_PORT, 5060)
		.num<uint8_t>(SIPHELPER_A_EVENT_DIR, SIPHELPER_DIR_OUT)
		.num<uint32_t>(SIPHELPER_A_EVENT_CT_ID, 7)
		.str(SIPHELPER_A_EVENT_REASON, "nat-address")
		.put(SIPHELPER_A_EVENT_DROPPED, nullptr, 0);
	top.nest(SIPHELPER_A_EVENT, ev);
	Event e = parse_event(top.b);
	EXPECT_EQ(format_event(e, false),
		  "stale out udp 192.168.0.31:5010 -> 212.19.6.1:5060 ct 7: "
		  "nat-address, removed with its expectations\n");
	std::string j = format_event(e, true);
	EXPECT_NE(j.find("\"event\":\"stale\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"ct_id\":7}"), std::string::npos) << j;
	EXPECT_NE(j.find("\"reason\":\"nat-address\",\"action\":\"removed\""),
		  std::string::npos) << j;
}

TEST(Monitor, Flush)
{
	Nla ev, top;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE, SIPHELPER_EVENT_FLUSH);
	top.nest(SIPHELPER_A_EVENT, ev)
		.num<uint32_t>(SIPHELPER_A_FLUSH_CONNTRACKS, 3)
		.num<uint32_t>(SIPHELPER_A_FLUSH_EXPECTS, 5);
	Event e = parse_event(top.b);
	EXPECT_EQ(format_event(e, false), "flush: conntracks 3 expectations 5\n");
	EXPECT_EQ(format_event(e, true),
		  "{\"event\":\"flush\",\"conntracks\":3,\"expectations\":5}\n");
}

TEST(Monitor, CommandLine)
{
	using V = std::vector<std::string>;
	auto i = parse_command_line(V{"monitor", "-c", "2"});
	EXPECT_EQ(i.cmd, Cmd::kMonitor);
	EXPECT_EQ(i.count, 2u);
	EXPECT_EQ(parse_command_line(V{"-j", "monitor", "--count=3"}).count, 3u);
	EXPECT_TRUE(parse_command_line(V{"monitor", "-j"}).json);
	EXPECT_EQ(parse_command_line(V{"monitor"}).count, 0u);
	EXPECT_THROW(parse_command_line(V{"monitor", "-c", "0"}), UsageError);
	EXPECT_THROW(parse_command_line(V{"monitor", "-c"}), UsageError);
	EXPECT_THROW(parse_command_line(V{"monitor", "x"}), UsageError);
	EXPECT_THROW(parse_command_line(V{"show", "-c", "1"}), UsageError);
	EXPECT_NE(usage("monitor").find("monitor [-c N]"), std::string::npos);
	EXPECT_NE(usage("").find("monitor"), std::string::npos);
}

// A call as get-calls and the call events carry it.
Nla call_nest(uint32_t state, bool stream)
{
	Nla c, s;
	in_addr pub{}, priv{};
	inet_pton(AF_INET, "212.19.6.166", &pub);
	inet_pton(AF_INET, "192.168.0.31", &priv);
	c.raw(SIPHELPER_A_CALL_ID, "c1@192.168.0.31")
		.num<uint32_t>(SIPHELPER_A_CALL_ID_LEN, 15)
		.raw(SIPHELPER_A_CALL_FROM, "sip:011@192.168.0.31")
		.raw(SIPHELPER_A_CALL_TO, "sip:*43@example.com")
		.num<uint32_t>(SIPHELPER_A_CALL_STATE, state)
		.num<uint32_t>(SIPHELPER_A_CALL_AGE, 7)
		.num<uint32_t>(SIPHELPER_A_CALL_CT_ID, 1234)
		.num<uint8_t>(SIPHELPER_A_CALL_L3PROTO, AF_INET);
	if (stream) {
		s.num<uint8_t>(SIPHELPER_A_STREAM_DIR, SIPHELPER_DIR_OUT)
			.put(SIPHELPER_A_STREAM_ADDR, &pub, 4)
			.num<uint16_t>(SIPHELPER_A_STREAM_RTP_PORT, 10008)
			.num<uint16_t>(SIPHELPER_A_STREAM_RTCP_PORT, 10009)
			.put(SIPHELPER_A_STREAM_PRIV_ADDR, &priv, 4)
			.num<uint16_t>(SIPHELPER_A_STREAM_PRIV_RTP_PORT, 10006)
			.num<uint16_t>(SIPHELPER_A_STREAM_PRIV_RTCP_PORT, 10007);
		c.nest(SIPHELPER_A_CALL_STREAM, s);
	}
	return c;
}

TEST(Calls, ListTextAndJson)
{
	Nla c = call_nest(SIPHELPER_CALL_CONFIRMED, true);
	Call call = parse_call(c.b);
	EXPECT_EQ(call.id, "c1@192.168.0.31");
	ASSERT_EQ(call.streams.size(), 1u);
	EXPECT_EQ(call.streams[0].priv_rtp, 10006);
	EXPECT_EQ(format_calls({call}, false),
		  "c1@192.168.0.31 confirmed age 7s ct 1234\n"
		  "  from sip:011@192.168.0.31\n"
		  "  to sip:*43@example.com\n"
		  "  media out 212.19.6.166:10008/10009 -> "
		  "192.168.0.31:10006/10007\n");
	EXPECT_EQ(format_calls({call}, true),
		  "[{\"call_id\":\"c1@192.168.0.31\","
		  "\"from\":\"sip:011@192.168.0.31\","
		  "\"to\":\"sip:*43@example.com\",\"state\":\"confirmed\","
		  "\"age\":7,\"ct_id\":1234,\"hold\":false,"
		  "\"streams\":[{\"dir\":\"out\","
		  "\"addr\":\"212.19.6.166\",\"rtp\":10008,\"rtcp\":10009,"
		  "\"priv_addr\":\"192.168.0.31\",\"priv_rtp\":10006,"
		  "\"priv_rtcp\":10007}]}]\n");
	EXPECT_EQ(format_calls({}, true), "[]\n");
	EXPECT_EQ(format_calls_flushed(2, true), "{\"calls\":2}\n");
}

TEST(Calls, EndEvent)
{
	Nla ev, top;
	ev.num<uint32_t>(SIPHELPER_A_EVENT_TYPE, SIPHELPER_EVENT_CALL_END)
		.str(SIPHELPER_A_EVENT_REASON, "bye")
		.nest(SIPHELPER_A_EVENT_CALL,
		      call_nest(SIPHELPER_CALL_ENDING, false));
	top.nest(SIPHELPER_A_EVENT, ev);
	Event e = parse_event(top.b);
	ASSERT_TRUE(e.call);
	EXPECT_EQ(format_event(e, false),
		  "call-end: Call-ID c1@192.168.0.31 from sip:011@192.168.0.31 "
		  "to sip:*43@example.com: bye\n");
	EXPECT_NE(format_event(e, true).find(
			  ",\"reason\":\"bye\",\"call\":{\"call_id\":"),
		  std::string::npos);
}

TEST(Calls, CommandLine)
{
	using V = std::vector<std::string>;
	EXPECT_EQ(parse_command_line(V{"calls"}).cmd, Cmd::kCalls);
	auto i = parse_command_line(V{"calls", "flush"});
	EXPECT_EQ(i.cmd, Cmd::kCallsFlush);
	EXPECT_FALSE(i.call_id);
	EXPECT_EQ(parse_command_line(V{"calls", "flush", "x@y"}).call_id,
		  "x@y");
	EXPECT_THROW(parse_command_line(V{"calls", "flush", "a", "b"}),
		     UsageError);
	EXPECT_THROW(parse_command_line(V{"calls", "flush",
					  std::string(129, 'c')}),
		     UsageError);
	EXPECT_THROW(parse_command_line(V{"calls", "x"}), UsageError);
}
