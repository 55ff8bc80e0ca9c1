// SPDX-License-Identifier: GPL-2.0
// siphelperctl calls: a call of the module's call table, as get-calls and
// the call events carry it (the call attribute set of the spec), and its
// text and JSON. Pure C++ over the raw attribute bytes, unit tested.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace shp {

struct Stream {
	uint8_t dir = 0;          // enum siphelper_event_dir: whose SDP
	std::string addr;         // printable; public under NAT
	uint16_t rtp = 0, rtcp = 0;
	std::string priv_addr;    // where it is forwarded
	uint16_t priv_rtp = 0, priv_rtcp = 0;
	// RTP+RTCP packets in (towards the SDP's sender) and out, once
	// media came
	std::optional<uint32_t> packets_in, packets_out;
	bool operator==(const Stream &) const = default;
};

struct Call {
	std::string id;           // cut at SIPHELPER_CALL_TEXT_MAX
	uint32_t id_len = 0;      // uncut
	std::string from, to;     // URIs as the caller wrote them
	uint32_t state = 0;       // enum siphelper_call_state
	uint32_t age = 0;         // seconds
	uint32_t ct_id = 0;
	uint8_t l3 = 0;           // AF_INET, AF_INET6
	bool hold = false;        // every stream held: no media timeout
	std::vector<Stream> streams;
	bool operator==(const Call &) const = default;
};

// The payload of a SIPHELPER_A_CALL (or _EVENT_CALL) nest. Throws
// std::runtime_error when malformed.
Call parse_call(std::span<const uint8_t> nest);
const char *call_state_name(uint32_t state);
// JSON: one object (no newline). Text: a line per call, one per stream.
std::string format_call_json(const Call &c);
std::string format_calls(const std::vector<Call> &calls, bool json);
// What calls flush removed.
std::string format_calls_flushed(uint32_t n, bool json);

} // namespace shp
