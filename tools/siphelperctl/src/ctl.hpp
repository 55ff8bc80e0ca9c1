// SPDX-License-Identifier: GPL-2.0
// siphelperctl core: command line and value parsing, output formatting.
// Pure C++: no netlink, no kernel; everything here is unit tested.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/siphelper.h>

namespace shp {

// The ABI's limits and values, from the header generated from the spec.
inline constexpr unsigned kMaxPortEntries = SIPHELPER_MAX_PORT_ENTRIES;
inline constexpr uint32_t kMaxSipTimeout = SIPHELPER_MAX_SIP_TIMEOUT;

enum Proto : uint8_t {
	kUdp = SIPHELPER_PROTO_UDP,
	kTcp = SIPHELPER_PROTO_TCP,
	kBoth = SIPHELPER_PROTO_BOTH,
};
enum class Malformed : uint8_t {
	kAccept = SIPHELPER_MALFORMED_ACCEPT,
	kDrop = SIPHELPER_MALFORMED_DROP,
};

// Exit status 2: the command line is wrong; nothing was sent.
struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct PortRange {
	uint16_t lo = 0;
	uint16_t hi = 0;
	uint8_t protos = kBoth;
	bool operator==(const PortRange &) const = default;
};

struct Config {
	std::vector<PortRange> ports;
	uint32_t sip_timeout = 3600;
	bool direct_media = true;
	bool auto_assign = true;
	Malformed malformed = Malformed::kAccept;
	bool pinholes_only = false;
	uint32_t tcp_hold_max = SIPHELPER_DEFAULT_TCP_HOLD;
	uint32_t tcp_hold_total = SIPHELPER_DEFAULT_TCP_HOLD_TOTAL;
	uint32_t unreplied_timeout = SIPHELPER_DEFAULT_SIP_UNREPLIED_TIMEOUT;
	uint32_t max_calls = SIPHELPER_DEFAULT_SIP_MAX_CALLS;
	uint32_t media_timeout = SIPHELPER_DEFAULT_SIP_MEDIA_TIMEOUT;
	uint32_t max_call_duration = 0;
	uint32_t call_limit = 0;
	uint32_t source_call_limit = 0;
	uint32_t source_rate = 0;
	Malformed unknown_methods = Malformed::kAccept;
};

// The subset of a Config that `set` changes.
struct ConfigPatch {
	std::optional<std::vector<PortRange>> ports;
	std::optional<uint32_t> sip_timeout;
	std::optional<bool> direct_media;
	std::optional<bool> auto_assign;
	std::optional<Malformed> malformed;
	std::optional<bool> pinholes_only;
	std::optional<uint32_t> tcp_hold_max;
	std::optional<uint32_t> tcp_hold_total;
	std::optional<uint32_t> unreplied_timeout;
	std::optional<uint32_t> max_calls;
	std::optional<uint32_t> media_timeout;
	std::optional<uint32_t> max_call_duration;
	std::optional<uint32_t> call_limit;
	std::optional<uint32_t> source_call_limit;
	std::optional<uint32_t> source_rate;
	std::optional<Malformed> unknown_methods;
	bool empty() const
	{
		return !ports && !sip_timeout && !direct_media && !auto_assign &&
		       !malformed && !pinholes_only && !tcp_hold_max &&
		       !tcp_hold_total && !unreplied_timeout && !max_calls &&
		       !media_timeout && !max_call_duration && !call_limit &&
		       !source_call_limit && !source_rate && !unknown_methods;
	}
};

using Stats = std::vector<std::pair<std::string, uint64_t>>;

struct FlushResult {
	uint32_t conntracks = 0;
	uint32_t expects = 0;
};

// A decimal number without sign, spaces or leading '+' (at most 12
// characters); nullopt otherwise.
std::optional<uint64_t> to_uint(std::string_view s);
// A value from the command line as messages quote it: 'value'.
std::string q(std::string_view s);

// Value parsers: throw UsageError naming the value and what is allowed.
std::vector<PortRange> parse_ports(std::string_view s);
// "3600", "1h", "10m", "1h30m" for KEY, in min..24h
uint32_t parse_duration(std::string_view s,
			std::string_view key = "sip-timeout", uint32_t min = 1);
bool parse_yes_no(std::string_view key, std::string_view s);
// bytes: "32768", "32k", "4m" (powers of 1024), at most max
uint32_t parse_size(std::string_view key, std::string_view s, uint32_t max);
std::string format_size(uint32_t bytes);	// "32k", "4m", "1000"
// a count: decimal, min..max
uint32_t parse_count(std::string_view key, std::string_view s, uint32_t min,
		     uint32_t max);
// accept|drop, for KEY
Malformed parse_malformed(std::string_view s,
			  std::string_view key = "malformed");
ConfigPatch parse_set_args(const std::vector<std::string> &args);

enum class Cmd { kNone, kShow, kSet, kStats, kStatsReset, kFlush, kMonitor,
		 kHelp, kVersion, kApply, kNftInstall, kNftRemove, kNftShow,
		 kCompletion, kCalls, kCallsFlush };

struct Invocation {
	Cmd cmd = Cmd::kNone;
	bool json = false;
	std::string netns;
	std::string help_topic;  // for kHelp: "" or a command name
	ConfigPatch patch;       // for kSet
	std::string file;        // for kApply: -f FILE (default in conf.hpp)
	unsigned count = 0;      // for kMonitor: stop after N events, 0 never
	std::string write;       // for kMonitor: -w FILE (pcapng), "" none
	std::optional<std::string> call_id;  // for kCallsFlush: only it
};

// argv without argv[0]; by the command table (commands.cpp).
Invocation parse_command_line(const std::vector<std::string> &args);
std::string usage(std::string_view topic);  // "" or a command's first word

// Output.
std::string format_ports(const std::vector<PortRange> &ports);
std::string format_duration(uint32_t seconds);
std::string format_config(const Config &c, bool json);
std::string format_stats(const Stats &s, bool json);
std::string format_flush(const FlushResult &r, bool json);

} // namespace shp
