// SPDX-License-Identifier: GPL-2.0
// siphelperctl's command table and what is made from it: the command line
// parser, the usage texts and the bash completion.
#include "commands.hpp"

#include <array>
#include <optional>

namespace shp {
namespace {

constexpr std::array kCommands = {
	Command{"show", Cmd::kShow, "", 0, false, "",
		"print the configuration (also: no command)",
		"Print the SIP ALG configuration of the network namespace.\n"},
	Command{"set", Cmd::kSet, "KEY VALUE...", 0, true, "",
		"change the configuration",
		"Change any subset of the configuration, all or nothing:\n"},
	Command{"apply", Cmd::kApply, "", kOptFile, true, "",
		"apply /etc/siphelper.conf or FILE",
		"Apply a configuration file (default /etc/siphelper.conf) in "
		"one atomic set:\nKEY VALUE pairs as for 'set', one or more "
		"per line, '#' comments,\neach key once. The whole file is "
		"checked first; on an error (with its\nline number) nothing "
		"changes. Keys not in the file keep their value.\n"},
	Command{"nft install", Cmd::kNftInstall, "", 0, true, "",
		"assign the helper by nftables rules",
		"(Re)create table inet siphelper (ct helper objects, "
		"prerouting and output\nchains, one rule per configured port "
		"entry) in one transaction, then\nturn auto-assign off; run it "
		"again after changing ports.\n"},
	Command{"nft remove", Cmd::kNftRemove, "", 0, true, "",
		"back to auto-assign",
		"Turn auto-assign on, delete the table.\n"},
	Command{"nft show", Cmd::kNftShow, "", 0, true,
		"reading nftables",
		"show the nftables rules' state",
		"Whether the table is installed, the ports its rules cover and "
		"whether\nthey match the configured ports.\n"},
	Command{"stats", Cmd::kStats, "", 0, false, "",
		"print the counters", ""},
	Command{"stats reset", Cmd::kStatsReset, "", 0, true, "",
		"reset the counters", ""},
	Command{"flush", Cmd::kFlush, "", 0, true, "",
		"remove SIP conntrack entries",
		"Remove the SIP conntrack entries and expectations of "
		"siphelper\n(e.g. a stale entry after an outage).\n"},
	Command{"calls", Cmd::kCalls, "", 0, false, "",
		"list the calls",
		"List the calls of the call table: Call-ID, state (trying, "
		"early,\nconfirmed, ending), age, the signalling conntrack's "
		"id (as conntrack\n-L -o id prints it), From and To as the "
		"caller wrote them, and each\nmedia stream: the address and "
		"RTP/RTCP ports its pinholes let media\nin on, and where "
		"they forward it.\n"},
	Command{"calls flush", Cmd::kCallsFlush, "[CALL-ID]", 0, true, "",
		"remove calls and their pinholes",
		"Remove every call, or those with CALL-ID, with their media "
		"pinholes.\n"},
	Command{"monitor", Cmd::kMonitor, "", kOptCount | kOptWrite, true,
		"listening to siphelper events",
		"show each rewrite, before and after",
		"Print each SIP message siphelper rewrites, as it happens: the "
		"flow,\nthe edits, and the message before and after (changed "
		"lines marked\n- before, + after); also messages it could not "
		"parse (why, where,\npassed or dropped), configuration "
		"changes and flushes. -j: one JSON\nobject per line. -w FILE: "
		"write each rewrite to FILE as pcapng\ninstead (- for "
		"standard output), the message before and after on\n"
		"interfaces lan and wan, for Wireshark or sngrep -I. Stop with "
		"Ctrl-C.\n"},
	Command{"completion", Cmd::kCompletion, "", 0, false, "",
		"print the bash completion script", ""},
	Command{"help", Cmd::kHelp, "[COMMAND]", 0, false, "",
		"this help, or a command's", ""},
};

constexpr std::array kOptions = {
	Option{'j', "json", "", 0, "JSON output", ""},
	Option{'n', "netns", "NAME", 0, "act in /run/netns/NAME", ""},
	Option{'f', "file", "FILE", kOptFile, "the file for apply", ""},
	Option{'c', "count", "N", kOptCount,
	       "monitor: stop after N events (-w: N rewrites)", "1 10 100"},
	Option{'w', "write", "FILE", kOptWrite,
	       "monitor: rewrites to FILE as pcapng", ""},
	Option{'h', "help", "", 0, "help (also: COMMAND --help)", ""},
	Option{'V', "version", "", 0, "print the version", ""},
};

constexpr std::array kSetKeys = {
	SetKey{"ports", "", "PORTS",
	       "5060,5061,5070-5080/udp (1..65535, max 32 entries)",
	       "5060,5061"},
	SetKey{"sip-timeout", "", "DURATION", "3600, 1h, 10m, 90s (1s..24h)",
	       "3600 1h 10m"},
	SetKey{"sip-direct-media", "direct-media", "yes|no",
	       "media to other addresses than the peer's", "yes no"},
	SetKey{"auto-assign", "", "yes|no",
	       "the helper on new flows to the ports, without nft rules",
	       "yes no"},
	SetKey{"malformed", "malformed-policy", "accept|drop",
	       "what to do with SIP that does not parse", "accept drop"},
	SetKey{"pinholes-only", "", "yes|no",
	       "open pinholes, never edit a message", "yes no"},
	SetKey{"tcp-hold-max", "", "SIZE",
	       "bytes of a split TCP message held per flow (0: off)",
	       "32k 64000 0"},
	SetKey{"tcp-hold-total", "", "SIZE",
	       "bytes all TCP flows may hold", "4m 16m"},
	SetKey{"sip-unreplied-timeout", "", "DURATION",
	       "a UDP flow never answered for it is remade (0: never)",
	       "30 1m 0"},
	SetKey{"sip-max-calls", "", "N",
	       "calls in the call table per namespace (1..1048576)",
	       "4096 65536"},
	SetKey{"sip-media-timeout", "", "DURATION",
	       "an answered call without media for it ends (0: never)",
	       "120 2m 0"},
	SetKey{"sip-max-call-duration", "", "DURATION",
	       "an answered call lasting it ends (0: no limit)",
	       "0 4h 24h"},
	SetKey{"sip-call-limit", "", "N",
	       "calls per namespace; new INVITEs beyond dropped (0: off)",
	       "0 100 1000"},
	SetKey{"sip-source-call-limit", "", "N",
	       "calls per source address; beyond dropped (0: off)",
	       "0 2 10"},
	SetKey{"sip-source-rate", "", "N",
	       "new INVITEs+REGISTERs a second per source (0: off)",
	       "0 5 20"},
	SetKey{"sip-unknown-methods", "", "accept|drop",
	       "requests with a method siphelper does not know",
	       "accept drop"},
};

// calls flush's CALL-ID: one word, as long as the kernel keeps it.
std::string parse_call_id(const std::vector<std::string> &rest)
{
	if (rest.size() > 1)
		throw UsageError("calls flush: unknown argument " + q(rest[1]) +
				 ": give one CALL-ID");
	if (rest[0].empty() || rest[0].size() > SIPHELPER_CALL_TEXT_MAX)
		throw UsageError("calls flush: CALL-ID " + q(rest[0]) +
				 " must be 1.." +
				 std::to_string(SIPHELPER_CALL_TEXT_MAX) +
				 " bytes");
	return rest[0];
}

std::string_view first_word(std::string_view w)
{
	return w.substr(0, w.find(' '));
}

// "a, b or c"
std::string or_list(const std::vector<std::string> &v)
{
	std::string out;
	for (size_t i = 0; i < v.size(); i++) {
		if (i)
			out += i + 1 == v.size() ? " or " : ", ";
		out += v[i];
	}
	return out;
}

// The top-level command words, in table order, without duplicates.
std::vector<std::string> top_words()
{
	std::vector<std::string> out;
	for (const auto &c : kCommands) {
		std::string w(first_word(c.words));
		if (out.empty() || out.back() != w)
			out.push_back(w);
	}
	return out;
}

std::string options_of(const Command &c)
{
	std::string out;
	for (const auto &o : kOptions)
		if (o.only && (c.opts & o.only))
			out += std::string(" [-") + o.short_name + " " +
			       std::string(o.arg) + "]";
	return out;
}

std::string usage_line(const Command &c)
{
	std::string s = "usage: siphelperctl [-j] [-n NETNS] " +
			std::string(c.words);
	if (!c.args.empty())
		s += " " + std::string(c.args);
	return s + options_of(c) + "\n";
}

std::string pad(std::string s, size_t width)
{
	if (s.size() + 1 > width)
		return s + "\n" + std::string(width, ' ');
	return s + std::string(width - s.size(), ' ');
}

const Option *find_option(std::string_view a, std::string *inline_arg)
{
	for (const auto &o : kOptions) {
		std::string lng = "--" + std::string(o.long_name);
		if (a == lng || (a.size() == 2 && a[0] == '-' &&
				 a[1] == o.short_name))
			return &o;
		if (!o.arg.empty() && a.rfind(lng + "=", 0) == 0) {
			*inline_arg = std::string(a.substr(lng.size() + 1));
			return &o;
		}
	}
	return nullptr;
}

unsigned parse_count(const std::string &v)
{
	auto n = to_uint(v);
	if (!n || *n == 0 || *n > 1000000000)
		throw UsageError("invalid count " + q(v) +
				 ": give 1..1000000000 events");
	return static_cast<unsigned>(*n);
}

} // namespace

std::span<const Command> commands()
{
	return kCommands;
}

std::span<const Option> options()
{
	return kOptions;
}

std::span<const SetKey> set_keys()
{
	return kSetKeys;
}

const Command &command(Cmd c)
{
	for (const auto &x : kCommands)
		if (x.cmd == c)
			return x;
	return kCommands[0];
}

Invocation parse_command_line(const std::vector<std::string> &args)
{
	Invocation inv;
	std::vector<std::string> pos;
	bool help = false;
	unsigned given = 0;	// CmdOpt bits of the options given
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		std::string v;
		const Option *o = find_option(a, &v);
		if (!o) {
			if (a.size() > 1 && a[0] == '-' &&
			    !(a[1] >= '0' && a[1] <= '9'))
				throw UsageError("unknown option " + q(a) +
						 ": see 'siphelperctl --help'");
			pos.push_back(a);
			continue;
		}
		if (!o->arg.empty() && v.empty()) {
			if (i + 1 >= args.size())
				throw UsageError(a + " needs " +
						 std::string(o->arg));
			v = args[++i];
		}
		given |= o->only;
		switch (o->short_name) {
		case 'j': inv.json = true; break;
		case 'n': inv.netns = v; break;
		case 'f': inv.file = v; break;
		case 'c': inv.count = parse_count(v); break;
		case 'w': inv.write = v; break;
		case 'h': help = true; break;
		case 'V': inv.cmd = Cmd::kVersion; return inv;
		}
	}
	if (!inv.netns.empty() && inv.netns.find('/') != std::string::npos)
		throw UsageError("netns name " + q(inv.netns) +
				 " must not contain '/': give a name from "
				 "'ip netns list'");
	// The longest row whose words begin the positional arguments.
	const Command *cmd = nullptr;
	size_t nwords = 0;
	for (const auto &c : kCommands) {
		size_t n = 0, start = 0;
		std::string_view w = c.words;
		bool match = true;
		while (start <= w.size()) {
			size_t end = w.find(' ', start);
			if (end == w.npos)
				end = w.size();
			if (n >= pos.size() ||
			    pos[n] != w.substr(start, end - start)) {
				match = false;
				break;
			}
			n++;
			start = end + 1;
		}
		if (match && n > nwords) {
			cmd = &c;
			nwords = n;
		}
	}
	if (help) {
		inv.cmd = Cmd::kHelp;
		inv.help_topic = pos.empty() ? "" : pos[0];
		return inv;
	}
	if (pos.empty())	// no command: show, as wg(8) does
		cmd = &command(Cmd::kShow);
	std::vector<std::string> rest(pos.begin() + nwords, pos.end());
	if (!cmd || (cmd->args.empty() && !rest.empty())) {
		const std::string &top = pos[0];
		std::vector<std::string> forms;
		for (const auto &c : kCommands)
			if (first_word(c.words) == top)
				forms.push_back(q(c.words));
		if (forms.empty())
			throw UsageError("unknown command " + q(top) +
					 ": commands are " +
					 or_list(top_words()));
		size_t at = cmd ? nwords : 1;
		throw UsageError(top + ": " +
				 (at < pos.size() ? "unknown argument " +
				  q(pos[at]) + ": " : std::string()) +
				 "use " + or_list(forms));
	}
	for (const auto &o : kOptions)
		if ((given & o.only) && !(cmd->opts & o.only))
			throw UsageError("-" + std::string(1, o.short_name) +
					 "/--" + std::string(o.long_name) +
					 " is not an option of " +
					 q(cmd->words));
	inv.cmd = cmd->cmd;
	if (inv.cmd == Cmd::kSet)
		inv.patch = parse_set_args(rest);
	else if (inv.cmd == Cmd::kCallsFlush && !rest.empty())
		inv.call_id = parse_call_id(rest);
	else if (inv.cmd == Cmd::kHelp)
		inv.help_topic = rest.empty() ? "" : rest[0];
	return inv;
}

