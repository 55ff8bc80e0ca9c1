// SPDX-License-Identifier: GPL-2.0
// /etc/siphelper.conf parsing: every line through the same parser as
// `siphelperctl set`, so the file and the command line cannot diverge.
#include "conf.hpp"

#include "commands.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace shp {
namespace {

std::vector<std::string> tokens(std::string_view line)
{
	std::vector<std::string> out;
	size_t i = 0;
	while (i < line.size()) {
		while (i < line.size() && (line[i] == ' ' || line[i] == '\t' ||
					   line[i] == '\r'))
			i++;
		size_t start = i;
		while (i < line.size() && line[i] != ' ' && line[i] != '\t' &&
		       line[i] != '\r')
			i++;
		if (i > start)
			out.emplace_back(line.substr(start, i - start));
	}
	return out;
}

// The canonical key of a `set` key (the aliases set accepts).
std::string canonical(const std::string &k)
{
	for (const auto &key : set_keys())
		if (k == key.alias)
			return std::string(key.name);
	return k;
}

template <class T> void take(std::optional<T> &to, const std::optional<T> &from)
{
	if (from)
		to = from;
}

} // namespace

ConfigPatch parse_conf(std::string_view text, const std::string &name)
{
	ConfigPatch all;
	std::map<std::string, unsigned> first_line;  // key -> line
	unsigned lineno = 0;
	size_t pos = 0;
	while (pos <= text.size()) {
		size_t nl = text.find('\n', pos);
		std::string_view line = text.substr(
			pos, nl == text.npos ? text.npos : nl - pos);
		pos = nl == text.npos ? text.size() + 1 : nl + 1;
		lineno++;
		if (auto hash = line.find('#'); hash != line.npos)
			line = line.substr(0, hash);
		auto toks = tokens(line);
		if (toks.empty())
			continue;
		const std::string at = name + ":" + std::to_string(lineno) +
				       ": ";
		ConfigPatch p;
		try {
			p = parse_set_args(toks);
		} catch (const UsageError &e) {
			std::string m = e.what();
			if (m.rfind("set: ", 0) == 0)
				m = m.substr(5);
			throw UsageError(at + m);
		}
		for (size_t i = 0; i < toks.size(); i += 2) {
			auto key = canonical(toks[i]);
			auto [it, fresh] = first_line.emplace(key, lineno);
			if (!fresh)
				throw UsageError(at + "'" + toks[i] +
						 "' is already set on line " +
						 std::to_string(it->second) +
						 ": give each key once");
		}
		take(all.ports, p.ports);
		take(all.sip_timeout, p.sip_timeout);
		take(all.direct_media, p.direct_media);
		take(all.auto_assign, p.auto_assign);
		take(all.malformed, p.malformed);
		take(all.pinholes_only, p.pinholes_only);
		take(all.tcp_hold_max, p.tcp_hold_max);
		take(all.tcp_hold_total, p.tcp_hold_total);
		take(all.unreplied_timeout, p.unreplied_timeout);
		take(all.max_calls, p.max_calls);
		take(all.media_timeout, p.media_timeout);
		take(all.max_call_duration, p.max_call_duration);
		take(all.call_limit, p.call_limit);
		take(all.source_call_limit, p.source_call_limit);
		take(all.source_rate, p.source_rate);
		take(all.unknown_methods, p.unknown_methods);
	}
	if (all.empty())
		throw UsageError(name + ": no settings: write KEY VALUE lines "
				 "such as 'ports 5060,5061' (see "
				 "siphelperctl(8))");
	return all;
}

ConfigPatch read_conf(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error("cannot read " + path + ": " +
					 strerror(errno));
	std::ostringstream s;
	s << f.rdbuf();
	if (f.bad())
		throw std::runtime_error("cannot read " + path + ": " +
					 strerror(errno));
	return parse_conf(s.str(), path);
}

} // namespace shp
