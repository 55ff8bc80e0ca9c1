// SPDX-License-Identifier: GPL-2.0
// /etc/siphelper.conf parsing (conf.cpp) and the apply/nft command lines.
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "conf.hpp"

using namespace shp;

static std::string conf_error(const std::string &text)
{
	try {
		parse_conf(text, "test.conf");
	} catch (const UsageError &e) {
		return e.what();
	}
	return "<no error>";
}

TEST(Conf, ExampleFileIsTheSeedContract)
{
	// etc/siphelper.conf as shipped: the seed's defaults.
	auto p = read_conf(SIPHELPER_SOURCE_DIR "/etc/siphelper.conf");
	ASSERT_TRUE(p.ports);
	EXPECT_EQ(*p.ports, (std::vector<PortRange>{{5060, 5060, kBoth},
						    {5061, 5061, kBoth}}));
	EXPECT_EQ(p.sip_timeout, 3600u);
	EXPECT_EQ(p.direct_media, true);
}

TEST(Conf, CommentsBlankLinesAndSeveralPairsPerLine)
{
	auto p = parse_conf("# siphelper\n"
			    "\n"
			    "ports 5060,5070-5080/udp   # the SIP ports\n"
			    "  sip-timeout 10m\tsip-direct-media no\r\n"
			    "auto-assign no malformed drop\n"
			    "   # indented comment\n",
			    "x");
	EXPECT_EQ(*p.ports, (std::vector<PortRange>{{5060, 5060, kBoth},
						    {5070, 5080, kUdp}}));
	EXPECT_EQ(p.sip_timeout, 600u);
	EXPECT_EQ(p.direct_media, false);
	EXPECT_EQ(p.auto_assign, false);
	EXPECT_EQ(p.malformed, Malformed::kDrop);
}

TEST(Conf, KeysNotGivenStayUnset)
{
	auto p = parse_conf("sip-timeout 90", "x");
	EXPECT_FALSE(p.ports);
	EXPECT_FALSE(p.direct_media);
	EXPECT_EQ(p.sip_timeout, 90u);
}

TEST(Conf, ErrorsCarryTheLineNumber)
{
	EXPECT_EQ(conf_error("ports 5060\n\n# c\nsip-timeout 25h\n"),
		  "test.conf:4: sip-timeout '25h' is out of range: give "
		  "seconds (3600) or a duration (1h, 10m, 90s), 1s..24h");
	EXPECT_EQ(conf_error("# x\nport 5060\n"),
		  "test.conf:2: unknown key 'port': keys are ports, "
		  "sip-timeout, sip-direct-media, auto-assign, malformed, "
		  "pinholes-only, tcp-hold-max, tcp-hold-total, "
		  "sip-unreplied-timeout, sip-max-calls, sip-media-timeout, "
		  "sip-max-call-duration, sip-call-limit, "
		  "sip-source-call-limit, sip-source-rate or "
		  "sip-unknown-methods");
	EXPECT_EQ(conf_error("sip-timeout 10m ports\n"),
		  "test.conf:1: 'ports' needs a value");
	EXPECT_EQ(conf_error("ports 5060,,5061\n"),
		  "test.conf:1: ports '5060,,5061': empty entry (stray "
		  "comma?)");
	EXPECT_EQ(conf_error("sip-direct-media maybe"),
		  "test.conf:1: invalid sip-direct-media value 'maybe': use "
		  "yes or no");
}

TEST(Conf, DuplicatesAcrossLinesAndAliases)
{
	EXPECT_EQ(conf_error("ports 5060\nsip-timeout 1h\nports 5070\n"),
		  "test.conf:3: 'ports' is already set on line 1: give each "
		  "key once");
	EXPECT_EQ(conf_error("sip-direct-media yes\ndirect-media no\n"),
		  "test.conf:2: 'direct-media' is already set on line 1: "
		  "give each key once");
	EXPECT_EQ(conf_error("ports 5060 ports 5061\n"),
		  "test.conf:1: 'ports' given twice: give each key once");
}

TEST(Conf, EmptyFileIsAnError)
{
	EXPECT_EQ(conf_error("# nothing\n\n"),
		  "test.conf: no settings: write KEY VALUE lines such as "
		  "'ports 5060,5061' (see siphelperctl(8))");
}

TEST(Conf, UnreadableFileIsARuntimeError)
{
	try {
		read_conf("/nonexistent/siphelper.conf");
		FAIL() << "no error";
	} catch (const UsageError &) {
		FAIL() << "usage error for a missing file";
	} catch (const std::runtime_error &e) {
		EXPECT_EQ(std::string(e.what()),
			  "cannot read /nonexistent/siphelper.conf: No such "
			  "file or directory");
	}
}

TEST(CommandLine, ApplyAndNft)
{
	auto inv = parse_command_line({"apply"});
	EXPECT_EQ(inv.cmd, Cmd::kApply);
	EXPECT_EQ(inv.file, "");
	inv = parse_command_line({"apply", "-f", "/tmp/a.conf"});
	EXPECT_EQ(inv.file, "/tmp/a.conf");
	inv = parse_command_line({"-n", "x", "--file", "b", "apply"});
	EXPECT_EQ(inv.cmd, Cmd::kApply);
	EXPECT_EQ(inv.file, "b");
	EXPECT_EQ(parse_command_line({"nft", "install"}).cmd,
		  Cmd::kNftInstall);
	EXPECT_EQ(parse_command_line({"nft", "remove"}).cmd, Cmd::kNftRemove);
	inv = parse_command_line({"-j", "nft", "show"});
	EXPECT_EQ(inv.cmd, Cmd::kNftShow);
	EXPECT_TRUE(inv.json);
	EXPECT_THROW(parse_command_line({"nft"}), UsageError);
	EXPECT_THROW(parse_command_line({"nft", "add"}), UsageError);
	EXPECT_THROW(parse_command_line({"apply", "x"}), UsageError);
	EXPECT_THROW(parse_command_line({"apply", "-f"}), UsageError);
	EXPECT_THROW(parse_command_line({"-f", "x", "show"}), UsageError);
	EXPECT_NE(usage("nft").find("install"), std::string::npos);
	EXPECT_NE(usage("apply").find("-f FILE"), std::string::npos);
}
