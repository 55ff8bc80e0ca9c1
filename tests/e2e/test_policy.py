# SPDX-License-Identifier: GPL-2.0
"""Bad or unusual input: a malformed message passes unmodified (counted
`malformed`) or, with the drop policy, is dropped (counted `dropped`).
Inputs the in-tree helper drops (FQDN or other-family c=, media port below
1024, multipart body) always pass, rewritten where we can, without a
pinhole where we cannot open one safely."""
import pytest

import topology as t
from conftest import load, sh
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
        sh("rmmod siphelper")


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
    assert d.get("parsed") == 1 and d.get("rewritten_hdr") == 1, d
    assert not {"malformed", "dropped", "expect_created"} & set(d), d


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
    assert d.get("rewritten_hdr") == 1 and "rewritten_sdp" not in d, d
    assert not {"malformed", "dropped"} & set(d), d
