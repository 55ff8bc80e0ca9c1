// SPDX-License-Identifier: GPL-2.0
// siphelperctl calls: decoding and printing (see calls.hpp).
#include "calls.hpp"
#include "attrs.hpp"
#include "output.hpp"

#include <sstream>

#include <linux/siphelper.h>

namespace shp {

using namespace attr;

namespace {

Stream parse_stream(std::span<const uint8_t> b)
{
	Stream s;
	for (const Attr &a : attrs_of(b)) {
		switch (a.type) {
		case SIPHELPER_A_STREAM_DIR: s.dir = get<uint8_t>(a); break;
		case SIPHELPER_A_STREAM_ADDR: s.addr = addr(a); break;
		case SIPHELPER_A_STREAM_RTP_PORT: s.rtp = get<uint16_t>(a); break;
		case SIPHELPER_A_STREAM_RTCP_PORT:
			s.rtcp = get<uint16_t>(a);
			break;
		case SIPHELPER_A_STREAM_PRIV_ADDR: s.priv_addr = addr(a); break;
		case SIPHELPER_A_STREAM_PRIV_RTP_PORT:
			s.priv_rtp = get<uint16_t>(a);
			break;
		case SIPHELPER_A_STREAM_PRIV_RTCP_PORT:
			s.priv_rtcp = get<uint16_t>(a);
			break;
		case SIPHELPER_A_STREAM_PACKETS_IN:
			s.packets_in = get<uint32_t>(a);
			break;
		case SIPHELPER_A_STREAM_PACKETS_OUT:
			s.packets_out = get<uint32_t>(a);
			break;
		default:
			break;  // newer kernel: ignore
		}
	}
	return s;
}

} // namespace

Call parse_call(std::span<const uint8_t> nest)
{
	Call c;
	for (const Attr &a : attrs_of(nest)) {
		switch (a.type) {
		case SIPHELPER_A_CALL_ID: c.id = bytes(a); break;
		case SIPHELPER_A_CALL_ID_LEN: c.id_len = get<uint32_t>(a); break;
		case SIPHELPER_A_CALL_FROM: c.from = bytes(a); break;
		case SIPHELPER_A_CALL_TO: c.to = bytes(a); break;
		case SIPHELPER_A_CALL_STATE: c.state = get<uint32_t>(a); break;
		case SIPHELPER_A_CALL_AGE: c.age = get<uint32_t>(a); break;
		case SIPHELPER_A_CALL_CT_ID: c.ct_id = get<uint32_t>(a); break;
		case SIPHELPER_A_CALL_L3PROTO: c.l3 = get<uint8_t>(a); break;
		case SIPHELPER_A_CALL_HOLD: c.hold = true; break;
		case SIPHELPER_A_CALL_STREAM:
			c.streams.push_back(parse_stream(a.data));
			break;
		default:
			break;
		}
	}
	if (c.id_len < c.id.size())
		c.id_len = static_cast<uint32_t>(c.id.size());
	return c;
}

const char *call_state_name(uint32_t state)
{
	static constexpr EnumName names[] = {
#include "call_state_names.inc"
	};
	return enum_name(names, state);
}

std::string format_call_json(const Call &c)
{
	std::ostringstream o;
	o << "{\"call_id\":" << json_escape(c.id);
	if (c.id_len > c.id.size())
		o << ",\"call_id_len\":" << c.id_len;
	o << ",\"from\":" << json_escape(c.from)
	  << ",\"to\":" << json_escape(c.to) << ",\"state\":\""
	  << call_state_name(c.state) << "\",\"age\":" << c.age
	  << ",\"ct_id\":" << c.ct_id << ",\"hold\":"
	  << (c.hold ? "true" : "false") << ",\"streams\":[";
	for (size_t i = 0; i < c.streams.size(); i++) {
		const Stream &s = c.streams[i];
		o << (i ? "," : "") << "{\"dir\":\"" << dir_name(s.dir)
		  << "\",\"addr\":" << json_escape(s.addr)
		  << ",\"rtp\":" << s.rtp << ",\"rtcp\":" << s.rtcp
		  << ",\"priv_addr\":" << json_escape(s.priv_addr)
		  << ",\"priv_rtp\":" << s.priv_rtp
		  << ",\"priv_rtcp\":" << s.priv_rtcp;
		if (s.packets_in)
			o << ",\"packets_in\":" << *s.packets_in
			  << ",\"packets_out\":" << s.packets_out.value_or(0);
		o << "}";
	}
	o << "]}";
	return o.str();
}

std::string format_calls(const std::vector<Call> &calls, bool json)
{
	std::ostringstream o;
	if (json) {
		o << "[";
		for (size_t i = 0; i < calls.size(); i++)
			o << (i ? "," : "") << format_call_json(calls[i]);
		o << "]\n";
		return o.str();
	}
	for (const Call &c : calls) {
		o << printable(c.id) << (c.id_len > c.id.size() ? "..." : "")
		  << " " << call_state_name(c.state) << " age " << c.age
		  << "s ct " << c.ct_id << (c.hold ? " hold" : "")
		  << "\n  from " << printable(c.from)
		  << "\n  to " << printable(c.to) << "\n";
		for (const Stream &s : c.streams)
			o << "  media " << dir_name(s.dir) << " "
			  << endpoint(s.addr, s.rtp, c.l3) << "/" << s.rtcp
			  << " -> " << endpoint(s.priv_addr, s.priv_rtp, c.l3)
			  << "/" << s.priv_rtcp
			  << (s.packets_in ? " packets in " +
					     std::to_string(*s.packets_in) +
					     " out " +
					     std::to_string(
						     s.packets_out.value_or(0)) :
					     "")
			  << "\n";
	}
	return o.str();
}

std::string format_calls_flushed(uint32_t n, bool json)
{
	return Output(json).num("calls", "calls", n).done();
}

} // namespace shp
