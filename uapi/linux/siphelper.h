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
	SIPHELPER_A_STAT_REWRITTEN_HDR,	/* headers rewritten */
	SIPHELPER_A_STAT_REWRITTEN_SDP,	/* SDP bodies rewritten */
	SIPHELPER_A_STAT_EXPECT_CREATED,
	SIPHELPER_A_STAT_EXPECT_REMOVED,
	SIPHELPER_A_STAT_REGISTRATIONS,
	SIPHELPER_A_STAT_MALFORMED,
	SIPHELPER_A_STAT_TRUNCATED,
	SIPHELPER_A_STAT_DROPPED,
	SIPHELPER_A_STAT_ASSIGNED,	/* flows auto-assigned the helper */

	__SIPHELPER_A_STAT_MAX,
	SIPHELPER_A_STAT_MAX = __SIPHELPER_A_STAT_MAX - 1
};

/* Multicast notifications on the "events" group (SIPHELPER_CMD_EVENT). */
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

	__SIPHELPER_A_EVENT_MAX,
	SIPHELPER_A_EVENT_MAX = __SIPHELPER_A_EVENT_MAX - 1
};

#endif /* _UAPI_LINUX_SIPHELPER_H */
