// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: the media policy. Which messages offer or answer media
 * and what each message does to its call (shp_call_step()), which SDP streams get pinholes, and which public
 * ports the datapath may give them: kmod/datapath.c and kmod/media.c open
 * and remove the expectations by it, tests/hostile/shp_replay.c checks
 * received copies by it, so the two cannot drift.
 */
#include "shp_internal.h"

bool shp_media_offer_answer(const struct shp_sip_msg *msg)
{
	unsigned int m;

	if (!(msg->flags & SHP_F_SDP))
		return false;
	if (msg->type == SHP_MSG_REQUEST)
		m = msg->method;
	else if (msg->status < 300)
		m = msg->cseq_method;	/* a provisional or 2xx answer */
	else
		return false;
	/* RFC 3264 in INVITE/ACK, RFC 3262 PRACK, RFC 3311 UPDATE */
	return m == SHP_M_INVITE || m == SHP_M_UPDATE || m == SHP_M_ACK ||
	       m == SHP_M_PRACK;
}

enum shp_call_step shp_call_step(const struct shp_sip_msg *msg)
{
	if (msg->type == SHP_MSG_REQUEST) {
		switch (msg->method) {
		case SHP_M_INVITE:
			return SHP_CALL_STEP_INVITE;
		case SHP_M_BYE:
			return SHP_CALL_STEP_BYE;
		case SHP_M_CANCEL:
			return SHP_CALL_STEP_CANCEL;
		default:
			return SHP_CALL_STEP_NONE;
		}
	}
	if (msg->type != SHP_MSG_RESPONSE)
		return SHP_CALL_STEP_NONE;
	if (msg->cseq_method == SHP_M_BYE)
		return msg->status >= 200 ? SHP_CALL_STEP_BYE_DONE :
					    SHP_CALL_STEP_NONE;
	if (msg->cseq_method != SHP_M_INVITE || msg->status <= 100)
		return SHP_CALL_STEP_NONE;	/* 100 is hop by hop */
	if (msg->status < 200)
		return SHP_CALL_STEP_PROGRESS;
	return msg->status < 300 ? SHP_CALL_STEP_ANSWER :
				   SHP_CALL_STEP_REJECT;
}

bool shp_media_held(const struct shp_sip_msg *msg)
{
	unsigned int i;

	if (!(msg->flags & SHP_F_SDP) || !msg->sdp.n_media)
		return false;
	/* RFC 3264 8.4: every stream sendonly, recvonly, inactive or off */
	for (i = 0; i < msg->sdp.n_media; i++)
		if (msg->sdp.media[i].port &&
		    msg->sdp.media[i].dir == SHP_SDP_SENDRECV)
			return false;
	return true;
}

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
