// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor -w: the pcapng writer (see pcapng.hpp). Block
// layouts from the pcapng specification (draft-ietf-opsawg-pcapng): all
// numbers in the writer's byte order, which the section header's magic
// tells the reader; every block and option padded to 32 bits.
#include "pcapng.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>

#include <linux/siphelper.h>

namespace shp {
namespace {

constexpr uint32_t kBlockSection = 0x0a0d0d0a;
constexpr uint32_t kBlockInterface = 1;
constexpr uint32_t kBlockPacket = 6;
// Linux cooked capture, as `tcpdump -i any` writes: no invented MAC
// addresses, and the same link type for IPv4 and IPv6. (Raw IP, 101,
// would do as well, but libpcap, and so sngrep, refuses a second
// interface of that type: it compares it with the first one's DLT, 12.)
constexpr uint16_t kLinktypeLinuxSll = 113;
constexpr uint16_t kSllHost = 0, kSllOutgoing = 4;  // packet type
constexpr uint16_t kArphrdNone = 0xfffe;
constexpr uint16_t kOptEnd = 0, kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4, kIfName = 2, kIfDescription = 3;

void put16(std::string &b, uint16_t v)
{
	b.append(reinterpret_cast<const char *>(&v), 2);
}

void put32(std::string &b, uint32_t v)
{
	b.append(reinterpret_cast<const char *>(&v), 4);
}

void pad32(std::string &b)
{
	b.append((4 - b.size() % 4) % 4, '\0');
}

void option(std::string &b, uint16_t code, const std::string &v)
{
	put16(b, code);
	put16(b, static_cast<uint16_t>(v.size()));
	b += v;
	pad32(b);
}

// type, total length, body, total length again
std::string block(uint32_t type, std::string body)
{
	pad32(body);
	std::string b;
	uint32_t len = static_cast<uint32_t>(body.size() + 12);
	put32(b, type);
	put32(b, len);
	b += body;
	put32(b, len);
	return b;
}

std::string end_of_options()
{
	std::string b;
	put16(b, kOptEnd);
	put16(b, 0);
	return b;
}

std::string interface(const std::string &name, const std::string &desc)
{
	std::string b;
	put16(b, kLinktypeLinuxSll);
	put16(b, 0);   // reserved
	put32(b, 0);   // snaplen: none
	option(b, kIfName, name);
	option(b, kIfDescription, desc);
	return block(kBlockInterface, b + end_of_options());
}

// Bytes in network order.
void be16(std::string &b, uint16_t v)
{
	put16(b, htons(v));
}

void be32(std::string &b, uint32_t v)
{
	put32(b, htonl(v));
}

// RFC 1071: the one's complement sum, folded, before the final inversion.
uint32_t sum16(const std::string &b, uint32_t sum = 0)
{
	for (size_t i = 0; i + 1 < b.size(); i += 2)
		sum += (static_cast<uint8_t>(b[i]) << 8) |
		       static_cast<uint8_t>(b[i + 1]);
	if (b.size() % 2)
		sum += static_cast<uint8_t>(b.back()) << 8;
	return sum;
}

uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum & 0xffff);
}

void set16(std::string &b, size_t at, uint16_t v)
{
	b[at] = static_cast<char>(v >> 8);
	b[at + 1] = static_cast<char>(v & 0xff);
}

std::string address(int family, const std::string &text)
{
	unsigned char a[16];
	if (inet_pton(family, text.c_str(), a) != 1)
		throw std::invalid_argument("not an " +
					    std::string(family == AF_INET ?
						"IPv4" : "IPv6") +
					    " address: " + text);
	return std::string(reinterpret_cast<char *>(a),
			   family == AF_INET ? 4 : 16);
}

} // namespace

