// SPDX-License-Identifier: GPL-2.0
// Text and JSON from one description per value, as iproute2's
// print_*(PRINT_ANY, ...): each value is one call naming its JSON key, its
// text label and how it reads in each; done() renders one object, as
// "{...}\n" or as "label: text" lines.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shp {

class Output {
public:
	// align: pad text values to the longest label (columns of numbers)
	explicit Output(bool json, bool align = false)
		: json_(json), align_(align)
	{
	}
	// json_value is JSON already (a number, true, an array...)
	Output &raw(std::string_view key, std::string_view label,
		    std::string json_value, std::string text);
	Output &num(std::string_view key, std::string_view label, uint64_t v);
	Output &yes_no(std::string_view key, std::string_view label, bool v);
	Output &str(std::string_view key, std::string_view label,
		    std::string_view v);
	std::string done() const;

private:
	bool json_, align_;
	struct Field {
		std::string key, label, json, text;
	};
	std::vector<Field> fields_;
};

std::string json_escape(std::string_view s);

// Text from the network on a terminal: no control characters (escape
// sequences) get through, each is written \xNN; CR is dropped (lines end
// in CRLF).
std::string printable(std::string_view s);
// "addr:port", "[addr]:port" for AF_INET6
std::string endpoint(const std::string &addr, uint16_t port, uint8_t l3);
// enum siphelper_event_dir: "out" (from the private side) or "in"
const char *dir_name(uint8_t dir);

// A uapi enumerator's name, from the tables CMakeLists.txt generates
// from the header (event_names.inc, call_state_names.inc).
struct EnumName {
	uint32_t value;
	const char *name;
};
// its name in NAMES, "unknown" if none
const char *enum_name(std::span<const EnumName> names, uint32_t value);

} // namespace shp
