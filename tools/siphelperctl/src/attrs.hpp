// SPDX-License-Identifier: GPL-2.0
// Netlink attributes in a byte buffer, read without libmnl: the event and
// call decoders (monitor.cpp, calls.cpp) are pure C++ and unit tested
// with built messages.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace shp::attr {

// A netlink attribute in a byte buffer: struct nlattr {u16 len, type}.
struct Attr {
	uint16_t type;
	std::span<const uint8_t> data;
};

inline std::vector<Attr> attrs_of(std::span<const uint8_t> b)
{
	std::vector<Attr> out;
	size_t off = 0;
	while (off + 4 <= b.size()) {
		uint16_t len, type;
		std::memcpy(&len, b.data() + off, 2);
		std::memcpy(&type, b.data() + off + 2, 2);
		if (len < 4 || off + len > b.size())
			throw std::runtime_error("malformed message from the "
						 "kernel: bad attribute length");
		out.push_back({static_cast<uint16_t>(type & 0x3fff),
			       b.subspan(off + 4, len - 4)});
		off += (len + 3u) & ~3u;
	}
	return out;
}

template <class T> T get(const Attr &a)
{
	if (a.data.size() < sizeof(T))
		throw std::runtime_error("malformed message from the kernel: "
					 "attribute too short");
	T v;
	std::memcpy(&v, a.data.data(), sizeof(T));
	return v;
}

inline std::string bytes(const Attr &a)
{
	return std::string(reinterpret_cast<const char *>(a.data.data()),
			   a.data.size());
}

inline std::string str(const Attr &a)
{
	std::string s = bytes(a);
	auto nul = s.find('\0');
	return nul == std::string::npos ? s : s.substr(0, nul);
}

inline std::string addr(const Attr &a)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	if (a.data.size() == 4)
		inet_ntop(AF_INET, a.data.data(), buf, sizeof(buf));
	else if (a.data.size() == 16)
		inet_ntop(AF_INET6, a.data.data(), buf, sizeof(buf));
	return buf;
}

} // namespace shp::attr
