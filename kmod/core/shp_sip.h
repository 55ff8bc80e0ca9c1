/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper core: kernel-agnostic SIP/SDP parser and NAT rewrite planner.
 *
 * The same sources build into the kernel module and into userspace. No
 * allocation, no recursion, no floating point, no global mutable state:
 * every function is reentrant and may run concurrently on all CPUs.
 * Parsing is a single forward pass over the message (linear time); the
 * planner and apply are linear in the message plus a bounded number of
 * edits. Nothing is ever read outside [buf, buf + len).
 *
 * Usage (UDP datagram, payload p of length n):
 *
 *	r = shp_sip_parse(p, n, false, &msg);
 *	if (r < 0)  -> malformed: msg untouched for rewriting, apply policy
 *	r2 = shp_sip_plan(p, &msg, &ctx, &plan);   (ctx: direction, mapping,
 *						   media ports from msg.sdp)
 *	if (r2 < 0) -> cannot rewrite safely (no partial rewrite ever)
 *	if (plan.n) new_len = shp_plan_apply(p, n, &plan, out, cap);
 *	   or apply plan.e[] in ascending order with the skb mangle helpers,
 *	   keeping a running offset of sum(rlen - len) of the previous edits.
 *
 * A UDP datagram carries one message; bytes beyond Content-Length are not
 * part of it (RFC 3261 18.3) and are copied through unchanged by apply.
 *
 * Usage (TCP segment / stream bytes b[0..n)):
 *
 *	off = 0;
 *	while (off < n) {
 *		r = shp_sip_parse(b + off, n - off, true, &msg);
 *		if (r == -SHP_E_INCOMPLETE) -> message continues beyond the
 *			segment (msg.msg_len holds the total when the headers
 *			were complete, else 0): datapath decides;
 *		if (r < 0) -> malformed / too big;
 *		plan + apply on (b + off, r): all offsets are relative to
 *			b + off;
 *		off += r;
 *	}
 *
 * Leading CR/LF (RFC 5626 keep-alives, RFC 3261 7.5) are skipped and
 * counted in the consumed length; a buffer of only CR/LF parses as
 * SHP_MSG_KEEPALIVE.
 */
#ifndef SHP_SIP_H
#define SHP_SIP_H

#include "shp_compat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds. All offsets fit in u16 because a message is at most 65535 bytes. */
#define SHP_MAX_MSG		65535	/* bytes, headers + body */
#define SHP_MAX_VIA		64	/* Via values tracked (all of them) */
#define SHP_MAX_CONTACT		16	/* Contact values */
#define SHP_MAX_MEDIA		16	/* SDP m= lines */
#define SHP_MAX_EDITS		64	/* edits in one plan */
#define SHP_REPL_MAX		48	/* "[v6 address]:port" fits */

/* Errors: functions return -SHP_E_*. */
enum shp_err {
	SHP_OK = 0,
	SHP_E_INCOMPLETE = 1,	/* stream: message continues beyond buffer */
	SHP_E_TRUNCATED,	/* datagram: no end of headers, body short */
	SHP_E_TOO_BIG,		/* message larger than SHP_MAX_MSG */
	SHP_E_BAD_START_LINE,	/* request or status line */
	SHP_E_BAD_HEADER,	/* header line without name or colon */
	SHP_E_BAD_VIA,		/* Via value */
	SHP_E_BAD_URI,		/* sip:/sips: URI in start line or header */
	SHP_E_BAD_CSEQ,		/* CSeq value, or repeated CSeq */
	SHP_E_BAD_CLEN,		/* Content-Length value, or repeated */
	SHP_E_NO_CLEN,		/* stream message without Content-Length */
	SHP_E_BAD_SDP,		/* SDP line we would rewrite is malformed */
	SHP_E_TOO_MANY,		/* more Via/Contact/m=/edits than tracked */
	SHP_E_NOSPACE,		/* apply: output buffer too small */
	SHP_E_INVAL,		/* bad argument (context, plan) */
	SHP_E_V6_UNBRACKETED,	/* IPv6 host without [ ] (RFC 3261 25.1) */
	SHP_E_MAX
};

struct shp_span {
	u16 off;		/* from the start of the buffer given to parse */
	u16 len;
};

struct shp_addr {
	u8 family;		/* 0 none, 4 IPv4, 6 IPv6 */
	u8 a[16];		/* network order; IPv4 in a[0..3] */
};

struct shp_nat_map {
	struct shp_addr priv;	/* the UA's own (private) address */
	struct shp_addr pub;	/* the router's public address */
	u16 priv_port;		/* signalling port on the UA */
	u16 pub_port;		/* signalling port after NAT */
	/*
	 * A port the UA advertises for itself besides its source port (a
	 * TCP UA's listening port, a phone that sends from one UDP port
	 * and listens on another) and the public port of the pinhole the
	 * datapath opened to it. Both 0: none.
	 */
	u16 adv_priv_port;
	u16 adv_pub_port;
};

