// SPDX-License-Identifier: GPL-2.0
// Text and JSON output from one description per value.
#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <sys/socket.h>

#include <linux/siphelper.h>

namespace shp {

Output &Output::raw(std::string_view key, std::string_view label,
		    std::string json_value, std::string text)
{
	fields_.push_back({std::string(key), std::string(label),
			   std::move(json_value), std::move(text)});
	return *this;
}

Output &Output::num(std::string_view key, std::string_view label, uint64_t v)
{
	return raw(key, label, std::to_string(v), std::to_string(v));
}

Output &Output::yes_no(std::string_view key, std::string_view label, bool v)
{
	return raw(key, label, v ? "true" : "false", v ? "yes" : "no");
}

Output &Output::str(std::string_view key, std::string_view label,
		    std::string_view v)
{
	return raw(key, label, json_escape(v), std::string(v));
}

std::string Output::done() const
{
	std::string o;
	if (json_) {
		for (const auto &f : fields_)
			o += (o.empty() ? "{" : ",") + json_escape(f.key) +
			     ":" + f.json;
		return (o.empty() ? "{" : o) + "}\n";
	}
	size_t w = 0;
	for (const auto &f : fields_)
		w = std::max(w, f.label.size());
	for (const auto &f : fields_)
		o += f.label + ":" +
		     std::string(align_ ? w - f.label.size() + 1 : 1, ' ') +
		     f.text + "\n";
	return o;
}

// Any bytes (names, or whole SIP messages for monitor): control and
// non-ASCII bytes as \u00XX, so the exact bytes come back with
// .encode("latin-1").
std::string json_escape(std::string_view s)
{
	std::string o = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			o += '\\';
			o += static_cast<char>(c);
		} else if (c < 0x20 || c >= 0x7f) {
			char buf[8];
			snprintf(buf, sizeof(buf), "\\u%04x", c);
			o += buf;
		} else {
			o += static_cast<char>(c);
		}
	}
	return o + "\"";
}

std::string printable(std::string_view s)
{
	std::string o;
	for (unsigned char c : s) {
		if (c == '\r')
			continue;
		if (c < 0x20 || c == 0x7f) {
			char buf[8];
			snprintf(buf, sizeof(buf), "\\x%02x", c);
			o += buf;
		} else {
			o += static_cast<char>(c);
		}
	}
	return o;
}

std::string endpoint(const std::string &addr, uint16_t port, uint8_t l3)
{
	if (l3 == AF_INET6)
		return "[" + addr + "]:" + std::to_string(port);
	return addr + ":" + std::to_string(port);
}

const char *enum_name(std::span<const EnumName> names, uint32_t value)
{
	for (const auto &n : names)
		if (n.value == value)
			return n.name;
	return "unknown";
}

const char *dir_name(uint8_t dir)
{
	return dir == SIPHELPER_DIR_OUT ? "out" : "in";
}

} // namespace shp
