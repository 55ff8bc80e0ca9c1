// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: names of the methods, for the tests, fuzzers and tools
 * that print them. The module never prints them: Kbuild leaves this file
 * out of siphelper.ko.
 */
#include "shp_internal.h"

const char *shp_method_name(unsigned int method)
{
	static const char * const names[SHP_M_MAX] = {
		[SHP_M_UNKNOWN] = "UNKNOWN",
		[SHP_M_REGISTER] = "REGISTER",
		[SHP_M_INVITE] = "INVITE",
		[SHP_M_ACK] = "ACK",
		[SHP_M_BYE] = "BYE",
		[SHP_M_CANCEL] = "CANCEL",
		[SHP_M_UPDATE] = "UPDATE",
		[SHP_M_PRACK] = "PRACK",
		[SHP_M_OPTIONS] = "OPTIONS",
		[SHP_M_MESSAGE] = "MESSAGE",
		[SHP_M_INFO] = "INFO",
		[SHP_M_REFER] = "REFER",
		[SHP_M_NOTIFY] = "NOTIFY",
		[SHP_M_SUBSCRIBE] = "SUBSCRIBE",
		[SHP_M_PUBLISH] = "PUBLISH",
	};

	return method < SHP_M_MAX ? names[method] : "UNKNOWN";
}
