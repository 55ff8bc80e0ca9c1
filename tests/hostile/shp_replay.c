// SPDX-License-Identifier: GPL-2.0
/*
 * shp_replay PRIV_ADDR PUB_ADDR < RECORDS: what the module must have done
 * to each SIP datagram, recomputed with the same core (kmod/core), and
 * compared byte for byte with what really came out of the router.
 *
 * A record (little endian): u8 dir (0: from the UA, 1: to the UA, 2: to
 * the router itself, only counted: no NAT, nothing forwarded), u8 0,
 * u16 private port, u16 public port, u32 sent length, u32 received length
 * (0xffffffff: nothing arrived), the sent bytes, the received bytes.
 *
 * For each record the datapath's decision (kmod/datapath.c, shp_message())
 * is replayed: a datagram the core cannot parse must pass unmodified; one
 * it parses is planned in the record's direction and applied to the
 * message (trailing bytes after Content-Length kept). The only input the
 * kernel has that this tool has not is which public media ports were free:
 * they are read from the received message and checked to be ones the
 * datapath may choose (kmod/core/shp_media.c, the module's own policy:
 * the UA's port or one of the next 15 pairs, RTCP = RTP + 1, only for
 * streams that get expectations). Likewise the public port of a pinhole
 * for a port the UA advertises besides its source port (kmod/register.c,
 * shp_adv_port_possible()), and, coming back, which private port a
 * public one maps to (a pinhole an earlier message opened). The counters
 * the module must show are
 * printed as one line of key=value pairs:
 *   records parsed malformed rewritten_headers rewritten_sdp lost mismatch
 * Mismatches are described on stderr. Exit 0 when there is none, 1 when
 * there is, 2 on bad input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shp_sip.h"

#define NO_RECV		0xffffffffu
#define MAX_REPORTS	10

static struct shp_sip_msg msg, rmsg;
static struct shp_plan plan;
static struct shp_rewrite_ctx ctx;
static char sent[SHP_MAX_MSG + 1], recvd[SHP_MAX_MSG + 1];
static char want[SHP_MAX_MSG + SHP_MAX_EDITS * SHP_REPL_MAX + 1];
static unsigned long reports;

static int read_all(void *p, size_t n)
{
	return fread(p, 1, n, stdin) == n ? 0 : -1;
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void report(unsigned long i, const char *why, const char *a,
		   size_t alen, const char *b, size_t blen)
{
	size_t off = 0, k;

	if (++reports > MAX_REPORTS)
		return;
	while (off < alen && off < blen && a[off] == b[off])
		off++;
	fprintf(stderr, "record %lu: %s (expected %zu bytes, got %zu, first "
		"difference at %zu)\n  expected: ", i, why, alen, blen, off);
	for (k = off > 20 ? off - 20 : 0; k < alen && k < off + 40; k++)
		fputc(a[k] >= 32 && a[k] < 127 ? a[k] : '.', stderr);
	fputs("\n  got:      ", stderr);
	for (k = off > 20 ? off - 20 : 0; k < blen && k < off + 40; k++)
		fputc(b[k] >= 32 && b[k] < 127 ? b[k] : '.', stderr);
	fputc('\n', stderr);
}

/*
 * Media ports from the received copy; false if it shows a port the
 * datapath cannot have chosen.
 */
static bool media_ports(size_t rlen)
{
	unsigned int i;

	if (shp_sip_parse(recvd, rlen, false, &rmsg) < 0 ||
	    !(rmsg.flags & SHP_F_SDP) || rmsg.sdp.n_media != msg.sdp.n_media)
		return true;	/* the byte comparison will tell */
	for (i = 0; i < msg.sdp.n_media; i++) {
		const struct shp_sdp_media *m = &msg.sdp.media[i];
		unsigned int p = rmsg.sdp.media[i].port;

		/* the module's own policy (kmod/core/shp_media.c) */
		if (!shp_media_wanted(m, &ctx.map.priv)) {
			if (p != m->port)
				return false;
			continue;
		}
		if (!shp_media_port_possible(m->port, p))
			return false;
		/* an expectation pair at p: a=rtcp becomes p + 1 too */
		ctx.media_port[i] = p;
		if (m->rtcp_port && rmsg.sdp.media[i].rtcp_port == p + 1)
			ctx.rtcp_port[i] = p + 1;
	}
	return true;
}

