// SPDX-License-Identifier: GPL-2.0
// siphelperctl core: parsing and formatting (no kernel dependency).
#include "ctl.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

namespace shp {
namespace {

std::string q(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

// A decimal number without sign, spaces or leading '+'; nullopt otherwise.
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

uint32_t parse_duration(std::string_view s)
{
	const std::string hint = ": give seconds (3600) or a duration "
				 "(1h, 10m, 90s), 1s..24h";
	if (s.empty())
		throw UsageError("sip-timeout: empty value" + hint);
	uint64_t total = 0;
	std::string_view rest = s;
	bool any = false;
	while (!rest.empty()) {
		size_t n = 0;
		while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
			n++;
		auto num = to_uint(rest.substr(0, n));
		if (!num)
			throw UsageError("invalid sip-timeout " + q(s) + hint);
		rest.remove_prefix(n);
		uint64_t mul = 1;
		if (!rest.empty()) {
			switch (rest[0]) {
			case 's': mul = 1; break;
			case 'm': mul = 60; break;
			case 'h': mul = 3600; break;
			case 'd': mul = 86400; break;
			default:
				throw UsageError("invalid sip-timeout " + q(s) +
						 hint);
			}
			rest.remove_prefix(1);
		} else if (any) {
			throw UsageError("invalid sip-timeout " + q(s) +
					 ": a unit is missing after the last "
					 "number" + hint);
		}
		any = true;
		total += *num * mul;
		if (total > kMaxSipTimeout)
			break;
	}
	if (total == 0 || total > kMaxSipTimeout)
		throw UsageError("sip-timeout " + q(s) + " is out of range" +
				 hint);
	return static_cast<uint32_t>(total);
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

Malformed parse_malformed(std::string_view s)
{
	if (s == "accept")
		return Malformed::kAccept;
	if (s == "drop")
		return Malformed::kDrop;
	throw UsageError("invalid malformed value " + q(s) +
			 ": use accept or drop");
}

ConfigPatch parse_set_args(const std::vector<std::string> &args)
{
	ConfigPatch p;
	std::set<std::string> seen;
	if (args.empty())
		throw UsageError("set: nothing to set: give KEY VALUE pairs, "
				 "see 'siphelperctl set --help'");
	for (size_t i = 0; i < args.size(); i += 2) {
		std::string key = args[i];
		if (key == "direct-media")
			key = "sip-direct-media";
		if (key == "malformed-policy")
			key = "malformed";
		if (key != "ports" && key != "sip-timeout" &&
		    key != "sip-direct-media" && key != "auto-assign" &&
		    key != "malformed")
			throw UsageError("set: unknown key " + q(args[i]) +
					 ": keys are ports, sip-timeout, "
					 "sip-direct-media, auto-assign, "
					 "malformed");
		if (i + 1 >= args.size())
			throw UsageError("set: " + q(args[i]) +
					 " needs a value");
		if (!seen.insert(key).second)
			throw UsageError("set: " + q(args[i]) +
					 " given twice: give each key once");
		const std::string &v = args[i + 1];
		if (key == "ports")
			p.ports = parse_ports(v);
		else if (key == "sip-timeout")
			p.sip_timeout = parse_duration(v);
		else if (key == "sip-direct-media")
			p.direct_media = parse_yes_no(key, v);
		else if (key == "auto-assign")
			p.auto_assign = parse_yes_no(key, v);
		else
			p.malformed = parse_malformed(v);
	}
	return p;
}

Invocation parse_command_line(const std::vector<std::string> &args)
{
	Invocation inv;
	std::vector<std::string> pos;
	bool help = false;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "-j" || a == "--json") {
			inv.json = true;
		} else if (a == "-n" || a == "--netns") {
			if (i + 1 >= args.size())
				throw UsageError(a + " needs a netns name");
			inv.netns = args[++i];
		} else if (a.rfind("--netns=", 0) == 0) {
			inv.netns = a.substr(8);
		} else if (a == "-f" || a == "--file") {
			if (i + 1 >= args.size())
				throw UsageError(a + " needs a file name");
			inv.file = args[++i];
		} else if (a == "-c" || a == "--count" ||
			   a.rfind("--count=", 0) == 0) {
			std::string v;
			if (a.size() > 8) {
				v = a.substr(8);
			} else if (i + 1 < args.size()) {
				v = args[++i];
			} else {
				throw UsageError(a + " needs a number of events");
			}
			auto n = to_uint(v);
			if (!n || *n == 0 || *n > 1000000000)
				throw UsageError("invalid count " + q(v) +
						 ": give 1..1000000000 events");
			inv.count = static_cast<unsigned>(*n);
		} else if (a == "-h" || a == "--help") {
			help = true;
		} else if (a == "-V" || a == "--version") {
			inv.cmd = Cmd::kVersion;
			return inv;
		} else if (a.size() > 1 && a[0] == '-' &&
			   !(a[1] >= '0' && a[1] <= '9')) {
			throw UsageError("unknown option " + q(a) +
					 ": see 'siphelperctl --help'");
		} else {
			pos.push_back(a);
		}
	}
	if (!inv.file.empty() && (pos.empty() || pos[0] != "apply"))
		throw UsageError("-f FILE is an option of 'apply' only");
	if (!inv.netns.empty() && inv.netns.find('/') != std::string::npos)
		throw UsageError("netns name " + q(inv.netns) +
				 " must not contain '/': give a name from "
				 "'ip netns list'");
	if (help) {
		inv.cmd = Cmd::kHelp;
		inv.help_topic = pos.empty() ? "" : pos[0];
		return inv;
	}
	// No command: show the config, as wg(8) does.
	if (pos.empty()) {
		inv.cmd = Cmd::kShow;
		return inv;
	}
	const std::string &c = pos[0];
	std::vector<std::string> rest(pos.begin() + 1, pos.end());
	if (c == "show") {
		if (!rest.empty())
			throw UsageError("show takes no arguments (got " +
					 q(rest[0]) + ")");
		inv.cmd = Cmd::kShow;
	} else if (c == "set") {
		inv.cmd = Cmd::kSet;
		inv.patch = parse_set_args(rest);
	} else if (c == "stats") {
		if (rest.empty()) {
			inv.cmd = Cmd::kStats;
		} else if (rest.size() == 1 && rest[0] == "reset") {
			inv.cmd = Cmd::kStatsReset;
		} else {
			throw UsageError("stats: unknown argument " +
					 q(rest[0]) + ": use 'stats' or "
					 "'stats reset'");
		}
	} else if (c == "flush") {
		if (!rest.empty())
			throw UsageError("flush takes no arguments (got " +
					 q(rest[0]) + ")");
		inv.cmd = Cmd::kFlush;
	} else if (c == "apply") {
		if (!rest.empty())
			throw UsageError("apply takes no arguments (got " +
					 q(rest[0]) + "): use -f FILE");
		inv.cmd = Cmd::kApply;
	} else if (c == "nft") {
		if (rest.size() != 1 ||
		    (rest[0] != "install" && rest[0] != "remove" &&
		     rest[0] != "show"))
			throw UsageError("nft: use 'nft install', 'nft remove' "
					 "or 'nft show'");
		inv.cmd = rest[0] == "install" ? Cmd::kNftInstall :
			  rest[0] == "remove"  ? Cmd::kNftRemove :
						 Cmd::kNftShow;
	} else if (c == "monitor") {
		if (!rest.empty())
			throw UsageError("monitor: unknown argument " +
					 q(rest[0]) + ": use 'monitor [-c N]'");
		inv.cmd = Cmd::kMonitor;
	} else if (c == "help") {
		inv.cmd = Cmd::kHelp;
		inv.help_topic = rest.empty() ? "" : rest[0];
	} else {
		throw UsageError("unknown command " + q(c) +
				 ": commands are show, set, apply, nft, stats, "
				 "flush, monitor");
	}
	if (inv.count && inv.cmd != Cmd::kMonitor)
		throw UsageError("-c/--count is for 'monitor' only");
	return inv;
}

std::string usage(std::string_view topic)
{
	if (topic == "show")
		return "usage: siphelperctl [-j] [-n NETNS] show\n"
		       "Print the SIP ALG configuration of the network "
		       "namespace.\n";
	if (topic == "set")
		return "usage: siphelperctl [-n NETNS] set KEY VALUE...\n"
		       "Change any subset of the configuration, all or "
		       "nothing:\n"
		       "  ports PORTS            5060,5061,5070-5080/udp "
		       "(1..65535, max 32 entries)\n"
		       "  sip-timeout DURATION   3600, 1h, 10m, 90s "
		       "(1s..24h)\n"
		       "  sip-direct-media yes|no\n"
		       "  auto-assign yes|no\n"
		       "  malformed accept|drop\n"
		       "Needs CAP_NET_ADMIN.\n";
	if (topic == "stats")
		return "usage: siphelperctl [-j] [-n NETNS] stats [reset]\n"
		       "Print the counters, or reset them (needs "
		       "CAP_NET_ADMIN).\n";
	if (topic == "flush")
		return "usage: siphelperctl [-j] [-n NETNS] flush\n"
		       "Remove the SIP conntrack entries and expectations "
		       "of siphelper\n(e.g. a stale entry after an outage). "
		       "Needs CAP_NET_ADMIN.\n";
	if (topic == "apply")
		return "usage: siphelperctl [-n NETNS] apply [-f FILE]\n"
		       "Apply a configuration file (default "
		       "/etc/siphelper.conf) in one atomic set:\n"
		       "KEY VALUE pairs as for 'set', one or more per line, "
		       "'#' comments,\neach key once. The whole file is "
		       "checked first; on an error (with its\nline number) "
		       "nothing changes. Keys not in the file keep their "
		       "value.\nNeeds CAP_NET_ADMIN.\n";
	if (topic == "nft")
		return "usage: siphelperctl [-j] [-n NETNS] nft "
		       "install|remove|show\n"
		       "nft mode: assign the helper with nftables rules "
		       "instead of auto-assign.\n"
		       "  install  (re)create table inet siphelper (ct helper "
		       "objects, prerouting\n"
		       "           and output chains, one rule per configured "
		       "port entry) in one\n"
		       "           transaction, then turn auto-assign off; run "
		       "it again after\n"
		       "           changing ports\n"
		       "  remove   turn auto-assign on, delete the table\n"
		       "  show     whether the table is installed, the ports "
		       "its rules cover and\n"
		       "           whether they match the configured ports "
		       "(-j: JSON)\n"
		       "All three need CAP_NET_ADMIN (nftables needs it even "
		       "to read).\n";
	if (topic == "monitor")
		return "usage: siphelperctl [-j] [-n NETNS] monitor [-c N]\n"
		       "Print each SIP message siphelper rewrites, as it "
		       "happens: the flow,\nthe edits, and the message "
		       "before and after (changed lines marked\n- before, "
		       "+ after). -j: one JSON object per line. -c N: stop "
		       "after N\nevents. Stop with Ctrl-C. Needs "
		       "CAP_NET_ADMIN.\n";
	return "usage: siphelperctl [OPTIONS] [COMMAND [ARGS]]\n"
	       "Control the siphelper SIP ALG kernel module.\n\n"
	       "Commands:\n"
	       "  show                 print the configuration (also: no "
	       "command)\n"
	       "  set KEY VALUE...     change the configuration\n"
	       "  apply [-f FILE]      apply /etc/siphelper.conf or FILE\n"
	       "  nft install|remove|show\n"
	       "                       helper assignment by nftables "
	       "rules\n"
	       "  stats [reset]        print or reset the counters\n"
	       "  flush                remove SIP conntrack entries\n"
	       "  monitor              show each rewrite, before and "
	       "after\n\n"
	       "Options:\n"
	       "  -j, --json           JSON output\n"
	       "  -c, --count N        monitor: stop after N events\n"
	       "  -n, --netns NAME     act in /run/netns/NAME\n"
	       "  -f, --file FILE      the file for apply\n"
	       "  -h, --help           help (also: COMMAND --help)\n"
	       "  -V, --version        print the version\n";
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

// Any bytes (names, or whole SIP messages for monitor): control and
// non-ASCII bytes as \u00XX, so the exact bytes come back with
// .encode("latin-1").
std::string json_escape(std::string_view s)
{
	std::string o = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			o += '\\';
			o += static_cast<char>(c);
		} else if (c < 0x20 || c >= 0x7f) {
			char buf[8];
			snprintf(buf, sizeof(buf), "\\u%04x", c);
			o += buf;
		} else {
			o += static_cast<char>(c);
		}
	}
	return o + "\"";
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static const char *malformed_name(Malformed m)
{
	return m == Malformed::kDrop ? "drop" : "accept";
}

std::string format_config(const Config &c, bool json)
{
	std::ostringstream o;
	if (json) {
		o << "{\"ports\":[";
		for (size_t i = 0; i < c.ports.size(); i++) {
			const auto &r = c.ports[i];
			o << (i ? "," : "") << "{\"lo\":" << r.lo
			  << ",\"hi\":" << r.hi << ",\"protocols\":[";
			if (r.protos & kUdp)
				o << "\"udp\"";
			if (r.protos & kTcp)
				o << ((r.protos & kUdp) ? "," : "") << "\"tcp\"";
			o << "]}";
		}
		o << "],\"sip_timeout\":" << c.sip_timeout
		  << ",\"sip_direct_media\":"
		  << (c.direct_media ? "true" : "false")
		  << ",\"auto_assign\":" << (c.auto_assign ? "true" : "false")
		  << ",\"malformed\":\"" << malformed_name(c.malformed)
		  << "\"}\n";
		return o.str();
	}
	o << "ports: " << format_ports(c.ports) << "\n"
	  << "sip-timeout: " << format_duration(c.sip_timeout) << "\n"
	  << "sip-direct-media: " << yes_no(c.direct_media) << "\n"
	  << "auto-assign: " << yes_no(c.auto_assign) << "\n"
	  << "malformed: " << malformed_name(c.malformed) << "\n";
	return o.str();
}

std::string format_stats(const Stats &s, bool json)
{
	std::ostringstream o;
	if (json) {
		o << "{";
		for (size_t i = 0; i < s.size(); i++)
			o << (i ? "," : "") << json_escape(s[i].first) << ":"
			  << s[i].second;
		o << "}\n";
		return o.str();
	}
	size_t w = 0;
	for (const auto &[k, v] : s)
		w = std::max(w, k.size());
	for (const auto &[k, v] : s)
		o << k << ":" << std::string(w - k.size() + 1, ' ') << v
		  << "\n";
	return o.str();
}

std::string format_flush(const FlushResult &r, bool json)
{
	if (json)
		return "{\"conntracks\":" + std::to_string(r.conntracks) +
		       ",\"expectations\":" + std::to_string(r.expects) + "}\n";
	return "flushed " + std::to_string(r.conntracks) +
	       " conntrack entries, " + std::to_string(r.expects) +
	       " expectations\n";
}

} // namespace shp
