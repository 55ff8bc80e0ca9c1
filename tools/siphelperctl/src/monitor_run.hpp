// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: listen to the "events" group and print each event.
#pragma once

#include "nl.hpp"

namespace shp {

// Prints events (or, with -w FILE, writes the rewrites to FILE as pcapng)
// until SIGINT/SIGTERM or, if -c N is given, N events. Returns the exit
// status (0); throws NlError on netlink errors, std::runtime_error when
// FILE cannot be written.
int run_monitor(Client &c, const Invocation &inv);

} // namespace shp
