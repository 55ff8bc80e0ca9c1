// SPDX-License-Identifier: GPL-2.0
// siphelperctl_core: parsing and formatting, no kernel.
#include <gtest/gtest.h>

#include "ctl.hpp"
#include "output.hpp"

using namespace shp;

static std::vector<std::string> A(std::initializer_list<const char *> l)
{
	return std::vector<std::string>(l.begin(), l.end());
}

static std::string usage_error(const std::function<void()> &f)
{
	try {
		f();
	} catch (const UsageError &e) {
		return e.what();
	}
	return "<no error>";
}

TEST(Ports, SingleListAndRanges)
{
	auto p = parse_ports("5060,5061,5070-5080/udp,6000/tcp");
	ASSERT_EQ(p.size(), 4u);
	EXPECT_EQ(p[0], (PortRange{5060, 5060, kBoth}));
	EXPECT_EQ(p[1], (PortRange{5061, 5061, kBoth}));
	EXPECT_EQ(p[2], (PortRange{5070, 5080, kUdp}));
	EXPECT_EQ(p[3], (PortRange{6000, 6000, kTcp}));
}

TEST(Ports, Bounds)
{
	EXPECT_EQ(parse_ports("1")[0].lo, 1);
	EXPECT_EQ(parse_ports("65535")[0].hi, 65535);
	EXPECT_NE(usage_error([] { parse_ports("0"); }).find("'0'"),
		  std::string::npos);
	EXPECT_NE(usage_error([] { parse_ports("65536"); }).find("1..65535"),
		  std::string::npos);
	EXPECT_NE(usage_error([] { parse_ports("99999999999999"); })
			  .find("99999999999999"), std::string::npos);
}

TEST(Ports, Refused)
{
	for (const char *bad : {"", ",", "5060,", "abc", "5060-", "-5060",
				"6000-5000", "5060/sctp", "5060/", "5060,5060",
				"5060-5070,5065/udp", "+5060", " 5060",
				"5060-5070-5080"})
		EXPECT_THROW(parse_ports(bad), UsageError) << bad;
	EXPECT_NE(usage_error([] { parse_ports("6000-5000"); })
			  .find("reversed"), std::string::npos);
	EXPECT_NE(usage_error([] { parse_ports("5060,5060"); })
			  .find("once"), std::string::npos);
}

TEST(Ports, SameNumberDifferentProtocolIsFine)
{
	EXPECT_EQ(parse_ports("5060/udp,5060/tcp").size(), 2u);
}

TEST(Ports, AtMost32)
{
	std::string s;
	for (int i = 0; i < 32; i++)
		s += (i ? "," : "") + std::to_string(5000 + i);
	EXPECT_EQ(parse_ports(s).size(), 32u);
	s += ",6000";
	EXPECT_NE(usage_error([&] { parse_ports(s); }).find("32"),
		  std::string::npos);
}

TEST(Duration, Forms)
{
	EXPECT_EQ(parse_duration("3600"), 3600u);
	EXPECT_EQ(parse_duration("1h"), 3600u);
	EXPECT_EQ(parse_duration("10m"), 600u);
	EXPECT_EQ(parse_duration("90s"), 90u);
	EXPECT_EQ(parse_duration("1h30m"), 5400u);
	EXPECT_EQ(parse_duration("1d"), 86400u);
	EXPECT_EQ(parse_duration("86400"), 86400u);
	EXPECT_EQ(parse_duration("1"), 1u);
}

TEST(Duration, Refused)
{
	for (const char *bad : {"", "0", "0s", "86401", "25h", "2d", "h",
				"1x", "-1", "1.5h", "1h30", "99999999999999999",
				"1 h"})
		EXPECT_THROW(parse_duration(bad), UsageError) << bad;
	EXPECT_NE(usage_error([] { parse_duration("0"); }).find("'0'"),
		  std::string::npos);
}