/*
 * The advertised port's mapping from the received copy (outbound: the
 * public port of its pinhole; inbound: the private port a pinhole gives a
 * public one); false if it shows an outbound one the datapath cannot have
 * chosen.
 */
static bool adv_ports(bool out, size_t rlen)
{
	struct shp_nat_map *mp = &ctx.map;
	u16 p, q;

	p = out ? shp_sip_adv_port(sent, &msg, &mp->priv, mp->priv_port) :
		  shp_sip_adv_port(sent, &msg, &mp->pub, mp->pub_port);
	if (!p || shp_sip_parse(recvd, rlen, false, &rmsg) < 0)
		return true;	/* the byte comparison will tell */
	q = out ? shp_sip_adv_port(recvd, &rmsg, &mp->pub, mp->pub_port) :
		  shp_sip_adv_port(recvd, &rmsg, &mp->priv, mp->priv_port);
	if (!q)
		return true;
	if (out && !shp_adv_port_possible(p, q))
		return false;
	mp->adv_priv_port = out ? p : q;
	mp->adv_pub_port = out ? q : p;
	return true;
}

int main(int argc, char **argv)
{
	unsigned long n = 0, parsed = 0, malformed = 0, hdr = 0, sdp = 0;
	unsigned long lost = 0, mismatch = 0;
	int k;
	unsigned char h[14];
	struct shp_addr priv, pub;

	if (argc != 3 || shp_addr_parse(argv[1], strlen(argv[1]), &priv) ||
	    shp_addr_parse(argv[2], strlen(argv[2]), &pub)) {
		fprintf(stderr, "usage: shp_replay PRIV_ADDR PUB_ADDR < RECORDS\n");
		return 2;
	}
	while (fread(h, 1, sizeof(h), stdin) == sizeof(h)) {
		uint32_t slen = le32(h + 6), rlen = le32(h + 10);
		size_t wlen;
		bool out = h[0] == 0, ok;
		int r;

		if (slen > SHP_MAX_MSG || (rlen != NO_RECV && rlen > SHP_MAX_MSG) ||
		    read_all(sent, slen) ||
		    (rlen != NO_RECV && read_all(recvd, rlen))) {
			fprintf(stderr, "record %lu: bad record\n", n);
			return 2;
		}
		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = out ? SHP_DIR_OUT : SHP_DIR_IN;
		ctx.map.priv = priv;
		ctx.map.pub = pub;
		ctx.map.priv_port = h[2] | h[3] << 8;
		ctx.map.pub_port = h[4] | h[5] << 8;
		memcpy(want, sent, slen);
		wlen = slen;
		ok = true;
		r = shp_sip_parse(sent, slen, false, &msg);
		if (r < 0) {
			malformed++;
		} else {
			parsed++;
			if (out && msg.call_id.len && shp_media_offer_answer(&msg) &&
			    rlen != NO_RECV)
				ok = media_ports(rlen);
			if (h[0] != 2 && rlen != NO_RECV && !adv_ports(out, rlen))
				ok = false;
			k = 0;
			if (h[0] != 2 && msg.type != SHP_MSG_KEEPALIVE)
				k = shp_sip_plan(sent, &msg, &ctx, &plan);
			if (k > 0) {
				int o = shp_plan_apply(sent, r, &plan, want,
						       sizeof(want));

				if (o >= 0 && o + (slen - r) <= SHP_MAX_MSG) {
					memcpy(want + o, sent + r, slen - r);
					wlen = o + (slen - r);
					hdr += plan.n_hdr != 0;
					sdp += plan.n_sdp != 0;
				}
			}
		}
		if (h[0] == 2) {
			/* to the router: parsed and counted, never changed */
		} else if (rlen == NO_RECV) {
			lost++;
			report(n, "nothing arrived", want, wlen, "", 0);
		} else if (!ok) {
			mismatch++;
			report(n, "media or advertised port the datapath "
			       "cannot choose",
			       want, wlen, recvd, rlen);
		} else if (wlen != rlen || memcmp(want, recvd, rlen)) {
			mismatch++;
			report(n, r < 0 ? "malformed message was changed" :
			       "rewrite differs from the core's", want, wlen,
			       recvd, rlen);
		}
		n++;
	}
	printf("records=%lu parsed=%lu malformed=%lu rewritten_headers=%lu "
	       "rewritten_sdp=%lu lost=%lu mismatch=%lu\n", n, parsed,
	       malformed, hdr, sdp, lost, mismatch);
	return lost || mismatch ? 1 : 0;
}
