# SPDX-License-Identifier: GPL-2.0
"""SIP over TCP through the ALG: a message split by the sender over two
segments is rewritten whole (held, never half-rewritten, never dropped),
and a rewrite that changes the length (IPv6 ULA -> public) keeps
the stream consistent over several messages in both directions (seqadj)."""
import time

import pytest

import topology as t
from conftest import load, rmmod
from dialog import request, response, sdp, to_private, to_public
from stats import delta, expected_ports, stats


@pytest.mark.parametrize("params", ["", pytest.param(
    "drop_malformed=1", marks=pytest.mark.siphelper_only)])
def test_message_split_over_segments(net, module_path, socks, params):
    load(module_path, params)
    t.flush()
    try:
        phone, server, src = t.tcp_connect(socks, t.PHONE_IP, t.SERVER_IP)
        try:
            assert src == (t.PUBLIC_IP, 5010)
            msg = request("REGISTER", "split", 1, proto="TCP",
                          ruri="sip:avantelecom.avantele.com")
            before = stats()
            half = len(msg) // 2
            phone.sendall(msg[:half])
            time.sleep(0.05)
            phone.sendall(msg[half:])
            # held, then rewritten whole: never half-rewritten, nothing
            # of it private (test_tcp_split.py cuts it everywhere)
            assert t.recv_exact(server, len(msg)) == to_public(msg)
            d = delta(before, stats())
            assert d.get("tcp_held") == 1, d
            assert d.get("tcp_reassembled") == 1, d
            assert "truncated" not in d, d
            assert "malformed" not in d and "dropped" not in d, d
            # the stream goes on: the next message is rewritten again
            msg2 = request("REGISTER", "split", 2, proto="TCP",
                           ruri="sip:avantelecom.avantele.com")
            phone.sendall(msg2)
            assert t.recv_exact(server, len(msg2)) == to_public(msg2)
        finally:
            t.tcp_reset(phone, server)
    finally:
        t.flush()
        rmmod("siphelper")


def test_ipv6_length_change_keeps_stream(alg, socks):
    """fd00::31 (8 chars) becomes 2001:db8::166 (13): every message from
    the phone grows, every one to it shrinks; seqadj must keep sequence
    and acknowledgement numbers right for the following messages."""
    phone, server, src = t.tcp_connect(socks, t.PHONE6, t.SERVER6)
    pub = dict(priv=t.PHONE6, pub=t.PUBLIC6)
    via = (f"SIP/2.0/TCP [{t.PUBLIC6}]:5010;branch=z9hG4bK{{}};"
           "rport=5010")
    try:
        assert src[:2] == (t.PUBLIC6, 5010)
        for cseq in (1, 2):
            reg = request("REGISTER", "tcp6", cseq, host=t.PHONE6,
                          proto="TCP", ruri="sip:avantelecom.avantele.com")
            phone.sendall(reg)
            got = t.recv_exact(server, len(to_public(reg, **pub)))
            assert got == to_public(reg, **pub) and len(got) > len(reg)
            ok = response(200, "tcp6", f"{cseq} REGISTER",
                          via=via.format(cseq),
                          contact=f"<sip:011@[{t.PUBLIC6}]:5010>")
            server.sendall(ok)
            back = t.recv_exact(phone, len(to_private(ok, **pub)))
            assert back == to_private(ok, **pub) and len(back) < len(ok)

        inv = request("INVITE", "tcp6", 3, host=t.PHONE6, proto="TCP",
                      body=sdp(t.PHONE6, [("audio", 10006, "RTP/AVP 0")],
                               fam="IP6"))
        phone.sendall(inv)
        assert t.recv_exact(server, len(to_public(inv, **pub))) == \
            to_public(inv, **pub)
        assert expected_ports("ipv6") == {5010, 10006, 10007}
        # two responses in one segment back to the phone
        trying = response(100, "tcp6", "3 INVITE", via=via.format(3))
        ok = response(200, "tcp6", "3 INVITE", via=via.format(3),
                      body=sdp(t.SERVER6, [("audio", 40000, "RTP/AVP 0")],
                               fam="IP6"))
        server.sendall(trying + ok)
        want = to_private(trying, **pub) + to_private(ok, **pub)
        assert t.recv_exact(phone, len(want)) == want
        for method, cseq in (("ACK", 3), ("BYE", 4)):
            msg = request(method, "tcp6", cseq, host=t.PHONE6, proto="TCP")
            phone.sendall(msg)
            assert t.recv_exact(server, len(to_public(msg, **pub))) == \
                to_public(msg, **pub)
        # the registration's signalling expectation (5010) stays
        assert expected_ports("ipv6") == {5010}
    finally:
        t.tcp_reset(phone, server)
