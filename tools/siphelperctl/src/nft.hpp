// SPDX-License-Identifier: GPL-2.0
// siphelperctl nft mode: table inet siphelper through libnftnl (one
// NETLINK_NETFILTER socket, one batch transaction per change).
#pragma once

#include <memory>
#include <string>

#include "ctl.hpp"
#include "nft_plan.hpp"
#include "netlink.hpp"
#include "nl.hpp"

namespace shp {

class Nft {
public:
	Nft();  // opens the nfnetlink socket
	// Replace (or create) the table with plan, all or nothing.
	void install(const NftPlan &plan);
	// Delete the table; false if it did not exist.
	bool remove();
	NftState state();

private:
	NlSocket sock_;
};

// `siphelperctl nft install|remove|show` with the genl client c.
void run_nft(const Invocation &inv, Client &c);

// After a port change: if table inet siphelper exists and no longer
// matches the kernel's ports, replace its rules (one transaction).
void sync_nft_ports(Client &c);

} // namespace shp
