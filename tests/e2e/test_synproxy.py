# SPDX-License-Identifier: GPL-2.0
"""SYNPROXY in front of the TCP SIP port: the router answers the phone's
SYN itself and opens the connection to the server only once the phone's
ACK carries a valid cookie. The conntrack of such a flow is born from
SYNPROXY's template with seqadj already in it; auto-assign must still
attach the helper (before the fix it tried to add seqadj a second time,
which the kernel refuses, and left the flow without helper), and the
rewrite must keep the sequence numbers SYNPROXY translates right."""
import pytest

import topology as t
from conftest import load, unload
from dialog import request, response, to_private, to_public

SYNPROXY = """
table ip shp_synproxy {
  chain prerouting { type filter hook prerouting priority raw;
    iifname "lan0" tcp dport 5060 tcp flags syn notrack; }
  chain forward { type filter hook forward priority filter;
    iifname "lan0" tcp dport 5060 ct state invalid,untracked \
      synproxy mss 1460 wscale 7 timestamp sack-perm;
    ct state invalid drop; }
}"""


@pytest.fixture
def synproxy(net, module_path):
    load(module_path)
    loose = "net.netfilter.nf_conntrack_tcp_loose"
    old = t.sysctl(t.ROUTER, loose)
    try:
        t.sysctl(t.ROUTER, loose, 0)
        t.nft(t.ROUTER, SYNPROXY)
        t.flush()
        yield
    finally:
        t.nsexec(t.ROUTER, "nft delete table ip shp_synproxy", check=False)
        t.sysctl(t.ROUTER, loose, old)
        t.flush()
        unload()


@pytest.mark.siphelper_only
def test_helper_on_synproxy_flow(synproxy, socks):
    phone, server, src = t.tcp_connect(socks, t.PHONE_IP, t.SERVER_IP)
    try:
        assert src == (t.PUBLIC_IP, 5010)
        out = t.nsexec(t.ROUTER, "conntrack -L -p tcp --dport 5060").stdout
        assert "helper=siphelper" in out, out
        via = "SIP/2.0/TCP {}:5010;branch=z9hG4bK{};rport=5010"
        for cseq in (1, 2):
            reg = request("REGISTER", "syn", cseq, proto="TCP",
                          ruri="sip:avantelecom.avantele.com")
            phone.sendall(reg)
            assert t.recv_exact(server, len(reg)) == to_public(reg)
            ok = response(200, "syn", f"{cseq} REGISTER",
                          via=via.format(t.PUBLIC_IP, cseq),
                          contact=f"<sip:011@{t.PUBLIC_IP}:5010>")
            server.sendall(ok)
            assert t.recv_exact(phone, len(ok)) == to_private(ok)
    finally:
        t.tcp_reset(phone, server)
