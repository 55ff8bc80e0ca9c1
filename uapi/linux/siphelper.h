/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * siphelper: generic netlink control interface.
 *
 * Family SIPHELPER_GENL_NAME, version SIPHELPER_GENL_VERSION. All state is
 * per network namespace: a request acts on the netns of the netlink socket.
 * Reading (GET_*) is allowed to anyone; SET_CONFIG, RESET_STATS and FLUSH
 * need CAP_NET_ADMIN in the user namespace owning that netns.
 * Attributes are validated strictly: unknown attributes, out-of-range values
 * and malformed nests are refused with an extended ack message.
 */
#ifndef _UAPI_LINUX_SIPHELPER_H
#define _UAPI_LINUX_SIPHELPER_H

#define SIPHELPER_GENL_NAME		"siphelper"
#define SIPHELPER_GENL_VERSION		1
#define SIPHELPER_GENL_MCGRP_EVENTS	"events"

#define SIPHELPER_MAX_PORT_ENTRIES	32
#define SIPHELPER_MAX_SIP_TIMEOUT	86400	/* seconds */

enum siphelper_cmd {
	SIPHELPER_CMD_UNSPEC,
	SIPHELPER_CMD_GET_CONFIG,	/* reply: config attributes */
	SIPHELPER_CMD_SET_CONFIG,	/* any subset; all or nothing */
	SIPHELPER_CMD_GET_STATS,	/* reply: SIPHELPER_A_STATS */
	SIPHELPER_CMD_RESET_STATS,
	SIPHELPER_CMD_FLUSH,		/* reply: SIPHELPER_A_FLUSH_* counts */
	SIPHELPER_CMD_EVENT,		/* multicast notification (events) */

	__SIPHELPER_CMD_MAX,
	SIPHELPER_CMD_MAX = __SIPHELPER_CMD_MAX - 1
};

/* SIPHELPER_A_PORT_PROTOS: bit mask */
#define SIPHELPER_PROTO_UDP	(1 << 0)
#define SIPHELPER_PROTO_TCP	(1 << 1)
#define SIPHELPER_PROTO_BOTH	(SIPHELPER_PROTO_UDP | SIPHELPER_PROTO_TCP)

enum siphelper_malformed {
	SIPHELPER_MALFORMED_ACCEPT,	/* pass unmodified */
	SIPHELPER_MALFORMED_DROP,
};

enum siphelper_attr {
	SIPHELPER_A_UNSPEC,
	SIPHELPER_A_VERSION,		/* u32: SIPHELPER_GENL_VERSION, replies */
	SIPHELPER_A_PORTS,		/* nest: SIPHELPER_A_PORTS_ENTRY... */
	SIPHELPER_A_SIP_TIMEOUT,	/* u32: seconds, 1..86400 */
	SIPHELPER_A_DIRECT_MEDIA,	/* u8: 0 or 1 */
	SIPHELPER_A_AUTO_ASSIGN,	/* u8: 0 or 1 */
	SIPHELPER_A_MALFORMED_POLICY,	/* u8: enum siphelper_malformed */
	SIPHELPER_A_STATS,		/* nest: enum siphelper_stat_attr */
	SIPHELPER_A_FLUSH_CONNTRACKS,	/* u32: conntracks removed */
	SIPHELPER_A_FLUSH_EXPECTS,	/* u32: expectations removed */
	SIPHELPER_A_EVENT,		/* nest: enum siphelper_event_attr */
	SIPHELPER_A_PAD,

	__SIPHELPER_A_MAX,
	SIPHELPER_A_MAX = __SIPHELPER_A_MAX - 1
};

enum siphelper_ports_attr {
	SIPHELPER_A_PORTS_UNSPEC,
	SIPHELPER_A_PORTS_ENTRY,	/* nest: enum siphelper_port_attr */

	__SIPHELPER_A_PORTS_MAX,
	SIPHELPER_A_PORTS_MAX = __SIPHELPER_A_PORTS_MAX - 1
};

enum siphelper_port_attr {
	SIPHELPER_A_PORT_UNSPEC,
	SIPHELPER_A_PORT_LO,		/* u16: 1..65535, required */
	SIPHELPER_A_PORT_HI,		/* u16: lo..65535, default lo */
	SIPHELPER_A_PORT_PROTOS,	/* u8: SIPHELPER_PROTO_*, default both */

	__SIPHELPER_A_PORT_MAX,
	SIPHELPER_A_PORT_MAX = __SIPHELPER_A_PORT_MAX - 1
};

/* Counters, all u64, summed over CPUs, per netns. */
enum siphelper_stat_attr {
	SIPHELPER_A_STAT_UNSPEC,
	SIPHELPER_A_STAT_PAD,
	SIPHELPER_A_STAT_SEEN,		/* SIP packets inspected */
	SIPHELPER_A_STAT_PARSED,	/* parsed as SIP */
	SIPHELPER_A_STAT_REWRITTEN_HEADERS,	/* headers rewritten */
	SIPHELPER_A_STAT_REWRITTEN_SDP,	/* SDP bodies rewritten */
	SIPHELPER_A_STAT_EXPECTATIONS_CREATED,
	SIPHELPER_A_STAT_EXPECTATIONS_REMOVED,
	SIPHELPER_A_STAT_REGISTRATIONS,
	SIPHELPER_A_STAT_MALFORMED,
	SIPHELPER_A_STAT_TRUNCATED,
	SIPHELPER_A_STAT_DROPPED,
	SIPHELPER_A_STAT_AUTO_ASSIGNED,	/* flows auto-assigned the helper */
	SIPHELPER_A_STAT_EVENTS_SENT,	/* datapath events multicast */
	SIPHELPER_A_STAT_EVENTS_RATELIMITED,	/* not sent: rate limit */
	SIPHELPER_A_STAT_EVENTS_FAILED,	/* no memory, or no listener took it */

