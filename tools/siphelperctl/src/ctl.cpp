// SPDX-License-Identifier: GPL-2.0
// siphelperctl core: parsing and formatting (no kernel dependency).
#include "ctl.hpp"
#include "output.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

namespace shp {

std::string q(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep)
{
	std::vector<std::string_view> out;
	size_t start = 0;
	for (;;) {
		size_t pos = s.find(sep, start);
		out.push_back(s.substr(start, pos - start));
		if (pos == std::string_view::npos)
			return out;
		start = pos + 1;
	}
}

uint16_t parse_port(std::string_view v, std::string_view entry)
{
	auto n = to_uint(v);
	if (!n)
		throw UsageError("invalid port " + q(v) + " in " + q(entry) +
				 ": write a number 1..65535");
	if (*n == 0 || *n > 65535)
		throw UsageError("port " + q(v) + " in " + q(entry) +
				 " is out of range: ports are 1..65535");
	return static_cast<uint16_t>(*n);
}

const char *proto_name(uint8_t p)
{
	return p == kUdp ? "udp" : p == kTcp ? "tcp" : "";
}

} // namespace

std::optional<uint64_t> to_uint(std::string_view s)
{
	if (s.empty() || s.size() > 12)
		return std::nullopt;
	uint64_t v = 0;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || p != s.data() + s.size())
		return std::nullopt;
	return v;
}

std::vector<PortRange> parse_ports(std::string_view s)
{
	std::vector<PortRange> out;
	if (s.empty())
		throw UsageError("ports: empty list: give e.g. 5060,5061 or "
				 "5060-5070/udp");
	for (auto entry : split(s, ',')) {
		if (entry.empty())
			throw UsageError("ports " + q(s) + ": empty entry "
					 "(stray comma?)");
		PortRange r;
		std::string_view body = entry;
		if (auto slash = entry.find('/'); slash != entry.npos) {
			auto proto = entry.substr(slash + 1);
			body = entry.substr(0, slash);
			if (proto == "udp")
				r.protos = kUdp;
			else if (proto == "tcp")
				r.protos = kTcp;
			else
				throw UsageError("unknown protocol " + q(proto) +
						 " in " + q(entry) +
						 ": use /udp, /tcp or none for both");
		}
		if (auto dash = body.find('-'); dash != body.npos) {
			r.lo = parse_port(body.substr(0, dash), entry);
			r.hi = parse_port(body.substr(dash + 1), entry);
			if (r.lo > r.hi)
				throw UsageError("port range " + q(entry) +
						 " is reversed: write low-high");
		} else {
			r.lo = r.hi = parse_port(body, entry);
		}
		for (const auto &o : out)
			if ((o.protos & r.protos) && o.lo <= r.hi && r.lo <= o.hi)
				throw UsageError("port entry " + q(entry) +
						 " duplicates or overlaps an "
						 "earlier entry: list each port once");
		out.push_back(r);
		if (out.size() > kMaxPortEntries)
			throw UsageError("ports " + q(s) + ": more than " +
					 std::to_string(kMaxPortEntries) +
					 " entries: merge ports into ranges "
					 "(lo-hi)");
	}
	return out;
}

uint32_t parse_duration(std::string_view s, std::string_view key,
			uint32_t min)
{
	const std::string k(key);
	const std::string hint = ": give seconds (3600) or a duration "
				 "(1h, 10m, 90s), " +
				 format_duration(min) + "..24h" +
				 (min ? "" : " (0: off)");
	if (s.empty())
		throw UsageError(k + ": empty value" + hint);
	uint64_t total = 0;
	std::string_view rest = s;
	bool any = false;
	while (!rest.empty()) {
		size_t n = 0;
		while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
			n++;
		auto num = to_uint(rest.substr(0, n));
		if (!num)
			throw UsageError("invalid " + k + " " + q(s) + hint);
		rest.remove_prefix(n);
		uint64_t mul = 1;
		if (!rest.empty()) {
			switch (rest[0]) {
			case 's': mul = 1; break;
			case 'm': mul = 60; break;
			case 'h': mul = 3600; break;
			case 'd': mul = 86400; break;
			default:
				throw UsageError("invalid " + k + " " + q(s) +
						 hint);
			}
			rest.remove_prefix(1);
		} else if (any) {
			throw UsageError("invalid " + k + " " + q(s) +
					 ": a unit is missing after the last "
					 "number" + hint);
		}
		any = true;
		total += *num * mul;
		if (total > kMaxSipTimeout)
			break;
	}
	if (total < min || total > kMaxSipTimeout)
		throw UsageError(k + " " + q(s) + " is out of range" +
				 hint);
	return static_cast<uint32_t>(total);
}

uint32_t parse_size(std::string_view key, std::string_view s, uint32_t max)
{
	const std::string hint = ": give bytes (32768) or a size (32k, 4m), "
				 "0.." + format_size(max);
	size_t n = 0;
	while (n < s.size() && s[n] >= '0' && s[n] <= '9')
		n++;
	auto num = to_uint(s.substr(0, n));
	uint64_t mul = 1;
	if (num && n + 1 == s.size() && (s[n] == 'k' || s[n] == 'K'))
		mul = 1024;
	else if (num && n + 1 == s.size() && (s[n] == 'm' || s[n] == 'M'))
		mul = 1024 * 1024;
	else if (n != s.size())
		num.reset();
	if (!num)
		throw UsageError("invalid " + std::string(key) + " " + q(s) +
				 hint);
	if (*num > max || *num * mul > max)
		throw UsageError(std::string(key) + " " + q(s) +
				 " is out of range" + hint);
	return static_cast<uint32_t>(*num * mul);
}

