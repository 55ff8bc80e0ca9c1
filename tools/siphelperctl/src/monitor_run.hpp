// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: listen to the "events" group and print each event.
#pragma once

#include "nl.hpp"

namespace shp {

// Prints events until SIGINT/SIGTERM or, if count is not 0, count events.
// Returns the exit status (0); throws NlError on netlink errors.
int run_monitor(Client &c, bool json, unsigned count);

} // namespace shp