std::string ip_packet(uint8_t l3, uint8_t l4, const std::string &src,
		      uint16_t sport, const std::string &dst, uint16_t dport,
		      const std::string &payload, uint32_t full_len,
		      uint32_t tcp_seq)
{
	bool v6 = l3 == AF_INET6, tcp = l4 == IPPROTO_TCP;
	std::string s = address(v6 ? AF_INET6 : AF_INET, src);
	std::string d = address(v6 ? AF_INET6 : AF_INET, dst);
	uint32_t l4len = (tcp ? 20 : 8) + full_len;

	std::string l4h;
	be16(l4h, sport);
	be16(l4h, dport);
	if (tcp) {
		be32(l4h, tcp_seq);
		be32(l4h, 0);           // ack
		be16(l4h, 0x5018);      // 5 words, PSH ACK
		be16(l4h, 65535);       // window
		be16(l4h, 0);           // checksum
		be16(l4h, 0);           // urgent
	} else {
		be16(l4h, static_cast<uint16_t>(l4len));
		be16(l4h, 0);
	}
	if (payload.size() == full_len) {
		// pseudo header: addresses, protocol, length
		std::string ph = s + d;
		be16(ph, 0);
		be16(ph, l4);
		be16(ph, static_cast<uint16_t>(l4len));
		if (v6)
			be16(ph, static_cast<uint16_t>(l4len >> 16));
		uint16_t c = fold(sum16(payload, sum16(l4h, sum16(ph))));
		if (!tcp && c == 0)
			c = 0xffff;     // 0 would mean "none" for UDP
		set16(l4h, tcp ? 16 : 6, c);
	}  // else: a cut message has no checksum to give (UDP over IPv4: 0)

	std::string ip;
	if (v6) {
		be32(ip, 6u << 28);
		be16(ip, static_cast<uint16_t>(l4len));
		ip += static_cast<char>(l4);
		ip += static_cast<char>(64);    // hop limit
		ip += s + d;
	} else {
		be16(ip, 0x4500);
		be16(ip, static_cast<uint16_t>(20 + l4len));
		be16(ip, 0);            // id
		be16(ip, 0x4000);       // DF
		ip += static_cast<char>(64);
		ip += static_cast<char>(l4);
		be16(ip, 0);            // checksum
		ip += s + d;
		set16(ip, 10, fold(sum16(ip)));
	}
	return ip + l4h + payload;
}

PcapngWriter::PcapngWriter(std::ostream &out) : out_(out)
{
	std::string shb;
	put32(shb, 0x1a2b3c4d);         // byte-order magic
	put16(shb, 1);
	put16(shb, 0);
	put32(shb, 0xffffffff);         // section length: not given
	put32(shb, 0xffffffff);
	option(shb, kShbUserAppl, "siphelperctl monitor");
	out_ << block(kBlockSection, shb + end_of_options())
	     << interface("lan", "private side: messages before (out) or "
				 "after (in) siphelper")
	     << interface("wan", "public side: messages after (out) or "
				 "before (in) siphelper");
	out_.flush();
}

void PcapngWriter::packet(uint32_t iface, const Event &e, bool after,
			  uint64_t time_us)
{
	const std::string &msg = after ? e.after : e.before;
	uint32_t full = after ? e.after_len : e.before_len;
	const std::string &src = after ? e.nat_src : e.src;
	const std::string &dst = after ? e.nat_dst : e.dst;
	uint16_t sport = after ? e.nat_sport : e.sport;
	uint16_t dport = after ? e.nat_dport : e.dport;
	uint32_t seq = 0;
	if (e.l4 == IPPROTO_TCP) {
		// Consecutive messages of a flow continue its byte stream.
		auto &next = tcp_seq_.try_emplace(
			FlowKey{iface, src, sport, dst, dport}, 1).first->second;
		seq = next;
		next += full;
	}
	// the cooked header: came in (before) or went out (after)
	std::string pkt;
	be16(pkt, after ? kSllOutgoing : kSllHost);
	be16(pkt, kArphrdNone);
	be16(pkt, 0);                   // no link-layer address
	pkt.append(8, '\0');
	be16(pkt, e.l3 == AF_INET6 ? 0x86dd : 0x0800);
	pkt += ip_packet(e.l3, e.l4, src, sport, dst, dport, msg, full, seq);
	uint32_t orig = static_cast<uint32_t>(pkt.size() - msg.size() + full);

	std::string b;
	put32(b, iface);
	put32(b, static_cast<uint32_t>(time_us >> 32));
	put32(b, static_cast<uint32_t>(time_us));
	put32(b, static_cast<uint32_t>(pkt.size()));
	put32(b, orig);
	b += pkt;
	pad32(b);
	std::string note = std::string(after ? "after" : "before") +
			   " siphelper";
	if (e.ct_id)
		note += ", conntrack id " + std::to_string(*e.ct_id);
	if (msg.size() < full)
		note += ", message cut at " + std::to_string(msg.size()) +
			" of " + std::to_string(full) + " bytes";
	option(b, kOptComment, note);
	out_ << block(kBlockPacket, b + end_of_options());
}

unsigned PcapngWriter::write(const Event &e, uint64_t time_us)
{
	if (e.type != SIPHELPER_EVENT_REWRITE || e.nat_src.empty() ||
	    e.nat_dst.empty())
		return 0;       // an older kernel gives no after-NAT flow
	bool out = !e.dir || *e.dir == SIPHELPER_DIR_OUT;
	packet(out ? kIfaceLan : kIfaceWan, e, false, time_us);
	packet(out ? kIfaceWan : kIfaceLan, e, true, time_us);
	out_.flush();
	return 2;
}

} // namespace shp
