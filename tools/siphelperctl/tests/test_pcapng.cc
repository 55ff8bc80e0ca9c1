// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor -w: the pcapng blocks and the packets in them, read
// back by hand and, where tshark is installed, by tshark with every
// checksum verified.
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/siphelper.h>

#include "pcapng.hpp"

using namespace shp;

namespace {

const std::string kRegister =
	"REGISTER sip:avantelecom.avantele.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.0.31:5010;branch=z9hG4bK1;rport\r\n"
	"From: <sip:011@avantelecom.avantele.com>;tag=1\r\n"
	"To: <sip:011@avantelecom.avantele.com>\r\n"
	"Call-ID: c1@192.168.0.31\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:011@192.168.0.31:5010>\r\n"
	"Content-Length: 0\r\n\r\n";

std::string replace_all(std::string s, const std::string &a,
			const std::string &b)
{
	for (size_t p = 0; (p = s.find(a, p)) != std::string::npos;
	     p += b.size())
		s.replace(p, a.size(), b);
	return s;
}

Event rewrite(uint8_t l3, uint8_t l4, uint8_t dir)
{
	Event e;
	e.type = SIPHELPER_EVENT_REWRITE;
	e.l3 = l3;
	e.l4 = l4;
	e.dir = dir;
	e.ct_id = 77;
	bool v6 = l3 == AF_INET6;
	std::string priv = v6 ? "fd00::31" : "192.168.0.31";
	std::string pub = v6 ? "2001:db8::166" : "212.19.6.166";
	std::string srv = v6 ? "2001:db8::1" : "212.19.6.1";
	std::string msg = kRegister;
	if (l4 == IPPROTO_TCP)
		msg = replace_all(msg, "UDP", "TCP");
	std::string host = v6 ? "[" + priv + "]" : priv;
	std::string phost = v6 ? "[" + pub + "]" : pub;
	msg = replace_all(msg, "192.168.0.31", host);
	std::string pmsg = replace_all(msg, host, phost);
	if (dir == SIPHELPER_DIR_OUT) {
		e.src = priv, e.sport = 5010, e.dst = srv, e.dport = 5060;
		e.nat_src = pub, e.nat_sport = 1024;
		e.nat_dst = srv, e.nat_dport = 5060;
		e.before = msg, e.after = pmsg;
	} else {
		e.src = srv, e.sport = 5060, e.dst = pub, e.dport = 1024;
		e.nat_src = srv, e.nat_sport = 5060;
		e.nat_dst = priv, e.nat_dport = 5010;
		e.before = pmsg, e.after = msg;
	}
	e.before_len = static_cast<uint32_t>(e.before.size());
	e.after_len = static_cast<uint32_t>(e.after.size());
	return e;
}

uint32_t u32(const std::string &b, size_t at)
{
	uint32_t v;
	std::memcpy(&v, b.data() + at, 4);
	return v;
}

struct Block {
	uint32_t type;
	std::string body;
};

std::vector<Block> blocks(const std::string &f)
{
	std::vector<Block> out;
	size_t at = 0;
	while (at + 12 <= f.size()) {
		uint32_t type = u32(f, at), len = u32(f, at + 4);
		EXPECT_EQ(len % 4, 0u);
		EXPECT_LE(at + len, f.size());
		EXPECT_EQ(u32(f, at + len - 4), len);
		out.push_back({type, f.substr(at + 8, len - 12)});
		at += len;
	}
	EXPECT_EQ(at, f.size());
	return out;
}

// One's complement sum over b, 0xffff when the checksums in it are right.
uint16_t sum(const std::string &b)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < b.size(); i += 2)
		s += (uint8_t(b[i]) << 8) | uint8_t(b[i + 1]);
	if (b.size() % 2)
		s += uint8_t(b.back()) << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(s);
}

} // namespace

TEST(Pcapng, SectionAndInterfaces)
{
	std::ostringstream o;
	PcapngWriter w(o);
	auto b = blocks(o.str());
	ASSERT_EQ(b.size(), 3u);
	EXPECT_EQ(b[0].type, 0x0a0d0d0au);
	EXPECT_EQ(u32(b[0].body, 0), 0x1a2b3c4du);
	for (int i : {1, 2}) {
		EXPECT_EQ(b[i].type, 1u);
		EXPECT_EQ(uint8_t(b[i].body[0]), 113);  // LINKTYPE_LINUX_SLL
		// if_name: code 2, then the name
		EXPECT_EQ(b[i].body.substr(8, 2), std::string("\2\0", 2));
		EXPECT_EQ(b[i].body.substr(12, 3), i == 1 ? "lan" : "wan");
	}
}