uint32_t parse_count(std::string_view key, std::string_view s, uint32_t min,
		     uint32_t max)
{
	const std::string hint = ": give a number, " + std::to_string(min) +
				 ".." + std::to_string(max);
	auto num = to_uint(s);
	if (!num)
		throw UsageError("invalid " + std::string(key) + " " + q(s) +
				 hint);
	if (*num < min || *num > max)
		throw UsageError(std::string(key) + " " + q(s) +
				 " is out of range" + hint);
	return static_cast<uint32_t>(*num);
}

std::string format_size(uint32_t bytes)
{
	if (bytes && bytes % (1024 * 1024) == 0)
		return std::to_string(bytes / (1024 * 1024)) + "m";
	if (bytes && bytes % 1024 == 0)
		return std::to_string(bytes / 1024) + "k";
	return std::to_string(bytes);
}

bool parse_yes_no(std::string_view key, std::string_view s)
{
	if (s == "yes" || s == "on" || s == "true" || s == "1")
		return true;
	if (s == "no" || s == "off" || s == "false" || s == "0")
		return false;
	throw UsageError("invalid " + std::string(key) + " value " + q(s) +
			 ": use yes or no");
}

Malformed parse_malformed(std::string_view s, std::string_view key)
{
	if (s == "accept")
		return Malformed::kAccept;
	if (s == "drop")
		return Malformed::kDrop;
	throw UsageError("invalid " + std::string(key) + " value " + q(s) +
			 ": use accept or drop");
}

std::string format_ports(const std::vector<PortRange> &ports)
{
	std::string s;
	for (const auto &r : ports) {
		if (!s.empty())
			s += ',';
		s += std::to_string(r.lo);
		if (r.hi != r.lo)
			s += "-" + std::to_string(r.hi);
		if (r.protos != kBoth)
			s += std::string("/") + proto_name(r.protos);
	}
	return s.empty() ? "none" : s;
}

std::string format_duration(uint32_t s)
{
	if (s && s % 3600 == 0)
		return std::to_string(s / 3600) + "h";
	if (s && s % 60 == 0)
		return std::to_string(s / 60) + "m";
	return std::to_string(s) + "s";
}

static const char *malformed_name(Malformed m)
{
	return m == Malformed::kDrop ? "drop" : "accept";
}

std::string format_config(const Config &c, bool json)
{
	std::string ports;
	for (const auto &r : c.ports) {
		std::string protos;
		if (r.protos & kUdp)
			protos = "\"udp\"";
		if (r.protos & kTcp)
			protos += std::string(protos.empty() ? "" : ",") +
				  "\"tcp\"";
		ports += std::string(ports.empty() ? "" : ",") + "{\"lo\":" +
			 std::to_string(r.lo) + ",\"hi\":" +
			 std::to_string(r.hi) + ",\"protocols\":[" + protos +
			 "]}";
	}
	return Output(json)
		.raw("ports", "ports", "[" + ports + "]", format_ports(c.ports))
		.raw("sip_timeout", "sip-timeout",
		     std::to_string(c.sip_timeout),
		     format_duration(c.sip_timeout))
		.yes_no("sip_direct_media", "sip-direct-media", c.direct_media)
		.yes_no("auto_assign", "auto-assign", c.auto_assign)
		.str("malformed", "malformed", malformed_name(c.malformed))
		.yes_no("pinholes_only", "pinholes-only", c.pinholes_only)
		.raw("tcp_hold_max", "tcp-hold-max",
		     std::to_string(c.tcp_hold_max),
		     format_size(c.tcp_hold_max))
		.raw("tcp_hold_total", "tcp-hold-total",
		     std::to_string(c.tcp_hold_total),
		     format_size(c.tcp_hold_total))
		.raw("sip_unreplied_timeout", "sip-unreplied-timeout",
		     std::to_string(c.unreplied_timeout),
		     format_duration(c.unreplied_timeout))
		.num("sip_max_calls", "sip-max-calls", c.max_calls)
		.raw("sip_media_timeout", "sip-media-timeout",
		     std::to_string(c.media_timeout),
		     format_duration(c.media_timeout))
		.raw("sip_max_call_duration", "sip-max-call-duration",
		     std::to_string(c.max_call_duration),
		     format_duration(c.max_call_duration))
		.num("sip_call_limit", "sip-call-limit", c.call_limit)
		.num("sip_source_call_limit", "sip-source-call-limit",
		     c.source_call_limit)
		.num("sip_source_rate", "sip-source-rate", c.source_rate)
		.str("sip_unknown_methods", "sip-unknown-methods",
		     malformed_name(c.unknown_methods))
		.done();
}

std::string format_stats(const Stats &s, bool json)
{
	Output o(json, true);
	for (const auto &[name, v] : s)
		o.num(name, name, v);
	return o.done();
}

std::string format_flush(const FlushResult &r, bool json)
{
	return Output(json, true)
		.num("conntracks", "conntracks", r.conntracks)
		.num("expectations", "expectations", r.expects)
		.done();
}

} // namespace shp
