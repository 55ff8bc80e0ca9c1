// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: event decoding and printing (see monitor.hpp).
#include "monitor.hpp"
#include "attrs.hpp"
#include "output.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>

#include <linux/siphelper.h>

namespace shp {
namespace {

using namespace attr;

Edit parse_edit(std::span<const uint8_t> b)
{
	Edit e;
	for (const Attr &a : attrs_of(b)) {
		switch (a.type) {
		case SIPHELPER_A_EDIT_FIELD: e.field = str(a); break;
		case SIPHELPER_A_EDIT_OFFSET: e.offset = get<uint32_t>(a); break;
		case SIPHELPER_A_EDIT_OLD: e.old_text = bytes(a); break;
		case SIPHELPER_A_EDIT_OLD_LEN: e.old_len = get<uint32_t>(a); break;
		case SIPHELPER_A_EDIT_NEW: e.new_text = bytes(a); break;
		default: break;  // newer kernel: ignore
		}
	}
	if (e.old_len < e.old_text.size())
		e.old_len = static_cast<uint32_t>(e.old_text.size());
	return e;
}

Config parse_config(const std::vector<Attr> &top)
{
	Config c;
	for (const Attr &a : top) {
		switch (a.type) {
		case SIPHELPER_A_PORTS:
			for (const Attr &ent : attrs_of(a.data)) {
				PortRange r;
				for (const Attr &p : attrs_of(ent.data)) {
					if (p.type == SIPHELPER_A_PORT_LO)
						r.lo = get<uint16_t>(p);
					else if (p.type == SIPHELPER_A_PORT_HI)
						r.hi = get<uint16_t>(p);
					else if (p.type == SIPHELPER_A_PORT_PROTOS)
						r.protos = get<uint8_t>(p);
				}
				c.ports.push_back(r);
			}
			break;
		case SIPHELPER_A_SIP_TIMEOUT:
			c.sip_timeout = get<uint32_t>(a);
			break;
		case SIPHELPER_A_DIRECT_MEDIA:
			c.direct_media = get<uint8_t>(a);
			break;
		case SIPHELPER_A_AUTO_ASSIGN:
			c.auto_assign = get<uint8_t>(a);
			break;
		case SIPHELPER_A_MALFORMED_POLICY:
			c.malformed = get<uint8_t>(a) ? Malformed::kDrop :
							Malformed::kAccept;
			break;
		case SIPHELPER_A_PINHOLES_ONLY:
			c.pinholes_only = get<uint8_t>(a);
			break;
		case SIPHELPER_A_TCP_HOLD_MAX:
			c.tcp_hold_max = get<uint32_t>(a);
			break;
		case SIPHELPER_A_TCP_HOLD_TOTAL:
			c.tcp_hold_total = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_UNREPLIED_TIMEOUT:
			c.unreplied_timeout = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_MAX_CALLS:
			c.max_calls = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_MEDIA_TIMEOUT:
			c.media_timeout = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_MAX_CALL_DURATION:
			c.max_call_duration = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_CALL_LIMIT:
			c.call_limit = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_SOURCE_CALL_LIMIT:
			c.source_call_limit = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_SOURCE_RATE:
			c.source_rate = get<uint32_t>(a);
			break;
		case SIPHELPER_A_SIP_UNKNOWN_METHODS:
			c.unknown_methods = static_cast<Malformed>(
				get<uint8_t>(a));
			break;
		default:
			break;
		}
	}
	return c;
}

std::vector<std::string> lines_of(const std::string &s)
{
	std::vector<std::string> out;
	size_t pos = 0;
	while (pos < s.size()) {
		size_t nl = s.find('\n', pos);
		if (nl == std::string::npos) {
			out.push_back(s.substr(pos));
			break;
		}
		out.push_back(s.substr(pos, nl - pos));
		pos = nl + 1;
	}
	return out;
}

const char *l4_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

std::string cut_note(const std::string &text, uint32_t full)
{
	if (text.size() >= full)
		return std::to_string(full) + " bytes";
	return std::to_string(full) + " bytes, first " +
	       std::to_string(text.size()) + " shown";
}

} // namespace

Event parse_event(std::span<const uint8_t> payload)
{
	Event e;
	auto top = attrs_of(payload);
	bool found = false;
	for (const Attr &t : top) {
		if (t.type != SIPHELPER_A_EVENT)
			continue;
		found = true;
		for (const Attr &a : attrs_of(t.data)) {
			switch (a.type) {
			case SIPHELPER_A_EVENT_TYPE: e.type = get<uint32_t>(a); break;
			case SIPHELPER_A_EVENT_L3PROTO: e.l3 = get<uint8_t>(a); break;
			case SIPHELPER_A_EVENT_L4PROTO: e.l4 = get<uint8_t>(a); break;
			case SIPHELPER_A_EVENT_SRC_ADDR: e.src = addr(a); break;
			case SIPHELPER_A_EVENT_DST_ADDR: e.dst = addr(a); break;
			case SIPHELPER_A_EVENT_SRC_PORT: e.sport = get<uint16_t>(a); break;
			case SIPHELPER_A_EVENT_DST_PORT: e.dport = get<uint16_t>(a); break;
			case SIPHELPER_A_EVENT_CALL_ID: e.call_id = str(a); break;
			case SIPHELPER_A_EVENT_METHOD: e.method = str(a); break;
			case SIPHELPER_A_EVENT_DIR: e.dir = get<uint8_t>(a); break;
			case SIPHELPER_A_EVENT_CT_ID: e.ct_id = get<uint32_t>(a); break;
			case SIPHELPER_A_EVENT_EDITS:
				for (const Attr &ed : attrs_of(a.data))
					if (ed.type == SIPHELPER_A_EVENT_EDITS_EDIT)
						e.edits.push_back(parse_edit(ed.data));
				break;
			case SIPHELPER_A_EVENT_BEFORE: e.before = bytes(a); break;
			case SIPHELPER_A_EVENT_BEFORE_LEN:
				e.before_len = get<uint32_t>(a);
				break;
			case SIPHELPER_A_EVENT_AFTER: e.after = bytes(a); break;
			case SIPHELPER_A_EVENT_AFTER_LEN:
				e.after_len = get<uint32_t>(a);
				break;
			case SIPHELPER_A_EVENT_SUPPRESSED:
				e.suppressed = get<uint32_t>(a);
				break;
			case SIPHELPER_A_EVENT_NAT_SRC_ADDR:
				e.nat_src = addr(a);
				break;
			case SIPHELPER_A_EVENT_NAT_DST_ADDR:
				e.nat_dst = addr(a);
				break;
			case SIPHELPER_A_EVENT_NAT_SRC_PORT:
				e.nat_sport = get<uint16_t>(a);
				break;
			case SIPHELPER_A_EVENT_NAT_DST_PORT:
				e.nat_dport = get<uint16_t>(a);
				break;
			case SIPHELPER_A_EVENT_REASON: e.reason = str(a); break;
			case SIPHELPER_A_EVENT_REASON_OFFSET:
				e.reason_offset = get<uint32_t>(a);
				break;
			case SIPHELPER_A_EVENT_DROPPED: e.dropped = true; break;
			case SIPHELPER_A_EVENT_CALL:
				e.call = parse_call(a.data);
				break;
			default:
				break;  // newer kernel: ignore
			}
		}
	}
	if (!found)
		throw std::runtime_error("malformed event from the kernel: "
					 "no event attribute");
	if (e.before_len < e.before.size())
		e.before_len = static_cast<uint32_t>(e.before.size());
	if (e.after_len < e.after.size())
		e.after_len = static_cast<uint32_t>(e.after.size());
	if (e.type == SIPHELPER_EVENT_CONFIG_CHANGED)
		e.config = parse_config(top);
	if (e.type == SIPHELPER_EVENT_FLUSH) {
		for (const Attr &t : top) {
			if (t.type == SIPHELPER_A_FLUSH_CONNTRACKS)
				e.flushed_conntracks = get<uint32_t>(t);
			else if (t.type == SIPHELPER_A_FLUSH_EXPECTS)
				e.flushed_expects = get<uint32_t>(t);
		}
	}
	return e;
}

const char *event_name(uint32_t type)
{
	static constexpr EnumName names[] = {
#include "event_names.inc"
	};
	return enum_name(names, type);
}

std::string unified_lines(const std::string &before, const std::string &after)
{
	auto b = lines_of(before), a = lines_of(after);
	std::string o;
	if (b.size() != a.size()) {
		// Edits never add or remove lines; if they did, show both.
		for (const auto &l : b)
			o += "- " + printable(l) + "\n";
		for (const auto &l : a)
			o += "+ " + printable(l) + "\n";
		return o;
	}
	for (size_t i = 0; i < b.size(); i++) {
		if (b[i] == a[i]) {
			o += "  " + printable(b[i]) + "\n";
		} else {
			o += "- " + printable(b[i]) + "\n";
			o += "+ " + printable(a[i]) + "\n";
		}
	}
	return o;
}

std::string format_event(const Event &e, bool json)
{
	std::ostringstream o;
	const char *name = event_name(e.type);
	bool flow = e.l3 != 0;
	if (json) {
		o << "{\"event\":\"" << name << "\"";
		if (std::string_view(name) == "unknown")
			o << ",\"type\":" << e.type;
		if (flow) {
			o << ",\"flow\":{\"family\":\""
			  << (e.l3 == AF_INET6 ? "ipv6" : "ipv4")
			  << "\",\"proto\":\"" << l4_name(e.l4)
			  << "\",\"src\":" << json_escape(e.src)
			  << ",\"sport\":" << e.sport
			  << ",\"dst\":" << json_escape(e.dst)
			  << ",\"dport\":" << e.dport;
			if (e.dir)
				o << ",\"dir\":\"" << dir_name(*e.dir) << "\"";
			if (e.ct_id)
				o << ",\"ct_id\":" << *e.ct_id;
			o << "}";
		}
		if (!e.method.empty())
			o << ",\"method\":" << json_escape(e.method);
		if (!e.call_id.empty())
			o << ",\"call_id\":" << json_escape(e.call_id);
		if (e.type == SIPHELPER_EVENT_REWRITE) {
			o << ",\"edits\":[";
			for (size_t i = 0; i < e.edits.size(); i++) {
				const Edit &d = e.edits[i];
				o << (i ? "," : "") << "{\"field\":"
				  << json_escape(d.field)
				  << ",\"offset\":" << d.offset
				  << ",\"old\":" << json_escape(d.old_text)
				  << ",\"new\":" << json_escape(d.new_text);
				if (d.old_len > d.old_text.size())
					o << ",\"old_len\":" << d.old_len;
				o << "}";
			}
			o << "],\"before\":" << json_escape(e.before)
			  << ",\"before_len\":" << e.before_len
			  << ",\"after\":" << json_escape(e.after)
			  << ",\"after_len\":" << e.after_len
			  << ",\"truncated\":"
			  << (e.before.size() < e.before_len ||
				      e.after.size() < e.after_len ?
				      "true" : "false");
		}
		if (e.type == SIPHELPER_EVENT_MALFORMED) {
			o << ",\"reason\":" << json_escape(e.reason)
			  << ",\"offset\":" << e.reason_offset
			  << ",\"action\":\""
			  << (e.dropped ? "dropped" : "passed")
			  << "\",\"message\":" << json_escape(e.before)
			  << ",\"message_len\":" << e.before_len;
		}
		if (e.type == SIPHELPER_EVENT_STALE)
			o << ",\"reason\":" << json_escape(e.reason)
			  << ",\"action\":\"removed\"";
		if (e.call) {
			if (!e.reason.empty())
				o << ",\"reason\":" << json_escape(e.reason);
			o << ",\"call\":" << format_call_json(*e.call);
		}
		if (e.flushed_conntracks)
			o << ",\"conntracks\":" << *e.flushed_conntracks;
		if (e.flushed_expects)
			o << ",\"expectations\":" << *e.flushed_expects;
		if (e.suppressed)
			o << ",\"suppressed\":" << e.suppressed;
		if (e.config) {
			std::string c = format_config(*e.config, true);
			c.pop_back();  // its newline
			o << ",\"config\":" << c;
		}
		o << "}\n";
		return o.str();
	}
	if (e.suppressed)
		o << "(" << e.suppressed << " events not shown: rate limit)\n";
	o << name;
	if (flow) {
		o << " " << (e.dir ? dir_name(*e.dir) : "?") << " "
		  << l4_name(e.l4) << " " << endpoint(e.src, e.sport, e.l3)
		  << " -> " << endpoint(e.dst, e.dport, e.l3);
		if (!e.method.empty())
			o << " " << printable(e.method);
		if (e.ct_id)
			o << " ct " << *e.ct_id;
	}
	if (e.config) {
		const Config &c = *e.config;
		o << ": ports " << format_ports(c.ports) << " sip-timeout "
		  << format_duration(c.sip_timeout) << " sip-direct-media "
		  << (c.direct_media ? "yes" : "no") << " auto-assign "
		  << (c.auto_assign ? "yes" : "no") << " malformed "
		  << (c.malformed == Malformed::kDrop ? "drop" : "accept")
		  << " pinholes-only " << (c.pinholes_only ? "yes" : "no")
		  << " tcp-hold-max " << format_size(c.tcp_hold_max)
		  << " tcp-hold-total " << format_size(c.tcp_hold_total)
		  << " sip-unreplied-timeout "
		  << format_duration(c.unreplied_timeout)
		  << " sip-max-calls " << c.max_calls
		  << " sip-media-timeout " << format_duration(c.media_timeout)
		  << " sip-max-call-duration "
		  << format_duration(c.max_call_duration)
		  << " sip-call-limit " << c.call_limit
		  << " sip-source-call-limit " << c.source_call_limit
		  << " sip-source-rate " << c.source_rate
		  << " sip-unknown-methods "
		  << (c.unknown_methods == Malformed::kDrop ? "drop" :
							      "accept");
	}
	if (e.type == SIPHELPER_EVENT_STALE)
		o << ": " << printable(e.reason)
		  << ", removed with its expectations";
	if (e.call) {
		o << ": Call-ID " << printable(e.call->id) << " from "
		  << printable(e.call->from) << " to "
		  << printable(e.call->to);
		if (!e.reason.empty())
			o << ": " << printable(e.reason);
	}
	if (e.flushed_conntracks || e.flushed_expects)
		o << ": conntracks " << e.flushed_conntracks.value_or(0)
		  << " expectations " << e.flushed_expects.value_or(0);
	if (e.type == SIPHELPER_EVENT_MALFORMED) {
		o << ": " << printable(e.reason) << " at " << e.reason_offset
		  << ", " << (e.dropped ? "dropped" : "passed") << "\n";
		o << "  --- message (" << cut_note(e.before, e.before_len)
		  << ")\n";
		for (const auto &l : lines_of(e.before))
			o << "  " << printable(l) << "\n";
		o << "\n";
		return o.str();
	}
	o << "\n";
	if (e.type != SIPHELPER_EVENT_REWRITE)
		return o.str();
	if (!e.call_id.empty())
		o << "  Call-ID " << printable(e.call_id) << "\n";
	for (const Edit &d : e.edits) {
		o << "  " << (d.field.empty() ? "?" : printable(d.field)) << ": "
		  << printable(d.old_text)
		  << (d.old_len > d.old_text.size() ? "..." : "") << " => "
		  << printable(d.new_text) << "\n";
	}
	o << "  --- before (" << cut_note(e.before, e.before_len)
	  << ") / +++ after (" << cut_note(e.after, e.after_len) << ")\n";
	o << unified_lines(e.before, e.after) << "\n";
	return o.str();
}

} // namespace shp
