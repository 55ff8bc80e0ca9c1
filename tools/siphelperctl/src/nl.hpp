// SPDX-License-Identifier: GPL-2.0
// siphelperctl's client of the siphelper generic netlink family
// (uapi/siphelper.yaml), over the netlink layer (netlink.hpp).
#pragma once

#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>
#include <stdexcept>
#include <string>

#include "calls.hpp"
#include "ctl.hpp"
#include "netlink.hpp"

namespace shp {

// The siphelper family is not registered: the module is not loaded, and
// the lookup's autoload (MODULE_ALIAS_GENL_FAMILY) could not load it.
struct FamilyMissing : NlError {
	FamilyMissing()
		: NlError(ENOENT, "siphelper module not loaded, and the kernel "
				  "could not load it: install it (make "
				  "dkms-install), or run 'modprobe siphelper' "
				  "to see why")
	{
	}
};

// Enter the network namespace /run/netns/NAME (before opening a Client).
void enter_netns(const std::string &name);

class Client {
public:
	Client();  // opens the socket and resolves the family
	Config get_config();
	void set_config(const ConfigPatch &p);
	Stats get_stats();
	void reset_stats();
	FlushResult flush();
	std::vector<Call> get_calls();
	// every call, or those with call_id; returns how many went
	uint32_t flush_calls(const std::optional<std::string> &call_id);

	// Join the "events" multicast group (needs CAP_NET_ADMIN).
	void join_events();
	int fd() const;
	// Read the notifications waiting on the socket without blocking;
	// on_event gets the attributes of each. Returns false if none
	// were waiting. Throws NlError, ENOBUFS when events were lost.
	bool read_events(
		const std::function<void(std::span<const uint8_t>)> &on_event);

private:
	nlmsghdr *start(std::vector<char> &buf, uint16_t type, uint8_t cmd,
			uint8_t version);

	NlSocket sock_;
	uint16_t family_ = 0;
	uint32_t events_grp_ = 0;  // multicast group id, 0 if none
};

} // namespace shp