TEST(Duration, ZeroWhereItMeansOff)
{
	EXPECT_EQ(parse_duration("0", "sip-unreplied-timeout", 0), 0u);
	EXPECT_EQ(parse_duration("1m", "sip-unreplied-timeout", 0), 60u);
	EXPECT_EQ(usage_error([] {
			  parse_duration("2d", "sip-unreplied-timeout", 0);
		  }),
		  "sip-unreplied-timeout '2d' is out of range: give seconds "
		  "(3600) or a duration (1h, 10m, 90s), 0s..24h (0: off)");
}

TEST(YesNo, Values)
{
	EXPECT_TRUE(parse_yes_no("k", "yes"));
	EXPECT_FALSE(parse_yes_no("k", "no"));
	EXPECT_NE(usage_error([] { parse_yes_no("auto-assign", "maybe"); })
			  .find("auto-assign"), std::string::npos);
	EXPECT_EQ(parse_malformed("drop"), Malformed::kDrop);
	EXPECT_EQ(parse_malformed("accept"), Malformed::kAccept);
	EXPECT_THROW(parse_malformed("reject"), UsageError);
}

TEST(SetArgs, Subsets)
{
	auto p = parse_set_args(A({"sip-timeout", "10m"}));
	EXPECT_EQ(p.sip_timeout, 600u);
	EXPECT_FALSE(p.ports || p.direct_media || p.auto_assign ||
		     p.malformed);
	p = parse_set_args(A({"ports", "5060", "sip-direct-media", "no",
			      "auto-assign", "yes", "malformed", "drop"}));
	ASSERT_TRUE(p.ports);
	EXPECT_EQ(p.ports->size(), 1u);
	EXPECT_EQ(p.direct_media, false);
	EXPECT_EQ(p.auto_assign, true);
	EXPECT_EQ(p.malformed, Malformed::kDrop);
}

TEST(SetArgs, Refused)
{
	EXPECT_THROW(parse_set_args({}), UsageError);
	EXPECT_THROW(parse_set_args(A({"ports"})), UsageError);
	EXPECT_THROW(parse_set_args(A({"ports", "5060", "ports", "5061"})),
		     UsageError);
	EXPECT_NE(usage_error([] { parse_set_args(A({"colour", "red"})); })
			  .find("'colour'"), std::string::npos);
}

TEST(CommandLine, Commands)
{
	EXPECT_EQ(parse_command_line(A({"show"})).cmd, Cmd::kShow);
	auto i = parse_command_line(A({"-j", "-n", "ns1", "show"}));
	EXPECT_TRUE(i.json);
	EXPECT_EQ(i.netns, "ns1");
	i = parse_command_line(A({"show", "--json", "--netns=x"}));
	EXPECT_TRUE(i.json);
	EXPECT_EQ(i.netns, "x");
	EXPECT_EQ(parse_command_line(A({"stats"})).cmd, Cmd::kStats);
	EXPECT_EQ(parse_command_line(A({"stats", "reset"})).cmd,
		  Cmd::kStatsReset);
	EXPECT_EQ(parse_command_line(A({"flush"})).cmd, Cmd::kFlush);
	EXPECT_EQ(parse_command_line(A({"--version"})).cmd, Cmd::kVersion);
	i = parse_command_line(A({"set", "--help"}));
	EXPECT_EQ(i.cmd, Cmd::kHelp);
	EXPECT_EQ(i.help_topic, "set");
	EXPECT_EQ(parse_command_line(A({"--help"})).cmd, Cmd::kHelp);
}

TEST(CommandLine, NoCommandShows)
{
	EXPECT_EQ(parse_command_line({}).cmd, Cmd::kShow);
	auto inv = parse_command_line(A({"-j", "-n", "r1"}));
	EXPECT_EQ(inv.cmd, Cmd::kShow);
	EXPECT_TRUE(inv.json);
	EXPECT_EQ(inv.netns, "r1");
}

TEST(CommandLine, Refused)
{
	EXPECT_THROW(parse_command_line(A({"frobnicate"})), UsageError);
	EXPECT_THROW(parse_command_line(A({"show", "extra"})), UsageError);
	EXPECT_THROW(parse_command_line(A({"stats", "clear"})), UsageError);
	EXPECT_THROW(parse_command_line(A({"-x", "show"})), UsageError);
	EXPECT_THROW(parse_command_line(A({"show", "-n"})), UsageError);
	EXPECT_THROW(parse_command_line(A({"-n", "../x", "show"})),
		     UsageError);
	EXPECT_THROW(parse_command_line(A({"set", "ports", "0"})), UsageError);
}