std::string usage(std::string_view topic)
{
	std::string out;
	for (const auto &c : kCommands) {
		if (first_word(c.words) != topic || c.cmd == Cmd::kHelp)
			continue;
		out += usage_line(c);
		out += c.more.empty() ? std::string(c.summary) + ".\n" :
					std::string(c.more);
		if (c.cmd == Cmd::kSet)
			for (const auto &k : kSetKeys)
				out += "  " + pad(std::string(k.name) + " " +
						  std::string(k.value), 27) +
				       std::string(k.help) + "\n";
		if (c.admin)
			out += "Needs CAP_NET_ADMIN" +
			       (c.denied.empty() ? std::string() :
				" (" + std::string(c.denied) + ")") + ".\n";
	}
	if (!out.empty())
		return out;
	out = "usage: siphelperctl [OPTIONS] [COMMAND [ARGS]]\n"
	      "Control the siphelper SIP ALG kernel module.\n\nCommands:\n";
	for (const auto &c : kCommands)
		out += "  " + pad(std::string(c.words) +
				  (c.args.empty() ? "" : " ") +
				  std::string(c.args), 21) +
		       std::string(c.summary) + "\n";
	out += "\nOptions:\n";
	for (const auto &o : kOptions)
		out += "  " + pad(std::string("-") + o.short_name + ", --" +
				  std::string(o.long_name) +
				  (o.arg.empty() ? "" : " ") +
				  std::string(o.arg), 21) +
		       std::string(o.help) + "\n";
	return out;
}

