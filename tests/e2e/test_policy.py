# SPDX-License-Identifier: GPL-2.0
"""Bad or unusual input: a malformed message passes unmodified (counted
`malformed`) or, with the drop policy, is dropped (counted `dropped`).
Inputs the in-tree helper drops (FQDN or other-family c=, media port below
1024, multipart body) always pass, rewritten where we can, without a
pinhole where we cannot open one safely."""
import pytest

import topology as t
from conftest import load, rmmod
from dialog import request, sdp, to_public
from stats import delta, expected_ports, stats

SRV = (t.SERVER_IP, 5060)

# CSeq without a number: the core rejects it (SHP_E_BAD_CSEQ)
MALFORMED = request("OPTIONS", "bad1", 1).replace(b"CSeq: 1 OPTIONS",
                                                  b"CSeq: x OPTIONS")


@pytest.mark.parametrize("params", ["", pytest.param(
    "drop_malformed=1", marks=pytest.mark.siphelper_only)])
def test_malformed_policy(net, module_path, socks, params):
    load(module_path, params)
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        server.settimeout(1)
        phone.sendto(MALFORMED, SRV)
        if params:
            with pytest.raises(TimeoutError):
                server.recvfrom(65535)
        else:
            assert server.recvfrom(65535)[0] == MALFORMED
        s = stats()
        assert s["malformed"] == 1, s
        assert s["dropped"] == (1 if params else 0), s
        # a good message on the same flow is still rewritten
        ok = request("OPTIONS", "good1", 2)
        phone.sendto(ok, SRV)
        assert server.recvfrom(65535)[0] == to_public(ok)
    finally:
        t.flush()
        rmmod("siphelper")


def invite_with(body, ctype="application/sdp"):
    return request("INVITE", "odd", 1, body, ctype=ctype)


ODD = {
    # c= names a host: o= (an address) is rewritten, c= and m= are not
    "fqdn": (sdp(t.PHONE_IP).replace(f"c=IN IP4 {t.PHONE_IP}".encode(),
                                     b"c=IN IP4 phone.example.com"),
             "application/sdp"),
    # RTP below 1024: never a pinhole onto the router's own services
    "low-port": (sdp(t.PHONE_IP, [("audio", 800, "RTP/AVP 0")]),
                 "application/sdp"),
    # an IPv6 c= in an IPv4 flow: nothing to map
    "other-family": (sdp(t.PHONE_IP).replace(
        f"c=IN IP4 {t.PHONE_IP}".encode(), b"c=IN IP6 fd00::31"),
        "application/sdp"),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_sdp_passes_without_pinhole(alg, socks, case):
    body, ctype = ODD[case]
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    msg = invite_with(body, ctype)
    phone.sendto(msg, SRV)
    got = server.recvfrom(65535)[0]
    assert got == to_public(msg)
    assert expected_ports() == set()
    d = delta(before, stats())
    assert d.get("parsed") == 1 and d.get("rewritten_headers") == 1, d
    assert not {"malformed", "dropped", "expectations_created"} & set(d), d


def test_multipart_body_untouched(alg, socks):
    """A multipart body is passed through: headers rewritten, the body and
    Content-Length byte for byte as sent, no pinhole."""
    part = sdp(t.PHONE_IP).decode()
    body = ("--b1\r\nContent-Type: application/sdp\r\n\r\n" + part +
            "--b1\r\nContent-Type: application/isup\r\n\r\nx\r\n--b1--\r\n"
            ).encode()
    msg = invite_with(body, "multipart/mixed;boundary=b1")
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    phone.sendto(msg, SRV)
    got = server.recvfrom(65535)[0]
    head, _, rest = msg.partition(b"\r\n\r\n")
    want = head.replace(f"{t.PHONE_IP}:5010".encode(),
                        f"{t.PUBLIC_IP}:5010".encode()) + b"\r\n\r\n" + rest
    assert got == want
    assert f"Content-Length: {len(body)}\r\n".encode() in got
    assert expected_ports() == set()
    d = delta(before, stats())
    assert d.get("rewritten_headers") == 1 and "rewritten_sdp" not in d, d
    assert not {"malformed", "dropped"} & set(d), d


def test_failed_plan_leaves_no_pinhole(alg, socks):
    """An INVITE whose rewrite cannot be planned (more edits than the
    bound: 64 Vias with the phone's address) passes unmodified, and the
    media pinholes made for its SDP are taken back: no pinhole for a public
    port no packet advertised. (Before the fix they stayed.)"""
    vias = [f"Via: SIP/2.0/UDP {t.PHONE_IP}:5010;branch=z9hG4bKv{i}"
            for i in range(63)]
    msg = request("INVITE", "manyvia", 1, sdp(t.PHONE_IP), extra=vias)
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    phone.sendto(msg, SRV)
    assert server.recvfrom(65535)[0] == msg
    assert expected_ports() == set()
    d = delta(before, stats())
    assert d.get("parsed") == 1, d
    assert d.get("expectations_created") == d.get("expectations_removed") == 2, d
    assert not {"rewritten_headers", "rewritten_sdp", "dropped"} & set(d), d


STUN = bytes.fromhex("000100002112a442") + b"siphelperstn"


@pytest.mark.siphelper_only
def test_stun_keepalive_passes_drop_policy(net, module_path, socks):
    """RFC 5626 keepalives (STUN binding requests on the SIP flow) are not
    malformed SIP: never dropped, never counted. (Before the fix
    drop_malformed=1 dropped them.)"""
    load(module_path, "drop_malformed=1")
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        server.settimeout(2)
        reg = request("REGISTER", "stun", 1)
        phone.sendto(reg, SRV)
        assert server.recvfrom(65535)[0] == to_public(reg)
        before = stats()
        phone.sendto(STUN, SRV)
        assert server.recvfrom(65535)[0] == STUN
        d = delta(before, stats())
        assert d == {"seen": 1}, d
    finally:
        t.flush()
        rmmod("siphelper")


@pytest.mark.siphelper_only
def test_tcp_malformed_never_dropped(net, module_path, socks):
    """On TCP a dropped segment is retransmitted for ever: with
    drop_malformed=1 a malformed message still passes (counted), and the
    stream goes on. (Before the fix it was dropped and the connection
    stalled.)"""
    load(module_path, "drop_malformed=1")
    t.flush()
    try:
        phone, server, _ = t.tcp_connect(socks, t.PHONE_IP, t.SERVER_IP)
        try:
            bad = request("OPTIONS", "badtcp", 1, proto="TCP").replace(
                b"CSeq: 1 OPTIONS", b"CSeq: x OPTIONS")
            before = stats()
            phone.sendall(bad)
            assert t.recv_exact(server, len(bad)) == bad
            d = delta(before, stats())
            assert d.get("malformed") == 1 and "dropped" not in d, d
            good = request("OPTIONS", "goodtcp", 2, proto="TCP")
            phone.sendall(good)
            want = to_public(good)
            assert t.recv_exact(server, len(want)) == want
        finally:
            t.tcp_reset(phone, server)
    finally:
        t.flush()
        rmmod("siphelper")