enum shp_msg_type {
	SHP_MSG_NONE = 0,
	SHP_MSG_REQUEST,
	SHP_MSG_RESPONSE,
	SHP_MSG_KEEPALIVE,	/* only CR/LF */
};

enum shp_method {
	SHP_M_UNKNOWN = 0,	/* any other token: passed through */
	SHP_M_REGISTER,
	SHP_M_INVITE,
	SHP_M_ACK,
	SHP_M_BYE,
	SHP_M_CANCEL,
	SHP_M_UPDATE,
	SHP_M_PRACK,
	SHP_M_OPTIONS,
	SHP_M_MESSAGE,
	SHP_M_INFO,
	SHP_M_REFER,
	SHP_M_NOTIFY,
	SHP_M_SUBSCRIBE,
	SHP_M_PUBLISH,
	SHP_M_MAX
};

enum shp_scheme {
	SHP_SCHEME_NONE = 0,	/* no URI */
	SHP_SCHEME_SIP,
	SHP_SCHEME_SIPS,
	SHP_SCHEME_OTHER,	/* tel:, urn:, ...: opaque, never rewritten */
};

enum shp_transport {
	SHP_T_OTHER = 0,
	SHP_T_UDP,
	SHP_T_TCP,
	SHP_T_TLS,
	SHP_T_SCTP,
	SHP_T_WS,
	SHP_T_WSS,
};

/* A host[:port] inside a URI or Via sent-by. */
struct shp_hostport {
	struct shp_span hp;	/* "host[:port]" as written (brackets kept) */
	struct shp_span host;	/* host without IPv6 brackets */
	u16 port;		/* 0: no port written */
	u16 def_port;		/* port implied when absent: 5060/5061 */
};

struct shp_uri {
	struct shp_span uri;	/* whole URI (without < >) */
	u8 scheme;		/* enum shp_scheme */
	struct shp_hostport hp;	/* only for sip: and sips: */
};

#define SHP_VIA_RPORT		0x01	/* ;rport present */
#define SHP_VIA_RPORT_VAL	0x02	/* ;rport=N with a value */
#define SHP_VIA_RECEIVED	0x04
#define SHP_VIA_MADDR		0x08
#define SHP_VIA_BRANCH		0x10

struct shp_via {
	struct shp_hostport sent_by;
	u8 transport;		/* enum shp_transport */
	u8 flags;		/* SHP_VIA_* */
	u16 rport;		/* value of ;rport=N */
	struct shp_span received, maddr, branch;	/* param values */
	struct shp_span rport_val;	/* N of ;rport=N (SHP_VIA_RPORT_VAL) */
};

struct shp_contact {
	struct shp_uri uri;
	bool has_expires;
	u32 expires;		/* ;expires=N, saturated */
};

enum shp_media_type {
	SHP_MEDIA_OTHER = 0,
	SHP_MEDIA_AUDIO,
	SHP_MEDIA_VIDEO,
	SHP_MEDIA_IMAGE,	/* T.38 */
	SHP_MEDIA_APPLICATION,
	SHP_MEDIA_TEXT,
	SHP_MEDIA_MESSAGE,
};

enum shp_sdp_proto {
	SHP_SDP_PROTO_OTHER = 0,
	SHP_SDP_PROTO_RTP_AVP,
	SHP_SDP_PROTO_RTP_SAVP,
	SHP_SDP_PROTO_RTP_AVPF,
	SHP_SDP_PROTO_RTP_SAVPF,
	SHP_SDP_PROTO_UDPTL,
	SHP_SDP_PROTO_UDP,
	SHP_SDP_PROTO_TCP,	/* TCP and TCP/... */
	SHP_SDP_PROTO_DTLS_SRTP,	/* UDP/TLS/RTP/SAVP[F] */
};

enum shp_sdp_dir {
	SHP_SDP_SENDRECV = 0,	/* default (RFC 4566) */
	SHP_SDP_SENDONLY,
	SHP_SDP_RECVONLY,
	SHP_SDP_INACTIVE,
};

/* An address in SDP (o=, c=, a=rtcp): span of the address text. */
struct shp_sdp_conn {
	struct shp_span span;	/* address only (no /ttl), len 0: absent */
	struct shp_addr addr;	/* family 0 if not a literal IPv4/IPv6 */
};

