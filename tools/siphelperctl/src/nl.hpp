// SPDX-License-Identifier: GPL-2.0
// siphelperctl netlink layer: a thin RAII client of the siphelper generic
// netlink family (uapi/linux/siphelper.h) over libmnl.
#pragma once

#include <cerrno>
#include <functional>
#include <memory>
#include <span>
#include <vector>
#include <stdexcept>
#include <string>

#include "ctl.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace shp {

// A request failed. err is the errno (0 if none); msg includes the
// kernel's extended ack message when it sent one.
struct NlError : std::runtime_error {
	int err;
	NlError(int e, const std::string &m) : std::runtime_error(m), err(e) {}
};

// The siphelper family is not registered (module not loaded).
struct FamilyMissing : NlError {
	FamilyMissing() : NlError(ENOENT, "siphelper module not loaded: run "
				  "'modprobe siphelper'") {}
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

	// Join the "events" multicast group (needs CAP_NET_ADMIN).
	void join_events();
	int fd() const;
	// Read the notifications waiting on the socket without blocking;
	// on_event gets the attributes of each. Returns false if none
	// were waiting. Throws NlError, ENOBUFS when events were lost.
	bool read_events(
		const std::function<void(std::span<const uint8_t>)> &on_event);

private:
	struct SockDeleter {
		void operator()(mnl_socket *s) const;
	};
	// Send nlh (in buf) and call on_reply for each reply until the ack.
	void transact(nlmsghdr *nlh,
		      const std::function<void(const nlmsghdr *)> &on_reply);
	nlmsghdr *start(std::vector<char> &buf, uint16_t type, uint8_t cmd,
			uint8_t version);

	std::unique_ptr<mnl_socket, SockDeleter> sock_;
	uint16_t family_ = 0;
	uint32_t portid_ = 0;
	uint32_t seq_ = 0;
	uint32_t events_grp_ = 0;  // multicast group id, 0 if none
};

} // namespace shp