ConfigPatch parse_set_args(const std::vector<std::string> &args)
{
	ConfigPatch p;
	std::vector<std::string_view> seen;
	if (args.empty())
		throw UsageError("set: nothing to set: give KEY VALUE pairs, "
				 "see 'siphelperctl set --help'");
	for (size_t i = 0; i < args.size(); i += 2) {
		const SetKey *key = nullptr;
		for (const auto &k : kSetKeys)
			if (args[i] == k.name ||
			    (!k.alias.empty() && args[i] == k.alias))
				key = &k;
		if (!key) {
			std::vector<std::string> names;
			for (const auto &k : kSetKeys)
				names.emplace_back(k.name);
			throw UsageError("set: unknown key " + q(args[i]) +
					 ": keys are " + or_list(names));
		}
		if (i + 1 >= args.size())
			throw UsageError("set: " + q(args[i]) +
					 " needs a value");
		for (auto s : seen)
			if (s == key->name)
				throw UsageError("set: " + q(args[i]) +
						 " given twice: give each key "
						 "once");
		seen.push_back(key->name);
		const std::string &v = args[i + 1];
		if (key->name == "ports")
			p.ports = parse_ports(v);
		else if (key->name == "sip-timeout")
			p.sip_timeout = parse_duration(v);
		else if (key->name == "sip-direct-media")
			p.direct_media = parse_yes_no(key->name, v);
		else if (key->name == "auto-assign")
			p.auto_assign = parse_yes_no(key->name, v);
		else if (key->name == "pinholes-only")
			p.pinholes_only = parse_yes_no(key->name, v);
		else if (key->name == "tcp-hold-max")
			p.tcp_hold_max = parse_size(key->name, v,
						    SIPHELPER_MAX_TCP_HOLD);
		else if (key->name == "tcp-hold-total")
			p.tcp_hold_total = parse_size(
				key->name, v, SIPHELPER_MAX_TCP_HOLD_TOTAL);
		else if (key->name == "sip-unreplied-timeout")
			p.unreplied_timeout = parse_duration(v, key->name, 0);
		else if (key->name == "sip-max-calls")
			p.max_calls = parse_count(key->name, v, 1,
						  SIPHELPER_MAX_SIP_MAX_CALLS);
		else if (key->name == "sip-media-timeout")
			p.media_timeout = parse_duration(v, key->name, 0);
		else if (key->name == "sip-max-call-duration")
			p.max_call_duration = parse_duration(v, key->name, 0);
		else if (key->name == "sip-call-limit")
			p.call_limit = parse_count(key->name, v, 0,
						   SIPHELPER_MAX_SIP_MAX_CALLS);
		else if (key->name == "sip-source-call-limit")
			p.source_call_limit = parse_count(
				key->name, v, 0, SIPHELPER_MAX_SIP_MAX_CALLS);
		else if (key->name == "sip-source-rate")
			p.source_rate = parse_count(
				key->name, v, 0, SIPHELPER_MAX_SIP_SOURCE_RATE);
		else if (key->name == "sip-unknown-methods")
			p.unknown_methods = parse_malformed(v, key->name);
		else
			p.malformed = parse_malformed(v);
	}
	return p;
}

