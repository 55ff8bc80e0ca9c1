// SPDX-License-Identifier: GPL-2.0
// siphelperctl netlink layer: a thin RAII client of the siphelper generic
// netlink family (uapi/linux/siphelper.h) over libmnl.
#pragma once

#include <cerrno>
#include <functional>
#include <memory>
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
};

} // namespace shp
