# SPDX-License-Identifier: GPL-2.0
"""Conntrack as routers really configure it: accounting (OpenWrt),
timestamps, an event listener (conntrackd, `conntrack -E`), labels set by
an nft rule, zones. Each of these adds extensions to a new conntrack, so
that adding one more (seqadj, for a TCP flow under NAT) may move ct->ext:
the helper must still be attached to every new SIP flow and rewrite it.
(Before the fix the extension was moved under the helper pointer: the
stock kernels attached the helper to none of these flows, the debug
kernel reported a use-after-free in shp_assign_new.)

The same settings make up the `router` profile (topology.py,
SHP_ROUTER_PROFILE) under which a whole e2e run can go."""
import os

import pytest

import topology as t
from conftest import insmod, rmmod
from dialog import request, to_public
from stats import delta, stats

FLOWS = 20

CONFIGS = {
    "acct": ["acct"],
    "timestamp+events": ["timestamp", "events"],
    "labels+zone": ["labels", "zone"],
    "all": list(t.PROFILE_PARTS),
}


# Under KASAN and TCG a test here takes minutes: the debug kernel runs the
# combination of all parts (its race detectors are the point), and zones
# without SYNPROXY (under which the TCP SIP port stays in zone 0,
# topology.py); the stock kernels each part on its own as well.
if "siphelper-debug" in os.uname().release:
    CONFIGS = {k: CONFIGS[k] for k in ("all", "labels+zone")}


@pytest.fixture(params=sorted(CONFIGS))
def conf(request, net, module_path):
    parts = CONFIGS[request.param]
    with t.profile_only(parts):
        insmod(module_path)
        t.flush()
        yield parts
        t.flush()
        rmmod("siphelper")


def _helped_flows(proto):
    out = t.nsexec(t.ROUTER, f"conntrack -L -p {proto}", check=False).stdout
    return [line for line in out.splitlines() if "dport=5060" in line]


@pytest.mark.siphelper_only
def test_every_new_flow_helped(conf, socks):
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    for i in range(FLOWS):
        port = 5100 + i
        phone = socks(t.PHONE, t.PHONE_IP, port)
        msg = request("REGISTER", f"conf{i}", 1, port=port,
                      ruri="sip:avantelecom.avantele.com")
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, src = server.recvfrom(65535)
        assert src == (t.PUBLIC_IP, port)
        assert got == to_public(msg, port=port), (i, got)
    flows = _helped_flows("udp")
    assert len(flows) == FLOWS, flows
    assert all("helper=siphelper" in f for f in flows), flows
    if "zone" in conf:
        assert all("zone=1" in f for f in flows), flows
    d = delta(before, stats())
    assert d.get("auto_assigned") == FLOWS and d.get("rewritten_headers") == FLOWS, d


@pytest.mark.siphelper_only
def test_tcp_flow_helped_and_resized(conf, socks):
    """TCP under NAT needs seqadj as well: added after the helper, on a
    flow whose extension area the other settings already filled. The
    IPv6 rewrite changes the length, so seqadj is exercised."""
    phone, server, src = t.tcp_connect(socks, t.PHONE6, t.SERVER6)
    pub = dict(priv=t.PHONE6, pub=t.PUBLIC6)
    try:
        for cseq in (1, 2):
            reg = request("REGISTER", "conftcp", cseq, host=t.PHONE6,
                          proto="TCP", ruri="sip:avantelecom.avantele.com")
            phone.sendall(reg)
            want = to_public(reg, **pub)
            assert len(want) > len(reg)
            assert t.recv_exact(server, len(want)) == want
        out = t.nsexec(t.ROUTER, "conntrack -L -f ipv6 -p tcp").stdout
        assert "helper=siphelper" in out, out
    finally:
        t.tcp_reset(phone, server)
