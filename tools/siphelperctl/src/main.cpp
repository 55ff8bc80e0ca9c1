// SPDX-License-Identifier: GPL-2.0
// siphelperctl: control the siphelper SIP ALG kernel module.
// Exit status: 0 ok, 1 runtime error, 2 usage error (nothing sent).
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "conf.hpp"
#include "ctl.hpp"
#include "nft.hpp"
#include "monitor_run.hpp"
#include "nl.hpp"

#ifndef SIPHELPER_VERSION
#define SIPHELPER_VERSION "unknown"
#endif

namespace {

int run(const shp::Invocation &inv)
{
	using shp::Cmd;
	switch (inv.cmd) {
	case Cmd::kHelp:
		std::cout << shp::usage(inv.help_topic);
		return 0;
	case Cmd::kVersion:
		std::cout << "siphelperctl " SIPHELPER_VERSION "\n";
		return 0;
	case Cmd::kCompletion:
		std::cout << shp::bash_completion();
		return 0;
	default:
		break;
	}
	// The whole file is checked before anything is sent.
	shp::ConfigPatch conf;
	if (inv.cmd == Cmd::kApply)
		conf = shp::read_conf(inv.file.empty() ? shp::kDefaultConf :
							 inv.file);
	if (!inv.netns.empty())
		shp::enter_netns(inv.netns);
	shp::Client c;
	switch (inv.cmd) {
	case Cmd::kShow:
		std::cout << shp::format_config(c.get_config(), inv.json);
		break;
	case Cmd::kSet:
		c.set_config(inv.patch);
		if (inv.patch.ports)
			shp::sync_nft_ports(c);
		break;
	case Cmd::kStats:
		std::cout << shp::format_stats(c.get_stats(), inv.json);
		break;
	case Cmd::kStatsReset:
		c.reset_stats();
		break;
	case Cmd::kFlush:
		std::cout << shp::format_flush(c.flush(), inv.json);
		break;
	case Cmd::kCalls:
		std::cout << shp::format_calls(c.get_calls(), inv.json);
		break;
	case Cmd::kCallsFlush:
		std::cout << shp::format_calls_flushed(
			c.flush_calls(inv.call_id), inv.json);
		break;
	case Cmd::kApply:
		c.set_config(conf);
		if (conf.ports)
			shp::sync_nft_ports(c);
		break;
	case Cmd::kNftInstall:
	case Cmd::kNftRemove:
	case Cmd::kNftShow:
		shp::run_nft(inv, c);
		break;
	case Cmd::kMonitor:
		return shp::run_monitor(c, inv);
	default:
		break;
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	shp::Invocation inv;
	try {
		inv = shp::parse_command_line(
			std::vector<std::string>(argv + 1, argv + argc));
	} catch (const shp::UsageError &e) {
		std::cerr << "siphelperctl: " << e.what() << "\n";
		return 2;
	}
	try {
		return run(inv);
	} catch (const shp::UsageError &e) {  // a bad config file
		std::cerr << "siphelperctl: " << e.what() << "\n";
		return 2;
	} catch (const shp::FamilyMissing &e) {
		std::cerr << "siphelperctl: " << e.what() << "\n";
	} catch (const shp::NlError &e) {
		const shp::Command &c = shp::command(inv.cmd);
		if (e.err == EPERM || e.err == EACCES)
			std::cerr << "siphelperctl: " << c.words
				  << ": permission denied: "
				  << (c.denied.empty() ? "" : c.denied)
				  << (c.denied.empty() ? "" : " ")
				  << "needs CAP_NET_ADMIN (run as root)\n";
		else
			std::cerr << "siphelperctl: " << e.what() << "\n";
	} catch (const std::exception &e) {
		std::cerr << "siphelperctl: " << e.what() << "\n";
	}
	return 1;
}