	__SIPHELPER_A_STAT_MAX,
	SIPHELPER_A_STAT_MAX = __SIPHELPER_A_STAT_MAX - 1
};

/*
 * Multicast notifications on the "events" group (SIPHELPER_CMD_EVENT).
 * Joining it needs CAP_NET_ADMIN. Datapath events (REWRITE) are built only
 * while the group has a listener in the netns, and are rate limited per
 * netns (SIPHELPER_EVENTS_RATE per second, bursts of SIPHELPER_EVENTS_BURST);
 * SIPHELPER_A_EVENT_SUPPRESSED in the next event says how many were not
 * sent meanwhile. Message texts are cut at SIPHELPER_EVENT_MSG_MAX bytes
 * (the *_LEN attributes hold the full lengths).
 */
#define SIPHELPER_EVENTS_RATE		100
#define SIPHELPER_EVENTS_BURST		100
#define SIPHELPER_EVENT_MSG_MAX		2048
#define SIPHELPER_EVENT_TEXT_MAX	128	/* old text of one edit */

enum siphelper_event_type {
	SIPHELPER_EVENT_UNSPEC,
	SIPHELPER_EVENT_CONFIG_CHANGED,
	SIPHELPER_EVENT_EXPECT_CREATED,
	SIPHELPER_EVENT_EXPECT_REMOVED,
	SIPHELPER_EVENT_REWRITE,
	SIPHELPER_EVENT_MALFORMED,
	SIPHELPER_EVENT_FLUSH,
};

enum siphelper_event_attr {
	SIPHELPER_A_EVENT_UNSPEC,
	SIPHELPER_A_EVENT_TYPE,		/* u32: enum siphelper_event_type */
	SIPHELPER_A_EVENT_L3PROTO,	/* u8: AF_INET or AF_INET6 */
	SIPHELPER_A_EVENT_L4PROTO,	/* u8: IPPROTO_UDP or IPPROTO_TCP */
	SIPHELPER_A_EVENT_SRC_ADDR,	/* binary: 4 or 16 bytes */
	SIPHELPER_A_EVENT_DST_ADDR,	/* binary: 4 or 16 bytes */
	SIPHELPER_A_EVENT_SRC_PORT,	/* u16, host order */
	SIPHELPER_A_EVENT_DST_PORT,	/* u16, host order */
	SIPHELPER_A_EVENT_CALL_ID,	/* string */
	SIPHELPER_A_EVENT_METHOD,	/* string: SIP method or status */
	SIPHELPER_A_EVENT_DIR,		/* u8: enum siphelper_event_dir */
	SIPHELPER_A_EVENT_CT_ID,	/* u32: conntrack id (as conntrack -L) */
	SIPHELPER_A_EVENT_EDITS,	/* nest: SIPHELPER_A_EVENT_EDIT... */
	SIPHELPER_A_EVENT_BEFORE,	/* binary: message as received */
	SIPHELPER_A_EVENT_BEFORE_LEN,	/* u32: its full length */
	SIPHELPER_A_EVENT_AFTER,	/* binary: message as sent */
	SIPHELPER_A_EVENT_AFTER_LEN,	/* u32: its full length */
	SIPHELPER_A_EVENT_SUPPRESSED,	/* u32: events not sent before this */

	__SIPHELPER_A_EVENT_MAX,
	SIPHELPER_A_EVENT_MAX = __SIPHELPER_A_EVENT_MAX - 1
};

enum siphelper_event_dir {
	SIPHELPER_DIR_OUT,		/* from the private side */
	SIPHELPER_DIR_IN,		/* to the private side */
};

enum siphelper_event_edits_attr {
	SIPHELPER_A_EVENT_EDITS_UNSPEC,
	SIPHELPER_A_EVENT_EDIT,		/* nest: enum siphelper_edit_attr */

	__SIPHELPER_A_EVENT_EDITS_MAX,
	SIPHELPER_A_EVENT_EDITS_MAX = __SIPHELPER_A_EVENT_EDITS_MAX - 1
};

/* One replacement in the message: OLD at OFFSET became NEW. */
enum siphelper_edit_attr {
	SIPHELPER_A_EDIT_UNSPEC,
	SIPHELPER_A_EDIT_FIELD,		/* string: "Via", "Contact", "c=" ... */
	SIPHELPER_A_EDIT_OFFSET,	/* u32: in the message before */
	SIPHELPER_A_EDIT_OLD,		/* binary, at most ..._TEXT_MAX */
	SIPHELPER_A_EDIT_OLD_LEN,	/* u32: full length of the old text */
	SIPHELPER_A_EDIT_NEW,		/* binary */

	__SIPHELPER_A_EDIT_MAX,
	SIPHELPER_A_EDIT_MAX = __SIPHELPER_A_EDIT_MAX - 1
};

#endif /* _UAPI_LINUX_SIPHELPER_H */