struct shp_sdp_media {
	u8 type;		/* enum shp_media_type */
	u8 proto;		/* enum shp_sdp_proto */
	u8 dir;			/* enum shp_sdp_dir (session value inherited) */
	u16 port;		/* 0: disabled stream */
	u16 nports;		/* m=audio port/nports, 1 when absent */
	u16 rtcp_port;		/* a=rtcp port, 0 when absent */
	struct shp_span line;	/* the m= line, without line end */
	struct shp_span port_span;
	struct shp_span proto_span;
	struct shp_span rtcp_port_span;
	struct shp_sdp_conn conn;	/* media-level c= only */
	struct shp_sdp_conn rtcp_addr;	/* a=rtcp address, if any */
	struct shp_addr addr;	/* effective: media c= else session c= */
};

struct shp_sdp {
	struct shp_sdp_conn origin;	/* o= address */
	struct shp_sdp_conn conn;	/* session-level c= */
	u8 dir;				/* session-level direction */
	u8 n_media;
	struct shp_sdp_media media[SHP_MAX_MEDIA];
};

/* msg->flags */
#define SHP_F_CONTACT_STAR	0x0001	/* Contact: * */
#define SHP_F_HAS_CLEN		0x0002
#define SHP_F_HAS_EXPIRES	0x0004	/* numeric Expires header */
#define SHP_F_HAS_CSEQ		0x0008
#define SHP_F_SDP		0x0010	/* body is application/sdp, parsed */
#define SHP_F_MULTIPART		0x0020	/* multipart body: passed through */
#define SHP_F_ENCODED		0x0040	/* Content-Encoding: not parsed */
#define SHP_F_OTHER_BODY	0x0080	/* non-empty body, not SDP */

struct shp_sip_msg {
	u8 type;		/* enum shp_msg_type */
	u8 method;		/* enum shp_method (requests) */
	u16 status;		/* responses: 100..699 */
	u16 flags;		/* SHP_F_* */
	/* consumed bytes; on -SHP_E_INCOMPLETE the total if known, else 0 */
	u16 msg_len;
	u16 err_off;		/* on error: offset where parsing stopped */
	struct shp_span method_tok;	/* request method token */
	struct shp_span reason;	/* response reason phrase */
	struct shp_uri ruri;	/* request: Request-URI */
	struct shp_uri from, to;
	struct shp_span call_id;
	u32 cseq;
	u8 cseq_method;		/* enum shp_method */
	struct shp_span cseq_method_tok;
	u32 expires;		/* Expires header (SHP_F_HAS_EXPIRES) */
	u16 n_route, n_record_route;	/* header lines, never rewritten */
	u32 clen;		/* Content-Length value */
	struct shp_span clen_span;	/* its digits */
	struct shp_span body;
	u8 n_via, n_contact;
	struct shp_contact contact[SHP_MAX_CONTACT];
	struct shp_sdp sdp;	/* valid when SHP_F_SDP */
	struct shp_via via[SHP_MAX_VIA];	/* in message order */
};

enum shp_dir {
	SHP_DIR_OUT = 0,	/* private -> public (from the UA) */
	SHP_DIR_IN,		/* public -> private (to the UA) */
};

struct shp_rewrite_ctx {
	u8 dir;			/* enum shp_dir */
	struct shp_nat_map map;
	/* Address written into SDP instead of map.pub (family 0: map.pub). */
	struct shp_addr media_pub;
	/* New port for m= line i; 0 leaves it. Ports 0 are never touched. */
	u16 media_port[SHP_MAX_MEDIA];
	/* New port for a=rtcp of m= line i; 0 leaves it. */
	u16 rtcp_port[SHP_MAX_MEDIA];
};

enum shp_edit_kind {
	SHP_EK_RURI = 0,
	SHP_EK_VIA,
	SHP_EK_CONTACT,
	SHP_EK_FROM,
	SHP_EK_TO,
	SHP_EK_CLEN,
	SHP_EK_SDP_O,
	SHP_EK_SDP_C,
	SHP_EK_SDP_M,
	SHP_EK_SDP_RTCP_PORT,
	SHP_EK_SDP_RTCP_ADDR,
	SHP_EK_VIA_RECEIVED,
	SHP_EK_VIA_RPORT,
};

struct shp_edit {
	u16 off;		/* replace in[off, off + len) ... */
	u16 len;
	u8 rlen;		/* ... by repl[0, rlen) */
	u8 kind;		/* enum shp_edit_kind */
	char repl[SHP_REPL_MAX];
};

struct shp_plan {
	u16 n;			/* edits, sorted by off, non-overlapping */
	u16 n_hdr;		/* edits in headers (excl. Content-Length) */
	u16 n_sdp;		/* edits in the body */
	s32 delta;		/* new length - old length */
	struct shp_edit e[SHP_MAX_EDITS];
};

/* Parse one message; see above. Returns consumed length or -SHP_E_*. */
int shp_sip_parse(const char *buf, size_t len, bool stream,
		  struct shp_sip_msg *msg);

/* A STUN message (RFC 5389), e.g. an RFC 5626 keepalive on a UDP flow. */
bool shp_is_stun(const char *buf, size_t len);