TEST(Help, EveryCommand)
{
	for (const char *c : {"show", "set", "stats", "flush"})
		EXPECT_NE(usage(c).find(std::string("siphelperctl")),
			  std::string::npos);
	EXPECT_NE(usage("set").find("sip-timeout"), std::string::npos);
}

TEST(Format, Text)
{
	Config c;
	c.ports = parse_ports("5060,5061,5070-5080/udp");
	std::string t = format_config(c, false);
	EXPECT_NE(t.find("ports: 5060,5061,5070-5080/udp\n"), std::string::npos);
	EXPECT_NE(t.find("sip-timeout: 1h\n"), std::string::npos);
	EXPECT_NE(t.find("sip-direct-media: yes\n"), std::string::npos);
	EXPECT_NE(t.find("malformed: accept\n"), std::string::npos);
	EXPECT_EQ(format_duration(600), "10m");
	EXPECT_EQ(format_duration(90), "90s");
	EXPECT_EQ(format_ports({}), "none");
}

TEST(Format, TextRoundTrip)
{
	for (const char *s : {"5060", "5060,5061", "1-65535/tcp",
			      "5060/udp,5060/tcp,7000-7010"})
		EXPECT_EQ(format_ports(parse_ports(s)), s);
	for (uint32_t d : {1u, 59u, 60u, 90u, 3600u, 5400u, 86400u})
		EXPECT_EQ(parse_duration(format_duration(d)), d);
}

TEST(Format, Json)
{
	Config c;
	c.ports = parse_ports("5060,5070-5080/udp");
	c.direct_media = false;
	c.malformed = Malformed::kDrop;
	EXPECT_EQ(format_config(c, true),
		  "{\"ports\":[{\"lo\":5060,\"hi\":5060,\"protocols\":"
		  "[\"udp\",\"tcp\"]},{\"lo\":5070,\"hi\":5080,\"protocols\":"
		  "[\"udp\"]}],\"sip_timeout\":3600,\"sip_direct_media\":false,"
		  "\"auto_assign\":true,\"malformed\":\"drop\","
		  "\"pinholes_only\":false,\"tcp_hold_max\":32768,"
		  "\"tcp_hold_total\":4194304,\"sip_unreplied_timeout\":30,"
		  "\"sip_max_calls\":4096,\"sip_media_timeout\":120,"
		  "\"sip_max_call_duration\":0,\"sip_call_limit\":0,"
		  "\"sip_source_call_limit\":0,\"sip_source_rate\":0,"
		  "\"sip_unknown_methods\":\"accept\"}\n");
	EXPECT_EQ(format_stats({{"seen", 3}, {"parsed", 2}}, true),
		  "{\"seen\":3,\"parsed\":2}\n");
	EXPECT_EQ(format_stats({}, true), "{}\n");
	EXPECT_EQ(format_flush({2, 1}, true),
		  "{\"conntracks\":2,\"expectations\":1}\n");
	EXPECT_EQ(json_escape("a\"b\\\n"), "\"a\\\"b\\\\\\u000a\"");
}

TEST(Format, OneDescriptionTwoRenderings)
{
	Output o(false, true);
	o.num("n", "count", 7).yes_no("b", "on", true).str("s", "name", "a\"b");
	EXPECT_EQ(o.done(), "count: 7\non:    yes\nname:  a\"b\n");
	Output j(true);
	j.num("n", "count", 7).yes_no("b", "on", true).str("s", "name", "a\"b");
	EXPECT_EQ(j.done(), "{\"n\":7,\"b\":true,\"s\":\"a\\\"b\"}\n");
	EXPECT_EQ(Output(true).done(), "{}\n");
	EXPECT_EQ(format_flush({2, 1}, false),
		  "conntracks:   2\nexpectations: 1\n");
}

TEST(Format, StatsText)
{
	EXPECT_EQ(format_stats({{"seen", 3}, {"registrations", 0}}, false),
		  "seen:          3\nregistrations: 0\n");
}
