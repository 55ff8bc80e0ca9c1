// SPDX-License-Identifier: GPL-2.0
// siphelperctl netlink layer over libmnl.
#include "nl.hpp"

#include <array>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/siphelper.h>

namespace shp {
namespace {

struct Fd {
	int fd;
	explicit Fd(int f) : fd(f) {}
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
};

NlError bad_reply(const char *what)
{
	return NlError(EBADMSG, std::string("malformed reply from the "
					    "kernel: ") + what);
}

} // namespace

void enter_netns(const std::string &name)
{
	std::string path = "/run/netns/" + name;
	Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (fd.fd < 0)
		throw NlError(errno, "cannot open network namespace " + path +
				     ": " + strerror(errno) +
				     " (see 'ip netns list')");
	if (setns(fd.fd, CLONE_NEWNET) < 0)
		throw NlError(errno, "cannot enter network namespace " + name +
				     ": " + strerror(errno));
}

Client::Client() : sock_(NETLINK_GENERIC, "generic")
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, SIPHELPER_GENL_NAME);
	try {
		sock_.request(nlh, [this](const nlmsghdr *r) {
			std::array<const nlattr *, CTRL_ATTR_MAX + 1> tb;
			parse_attrs(r, sizeof(genlmsghdr), tb);
			if (tb[CTRL_ATTR_FAMILY_ID])
				family_ = mnl_attr_get_u16(
					tb[CTRL_ATTR_FAMILY_ID]);
			if (!tb[CTRL_ATTR_MCAST_GROUPS])
				return;
			for_each_nested(tb[CTRL_ATTR_MCAST_GROUPS],
					[this](const nlattr *g) {
				std::array<const nlattr *,
					   CTRL_ATTR_MCAST_GRP_MAX + 1> gt;
				parse_nested(g, gt);
				if (gt[CTRL_ATTR_MCAST_GRP_NAME] &&
				    gt[CTRL_ATTR_MCAST_GRP_ID] &&
				    mnl_attr_validate(gt[CTRL_ATTR_MCAST_GRP_NAME],
						      MNL_TYPE_NUL_STRING) == 0 &&
				    !strcmp(mnl_attr_get_str(
						    gt[CTRL_ATTR_MCAST_GRP_NAME]),
					    SIPHELPER_GENL_MCGRP_EVENTS))
					events_grp_ = mnl_attr_get_u32(
						gt[CTRL_ATTR_MCAST_GRP_ID]);
			});
		});
	} catch (const NlError &e) {
		if (e.err == ENOENT)
			throw FamilyMissing();
		throw;
	}
	if (!family_)
		throw FamilyMissing();
}