/*
 * Plan the rewrite of a parsed message. Returns the number of edits
 * (0: nothing to do) or -SHP_E_*; on error plan->n is 0.
 */
int shp_sip_plan(const char *buf, const struct shp_sip_msg *msg,
		 const struct shp_rewrite_ctx *ctx, struct shp_plan *plan);

/*
 * Copy in[0, in_len) to out with the plan's edits applied. Returns the new
 * length or -SHP_E_* (nothing meaningful written). out must not overlap in.
 */
int shp_plan_apply(const char *in, size_t in_len, const struct shp_plan *plan,
		   char *out, size_t out_cap);

/*
 * Append one message of a packet's output to out[*opos, cap): rewritten by
 * @plan, or as it is when @plan is NULL or empty. Returns 0, or -SHP_E_*
 * (-SHP_E_NOSPACE: it does not fit) with nothing written and *opos as it
 * was; *opos never passes @cap.
 */
int shp_out_append(char *out, size_t cap, size_t *opos, const char *in,
		   size_t len, const struct shp_plan *plan);

/*
 * The first port other than @port, and not below SHP_MEDIA_MIN_PORT, that
 * a Via sent-by or a Contact of @msg writes with the host @addr, or 0: a
 * UA advertising a listening port that is not the flow's (outbound,
 * @addr private), or the public port of such a UA's pinhole (inbound,
 * @addr public). The datapath gives the port a pinhole at its own public
 * port or one of the next SHP_ADV_PORT_TRIES - 1
 * (shp_adv_port_possible()).
 */
#define SHP_ADV_PORT_TRIES	16	/* public ports tried: bounded */
u16 shp_sip_adv_port(const char *buf, const struct shp_sip_msg *msg,
		     const struct shp_addr *addr, u16 port);
/* may the datapath have given the advertised port @want public port @got? */
bool shp_adv_port_possible(u16 want, unsigned int got);

/*
 * The media policy (shp_media.c). The SDP of a message that offers or
 * answers replaces what its sender had offered or answered in the call
 * before; a message that ends the call removes its pinholes. A stream
 * gets an RTP and an RTCP pinhole when shp_media_wanted(); its public RTP
 * port is its own or one of the next SHP_MEDIA_PORT_TRIES - 1 even
 * offsets (shp_media_port_possible()), its RTCP port the next one.
 */
#define SHP_MEDIA_PORT_TRIES	16	/* pairs tried per stream: bounded */
#define SHP_MEDIA_MIN_PORT	1024	/* never a pinhole below */

/* does @msg carry an SDP offer or answer that supersedes its sender's? */
bool shp_media_offer_answer(const struct shp_sip_msg *msg);
/* What a message does to its call: kmod/calls.c's state machine. */
enum shp_call_step {
	SHP_CALL_STEP_NONE = 0,	/* another message of the call, or none */
	SHP_CALL_STEP_INVITE,	/* an INVITE: a new call or a re-INVITE */
	SHP_CALL_STEP_PROGRESS,	/* 101-199 to an INVITE (100 is hop by hop) */
	SHP_CALL_STEP_ANSWER,	/* 2xx to an INVITE */
	SHP_CALL_STEP_REJECT,	/* a final error to an INVITE */
	SHP_CALL_STEP_BYE,
	SHP_CALL_STEP_CANCEL,
	SHP_CALL_STEP_BYE_DONE,	/* a final response to a BYE */
};
enum shp_call_step shp_call_step(const struct shp_sip_msg *msg);
/* does @msg's SDP put every stream on hold (no sendrecv stream left)? */
bool shp_media_held(const struct shp_sip_msg *msg);
/* the stream's RTCP port: a=rtcp, else RTP + 1 (0 past 65535) */
u16 shp_media_rtcp_port(const struct shp_sdp_media *m);
/* a usable stream whose media goes to @sender itself */
bool shp_media_wanted(const struct shp_sdp_media *m,
		      const struct shp_addr *sender);
/* may the datapath have given the stream at @want the public port @got? */
bool shp_media_port_possible(u16 want, unsigned int got);

/* shp_errors.c: what an -SHP_E_* error means, in a few words */
const char *shp_strerror(int err);
/* shp_names.c (tests and tools only, not in the module) */
const char *shp_method_name(unsigned int method);

/* Exact text <-> address. Parse returns 0 or -SHP_E_INVAL. */
int shp_addr_parse(const char *s, size_t len, struct shp_addr *a);
/* Canonical text (RFC 5952 for IPv6), no brackets; returns length. */
size_t shp_addr_format(const struct shp_addr *a, char *out, size_t cap);
bool shp_addr_equal(const struct shp_addr *a, const struct shp_addr *b);
#define SHP_ADDR_STRLEN		46

#ifdef __cplusplus
}
#endif

#endif /* SHP_SIP_H */