std::string bash_completion()
{
	std::string opt_args, opts, cmds, subs, keys, values;
	for (const auto &o : kOptions) {
		std::string both = std::string("-") + o.short_name + " | --" +
				   std::string(o.long_name);
		opts += std::string(" -") + o.short_name + " --" +
			std::string(o.long_name);
		if (!o.arg.empty())
			opt_args += (opt_args.empty() ? "" : " | ") + both;
		if (!o.values.empty())
			values += "\t" + both + ")\n\t\tCOMPREPLY=($(compgen -W \"" +
				  std::string(o.values) +
				  "\" -- \"$cur\")); return ;;\n";
	}
	for (const auto &k : kSetKeys) {
		keys += (keys.empty() ? "" : " ") + std::string(k.name);
		values += "\t" + std::string(k.name) +
			  (k.alias.empty() ? "" : " | " + std::string(k.alias)) +
			  ")\n\t\tCOMPREPLY=($(compgen -W \"" +
			  std::string(k.values) + "\" -- \"$cur\")); return ;;\n";
	}
	for (const auto &w : top_words()) {
		cmds += w + " ";
		std::string words, flags = " --help";
		for (const auto &c : kCommands) {
			if (first_word(c.words) != w)
				continue;
			if (c.words.size() > w.size())
				words += " " + std::string(c.words.substr(
						       w.size() + 1));
			for (const auto &o : kOptions)
				if (o.only & c.opts)
					flags += std::string(" -") +
						 o.short_name + " --" +
						 std::string(o.long_name);
		}
		if (w == "set")
			words = " " + keys;
		words += flags;		// both lists begin with a blank
		subs += "\t" + w + ")\n\t\tCOMPREPLY=($(compgen -W \"" +
			words.substr(1) + "\" -- \"$cur\")) ;;\n";
	}
	return "# bash completion for siphelperctl, generated from its command "
	       "table\n# by 'siphelperctl completion'.       -*- shell-script "
	       "-*-\n_siphelperctl()\n{\n"
	       "\tlocal cur prev words cword\n"
	       "\t_init_completion || return\n"
	       "\tlocal i cmd=\n"
	       "\tfor ((i = 1; i < cword; i++)); do\n"
	       "\t\tcase ${words[i]} in\n"
	       "\t\t" + opt_args + ") ((i++)) ;;\n"
	       "\t\t-*) ;;\n"
	       "\t\t*) cmd=${words[i]}; break ;;\n"
	       "\t\tesac\n"
	       "\tdone\n"
	       "\tcase $prev in\n"
	       "\t-n | --netns)\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$(ls /run/netns 2>/dev/null)\" "
	       "-- \"$cur\")); return ;;\n"
	       "\t-f | --file | -w | --write)\n\t\t_filedir; return ;;\n" +
	       values +
	       "\tesac\n"
	       "\tcase $cmd in\n"
	       "\t\"\")\n\t\tCOMPREPLY=($(compgen -W \"" + cmds +
	       opts.substr(1) + "\" -- \"$cur\")) ;;\n" + subs +
	       "\t*)\n\t\tCOMPREPLY=($(compgen -W \"--help\" -- \"$cur\")) ;;\n"
	       "\tesac\n"
	       "} && complete -F _siphelperctl siphelperctl\n";
}

} // namespace shp