nlmsghdr *Client::start(std::vector<char> &buf, uint16_t type, uint8_t cmd,
			uint8_t version)
{
	nlmsghdr *nlh = mnl_nlmsg_put_header(buf.data());
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++sock_.seq();
	auto *g = static_cast<genlmsghdr *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

Config Client::get_config()
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, family_, SIPHELPER_CMD_GET_CONFIG,
			      SIPHELPER_GENL_VERSION);
	Config c;
	bool got = false;
	sock_.request(nlh, [&](const nlmsghdr *r) {
		std::array<const nlattr *, SIPHELPER_A_MAX + 1> tb;
		parse_attrs(r, sizeof(genlmsghdr), tb);
		if (!tb[SIPHELPER_A_PORTS] || !tb[SIPHELPER_A_SIP_TIMEOUT] ||
		    !tb[SIPHELPER_A_DIRECT_MEDIA] ||
		    !tb[SIPHELPER_A_AUTO_ASSIGN] ||
		    !tb[SIPHELPER_A_MALFORMED_POLICY])
			throw bad_reply("config attribute missing");
		for_each_nested(tb[SIPHELPER_A_PORTS], [&c](const nlattr *e) {
			std::array<const nlattr *, SIPHELPER_A_PORT_MAX + 1> pt;
			parse_nested(e, pt);
			if (!pt[SIPHELPER_A_PORT_LO] || !pt[SIPHELPER_A_PORT_HI] ||
			    !pt[SIPHELPER_A_PORT_PROTOS])
				throw bad_reply("port entry incomplete");
			c.ports.push_back(PortRange{
				mnl_attr_get_u16(pt[SIPHELPER_A_PORT_LO]),
				mnl_attr_get_u16(pt[SIPHELPER_A_PORT_HI]),
				mnl_attr_get_u8(pt[SIPHELPER_A_PORT_PROTOS])});
		});
		c.sip_timeout = mnl_attr_get_u32(tb[SIPHELPER_A_SIP_TIMEOUT]);
		c.direct_media = mnl_attr_get_u8(tb[SIPHELPER_A_DIRECT_MEDIA]);
		c.auto_assign = mnl_attr_get_u8(tb[SIPHELPER_A_AUTO_ASSIGN]);
		c.malformed = mnl_attr_get_u8(
				      tb[SIPHELPER_A_MALFORMED_POLICY]) ?
				      Malformed::kDrop :
				      Malformed::kAccept;
		// absent from modules before pinholes-only existed
		if (tb[SIPHELPER_A_PINHOLES_ONLY])
			c.pinholes_only = mnl_attr_get_u8(
				tb[SIPHELPER_A_PINHOLES_ONLY]);
		if (tb[SIPHELPER_A_TCP_HOLD_MAX])
			c.tcp_hold_max = mnl_attr_get_u32(
				tb[SIPHELPER_A_TCP_HOLD_MAX]);
		if (tb[SIPHELPER_A_TCP_HOLD_TOTAL])
			c.tcp_hold_total = mnl_attr_get_u32(
				tb[SIPHELPER_A_TCP_HOLD_TOTAL]);
		if (tb[SIPHELPER_A_SIP_UNREPLIED_TIMEOUT])
			c.unreplied_timeout = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_UNREPLIED_TIMEOUT]);
		if (tb[SIPHELPER_A_SIP_MAX_CALLS])
			c.max_calls = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_MAX_CALLS]);
		if (tb[SIPHELPER_A_SIP_MEDIA_TIMEOUT])
			c.media_timeout = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_MEDIA_TIMEOUT]);
		if (tb[SIPHELPER_A_SIP_MAX_CALL_DURATION])
			c.max_call_duration = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_MAX_CALL_DURATION]);
		if (tb[SIPHELPER_A_SIP_CALL_LIMIT])
			c.call_limit = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_CALL_LIMIT]);
		if (tb[SIPHELPER_A_SIP_SOURCE_CALL_LIMIT])
			c.source_call_limit = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_SOURCE_CALL_LIMIT]);
		if (tb[SIPHELPER_A_SIP_SOURCE_RATE])
			c.source_rate = mnl_attr_get_u32(
				tb[SIPHELPER_A_SIP_SOURCE_RATE]);
		if (tb[SIPHELPER_A_SIP_UNKNOWN_METHODS])
			c.unknown_methods = static_cast<Malformed>(
				mnl_attr_get_u8(
					tb[SIPHELPER_A_SIP_UNKNOWN_METHODS]));
		got = true;
	});
	if (!got)
		throw bad_reply("no configuration in the reply");
	return c;
}

