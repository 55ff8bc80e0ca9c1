// SPDX-License-Identifier: GPL-2.0
// The nft ruleset plan of `siphelperctl nft install` (no kernel dependency).
#include "nft_plan.hpp"

#include <algorithm>
#include <tuple>

#include <netinet/in.h>

namespace shp {
namespace {

const char *l4_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

} // namespace

NftPlan nft_plan(const std::vector<PortRange> &ports)
{
	NftPlan p;
	uint8_t used = 0;
	for (const auto &r : ports)
		used |= r.protos;
	for (auto [bit, l4] : {std::pair{kUdp, IPPROTO_UDP},
			       std::pair{kTcp, IPPROTO_TCP}})
		if (used & bit)
			p.helpers.push_back({std::string("sip-") + l4_name(l4),
					     static_cast<uint8_t>(l4)});
	// prerouting: forwarded and incoming flows; output: flows the router
	// itself opens. Priority 0 is after conntrack (-200) has created the
	// entry and before the helper/confirm step at the end of POSTROUTING
	// or INPUT, the place `ct helper set` must run.
	p.chains = {{"prerouting", "prerouting", 0},
		    {"output", "output", 0}};
	for (const auto &c : p.chains)
		for (auto [bit, l4] : {std::pair{kUdp, IPPROTO_UDP},
				       std::pair{kTcp, IPPROTO_TCP}})
			for (const auto &r : ports)
				if (r.protos & bit)
					p.rules.push_back(
						{c.name, static_cast<uint8_t>(l4),
						 r.lo, r.hi,
						 std::string("sip-") +
							 l4_name(l4)});
	return p;
}

std::vector<PortRange> nft_rule_ports(const std::vector<NftRule> &rules,
				      const std::string &chain)
{
	std::vector<PortRange> out;
	for (const auto &r : rules) {
		if (r.chain != chain)
			continue;
		uint8_t bit = r.l4proto == IPPROTO_UDP ? kUdp : kTcp;
		bool merged = false;
		for (auto &o : out)
			if (o.lo == r.lo && o.hi == r.hi) {
				o.protos |= bit;
				merged = true;
				break;
			}
		if (!merged)
			out.push_back({r.lo, r.hi, bit});
	}
	return out;
}

std::string nft_rule_text(const NftRule &r)
{
	std::string s = std::string(l4_name(r.l4proto)) + " dport " +
			std::to_string(r.lo);
	if (r.hi != r.lo)
		s += "-" + std::to_string(r.hi);
	return s + " ct helper set \"" + r.helper + "\"";
}

} // namespace shp

namespace shp {
namespace {

using RuleKey = std::tuple<std::string, uint8_t, uint16_t, uint16_t,
			   std::string>;

std::vector<RuleKey> keys(const std::vector<NftRule> &rules)
{
	std::vector<RuleKey> k;
	for (const auto &r : rules)
		k.emplace_back(r.chain, r.l4proto, r.lo, r.hi, r.helper);
	std::sort(k.begin(), k.end());
	return k;
}

std::string ports_json(const std::vector<PortRange> &ports)
{
	std::string o = "[";
	for (size_t i = 0; i < ports.size(); i++) {
		const auto &r = ports[i];
		o += (i ? "," : "");
		o += "{\"lo\":" + std::to_string(r.lo) +
		     ",\"hi\":" + std::to_string(r.hi) + ",\"protocols\":[";
		if (r.protos & kUdp)
			o += "\"udp\"";
		if (r.protos & kTcp)
			o += std::string((r.protos & kUdp) ? "," : "") +
			     "\"tcp\"";
		o += "]}";
	}
	return o + "]";
}

} // namespace

bool nft_in_sync(const NftState &s, const std::vector<PortRange> &ports)
{
	return s.installed && s.foreign == 0 &&
	       keys(s.rules) == keys(nft_plan(ports).rules);
}

std::string format_nft_state(const NftState &s, const Config &cfg,
			     bool json)
{
	auto covered = nft_rule_ports(s.rules, "prerouting");
	std::sort(covered.begin(), covered.end(),
		  [](const PortRange &a, const PortRange &b) {
			  return a.lo < b.lo;
		  });
	bool sync = nft_in_sync(s, cfg.ports);
	if (json)
		return std::string("{\"installed\":") +
		       (s.installed ? "true" : "false") +
		       ",\"table\":\"inet siphelper\",\"ports\":" +
		       ports_json(covered) + ",\"rules\":" +
		       std::to_string(s.rules.size()) +
		       ",\"foreign_rules\":" + std::to_string(s.foreign) +
		       ",\"in_sync\":" + (sync ? "true" : "false") +
		       ",\"auto_assign\":" +
		       (cfg.auto_assign ? "true" : "false") + "}\n";
	std::string o = std::string("table inet siphelper: ") +
			(s.installed ? "installed" : "not installed") + "\n";
	if (s.installed) {
		o += "nft ports: " + format_ports(covered) + "\n";
		o += "rules: " + std::to_string(s.rules.size()) + "\n";
		if (s.foreign)
			o += "other rules: " + std::to_string(s.foreign) +
			     " (not written by siphelperctl)\n";
		if (!sync)
			o += "out of sync: siphelper ports are " +
			     format_ports(cfg.ports) +
			     ": run 'siphelperctl nft install' again\n";
	}
	o += std::string("auto-assign: ") + (cfg.auto_assign ? "yes" : "no") +
	     "\n";
	return o;
}

} // namespace shp
