# SPDX-License-Identifier: GPL-2.0
"""The router namespace's siphelper counters, read with the raw generic
netlink client of ctl.py (GET_STATS), so that the datapath scenarios assert
counters without depending on the siphelperctl binary being built."""
import socket
import struct

import topology as t
import uapi
from kernel_uapi import (CTA_EXPECT_TUPLE, CTA_PROTO_DST_PORT,
                         CTA_TUPLE_PROTO, IPCTNL_MSG_EXP_GET,
                         NFNL_SUBSYS_CTNETLINK_EXP)
from conftest import HELPER
from ctl import CMD_GET_STATS, CMD_RESET_STATS, A_STATS, Genl

NAMES = uapi.stat_names()
GAUGES = uapi.stat_gauges()


def _genl_in(ns):
    """A Genl socket opened inside netns ns (sockets keep their netns)."""
    with t.netns(ns):
        return Genl()


class _Any:
    """A counter the in-tree helper does not have: equal to, and within
    every bound of, any figure."""

    def __eq__(self, other):
        return True

    __le__ = __ge__ = __lt__ = __gt__ = __eq__

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return self

    __add__ = __rsub__ = __radd__ = __sub__

    def __repr__(self):
        return "<not counted by the in-tree helper>"


class NotCounted(dict):
    """stats() and delta() with the in-tree helper (tests/e2e/compare.sh):
    no counter is present and every counter assertion holds, so that a
    scenario's verdict there rests on its behaviour (bytes, expectations,
    media), not on siphelper's own counters."""

    def __getitem__(self, key):
        return _Any()

    def get(self, key, default=None):
        return _Any()

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None


def stats(ns=t.ROUTER):
    """{counter name: value} of netns ns (NotCounted() with the in-tree
    helper)."""
    if HELPER != "siphelper":
        return NotCounted()
    g = _genl_in(ns)
    try:
        err, ext, replies = g.request(g.family, CMD_GET_STATS)
        assert err == 0, (err, ext)
        nest = Genl._attrs(Genl._attrs(replies[0])[A_STATS])
        return {NAMES[k]: struct.unpack("=Q", v)[0]
                for k, v in nest.items() if k in NAMES}
    finally:
        g.s.close()


def reset_stats(ns=t.ROUTER):
    """Counters of netns ns back to zero (RESET_STATS)."""
    g = _genl_in(ns)
    try:
        err, ext, _ = g.request(g.family, CMD_RESET_STATS)
        assert err == 0, (err, ext)
    finally:
        g.s.close()


def delta(before, after):
    """Counters that changed, {name: after - before} (gauges left out)."""
    if isinstance(after, NotCounted):
        return after
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0) and k not in GAUGES}


def expected_ports(family="ipv4", ns=t.ROUTER):
    """Destination ports of the expectations in netns ns, as `conntrack -L
    expect -f FAMILY` lists them (the expected tuple's dport), read with a
    ctnetlink dump: tests poll this, and a conntrack exec costs ~0.4 s of
    a debug guest's CPU."""
    af = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}[family]
    ports = set()
    for e in t.ctnetlink_dump(ns, NFNL_SUBSYS_CTNETLINK_EXP,
                              IPCTNL_MSG_EXP_GET, af):
        proto = t.nlattrs(t.nlattrs(e[CTA_EXPECT_TUPLE])[CTA_TUPLE_PROTO])
        if CTA_PROTO_DST_PORT in proto:
            ports.add(struct.unpack("!H", proto[CTA_PROTO_DST_PORT])[0])
    return ports
