// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: decoding and printing of the notifications of the
// "events" multicast group (uapi/linux/siphelper.h). Pure C++ over the raw
// attribute bytes (no libmnl), so it is unit tested with built messages;
// the socket loop is in monitor_run.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "calls.hpp"
#include "ctl.hpp"

namespace shp {

// One replacement: old (cut at SIPHELPER_EVENT_TEXT_MAX) at offset -> new.
struct Edit {
	std::string field;  // "Via", "Contact", "c=" ... ("" if unknown)
	uint32_t offset = 0;
	std::string old_text;
	uint32_t old_len = 0;  // full length of the old text
	std::string new_text;
	bool operator==(const Edit &) const = default;
};

struct Event {
	uint32_t type = 0;  // enum siphelper_event_type
	// flow: the packet's own direction before NAT
	uint8_t l3 = 0;     // AF_INET, AF_INET6
	uint8_t l4 = 0;     // IPPROTO_UDP, IPPROTO_TCP
	std::string src, dst;  // printable addresses
	uint16_t sport = 0, dport = 0;
	// the same packet as it leaves the router, after NAT
	std::string nat_src, nat_dst;
	uint16_t nat_sport = 0, nat_dport = 0;
	std::optional<uint8_t> dir;     // enum siphelper_event_dir
	std::optional<uint32_t> ct_id;
	std::string method;  // request method, or "200 REGISTER"
	std::string call_id;
	std::vector<Edit> edits;
	std::string before, after;  // cut at SIPHELPER_EVENT_MSG_MAX
	uint32_t before_len = 0, after_len = 0;  // full lengths
	uint32_t suppressed = 0;  // rate limited since the previous event
	std::optional<Config> config;  // CONFIG_CHANGED
	// MALFORMED: why, where in the message (before), and what became of it
	std::string reason;
	uint32_t reason_offset = 0;
	bool dropped = false;
	// FLUSH: what went
	std::optional<uint32_t> flushed_conntracks, flushed_expects;
	// CALL_START, CALL_ANSWER, CALL_END (its reason in reason)
	std::optional<Call> call;
};

// Decode the attributes following the genetlink header of a
// SIPHELPER_CMD_EVENT message. Throws std::runtime_error when malformed.
Event parse_event(std::span<const uint8_t> attrs);

const char *event_name(uint32_t type);
// Text: a flow line, the edits, then the message with changed lines
// marked "- " (before) and "+ " (after). JSON: one object on one line.
std::string format_event(const Event &e, bool json);
// Before/after, line by line: "  " same, "- " before, "+ " after.
std::string unified_lines(const std::string &before, const std::string &after);

} // namespace shp
