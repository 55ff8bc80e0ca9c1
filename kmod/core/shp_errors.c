// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: names of the -SHP_E_* errors: the module's malformed
 * events carry them (kmod/events.c), and tests and tools print them.
 */
#include "shp_internal.h"

const char *shp_strerror(int err)
{
	static const char * const names[SHP_E_MAX] = {
		[SHP_OK] = "ok",
		[SHP_E_INCOMPLETE] = "incomplete message",
		[SHP_E_TRUNCATED] = "truncated datagram",
		[SHP_E_TOO_BIG] = "message too big",
		[SHP_E_BAD_START_LINE] = "bad request/status line",
		[SHP_E_BAD_HEADER] = "bad header line",
		[SHP_E_BAD_VIA] = "bad Via",
		[SHP_E_BAD_URI] = "bad SIP URI",
		[SHP_E_BAD_CSEQ] = "bad CSeq",
		[SHP_E_BAD_CLEN] = "bad Content-Length",
		[SHP_E_NO_CLEN] = "no Content-Length on a stream",
		[SHP_E_BAD_SDP] = "bad SDP",
		[SHP_E_TOO_MANY] = "too many headers, media or edits",
		[SHP_E_NOSPACE] = "output buffer too small",
		[SHP_E_INVAL] = "invalid argument",
		[SHP_E_V6_UNBRACKETED] = "IPv6 address without brackets",
	};

	if (err < 0)
		err = -err;
	if (err >= SHP_E_MAX)
		return "unknown error";
	return names[err];
}
