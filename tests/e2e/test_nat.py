# SPDX-License-Identifier: GPL-2.0
"""The datapath end to end on the SEED.md topology (topology.py): the seed
REGISTER and INVITE leave the router in their public form byte for byte,
responses come back in the private form, RTP to the public media port
reaches the phone, registrations let the registrar in, a NAT-aware phone is
left alone, sip-timeout applies, and explicit nft assignment works."""
import re

import pytest

import topology as t
import uapi
from conftest import HELPER, expectations, load, unload
from ctl import Genl, u8
from dialog import to_private
from sipmsg import (PRIV, PUB, bye, crlf, invite, public_form, register,
                    register_ok)

def test_register_public_form_and_back(alg, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    msg = register()
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, src = server.recvfrom(65535)
    assert src == (t.PUBLIC_IP, 5010)
    assert got == public_form(msg)
    assert b"Via: SIP/2.0/UDP 212.19.6.166:5010;branch=" in got
    assert b"Contact: <sip:011@212.19.6.166:5010>" in got
    assert b"Call-ID: 20063242339186-62012442819438@192.168.0.31" in got

    ok = register_ok()
    server.sendto(ok, src)
    back, _ = phone.recvfrom(65535)
    assert back == to_private(ok)

    # the registration lets the registrar in from another port
    exp = expectations()
    assert "dport=5010" in exp and f"helper={HELPER}" in exp, exp
    other = socks(t.SERVER, t.SERVER_IP, 5070)
    opts = crlf(f"""
OPTIONS sip:011@{PUB} SIP/2.0
Via: SIP/2.0/UDP {t.SERVER_IP}:5070;branch=z9hG4bKo1
From: <sip:ping@{t.SERVER_IP}>;tag=1
To: <sip:011@{PUB}>
Call-ID: opt1@{t.SERVER_IP}
CSeq: 1 OPTIONS
Content-Length: 0
""") + b"\r\n\r\n"
    other.sendto(opts, (t.PUBLIC_IP, 5010))
    got, src = phone.recvfrom(65535)
    assert src == (t.SERVER_IP, 5070)
    assert got == opts.replace(PUB.encode(), PRIV.encode())

    # unregister: Expires 0 removes the expectation
    phone.sendto(register(0), (t.SERVER_IP, 5060))
    server.recvfrom(65535)
    server.sendto(register_ok(0), (t.PUBLIC_IP, 5010))
    phone.recvfrom(65535)
    assert "dport=5010" not in expectations()


def test_sip_timeout_applied(alg, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    phone.sendto(register(), (t.SERVER_IP, 5060))
    server.recvfrom(65535)
    out = t.nsexec(t.ROUTER, "conntrack -L -p udp --dport 5060").stdout
    m = re.search(r"udp\s+17\s+(\d+)\s", out)
    assert m and 3500 < int(m.group(1)) <= 3600, out


def test_invite_media_and_rtp(alg, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    rtp_in = socks(t.PHONE, t.PHONE_IP, 10006)
    msg = invite()
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, _ = server.recvfrom(65535)
    assert got == public_form(msg)
    assert b"o=011 164445748 546426177 IN IP4 212.19.6.166\r\n" in got
    assert b"c=IN IP4 212.19.6.166\r\n" in got
    assert b"m=audio 10006 RTP/AVP 8 0 101\r\n" in got
    body = got.split(b"\r\n\r\n", 1)[1]
    assert f"Content-Length: {len(body)}\r\n".encode() in got

    exp = expectations()
    assert "dport=10006" in exp and "dport=10007" in exp, exp

    ok = crlf(f"""
SIP/2.0 200 OK
Via: SIP/2.0/UDP {PUB};branch=z9hG4bK1841331866303606934;rport=5010
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=908623127
To: "**43" <sip:*43@avantelecom.avantele.com;user=phone>;tag=srv1
Call-ID: 1021667421783-273216449350@192.168.0.31
CSeq: 1 INVITE
Contact: <sip:*43@{t.SERVER_IP}:5060>
Content-Length: 0
""") + b"\r\n\r\n"
    server.sendto(ok, (t.PUBLIC_IP, 5010))
    back, _ = phone.recvfrom(65535)
    assert back == ok.replace(f"UDP {PUB}".encode(), f"UDP {PRIV}".encode())

    media = socks(t.SERVER, t.SERVER_IP, 20000)
    media.sendto(b"\x80\x08rtp-payload", (t.PUBLIC_IP, 10006))
    data, src = rtp_in.recvfrom(2048)
    assert data == b"\x80\x08rtp-payload"
    assert src[0] == t.SERVER_IP

    # BYE removes the call's remaining (RTCP) expectation
    phone.sendto(bye(), (t.SERVER_IP, 5060))
    server.recvfrom(65535)
    assert "dport=10007" not in expectations()


def test_nat_aware_phone_untouched(alg, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    for msg in (register(host=t.PUBLIC_IP), invite(host=t.PUBLIC_IP)):
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        assert got == msg
    assert "dport=10006" not in expectations()


@pytest.mark.siphelper_only
def test_explicit_nft_helper_without_auto_assign(net, module_path, socks):
    load(module_path, "auto_assign=0")
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        msg = register()
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        assert got == msg, "rewritten without assignment"
        t.flush()
        t.nft(t.ROUTER, t.NFT_HELPER)
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        assert got == public_form(msg)
    finally:
        t.nsexec(t.ROUTER, "nft delete table inet shp_h", check=False)
        t.flush()
        unload()


def test_tcp_messages_rewritten(alg, socks):
    phone, server, src = t.tcp_connect(socks, t.PHONE_IP, t.SERVER_IP,
                                       timeout=3)
    try:
        assert src == (t.PUBLIC_IP, 5010)
        reg = register().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
        # one message, then two in one segment
        for data in (reg, reg + reg):
            phone.sendall(data)
            got = t.recv_exact(server, len(data))
            assert got == public_form(data)
        ok = register_ok().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
        server.sendall(ok)
        back = t.recv_exact(phone, len(ok))
        assert back == to_private(ok)
    finally:
        server.close()


def test_pinholes_only(alg, socks):
    """pinholes-only: every message passes byte for byte, yet the media
    pinholes (at the UA's own ports) and the registration pinhole open,
    and RTP and a request from another port reach the phone."""
    with t.netns(t.ROUTER):
        g = Genl()
    assert g.set(u8(uapi.SIPHELPER_A_PINHOLES_ONLY, 1)) == (0, "")
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    rtp_in = socks(t.PHONE, t.PHONE_IP, 10006)
    for msg in (register(), invite()):
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, src = server.recvfrom(65535)
        assert src == (t.PUBLIC_IP, 5010)
        assert got == msg
    # a registrar that echoes the UA's (private) Contact
    ok = register_ok().replace(f"@{PUB}>".encode(), f"@{PRIV}>".encode())
    server.sendto(ok, (t.PUBLIC_IP, 5010))
    assert phone.recvfrom(65535)[0] == ok
    exp = expectations()
    for port in (5010, 10006, 10007):
        assert f"dport={port} " in exp, exp

    media = socks(t.SERVER, t.SERVER_IP, 20000)
    media.sendto(b"\x80\x08rtp-payload", (t.PUBLIC_IP, 10006))
    data, src = rtp_in.recvfrom(2048)
    assert data == b"\x80\x08rtp-payload" and src[0] == t.SERVER_IP
    other = socks(t.SERVER, t.SERVER_IP, 5070)
    other.sendto(b"OPTIONS-probe", (t.PUBLIC_IP, 5010))
    data, src = phone.recvfrom(65535)
    assert data == b"OPTIONS-probe" and src == (t.SERVER_IP, 5070)


def test_busy_media_port_moves_to_next_pair(alg, socks):
    """Two phones offer the same media port: the second gets the next
    free public pair, written into its m= line."""
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    phone1 = socks(t.PHONE, t.PHONE_IP, 5010)
    phone1.sendto(invite(), (t.SERVER_IP, 5060))
    got, _ = server.recvfrom(65535)
    assert b"m=audio 10006 " in got
    phone2 = socks(t.PHONE, t.PHONE2_IP, 5010)
    msg = invite(host=t.PHONE2_IP)
    phone2.sendto(msg, (t.SERVER_IP, 5060))
    got, src = server.recvfrom(65535)
    assert src[0] == t.PUBLIC_IP
    want = msg.replace(f"{t.PHONE2_IP}:5010".encode(),
                       f"{t.PUBLIC_IP}:{src[1]}".encode()) \
        .replace(f"IN IP4 {t.PHONE2_IP}\r\n".encode(),
                 f"IN IP4 {t.PUBLIC_IP}\r\n".encode()) \
        .replace(b"m=audio 10006 ", b"m=audio 10008 ")
    assert got == want
    exp = expectations()
    for port in (10006, 10007, 10008, 10009):
        assert f"dport={port} " in exp, exp


@pytest.mark.parametrize("direct", [True, False])
def test_direct_media(net, module_path, socks, direct):
    """direct-media on: media from another address than the SIP server
    reaches the phone; off: only from the signalling peer."""
    load(module_path, "" if direct else "direct_media=0")
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        rtp_in = socks(t.PHONE, t.PHONE_IP, 10006)
        rtp_in.settimeout(1)
        phone.sendto(invite(), (t.SERVER_IP, 5060))
        server.recvfrom(65535)
        other = socks(t.SERVER, t.MEDIA_IP, 30000)
        other.sendto(b"rtp-from-elsewhere", (t.PUBLIC_IP, 10006))
        if direct:
            data, src = rtp_in.recvfrom(2048)
            assert data == b"rtp-from-elsewhere"
            assert src[0] == t.MEDIA_IP
        else:
            with pytest.raises(TimeoutError):
                rtp_in.recvfrom(2048)
            media = socks(t.SERVER, t.SERVER_IP, 20000)
            media.sendto(b"rtp-from-peer", (t.PUBLIC_IP, 10006))
            assert rtp_in.recvfrom(2048)[0] == b"rtp-from-peer"
    finally:
        t.flush()
        unload()
