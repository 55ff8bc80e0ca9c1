// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: the media policy. Which SDP streams get pinholes, and
 * which public ports the datapath may give them: kmod/media.c opens the
 * expectations by it, tests/hostile/shp_replay.c checks received copies
 * by it, so the two cannot drift.
 */
#include "shp_internal.h"

u16 shp_media_rtcp_port(const struct shp_sdp_media *m)
{
	return m->rtcp_port ? m->rtcp_port : (u16)(m->port + 1);
}

bool shp_media_wanted(const struct shp_sdp_media *m,
		      const struct shp_addr *sender)
{
	/* one RTP stream (no port ranges) over a datagram transport */
	if (!m->port || m->nports > 1 || m->proto == SHP_SDP_PROTO_TCP ||
	    m->proto == SHP_SDP_PROTO_OTHER)
		return false;
	/* never a pinhole onto a privileged port (the router's or the
	 * UA's own services)
	 */
	if (m->port < SHP_MEDIA_MIN_PORT ||
	    shp_media_rtcp_port(m) < SHP_MEDIA_MIN_PORT)
		return false;
	/*
	 * Only media to the sender itself: its SDP may not open a pinhole
	 * forwarding to another host (a LAN host naming its neighbour, the
	 * router, anything else). Under NAT an address that is already the
	 * public one fails this too: a NAT-aware UA's own business.
	 */
	return shp_addr_equal(&m->addr, sender);
}

bool shp_media_port_possible(u16 want, unsigned int got)
{
	return got == want ||
	       (got > want && got < 65535 && (got - want) % 2 == 0 &&
		(got - want) / 2 < SHP_MEDIA_PORT_TRIES);
}
