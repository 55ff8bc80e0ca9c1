# SPDX-License-Identifier: GPL-2.0
"""Unload while something outside siphelper's own flows names its code:
ctnetlink lets a program create an expectation with expectfn "siphelper"
on any master with a helper (here the in-tree TFTP helper's). After rmmod no such
expectation may be left: a matching packet would call freed module code.
(Before the fix the expectation outlived the module, as `conntrack -L
expect` showed, and the packet that matched it faulted.)"""
import os
import socket
import struct

import topology as t
from conftest import insmod, modprobe, rmmod, sh

from kernel_uapi import (CTA_EXPECT_FN, CTA_EXPECT_MASK, CTA_EXPECT_MASTER,
                         CTA_EXPECT_TIMEOUT, CTA_EXPECT_TUPLE, CTA_EXPECT_ZONE,
                         CTA_IP_V4_DST, CTA_IP_V4_SRC, CTA_PROTO_DST_PORT,
                         CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_TUPLE_IP,
                         CTA_TUPLE_PROTO, IPCTNL_MSG_EXP_NEW, NLA_F_NESTED,
                         NLM_F_CREATE, NLM_F_EXCL)


def _attr(kind, data, nested=False):
    hdr = struct.pack("=HH", 4 + len(data), kind | (NLA_F_NESTED if nested
                                                    else 0))
    pad = b"\0" * ((4 - len(data) % 4) % 4)
    return hdr + data + pad


def _tuple(kind, src, dst, sport, dport):
    ip = _attr(CTA_IP_V4_SRC, socket.inet_aton(src)) + \
        _attr(CTA_IP_V4_DST, socket.inet_aton(dst))
    proto = _attr(CTA_PROTO_NUM, bytes([socket.IPPROTO_UDP])) + \
        _attr(CTA_PROTO_SRC_PORT, struct.pack("!H", sport)) + \
        _attr(CTA_PROTO_DST_PORT, struct.pack("!H", dport))
    return _attr(kind, _attr(CTA_TUPLE_IP, ip, True) +
                 _attr(CTA_TUPLE_PROTO, proto, True), True)


def create_expect_with_expectfn(master, expected, fn):
    """IPCTNL_MSG_EXP_NEW: expectation of `expected` (src, dst, sport,
    dport; sport 0 = any) on the conntrack whose original tuple is
    `master`, with expectfn `fn`. Returns the kernel's error (0: made)."""
    src, dst, sport, dport = expected
    body = _tuple(CTA_EXPECT_MASTER, *master)
    body += _tuple(CTA_EXPECT_TUPLE, *expected)
    body += _tuple(CTA_EXPECT_MASK, "255.255.255.255", "255.255.255.255",
                   0xffff if sport else 0, 0xffff)
    body += _attr(CTA_EXPECT_TIMEOUT, struct.pack("!I", 300))
    body += _attr(CTA_EXPECT_FN, fn.encode() + b"\0")
    # the master is looked up in this zone (the router profile's `zone`)
    body += _attr(CTA_EXPECT_ZONE, struct.pack("!H", t.profile_zone()))
    return t.ctnetlink(t.ROUTER, t.NFNL_SUBSYS_CTNETLINK_EXP,
                       IPCTNL_MSG_EXP_NEW, body, family=socket.AF_INET,
                       flags=NLM_F_CREATE | NLM_F_EXCL)


def test_ctnetlink_expectfn_gone_with_module(net, module_path, socks):
    sh("modprobe -a nf_conntrack nf_nat nf_tables nft_chain_nat nft_masq "
       "nf_conntrack_netlink")
    modprobe("nf_conntrack_tftp")
    insmod(module_path)
    # ctnetlink puts expectations only on a master with a helper: the
    # in-tree TFTP helper on port 7000
    t.nft(t.ROUTER, """
table inet shp_tftp {
  ct helper tftp-h { type "tftp" protocol udp; }
  chain pre { type filter hook prerouting priority 0;
    udp dport 7000 ct helper set "tftp-h"; }
}""")
    t.flush()
    unloaded = False
    try:
        # a UDP flow of another helper: the master
        phone = socks(t.PHONE, t.PHONE_IP, 7000)
        server = socks(t.SERVER, t.SERVER_IP, 7000)
        phone.sendto(b"hello", (t.SERVER_IP, 7000))
        _, src = server.recvfrom(2048)
        assert src == (t.PUBLIC_IP, 7000)
        err = create_expect_with_expectfn(
            (t.PHONE_IP, t.SERVER_IP, 7000, 7000),
            (t.SERVER_IP, t.PUBLIC_IP, 0, 7100), "siphelper")
        assert err == 0, os.strerror(err)
        assert "dport=7100" in t.nsexec(t.ROUTER,
                                        "conntrack -L expect").stdout
        rmmod("siphelper")
        unloaded = True
        left = t.nsexec(t.ROUTER, "conntrack -L expect").stdout
        assert "dport=7100" not in left, left
        # what would have matched it now meets no expectation
        server.sendto(b"late", (t.PUBLIC_IP, 7100))
        sh("sleep 0.2")
    finally:
        t.nsexec(t.ROUTER, "nft delete table inet shp_tftp", check=False)
        t.flush()
        if not unloaded:
            rmmod("siphelper", check=False)
