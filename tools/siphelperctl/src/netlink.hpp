// SPDX-License-Identifier: GPL-2.0
// siphelperctl's one netlink layer over libmnl: an RAII socket asking for
// extended acks, the request loop (replies until the ack or NLMSG_DONE, an
// error carrying the kernel's message), the loop that reads a batch's
// acks, and attribute walking. The siphelper family (nl.cpp), nf_tables
// (nft.cpp) and monitor (events on the family's socket) use it.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <sys/types.h>

#include <libmnl/libmnl.h>

namespace shp {

// A request failed. err is the errno (0 if none); extack the kernel's
// extended ack message, "" if it sent none; what() says both.
struct NlError : std::runtime_error {
	int err;
	std::string extack;
	NlError(int e, const std::string &m, std::string ext = "")
		: std::runtime_error(m), err(e), extack(std::move(ext))
	{
	}
};

// "extack (strerror)", or strerror alone.
std::string nl_reason(int err, const std::string &extack);

// The extended-ack message of an NLMSG_ERROR, "" if none.
std::string extack_of(const nlmsghdr *nlh);

class NlSocket {
public:
	// bus: NETLINK_GENERIC, NETLINK_NETFILTER...; what names it in
	// errors ("generic netlink").
	NlSocket(int bus, const std::string &what);
	mnl_socket *get() const { return sock_.get(); }
	int fd() const;
	uint32_t portid() const { return portid_; }
	uint32_t &seq() { return seq_; }
	void send(const void *buf, size_t len);
	// Send nlh (it asked for an ack, or is a dump); on_msg sees each
	// reply to it until the ack or NLMSG_DONE. An error answer throws
	// NlError(errno, nl_reason(), extack).
	void request(const nlmsghdr *nlh,
		     const std::function<void(const nlmsghdr *)> &on_msg);
	// After a batch whose messages all asked for an ack: read what is
	// queued (the kernel answers a batch inside sendmsg()); on_error
	// sees each error answer. Returns the number of acks.
	size_t read_acks(const std::function<void(uint32_t seq, int err,
						  const std::string &extack)>
				 &on_error);

private:
	struct Deleter {
		void operator()(mnl_socket *s) const { mnl_socket_close(s); }
	};
	std::unique_ptr<mnl_socket, Deleter> sock_;
	uint32_t portid_ = 0;
	uint32_t seq_ = 0;
};

// A failed recv() on a netlink socket, errno as it is.
NlError recv_error();

// Each netlink message of n bytes received in buf.
template <class F> void for_each_msg(const char *buf, ssize_t n, F f)
{
	int len = static_cast<int>(n);
	for (auto *m = reinterpret_cast<const nlmsghdr *>(buf);
	     mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len))
		f(m);
}

// libmnl's mnl_attr_for_each* macros do not compile as C++ (void *).
template <class F> void for_each_attr(const nlmsghdr *nlh, size_t off, F f)
{
	const char *tail = static_cast<const char *>(
		mnl_nlmsg_get_payload_tail(nlh));
	auto *a = reinterpret_cast<const nlattr *>(
		static_cast<const char *>(mnl_nlmsg_get_payload(nlh)) + off);
	while (mnl_attr_ok(a, static_cast<int>(
			      tail - reinterpret_cast<const char *>(a)))) {
		f(a);
		a = mnl_attr_next(a);
	}
}

template <class F> void for_each_nested(const nlattr *nest, F f)
{
	const char *tail = reinterpret_cast<const char *>(nest) +
			   mnl_attr_get_len(nest);
	auto *a = static_cast<const nlattr *>(mnl_attr_get_payload(nest));
	while (mnl_attr_ok(a, static_cast<int>(
			      tail - reinterpret_cast<const char *>(a)))) {
		f(a);
		a = mnl_attr_next(a);
	}
}

// The attributes after a header of hdrlen bytes, by type (last wins).
template <size_t N>
void parse_attrs(const nlmsghdr *nlh, size_t hdrlen,
		 std::array<const nlattr *, N> &tb)
{
	tb.fill(nullptr);
	for_each_attr(nlh, hdrlen, [&tb](const nlattr *a) {
		auto t = mnl_attr_get_type(a);
		if (t < N)
			tb[t] = a;
	});
}

template <size_t N>
void parse_nested(const nlattr *nest, std::array<const nlattr *, N> &tb)
{
	tb.fill(nullptr);
	for_each_nested(nest, [&tb](const nlattr *a) {
		auto t = mnl_attr_get_type(a);
		if (t < N)
			tb[t] = a;
	});
}

} // namespace shp