void Client::set_config(const ConfigPatch &p)
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, family_, SIPHELPER_CMD_SET_CONFIG,
			      SIPHELPER_GENL_VERSION);
	if (p.ports) {
		nlattr *ports = mnl_attr_nest_start(nlh, SIPHELPER_A_PORTS);
		for (const auto &r : *p.ports) {
			nlattr *e = mnl_attr_nest_start(nlh,
							SIPHELPER_A_PORTS_ENTRY);
			mnl_attr_put_u16(nlh, SIPHELPER_A_PORT_LO, r.lo);
			mnl_attr_put_u16(nlh, SIPHELPER_A_PORT_HI, r.hi);
			mnl_attr_put_u8(nlh, SIPHELPER_A_PORT_PROTOS, r.protos);
			mnl_attr_nest_end(nlh, e);
		}
		mnl_attr_nest_end(nlh, ports);
	}
	if (p.sip_timeout)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_TIMEOUT, *p.sip_timeout);
	if (p.direct_media)
		mnl_attr_put_u8(nlh, SIPHELPER_A_DIRECT_MEDIA, *p.direct_media);
	if (p.auto_assign)
		mnl_attr_put_u8(nlh, SIPHELPER_A_AUTO_ASSIGN, *p.auto_assign);
	if (p.malformed)
		mnl_attr_put_u8(nlh, SIPHELPER_A_MALFORMED_POLICY,
				static_cast<uint8_t>(*p.malformed));
	if (p.pinholes_only)
		mnl_attr_put_u8(nlh, SIPHELPER_A_PINHOLES_ONLY,
				*p.pinholes_only);
	if (p.tcp_hold_max)
		mnl_attr_put_u32(nlh, SIPHELPER_A_TCP_HOLD_MAX,
				 *p.tcp_hold_max);
	if (p.tcp_hold_total)
		mnl_attr_put_u32(nlh, SIPHELPER_A_TCP_HOLD_TOTAL,
				 *p.tcp_hold_total);
	if (p.unreplied_timeout)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_UNREPLIED_TIMEOUT,
				 *p.unreplied_timeout);
	if (p.max_calls)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_MAX_CALLS, *p.max_calls);
	if (p.media_timeout)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_MEDIA_TIMEOUT,
				 *p.media_timeout);
	if (p.max_call_duration)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_MAX_CALL_DURATION,
				 *p.max_call_duration);
	if (p.call_limit)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_CALL_LIMIT, *p.call_limit);
	if (p.source_call_limit)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_SOURCE_CALL_LIMIT,
				 *p.source_call_limit);
	if (p.source_rate)
		mnl_attr_put_u32(nlh, SIPHELPER_A_SIP_SOURCE_RATE,
				 *p.source_rate);
	if (p.unknown_methods)
		mnl_attr_put_u8(nlh, SIPHELPER_A_SIP_UNKNOWN_METHODS,
				static_cast<uint8_t>(*p.unknown_methods));
	sock_.request(nlh, [](const nlmsghdr *) {});
}

Stats Client::get_stats()
{
	/* generated from the uapi header (CMakeLists.txt) */
	static constexpr struct {
		int attr;
		const char *name;
	} names[] = {
#include "stat_names.inc"
	};
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, family_, SIPHELPER_CMD_GET_STATS,
			      SIPHELPER_GENL_VERSION);
	Stats s;
	sock_.request(nlh, [&](const nlmsghdr *r) {
		std::array<const nlattr *, SIPHELPER_A_MAX + 1> tb;
		parse_attrs(r, sizeof(genlmsghdr), tb);
		if (!tb[SIPHELPER_A_STATS])
			throw bad_reply("no statistics in the reply");
		for_each_nested(tb[SIPHELPER_A_STATS], [&s](const nlattr *a) {
			auto t = mnl_attr_get_type(a);
			if (t == SIPHELPER_A_STAT_PAD ||
			    mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				return;
			std::string name = "stat" + std::to_string(t);
			for (const auto &n : names)
				if (n.attr == t)
					name = n.name;
			s.emplace_back(name, mnl_attr_get_u64(a));
		});
	});
	return s;
}

void Client::reset_stats()
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	sock_.request(start(buf, family_, SIPHELPER_CMD_RESET_STATS,
		       SIPHELPER_GENL_VERSION),
		 [](const nlmsghdr *) {});
}

