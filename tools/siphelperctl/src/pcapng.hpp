// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor -w FILE: every rewrite as a before/after pair of
// packets in a pcapng capture that Wireshark, tshark and sngrep read.
//
// The kernel hands over the SIP message before and after the rewrite and
// the flow's addresses on each side (SIPHELPER_A_EVENT_*_ADDR, *_PORT and
// NAT_*). Each message is wrapped in the IP and UDP or TCP header it had
// (before) or has (after) on the wire, and written as an Enhanced Packet
// Block on interface "lan" or "wan": a message from the private side
// (dir out) comes in on lan and leaves on wan, one from outside the other
// way round.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <tuple>

#include "monitor.hpp"

namespace shp {

enum PcapngIface : uint32_t { kIfaceLan = 0, kIfaceWan = 1 };

class PcapngWriter {
public:
	// Writes the section header and the two interface blocks.
	explicit PcapngWriter(std::ostream &out);
	// A REWRITE event: its two packets. Other events write nothing.
	// time_us: microseconds since the epoch. Returns packets written.
	unsigned write(const Event &e, uint64_t time_us);

private:
	// TCP: the next sequence number per (interface, flow) seen.
	using FlowKey = std::tuple<uint32_t, std::string, uint16_t,
				   std::string, uint16_t>;
	std::ostream &out_;
	std::map<FlowKey, uint32_t> tcp_seq_;
	void packet(uint32_t iface, const Event &e, bool after,
		    uint64_t time_us);
};

// One IPv4 or IPv6 packet with a UDP or TCP header around the first
// payload.size() bytes of a message of full_len bytes (its lengths and,
// when the message is whole, its checksums are those of the full packet).
// Throws std::invalid_argument on an address that does not parse.
std::string ip_packet(uint8_t l3, uint8_t l4, const std::string &src,
		      uint16_t sport, const std::string &dst, uint16_t dport,
		      const std::string &payload, uint32_t full_len,
		      uint32_t tcp_seq);

} // namespace shp
