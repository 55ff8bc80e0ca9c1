// SPDX-License-Identifier: GPL-2.0
// siphelperctl's netlink layer: the socket and its two receive loops.
#include "netlink.hpp"

#include <cstring>
#include <ctime>
#include <optional>
#include <vector>

#include <sys/socket.h>

#include <linux/netlink.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

namespace shp {

std::string nl_reason(int err, const std::string &extack)
{
	return extack.empty() ? std::string(strerror(err)) :
				extack + " (" + strerror(err) + ")";
}

std::string extack_of(const nlmsghdr *nlh)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
		return "";
	auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
	size_t off = sizeof(nlmsgerr);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(nlmsghdr);
	std::string msg;
	if (sizeof(nlmsghdr) + off > nlh->nlmsg_len)
		return "";
	for_each_attr(nlh, off, [&msg](const nlattr *a) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			msg = mnl_attr_get_str(a);
	});
	return msg;
}

NlError recv_error()
{
	return NlError(errno, std::string("netlink receive failed: ") +
				      strerror(errno));
}

NlSocket::NlSocket(int bus, const std::string &what)
{
	sock_.reset(mnl_socket_open(bus));
	if (!sock_)
		throw NlError(errno, "cannot open a " + what +
					     " netlink socket: " +
					     strerror(errno));
	if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
		throw NlError(errno, "cannot bind the " + what +
					     " netlink socket: " +
					     strerror(errno));
	int one = 1;
	// Best effort: older kernels lack them, messages then lack detail.
	mnl_socket_setsockopt(sock_.get(), NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock_.get(), NETLINK_CAP_ACK, &one, sizeof(one));
	portid_ = mnl_socket_get_portid(sock_.get());
	seq_ = static_cast<uint32_t>(time(nullptr));
}

int NlSocket::fd() const
{
	return mnl_socket_get_fd(sock_.get());
}

void NlSocket::send(const void *buf, size_t len)
{
	if (mnl_socket_sendto(sock_.get(), buf, len) < 0)
		throw NlError(errno, std::string("netlink send failed: ") +
					     strerror(errno));
}

void NlSocket::request(const nlmsghdr *nlh,
		       const std::function<void(const nlmsghdr *)> &on_msg)
{
	send(nlh, nlh->nlmsg_len);
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
	uint32_t seq = nlh->nlmsg_seq;
	bool done = false;
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(),
						buf.size());
		if (n < 0)
			throw recv_error();
		for_each_msg(buf.data(), n, [&](const nlmsghdr *m) {
			if (done || m->nlmsg_seq != seq ||
			    m->nlmsg_pid != portid_)
				return;
			if (m->nlmsg_type == NLMSG_DONE) {
				done = true;
				return;
			}
			if (m->nlmsg_type != NLMSG_ERROR) {
				on_msg(m);
				return;
			}
			if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
				throw NlError(EBADMSG, "truncated netlink "
						       "error");
			auto *e = static_cast<const nlmsgerr *>(
				mnl_nlmsg_get_payload(m));
			if (e->error == 0) {
				done = true;  // the ack
				return;
			}
			std::string ext = extack_of(m);
			throw NlError(-e->error, nl_reason(-e->error, ext),
				      ext);
		});
	}
}

size_t NlSocket::read_acks(
	const std::function<void(uint32_t, int, const std::string &)>
		&on_error)
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
	size_t acks = 0;
	for (;;) {
		ssize_t n = recv(fd(), buf.data(), buf.size(), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return acks;
			throw recv_error();
		}
		for_each_msg(buf.data(), n, [&](const nlmsghdr *m) {
			if (m->nlmsg_type != NLMSG_ERROR ||
			    m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
				return;
			auto *e = static_cast<const nlmsgerr *>(
				mnl_nlmsg_get_payload(m));
			if (!e->error)
				acks++;
			else
				on_error(m->nlmsg_seq, -e->error,
					 extack_of(m));
		});
	}
}

} // namespace shp
