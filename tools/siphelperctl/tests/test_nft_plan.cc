// SPDX-License-Identifier: GPL-2.0
// The nft rule plan of `siphelperctl nft install` (nft_plan.cpp).
#include <netinet/in.h>

#include <gtest/gtest.h>

#include "nft_plan.hpp"

using namespace shp;

static std::vector<std::string> texts(const NftPlan &p, const char *chain)
{
	std::vector<std::string> out;
	for (const auto &r : p.rules)
		if (r.chain == chain)
			out.push_back(nft_rule_text(r));
	return out;
}

TEST(NftPlan, DefaultPorts)
{
	auto p = nft_plan(parse_ports("5060,5061"));
	EXPECT_EQ(p.helpers, (std::vector<NftHelperObj>{
				     {"sip-udp", IPPROTO_UDP},
				     {"sip-tcp", IPPROTO_TCP}}));
	EXPECT_EQ(p.chains, (std::vector<NftChain>{
				    {"prerouting", "prerouting", 0},
				    {"output", "output", 0}}));
	std::vector<std::string> want = {
		"udp dport 5060 ct helper set \"sip-udp\"",
		"udp dport 5061 ct helper set \"sip-udp\"",
		"tcp dport 5060 ct helper set \"sip-tcp\"",
		"tcp dport 5061 ct helper set \"sip-tcp\""};
	EXPECT_EQ(texts(p, "prerouting"), want);
	EXPECT_EQ(texts(p, "output"), want);
	EXPECT_EQ(p.rules.size(), 8u);
}

TEST(NftPlan, RangesAndPerProtocolEntries)
{
	auto p = nft_plan(parse_ports("5060,5070-5080/udp,6000/tcp"));
	EXPECT_EQ(texts(p, "prerouting"),
		  (std::vector<std::string>{
			  "udp dport 5060 ct helper set \"sip-udp\"",
			  "udp dport 5070-5080 ct helper set \"sip-udp\"",
			  "tcp dport 5060 ct helper set \"sip-tcp\"",
			  "tcp dport 6000 ct helper set \"sip-tcp\""}));
	EXPECT_EQ(p.rules[1], (NftRule{"prerouting", IPPROTO_UDP, 5070, 5080,
				       "sip-udp"}));
}

TEST(NftPlan, OnlyTheHelpersInUse)
{
	auto p = nft_plan(parse_ports("5060/udp"));
	EXPECT_EQ(p.helpers,
		  (std::vector<NftHelperObj>{{"sip-udp", IPPROTO_UDP}}));
	EXPECT_EQ(texts(p, "output"),
		  (std::vector<std::string>{
			  "udp dport 5060 ct helper set \"sip-udp\""}));
	p = nft_plan(parse_ports("5061/tcp"));
	EXPECT_EQ(p.helpers,
		  (std::vector<NftHelperObj>{{"sip-tcp", IPPROTO_TCP}}));
	EXPECT_EQ(p.rules.size(), 2u);
}

TEST(NftPlan, EmptyPortListHasNoRules)
{
	auto p = nft_plan({});
	EXPECT_TRUE(p.helpers.empty());
	EXPECT_TRUE(p.rules.empty());
	EXPECT_EQ(p.chains.size(), 2u);
}

TEST(NftPlan, LargestConfigRuleCount)
{
	std::string s;
	for (int i = 0; i < 32; i++)
		s += (i ? "," : "") + std::to_string(5000 + 10 * i) + "-" +
		     std::to_string(5005 + 10 * i);
	auto p = nft_plan(parse_ports(s));
	EXPECT_EQ(p.rules.size(), 32u * 2 * 2);
}

TEST(NftPlan, RulePortsInvertThePlan)
{
	for (const char *cfg : {"5060,5061", "5060,5070-5080/udp,6000/tcp",
				"5060/udp,5060/tcp", "7000-7010/tcp"}) {
		auto ports = parse_ports(cfg);
		auto p = nft_plan(ports);
		NftState st{true, p.rules, 0};
		EXPECT_TRUE(nft_in_sync(st, ports)) << cfg;
		auto back = nft_rule_ports(p.rules, "output");
		auto plan2 = nft_plan(back);
		NftState st2{true, plan2.rules, 0};
		EXPECT_TRUE(nft_in_sync(st2, ports)) << cfg;
	}
	EXPECT_EQ(format_ports(nft_rule_ports(
			  nft_plan(parse_ports("5060/udp,5060/tcp")).rules,
			  "prerouting")),
		  "5060");
}

TEST(NftState, OutOfSyncAfterAPortChange)
{
	auto plan = nft_plan(parse_ports("5060,5061"));
	NftState st{true, plan.rules, 0};
	Config cfg;
	cfg.ports = parse_ports("5070");
	cfg.auto_assign = false;
	EXPECT_FALSE(nft_in_sync(st, cfg.ports));
	EXPECT_EQ(format_nft_state(st, cfg, false),
		  "table inet siphelper: installed\n"
		  "nft ports: 5060,5061\n"
		  "rules: 8\n"
		  "out of sync: siphelper ports are 5070: run 'siphelperctl "
		  "nft install' again\n"
		  "auto-assign: no\n");
	st.rules.pop_back();  // one rule missing: not in sync either
	EXPECT_FALSE(nft_in_sync(st, parse_ports("5060,5061")));
	NftState foreign{true, plan.rules, 1};
	EXPECT_FALSE(nft_in_sync(foreign, parse_ports("5060,5061")));
}

TEST(NftState, Formats)
{
	Config cfg;
	cfg.ports = parse_ports("5060,5070-5080/udp");
	cfg.auto_assign = false;
	NftState st{true, nft_plan(cfg.ports).rules, 0};
	EXPECT_EQ(format_nft_state(st, cfg, false),
		  "table inet siphelper: installed\n"
		  "nft ports: 5060,5070-5080/udp\n"
		  "rules: 6\n"
		  "auto-assign: no\n");
	EXPECT_EQ(format_nft_state(st, cfg, true),
		  "{\"installed\":true,\"table\":\"inet siphelper\","
		  "\"ports\":[{\"lo\":5060,\"hi\":5060,\"protocols\":"
		  "[\"udp\",\"tcp\"]},{\"lo\":5070,\"hi\":5080,\"protocols\":"
		  "[\"udp\"]}],\"rules\":6,\"foreign_rules\":0,"
		  "\"in_sync\":true,\"auto_assign\":false}\n");
	cfg.auto_assign = true;
	EXPECT_EQ(format_nft_state(NftState{}, cfg, false),
		  "table inet siphelper: not installed\nauto-assign: yes\n");
	EXPECT_EQ(format_nft_state(NftState{}, cfg, true),
		  "{\"installed\":false,\"table\":\"inet siphelper\","
		  "\"ports\":[],\"rules\":0,\"foreign_rules\":0,"
		  "\"in_sync\":false,\"auto_assign\":true}\n");
}