FlushResult Client::flush()
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	FlushResult f;
	sock_.request(start(buf, family_, SIPHELPER_CMD_FLUSH,
		       SIPHELPER_GENL_VERSION),
		 [&](const nlmsghdr *r) {
			 std::array<const nlattr *, SIPHELPER_A_MAX + 1> tb;
			 parse_attrs(r, sizeof(genlmsghdr), tb);
			 if (tb[SIPHELPER_A_FLUSH_CONNTRACKS])
				 f.conntracks = mnl_attr_get_u32(
					 tb[SIPHELPER_A_FLUSH_CONNTRACKS]);
			 if (tb[SIPHELPER_A_FLUSH_EXPECTS])
				 f.expects = mnl_attr_get_u32(
					 tb[SIPHELPER_A_FLUSH_EXPECTS]);
		 });
	return f;
}

std::vector<Call> Client::get_calls()
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, family_, SIPHELPER_CMD_GET_CALLS,
			      SIPHELPER_GENL_VERSION);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	std::vector<Call> calls;
	sock_.request(nlh, [&](const nlmsghdr *r) {
		std::array<const nlattr *, SIPHELPER_A_MAX + 1> tb;
		parse_attrs(r, sizeof(genlmsghdr), tb);
		if (!tb[SIPHELPER_A_CALL])
			return;
		auto *p = static_cast<const uint8_t *>(
			mnl_attr_get_payload(tb[SIPHELPER_A_CALL]));
		calls.push_back(parse_call(std::span<const uint8_t>(
			p, mnl_attr_get_payload_len(tb[SIPHELPER_A_CALL]))));
	});
	return calls;
}

uint32_t Client::flush_calls(const std::optional<std::string> &call_id)
{
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	nlmsghdr *nlh = start(buf, family_, SIPHELPER_CMD_FLUSH_CALLS,
			      SIPHELPER_GENL_VERSION);
	if (call_id)
		mnl_attr_put(nlh, SIPHELPER_A_FLUSH_CALL_ID, call_id->size(),
			     call_id->data());
	uint32_t n = 0;
	sock_.request(nlh, [&](const nlmsghdr *r) {
		std::array<const nlattr *, SIPHELPER_A_MAX + 1> tb;
		parse_attrs(r, sizeof(genlmsghdr), tb);
		if (tb[SIPHELPER_A_FLUSH_CALLS])
			n = mnl_attr_get_u32(tb[SIPHELPER_A_FLUSH_CALLS]);
	});
	return n;
}

void Client::join_events()
{
	if (!events_grp_)
		throw NlError(ENOENT, "the loaded siphelper module has no "
				      "events group: load a newer siphelper");
	unsigned grp = events_grp_;
	if (mnl_socket_setsockopt(sock_.get(), NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		throw NlError(errno, std::string("cannot listen to siphelper "
						 "events: ") + strerror(errno));
	// Room for a burst of events (100 at once, a few KiB each) while the
	// terminal is slow: SO_RCVBUF is capped by net.core.rmem_max (about
	// 50 events), SO_RCVBUFFORCE is not (we hold CAP_NET_ADMIN anyway).
	int sz = 4 << 20;
	int fd = sock_.fd();
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

int Client::fd() const
{
	return sock_.fd();
}

bool Client::read_events(
	const std::function<void(std::span<const uint8_t>)> &on_event)
{
	std::vector<char> buf(1 << 16);
	ssize_t n = recv(fd(), buf.data(), buf.size(), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		throw recv_error();
	}
	for_each_msg(buf.data(), n, [&](const nlmsghdr *nlh) {
		if (nlh->nlmsg_type != family_ ||
		    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
			return;
		auto *g = static_cast<const genlmsghdr *>(
			mnl_nlmsg_get_payload(nlh));
		if (g->cmd != SIPHELPER_CMD_EVENT)
			return;
		auto *p = reinterpret_cast<const uint8_t *>(g) + GENL_HDRLEN;
		on_event(std::span<const uint8_t>(
			p, nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN));
	});
	return true;
}

} // namespace shp
