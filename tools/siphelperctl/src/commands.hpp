// SPDX-License-Identifier: GPL-2.0
// siphelperctl's command table: one row per command, one per option and
// one per `set` key. The command line is parsed by it, the usage texts and
// the permission-denied messages are written from it, the bash completion
// is generated from it (`siphelperctl completion`, at build time) and the
// man page is checked against it (tests/test_commands.cc).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ctl.hpp"

namespace shp {

// Options a command takes besides the global -j, -n, -h.
enum CmdOpt : unsigned { kOptFile = 1, kOptCount = 2, kOptWrite = 4 };

struct Command {
	std::string_view words;    // "stats reset"
	Cmd cmd;
	std::string_view args;     // synopsis of its arguments, "" for none
	unsigned opts;             // CmdOpt bits
	bool admin;                // needs CAP_NET_ADMIN
	std::string_view denied;   // who needs it, in the EPERM message
	std::string_view summary;  // one line: overview, completion
	std::string_view more;     // the rest of `COMMAND --help`
};

struct Option {
	char short_name;
	std::string_view long_name;  // without "--"
	std::string_view arg;        // "" for a flag
	unsigned only;               // CmdOpt bit: for those commands only
	std::string_view help;
	std::string_view values;     // completion words, "" for none
};

struct SetKey {
	std::string_view name;       // "sip-timeout"
	std::string_view alias;      // another accepted spelling, or ""
	std::string_view value;      // "DURATION"
	std::string_view help;
	std::string_view values;     // completion words
};

std::span<const Command> commands();
std::span<const Option> options();
std::span<const SetKey> set_keys();
const Command &command(Cmd c);

// The bash completion script, from the tables.
std::string bash_completion();

} // namespace shp