TEST(Pcapng, OutgoingRewriteIsLanThenWan)
{
	std::ostringstream o;
	PcapngWriter w(o);
	Event e = rewrite(AF_INET, IPPROTO_UDP, SIPHELPER_DIR_OUT);
	EXPECT_EQ(w.write(e, 1'700'000'000'000'000ull), 2u);
	auto b = blocks(o.str());
	ASSERT_EQ(b.size(), 5u);
	for (int i : {3, 4}) {
		const std::string &p = b[i].body;
		bool after = i == 4;
		EXPECT_EQ(b[i].type, 6u);
		EXPECT_EQ(u32(p, 0), after ? kIfaceWan : kIfaceLan);
		uint32_t cap = u32(p, 12), orig = u32(p, 16);
		const std::string &msg = after ? e.after : e.before;
		EXPECT_EQ(cap, 16 + 28 + msg.size());
		EXPECT_EQ(orig, cap);
		// cooked header: packet type host (0) or outgoing (4)
		EXPECT_EQ(p[21], after ? 4 : 0);
		EXPECT_EQ(p.substr(34, 2), std::string("\x08\x00", 2));
		std::string pkt = p.substr(36, cap - 16);
		EXPECT_EQ(pkt[0], 0x45);
		EXPECT_EQ(sum(pkt.substr(0, 20)), 0xffff);  // IPv4 checksum
		in_addr src;
		std::memcpy(&src, pkt.data() + 12, 4);
		EXPECT_STREQ(inet_ntoa(src),
			     after ? "212.19.6.166" : "192.168.0.31");
		EXPECT_EQ((uint8_t(pkt[20]) << 8) | uint8_t(pkt[21]),
			  after ? 1024 : 5010);
		EXPECT_EQ(pkt.substr(28), msg);
		// UDP checksum over the pseudo header
		std::string ph = pkt.substr(12, 8) + std::string("\0\x11", 2) +
				 pkt.substr(24, 2) + pkt.substr(20);
		EXPECT_EQ(sum(ph), 0xffff);
	}
}

TEST(Pcapng, IncomingRewriteIsWanThenLan)
{
	std::ostringstream o;
	PcapngWriter w(o);
	w.write(rewrite(AF_INET, IPPROTO_UDP, SIPHELPER_DIR_IN), 1);
	auto b = blocks(o.str());
	ASSERT_EQ(b.size(), 5u);
	EXPECT_EQ(u32(b[3].body, 0), kIfaceWan);
	EXPECT_EQ(u32(b[4].body, 0), kIfaceLan);
}

TEST(Pcapng, CutMessageKeepsItsFullLength)
{
	std::ostringstream o;
	PcapngWriter w(o);
	Event e = rewrite(AF_INET, IPPROTO_UDP, SIPHELPER_DIR_OUT);
	e.before_len += 1000;
	e.after_len += 1000;
	w.write(e, 1);
	auto b = blocks(o.str());
	const std::string &p = b[3].body;
	EXPECT_EQ(u32(p, 16), u32(p, 12) + 1000);
	// the IP total length is the packet's, not what was kept of it
	EXPECT_EQ((uint8_t(p[38]) << 8) | uint8_t(p[39]),
		  int(28 + e.before_len));
}

TEST(Pcapng, TcpSequenceContinuesPerFlowAndSide)
{
	std::ostringstream o;
	PcapngWriter w(o);
	Event e = rewrite(AF_INET, IPPROTO_TCP, SIPHELPER_DIR_OUT);
	w.write(e, 1);
	w.write(e, 2);
	auto b = blocks(o.str());
	ASSERT_EQ(b.size(), 7u);
	auto seq = [&](int i) {
		return ntohl(u32(b[i].body, 20 + 16 + 20 + 4));
	};
	EXPECT_EQ(seq(3), 1u);
	EXPECT_EQ(seq(5), 1u + e.before_len);
	EXPECT_EQ(seq(6), 1u + e.after_len);
}

TEST(Pcapng, OtherEventsAndOldKernelsWriteNothing)
{
	std::ostringstream o;
	PcapngWriter w(o);
	Event e = rewrite(AF_INET, IPPROTO_UDP, SIPHELPER_DIR_OUT);
	e.type = SIPHELPER_EVENT_FLUSH;
	EXPECT_EQ(w.write(e, 1), 0u);
	e = rewrite(AF_INET, IPPROTO_UDP, SIPHELPER_DIR_OUT);
	e.nat_src.clear();
	EXPECT_EQ(w.write(e, 1), 0u);
	EXPECT_EQ(blocks(o.str()).size(), 3u);
}

// The independent reader: every packet is SIP to tshark, with the IP, UDP
// and TCP checksums checked, and no expert error (malformed) anywhere.
TEST(Pcapng, TsharkDecodesEveryPacketAsSip)
{
	if (access("/usr/bin/tshark", X_OK) != 0)
		GTEST_SKIP() << "tshark not installed";
	char path[] = "/tmp/shp-pcapng-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	{
		std::ofstream f(path, std::ios::binary);
		PcapngWriter w(f);
		uint64_t t = 1'700'000'000'000'000ull;
		for (uint8_t l3 : {AF_INET, AF_INET6})
			for (uint8_t l4 : {IPPROTO_UDP, IPPROTO_TCP})
				for (uint8_t dir : {SIPHELPER_DIR_OUT,
						    SIPHELPER_DIR_IN})
					w.write(rewrite(l3, l4, dir), t++);
	}
	std::string cmd = std::string("tshark -n -r ") + path +
		" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE"
		" -o tcp.check_checksum:TRUE -d tcp.port==5010,sip"
		" -T fields -E separator=,"
		" -e frame.interface_name -e frame.protocols"
		" -e _ws.expert.severity -e sip.Method";
	FILE *p = popen(cmd.c_str(), "r");
	ASSERT_NE(p, nullptr);
	std::string out;
	char buf[512];
	while (fgets(buf, sizeof(buf), p))
		out += buf;
	EXPECT_EQ(pclose(p), 0) << out;
	unlink(path);
	std::istringstream lines(out);
	std::string line;
	int n = 0;
	while (std::getline(lines, line)) {
		n++;
		SCOPED_TRACE(line);
		std::vector<std::string> f;
		std::istringstream fields(line);
		for (std::string x; std::getline(fields, x, ',');)
			f.push_back(x);
		ASSERT_EQ(f.size(), 4u);
		EXPECT_TRUE(f[0] == "lan" || f[0] == "wan");
		EXPECT_TRUE(f[1].ends_with(":sip"));
		// below PI_ERROR: no bad checksum, nothing malformed (SIP
		// itself adds a "chat" item per request)
		EXPECT_LT(std::stoul(f[2].empty() ? "0" : f[2]), 0x00800000ul);
		EXPECT_EQ(f[3], "REGISTER");
	}
	EXPECT_EQ(n, 16);
}

// sngrep reads captures through libpcap, which is stricter about pcapng
// than tshark (one link type for all interfaces): it sees every packet.
TEST(Pcapng, SngrepReadsEveryPacket)
{
	if (access("/usr/bin/sngrep", X_OK) != 0 ||
	    access("/usr/bin/tshark", X_OK) != 0)
		GTEST_SKIP() << "sngrep or tshark not installed";
	char in[] = "/tmp/shp-pcapng-XXXXXX", out[] = "/tmp/shp-sngrep-XXXXXX";
	int fd = mkstemp(in), fd2 = mkstemp(out);
	ASSERT_GE(fd, 0);
	ASSERT_GE(fd2, 0);
	close(fd);
	close(fd2);
	{
		std::ofstream f(in, std::ios::binary);
		PcapngWriter w(f);
		for (uint8_t l3 : {AF_INET, AF_INET6})
			w.write(rewrite(l3, IPPROTO_UDP, SIPHELPER_DIR_OUT), 1);
	}
	// -N -q: no interface, no output; -O: the SIP packets it parsed
	std::string cmd = std::string("sngrep -N -q -I ") + in + " -O " + out +
			  " </dev/null && tshark -n -r " + out + " | wc -l";
	FILE *p = popen(cmd.c_str(), "r");
	ASSERT_NE(p, nullptr);
	char buf[64] = "";
	ASSERT_NE(fgets(buf, sizeof(buf), p), nullptr);
	EXPECT_EQ(pclose(p), 0);
	unlink(in);
	unlink(out);
	EXPECT_EQ(std::stoi(buf), 4);
}
