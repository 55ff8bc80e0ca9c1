// SPDX-License-Identifier: GPL-2.0
// The command table (commands.cpp) and what is made from it or checked
// against it: parsing, usage, the bash completion, the man page.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "commands.hpp"

using namespace shp;

namespace {

std::vector<std::string> words_of(std::string_view s)
{
	std::vector<std::string> out;
	std::istringstream in{std::string(s)};
	for (std::string w; in >> w;)
		out.push_back(w);
	return out;
}

// The man page as text: "\-" is "-", font escapes (\fB...) removed.
std::string man_text()
{
	std::ifstream f(SIPHELPER_SOURCE_DIR
			"/tools/siphelperctl/siphelperctl.8");
	std::stringstream ss;
	ss << f.rdbuf();
	std::string s = ss.str(), out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') {
			out += '-';
			i++;
		} else if (s[i] == '\\' && i + 2 < s.size() && s[i + 1] == 'f') {
			i += 2;
		} else {
			out += s[i];
		}
	}
	return out;
}

} // namespace

TEST(CommandTable, EveryRowParsesToItsCommand)
{
	for (const auto &c : commands()) {
		auto args = words_of(c.words);
		if (c.cmd == Cmd::kSet)
			args.insert(args.end(), {"sip-timeout", "60"});
		EXPECT_EQ(parse_command_line(args).cmd, c.cmd) << c.words;
	}
}

TEST(CommandTable, OptionsOnlyWhereTheTableAllows)
{
	EXPECT_EQ(parse_command_line({"monitor", "-c", "3"}).count, 3u);
	EXPECT_EQ(parse_command_line({"monitor", "--count=3"}).count, 3u);
	EXPECT_EQ(parse_command_line({"apply", "--file=x"}).file, "x");
	EXPECT_THROW(parse_command_line({"stats", "-c", "3"}), UsageError);
	EXPECT_THROW(parse_command_line({"-f", "x", "flush"}), UsageError);
	EXPECT_THROW(parse_command_line({"monitor", "-c", "0"}), UsageError);
}

TEST(CommandTable, ErrorsNameWhatIsAllowed)
{
	auto msg = [](std::vector<std::string> a) {
		try {
			parse_command_line(a);
		} catch (const UsageError &e) {
			return std::string(e.what());
		}
		return std::string("(accepted)");
	};
	EXPECT_EQ(msg({"nft", "add"}), "nft: unknown argument 'add': use "
		  "'nft install', 'nft remove' or 'nft show'");
	EXPECT_EQ(msg({"nft"}), "nft: use 'nft install', 'nft remove' or "
		  "'nft show'");
	EXPECT_EQ(msg({"stats", "clear"}), "stats: unknown argument 'clear': "
		  "use 'stats' or 'stats reset'");
	std::string unknown = msg({"frobnicate"});
	for (const auto &c : commands())
		EXPECT_NE(unknown.find(words_of(c.words)[0]),
			  std::string::npos) << c.words;
	EXPECT_EQ(msg({"set", "colour", "red"}).rfind("set: unknown key "
						       "'colour': keys are ports",
						       0), 0u);
}

TEST(CommandTable, UsageHasEveryCommandOptionAndKey)
{
	std::string all = usage("");
	for (const auto &c : commands()) {
		EXPECT_NE(all.find(std::string(c.words)), std::string::npos)
			<< c.words;
		std::string u = usage(words_of(c.words)[0]);
		EXPECT_EQ(u.rfind("usage: siphelperctl", 0), 0u) << c.words;
		if (c.admin) {
			EXPECT_NE(u.find("CAP_NET_ADMIN"), std::string::npos)
				<< c.words;
		}
	}
	for (const auto &o : options())
		EXPECT_NE(all.find("--" + std::string(o.long_name)),
			  std::string::npos) << o.long_name;
	for (const auto &k : set_keys())
		EXPECT_NE(usage("set").find(std::string(k.name)),
			  std::string::npos) << k.name;
}

TEST(CommandTable, ManPageHasEveryCommandOptionAndKey)
{
	std::string man = man_text();
	ASSERT_FALSE(man.empty());
	for (const auto &c : commands())
		EXPECT_NE(man.find(".B " + std::string(c.words)),
			  std::string::npos)
			<< "siphelperctl.8 lacks the command " << c.words;
	for (const auto &o : options())
		EXPECT_NE(man.find("--" + std::string(o.long_name)),
			  std::string::npos)
			<< "siphelperctl.8 lacks the option " << o.long_name;
	for (const auto &k : set_keys())
		EXPECT_NE(man.find(std::string(k.name)), std::string::npos)
			<< "siphelperctl.8 lacks the set key " << k.name;
}

TEST(CommandTable, CompletionIsValidBashWithEveryWord)
{
	std::string script = bash_completion();
	for (const auto &c : commands())
		for (const auto &w : words_of(c.words))
			EXPECT_NE(script.find(w), std::string::npos) << w;
	for (const auto &k : set_keys())
		EXPECT_NE(script.find(std::string(k.name)), std::string::npos);
	char path[] = "/tmp/shp-completion-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs(script.c_str(), f);
	fclose(f);
	int rc = std::system(("bash -n " + std::string(path)).c_str());
	std::remove(path);
	EXPECT_EQ(rc, 0);
}
