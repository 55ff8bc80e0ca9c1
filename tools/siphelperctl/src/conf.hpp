// SPDX-License-Identifier: GPL-2.0
// /etc/siphelper.conf: the `siphelperctl set` grammar in a file. Each line
// holds zero or more KEY VALUE pairs; '#' starts a comment; each key at
// most once per file. Pure C++, unit tested.
#pragma once

#include <string>
#include <string_view>

#include "ctl.hpp"

namespace shp {

inline constexpr const char *kDefaultConf = "/etc/siphelper.conf";

// Parse the whole text; throws UsageError "NAME:LINE: what is wrong" on
// the first error (nothing is applied then).
ConfigPatch parse_conf(std::string_view text, const std::string &name);

// Read and parse PATH; a file that cannot be read throws
// std::runtime_error (exit 1), bad content UsageError (exit 2).
ConfigPatch read_conf(const std::string &path);

} // namespace shp
