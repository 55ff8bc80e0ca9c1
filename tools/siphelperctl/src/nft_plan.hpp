// SPDX-License-Identifier: GPL-2.0
// The nft ruleset `siphelperctl nft install` builds, as plain data: which
// table, ct helper objects, base chains and rules for a port config. Pure
// C++ (no libnftnl) so the plan is unit tested; nft.cpp turns it into one
// nftnl batch and parses the kernel's rules back into NftRule for `show`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ctl.hpp"

namespace shp {

inline constexpr const char *kNftTable = "siphelper";  // family inet
inline constexpr const char *kNftHelperType = "siphelper";

struct NftHelperObj {
	std::string name;  // "sip-udp", "sip-tcp"
	uint8_t l4proto;   // IPPROTO_UDP / IPPROTO_TCP
	bool operator==(const NftHelperObj &) const = default;
};

struct NftChain {
	std::string name;  // "prerouting", "output"
	std::string hook;  // the same words as nft: "prerouting", "output"
	int32_t priority;  // 0: after conntrack (-200), before confirm
	bool operator==(const NftChain &) const = default;
};

// `<udp|tcp> dport lo[-hi] ct helper set "<helper>"` in chain.
struct NftRule {
	std::string chain;
	uint8_t l4proto;
	uint16_t lo;
	uint16_t hi;
	std::string helper;
	bool operator==(const NftRule &) const = default;
};

struct NftPlan {
	std::vector<NftHelperObj> helpers;
	std::vector<NftChain> chains;
	std::vector<NftRule> rules;
};

// Helper objects only for protocols some entry uses; one rule per port
// entry and protocol in every base chain.
NftPlan nft_plan(const std::vector<PortRange> &ports);

// The port list that the rules of one chain cover (entries of both
// protocols with the same range merged), in rule order.
std::vector<PortRange> nft_rule_ports(const std::vector<NftRule> &rules,
				      const std::string &chain);

// "udp dport 5060 ct helper set \"sip-udp\"" (for messages and show).
std::string nft_rule_text(const NftRule &r);

} // namespace shp

namespace shp {

// What `nft show` found in the kernel.
struct NftState {
	bool installed = false;
	std::vector<NftRule> rules;  // the rules in the siphelper form
	unsigned foreign = 0;        // rules of another form in the table
};

// The table's rules are exactly the plan's rules for ports (any order).
bool nft_in_sync(const NftState &s, const std::vector<PortRange> &ports);

// `nft show` output; cfg is the kernel's siphelper config.
std::string format_nft_state(const NftState &s, const Config &cfg,
			     bool json);

} // namespace shp
